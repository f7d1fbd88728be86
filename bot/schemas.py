"""Request and response models of the assistant's HTTP surface."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

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
