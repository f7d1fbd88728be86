"""Reviews: enterprise staff review an agency after a voucher-paid service there was delivered, one per redemption;
the agency answers each once; an official hides an abusive one with a reason.

Whether a redemption was delivered is the vouchers domain's knowledge, and vouchers builds on agencies: so the review
is written through `vouchers.reviews`, which checks the redemption and then calls `record_review` here.

The visible reviews' count and sum are also kept on the agency row (`review_count`, `review_total`), so result
cards show the average without a join; each write changes them in one atomic UPDATE and drops cached searches after
the commit. `record_review` is called from vouchers, which has no cache at hand: it publishes `ReviewsChanged`, and
the subscriber `setup` installs drops the cached searches.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies import audit, repository
from agencies.errors import (
    AlreadyReplied,
    AlreadyReviewed,
    NoDeliveredService,
    ReviewHidden,
    ReviewNotFound,
    ReviewNotHidden,
)
from agencies.lookup import existing_agency
from agencies.models import Agency, Review
from agencies.permissions import PERMISSIONS, Action, check_agency_region, check_own_agency
from agencies.schemas import HideIn, ReplyIn, RestoreIn, ReviewIn, ReviewOut, ReviewsOut, ReviewSummary
from agencies.search import invalidate_search
from agencies.serialisers import review_summary_out
from core.auth import Principal, Role, Scope
from core.cache import Cache
from core.db import utcnow
from core.events import EVENTS, publish
from core.state import CACHE


@dataclass(frozen=True, slots=True)
class ReviewsChanged:
    """An agency's visible reviews changed (a new one, or one hidden): its result cards are out of date."""

    agency_id: int


def setup(app: web.Application) -> None:
    """Drop cached searches after a review written through vouchers (which holds no cache) commits."""

    async def drop_cached_searches(session: AsyncSession, _event: ReviewsChanged) -> None:
        invalidate_search(session, app[CACHE])

    app[EVENTS].subscribe(ReviewsChanged, drop_cached_searches)


def review_out(review: Review, viewer: Principal | None) -> ReviewOut:
    """A review as `viewer` may see it: whose redemption it was only for officials and the writer's enterprise."""
    mine = viewer is not None and viewer.role is Role.ENTERPRISE and viewer.enterprise_id == review.enterprise_id
    hidden = review.hidden_at is not None
    return ReviewOut(
        id=review.id,
        agency_id=review.agency_id,
        rating=review.rating,
        comment=review.comment,
        created_at=review.created_at,
        reply=review.reply,
        replied_at=review.replied_at,
        hidden=hidden,
        hidden_reason=review.hidden_reason if hidden else None,
        hidden_at=review.hidden_at,
        mine=mine,
        redemption_id=review.redemption_id if mine or (viewer is not None and viewer.is_official) else None,
    )


