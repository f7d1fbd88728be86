"""`python server.py seed`: deterministic demo data across domains, safe to run again (idempotent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings

if TYPE_CHECKING:
    from core.auth import Principal
    from core.cache import Cache
    from core.db import Database

DEMO_PASSWORD = "demo-pass-2026"


async def seed(settings: Settings, *, agencies: int) -> int:
    from app.schema import load_models
    from core.cache import make_cache
    from core.db import Database

    load_models()  # every mapped class, so foreign keys across domains resolve
    db = Database(settings.database_url)
    # Cached search results of a running server must not hide the new rows.
    cache = make_cache(str(settings.redis_url) if settings.redis_url else None, settings.cache_prefix)
    try:
        await _seed_agencies(db, agencies)
        await _seed_vouchers(db)
        await _seed_onboarding(db)
        await _seed_credit_stories(db, cache)
        await _seed_reviews(db, cache)
        await _seed_centres(db)
    finally:
        await db.dispose()
    await cache.bump("agencies")
    await cache.close()
    return 0


async def _seed_centres(db: Database) -> None:
    """The real IP protection centres the fast-track planner starts with (only names not yet in the table)."""
    from fast_track.seed import seed_centres

    async with db.transaction() as session:
        await seed_centres(session)


async def _seed_agencies(db: Database, n: int) -> None:
    from agencies.seed import seed_agencies, seed_agency_accounts

    async with db.transaction() as session:
        report = await seed_agencies(session, n)
        accounts = await seed_agency_accounts(session, report.demo_agency_id, DEMO_PASSWORD)
    print(f"seed: agencies: {report.created} created, {report.existing} already there")
    for line in accounts:
        print(f"seed: account {line}")


async def _seed_vouchers(db: Database) -> None:
    from vouchers.seed import seed_vouchers

    async with db.transaction() as session:
        lines = await seed_vouchers(session, DEMO_PASSWORD)
    for line in lines:
        print(f"seed: vouchers: {line}")


async def _seed_onboarding(db: Database) -> None:
    from sqlalchemy import select

    from accounts.models import User
    from accounts.seed import seed_onboarding

    async with db.transaction() as session:
        staff = await session.scalar(select(User).where(User.username == "enterprise_demo"))
        assert staff is not None and staff.enterprise_id is not None
        lines = await seed_onboarding(session, DEMO_PASSWORD, staff.enterprise_id)
    for line in lines:
        print(f"seed: onboarding: {line}")


async def _principal(session: AsyncSession, username: str) -> Principal:
    from sqlalchemy import select

    from accounts.models import User
    from accounts.service import principal_for

    user = await session.scalar(select(User).where(User.username == username))
    assert user is not None, f"the seed made {username} first"
    return principal_for(user)


async def _seed_credit_stories(db: Database, cache: Cache) -> None:
    """The first agencies' credit histories: events with their reasons, an objection reversed and one pending."""
    from agencies.seed import seed_credit_stories

    async with db.transaction() as session:
        official = await _principal(session, "official_demo")
        staff = await _principal(session, "agency_demo")
        lines = await seed_credit_stories(session, cache, official, staff)
    for line in lines:
        print(f"seed: credit: {line}")


DEMO_REVIEWS = (
    # service (at its lowest listed price), comment, rating, the agency's reply (or none)
    (
        "priority_exam_assist",
        "优先审查请求材料准备充分，推荐意见一次通过，45 天内收到第一次审查意见通知书。",
        5,
        "感谢信任！后续答复审查意见我们会继续按 2 个月的期限提前一周提交。",
    ),
    (
        "utility_model",
        "撰写质量不错，但沟通响应偏慢，补正通知拖到最后两天才处理。",
        3,
        None,
    ),
)


async def _seed_reviews(db: Database, cache: Cache) -> None:
    """enterprise_demo's enterprise spends a second demo voucher on two services at the demo agency, which confirms
    them; it reviews both and the agency answers one — through the same services the API uses."""
    import datetime as dt
    import json

    from sqlalchemy import select, update

    from agencies import reviews as agency_reviews
    from agencies.models import AgencyService, Review
    from agencies.schemas import ReplyIn, ReviewIn
    from core.db import utcnow
    from vouchers import redeeming, redemptions
    from vouchers import reviews as voucher_reviews
    from vouchers.models import Redemption, VoucherProgram
    from vouchers.schemas import ConfirmIn, IssueIn, IssueItem, RedeemIn
    from vouchers.seed import DEMO_PROGRAM_NAME
    from vouchers.service import issue_vouchers

    async with db.transaction() as session:
        enterprise = await _principal(session, "enterprise_demo")
        staff = await _principal(session, "agency_demo")
        official = await _principal(session, "official_demo")
        assert enterprise.enterprise_id is not None and staff.agency_id is not None
        agency_id = staff.agency_id
        if await session.scalar(select(Review.id).where(Review.enterprise_id == enterprise.enterprise_id)):
            return
        program_id = await session.scalar(select(VoucherProgram.id).where(VoucherProgram.name == DEMO_PROGRAM_NAME))
        assert program_id is not None
        issued = await issue_vouchers(
            session,
            official,
            program_id,
            IssueIn(enterprises=[IssueItem(enterprise_id=enterprise.enterprise_id)], reason="演示：已使用的服务券"),
        )
        voucher_id = issued.issued[0].id
        for n, (service, comment, rating, reply) in enumerate(DEMO_REVIEWS, start=1):
            price = await session.scalar(
                select(AgencyService.price_min_fen).where(
                    AgencyService.agency_id == agency_id, AgencyService.service_code == service
                )
            )
            assert price is not None, f"the demo agency offers {service}"
            redeemed = await redeeming.redeem(
                session, enterprise, voucher_id, RedeemIn(agency_id=agency_id, service_code=service, price_fen=price)
            )
            redemption_id = int(json.loads(redeemed.body)["id"])
            # Spent weeks ago, delivered since: the story's dates (confirming seconds after spending would be
            # flagged as a fast confirmation, which this demo is not about).
            await session.execute(
                update(Redemption)
                .where(Redemption.id == redemption_id)
                .values(created_at=utcnow() - dt.timedelta(days=30 - 10 * n))
            )
            await redemptions.confirm(
                session,
                staff,
                redemption_id,
                ConfirmIn(
                    contract_no=f"HT-2026-DEMO-{n:02d}",
                    invoice_no=f"INV-3301060000{n:02d}",
                    payment_proof=f"企业自付部分银行回单 BR-2026-{n:04d}",
                    deliverable=f"申请号 2026200{n:05d}.X",
                ),
            )
            review = await voucher_reviews.review_delivered_service(
                session, enterprise, agency_id, ReviewIn(redemption_id=redemption_id, rating=rating, comment=comment)
            )
            if reply is not None:
                await agency_reviews.reply(session, staff, agency_id, review.id, ReplyIn(reply=reply))
    print(f"seed: reviews: {len(DEMO_REVIEWS)} of agency {agency_id} by enterprise {enterprise.enterprise_id}")
