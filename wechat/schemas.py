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


# ---------------------------------------------------------------- signing in to the phone view


class OAuthStartQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    next: str | None = Field(default=None, max_length=1000, description="the phone-view page to return to, e.g. /m/")


class OAuthCallbackQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: str = Field(default="", max_length=1000, description="WeChat's one-time authorization code")
    state: str = Field(default="", max_length=1000, description="the state we sent; bound to this browser")


class SignInLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$", description="the link's token")


class SignedInOut(BaseModel):
    token: str
    token_type: str = "Bearer"
    expires_at: dt.datetime
    user: MeOut
    next: str = Field(description="the phone-view page the link was for ('' when none)")


class FollowerLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$", description="the link's token")


class JsSdkQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=1000, description="the phone-view page's full URL (fragment ignored)")


class JsSdkConfigOut(BaseModel):
    """What `wx.config` takes (debug off): sign the page, then share it with a title, description and image."""

    appId: str
    timestamp: int
    nonceStr: str
    signature: str
    jsApiList: list[str]


QrKind = Literal["agency", "program"]


class ScanRowOut(BaseModel):
    scene: str
    kind: QrKind
    target_id: int
    new_followers: int = Field(description="scans that made a new follower (subscribe with the scene)")
    follower_scans: int = Field(description="scans by people who already followed (SCAN)")
    total: int
    created_at: dt.datetime
    last_scan_at: dt.datetime | None


class ScanReportOut(BaseModel):
    items: list[ScanRowOut]
