from __future__ import annotations

from core.errors import Conflict, Forbidden, NotFound, Unauthenticated


class TicketNotFound(NotFound):
    code = "ticket_not_found"

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"no consultation ticket {ticket_id}")


class TicketClosed(Conflict):
    code = "ticket_closed"

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"ticket {ticket_id} is closed; it cannot change any more")


class ActionsTokenMissing(Unauthenticated):
    code = "actions_token_missing"

    def __init__(self) -> None:
        super().__init__("the action endpoint serves Rasa only: send its token (X-Actions-Token)")


class ActionsTokenInvalid(Forbidden):
    code = "actions_token_invalid"

    def __init__(self) -> None:
        super().__init__("the action endpoint serves Rasa only: this token is not Rasa's")


class SenderNotVerified(Forbidden):
    """A write on behalf of a sender whose latest message carries no valid, fresh identity signature."""

    code = "sender_not_verified"

    def __init__(self) -> None:
        super().__init__("this conversation's latest message is not signed by the chat gateway; nothing is written")


class KnowledgeAnswerNotFound(NotFound):
    code = "knowledge_answer_not_found"

    def __init__(self, answer_id: int) -> None:
        super().__init__(f"no official answer {answer_id}")


class QuestionsAlreadyAnswered(Conflict):
    code = "questions_already_answered"

    def __init__(self, ids: list[int]) -> None:
        super().__init__(
            f"questions {', '.join(map(str, ids))} were answered meanwhile; reload the queue",
            details={"question_ids": ids},
        )
