"""The planner as the API and the chat call it: the profile and the centres loaded, then the pure `planner.plan`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Principal, Role
from enterprises.service import get_enterprise_summary
from fast_track.centres import all_centres
from fast_track.drafts import Draft, draft
from fast_track.planner import Profile, plan
from fast_track.rules import load_rules
from fast_track.schemas import DraftQuery, PlanAnswer, PlanRequest


async def profile_of(session: AsyncSession, principal: Principal | None) -> Profile | None:
    """A signed-in enterprise user's profile: its region, and its qualification when verified and unexpired.

    Enterprise staff not yet bound to an enterprise get an empty profile (the answer says none was used); anyone
    else (anonymous, agency staff, officials) has none.
    """
    if principal is None or principal.role is not Role.ENTERPRISE:
        return None
    if principal.enterprise_id is None:
        return Profile(enterprise_id=None)
    summary = await get_enterprise_summary(session, principal.enterprise_id)
    if summary is None:
        return Profile(enterprise_id=None)
    verified = summary.verification == "verified"
    qualification = summary.qualification_on(dt.date.today()).value if verified else None
    return Profile(
        enterprise_id=summary.id,
        name=summary.name,
        region_code=summary.region_code,
        qualification=qualification,
        verified=verified,
    )


async def plan_for(session: AsyncSession, principal: Principal | None, request: PlanRequest) -> PlanAnswer:
    """The ranked plan for one application; what the caller's enterprise profile knows is filled in."""
    profile = await profile_of(session, principal)
    return plan(request, load_rules(), await all_centres(session), profile)


async def draft_for(session: AsyncSession, principal: Principal | None, query: DraftQuery) -> Draft:
    """The drafted .docx for the plan of the same inputs (409 when the plan rules the route out)."""
    profile = await profile_of(session, principal)
    rules = load_rules()
    answer = plan(query.plan_request(), rules, await all_centres(session), profile)
    return draft(query, answer, rules, profile)
