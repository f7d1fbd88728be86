"""Queries over voucher tables. Row locks live here: `lock_*` select FOR UPDATE (a no-op on SQLite, whose write
transactions already hold the database's single write lock from BEGIN IMMEDIATE)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Executable,
    Insert,
    ScalarSelect,
    SQLColumnExpression,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import KeyedColumnElement

from core.auth import Scope
from core.db import Base
from vouchers.models import (
    ApplicationEvent,
    IdempotencyRecord,
    ProgramService,
    Redemption,
    Voucher,
    VoucherApplication,
    VoucherAudit,
    VoucherFlag,
    VoucherProgram,
)
from vouchers.states import RedemptionState, VoucherState

# Redemptions whose money was not spent at the agency: rejected by an official, or cancelled while pending.
NOT_SPENT = (RedemptionState.REJECTED.value, RedemptionState.CANCELLED.value)


def program_region(program_id: SQLColumnExpression[int]) -> ScalarSelect[str]:
    """The region code of the programme `program_id` names, for filtering by an official's jurisdiction."""
    return select(VoucherProgram.region_code).where(VoucherProgram.id == program_id).scalar_subquery()


async def program(session: AsyncSession, program_id: int) -> VoucherProgram | None:
    return await session.get(VoucherProgram, program_id)


