"""The agency audit: an append-only line for every action on an agency's credit record and reviews — who (user and
role), what, on which event, objection or review, when, and the reason given. Officials and the agency's own staff
read it (`GET /api/v1/agencies/{id}/audit`)."""

from __future__ import annotations

import enum

from sqlalchemy.ext.asyncio import AsyncSession

from agencies import repository
from agencies.lookup import existing_agency
from agencies.models import AgencyAudit
from agencies.permissions import PERMISSIONS, Action, check_agency_region, check_own_agency
from agencies.schemas import AuditEntryOut, AuditOut
from core.auth import Principal
from core.db import utcnow


class Subject(enum.StrEnum):
    CREDIT_EVENT = "credit_event"
    OBJECTION = "objection"
    REVIEW = "review"


class AuditAction(enum.StrEnum):
    EVENT_RECORDED = "event_recorded"
    EVENT_REVERSED = "event_reversed"
    OBJECTION_FILED = "objection_filed"
    OBJECTION_UPHELD = "objection_upheld"
    OBJECTION_REVERSED = "objection_reversed"
    REVIEW_WRITTEN = "review_written"
    REVIEW_REPLIED = "review_replied"
    REVIEW_HIDDEN = "review_hidden"
    REVIEW_RESTORED = "review_restored"


def record(
    session: AsyncSession,
    acting: Principal,
    agency_id: int,
    subject: Subject,
    subject_id: int,
    action: AuditAction,
    note: str = "",
) -> None:
    """Add the audit line to the unit of work (it commits, or rolls back, with the action it records)."""
    session.add(
        AgencyAudit(
            agency_id=agency_id,
            subject=subject.value,
            subject_id=subject_id,
            action=action.value,
            actor_id=acting.user_id,
            actor_role=acting.role.value,
            note=note,
            at=utcnow(),
        )
    )


async def audit_of(session: AsyncSession, principal: Principal | None, agency_id: int) -> AuditOut:
    acting = PERMISSIONS.check(principal, Action.READ_AUDIT)
    check_own_agency(acting, Action.READ_AUDIT, agency_id)
    agency = await existing_agency(session, agency_id)
    check_agency_region(acting, Action.READ_AUDIT, agency.id, agency.region_code)
    rows = await repository.audit_of(session, agency_id)
    return AuditOut(agency_id=agency_id, items=[AuditEntryOut.model_validate(row) for row in rows])
