"""Request and response models of the assistant's HTTP surface."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from core.chat import ChatReply

TicketStatus = Literal["open", "in_progress", "answered", "closed"]


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ChatOut(BaseModel):
    replies: list[ChatReply]


class TicketOut(BaseModel):
    id: int
    sender_id: str
    channel: str
    user_id: int | None
    enterprise_id: int | None
    lang: str
    question: str
    transcript: list[str]
    status: TicketStatus
    answer: str
    answered_by: int | None
    answered_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TicketPage(BaseModel):
    items: list[TicketOut]
    total: int
    page: int
    page_size: int


class MyTicketOut(BaseModel):
    """A ticket as the person who asked sees it: what they asked, where it stands, the expert's answer."""

    id: int
    channel: str = Field(description="where it was asked: wechat (official account) or miniprogram")
    lang: str
    question: str
    status: TicketStatus
    answer: str = Field(description="empty until an expert answers")
    answered_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class MyTicketPage(BaseModel):
    items: list[MyTicketOut]
    total: int
    page: int
    page_size: int


class TicketQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TicketStatus | None = None
    page: int = Field(default=1, ge=1, le=1000)
    page_size: int = Field(default=20, ge=1, le=100)


class TicketPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TicketStatus | None = None
    answer: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None

    @model_validator(mode="after")
    def _something(self) -> TicketPatch:
        if self.status is None and self.answer is None:
            raise ValueError("give status, answer or both")
        # "answered" without an answer is checked by the service: the answer may have been stored earlier.
        return self


class UnansweredOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sender_id: str
    user_id: int | None
    text: str
    lang: str
    reason: Literal["out_of_scope", "low_confidence", "handoff"]
    intent: str
    confidence: float | None
    knowledge_answer_id: int | None = Field(default=None, description="the official answer that answered it")
    created_at: dt.datetime


class UnansweredQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["out_of_scope", "low_confidence", "handoff"] | None = None
    page: int = Field(default=1, ge=1, le=1000)
    page_size: int = Field(default=50, ge=1, le=200)


class UnansweredPage(BaseModel):
    items: list[UnansweredOut]
    total: int
    page: int
    page_size: int


# ---------------------------------------------------------------- the action server protocol (Rasa → /bot/actions)
# What rasa_sdk and the actions read from a call, typed; everything else passes through untouched (`extra`), so a
# newer Rasa's additions do not break the endpoint. A call that does not fit is refused (422) before any action
# runs: no action sees a tracker it was not written for.

ACTION_NAME = Annotated[str, StringConstraints(min_length=1, max_length=100)]
SENDER_ID = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class _Passing(BaseModel):
    model_config = ConfigDict(extra="allow")


class TrackerEvent(_Passing):
    event: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    timestamp: float | None = None
    name: str | None = None
    text: str | None = None
    value: Any = None
    metadata: dict[str, Any] | None = None
    input_channel: str | None = None

    @model_validator(mode="after")
    def _slot_named(self) -> TrackerEvent:
        # rasa_sdk reads a slot event's `name` and `value` by key (a form validates each one).
        if self.event == "slot" and (self.name is None or "value" not in self.model_fields_set):
            raise ValueError("a slot event needs its name and value")
        return self


class IntentGuess(_Passing):
    name: str | None = None
    confidence: float | None = None


class EntityFound(_Passing):
    entity: str | None = None
    value: Any = None
    group: str | None = None
    role: str | None = None


class ParsedMessage(_Passing):
    text: str | None = None
    intent: IntentGuess = Field(default_factory=IntentGuess)
    entities: list[EntityFound] = Field(default_factory=list)
    intent_ranking: list[IntentGuess] = Field(default_factory=list)


class ActiveLoop(_Passing):
    name: str | None = None


class TrackerState(_Passing):
    sender_id: SENDER_ID
    slots: dict[str, Any] = Field(default_factory=dict)
    latest_message: ParsedMessage | None = None
    events: list[TrackerEvent] = Field(default_factory=list)
    paused: bool = False
    followup_action: str | None = None
    active_loop: ActiveLoop | None = None
    latest_action_name: str | None = None


class SlotMapping(_Passing):
    conditions: list[dict[str, Any]] = Field(default_factory=list)


