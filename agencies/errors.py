"""Agency errors: each carries its HTTP status through `core.errors`."""

from __future__ import annotations

from typing import Any

from core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed


class AgencyNotFound(NotFound):
    code = "agency_not_found"

    def __init__(self, agency_id: int) -> None:
        super().__init__(f"no agency with id {agency_id}")


class CreditEventNotFound(NotFound):
    code = "credit_event_not_found"


class NotYourAgency(Forbidden):
    code = "not_your_agency"


class RegulatedField(Forbidden):
    """Agency staff tried to change what only officials may (name, credit code, licence…)."""

    code = "regulated_field"

    def __init__(self, fields: list[str]) -> None:
        super().__init__(
            f"only officials may change {', '.join(fields)}",
            details=[{"field": f, "message": "officials only"} for f in fields],
        )


class DuplicateAgency(Conflict):
    code = "agency_exists"


class AlreadyReversed(Conflict):
    code = "already_reversed"


class NotReversible(Conflict):
    code = "not_reversible"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class CsvRejected(ValidationFailed):
    """The file was refused as a whole; `details` lists every problem by line and column."""

    code = "csv_invalid"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        first = problems[0]
        super().__init__(
            f"{len(problems)} problem(s); nothing was imported. First: line {first['line']}, "
            f"{first['column']}: {first['message']}",
            details=problems,
        )


class NoDeliveredService(Forbidden):
    """Reviews come only from enterprises whose voucher-paid service at the agency was delivered."""

    code = "no_delivered_service"

    def __init__(self) -> None:
        super().__init__(
            "you can review an agency only for a delivered voucher service of your enterprise there",
            details=[{"field": "redemption_id", "message": "no delivered redemption of yours at this agency"}],
        )


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


class ObjectionNotFound(NotFound):
    code = "objection_not_found"


class ReviewNotFound(NotFound):
    code = "review_not_found"


class NotObjectionable(Conflict):
    """The event is not a live deduction of this agency's current record (a bonus, a reversal, reversed already,
    or part of an official evaluation)."""

    code = "not_objectionable"


class ObjectionPeriodOver(Conflict):
    code = "objection_period_over"


class ObjectionExists(Conflict):
    code = "objection_exists"


class ObjectionDecided(Conflict):
    code = "objection_decided"


class AlreadyReplied(Conflict):
    code = "already_replied"


class ReviewHidden(Conflict):
    code = "review_hidden"


class ReviewNotHidden(Conflict):
    code = "review_not_hidden"
