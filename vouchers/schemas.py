"""Request and response shapes of the voucher API. Money is integer fen: floats and strings are refused."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from agencies.catalogue import CreditLevel, ServiceCode
from enterprises.catalogue import Qualification
from vouchers.permissions import TRANSITIONS, Action
from vouchers.states import RedemptionState, VoucherState

Fen = Annotated[StrictInt, Field(gt=0, le=10**12)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{5}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=1000)]
Evidence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
LongEvidence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class SettlementCycle(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    PER_REDEMPTION = "per_redemption"


# ---------------------------------------------------------------- programs


class ApplicationReview(enum.StrEnum):
    OFFICIAL = "official"  # an official approves, waitlists or rejects each application
    FCFS = "fcfs"  # approved automatically in the order received while the budget lasts, then waitlisted


DocumentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApplicationSettingsIn(BaseModel):
    """How a programme takes applications (申领)."""

    model_config = ConfigDict(extra="forbid")

    open_at: AwareDatetime
    close_at: AwareDatetime | None = Field(default=None, description="default: open until the programme ends")
    documents: Annotated[list[DocumentName], Field(max_length=10)] = Field(
        default=[], description="the documents an applicant must attach (a reference for each), by name"
    )
    review: ApplicationReview = ApplicationReview.OFFICIAL

    # Field validators, not one model validator, so that the error names its field (the console shows it there).
    @field_validator("close_at")
    @classmethod
    def _after_opening(cls, close_at: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        open_at = info.data.get("open_at")
        if close_at is not None and open_at is not None and close_at <= open_at:
            raise ValueError("must be after open_at")
        return close_at

    @field_validator("documents")
    @classmethod
    def _each_once(cls, documents: list[str]) -> list[str]:
        if len(set(documents)) != len(documents):
            raise ValueError("names a document twice")
        return documents


class ApplicationSettingsOut(BaseModel):
    open_at: dt.datetime
    close_at: dt.datetime | None
    documents: list[str]
    review: ApplicationReview
    # Whether an application may be submitted now (opened, not closed, the programme not over).
    accepting: bool


class ProgramIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    description: str = Field(default="", max_length=4000)
    region_code: RegionCode
    budget_fen: Fen
    face_value_fen: Fen
    share_bp: Annotated[StrictInt, Field(gt=0, le=10000, description="share of the price the voucher pays, 1/10000")]
    per_enterprise_year_cap_fen: Fen | None = None
    services: Annotated[list[ServiceCode], Field(min_length=1, max_length=20)]
    min_qualification: Qualification = Qualification.NONE
    min_agency_level: CreditLevel | None = None
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    voucher_validity_days: Annotated[StrictInt, Field(ge=1, le=3660)] | None = None
    settlement_cycle: SettlementCycle = SettlementCycle.MONTHLY
    applications: ApplicationSettingsIn | None = Field(
        default=None, description="take applications from enterprises; none: officials issue"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ProgramIn:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        if self.face_value_fen > self.budget_fen:
            raise ValueError("face_value_fen cannot exceed budget_fen")
        if self.per_enterprise_year_cap_fen is not None and self.per_enterprise_year_cap_fen < self.face_value_fen:
            raise ValueError("per_enterprise_year_cap_fen is below face_value_fen: no voucher could be issued")
        if len(set(self.services)) != len(self.services):
            raise ValueError("services lists a service twice")
        if self.applications is not None:
            closes = self.applications.close_at or self.valid_until
            if self.applications.open_at >= self.valid_until or closes > self.valid_until:
                raise ValueError("applications must open and close within the programme's validity")
        return self


class ServiceOut(BaseModel):
    code: ServiceCode
    label_zh: str
    label_en: str


class AgencyBrief(BaseModel):
    id: int
    name_zh: str
    name_en: str | None
    region_code: str
    credit_level: str
    credit_score: int
    # The covered services this agency offers, with its listed price range (fen).
    services: list[AgencyServicePrice]


class AgencyServicePrice(BaseModel):
    code: str
    price_min_fen: int
    price_max_fen: int


class Eligibility(BaseModel):
    region_code: str
    min_qualification: Qualification
    label_zh: str
    label_en: str


class ProgramOut(BaseModel):
    id: int
    name: str
    description: str
    region_code: str
    services: list[ServiceOut]
    face_value_fen: int
    share_bp: int
    per_enterprise_year_cap_fen: int | None
    eligibility: Eligibility
    min_agency_level: str | None
    valid_from: dt.datetime
    valid_until: dt.datetime
    voucher_validity_days: int | None
    settlement_cycle: str
    is_open: bool
    budget_fen: int
    remaining_budget_fen: int
    participating_agencies: list[AgencyBrief]
    applications: ApplicationSettingsOut | None = None


class ProgramQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionCode | None = None
    service: ServiceCode | None = None
    min_rating: CreditLevel | None = Field(default=None, description="only list agencies rated at least this")
    open_only: bool = True


# ---------------------------------------------------------------- issuing


class IssueItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enterprise_id: Annotated[StrictInt, Field(ge=1)] | None = None
    credit_code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=30)] | None = None
    face_value_fen: Fen | None = Field(default=None, description="default: the programme's face value")

    @model_validator(mode="after")
    def _one_way_to_name(self) -> IssueItem:
        if (self.enterprise_id is None) == (self.credit_code is None):
            raise ValueError("give exactly one of enterprise_id and credit_code")
        return self


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enterprises: Annotated[list[IssueItem], Field(min_length=1, max_length=5000)]
    reason: str = Field(default="", max_length=1000)


# ---------------------------------------------------------------- vouchers


class VoucherOut(BaseModel):
    id: int
    program_id: int
    program_name: str
    enterprise_id: int
    face_value_fen: int
    balance_fen: int
    state: VoucherState
    state_label_zh: str
    state_label_en: str
    # Why it is in this state, in words (e.g. the revocation reason, or "expired at …").
    state_reason: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    share_bp: int
    services: list[ServiceOut]
    spendable: bool
    # Where it can be spent now (empty once it cannot be spent).
    usable_at: list[AgencyBrief] = []


class IssueOut(BaseModel):
    program_id: int
    issued: list[VoucherOut]
    count: int
    total_face_value_fen: int
    remaining_budget_fen: int


class _TransitionsOnly:
    """An audit row records a transition, never a read: its `action` is documented with the transitions alone."""

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        handler.resolve_ref_schema(json_schema)["enum"] = [action.value for action in TRANSITIONS]
        return json_schema


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: Annotated[Action, _TransitionsOnly]
    from_state: str | None
    to_state: str
    redemption_id: int | None
    redemption_from: str | None
    redemption_to: str | None
    amount_fen: int
    balance_delta_fen: int
    balance_after_fen: int
    program_delta_fen: int
    actor_user_id: int | None
    actor_role: str
    reason: str
    at: dt.datetime = Field(validation_alias="created_at")  # read from the audit row's created_at


class RedemptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    voucher_id: int
    program_id: int
    enterprise_id: int
    agency_id: int
    service_code: str
    price_fen: int
    amount_fen: int
    enterprise_share_fen: int
    state: RedemptionState
    created_at: dt.datetime
    contract_no: str | None
    invoice_no: str | None
    payment_proof: str | None
    deliverable: str | None
    confirmed_at: dt.datetime | None
    settled_at: dt.datetime | None
    decision_reason: str | None
    cancelled_at: dt.datetime | None = None
    cancel_reason: str | None = None
    flags: list[FlagOut] = []
    voucher_balance_fen: int | None = None
    voucher_state: VoucherState | None = None


class VoucherDetail(VoucherOut):
    redemptions: list[RedemptionOut]
    history: list[AuditOut]


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_id: Annotated[StrictInt, Field(ge=1)]
    service_code: ServiceCode
    price_fen: Fen


class ConfirmIn(BaseModel):
    """The agency's evidence that the service was delivered."""

    model_config = ConfigDict(extra="forbid")

    contract_no: Evidence
    invoice_no: Evidence
    payment_proof: LongEvidence | None = Field(
        default=None, description="proof the enterprise paid its own share (required when that share is not 0)"
    )
    deliverable: LongEvidence = Field(description="e.g. the application number")


class SettleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"] | None = Field(
        default=None, description="required when the redemption is flagged; default approve otherwise"
    )
    reason: Reason | None = None


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = Field(
        default=None, description="why the redemption is withdrawn; optional for the enterprise, required of officials"
    )


class RedemptionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: RedemptionState | None = None
    program_id: Annotated[int, Field(ge=1)] | None = None
    limit: int = Field(default=50, ge=1, le=500)


# ---------------------------------------------------------------- flags and reports


class FlagOut(BaseModel):
    id: int
    program_id: int
    redemption_id: int
    agency_id: int
    enterprise_id: int
    kind: str
    description: str
    evidence: dict[str, object]
    status: str
    created_at: dt.datetime
    resolved_by: int | None
    resolution_reason: str | None


class FlagQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program_id: Annotated[int, Field(ge=1)] | None = None
    status: Literal["open", "approved", "rejected"] | None = "open"


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "csv"] = "json"


class ReportLine(BaseModel):
    key: str
    name: str
    redemptions: int
    redeemed_fen: int
    pending_fen: int
    delivered_fen: int
    settled_fen: int
    rejected_fen: int
    cancelled: int
    cancelled_fen: int


class ReportTotals(BaseModel):
    budget_fen: int
    committed_fen: int
    remaining_budget_fen: int
    vouchers_issued: int
    issued_fen: int
    vouchers_revoked: int
    revoked_returned_fen: int
    vouchers_expired: int
    expired_fen: int
    outstanding_fen: int
    redemptions: int
    redeemed_fen: int
    pending_fen: int
    delivered_fen: int
    settled_fen: int
    rejected_fen: int
    cancelled: int
    cancelled_fen: int