async def lock_program(session: AsyncSession, program_id: int) -> VoucherProgram | None:
    """The program row, locked against every other writer of its money (`FOR NO KEY UPDATE`).

    Not `FOR UPDATE`: rows that reference the program (vouchers, audit rows, applications) take `FOR KEY SHARE` on
    it through their foreign key when inserted, which `FOR UPDATE` would wait for — and a transaction that inserted
    such a row and then asks for the program lock (an application decided first come first served) would deadlock
    with another doing the same. `FOR NO KEY UPDATE` still excludes every other locker of the program."""
    stmt = select(VoucherProgram).where(VoucherProgram.id == program_id).with_for_update(key_share=True)
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def program_services(session: AsyncSession, program_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = await session.execute(
        select(ProgramService.program_id, ProgramService.service_code)
        .where(ProgramService.program_id.in_(set(program_ids)))
        .order_by(ProgramService.program_id, ProgramService.service_code)
    )
    out: dict[int, list[str]] = {pid: [] for pid in program_ids}
    for pid, code in rows:
        out[pid].append(code)
    return out


async def programs(
    session: AsyncSession, *, region_prefixes: Sequence[str] | None, service: str | None, open_at: dt.datetime | None
) -> list[VoucherProgram]:
    stmt = select(VoucherProgram)
    if region_prefixes is not None:
        # A program applies to an enterprise in its region or below (a province's program covers its cities).
        stmt = stmt.where(VoucherProgram.region_code.in_(region_prefixes))
    if service is not None:
        stmt = stmt.where(
            VoucherProgram.id.in_(select(ProgramService.program_id).where(ProgramService.service_code == service))
        )
    if open_at is not None:
        stmt = stmt.where(VoucherProgram.valid_from <= open_at, VoucherProgram.valid_until > open_at)
    return list((await session.scalars(stmt.order_by(VoucherProgram.id.desc()))).all())


async def program_names(session: AsyncSession, program_ids: set[int]) -> dict[int, str]:
    if not program_ids:
        return {}
    rows = await session.execute(
        select(VoucherProgram.id, VoucherProgram.name).where(VoucherProgram.id.in_(program_ids))
    )
    return {int(pid): name for pid, name in rows}


async def voucher(session: AsyncSession, voucher_id: int) -> Voucher | None:
    return await session.get(Voucher, voucher_id)


@dataclass(frozen=True, slots=True)
class VoucherToRedeem:
    """A voucher about to be redeemed, with its programme and whether that pays for the service asked for."""

    voucher: Voucher
    program: VoucherProgram
    covers_service: bool


async def voucher_to_redeem(session: AsyncSession, voucher_id: int, service_code: str) -> VoucherToRedeem | None:
    """The voucher, its programme and whether the programme covers `service_code`, in one statement (not locked)."""
    stmt = (
        select(Voucher, VoucherProgram, ProgramService.service_code)
        .join(VoucherProgram, VoucherProgram.id == Voucher.program_id)
        .outerjoin(
            ProgramService,
            and_(ProgramService.program_id == VoucherProgram.id, ProgramService.service_code == service_code),
        )
        .where(Voucher.id == voucher_id)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else VoucherToRedeem(row[0], row[1], row[2] is not None)


async def lock_voucher_to_redeem(session: AsyncSession, voucher_id: int) -> tuple[Voucher, int] | None:
    """The voucher locked as `lock_voucher` locks it, and the id the redemption will take — one statement.

    The id comes from the redemptions' sequence on PostgreSQL (a refused redemption leaves a gap, as a rolled-back
    insert always did); on SQLite this write transaction holds the database's write lock (BEGIN IMMEDIATE), so the
    next id is the largest plus one. Knowing the id before writing lets the redemption, the voucher, the audit row and
    the idempotency record (whose answer names the id) go in one statement (`write_redemption`).
    """
    next_id = (
        func.nextval(func.pg_get_serial_sequence(Redemption.__tablename__, "id"))
        if session.get_bind().dialect.name == "postgresql"
        else select(func.coalesce(func.max(Redemption.id), 0) + 1).scalar_subquery()
    )
    stmt = select(Voucher, next_id).where(Voucher.id == voucher_id).with_for_update()
    row = (await session.execute(stmt.execution_options(populate_existing=True))).first()
    return None if row is None else (row[0], int(row[1]))


# The columns `write_redemption` writes, each a bind parameter named `<prefix><column>`: the statements are built
# once, so SQLAlchemy computes their cache keys once (built per request, the keys of four wide statements cost a
# tenth of a redemption's CPU) and they go to the connection, past the ORM's bulk-update layer.
_VOUCHER_CHANGES = ("balance_fen", "state", "state_reason", "updated_at")
_WRITTEN: tuple[tuple[str, type[Base], bool], ...] = (
    ("r_", Redemption, True),  # its id given
    ("a_", VoucherAudit, False),  # ids from their sequences
    ("i_", IdempotencyRecord, False),
)


def _written_columns(model: type[Base], with_id: bool) -> list[KeyedColumnElement[Any]]:
    return [c for c in model.__table__.columns if with_id or c.key != "id"]


def _insert(prefix: str, model: type[Base], with_id: bool) -> Insert:
    return insert(model).values(
        {c.key: bindparam(prefix + c.key, type_=c.type) for c in _written_columns(model, with_id)}
    )


@functools.cache
def _redemption_writes(postgres: bool, with_idempotency: bool) -> tuple[Executable, ...]:
    """The redemption, the audit row, (the idempotency record,) the voucher's update: on PostgreSQL one statement."""
    inserts = [_insert(prefix, model, with_id) for prefix, model, with_id in _WRITTEN[: 3 if with_idempotency else 2]]
    update_voucher = (
        update(Voucher)
        .where(Voucher.id == bindparam("v_id"))
        .values({key: bindparam("v_" + key, type_=Voucher.__table__.c[key].type) for key in _VOUCHER_CHANGES})
    )
    if postgres:
        # The audit row's foreign key to the redemption is checked at the end of the statement, when the
        # redemption's row is there.
        return (update_voucher.add_cte(*(w.cte(f"write_{i}") for i, w in enumerate(inserts))),)
    return (inserts[0], update_voucher, *inserts[1:])


async def write_redemption(
    session: AsyncSession,
    *,
    redemption: Redemption,
    voucher: Voucher,
    audit: VoucherAudit,
    idempotency: IdempotencyRecord | None,
) -> None:
    """Insert the redemption (its id given: `lock_voucher_to_redeem`), write the voucher's new balance and state,
    append the audit row and the idempotency record — on PostgreSQL as one statement (data-modifying CTEs), on
    SQLite one after another in this transaction. The voucher must be locked by this transaction.

    The voucher's new values are written here, so the session forgets the object (it would write them again at
    commit); the caller keeps using it as it stands. IntegrityError when the idempotency record's (user, key) is
    taken by a concurrent request.
    """
    params: dict[str, Any] = {"v_id": voucher.id, **{"v_" + key: getattr(voucher, key) for key in _VOUCHER_CHANGES}}
    for (prefix, model, with_id), entity in zip(_WRITTEN, (redemption, audit, idempotency), strict=True):
        if entity is not None:
            params.update({prefix + c.key: getattr(entity, c.key) for c in _written_columns(model, with_id)})
    statements = _redemption_writes(session.get_bind().dialect.name == "postgresql", idempotency is not None)
    connection = await session.connection()  # a Core statement: the session's pending changes are not flushed
    for statement in statements:
        await connection.execute(statement, params)
    session.expunge(voucher)


async def lock_voucher(session: AsyncSession, voucher_id: int) -> Voucher | None:
    stmt = select(Voucher).where(Voucher.id == voucher_id).with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def vouchers_of_enterprise(session: AsyncSession, enterprise_id: int) -> list[Voucher]:
    stmt = select(Voucher).where(Voucher.enterprise_id == enterprise_id).order_by(Voucher.expires_at, Voucher.id)
    return list((await session.scalars(stmt)).all())


async def vouchers_of_program(session: AsyncSession, program_id: int, limit: int = 1000) -> list[Voucher]:
    stmt = select(Voucher).where(Voucher.program_id == program_id).order_by(Voucher.id).limit(limit)
    return list((await session.scalars(stmt)).all())


async def enterprise_year_total(session: AsyncSession, program_id: int, enterprise_id: int, year: int) -> int:
    """Face value an enterprise received from a program in a calendar year, minus what revocations returned."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    total = await session.scalar(
        select(func.coalesce(func.sum(VoucherAudit.program_delta_fen), 0))
        .join(Voucher, Voucher.id == VoucherAudit.voucher_id)
        .where(
            Voucher.program_id == program_id,
            Voucher.enterprise_id == enterprise_id,
            Voucher.issued_at >= start,
            Voucher.issued_at < end,
            VoucherAudit.action.in_(("issue", "revoke")),
        )
    )
    return int(total or 0)


async def enterprise_year_totals(
    session: AsyncSession, program_id: int, enterprise_ids: Sequence[int], year: int
) -> dict[int, int]:
    """`enterprise_year_total` for many enterprises in one query (those that received nothing are absent)."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    rows = await session.execute(
        select(Voucher.enterprise_id, func.coalesce(func.sum(VoucherAudit.program_delta_fen), 0))
        .join(Voucher, Voucher.id == VoucherAudit.voucher_id)
        .where(
            Voucher.program_id == program_id,
            Voucher.enterprise_id.in_(set(enterprise_ids)),
            Voucher.issued_at >= start,
            Voucher.issued_at < end,
            VoucherAudit.action.in_(("issue", "revoke")),
        )
        .group_by(Voucher.enterprise_id)
    )
    return {enterprise_id: int(total) for enterprise_id, total in rows}


async def expiring_between(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> list[Voucher]:
    stmt = (
        select(Voucher)
        .where(
            Voucher.state.in_((VoucherState.ISSUED, VoucherState.PARTIALLY_REDEEMED)),
            Voucher.expires_at >= start,
            Voucher.expires_at < end,
            Voucher.balance_fen > 0,
        )
        .order_by(Voucher.expires_at, Voucher.id)
    )
    return list((await session.scalars(stmt)).all())


async def redemption(session: AsyncSession, redemption_id: int) -> Redemption | None:
    return await session.get(Redemption, redemption_id)


async def lock_redemption(session: AsyncSession, redemption_id: int) -> Redemption | None:
    stmt = select(Redemption).where(Redemption.id == redemption_id).with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def redemption_states(session: AsyncSession, voucher_id: int) -> list[RedemptionState]:
    rows = await session.scalars(select(Redemption.state).where(Redemption.voucher_id == voucher_id))
    return [RedemptionState(s) for s in rows.all()]


async def redemptions_of_voucher(session: AsyncSession, voucher_id: int) -> list[Redemption]:
    stmt = select(Redemption).where(Redemption.voucher_id == voucher_id).order_by(Redemption.id)
    return list((await session.scalars(stmt)).all())


async def redemptions(
    session: AsyncSession,
    scope: Scope,
    *,
    program_id: int | None = None,
    state: str | None = None,
    limit: int = 50,
) -> list[Redemption]:
    """The scope's redemptions (made at its agency or by its enterprise; an official's: of their region's
    programmes), newest first."""
    stmt = select(Redemption).where(
        scope.where(
            agency=Redemption.agency_id,
            enterprise=Redemption.enterprise_id,
            region=program_region(Redemption.program_id),
        )
    )
    if program_id is not None:
        stmt = stmt.where(Redemption.program_id == program_id)
    if state is not None:
        stmt = stmt.where(Redemption.state == state)
    return list((await session.scalars(stmt.order_by(Redemption.id.desc()).limit(limit))).all())


async def at_maximum_redemptions(
    session: AsyncSession, *, program_id: int, agency_id: int, max_prices: dict[str, int], before_id: int
) -> list[int]:
    """Redemptions at this agency in this program before `before_id` made at its listed maximum price (or for a
    whole voucher)."""
    at_max = [
        and_(Redemption.service_code == code, Redemption.price_fen >= price) for code, price in max_prices.items()
    ]
    stmt = (
        select(Redemption.id)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(
            Redemption.program_id == program_id,
            Redemption.agency_id == agency_id,
            Redemption.state.not_in(NOT_SPENT),
            Redemption.id < before_id,
            or_(Redemption.amount_fen == Voucher.face_value_fen, *at_max),
        )
    )
    return list((await session.scalars(stmt.order_by(Redemption.id))).all())


async def program_agency_amounts(
    session: AsyncSession, program_id: int, *, below_id: int
) -> tuple[int, int, dict[int, int]]:
    """(redemption count, total amount, amount per agency) over a program's redemptions before `below_id` not
    rejected or cancelled."""
    rows = await session.execute(
        select(Redemption.agency_id, func.count(), func.coalesce(func.sum(Redemption.amount_fen), 0))
        .where(Redemption.program_id == program_id, Redemption.state.not_in(NOT_SPENT), Redemption.id < below_id)
        .group_by(Redemption.agency_id)
    )
    count = 0
    total = 0
    per_agency: dict[int, int] = {}
    for agency_id, n, amount in rows:
        count += int(n)
        total += int(amount)
        per_agency[int(agency_id)] = int(amount)
    return count, total, per_agency


async def spent_redemptions_between(
    session: AsyncSession, program_id: int, first_id: int, last_id: int
) -> list[tuple[int, int, int]]:
    """(id, agency, amount) of a program's redemptions from `first_id` to `last_id` not rejected or cancelled."""
    rows = await session.execute(
        select(Redemption.id, Redemption.agency_id, Redemption.amount_fen)
        .where(
            Redemption.program_id == program_id,
            Redemption.state.not_in(NOT_SPENT),
            Redemption.id >= first_id,
            Redemption.id <= last_id,
        )
        .order_by(Redemption.id)
    )
    return [(int(rid), int(agency_id), int(amount)) for rid, agency_id, amount in rows]


async def claim_unchecked_redemptions(
    session: AsyncSession, limit: int, at: dt.datetime
) -> list[tuple[Redemption, int]]:
    """The oldest redemptions whose flags are not raised yet, marked checked at `at` (one statement), with their
    voucher's face value. On PostgreSQL those another transaction holds (a confirmation, a cancellation, another
    worker) are skipped; the mark commits with the flags the caller raises, or neither does."""
    oldest = (
        select(Redemption.id)
        .where(Redemption.flags_checked_at.is_(None))
        .order_by(Redemption.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    face_value = select(Voucher.face_value_fen).where(Voucher.id == Redemption.voucher_id).scalar_subquery()
    stmt = (
        update(Redemption)
        .where(Redemption.id.in_(oldest), Redemption.flags_checked_at.is_(None))
        .values(flags_checked_at=at)
        .returning(Redemption, face_value)
    )
    rows = await session.execute(stmt.execution_options(populate_existing=True, synchronize_session=False))
    return sorted(((redemption, int(face)) for redemption, face in rows), key=lambda found: found[0].id)


async def mark_flags_checked(session: AsyncSession, redemption_id: int, at: dt.datetime) -> None:
    await session.execute(
        update(Redemption)
        .where(Redemption.id == redemption_id)
        .values(flags_checked_at=at)
        .execution_options(synchronize_session=False)
    )


async def audit_of_voucher(session: AsyncSession, voucher_id: int) -> list[VoucherAudit]:
    stmt = select(VoucherAudit).where(VoucherAudit.voucher_id == voucher_id).order_by(VoucherAudit.id)
    return list((await session.scalars(stmt)).all())


async def flags(
    session: AsyncSession, scope: Scope, *, program_id: int | None, status: str | None, limit: int = 500
) -> list[VoucherFlag]:
    """The flags of the scope's programmes (an official's region and below), newest first."""
    stmt = select(VoucherFlag).where(scope.where_region(program_region(VoucherFlag.program_id)))
    if program_id is not None:
        stmt = stmt.where(VoucherFlag.program_id == program_id)
    if status is not None:
        stmt = stmt.where(VoucherFlag.status == status)
    return list((await session.scalars(stmt.order_by(VoucherFlag.id.desc()).limit(limit))).all())


async def flags_of_redemptions(session: AsyncSession, redemption_ids: Sequence[int]) -> dict[int, list[VoucherFlag]]:
    out: dict[int, list[VoucherFlag]] = {rid: [] for rid in redemption_ids}
    if not redemption_ids:
        return out
    rows = await session.scalars(
        select(VoucherFlag).where(VoucherFlag.redemption_id.in_(set(redemption_ids))).order_by(VoucherFlag.id)
    )
    for flag in rows.all():
        out[flag.redemption_id].append(flag)
    return out


async def idempotency_record(session: AsyncSession, user_id: int, key: str) -> IdempotencyRecord | None:
    return await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    )


async def redemption_states_by_id(session: AsyncSession, voucher_id: int) -> list[tuple[int, RedemptionState]]:
    rows = await session.execute(
        select(Redemption.id, Redemption.state).where(Redemption.voucher_id == voucher_id).order_by(Redemption.id)
    )
    return [(int(rid), RedemptionState(state)) for rid, state in rows]


# ---------------------------------------------------------------- applications


async def programs_taking_applications(session: AsyncSession, now: dt.datetime) -> list[VoucherProgram]:
    """Programs that take applications and have not stopped taking them (open now, or opening later)."""
    stmt = select(VoucherProgram).where(
        VoucherProgram.applications_open_at.is_not(None),
        VoucherProgram.valid_until > now,
        or_(VoucherProgram.applications_close_at.is_(None), VoucherProgram.applications_close_at > now),
    )
    return list((await session.scalars(stmt.order_by(VoucherProgram.applications_open_at, VoucherProgram.id))).all())


async def application(session: AsyncSession, application_id: int) -> VoucherApplication | None:
    return await session.get(VoucherApplication, application_id, populate_existing=True)


async def applications_by_id(session: AsyncSession, application_ids: Collection[int]) -> list[VoucherApplication]:
    """The applications with these ids that exist, in id order (not locked)."""
    if not application_ids:
        return []
    stmt = (
        select(VoucherApplication)
        .where(VoucherApplication.id.in_(set(application_ids)))
        .order_by(VoucherApplication.id)
    )
    return list((await session.scalars(stmt.execution_options(populate_existing=True))).all())


async def lock_applications(session: AsyncSession, application_ids: Sequence[int]) -> list[VoucherApplication]:
    """The applications, locked in id order (after their programs: see `vouchers.applications`)."""
    stmt = (
        select(VoucherApplication)
        .where(VoucherApplication.id.in_(set(application_ids)))
        .order_by(VoucherApplication.id)
        .with_for_update()
    )
    return list((await session.scalars(stmt.execution_options(populate_existing=True))).all())


async def submitted_applications(session: AsyncSession, program_id: int, *, limit: int) -> list[VoucherApplication]:
    """A program's applications waiting for a decision, oldest first, locked (after the program: see
    `vouchers.applications`)."""
    stmt = (
        select(VoucherApplication)
        .where(VoucherApplication.program_id == program_id, VoucherApplication.state == "submitted")
        .order_by(VoucherApplication.id)
        .limit(limit)
        .with_for_update()
    )
    return list((await session.scalars(stmt.execution_options(populate_existing=True))).all())


async def application_of(session: AsyncSession, program_id: int, enterprise_id: int) -> VoucherApplication | None:
    stmt = select(VoucherApplication).where(
        VoucherApplication.program_id == program_id, VoucherApplication.enterprise_id == enterprise_id
    )
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def applications_of_enterprise(
    session: AsyncSession, enterprise_id: int, program_ids: Sequence[int]
) -> dict[int, VoucherApplication]:
    if not program_ids:
        return {}
    rows = await session.scalars(
        select(VoucherApplication).where(
            VoucherApplication.enterprise_id == enterprise_id, VoucherApplication.program_id.in_(set(program_ids))
        )
    )
    return {a.program_id: a for a in rows.all()}


async def applications(
    session: AsyncSession,
    scope: Scope,
    *,
    program_id: int | None,
    state: str | None,
    region_prefix: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[VoucherApplication], int]:
    """The scope's applications (officials: those to their region's programmes; enterprise staff: their
    enterprise's), oldest first, and how many match in all."""
    conditions = [
        scope.where(enterprise=VoucherApplication.enterprise_id, region=program_region(VoucherApplication.program_id))
    ]
    if program_id is not None:
        conditions.append(VoucherApplication.program_id == program_id)
    if state is not None:
        conditions.append(VoucherApplication.state == state)
    if region_prefix is not None:
        conditions.append(VoucherApplication.region_code.startswith(region_prefix, autoescape=True))
    if q:
        conditions.append(
            or_(
                VoucherApplication.enterprise_name.contains(q, autoescape=True),
                VoucherApplication.credit_code.contains(q.upper(), autoescape=True),
            )
        )
    total = await session.scalar(select(func.count()).select_from(VoucherApplication).where(*conditions))
    stmt = select(VoucherApplication).where(*conditions).order_by(VoucherApplication.id).limit(limit).offset(offset)
    return list((await session.scalars(stmt)).all()), int(total or 0)


async def application_events(session: AsyncSession, application_id: int) -> list[ApplicationEvent]:
    stmt = (
        select(ApplicationEvent).where(ApplicationEvent.application_id == application_id).order_by(ApplicationEvent.id)
    )
    return list((await session.scalars(stmt)).all())


@dataclass(frozen=True, slots=True)
class VoucherHoldings:
    """An enterprise's vouchers at a glance: how many it received (from any programme) and the programmes of those
    it still holds (not revoked)."""

    received: int
    held_programs: frozenset[int]


async def voucher_holdings(session: AsyncSession, enterprise_id: int) -> VoucherHoldings:
    """`VoucherHoldings` in one query (an application's checks need both: the count shown, "already holds")."""
    rows = await session.execute(
        select(
            Voucher.program_id,
            func.count(),
            func.sum(case((Voucher.state != VoucherState.REVOKED.value, 1), else_=0)),
        )
        .where(Voucher.enterprise_id == enterprise_id)
        .group_by(Voucher.program_id)
    )
    received = 0
    held: set[int] = set()
    for program_id, count, not_revoked in rows:
        received += int(count)
        if not_revoked:
            held.add(int(program_id))
    return VoucherHoldings(received=received, held_programs=frozenset(held))


async def voucher_counts(session: AsyncSession, enterprise_ids: Sequence[int]) -> dict[int, int]:
    """How many vouchers each enterprise has received (from any program)."""
    if not enterprise_ids:
        return {}
    rows = await session.execute(
        select(Voucher.enterprise_id, func.count())
        .where(Voucher.enterprise_id.in_(set(enterprise_ids)))
        .group_by(Voucher.enterprise_id)
    )
    return {int(eid): int(n) for eid, n in rows}