class DomainSlot(_Passing):
    mappings: list[SlotMapping] = Field(default_factory=list)


class DomainForm(_Passing):
    required_slots: list[str] = Field(default_factory=list)


class DomainState(_Passing):
    slots: dict[str, DomainSlot] = Field(default_factory=dict)
    forms: dict[str, DomainForm] = Field(default_factory=dict)


class ActionCall(_Passing):
    """One call from Rasa: run `next_action` for the conversation in `tracker`."""

    next_action: ACTION_NAME
    sender_id: SENDER_ID | None = None
    tracker: TrackerState
    domain: DomainState | None = None
    version: str | None = None

    def for_executor(self) -> dict[str, Any]:
        """The call as rasa_sdk's executor takes it: what was sent, with the values read as typed above."""
        return self.model_dump(exclude_unset=True)


# ---------------------------------------------------------------- the knowledge loop (officials' answers)

SourceStatus = Literal["draft", "in_force", "superseded"]
KnowledgeState = Literal["active", "expired", "withdrawn"]


class SourceIn(BaseModel):
    """Where an answer comes from: the document, its article, its date and its status (as the policy facts)."""

    model_config = ConfigDict(extra="forbid")

    document: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]
    article: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    date: dt.date
    status: SourceStatus


class KnowledgeIn(BaseModel):
    """An official's answer to a group of queued questions."""

    model_config = ConfigDict(extra="forbid")

    question_ids: Annotated[list[Annotated[int, Field(ge=1, le=2**62)]], Field(min_length=1, max_length=200)]
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)]
    lang: Literal["zh", "en"] | None = Field(default=None, description="the answer's language; detected when absent")
    intent: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = Field(
        default="", description="the model's intent these questions belong to, or empty for a topic it lacks"
    )
    source: SourceIn
    expires_on: dt.date | None = Field(default=None, description="the last day (China time) it is served")


class KnowledgePatch(BaseModel):
    """Correct an answer, its source or expiry, withdraw it or put it back."""

    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)] | None = None
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)] | None = None
    source: SourceIn | None = None
    expires_on: dt.date | None = None
    status: Literal["active", "withdrawn"] | None = None

    @model_validator(mode="after")
    def _something(self) -> KnowledgePatch:
        if not self.model_fields_set:
            raise ValueError("give question, answer, source, expires_on or status")
        return self


class SourceOut(BaseModel):
    document: str
    article: str
    date: dt.date
    status: SourceStatus


class KnowledgeOut(BaseModel):
    id: int
    question: str
    answer: str
    lang: str
    intent: str
    source: SourceOut
    expires_on: dt.date | None
    region_code: str = Field(description="where it is served: the publishing official's jurisdiction (000000: all)")
    status: Literal["active", "withdrawn"]
    state: KnowledgeState = Field(description="served now (active), past its expiry (expired), or withdrawn")
    examples: int = Field(description="the queued questions it answered: labelled examples for the next training")
    told: int = Field(default=0, description="askers told of it (answered tickets), when it was published")
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class KnowledgePage(BaseModel):
    items: list[KnowledgeOut]
    total: int
    page: int
    page_size: int


class KnowledgeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: KnowledgeState | None = None
    page: int = Field(default=1, ge=1, le=1000)
    page_size: int = Field(default=20, ge=1, le=100)


class QuestionGroupOut(BaseModel):
    """Alike questions still waiting for an answer: answer them once."""

    question_ids: list[int]
    size: int
    askers: int = Field(description="distinct conversations that asked")
    lang: str = Field(description="the language most of them are in")
    questions: list[UnansweredOut]
    first_at: dt.datetime
    last_at: dt.datetime


class QuestionGroupPage(BaseModel):
    items: list[QuestionGroupOut]
    total: int = Field(description="groups")
    questions: int = Field(description="queued questions grouped (the newest `QUEUE_WINDOW` at most)")
    threshold: float
    page: int
    page_size: int


class QuestionGroupQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["out_of_scope", "low_confidence", "handoff"] | None = None
    page: int = Field(default=1, ge=1, le=1000)
    page_size: int = Field(default=20, ge=1, le=100)
