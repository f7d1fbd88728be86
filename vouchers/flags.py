"""Anti-abuse signals. They never block: each is recorded on the redemption with its evidence, listed for officials,
and settling a flagged redemption needs the official's explicit decision (approve or reject, with a reason)."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agencies.service import AgencyContact, AgencySummary
from enterprises.service import EnterpriseSummary
from vouchers import repository
from vouchers.models import Redemption, Voucher, VoucherFlag, VoucherProgram

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


@dataclass
class RedeemSignals:
    """Evidence gathered before the voucher is locked (it reads other rows only), so the lock is held briefly."""

    related: dict[str, Any] | None
    listed_max_fen: int | None
    earlier_at_max: list[int] | None
    program_redemptions: int
    program_amount_fen: int
    agency_amount_fen: int


async def gather(
    session: AsyncSession,
    program: VoucherProgram,
    agency: AgencySummary,
    enterprise: EnterpriseSummary,
    *,
    service_code: str,
    price_fen: int,
    maybe_whole_voucher: bool,
) -> RedeemSignals:
    max_prices = {s.service_code: s.price_max_fen for s in agency.services}
    listed_max = max_prices.get(service_code)
    earlier = None
    if maybe_whole_voucher or (listed_max is not None and price_fen >= listed_max):
        earlier = await repository.at_maximum_redemptions(
            session, program_id=program.id, agency_id=agency.id, max_prices=max_prices, exclude_id=0
        )
    count, total, per_agency = await repository.program_agency_amounts(session, program.id)
    return RedeemSignals(
        related=related_party_evidence(enterprise, agency.contact),
        listed_max_fen=listed_max,
        earlier_at_max=earlier,
        program_redemptions=count,
        program_amount_fen=total,
        agency_amount_fen=per_agency.get(agency.id, 0),
    )


def record_redeem(
    session: AsyncSession, signals: RedeemSignals, voucher: Voucher, redemption: Redemption
) -> list[VoucherFlag]:
    """The flags the gathered evidence and the redemption just made call for, added to the session."""
    flags: list[VoucherFlag] = []
    if signals.related is not None:
        flags.append(
            _flag(redemption, RELATED_PARTY, {"shared": signals.related, "enterprise_id": redemption.enterprise_id})
        )
    at_max = redemption.amount_fen == voucher.face_value_fen or (
        signals.listed_max_fen is not None and redemption.price_fen >= signals.listed_max_fen
    )
    if at_max and signals.earlier_at_max is not None and len(signals.earlier_at_max) + 1 >= MAX_AMOUNT_REPEAT_COUNT:
        flags.append(
            _flag(
                redemption,
                MAX_AMOUNT_REPEATED,
                {
                    "at_maximum_redemptions": [*signals.earlier_at_max, redemption.id],
                    "threshold": MAX_AMOUNT_REPEAT_COUNT,
                    "listed_max_price_fen": signals.listed_max_fen,
                    "price_fen": redemption.price_fen,
                },
            )
        )
    count = signals.program_redemptions + 1
    total = signals.program_amount_fen + redemption.amount_fen
    mine = signals.agency_amount_fen + redemption.amount_fen
    share = mine / total if total else 0.0
    if count >= CONCENTRATION_MIN_REDEMPTIONS and share > CONCENTRATION_SHARE:
        flags.append(
            _flag(
                redemption,
                AGENCY_CONCENTRATION,
                {
                    "agency_amount_fen": mine,
                    "program_redeemed_fen": total,
                    "share": round(share, 4),
                    "threshold": CONCENTRATION_SHARE,
                    "program_redemptions": count,
                },
            )
        )
    for flag in flags:
        session.add(flag)
    return flags


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
