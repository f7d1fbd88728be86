from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from core.auth import Role

USERNAME_PATTERN = r"^[A-Za-z0-9_.\-@]{3,64}$"


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class MeOut(BaseModel):
    user_id: int
    username: str | None
    display_name: str
    role: Role
    agency_id: int | None
    enterprise_id: int | None


class TokenOut(BaseModel):
    token: str
    token_type: str = "Bearer"
    expires_at: dt.datetime
    user: MeOut


class NewUser(BaseModel):
    """What `create-user` (and officials, later) give to create an account."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=8, max_length=256)
    display_name: str = Field(default="", max_length=100)
    agency_id: int | None = Field(default=None, ge=1)
    enterprise_id: int | None = Field(default=None, ge=1)
