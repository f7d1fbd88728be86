"""Spending over time: GET /api/v1/voucher-programs/{id}/report/series — buckets of China days, weeks or months,
what counts as spent (as in the report), the cumulative sum against the budget, the bounds and who may see it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from typing import Any

import pytest
from sqlalchemy import update

from core.auth import Role
from core.db import Database
from tests.conftest import AccountFactory
from tests.vouchers.builders import EVIDENCE, Client, make_program
from tests.vouchers.conftest import World
from vouchers.models import Redemption
from vouchers.reports import MAX_SERIES_BUCKETS


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


async def redeem(client: Client, w: World, price_fen: int) -> int:
    response = await client.post(
        f"/api/v1/vouchers/{w.voucher['id']}/redeem",
        json={"agency_id": w.agency_id, "service_code": "invention", "price_fen": price_fen},
        headers=w.enterprise.headers,
    )
    assert response.status == 201, await response.text()
    redemption_id: int = (await response.json())["id"]
    return redemption_id


async def made_at(db: Database, redemption_id: int, moment: dt.datetime) -> None:
    async with db.transaction() as session:
        await session.execute(update(Redemption).where(Redemption.id == redemption_id).values(created_at=moment))


async def series(client: Client, w: World, **params: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/voucher-programs/{w.program['id']}/report/series", params=params, headers=w.official.headers
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def report_totals(client: Client, w: World) -> dict[str, Any]:
    response = await client.get(f"/api/v1/voucher-programs/{w.program['id']}/report", headers=w.official.headers)
    assert response.status == 200
    totals: dict[str, Any] = (await response.json())["totals"]
    return totals


async def spending_of_every_kind(client: Client, w: World, db: Database) -> None:
    """Settled, delivered, pending (spending) and rejected, cancelled (not), on different China days."""
    settled, delivered, pending, rejected, cancelled = [await redeem(client, w, 100_000) for _ in range(5)]
    for rid in (settled, delivered, rejected):
        confirmed = await client.post(f"/api/v1/redemptions/{rid}/confirm", json=EVIDENCE, headers=w.agency.headers)
        assert confirmed.status == 200, await confirmed.text()
    for rid, decision in ((settled, "approve"), (rejected, "reject")):
        decided = await client.post(
            f"/api/v1/redemptions/{rid}/settle",
            json={"decision": decision, "reason": "contract and filing receipt checked"},
            headers=w.official.headers,
        )
        assert decided.status == 200, await decided.text()
    withdrawn = await client.post(f"/api/v1/redemptions/{cancelled}/cancel", json={}, headers=w.enterprise.headers)
    assert withdrawn.status == 200, await withdrawn.text()
    # Now and exactly a day ago: two China days, both within the programme (it began a day ago). A fixed UTC hour
    # put "yesterday" before the programme's first China day from 16:00 to 24:00 UTC, and the test failed then.
    now = dt.datetime.now(dt.UTC)
    for days_ago, rid in enumerate((settled, delivered, pending, rejected, cancelled)):
        await made_at(db, rid, now - dt.timedelta(days=days_ago % 2))


# ---------------------------------------------------------------- the numbers


@pytest.mark.parametrize("bucket", ["day", "week", "month"])
async def test_buckets_add_up_to_the_reports_spending_and_the_cumulative_never_falls(
    client: Client, world: World, db: Database, bucket: str
) -> None:
    await spending_of_every_kind(client, world, db)
    totals = await report_totals(client, world)
    assert totals["redeemed_fen"] == 3 * 60_000  # settled, delivered and pending; not rejected, not cancelled

    body = await series(client, world, bucket=bucket)

    points = body["points"]
    assert body["bucket"] == bucket and body["timezone"] == "Asia/Shanghai"
    assert sum(p["redeemed_fen"] for p in points) == totals["redeemed_fen"]
    assert points[-1]["spent_fen"] == totals["redeemed_fen"]
    assert all(a["spent_fen"] <= b["spent_fen"] for a, b in itertools.pairwise(points))
    assert all(p["budget_fen"] == totals["budget_fen"] for p in points)
    assert points[0]["start"] == body["date_from"] and points[-1]["end"] == body["date_to"]
    assert all(
        dt.date.fromisoformat(a["end"]) + dt.timedelta(days=1) == dt.date.fromisoformat(b["start"])
        for a, b in itertools.pairwise(points)
    )


async def test_days_cover_the_programmes_validity_in_china_time(client: Client, world: World) -> None:
    body = await series(client, world)

    china = dt.timezone(dt.timedelta(hours=8))
    valid_from = dt.datetime.fromisoformat(world.program["valid_from"]).astimezone(china).date()
    valid_until = dt.datetime.fromisoformat(world.program["valid_until"]).astimezone(china).date()
    assert (body["date_from"], body["date_to"]) == (valid_from.isoformat(), valid_until.isoformat())
    assert len(body["points"]) == (valid_until - valid_from).days + 1
    assert all(p["start"] == p["end"] for p in body["points"])


async def test_an_empty_programme_has_every_bucket_at_zero(client: Client, world: World) -> None:
    body = await series(client, world, bucket="week")

    assert body["points"], "the weeks of the validity are listed even with nothing spent"
    assert {(p["redeemed_fen"], p["spent_fen"]) for p in body["points"]} == {(0, 0)}
    assert body["spent_before_fen"] == 0


async def test_a_redemption_at_23_30_utc_counts_for_the_next_china_day(
    client: Client, world: World, db: Database
) -> None:
    late, early = await redeem(client, world, 100_000), await redeem(client, world, 50_000)
    await made_at(db, late, utc("2026-03-01T23:30:00"))  # 07:30 on 2 March in China
    await made_at(db, early, utc("2026-03-01T15:59:00"))  # 23:59 on 1 March in China

    body = await series(client, world, **{"from": "2026-03-01", "to": "2026-03-03"})

    assert [(p["start"], p["redeemed_fen"], p["spent_fen"]) for p in body["points"]] == [
        ("2026-03-01", 30_000, 30_000),
        ("2026-03-02", 60_000, 90_000),
        ("2026-03-03", 0, 90_000),
    ]


async def test_weeks_start_on_monday_and_months_on_the_first_clipped_to_from_and_to(
    client: Client, world: World, db: Database
) -> None:
    sunday, monday, april = [await redeem(client, world, 100_000) for _ in range(3)]
    await made_at(db, sunday, utc("2026-03-08T10:00:00"))  # Sunday 8 March, China
    await made_at(db, monday, utc("2026-03-08T16:30:00"))  # 00:30 Monday 9 March, China
    await made_at(db, april, utc("2026-03-31T17:00:00"))  # 01:00 on 1 April, China

    weeks = await series(client, world, bucket="week", **{"from": "2026-03-04", "to": "2026-03-10"})
    months = await series(client, world, bucket="month", **{"from": "2026-03-04", "to": "2026-04-02"})

    assert [(p["start"], p["end"], p["redeemed_fen"]) for p in weeks["points"]] == [
        ("2026-03-04", "2026-03-08", 60_000),
        ("2026-03-09", "2026-03-10", 60_000),
    ]
    assert [(p["start"], p["end"], p["redeemed_fen"], p["spent_fen"]) for p in months["points"]] == [
        ("2026-03-04", "2026-03-31", 120_000, 120_000),
        ("2026-04-01", "2026-04-02", 60_000, 180_000),
    ]


async def test_spending_before_from_opens_the_cumulative_and_after_to_is_left_out(
    client: Client, world: World, db: Database
) -> None:
    before, inside, after = [await redeem(client, world, 100_000) for _ in range(3)]
    await made_at(db, before, utc("2026-03-01T15:00:00"))  # 23:00 on 1 March, China: before the range
    await made_at(db, inside, utc("2026-03-01T16:00:00"))  # 00:00 on 2 March, China: the first day
    await made_at(db, after, utc("2026-03-03T16:00:00"))  # 00:00 on 4 March, China: after the range

    body = await series(client, world, **{"from": "2026-03-02", "to": "2026-03-03"})

    assert body["spent_before_fen"] == 60_000
    assert [(p["redeemed_fen"], p["spent_fen"]) for p in body["points"]] == [(60_000, 120_000), (0, 120_000)]


async def test_the_series_as_csv_has_the_same_numbers(client: Client, world: World, db: Database) -> None:
    rid = await redeem(client, world, 100_000)
    await made_at(db, rid, utc("2026-03-02T01:00:00"))
    params = {"from": "2026-03-01", "to": "2026-03-03", "bucket": "day"}
    body = await series(client, world, **params)

    response = await client.get(
        f"/api/v1/voucher-programs/{world.program['id']}/report/series",
        params={**params, "format": "csv"},
        headers=world.official.headers,
    )

    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [{k: str(v) for k, v in p.items()} for p in body["points"]] == rows
    assert [r["redeemed_fen"] for r in rows] == ["0", "60000", "0"]


# ---------------------------------------------------------------- bad parameters


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bucket": "year"}, "query.bucket"),
        ({"from": "2026-02-30"}, "query.from"),
        ({"to": "yesterday"}, "query.to"),
        ({"from": "1999-12-31"}, "query.from"),
        ({"to": "2100-01-01"}, "query.to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "query.from"),
        ({"format": "xlsx"}, "query.format"),
    ],
)
async def test_bad_parameters_are_422_naming_them(
    client: Client, world: World, params: dict[str, str], field: str
) -> None:
    response = await client.get(
        f"/api/v1/voucher-programs/{world.program['id']}/report/series", params=params, headers=world.official.headers
    )

    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["details"][0]["field"] == field


@pytest.mark.parametrize("bucket", ["day", "week", "month"])
async def test_too_many_buckets_is_a_clear_422(client: Client, world: World, bucket: str) -> None:
    response = await client.get(
        f"/api/v1/voucher-programs/{world.program['id']}/report/series",
        params={"bucket": bucket, "from": "2000-01-01", "to": "2099-12-31"},
        headers=world.official.headers,
    )

    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "too_many_buckets"
    assert error["details"][0]["field"] == "query.bucket"
    assert str(MAX_SERIES_BUCKETS) in error["details"][0]["message"]


async def test_exactly_the_most_buckets_is_fine(client: Client, world: World) -> None:
    last = dt.date(2026, 1, 1) + dt.timedelta(days=MAX_SERIES_BUCKETS - 1)
    body = await series(client, world, **{"from": "2026-01-01", "to": last.isoformat()})

    assert len(body["points"]) == MAX_SERIES_BUCKETS


# ---------------------------------------------------------------- who may see it


async def test_only_officials_see_the_series(client: Client, world: World, make_account: AccountFactory) -> None:
    path = f"/api/v1/voucher-programs/{world.program['id']}/report/series"

    assert (await client.get(path)).status == 401
    assert (await client.get(path, headers=world.enterprise.headers)).status == 403
    assert (await client.get(path, headers=world.agency.headers)).status == 403
    assert (await client.get(path, headers=(await make_account(Role.OFFICIAL)).headers)).status == 200
    assert (await client.get(path, headers=world.official.headers)).status == 200


async def test_an_unknown_programme_is_404(client: Client, world: World) -> None:
    response = await client.get("/api/v1/voucher-programs/987654/report/series", headers=world.official.headers)

    assert response.status == 404


async def test_each_programme_has_its_own_series(client: Client, world: World, db: Database) -> None:
    await made_at(db, await redeem(client, world, 100_000), utc("2026-03-02T01:00:00"))
    other = await make_program(client, world.official.headers, name="另一个服务券计划")

    response = await client.get(
        f"/api/v1/voucher-programs/{other['id']}/report/series",
        params={"from": "2026-03-01", "to": "2026-03-03"},
        headers=world.official.headers,
    )

    assert {p["spent_fen"] for p in (await response.json())["points"]} == {0}
