from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.auth import Role

USERNAME_PATTERN = r"^[A-Za-z0-9_.\-@]{3,64}$"
REGION_PATTERN = r"^[0-9]{6}$"


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
    region_code: str | None = None
    is_admin: bool = False


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
    # Officials' jurisdiction; an official made without one (the command line, seeders) is a national official.
    region_code: str | None = Field(default=None, pattern=REGION_PATTERN)
    is_admin: bool = False


# ---------------------------------------------------------------- onboarding

Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9\- ]{5,18}$")]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
CreditCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=30)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{5}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class NewEnterprise(BaseModel):
    """An enterprise not registered yet, as its staff member describes it; an official verifies it."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    region_code: RegionCode
    industry: str = Field(default="", max_length=60)


class BindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credit_code: CreditCode
    person_name: PersonName
    phone: Phone
    # Only when the credit code is not registered yet: the user registers the enterprise.
    enterprise: NewEnterprise | None = None


MembershipStatus = Literal["pending", "approved", "rejected", "removed"]


class MembershipOut(BaseModel):
    id: int
    user_id: int
    enterprise_id: int
    enterprise_name: str
    credit_code: str
    enterprise_region_code: str
    enterprise_verification: str
    person_name: str
    phone: str
    status: MembershipStatus
    registered_enterprise: bool
    is_admin: bool
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: int | None
    reason: str


class MembershipQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: MembershipStatus | None = None
    enterprise_id: int | None = Field(default=None, ge=1)
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=50, ge=1, le=200)


class MembershipPage(BaseModel):
    items: list[MembershipOut]
    total: int
    page: int
    page_size: int


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["verified", "rejected"]
    reason: str = Field(default="", max_length=500)


class VerificationOut(BaseModel):
    enterprise_id: int
    verification: str
    memberships: list[MembershipOut]


class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invitee_name: str = Field(default="", max_length=60)
    valid_hours: int = Field(default=72, ge=1, le=720)


class InvitationOut(BaseModel):
    id: int
    agency_id: int
    invitee_name: str
    created_by: int
    created_at: dt.datetime
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    accepted_by: int | None
    revoked_at: dt.datetime | None
    state: Literal["open", "accepted", "expired", "revoked"]


class InvitationCreated(InvitationOut):
    # Shown once: only its hash is stored.
    code: str
    link: str


class AcceptIn(BaseModel):
    """Accept with a signed-in mini-program user's bearer token (no fields but the code), or make a password
    account (username and password)."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=100)]
    username: str | None = Field(default=None, pattern=USERNAME_PATTERN)
    password: Password | None = None
    display_name: str = Field(default="", max_length=100)


class AcceptOut(BaseModel):
    user: MeOut
    # A new password account is signed in at once; a WeChat user keeps their token.
    token: str | None = None
    expires_at: dt.datetime | None = None


class OfficialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN)
    password: Password
    display_name: str = Field(default="", max_length=100)
    region_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
    is_admin: bool = False


class OfficialOut(BaseModel):
    user_id: int
    username: str | None
    display_name: str
    region_code: str
    is_admin: bool
    is_active: bool
    created_at: dt.datetime


class OfficialQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_inactive: bool = False


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_password: Password


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: Password


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str | None = Field(default=None, max_length=40)
    user_id: int | None = Field(default=None, ge=1)
    enterprise_id: int | None = Field(default=None, ge=1)
    agency_id: int | None = Field(default=None, ge=1)
    region: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = None
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=50, ge=1, le=200)


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    action: str
    actor_user_id: int | None
    subject_user_id: int | None
    enterprise_id: int | None
    agency_id: int | None
    region_code: str
    note: str


class AuditPage(BaseModel):
    items: list[AuditOut]
    page: int
    page_size: int
