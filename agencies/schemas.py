"""Request and response shapes of the agency API (they also build its OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from agencies.catalogue import AgencyKind, CreditLevel, FieldCode, ServiceCode
from agencies.credit import CATEGORIES, points_problem

Fen = Annotated[int, Field(ge=0, le=100_000_000, description="integer fen (分)")]
SortKey = Literal["relevance", "rating", "attorneys", "price"]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 six-digit code")]
Text200 = Annotated[str, Field(max_length=200)]
ObjectionState = Literal["pending", "upheld", "reversed"]


# ---------------------------------------------------------------- search


class SearchQuery(BaseModel):
    q: str | None = Field(default=None, max_length=100, description="Chinese or English name, abbreviation, pinyin")
    region: str | None = Field(
        default=None, max_length=40, description="GB/T 2260 code, Chinese name or pinyin; a province matches its cities"
    )
    service: ServiceCode | None = None
    field: FieldCode | None = None
    min_rating: CreditLevel | None = Field(default=None, description="this level or better")
    accepts_vouchers: bool | None = None
    sort: SortKey = "relevance"
    page: int = Field(default=1, ge=1, le=1000)
    page_size: int = Field(default=20, ge=1, le=50)


class RegionOut(BaseModel):
    code: str
    name: str


class ServiceOut(BaseModel):
    code: ServiceCode
    label_zh: str
    label_en: str
    price_min_fen: int
    price_max_fen: int


class FieldOut(BaseModel):
    code: FieldCode
    label_zh: str
    label_en: str


class AgencyCard(BaseModel):
    """One agency in a result list."""

    id: int
    name_zh: str
    name_en: str | None
    short_name: str | None
    kind: AgencyKind
    region: RegionOut
    credit_level: CreditLevel
    credit_score: int
    patent_attorneys: int
    trademark_agents: int
    accepts_vouchers: bool
    services: list[ServiceOut]
    fields: list[FieldCode]
    under_objection: bool = Field(description="a credit objection of the agency awaits an official's decision")
    review_count: int = Field(description="visible reviews")
    review_average: float | None = Field(description="their average rating (1–5, two decimals); null without any")


class AgencyPage(BaseModel):
    items: list[AgencyCard]
    total: int
    page: int
    page_size: int


# ---------------------------------------------------------------- detail


class BranchOut(BaseModel):
    region: RegionOut
    address: str


class RatingOut(BaseModel):
    level: CreditLevel
    score: int
    updated_at: dt.datetime
    evaluated_on: dt.date | None
    under_objection: bool = Field(description="a credit objection awaits an official's decision")


class RatingChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # a RatingHistory row as it is

    score: int
    level: CreditLevel
    previous_score: int | None
    previous_level: CreditLevel | None
    cause: str
    credit_event_id: int | None
    note: str
    changed_at: dt.datetime


class ReviewSummary(BaseModel):
    count: int
    average: float | None


class AgencyDetail(BaseModel):
    id: int
    name_zh: str
    name_en: str | None
    short_name: str | None
    credit_code: str
    licence_no: str
    kind: AgencyKind
    region: RegionOut
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str
    website: str
    description: str
    founded_year: int
    patent_attorneys: int
    trademark_agents: int
    accepts_vouchers: bool
    rating: RatingOut
    rating_history: list[RatingChangeOut]
    services: list[ServiceOut]
    fields: list[FieldOut]
    branches: list[BranchOut]
    followers: int
    following: bool | None = Field(description="whether the caller follows it; null when not enterprise staff")
    reviews: ReviewSummary


# ---------------------------------------------------------------- writes


class ServicePriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: ServiceCode
    price_min_fen: Fen
    price_max_fen: Fen

    @model_validator(mode="after")
    def _range(self) -> ServicePriceIn:
        if self.price_max_fen < self.price_min_fen:
            raise ValueError("price_max_fen must not be below price_min_fen")
        return self


class BranchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: RegionCode
    address: Text200 = ""


def _unique_services(value: list[ServicePriceIn] | None) -> list[ServicePriceIn] | None:
    if value is not None:
        codes = [s.service for s in value]
        if len(codes) != len(set(codes)):
            raise ValueError("each service may appear once")
    return value


def _unique_fields(value: list[FieldCode] | None) -> list[FieldCode] | None:
    if value is not None and len(value) != len(set(value)):
        raise ValueError("each field may appear once")
    return value


def _this_year() -> int:
    return dt.date.today().year


class AgencyIn(BaseModel):
    """An official registers an agency."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name_zh: str = Field(min_length=2, max_length=200)
    name_en: str | None = Field(default=None, max_length=300)
    short_name: str | None = Field(default=None, max_length=60)
    credit_code: str = Field(min_length=1, max_length=40, description="18-character unified social credit code")
    licence_no: str = Field(min_length=1, max_length=40)
    kind: AgencyKind
    region_code: RegionCode
    address: Text200 = ""
    contact_name: str = Field(default="", max_length=60)
    contact_phone: str = Field(default="", max_length=40)
    contact_email: str = Field(default="", max_length=120)
    website: Text200 = ""
    description: str = Field(default="", max_length=4000)
    founded_year: int = Field(ge=1949)
    patent_attorneys: int = Field(default=0, ge=0, le=100_000)
    trademark_agents: int = Field(default=0, ge=0, le=100_000)
    accepts_vouchers: bool = False
    services: list[ServicePriceIn] = Field(default_factory=list, max_length=len(ServiceCode))
    fields: list[FieldCode] = Field(default_factory=list, max_length=len(FieldCode))
    branches: list[BranchIn] = Field(default_factory=list, max_length=200)

    _services = field_validator("services")(_unique_services)
    _fields = field_validator("fields")(_unique_fields)

    @field_validator("founded_year")
    @classmethod
    def _not_future(cls, value: int) -> int:
        if value > _this_year():
            raise ValueError("must not be in the future")
        return value

    @field_validator("credit_code")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class AgencyPatch(BaseModel):
    """A change to an agency's profile. Agency staff may send only the editable fields (agencies.permissions);
    the credit level and score change only through credit events and imports."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Officials only.
    name_zh: str | None = Field(default=None, min_length=2, max_length=200)
    name_en: str | None = Field(default=None, max_length=300)
    credit_code: str | None = Field(default=None, min_length=1, max_length=40)
    licence_no: str | None = Field(default=None, min_length=1, max_length=40)
    kind: AgencyKind | None = None
    region_code: RegionCode | None = None
    founded_year: int | None = Field(default=None, ge=1949)
    # Agency staff too.
    short_name: str | None = Field(default=None, max_length=60)
    address: str | None = Field(default=None, max_length=200)
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = Field(default=None, max_length=40)
    contact_email: str | None = Field(default=None, max_length=120)
    website: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    patent_attorneys: int | None = Field(default=None, ge=0, le=100_000)
    trademark_agents: int | None = Field(default=None, ge=0, le=100_000)
    accepts_vouchers: bool | None = None
    services: list[ServicePriceIn] | None = Field(default=None, max_length=len(ServiceCode))
    fields: list[FieldCode] | None = Field(default=None, max_length=len(FieldCode))
    branches: list[BranchIn] | None = Field(default=None, max_length=200)

    _services = field_validator("services")(_unique_services)
    _fields = field_validator("fields")(_unique_fields)

    @model_validator(mode="before")
    @classmethod
    def _no_rating(cls, data: object) -> object:
        if isinstance(data, dict):
            for name in ("credit_level", "credit_score"):
                if name in data:
                    raise ValueError(f"{name} changes only through credit events and official imports")
        return data

    @field_validator("credit_code")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return None if value is None else value.upper()


class CreditEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = Field(description="one of the categories in agencies.credit (see docs/agencies.md)")
    points: int = Field(description="negative for a deduction, positive for bonus points")
    reason: str = Field(min_length=2, max_length=2000)
    reference_doc: str = Field(default="", max_length=200, description="the decision or notice it rests on")

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category; one of {', '.join(CATEGORIES)}")
        return value

    @field_validator("points")
    @classmethod
    def _points_fit(cls, value: int, info: ValidationInfo) -> int:
        problem = points_problem(info.data.get("category", ""), value)
        if problem is not None:
            raise ValueError(problem)
        return value


class ReverseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=2, max_length=2000)
    reference_doc: str = Field(default="", max_length=200)


class CreditEventOut(BaseModel):
    id: int
    agency_id: int
    category: str
    category_label: str
    points: int
    reason: str
    reference_doc: str
    reverses_event_id: int | None
    reversed_by_event_id: int | None
    counted: bool = Field(description="counts toward the current score (live and after the latest official import)")
    created_by: int | None
    created_at: dt.datetime
    objection_id: int | None = Field(default=None, description="the agency's objection to this event, if any")
    objection_state: ObjectionState | None = None
    objectionable_until: dt.datetime | None = Field(
        default=None, description="until when the agency may still object (a counted deduction without objection)"
    )


class CreditEventResult(BaseModel):
    event: CreditEventOut
    rating: RatingOut


class CreditRecord(BaseModel):
    agency_id: int
    rating: RatingOut
    baseline: int
    events: list[CreditEventOut]
    objection_period_days: int = Field(description="how long after a deduction the agency may object")


# ---------------------------------------------------------------- objections


class ObjectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=2, max_length=2000, description="why the deduction is wrong")
    evidence: str = Field(min_length=2, max_length=4000, description="what shows it: documents, numbers, dates, links")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Literal["upheld", "reversed"] = Field(
        description="upheld: the event stands; reversed: the event is reversed and the score recomputed"
    )
    reason: str = Field(min_length=2, max_length=2000)
    reference_doc: str = Field(default="", max_length=200, description="the decision document, if any")


class ObjectionOut(BaseModel):
    id: int
    agency_id: int
    agency_name: str
    event: CreditEventOut
    reason: str
    evidence: str
    state: ObjectionState
    filed_by: int | None
    filed_at: dt.datetime
    decision_due: dt.date = Field(description="5 working days after filing (POLICY_NOTES §10)")
    decision_reason: str | None
    decision_reference_doc: str | None
    decided_by: int | None
    decided_at: dt.datetime | None
    reversal_event_id: int | None


class ObjectionResult(BaseModel):
    objection: ObjectionOut
    rating: RatingOut


class ObjectionsOut(BaseModel):
    items: list[ObjectionOut]


class ObjectionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: ObjectionState | None = None
    agency_id: int | None = Field(default=None, ge=1, le=2**53)
    limit: int = Field(default=100, ge=1, le=500)


# ---------------------------------------------------------------- audit


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # an AgencyAudit row as it is

    id: int
    subject: str
    subject_id: int
    action: str
    actor_id: int | None
    actor_role: str
    note: str
    at: dt.datetime


class AuditOut(BaseModel):
    agency_id: int
    items: list[AuditEntryOut]


class ImportRowOut(BaseModel):
    line: int
    agency_id: int
    credit_code: str
    score: int
    level: CreditLevel
    previous_score: int
    previous_level: CreditLevel


class ImportResult(BaseModel):
    imported: int
    changed: int
    rows: list[ImportRowOut]


class FollowOut(BaseModel):
    agency_id: int
    following: bool
    followers: int


class FollowsOut(BaseModel):
    items: list[AgencyCard]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    redemption_id: int = Field(ge=1, description="the voucher redemption whose delivered service is reviewed")
    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent)")
    comment: str = Field(default="", max_length=1000)


class ReviewOut(BaseModel):
    """A review, without who wrote it. A hidden one is shown (marked, with the reason) only to officials, the
    agency's staff and the enterprise that wrote it; everyone else never sees it, nor counts it in the average."""

    id: int
    agency_id: int
    rating: int
    comment: str
    created_at: dt.datetime
    reply: str | None = None
    replied_at: dt.datetime | None = None
    hidden: bool = False
    hidden_reason: str | None = None
    hidden_at: dt.datetime | None = None
    mine: bool = Field(default=False, description="written by the caller's enterprise")
    redemption_id: int | None = Field(default=None, description="shown to the enterprise that wrote it and officials")


class ReviewsOut(BaseModel):
    summary: ReviewSummary
    items: list[ReviewOut]


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reply: str = Field(min_length=2, max_length=1000, description="the agency's one answer")


class RestoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=2, max_length=1000, description="why the review is shown again (hidden by mistake…)")


class HideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=2, max_length=1000, description="why the review is hidden (abusive, personal data…)")
