"""The planner's routes as data: the `tracks` section of `bot/facts/policy.yml`, validated here.

The data says what each route requires, costs and takes, and where each of those comes from; `fast_track.service`
knows how to check each rule id against an application. Validation (at start-up, `load_rules()` in
`fast_track.routes.setup`) refuses a route without a rule the planner checks, a kind without times, or a source
naming a document the file does not list — a rule change is one edit in the one file, and a broken edit stops
start-up with the reason.
"""

from __future__ import annotations

import enum
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agencies.catalogue import FieldCode
from bot.facts import FACTS_PATH, Bilingual, Facts, FactsError, Source, load_facts


class TrackName(enum.StrEnum):
    """The contract's route names, in the order the data file lists them."""

    FAST_PREEXAM = "fast_preexam"
    PRIORITY_EXAM = "priority_exam"
    PPH = "pph"
    CENTRALIZED_EXAM = "centralized_exam"
    TRADEMARK_FAST_EXAM = "trademark_fast_exam"
    NORMAL = "normal"


class Kind(enum.StrEnum):
    INVENTION = "invention"
    UTILITY_MODEL = "utility_model"
    DESIGN = "design"
    TRADEMARK = "trademark"


class Stage(enum.StrEnum):
    NOT_FILED = "not_filed"
    FILED = "filed"
    SUBSTANTIVE_EXAM = "substantive_exam"
    OFFICE_ACTION = "office_action"
    GRANTED = "granted"


class MarkType(enum.StrEnum):
    WORD = "word"
    FIGURATIVE = "figurative"
    COLLECTIVE = "collective"
    CERTIFICATION = "certification"


# The rules the planner checks for each route (fast_track.service); the data must describe every one of them.
CHECKED_RULES: dict[TrackName, tuple[str, ...]] = {
    TrackName.FAST_PREEXAM: ("kind", "stage", "pct_national_phase", "centre_region", "centre_field", "centre_record"),
    TrackName.PRIORITY_EXAM: ("kind", "stage", "ground", "recommendation"),
    TrackName.PPH: ("kind", "stage", "foreign_allowed_office"),
    TrackName.CENTRALIZED_EXAM: ("kind", "stage", "related_applications"),
    TrackName.TRADEMARK_FAST_EXAM: ("kind", "stage", "mark_type", "situation"),
    TrackName.NORMAL: ("kind", "stage"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    text: Bilingual
    source: Source
    # False where the rule rests on a summary or on practice, not on the official text seen: the answer says so.
    confirmed: bool = True


class Fee(_Strict):
    fen: Annotated[int, Field(ge=0)]
    text: Bilingual
    source: Source
    confirmed: bool = True


class Time(_Strict):
    """How long the route takes for one kind: a typical figure and/or a statutory limit, in calendar days."""

    typical_days: Annotated[int, Field(ge=0)] | None = None
    statutory_days: Annotated[int, Field(ge=0)] | None = None
    text: Bilingual
    source: Source
    confirmed: bool = True

    @property
    def expected_days(self) -> int | None:
        """What the planner ranks by: the typical figure where one is sourced, else the statutory limit."""
        return self.typical_days if self.typical_days is not None else self.statutory_days


class Situation(_Strict):
    id: str
    text: Bilingual
    words: Annotated[list[str], Field(min_length=1)]


class Track(_Strict):
    name: Bilingual
    kinds: Annotated[list[Kind], Field(min_length=1)]
    stages: dict[Kind, list[Stage]]
    rules: dict[str, Rule]
    exclusive_with: list[TrackName] = Field(default_factory=list)
    exclusive: Rule | None = None
    materials: list[Bilingual]
    fee: Fee
    times: dict[Kind, Time]
    next_step: Bilingual
    # Parameters of the rules, per route.
    key_industry_fields: list[FieldCode] = Field(default_factory=list)
    fast_moving_fields: list[FieldCode] = Field(default_factory=list)
    partner_offices: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(default_factory=list)
    min_related_applications: Annotated[int, Field(ge=1)] | None = None
    mark_types: list[MarkType] = Field(default_factory=list)
    situations: list[Situation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> Track:
        for kind in self.kinds:
            if kind not in self.stages:
                raise ValueError(f"stages: no stages for {kind.value}")
            if kind not in self.times:
                raise ValueError(f"times: no time for {kind.value}")
        if self.exclusive_with and self.exclusive is None:
            raise ValueError("exclusive_with needs the rule that says so (exclusive)")
        return self

    def sources(self) -> list[Source]:
        cited = [rule.source for rule in self.rules.values()]
        cited += [self.fee.source, *(t.source for t in self.times.values())]
        if self.exclusive is not None:
            cited.append(self.exclusive.source)
        return cited


class TracksFile(_Strict):
    tracks: dict[TrackName, Track]

    @model_validator(mode="after")
    def _all_routes(self) -> TracksFile:
        for name in TrackName:
            if name not in self.tracks:
                raise ValueError(f"no route {name.value}")
            track = self.tracks[name]
            missing = [rule for rule in CHECKED_RULES[name] if rule not in track.rules]
            if missing:
                raise ValueError(f"{name.value}: no rule {', '.join(missing)} (the planner checks it)")
        p = self.tracks[TrackName.PRIORITY_EXAM]
        if not p.key_industry_fields:
            raise ValueError("priority_exam: key_industry_fields is empty")
        if not self.tracks[TrackName.PPH].partner_offices:
            raise ValueError("pph: partner_offices is empty")
        if self.tracks[TrackName.CENTRALIZED_EXAM].min_related_applications is None:
            raise ValueError("centralized_exam: min_related_applications is missing")
        return self


class Rules:
    """The validated routes, and the facts whose documents render their source lines."""

    def __init__(self, data: TracksFile, facts: Facts) -> None:
        self.tracks = data.tracks
        self.facts = facts

    def __getitem__(self, name: TrackName) -> Track:
        return self.tracks[name]

    def source_line(self, sources: list[Source], lang: Literal["zh", "en"]) -> str:
        unique: list[Source] = []
        for source in sources:
            if source not in unique:
                unique.append(source)
        return self.facts.source_line(unique, lang)


def parse_rules(facts: Facts) -> Rules:
    try:
        data = TracksFile.model_validate({"tracks": facts.data.tracks})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FactsError(f"{FACTS_PATH}: {where}: {first['msg']}") from None
    for name, track in data.tracks.items():
        for source in track.sources():
            if source.document not in facts.data.documents:
                raise FactsError(f"{FACTS_PATH}: tracks.{name.value}: unknown document {source.document!r}")
    return Rules(data, facts)


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """The validated routes, read once per process (with the facts file they live in)."""
    return parse_rules(load_facts())
