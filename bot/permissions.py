"""Who may do what with the assistant: declared once here, checked by `bot.service` with the acting principal.

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| `chat` through `/api/v1/chat` (the mini-program assistant) | – | – | yes | – |
| `work_tickets`: list / update consultation tickets (the expert group) | yes | – | – | – |
| `read_own_tickets` (`/api/v1/me/tickets`) | own | own | own | – |
| `read_unanswered`: list unanswered questions | yes | – | – | – |

Own tickets are open to every role: a ticket may come from the mini-program or, for a linked account, the
official account; only tickets opened for the user are theirs. Opening a ticket and recording an unanswered
question have no rule: the custom actions do them on behalf of whoever is chatting.
"""

from __future__ import annotations

import enum

from core.auth import Role
from core.permissions import ANY_ROLE, PermissionTable, Rule


class Action(enum.StrEnum):
    CHAT = "chat"
    WORK_TICKETS = "work_tickets"
    READ_OWN_TICKETS = "read_own_tickets"
    READ_UNANSWERED = "read_unanswered"


PERMISSIONS = PermissionTable(
    {
        Action.CHAT: Rule(frozenset({Role.ENTERPRISE})),
        Action.WORK_TICKETS: Rule(frozenset({Role.OFFICIAL})),
        Action.READ_OWN_TICKETS: Rule(ANY_ROLE, own_only=ANY_ROLE),
        Action.READ_UNANSWERED: Rule(frozenset({Role.OFFICIAL})),
    }
)
