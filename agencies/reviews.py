"""Reviews: enterprise staff review an agency after a voucher-paid service there was delivered, one per redemption.

Whether a redemption was delivered is the vouchers domain's knowledge, and vouchers builds on agencies: so the review
is written through `vouchers.reviews`, which checks the redemption and then calls `record_review` here.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies import repository
from agencies.errors import AlreadyReviewed, NoDeliveredService
from agencies.lookup import existing_agency
from agencies.models import Review
from agencies.schemas import ReviewIn, ReviewOut, ReviewsOut, ReviewSummary
from agencies.serialisers import review_summary_out
from core.auth import Principal
from core.db import utcnow


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
    return ReviewOut.model_validate(review)


async def review_summary(session: AsyncSession, agency_id: int) -> ReviewSummary:
    return review_summary_out(*await repository.review_summary(session, agency_id))


async def list_reviews(session: AsyncSession, agency_id: int) -> ReviewsOut:
    await existing_agency(session, agency_id)
    reviews = await repository.reviews_of(session, agency_id)
    return ReviewsOut(
        summary=await review_summary(session, agency_id), items=[ReviewOut.model_validate(r) for r in reviews]
    )
