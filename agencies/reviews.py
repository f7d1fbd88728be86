"""Reviews: enterprise staff review an agency after a voucher-paid service there was delivered, one per redemption."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies import repository
from agencies.errors import AlreadyReviewed, NoDeliveredService
from agencies.lookup import existing_agency
from agencies.models import Review
from agencies.permissions import PERMISSIONS, Action
from agencies.schemas import ReviewIn, ReviewOut, ReviewsOut, ReviewSummary
from agencies.serialisers import review_summary_out
from core.auth import Principal
from core.db import utcnow


async def add_review(session: AsyncSession, principal: Principal | None, agency_id: int, body: ReviewIn) -> ReviewOut:
    """Enterprise staff review an agency after a voucher-paid service there was delivered: one per redemption."""
    from vouchers.service import delivered_redemption_for_review  # vouchers builds on agencies, not the reverse

    acting = PERMISSIONS.check(principal, Action.REVIEW)
    await existing_agency(session, agency_id)
    if acting.enterprise_id is None or not await delivered_redemption_for_review(
        session, acting.enterprise_id, agency_id, body.redemption_id
    ):
        raise NoDeliveredService(
            "you can review an agency only for a delivered voucher service of your enterprise there",
            details=[{"field": "redemption_id", "message": "no delivered redemption of yours at this agency"}],
        )
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
    return ReviewOut.model_validate(review)


async def review_summary(session: AsyncSession, agency_id: int) -> ReviewSummary:
    return review_summary_out(*await repository.review_summary(session, agency_id))


async def list_reviews(session: AsyncSession, agency_id: int) -> ReviewsOut:
    await existing_agency(session, agency_id)
    reviews = await repository.reviews_of(session, agency_id)
    return ReviewsOut(
        summary=await review_summary(session, agency_id), items=[ReviewOut.model_validate(r) for r in reviews]
    )
