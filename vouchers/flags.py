"""Anti-abuse signals. They never block: each is recorded on the redemption with its evidence, listed for officials,
and settling a flagged redemption needs the official's explicit decision (approve or reject, with a reason).

A redemption's own flags (related party, repeated maximum amounts, agency concentration) are raised after it
commits, by `FlagWorker` — the concentration reads every redemption of the programme, which the money transaction
need not wait for. Each redemption is checked once (`flags_checked_at`); settling checks it first if the worker has
not yet. A fast confirmation is flagged by the confirmation itself (`on_confirm`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agencies.service import AgencyContact, AgencySummary, get_agency_summary
from core.db import Database, after_commit, utcnow
from core.events import EventBus, RedemptionMade
from enterprises.service import EnterpriseSummary, enterprise_summaries
from vouchers import repository
from vouchers.models import Redemption, Voucher, VoucherFlag

RELATED_PARTY = "related_party"
AGENCY_CONCENTRATION = "agency_concentration"
MAX_AMOUNT_REPEATED = "max_amount_repeated"
FAST_CONFIRMATION = "fast_confirmation"

DESCRIPTIONS: dict[str, str] = {
    RELATED_PARTY: "the enterprise and the agency share a legal representative/contact, address or phone",
    AGENCY_CONCENTRATION: "one agency takes an unusual share of the programme's redeemed money",
    MAX_AMOUNT_REPEATED: "redemptions at the maximum (listed top price or a whole voucher) over and over",
    FAST_CONFIRMATION: "the agency confirmed delivery within minutes of the redemption",
}

# Thresholds: conservative defaults an official can read in the evidence.
FAST_CONFIRMATION_WINDOW = dt.timedelta(minutes=10)
MAX_AMOUNT_REPEAT_COUNT = 3  # this many at-maximum redemptions at one agency in one program
CONCENTRATION_SHARE = 0.5  # more than half of the program's redeemed money at one agency …
CONCENTRATION_MIN_REDEMPTIONS = 10  # … once the program has at least this many redemptions
BATCH = 200  # redemptions checked in one transaction of the worker

log = logging.getLogger(__name__)


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def _plain(text: str) -> str:
    return re.sub(r"[\s,，.。#\-－()（）]", "", text).lower()


def _flag(redemption: Redemption, kind: str, evidence: dict[str, Any]) -> VoucherFlag:
    return VoucherFlag(
        program_id=redemption.program_id,
        redemption_id=redemption.id,
        agency_id=redemption.agency_id,
        enterprise_id=redemption.enterprise_id,
        kind=kind,
        evidence=json.dumps(evidence, ensure_ascii=False, sort_keys=True),
        status="open",
    )


def related_party_evidence(enterprise: EnterpriseSummary, contact: AgencyContact) -> dict[str, Any] | None:
    name, address, phone = contact.contact_name, contact.address, contact.contact_phone
    shared: dict[str, Any] = {}
    if enterprise.legal_representative.strip() and enterprise.legal_representative.strip() == name.strip():
        shared["person"] = name.strip()
    if _plain(enterprise.address) and _plain(enterprise.address) == _plain(address):
        shared["address"] = address
    e_phone, a_phone = _digits(enterprise.phone), _digits(phone)
    if len(e_phone) >= 7 and len(a_phone) >= 7 and e_phone[-8:] == a_phone[-8:]:
        shared["phone"] = phone
    return shared or None


async def check_redemptions(session: AsyncSession, found: Sequence[tuple[Redemption, int]]) -> list[VoucherFlag]:
    """Raise the flags the redemptions call for; `found` are (redemption, its voucher's face value) pairs, the
    redemptions locked by this transaction and marked checked by it.

    Each is judged against the programme's redemptions up to and including it (by id), as it would have been at its
    own commit: the at-maximum redemptions before it at its agency, and the agency's share of the money redeemed up
    to it. A redemption already rejected or cancelled adds nothing to the programme's money.
    """
    if not found:
        return []
    agencies: dict[int, AgencySummary | None] = {}
    for redemption, _face in found:
        if redemption.agency_id not in agencies:
            agencies[redemption.agency_id] = await get_agency_summary(session, redemption.agency_id)
    enterprises = await enterprise_summaries(session, sorted({r.enterprise_id for r, _face in found}))
    shares = await _concentration(session, [r for r, _face in found])
    flags: list[VoucherFlag] = []
    for redemption, face_value_fen in found:
        agency, enterprise = agencies[redemption.agency_id], enterprises.get(redemption.enterprise_id)
        if agency is not None and enterprise is not None:
            related = related_party_evidence(enterprise, agency.contact)
            if related is not None:
                flags.append(
                    _flag(redemption, RELATED_PARTY, {"shared": related, "enterprise_id": redemption.enterprise_id})
                )
        if agency is not None:
            repeated = await _max_amount_repeated(session, redemption, agency, face_value_fen)
            if repeated is not None:
                flags.append(repeated)
        if redemption.id in shares:
            flags.append(_flag(redemption, AGENCY_CONCENTRATION, shares[redemption.id]))
    session.add_all(flags)
    return flags


async def _max_amount_repeated(
    session: AsyncSession, redemption: Redemption, agency: AgencySummary, face_value_fen: int
) -> VoucherFlag | None:
    max_prices = {s.service_code: s.price_max_fen for s in agency.services}
    listed_max = max_prices.get(redemption.service_code)
    at_max = redemption.amount_fen == face_value_fen or (listed_max is not None and redemption.price_fen >= listed_max)
    if not at_max:
        return None
    earlier = await repository.at_maximum_redemptions(
        session,
        program_id=redemption.program_id,
        agency_id=redemption.agency_id,
        max_prices=max_prices,
        before_id=redemption.id,
    )
    if len(earlier) + 1 < MAX_AMOUNT_REPEAT_COUNT:
        return None
    return _flag(
        redemption,
        MAX_AMOUNT_REPEATED,
        {
            "at_maximum_redemptions": [*earlier, redemption.id],
            "threshold": MAX_AMOUNT_REPEAT_COUNT,
            "listed_max_price_fen": listed_max,
            "price_fen": redemption.price_fen,
        },
    )


async def _concentration(session: AsyncSession, redemptions: Sequence[Redemption]) -> dict[int, dict[str, Any]]:
    """The agency-concentration evidence of each redemption that calls for it, by redemption id: per programme,
    the sums below the first of them (one `GROUP BY`) and then the programme's redemptions from the first to the
    last of them walked in id order."""
    out: dict[int, dict[str, Any]] = {}
    by_program: dict[int, set[int]] = {}
    for redemption in redemptions:
        by_program.setdefault(redemption.program_id, set()).add(redemption.id)
    for program_id, ids in by_program.items():
        count, total, per_agency = await repository.program_agency_amounts(session, program_id, below_id=min(ids))
        for rid, agency_id, amount in await repository.spent_redemptions_between(
            session, program_id, min(ids), max(ids)
        ):
            count += 1
            total += amount
            per_agency[agency_id] = mine = per_agency.get(agency_id, 0) + amount
            share = mine / total if total else 0.0
            if rid in ids and count >= CONCENTRATION_MIN_REDEMPTIONS and share > CONCENTRATION_SHARE:
                out[rid] = {
                    "agency_amount_fen": mine,
                    "program_redeemed_fen": total,
                    "share": round(share, 4),
                    "threshold": CONCENTRATION_SHARE,
                    "program_redemptions": count,
                }
    return out


async def check_pending(db: Database, *, limit: int = BATCH) -> int:
    """One transaction: the oldest redemptions not checked yet (at most `limit`; on PostgreSQL those no other
    transaction holds) checked. How many were."""
    async with db.transaction() as session:
        found = await repository.claim_unchecked_redemptions(session, limit, utcnow())
        await check_redemptions(session, found)
    return len(found)


async def check_before_settling(session: AsyncSession, redemption: Redemption, voucher: Voucher) -> None:
    """The redemption's flags raised now if the worker has not raised them yet (both are locked by the caller):
    a redemption is never settled before its flags are."""
    if redemption.flags_checked_at is None:
        await repository.mark_flags_checked(session, redemption.id, utcnow())
        await check_redemptions(session, [(redemption, voucher.face_value_fen)])


class FlagWorker:
    """Checks new redemptions for flags after their commit.

    `RedemptionMade` wakes it once the redemption has committed; it also looks every `poll_seconds` (a wake-up lost
    with a restart, a row another transaction held). Several processes may each run one: on PostgreSQL each batch
    takes its rows `FOR UPDATE SKIP LOCKED`, on SQLite write transactions queue. `drain()` checks everything
    committed so far before it returns (tests and commands wait on it).
    """

    def __init__(self, db: Database, *, poll_seconds: float = 5.0) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.wakeup = asyncio.Event()
        self._one_at_a_time = asyncio.Lock()  # the loop and `drain` of one process do not split a batch
        self._stopping = False

    def subscribe_to(self, events: EventBus) -> None:
        events.subscribe(RedemptionMade, self._on_redemption)

    async def _on_redemption(self, session: AsyncSession, _event: RedemptionMade) -> None:
        after_commit(session, self._wake)

    async def _wake(self) -> None:
        self.wakeup.set()

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """The worker checks nothing while this is open (`drain` inside it would wait for ever)."""
        async with self._one_at_a_time:
            yield

    async def drain(self) -> int:
        """Check every redemption committed and not checked yet; how many were."""
        done = 0
        async with self._one_at_a_time:
            while n := await check_pending(self.db):
                done += n
        return done

    async def run_forever(self) -> None:
        while not self._stopping:
            self.wakeup.clear()
            try:
                await self.drain()
            except Exception:  # the database away for a moment: the next wake-up or poll tries again
                log.exception("checking redemptions for flags failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout=self.poll_seconds)

    def stop(self) -> None:
        self._stopping = True
        self.wakeup.set()


def on_confirm(session: AsyncSession, redemption: Redemption) -> list[VoucherFlag]:
    assert redemption.confirmed_at is not None
    elapsed = redemption.confirmed_at - redemption.created_at
    if elapsed >= FAST_CONFIRMATION_WINDOW:
        return []
    flag = _flag(
        redemption,
        FAST_CONFIRMATION,
        {
            "redeemed_at": redemption.created_at.isoformat(),
            "confirmed_at": redemption.confirmed_at.isoformat(),
            "seconds": int(elapsed.total_seconds()),
            "threshold_seconds": int(FAST_CONFIRMATION_WINDOW.total_seconds()),
        },
    )
    session.add(flag)
    return [flag]
