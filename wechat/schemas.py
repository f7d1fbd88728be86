"""Request and response bodies of the WeChat domain's JSON API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from accounts.schemas import MeOut


class WeChatLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._\-]+$", description="wx.login's code")


class WeChatLoginOut(BaseModel):
    token: str
    expires_at: dt.datetime
    user: MeOut
    created: bool = Field(description="true when this login created the account")
    enterprise_bound: bool = Field(description="false until an official binds the account to an enterprise")


ConsentResult = Literal["accept", "reject", "ban", "filter"]


class ConsentsIn(BaseModel):
    """The result object of the mini-program's `wx.requestSubscribeMessage`: template id -> the user's choice."""

    model_config = ConfigDict(extra="forbid")

    results: dict[str, ConsentResult] = Field(min_length=1, max_length=10)


class ConsentOut(BaseModel):
    template_id: str
    purpose: str
    remaining: int = Field(description="sends still allowed: one per consent")
    granted_total: int
    used_total: int


class ConsentsOut(BaseModel):
    templates: list[ConsentOut]
