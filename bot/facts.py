"""The policy facts file (`bot/facts/policy.yml`): loaded and validated once, rendered into cited answers.

Every policy answer is rendered from the file: its text in the user's language, then one source line naming the
document(s), article, effective date and status, and whether a newer revision exists — all taken from the
`documents` section, so a policy change is one edit there. The file is validated with pydantic when the app
starts (`load_facts()` in `bot.routes.setup`): an unknown document, a superseded document without its revision or
a missing language stops start-up with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Lang = Literal["zh", "en"]
FACTS_PATH = Path(__file__).with_name("facts") / "policy.yml"

# The policy intents of the Rasa domain (bot/domain/policy.yml): each must have a fact.
POLICY_INTENTS: tuple[str, ...] = (
    "ask_priority_exam_conditions",
    "ask_priority_exam_process",
    "ask_priority_exam_timeline",
    "ask_trademark_priority",
    "ask_pph",
    "ask_centralized_exam",
    "ask_fast_preexam",
    "ask_open_license",
    "ask_pledge_financing",
    "ask_ip_insurance",
    "ask_patent_navigation",
    "ask_rights_protection",
    "ask_policy_overview",
    "ask_agency_selection",
    "ask_credit_rules",
    "ask_voucher_apply",
    "ask_voucher_use",
    "ask_voucher_settlement",
    "ask_specialized_sme",
    "ask_trademark_brand_guidance",
    "ask_collective_certification_mark",
    "ask_innovation_management",
    "ask_patent_intensive_product",
    "ask_ip_professional_title",
    "ask_ip_training_and_experts",
    "ask_overseas_protection",
    "ask_public_service_platforms",
)

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
NonEmpty = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Strict):
    zh: NonEmpty
    en: NonEmpty

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


class Document(_Strict):
    short: Bilingual
    issued_by: Bilingual
    # In force since (or, for a draft, published for comment on); None only for local rules that vary by city.
    effective: str | None
    status: Literal["draft", "in_force", "superseded"]
    revision: str | None = None
    local: bool = False
    # A published figure (a press conference's statistics, a firm's measurement), not a rule: `effective` is the
    # date the figure is as of, and the source line says so instead of "in force since".
    statistic: bool = False

    @field_validator("effective")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value is not None and not _DATE.match(value):
            raise ValueError("must be YYYY, YYYY-MM or YYYY-MM-DD")
        return value

    @model_validator(mode="after")
    def _dated_unless_local(self) -> Document:
        if self.effective is None and not self.local:
            raise ValueError("effective is required (only local rules may leave it empty)")
        if self.status == "superseded" and self.revision is None:
            raise ValueError("a superseded document must name its revision")
        return self


class Source(_Strict):
    document: str
    article: Bilingual


class Button(_Strict):
    zh: NonEmpty
    en: NonEmpty
    payload: Annotated[str, Field(pattern=r"^/\w+")]


class Fact(_Strict):
    sources: Annotated[list[Source], Field(min_length=1)]
    text: Bilingual
    buttons: Annotated[list[Button], Field(min_length=1, max_length=4)]
    local: bool = False
    # entity -> value -> one extra line, e.g. rating_level -> B -> what B means.
    details: dict[str, dict[str, Bilingual]] = Field(default_factory=dict)


class Citation(_Strict):
    sources: Annotated[list[Source], Field(min_length=1)]


class FactsFile(_Strict):
    documents: dict[str, Document]
    facts: dict[str, Fact]
    eligibility: Citation
    # The fast-track planner's routes (conditions, materials, fees, times, sources): validated by
    # `fast_track.rules` against this model's documents, kept here so a rule change stays one edit in one file.
    tracks: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> FactsFile:
        for name, doc in self.documents.items():
            if doc.revision is not None and doc.revision not in self.documents:
                raise ValueError(f"documents.{name}.revision: unknown document {doc.revision!r}")
        cited = [(f"facts.{k}", f.sources) for k, f in self.facts.items()]
        cited.append(("eligibility", self.eligibility.sources))
        for where, sources in cited:
            for source in sources:
                if source.document not in self.documents:
                    raise ValueError(f"{where}: unknown document {source.document!r}")
        missing = [intent for intent in POLICY_INTENTS if intent not in self.facts]
        if missing:
            raise ValueError(f"no fact for the policy intents {', '.join(missing)}")
        return self


class FactsError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class RenderedButton:
    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    buttons: tuple[RenderedButton, ...]
    local: bool


class Facts:
    def __init__(self, data: FactsFile) -> None:
        self.data = data

    @property
    def intents(self) -> list[str]:
        return list(self.data.facts)

    def has(self, intent: str) -> bool:
        return intent in self.data.facts

    def answer(self, intent: str, lang: Lang, entities: dict[str, str] | None = None) -> Answer:
        fact = self.data.facts[intent]
        lines: list[str] = []
        for entity, value in (entities or {}).items():
            detail = fact.details.get(entity, {}).get(value)
            if detail is not None:
                lines.append(detail.get(lang))
        lines.append(fact.text.get(lang))
        lines.append(self.source_line(fact.sources, lang))
        buttons = tuple(RenderedButton(b.zh if lang == "zh" else b.en, b.payload) for b in fact.buttons)
        return Answer("\n".join(lines), buttons, fact.local)

    def eligibility_source(self, lang: Lang) -> str:
        return self.source_line(self.data.eligibility.sources, lang)

    def source_line(self, sources: list[Source], lang: Lang) -> str:
        parts = [f"{self._doc_name(s, lang)}（{self.status_phrase(s.document, lang)}）" for s in sources]
        if lang == "zh":
            return "来源：" + "；".join(parts)
        return "Source: " + "; ".join(p.replace("（", " (").replace("）", ")") for p in parts)

    def _doc_name(self, source: Source, lang: Lang) -> str:
        doc = self.data.documents[source.document]
        return f"{doc.short.get(lang)}{source.article.zh}" if lang == "zh" else f"{doc.short.en}, {source.article.en}"

    def status_phrase(self, document: str, lang: Lang) -> str:
        """In force / draft / superseded, since when, and whether a newer revision exists."""
        doc = self.data.documents[document]
        zh = lang == "zh"
        if doc.local:
            phrase = "以当地规定为准" if zh else "local rules apply"
        elif doc.statistic:
            phrase = f"截至{doc.effective}的数据" if zh else f"figures as of {doc.effective}"
        elif doc.status == "in_force":
            phrase = f"{doc.effective}起施行" if zh else f"in force since {doc.effective}"
        elif doc.status == "draft":
            phrase = (
                f"{doc.effective}发布征求意见稿，未生效"
                if zh
                else f"draft for comment of {doc.effective}, not in force"
            )
        else:
            phrase = "已被新版取代" if zh else "superseded"
        if doc.revision is not None:
            rev = self.data.documents[doc.revision]
            if rev.status == "draft":
                phrase += (
                    f"；{rev.effective}已发布修订征求意见稿，生效与否以官方为准"
                    if zh
                    else f"; a revision was published for comment on {rev.effective}, not confirmed in force"
                )
            elif rev.status == "in_force":
                phrase += f"；新版{rev.effective}起施行" if zh else f"; revised version in force since {rev.effective}"
        return phrase


def parse_facts(raw: object) -> Facts:
    try:
        return Facts(FactsFile.model_validate(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise FactsError(f"{FACTS_PATH}: {where}: {first['msg']}") from None


def read_facts(path: Path = FACTS_PATH) -> Facts:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FactsError(f"{path}: {exc}") from None
    return parse_facts(raw)


@lru_cache(maxsize=1)
def load_facts() -> Facts:
    """The validated facts, read once per process."""
    return read_facts()
