"""Reviews of a delivered service: enterprise staff review an agency after a voucher-paid service there was
delivered. Vouchers knows the redemption, agencies keeps the review, so the check lives here, where the dependency
points (vouchers builds on agencies), and the review is stored by `agencies.service.record_review`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agencies import service as agencies
from core.auth import Principal
from vouchers.service import delivered_redemption_for_review


async def review_delivered_service(
    session: AsyncSession, principal: Principal | None, agency_id: int, body: agencies.ReviewIn
) -> agencies.ReviewOut:
    """401/403 unless enterprise staff, 404 for an unknown agency, 403 unless the redemption is a delivered service
    of the acting enterprise at this agency, 409 when it was reviewed already — in that order."""
    acting = agencies.PERMISSIONS.check(principal, agencies.Action.REVIEW)
    await agencies.ensure_agency(session, agency_id)
    if acting.enterprise_id is None or not await delivered_redemption_for_review(
        session, acting.enterprise_id, agency_id, body.redemption_id
    ):
        raise agencies.NoDeliveredService()
    return await agencies.record_review(session, acting, agency_id, body)
