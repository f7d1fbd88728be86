"""Credit objections: agency staff object to a deduction recorded against their agency, with a reason and evidence,
within `credit.OBJECTION_PERIOD_DAYS`; the rating shows "under objection" until an official decides. Upheld, the
event stands; reversed, it is reversed like any other event (`credit_events.reverse`: a reversal event, the score
recomputed from the record, the history and `RatingChanged`). The decision is published (`CreditObjectionDecided`)
so the push outbox tells whoever objected; every step is in the agency audit.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies import audit, repository
from agencies.credit import decision_due, objection_deadline, objectionable_problem
from agencies.credit_events import event_out, reverse, settle_objection
from agencies.errors import (
    CreditEventNotFound,
    NotObjectionable,
    ObjectionDecided,
    ObjectionExists,
    ObjectionNotFound,
    ObjectionPeriodOver,
)
from agencies.lookup import existing_agency
from agencies.models import Agency, CreditEvent, CreditObjection
from agencies.permissions import PERMISSIONS, Action, check_agency_region, check_own_agency
from agencies.schemas import (
    DecisionIn,
    ObjectionIn,
    ObjectionOut,
    ObjectionQuery,
    ObjectionResult,
    ObjectionsOut,
    ObjectionState,
)
from agencies.search import invalidate_search
from agencies.serialisers import rating_out
from core.auth import Principal
from core.cache import Cache
from core.db import utcnow
from core.events import CreditObjectionDecided, publish


def objection_out(
    objection: CreditObjection, event: CreditEvent, agency_name: str, baseline_event_id: int | None
) -> ObjectionOut:
    state: ObjectionState = "pending"
    if objection.state in ("upheld", "reversed"):
        state = "upheld" if objection.state == "upheld" else "reversed"
    return ObjectionOut(
        id=objection.id,
        agency_id=objection.agency_id,
        agency_name=agency_name,
        event=event_out(
            event,
            reversed_by=objection.reversal_event_id,
            baseline_event_id=baseline_event_id,
            objection=objection,
        ),
        reason=objection.reason,
        evidence=objection.evidence,
        state=state,
        filed_by=objection.filed_by,
        filed_at=objection.filed_at,
        decision_due=decision_due(objection.filed_at),
        decision_reason=objection.decision_reason,
        decision_reference_doc=objection.decision_reference_doc,
        decided_by=objection.decided_by,
        decided_at=objection.decided_at,
        reversal_event_id=objection.reversal_event_id,
    )


async def file_objection(
    session: AsyncSession,
    cache: Cache,
    principal: Principal | None,
    agency_id: int,
    event_id: int,
    body: ObjectionIn,
) -> ObjectionResult:
    """Staff of the agency object to one of its counted deductions, once, within the period; 409 otherwise."""
    acting = PERMISSIONS.check(principal, Action.OBJECT)
    check_own_agency(acting, Action.OBJECT, agency_id)
    agency = await existing_agency(session, agency_id, for_update=True)
    event = await repository.event(session, agency_id, event_id)
    if event is None:
        raise CreditEventNotFound(f"agency {agency_id} has no credit event {event_id}")
    problem = objectionable_problem(event.points, is_reversal=event.reverses_event_id is not None)
    if problem is not None:
        raise NotObjectionable(problem)
    if await repository.objection_for_event(session, event.id) is not None:
        raise ObjectionExists(f"credit event {event_id} has been objected to already")
    if await repository.reversal_of(session, event.id) is not None:
        raise NotObjectionable(f"credit event {event_id} was reversed already: it no longer counts")
    if agency.baseline_event_id is not None and event.id <= agency.baseline_event_id:
        raise NotObjectionable(
            f"credit event {event_id} is part of the official evaluation of {agency.evaluated_on}; "
            "object to that evaluation with the office that published it"
        )
    deadline = objection_deadline(event.created_at)
    if utcnow() > deadline:
        raise ObjectionPeriodOver(
            f"the period to object to credit event {event_id} ended on {deadline.date().isoformat()} "
            "(30 days after it was recorded)"
        )
    objection = CreditObjection(
        agency_id=agency.id,
        event_id=event.id,
        reason=body.reason,
        evidence=body.evidence,
        state="pending",
        filed_by=acting.user_id,
        filed_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(objection)
            await session.flush()
    except IntegrityError:
        raise ObjectionExists(f"credit event {event_id} has been objected to already") from None
    agency.objections_open += 1
    audit.record(
        session,
        acting,
        agency.id,
        audit.Subject.OBJECTION,
        objection.id,
        audit.AuditAction.OBJECTION_FILED,
        f"event #{event.id}: {body.reason}",
    )
    await session.flush()
    invalidate_search(session, cache)  # result cards show "under objection"
    return ObjectionResult(
        objection=objection_out(objection, event, agency.name_zh, agency.baseline_event_id), rating=rating_out(agency)
    )


async def decide(
    session: AsyncSession,
    cache: Cache,
    principal: Principal | None,
    agency_id: int,
    objection_id: int,
    body: DecisionIn,
) -> ObjectionResult:
    """An official upholds the event or reverses it, with a reason; 409 when the objection was decided already."""
    acting = PERMISSIONS.check(principal, Action.DECIDE_OBJECTION)
    agency = await existing_agency(session, agency_id, for_update=True)
    check_agency_region(acting, Action.DECIDE_OBJECTION, agency.id, agency.region_code)
    objection = await repository.objection(session, agency_id, objection_id, for_update=True)
    if objection is None:
        raise ObjectionNotFound(f"agency {agency_id} has no objection {objection_id}")
    if objection.state != "pending":
        raise ObjectionDecided(f"objection {objection_id} was decided already: {objection.state}")
    event = await repository.event(session, agency_id, objection.event_id)
    if event is None:  # the foreign key keeps it; a guard for the type checker
        raise CreditEventNotFound(f"agency {agency_id} has no credit event {objection.event_id}")
    reversal_id = None
    if body.outcome == "reversed":
        reversal = await reverse(
            session, cache, acting, agency, event, reason=body.reason, reference_doc=body.reference_doc
        )
        reversal_id = reversal.id
    settle_objection(
        session,
        acting,
        agency,
        objection,
        outcome=body.outcome,
        reason=body.reason,
        reference_doc=body.reference_doc,
        reversal_event_id=reversal_id,
    )
    await session.flush()
    invalidate_search(session, cache)
    await publish(
        session,
        CreditObjectionDecided(
            objection_id=objection.id,
            agency_id=agency.id,
            agency_name=agency.name_zh,
            event_id=event.id,
            outcome=body.outcome,
            reason=body.reason,
            filed_by=objection.filed_by,
            new_level=agency.credit_level,
            new_score=agency.credit_score,
        ),
    )
    return ObjectionResult(
        objection=objection_out(objection, event, agency.name_zh, agency.baseline_event_id), rating=rating_out(agency)
    )


async def list_objections(session: AsyncSession, principal: Principal | None, query: ObjectionQuery) -> ObjectionsOut:
    """Officials: every agency's (or one agency's); agency staff: their own agency's; staff of none: nothing."""
    acting = PERMISSIONS.check(principal, Action.READ_OBJECTIONS)
    scope = PERMISSIONS.scope(acting, Action.READ_OBJECTIONS)
    rows = await repository.objections(
        session,
        scope.where(agency=CreditObjection.agency_id, region=Agency.region_code),
        state=query.state,
        agency_id=query.agency_id,
        limit=query.limit,
    )
    return ObjectionsOut(items=[objection_out(o, e, name, baseline) for o, e, name, baseline in rows])
