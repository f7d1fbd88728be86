from __future__ import annotations

from core.errors import Conflict, NotFound


class TicketNotFound(NotFound):
    code = "ticket_not_found"

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"no consultation ticket {ticket_id}")


class TicketClosed(Conflict):
    code = "ticket_closed"

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"ticket {ticket_id} is closed; it cannot change any more")
