"""The enterprises domain as other domains see it: what they may call is named here, and only here.

Inside the package: `lookup` (finding an enterprise, and the summaries below) and `profiles` (the API's
operations, each checking `enterprises.permissions` with the acting principal).
"""

from __future__ import annotations

from enterprises.lookup import (
    EnterpriseSummary,
    enterprise_summaries,
    enterprises_by_credit_code,
    get_enterprise_summary,
)

__all__ = [
    "EnterpriseSummary",
    "enterprise_summaries",
    "enterprises_by_credit_code",
    "get_enterprise_summary",
]
