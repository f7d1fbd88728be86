"""Who may do what with the assistant: declared once here, checked by `bot.service` with the acting principal.

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| `chat` through `/api/v1/chat` (the mini-program assistant) | – | – | yes | – |
| `work_tickets`: list / update consultation tickets (the expert group) | yes | – | – | – |
| `read_own_tickets` (`/api/v1/me/tickets`) | own | own | own | – |
| `read_unanswered`: list unanswered questions, and the queue grouped by similarity | yes | – | – | – |
| `answer_questions`: publish an answer to a group of questions; edit or withdraw one | in jurisdiction | – | – | – |
| `read_knowledge`: list the official answers; export their questions as training data | in jurisdiction | – | – | – |

Own tickets are open to every role: a ticket may come from the mini-program or, for a linked account, the
official account; only tickets opened for the user are theirs. Opening a ticket and recording an unanswered
question have no rule: the custom actions do them on behalf of whoever is chatting.

Official answers (the knowledge loop, `bot/knowledge.py`) are served where the publishing official governs: an
answer carries the official's region (`000000` for a nationwide official) and the assistant serves it to askers of
that region only (everywhere, for a nationwide answer; an asker whose region is unknown gets nationwide answers
only). So an official publishes in their own region — an official of no region may not publish — and edits or
withdraws only answers inside their jurisdiction (a nationwide answer: nationwide officials only; 403
`outside_jurisdiction` otherwise). Officials see the nationwide answers and those of their region and below. The
queue of unanswered questions is one national queue, as before: any official may answer any of its questions (the
asker is told; the regional answer then is served in its region only).
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
    ANSWER_QUESTIONS = "answer_questions"
    READ_KNOWLEDGE = "read_knowledge"


PERMISSIONS = PermissionTable(
    {
        Action.CHAT: Rule(frozenset({Role.ENTERPRISE})),
        Action.WORK_TICKETS: Rule(frozenset({Role.OFFICIAL})),
        Action.READ_OWN_TICKETS: Rule(ANY_ROLE, own_only=ANY_ROLE),
        Action.READ_UNANSWERED: Rule(frozenset({Role.OFFICIAL})),
        Action.ANSWER_QUESTIONS: Rule(frozenset({Role.OFFICIAL})),
        Action.READ_KNOWLEDGE: Rule(frozenset({Role.OFFICIAL})),
    }
)