async def record_review(session: AsyncSession, acting: Principal, agency_id: int, body: ReviewIn) -> ReviewOut:
    """Store the acting enterprise's review of the agency, one per redemption (409 for a second). The caller has
    checked that `acting` may review (agencies.permissions, Action.REVIEW) and that the redemption is a delivered
    service of its enterprise at this agency."""
    await existing_agency(session, agency_id)
    if acting.enterprise_id is None:
        raise NoDeliveredService()
    if await repository.review_for_redemption(session, body.redemption_id) is not None:
        raise AlreadyReviewed(f"redemption {body.redemption_id} has been reviewed already")
    review = Review(
        agency_id=agency_id,
        enterprise_id=acting.enterprise_id,
        user_id=acting.user_id,
        redemption_id=body.redemption_id,
        rating=body.rating,
        comment=body.comment,
        created_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(review)
            await session.flush()
    except IntegrityError:
        raise AlreadyReviewed(f"redemption {body.redemption_id} has been reviewed already") from None
    await repository.add_to_review_totals(session, agency_id, count=1, total=body.rating)
    audit.record(
        session,
        acting,
        agency_id,
        audit.Subject.REVIEW,
        review.id,
        audit.AuditAction.REVIEW_WRITTEN,
        f"{body.rating}/5 for redemption #{body.redemption_id}",
    )
    await publish(session, ReviewsChanged(agency_id=agency_id))
    return review_out(review, acting)


async def reply(
    session: AsyncSession, principal: Principal | None, agency_id: int, review_id: int, body: ReplyIn
) -> ReviewOut:
    """Staff of the reviewed agency answer a visible review, once (409 already_replied / review_hidden)."""
    acting = PERMISSIONS.check(principal, Action.REPLY_REVIEW)
    check_own_agency(acting, Action.REPLY_REVIEW, agency_id)
    review = await _existing_review(session, agency_id, review_id)
    if review.hidden_at is not None:
        raise ReviewHidden(f"review {review_id} was hidden by an official; it cannot be answered")
    now = utcnow()
    if not await repository.claim_review_change(
        session,
        review.id,
        unset=Review.reply,
        values={"reply": body.reply, "replied_by": acting.user_id, "replied_at": now},
    ):
        raise AlreadyReplied(f"review {review_id} has been answered already; an agency answers once")
    audit.record(
        session, acting, agency_id, audit.Subject.REVIEW, review.id, audit.AuditAction.REVIEW_REPLIED, body.reply
    )
    await session.refresh(review)
    return review_out(review, acting)


async def hide(
    session: AsyncSession, cache: Cache, principal: Principal | None, agency_id: int, review_id: int, body: HideIn
) -> ReviewOut:
    """An official hides an abusive review with a reason: out of the public list, the average and result cards."""
    acting = PERMISSIONS.check(principal, Action.HIDE_REVIEW)
    agency = await existing_agency(session, agency_id)
    check_agency_region(acting, Action.HIDE_REVIEW, agency.id, agency.region_code)
    review = await _existing_review(session, agency_id, review_id)
    now = utcnow()
    if not await repository.claim_review_change(
        session,
        review.id,
        unset=Review.hidden_at,
        values={"hidden_at": now, "hidden_by": acting.user_id, "hidden_reason": body.reason},
    ):
        raise ReviewHidden(f"review {review_id} is hidden already")
    await repository.add_to_review_totals(session, agency_id, count=-1, total=-review.rating)
    audit.record(
        session, acting, agency_id, audit.Subject.REVIEW, review.id, audit.AuditAction.REVIEW_HIDDEN, body.reason
    )
    invalidate_search(session, cache)
    await session.refresh(review)
    return review_out(review, acting)


async def restore(
    session: AsyncSession, cache: Cache, principal: Principal | None, agency_id: int, review_id: int, body: RestoreIn
) -> ReviewOut:
    """An official shows a hidden review again (hidden by mistake, or the reason no longer holds), with a reason:
    back in the public list, the average and result cards; the hide stays in the audit."""
    acting = PERMISSIONS.check(principal, Action.RESTORE_REVIEW)
    agency = await existing_agency(session, agency_id)
    check_agency_region(acting, Action.RESTORE_REVIEW, agency.id, agency.region_code)
    review = await _existing_review(session, agency_id, review_id)
    if not await repository.release_hidden_review(session, review.id):
        raise ReviewNotHidden(f"review {review_id} is not hidden")
    await repository.add_to_review_totals(session, agency_id, count=1, total=review.rating)
    audit.record(
        session, acting, agency_id, audit.Subject.REVIEW, review.id, audit.AuditAction.REVIEW_RESTORED, body.reason
    )
    invalidate_search(session, cache)
    await session.refresh(review)
    return review_out(review, acting)


async def _existing_review(session: AsyncSession, agency_id: int, review_id: int) -> Review:
    await existing_agency(session, agency_id)
    review = await repository.review(session, agency_id, review_id)
    if review is None:
        raise ReviewNotFound(f"agency {agency_id} has no review {review_id}")
    return review


def _shown_to(viewer: Principal | None, agency: Agency) -> ColumnElement[bool]:
    """Which reviews `viewer` sees: every visible one; hidden ones too for officials of the agency's region and the
    agency's own staff, and for enterprise staff the hidden ones their enterprise wrote."""
    if viewer is None:
        return repository.VISIBLE
    overseeing = viewer.is_official and Scope.of(viewer).reaches(agency.region_code)
    if overseeing or (viewer.role is Role.AGENCY and viewer.agency_id == agency.id):
        return true()
    if viewer.role is Role.ENTERPRISE and viewer.enterprise_id is not None:
        return or_(repository.VISIBLE, Review.enterprise_id == viewer.enterprise_id)
    return repository.VISIBLE


async def review_summary(session: AsyncSession, agency_id: int) -> ReviewSummary:
    return review_summary_out(*await repository.review_summary(session, agency_id))


async def list_reviews(session: AsyncSession, viewer: Principal | None, agency_id: int) -> ReviewsOut:
    """Newest first; the summary counts the visible ones only, whoever asks."""
    agency = await existing_agency(session, agency_id)
    reviews = await repository.reviews_of(session, agency_id, _shown_to(viewer, agency))
    return ReviewsOut(summary=await review_summary(session, agency_id), items=[review_out(r, viewer) for r in reviews])
