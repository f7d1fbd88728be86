"""Who may do what with the assistant's records (checked in `bot.service`, which receives the acting principal).

| action | who |
|---|---|
| chat through `/api/v1/chat` | enterprise staff (the mini-program assistant) |
| list / update consultation tickets | officials (the expert group) |
| read own consultation tickets (`/api/v1/me/tickets`) | any signed-in user: only tickets opened for them |
| list unanswered questions | officials |
| open a ticket, record an unanswered question | the custom actions, on behalf of whoever is chatting |
"""

from __future__ import annotations

from core.auth import Principal, Role, require

CHAT_ROLES = (Role.ENTERPRISE,)
TICKET_ROLES = (Role.OFFICIAL,)
UNANSWERED_ROLES = (Role.OFFICIAL,)


def can_chat(principal: Principal | None) -> Principal:
    return require(principal, *CHAT_ROLES)


def can_read_own_tickets(principal: Principal | None) -> Principal:
    """Anyone signed in: a ticket may come from the mini-program or, for a linked account, the official account."""
    return require(principal)


def can_work_tickets(principal: Principal | None) -> Principal:
    return require(principal, *TICKET_ROLES)


def can_read_unanswered(principal: Principal | None) -> Principal:
    return require(principal, *UNANSWERED_ROLES)