class ReportOut(BaseModel):
    program_id: int
    program_name: str
    generated_at: dt.datetime
    totals: ReportTotals
    by_agency: list[ReportLine]
    by_service: list[ReportLine]


SeriesDay = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2099, 12, 31))]


class SeriesBucket(enum.StrEnum):
    DAY = "day"
    WEEK = "week"  # Monday to Sunday
    MONTH = "month"


class SeriesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    bucket: SeriesBucket = SeriesBucket.DAY
    date_from: SeriesDay | None = Field(default=None, alias="from", description="first China day (valid_from)")
    date_to: SeriesDay | None = Field(default=None, alias="to", description="last China day (valid_until)")
    format: Literal["json", "csv"] = "json"


class SeriesPoint(BaseModel):
    start: dt.date  # first China day of the bucket (the first bucket starts at `from`)
    end: dt.date  # last China day of the bucket, inclusive (the last bucket ends at `to`)
    redeemed_fen: int  # spent in this bucket: pending, delivered or settled redemptions, as the report's redeemed_fen
    spent_fen: int  # cumulative since the program began, this bucket included
    budget_fen: int


class SeriesOut(BaseModel):
    program_id: int
    program_name: str
    generated_at: dt.datetime
    bucket: SeriesBucket
    timezone: str
    date_from: dt.date
    date_to: dt.date
    spent_before_fen: int  # spent before `from` (the first bucket's spent_fen starts from here)
    points: list[SeriesPoint]


# ---------------------------------------------------------------- applications


class ApplicationState(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for an official's decision
    APPROVED = "approved"  # a voucher was issued (`voucher_id`)
    WAITLISTED = "waitlisted"  # the budget was used up (first come first served) or an official put it on hold
    REJECTED = "rejected"  # refused by an official, with the reason


class ApplicationDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: DocumentName
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] = Field(
        description="where the document is: a file number, a link, a certificate number"
    )


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: Annotated[list[ApplicationDocument], Field(max_length=10)] = []
    note: str = Field(default="", max_length=1000)


class ApplicationEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: ApplicationState | None
    to_state: ApplicationState
    actor_user_id: int | None
    actor_role: str
    reason: str
    at: dt.datetime = Field(validation_alias="created_at")


class EarlierVoucher(BaseModel):
    id: int
    program_id: int
    program_name: str
    face_value_fen: int
    balance_fen: int
    state: VoucherState
    issued_at: dt.datetime


class ApplicantOut(BaseModel):
    enterprise_id: int
    name: str
    credit_code: str
    region_code: str
    qualification: Qualification  # as recorded
    qualification_expires_on: dt.date | None
    qualification_today: Qualification  # what counts today (none once the certificate expired)
    earlier_vouchers: list[EarlierVoucher]


class ApplicationOut(BaseModel):
    id: int
    program_id: int
    program_name: str
    enterprise_id: int
    enterprise_name: str
    region_code: str
    qualification_today: Qualification
    earlier_vouchers: int
    state: ApplicationState
    documents: list[ApplicationDocument]
    note: str
    face_value_fen: int
    voucher_id: int | None
    decision_reason: str
    decided_at: dt.datetime | None
    created_at: dt.datetime


class ApplicationDetail(ApplicationOut):
    applicant: ApplicantOut
    history: list[ApplicationEventOut]
    # Why the applicant would not get a voucher if approved now (empty: nothing in the way).
    problems: list[IneligibilityOut]


class ApplicationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program_id: Annotated[int, Field(ge=1)] | None = None
    state: ApplicationState | None = None
    region: RegionCode | None = Field(default=None, description="applicants in this region or below")
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        default=None, description="part of the enterprise's name or credit code"
    )
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class ApplicationPage(BaseModel):
    items: list[ApplicationOut]
    total: int


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "waitlist"]
    reason: Reason | None = Field(default=None, description="required to reject or waitlist; shown to the applicant")

    @model_validator(mode="after")
    def _reason_when_refusing(self) -> DecisionIn:
        if self.decision != "approve" and self.reason is None:
            raise ValueError(f"a reason is required to {self.decision}")
        return self


class BulkDecisionIn(DecisionIn):
    application_ids: Annotated[list[Annotated[StrictInt, Field(ge=1, le=2**53)]], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _distinct(self) -> BulkDecisionIn:
        if len(set(self.application_ids)) != len(self.application_ids):
            raise ValueError("application_ids lists an application twice")
        return self


class DecisionResult(BaseModel):
    application_id: int
    ok: bool
    state: ApplicationState | None
    voucher_id: int | None = None
    error: dict[str, object] | None = None  # {"code", "message"} when this one could not be decided


class BulkDecisionOut(BaseModel):
    results: list[DecisionResult]
    decided: int
    failed: int
    remaining_budget_fen: dict[int, int]  # per programme touched


class IneligibilityOut(BaseModel):
    code: Literal["region", "qualification", "year_cap", "already_holds", "not_open_yet", "closed", "program_over"]
    message: str


class ApplyableProgramOut(BaseModel):
    """A programme taking applications, as one enterprise sees it: whether it qualifies, and why not."""

    id: int
    name: str
    description: str
    region_code: str
    services: list[ServiceOut]
    face_value_fen: int
    share_bp: int
    per_enterprise_year_cap_fen: int | None
    eligibility: Eligibility
    valid_until: dt.datetime
    applications: ApplicationSettingsOut
    remaining_budget_fen: int
    qualifies: bool
    reasons: list[IneligibilityOut]
    can_apply: bool
    my_application: ApplicationOut | None


class LedgerDifference(BaseModel):
    subject: str
    subject_id: int
    field: str
    stored: int | str
    from_audit: int | str


AgencyBrief.model_rebuild()
ApplicationDetail.model_rebuild()
RedemptionOut.model_rebuild()
