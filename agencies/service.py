"""The agencies domain as other domains see it: what they may call is named here, and only here.

Inside the package each concern has its module: `search`, `profiles`, `credit_events`, `credit_import`, `follows`,
`reviews`, `lookup` (finding an agency, and the summaries below). Writes check `agencies.permissions` with the
acting principal, `flush()` but never commit (the request's unit of work does), and drop cached searches only
after the commit.

Reviews need a delivered voucher service, which vouchers knows: `vouchers.reviews` checks the agencies' rule
(PERMISSIONS, Action.REVIEW), that the agency exists (`ensure_agency`) and the redemption, then `record_review`.
"""

from __future__ import annotations

from agencies.errors import NoDeliveredService
from agencies.follows import follower_user_ids
from agencies.lookup import (
    AgencyContact,
    AgencySummary,
    ServicePrice,
    ensure_agency,
    get_agency_contact,
    get_agency_summary,
    participating_agencies,
)
from agencies.permissions import PERMISSIONS, Action
from agencies.reviews import record_review
from agencies.schemas import ReviewIn, ReviewOut
from agencies.search import SearchJson, search

__all__ = [
    "PERMISSIONS",
    "Action",
    "AgencyContact",
    "AgencySummary",
    "NoDeliveredService",
    "ReviewIn",
    "ReviewOut",
    "SearchJson",
    "ServicePrice",
    "ensure_agency",
    "follower_user_ids",
    "get_agency_contact",
    "get_agency_summary",
    "participating_agencies",
    "record_review",
    "search",
]
