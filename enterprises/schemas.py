from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from enterprises.catalogue import Qualification

RegionCode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{5}$")]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200
    credit_code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=30)]
    region_code: RegionCode
    industry: str = Field(default="", max_length=60)
    legal_representative: str = Field(default="", max_length=60)
    address: str = Field(default="", max_length=300)
    phone: str = Field(default="", max_length=40)


class EnterprisePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200 | None = None
    region_code: RegionCode | None = None
    industry: str | None = Field(default=None, max_length=60)
    legal_representative: str | None = Field(default=None, max_length=60)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=40)


class QualificationIn(BaseModel):
    """An official records (or clears, with `none`) a verified certification."""

    model_config = ConfigDict(extra="forbid")

    qualification: Qualification
    certificate_no: str | None = Field(default=None, min_length=1, max_length=60)
    expires_on: dt.date | None = None


class QualificationOut(BaseModel):
    qualification: Qualification
    label_zh: str
    label_en: str
    certificate_no: str | None
    expires_on: dt.date | None
    # Whether the certification counts today (held and not past its expiry).
    valid: bool
    verified_by: int | None


class EnterpriseOut(BaseModel):
    id: int
    name: str
    credit_code: str
    region_code: str
    industry: str
    legal_representative: str
    address: str
    phone: str
    qualification: QualificationOut
    # `verified`, or for an enterprise its own staff registered: `pending` until an official verifies it, `rejected`.
    verification: str = "verified"
    created_at: dt.datetime
    updated_at: dt.datetime


class EnterpriseQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, max_length=100)
    region: RegionCode | None = None
    qualification: Qualification | None = None
    verification: Literal["verified", "pending", "rejected"] | None = None
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=20, ge=1, le=100)


class EnterprisePage(BaseModel):
    items: list[EnterpriseOut]
    total: int
    page: int
    page_size: int
