"""The agencies domain as other domains see it: what they may call is named here, and only here.

Inside the package each concern has its module: `search`, `profiles`, `credit_events`, `credit_import`, `follows`,
`reviews`, `lookup` (finding an agency, and the summaries below). Writes check `agencies.permissions` with the
acting principal, `flush()` but never commit (the request's unit of work does), and drop cached searches only
after the commit.
"""

from __future__ import annotations

from agencies.follows import follower_user_ids
from agencies.lookup import AgencySummary, ServicePrice, get_agency_summary, participating_agencies
from agencies.search import SearchJson, search

__all__ = [
    "AgencySummary",
    "SearchJson",
    "ServicePrice",
    "follower_user_ids",
    "get_agency_summary",
    "participating_agencies",
    "search",
]
