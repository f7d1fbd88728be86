"""Credit events: officials record deductions and bonuses (and reverse them by recording the opposite); the score
and level follow in the same transaction, and every change is kept in the rating history and announced."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies import audit, repository
from agencies.credit import CATEGORIES, OBJECTION_PERIOD_DAYS, compute_score, level_for, objection_deadline
from agencies.errors import AlreadyReversed, CreditEventNotFound, NotReversible
from agencies.lookup import existing_agency
from agencies.models import Agency, CreditEvent, CreditObjection, RatingHistory
from agencies.permissions import PERMISSIONS, Action, check_agency_region, check_own_agency
from agencies.schemas import (
    CreditEventIn,
    CreditEventOut,
    CreditEventResult,
    CreditRecord,
    ObjectionState,
    ReverseIn,
)
from agencies.search import invalidate_search
from agencies.serialisers import rating_out
from core.auth import Principal
from core.cache import Cache
from core.db import utcnow
from core.events import RatingChanged, publish


async def _rescore(
    session: AsyncSession,
    cache: Cache,
    agency: Agency,
    *,
    cause: str,
    acting: Principal,
    event_id: int | None = None,
    note: str = "",
) -> None:
    """Recompute the score from the baseline and the live events; record and announce a change.

    The caller holds the agency's row lock (or SQLite's write lock), so the events read here include every event
    committed before ours: two concurrent events are both counted.
    """
    events = await repository.counted_events(session, agency.id, agency.baseline_event_id)
    result = compute_score(events, baseline=agency.credit_baseline)
    await apply_rating(session, cache, agency, result.score, cause=cause, acting=acting, event_id=event_id, note=note)


async def apply_rating(
    session: AsyncSession,
    cache: Cache,
    agency: Agency,
    score: int,
    *,
    cause: str,
    acting: Principal,
    event_id: int | None = None,
    note: str = "",
) -> bool:
    """Give the agency `score` and its level; when either changes, record it, drop cached searches after the
    commit and announce it (RatingChanged). Whether it changed."""
    level = level_for(score).value
    old_score, old_level = agency.credit_score, agency.credit_level
    if (score, level) == (old_score, old_level):
        return False
    now = utcnow()
    agency.credit_score = score
    agency.credit_level = level
    agency.rating_updated_at = now
    session.add(
        RatingHistory(
            agency_id=agency.id,
            score=score,
            level=level,
            previous_score=old_score,
            previous_level=old_level,
            cause=cause,
            credit_event_id=event_id,
            note=note,
            changed_by=acting.user_id,
            changed_at=now,
        )
    )
    await session.flush()
    invalidate_search(session, cache)
    await publish(
        session,
        RatingChanged(
            agency_id=agency.id,
            agency_name=agency.name_zh,
            old_level=old_level,
            new_level=level,
            old_score=old_score,
            new_score=score,
            cause=cause,
        ),
    )
    return True


def event_out(
    event: CreditEvent,
    *,
    reversed_by: int | None,
    baseline_event_id: int | None,
    objection: CreditObjection | None = None,
    now: dt.datetime | None = None,
) -> CreditEventOut:
    category = CATEGORIES.get(event.category)
    counted = (
        event.reverses_event_id is None
        and reversed_by is None
        and (baseline_event_id is None or event.id > baseline_event_id)
    )
    objectionable_until = None
    if counted and objection is None and event.points < 0:
        deadline = objection_deadline(event.created_at)
        if deadline >= (now or utcnow()):
            objectionable_until = deadline
    return CreditEventOut(
        id=event.id,
        agency_id=event.agency_id,
        category=event.category,
        category_label=category.label.zh if category else event.category,
        points=event.points,
        reason=event.reason,
        reference_doc=event.reference_doc,
        reverses_event_id=event.reverses_event_id,
        reversed_by_event_id=reversed_by,
        counted=counted,
        created_by=event.created_by,
        created_at=event.created_at,
        objection_id=None if objection is None else objection.id,
        objection_state=None if objection is None else cast(ObjectionState, objection.state),
        objectionable_until=objectionable_until,
    )


async def record_event(
    session: AsyncSession, cache: Cache, principal: Principal | None, agency_id: int, body: CreditEventIn
) -> CreditEventResult:
    """An official records a deduction or bonus; the score and level follow in the same transaction."""
    acting = PERMISSIONS.check(principal, Action.RECORD_CREDIT)
    agency = await existing_agency(session, agency_id, for_update=True)
    check_agency_region(acting, Action.RECORD_CREDIT, agency.id, agency.region_code)
    event = CreditEvent(
        agency_id=agency.id,
        points=body.points,
        category=body.category,
        reason=body.reason,
        reference_doc=body.reference_doc,
        created_by=acting.user_id,
        created_at=utcnow(),
    )
    session.add(event)
    await session.flush()
    audit.record(
        session,
        acting,
        agency.id,
        audit.Subject.CREDIT_EVENT,
        event.id,
        audit.AuditAction.EVENT_RECORDED,
        f"{event.category} {event.points}: {body.reason}",
    )
    await _rescore(session, cache, agency, cause="event", acting=acting, event_id=event.id, note=body.reason)
    return CreditEventResult(
        event=event_out(event, reversed_by=None, baseline_event_id=agency.baseline_event_id),
        rating=rating_out(agency),
    )


async def reverse_event(
    session: AsyncSession,
    cache: Cache,
    principal: Principal | None,
    agency_id: int,
    event_id: int,
    body: ReverseIn,
) -> CreditEventResult:
    """Withdraw an event by recording its opposite (events are never deleted); the rating is recomputed. An
    objection still waiting on the event is settled by it: reversed, with this reason."""
    acting = PERMISSIONS.check(principal, Action.RECORD_CREDIT)
    agency = await existing_agency(session, agency_id, for_update=True)
    check_agency_region(acting, Action.RECORD_CREDIT, agency.id, agency.region_code)
    original = await repository.event(session, agency_id, event_id)
    if original is None:
        raise CreditEventNotFound(f"agency {agency_id} has no credit event {event_id}")
    reversal = await reverse(
        session, cache, acting, agency, original, reason=body.reason, reference_doc=body.reference_doc
    )
    pending = await repository.objection_for_event(session, original.id, for_update=True)
    if pending is not None and pending.state == "pending":
        settle_objection(
            session,
            acting,
            agency,
            pending,
            outcome="reversed",
            reason=body.reason,
            reference_doc=body.reference_doc,
            reversal_event_id=reversal.id,
        )
        invalidate_search(session, cache)
    return CreditEventResult(
        event=event_out(reversal, reversed_by=None, baseline_event_id=agency.baseline_event_id),
        rating=rating_out(agency),
    )


async def reverse(
    session: AsyncSession,
    cache: Cache,
    acting: Principal,
    agency: Agency,
    original: CreditEvent,
    *,
    reason: str,
    reference_doc: str,
) -> CreditEvent:
    """Record the opposite of `original` and recompute the score from the record (the one way an event stops
    counting). The caller holds the agency's row lock. 409 for a reversal, an event reversed already, or one that
    is part of an official evaluation."""
    if original.reverses_event_id is not None:
        raise NotReversible("this event is itself a reversal; record a new event instead")
    if await repository.reversal_of(session, original.id) is not None:
        raise AlreadyReversed(f"credit event {original.id} was already reversed")
    if agency.baseline_event_id is not None and original.id <= agency.baseline_event_id:
        raise NotReversible(
            f"credit event {original.id} is part of the official evaluation of {agency.evaluated_on}; "
            "import a corrected result instead"
        )
    reversal = CreditEvent(
        agency_id=agency.id,
        points=-original.points,
        category=original.category,
        reason=reason,
        reference_doc=reference_doc,
        reverses_event_id=original.id,
        created_by=acting.user_id,
        created_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(reversal)
            await session.flush()
    except IntegrityError:
        raise AlreadyReversed(f"credit event {original.id} was already reversed") from None
    audit.record(
        session,
        acting,
        agency.id,
        audit.Subject.CREDIT_EVENT,
        original.id,
        audit.AuditAction.EVENT_REVERSED,
        f"reversal #{reversal.id}: {reason}",
    )
    await _rescore(session, cache, agency, cause="reversal", acting=acting, event_id=reversal.id, note=reason)
    return reversal


def settle_objection(
    session: AsyncSession,
    acting: Principal,
    agency: Agency,
    objection: CreditObjection,
    *,
    outcome: str,
    reason: str,
    reference_doc: str,
    reversal_event_id: int | None,
) -> None:
    """Close a pending objection (the caller holds the agency's row lock): the decision, who and when, one fewer
    objection open on the agency, and the audit line."""
    objection.state = outcome
    objection.decision_reason = reason
    objection.decision_reference_doc = reference_doc
    objection.decided_by = acting.user_id
    objection.decided_at = utcnow()
    objection.reversal_event_id = reversal_event_id
    agency.objections_open = max(0, agency.objections_open - 1)
    action = audit.AuditAction.OBJECTION_REVERSED if outcome == "reversed" else audit.AuditAction.OBJECTION_UPHELD
    audit.record(session, acting, agency.id, audit.Subject.OBJECTION, objection.id, action, reason)


async def credit_record(session: AsyncSession, principal: Principal | None, agency_id: int) -> CreditRecord:
    acting = PERMISSIONS.check(principal, Action.READ_CREDIT_RECORD)
    check_own_agency(acting, Action.READ_CREDIT_RECORD, agency_id)
    agency = await existing_agency(session, agency_id)
    check_agency_region(acting, Action.READ_CREDIT_RECORD, agency.id, agency.region_code)
    events = await repository.events_of(session, agency_id)
    reversed_by = {e.reverses_event_id: e.id for e in events if e.reverses_event_id is not None}
    objections = {o.event_id: o for o in await repository.objections_of_agency(session, agency_id)}
    now = utcnow()
    return CreditRecord(
        agency_id=agency_id,
        rating=rating_out(agency),
        baseline=agency.credit_baseline,
        events=[
            event_out(
                e,
                reversed_by=reversed_by.get(e.id),
                baseline_event_id=agency.baseline_event_id,
                objection=objections.get(e.id),
                now=now,
            )
            for e in events
        ],
        objection_period_days=OBJECTION_PERIOD_DAYS,
    )
