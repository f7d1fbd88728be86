"""Who may do what with the assistant's records (checked in `bot.service`, which receives the acting principal).

| action | who |
|---|---|
| chat through `/api/v1/chat` | enterprise staff (the mini-program assistant) |
| list / update consultation tickets | officials (the expert group) |
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


def can_work_tickets(principal: Principal | None) -> Principal:
    return require(principal, *TICKET_ROLES)


def can_read_unanswered(principal: Principal | None) -> Principal:
    return require(principal, *UNANSWERED_ROLES)
