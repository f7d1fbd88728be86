"""Request and answer shapes of the fast-track planner and the protection-centres API (contract names kept)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from agencies.catalogue import FieldCode
from core import regions
from fast_track.rules import Kind, MarkType, Stage, TrackName

Lang = Literal["zh", "en"]
Verdict = Literal["yes", "no", "unknown"]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 six-digit code")]


def region_exists(code: str) -> bool:
    """A code we know (province, city, listed district), or a district of a city we know ("330106")."""
    if regions.get(code) is not None:
        return True
    return code[4:] != "00" and regions.get(code[:4] + "00") is not None


# Characters a Word document (XML 1.0) cannot hold: refused with the field's name instead of failing the draft.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _printable(value: str | None) -> str | None:
    if value is not None and _NOT_IN_XML.search(value):
        raise ValueError("contains a control character")
    return value


def _existing_region(value: str | None) -> str | None:
    if value is not None and not region_exists(value):
        raise ValueError("no such region code (GB/T 2260)")
    return value


# ---------------------------------------------------------------- the planner


class PlanRequest(BaseModel):
    """What a patent clerk would ask about one application. Every field may be missing: a route that a missing
    field decides is `unknown`, and the field is listed in the answer's `asked`."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    stage: Stage | None = None
    technical_field: str | None = Field(default=None, max_length=200, description="free text, Chinese or English")
    region: RegionCode | None = Field(default=None, description="the applicant's region; from the profile if known")
    pct_national_phase: StrictBool | None = None
    foreign_allowed_office: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{2}$",
        description="an office whose allowed claims this application's correspond to (US, JP, EP…); null: none",
    )
    filed_abroad_after_china: StrictBool | None = None
    exploiting: StrictBool | None = None
    related_applications: StrictInt | None = Field(
        default=None, ge=0, le=100_000, description="how many inventions around one key technology"
    )
    centre_record: StrictBool | None = Field(
        default=None, description="on record (备案) at the local protection centre"
    )
    mark_type: MarkType | None = None
    situation: str | None = Field(default=None, max_length=500, description="trademarks: why it is urgent")
    lang: Lang | None = Field(default=None, description="the answer's language; by default the input's")

    _region = field_validator("region")(classmethod(lambda cls, v: _existing_region(v)))

    @field_validator("foreign_allowed_office")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return None if value is None else value.upper()

    @field_validator("technical_field", "situation", "foreign_allowed_office", mode="before")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        return _printable(value) if isinstance(value, str) else value

    @field_validator("technical_field", "situation")
    @classmethod
    def _blank_is_missing(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def given(self, name: str) -> bool:
        """Whether the caller answered `name` (an explicit null for `foreign_allowed_office` answers "none")."""
        return name in self.model_fields_set and (getattr(self, name) is not None or name == "foreign_allowed_office")


class DraftQuery(PlanRequest):
    """The plan's inputs (as query parameters, so "true" / "3" are read as a boolean / a count) plus what the
    drafted request fills in when known."""

    pct_national_phase: bool | None = None
    filed_abroad_after_china: bool | None = None
    exploiting: bool | None = None
    related_applications: int | None = Field(default=None, ge=0, le=100_000)
    centre_record: bool | None = None

    track: Literal["priority_exam", "pph"]
    applicant: str | None = Field(default=None, max_length=200)
    application_number: str | None = Field(default=None, max_length=40)
    title: str | None = Field(default=None, max_length=200, description="the invention's title")

    _printable_fields = field_validator("applicant", "application_number", "title")(
        classmethod(lambda cls, v: _printable(v))
    )

    def plan_request(self) -> PlanRequest:
        """The plan's own inputs (those the caller gave, so an unanswered one stays unanswered)."""
        fields = set(PlanRequest.model_fields) & self.model_fields_set
        return PlanRequest.model_validate({name: getattr(self, name) for name in fields})


class RuleCheck(BaseModel):
    rule: str
    verdict: Verdict
    text: str
    source: str
    confirmed: bool


class Figure(BaseModel):
    """One figure of a route and the source that states it."""

    what: Literal["expected_days", "fee_fen"]
    value: int | None
    text: str
    source: str
    confirmed: bool


class TrackOut(BaseModel):
    track: TrackName
    name: str
    eligible: Verdict
    reasons: list[str]
    expected_days: int | None
    expected: str
    materials: list[str]
    next_step: str
    source: str
    fee_fen: int
    figures: list[Figure]
    checks: list[RuleCheck]
    exclusive_with: list[TrackName]
    draft_url: str | None = None


class FieldMatch(BaseModel):
    """How the free-text technical field was read: the catalogue field, the word that matched, the key-industry
    list, and the local centre's scope."""

    text: str
    field: FieldCode | None
    label_zh: str | None
    label_en: str | None
    matched: str | None
    key_industry: bool
    fast_moving: bool
    centre_match: str | None
    shown: str


class CentreBrief(BaseModel):
    id: int | None
    name: str
    region_codes: list[str]
    fields: list[FieldCode]
    application_types: list[str]
    contact: str
    record_url: str | None
    scope_confirmed: bool


class ProfileUse(BaseModel):
    """What the signed-in enterprise's profile filled in, said in the answer."""

    enterprise_id: int | None
    filled: list[str]
    qualification: str | None
    note: str


class PlanAnswer(BaseModel):
    tracks: list[TrackOut]
    recommended: TrackName | None
    asked: list[str]
    lang: Lang
    field_match: FieldMatch | None
    centre: CentreBrief | None
    profile: ProfileUse | None
    notes: list[str]
    disclaimer: str


# ---------------------------------------------------------------- protection centres

CentreKind = Literal["protection", "fast_rights"]
AppType = Literal["invention", "utility_model", "design"]
Ipc = Annotated[str, Field(pattern=r"^[A-H]([0-9]{2}[A-Z]?)?$", description="IPC section, class or subclass")]
Word = Annotated[str, Field(min_length=1, max_length=40)]


class CentreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=120)
    name_en: str = Field(default="", max_length=200)
    kind: CentreKind = "protection"
    seat_region: RegionCode
    region_codes: list[RegionCode] = Field(min_length=1, max_length=60, description="the applicants' regions served")
    fields: list[FieldCode] = Field(default_factory=list, max_length=13)
    ipc_classes: list[Ipc] = Field(default_factory=list, max_length=300)
    words: list[Word] = Field(default_factory=list, max_length=60, description="the fields in everyday words")
    application_types: list[AppType] = Field(min_length=1, max_length=3)
    contact: str = Field(default="", max_length=200)
    record_url: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    scope_confirmed: StrictBool = False
    source: str = Field(default="", max_length=500, description="where the scope comes from")

    _seat = field_validator("seat_region")(classmethod(lambda cls, v: _existing_region(v)))

    @field_validator("region_codes")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for code in value:
            _existing_region(code)
        return sorted(set(value))


class CentrePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=120)
    name_en: str | None = Field(default=None, max_length=200)
    kind: CentreKind | None = None
    region_codes: list[RegionCode] | None = Field(default=None, min_length=1, max_length=60)
    fields: list[FieldCode] | None = Field(default=None, max_length=13)
    ipc_classes: list[Ipc] | None = Field(default=None, max_length=300)
    words: list[Word] | None = Field(default=None, max_length=60)
    application_types: list[AppType] | None = Field(default=None, min_length=1, max_length=3)
    contact: str | None = Field(default=None, max_length=200)
    record_url: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    scope_confirmed: StrictBool | None = None
    source: str | None = Field(default=None, max_length=500)

    @field_validator("region_codes")
    @classmethod
    def _regions(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for code in value:
            _existing_region(code)
        return sorted(set(value))


class CentreOut(BaseModel):
    id: int
    name: str
    name_en: str
    kind: CentreKind
    seat_region: str
    seat_region_name: str
    region_codes: list[str]
    fields: list[FieldCode]
    ipc_classes: list[str]
    words: list[str]
    application_types: list[str]
    contact: str
    record_url: str | None
    scope_confirmed: bool
    source: str
    updated_at: dt.datetime


class CentreQuery(BaseModel):
    region: RegionCode | None = Field(default=None, description="centres serving this region")
    kind: CentreKind | None = None


class CentreAuditOut(BaseModel):
    id: int
    centre_id: int
    action: str
    actor_id: int | None
    at: dt.datetime
    changes: dict[str, object]
