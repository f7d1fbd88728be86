"""The enterprises domain as other domains see it: what they may call is named here, and only here.

Inside the package: `lookup` (finding an enterprise, and the summaries below) and `profiles` (the API's
operations, each checking `enterprises.permissions` with the acting principal).
"""

from __future__ import annotations

from enterprises.lookup import (
    EnterpriseSummary,
    enterprise_by_credit_code,
    enterprise_summaries,
    enterprises_by_credit_code,
    get_enterprise_summary,
    region_of,
)
from enterprises.registration import register_pending, set_verification

__all__ = [
    "EnterpriseSummary",
    "enterprise_by_credit_code",
    "enterprise_summaries",
    "enterprises_by_credit_code",
    "get_enterprise_summary",
    "region_of",
    "register_pending",
    "set_verification",
]
