"""The protection centres table: read by anyone and by the planner, kept by officials within their jurisdiction,
every change written to the audit with who, when and what changed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.catalogue import FieldCode
from core import regions
from core.auth import Principal
from core.db import utcnow
from core.errors import Conflict, NotFound
from fast_track.models import CentreAudit, ProtectionCentre
from fast_track.permissions import PERMISSIONS, Action
from fast_track.planner import Centre
from fast_track.schemas import CentreAuditOut, CentreIn, CentreOut, CentrePatch, CentreQuery

LIST_COLUMNS = ("region_codes", "fields", "ipc_classes", "words", "application_types")


def _list(raw: str) -> list[str]:
    value = json.loads(raw)
    return [str(v) for v in value] if isinstance(value, list) else []


def centre_out(row: ProtectionCentre) -> CentreOut:
    return CentreOut(
        id=row.id,
        name=row.name,
        name_en=row.name_en,
        kind="fast_rights" if row.kind == "fast_rights" else "protection",
        seat_region=row.seat_region,
        seat_region_name=regions.display_name(row.seat_region),
        region_codes=_list(row.region_codes),
        fields=[FieldCode(f) for f in _list(row.fields)],
        ipc_classes=_list(row.ipc_classes),
        words=_list(row.words),
        application_types=_list(row.application_types),
        contact=row.contact,
        record_url=row.record_url,
        scope_confirmed=row.scope_confirmed,
        source=row.source,
        updated_at=row.updated_at,
    )


def centre_of(row: ProtectionCentre) -> Centre:
    """The row as the planner reads it."""
    return Centre(
        id=row.id,
        name=row.name,
        name_en=row.name_en,
        kind=row.kind,
        region_codes=tuple(_list(row.region_codes)),
        fields=tuple(FieldCode(f) for f in _list(row.fields)),
        words=tuple(_list(row.words)),
        application_types=tuple(_list(row.application_types)),
        contact=row.contact,
        record_url=row.record_url,
        scope_confirmed=row.scope_confirmed,
    )


async def all_centres(session: AsyncSession) -> list[Centre]:
    rows = (await session.scalars(select(ProtectionCentre).order_by(ProtectionCentre.id))).all()
    return [centre_of(row) for row in rows]


async def list_centres(session: AsyncSession, query: CentreQuery) -> list[CentreOut]:
    """Every centre (anyone may read them), or those serving `query.region`, most specific area first."""
    stmt = select(ProtectionCentre).order_by(ProtectionCentre.seat_region, ProtectionCentre.id)
    if query.kind is not None:
        stmt = stmt.where(ProtectionCentre.kind == query.kind)
    rows = (await session.scalars(stmt)).all()
    if query.region is None:
        return [centre_out(row) for row in rows]
    region = query.region
    serving = [(centre_of(row).specificity(region), row) for row in rows if centre_of(row).serves(region)]
    serving.sort(key=lambda pair: -pair[0])
    return [centre_out(row) for _, row in serving]


async def get_centre(session: AsyncSession, centre_id: int) -> CentreOut:
    return centre_out(await _existing(session, centre_id))


async def _existing(session: AsyncSession, centre_id: int) -> ProtectionCentre:
    row = await session.get(ProtectionCentre, centre_id)
    if row is None:
        raise NotFound(f"no protection centre {centre_id}")
    return row


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(list(v), ensure_ascii=False) if k in LIST_COLUMNS else v for k, v in values.items()}


def _audit(session: AsyncSession, actor: Principal, centre_id: int, action: str, changes: dict[str, Any]) -> None:
    session.add(
        CentreAudit(
            centre_id=centre_id,
            action=action,
            actor_id=actor.user_id,
            actor_role=actor.role.value,
            at=utcnow(),
            changes=json.dumps(changes, ensure_ascii=False, default=str),
        )
    )


async def _name_taken(session: AsyncSession, name: str, but: int | None = None) -> None:
    stmt = select(ProtectionCentre.id).where(ProtectionCentre.name == name)
    found = await session.scalar(stmt)
    if found is not None and found != but:
        raise Conflict(f"a centre named {name!r} exists already", code="centre_exists")


async def create_centre(session: AsyncSession, principal: Principal | None, body: CentreIn) -> CentreOut:
    actor = PERMISSIONS.check(principal, Action.MANAGE_CENTRES)
    PERMISSIONS.check_region(actor, Action.MANAGE_CENTRES, body.seat_region, "the centre")
    await _name_taken(session, body.name)
    values = body.model_dump()
    seat = values.pop("seat_region")
    row = ProtectionCentre(seat_region=seat, updated_by=actor.user_id, **_columns(values))
    session.add(row)
    await session.flush()
    _audit(session, actor, row.id, "created", {"seat_region": seat, **values})
    await session.flush()
    await session.refresh(row)
    return centre_out(row)


async def update_centre(
    session: AsyncSession, principal: Principal | None, centre_id: int, body: CentrePatch
) -> CentreOut:
    actor = PERMISSIONS.check(principal, Action.MANAGE_CENTRES)
    row = await _existing(session, centre_id)
    PERMISSIONS.check_region(actor, Action.MANAGE_CENTRES, row.seat_region, f"centre {centre_id}")
    patch = body.model_dump(exclude_unset=True)
    if patch.get("name") is None:
        patch.pop("name", None)
    if "name" in patch:
        await _name_taken(session, patch["name"], but=row.id)
    before = centre_out(row).model_dump(mode="json")
    changes: dict[str, Any] = {}
    for key, value in _columns(patch).items():
        if key in ("name_en", "kind", "contact", "source", "scope_confirmed") and value is None:
            continue  # these columns hold no null: an explicit null leaves them as they are
        if getattr(row, key) != value:
            new = patch[key]
            changes[key] = {"from": before.get(key), "to": list(new) if isinstance(new, list) else new}
            setattr(row, key, value)
    if changes:
        row.updated_by = actor.user_id
        row.updated_at = utcnow()
        _audit(session, actor, row.id, "updated", changes)
        await session.flush()
    return centre_out(row)


async def delete_centre(session: AsyncSession, principal: Principal | None, centre_id: int) -> None:
    actor = PERMISSIONS.check(principal, Action.MANAGE_CENTRES)
    row = await _existing(session, centre_id)
    PERMISSIONS.check_region(actor, Action.MANAGE_CENTRES, row.seat_region, f"centre {centre_id}")
    # The audit outlives the row: its lines keep the centre's id; the deletion line records what was removed.
    _audit(session, actor, row.id, "deleted", centre_out(row).model_dump(mode="json"))
    await session.flush()
    await session.delete(row)
    await session.flush()


async def centre_audit(session: AsyncSession, principal: Principal | None, centre_id: int) -> list[CentreAuditOut]:
    actor = PERMISSIONS.check(principal, Action.READ_CENTRE_AUDIT)
    row = await _existing(session, centre_id)
    PERMISSIONS.check_region(actor, Action.READ_CENTRE_AUDIT, row.seat_region, f"centre {centre_id}")
    lines = (
        await session.scalars(select(CentreAudit).where(CentreAudit.centre_id == centre_id).order_by(CentreAudit.id))
    ).all()
    return [
        CentreAuditOut(
            id=line.id,
            centre_id=line.centre_id,
            action=line.action,
            actor_id=line.actor_id,
            at=line.at,
            changes=json.loads(line.changes),
        )
        for line in lines
    ]
