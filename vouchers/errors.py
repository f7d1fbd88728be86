"""Voucher errors, each with its status and a stable code."""

from __future__ import annotations

from typing import Any

from core.errors import Conflict, Forbidden, ValidationFailed


class IllegalTransition(Conflict):
    """The voucher or redemption is not in a state that allows this; details carry the current state."""

    code = "illegal_transition"


class VoucherExpired(IllegalTransition):
    code = "voucher_expired"

    def __init__(self, message: str, *, voucher_id: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.voucher_id = voucher_id


class RedemptionNotPending(IllegalTransition):
    """Only a pending redemption (not confirmed, decided or cancelled) can be cancelled."""

    code = "redemption_not_pending"


class BudgetExceeded(Conflict):
    code = "budget_exceeded"


class EnterpriseCapExceeded(Conflict):
    code = "enterprise_cap_exceeded"


class ProgramClosed(Conflict):
    code = "program_closed"


class DecisionRequired(Conflict):
    code = "decision_required"


class IdempotencyKeyReused(ValidationFailed):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"


class NotYourVoucher(Forbidden):
    code = "not_your_voucher"


class NotYourAgency(Forbidden):
    code = "not_your_agency"


class ApplicationsClosed(Conflict):
    """The programme takes no applications now (never, not yet, or no more); details say when."""

    code = "applications_closed"


class AlreadyApplied(Conflict):
    """One application per enterprise and programme; details carry the existing one's id and state."""

    code = "already_applied"


class ApplicationDecided(Conflict):
    """The application is not in a state this decision can be made from; details carry its state."""

    code = "application_decided"


class NotYourApplication(Forbidden):
    code = "not_your_application"
