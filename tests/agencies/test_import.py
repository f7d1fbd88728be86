"""POST /api/v1/agencies/credit-import: an official evaluation result file, validated row by row, all or nothing."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.auth import Role
from core.db import Database
from tests.agencies.builders import credit_code, make_agency
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]
CSV = {"Content-Type": "text/csv"}


async def post_csv(client: Client, text: str, headers: dict[str, str]) -> Any:
    response = await client.post(
        "/api/v1/agencies/credit-import", data=text.encode("utf-8"), headers={**CSV, **headers}
    )
    return response.status, await response.json()


async def levels(client: Client, *ids: int) -> list[tuple[int, str]]:
    out = []
    for agency_id in ids:
        body = await (await client.get(f"/api/v1/agencies/{agency_id}")).json()
        out.append((body["rating"]["score"], body["rating"]["level"]))
    return out


async def two_agencies(db: Database) -> tuple[int, int]:
    first = await make_agency(db, score=100)
    second = await make_agency(db, score=100)
    return first, second


async def test_a_good_file_sets_every_rating(client: Client, db: Database, make_account: AccountFactory) -> None:
    first, second = await two_agencies(db)
    official = await make_account(Role.OFFICIAL)
    codes = []
    for agency_id in (first, second):
        codes.append((await (await client.get(f"/api/v1/agencies/{agency_id}")).json())["credit_code"])
    text = (
        "\ufeffcredit_code,name,score,level,evaluated_on,reference_doc\r\n"
        f"{codes[0]},甲,104,A+,2025-12-31,国知办函运字〔2026〕1号\r\n"
        f"{codes[1]},乙,78,C,2025-12-31,国知办函运字〔2026〕1号\r\n"
    )
    status, body = await post_csv(client, text, official.headers)
    assert status == 200, body
    assert (body["imported"], body["changed"]) == (2, 2)
    assert await levels(client, first, second) == [(104, "A_plus"), (78, "C")]
    # Later events count on top of the imported baseline.
    event = {"category": "industry_discipline", "points": -10, "reason": "通报批评"}
    response = await client.post(f"/api/v1/agencies/{second}/credit-events", json=event, headers=official.headers)
    assert (await response.json())["rating"]["score"] == 68


async def test_events_before_an_import_are_part_of_it_and_cannot_be_reversed(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    agency_id = await make_agency(db, score=100)
    official = await make_account(Role.OFFICIAL)
    code = (await (await client.get(f"/api/v1/agencies/{agency_id}")).json())["credit_code"]
    event = {"category": "late_annual_report", "points": -20, "reason": "逾期"}
    added = await (
        await client.post(f"/api/v1/agencies/{agency_id}/credit-events", json=event, headers=official.headers)
    ).json()
    status, _ = await post_csv(client, f"credit_code,score,evaluated_on\n{code},85,2026-01-15\n", official.headers)
    assert status == 200
    assert await levels(client, agency_id) == [(85, "B")]
    response = await client.post(
        f"/api/v1/agencies/{agency_id}/credit-events/{added['event']['id']}/reverse",
        json={"reason": "撤销"},
        headers=official.headers,
    )
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "not_reversible"


async def test_a_bad_file_reports_every_bad_row_and_saves_nothing(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    first, second = await two_agencies(db)
    official = await make_account(Role.OFFICIAL)
    code = (await (await client.get(f"/api/v1/agencies/{first}")).json())["credit_code"]
    text = (
        "credit_code,score,level,evaluated_on\n"
        f"{code},95,A,2025-12-31\n"  # line 2: fine
        "91330100MA0000000X,90,A,2025-12-31\n"  # line 3: check character
        f"{code},95,A,2025-12-31\n"  # line 4: duplicate
        f"{code[:-1]}{'0' if code[-1] != '0' else '1'},95,A,2025-12-31\n"  # line 5: check character again
        f"{credit_code(999)},eighty,B,2025-12-31\n"  # line 6: score
        f"{credit_code(998)},85,A,2025-12-31\n"  # line 7: level does not match
        f"{credit_code(997)},85,B,31/12/2025\n"  # line 8: date
        f"{credit_code(996)},85\n"  # line 9: too few cells
    )
    status, body = await post_csv(client, text, official.headers)
    assert status == 422, body
    assert body["error"]["code"] == "csv_invalid"
    problems = {(p["line"], p["column"]) for p in body["error"]["details"]}
    assert problems == {
        (3, "credit_code"),
        (4, "credit_code"),
        (5, "credit_code"),
        (6, "score"),
        (7, "level"),
        (8, "evaluated_on"),
        (9, None),
    }
    assert await levels(client, first, second) == [(100, "A"), (100, "A")]


async def test_unknown_agencies_are_reported_and_nothing_is_saved(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    first, _ = await two_agencies(db)
    official = await make_account(Role.OFFICIAL)
    code = (await (await client.get(f"/api/v1/agencies/{first}")).json())["credit_code"]
    text = f"credit_code,score,evaluated_on\n{code},70,2025-12-31\n{credit_code(777)},70,2025-12-31\n"
    status, body = await post_csv(client, text, official.headers)
    assert status == 422
    assert [(p["line"], p["column"]) for p in body["error"]["details"]] == [(3, "credit_code")]
    assert await levels(client, first) == [(100, "A")]


async def test_header_problems(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    status, body = await post_csv(client, "credit_code,rating\n", official.headers)
    assert status == 422
    assert {(p["line"], p["column"]) for p in body["error"]["details"]} == {
        (1, "score"),
        (1, "evaluated_on"),
        (1, "rating"),
    }
    status, body = await post_csv(client, "", official.headers)
    assert status == 422 and body["error"]["details"][0]["message"] == "the file is empty"


async def test_who_may_import_and_in_what_format(client: Client, db: Database, make_account: AccountFactory) -> None:
    agency_id = await make_agency(db)
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    official = await make_account(Role.OFFICIAL)
    assert (await post_csv(client, "credit_code,score,evaluated_on\n", {}))[0] == 401
    assert (await post_csv(client, "credit_code,score,evaluated_on\n", staff.headers))[0] == 403
    response = await client.post("/api/v1/agencies/credit-import", json={"rows": []}, headers=official.headers)
    assert response.status == 415
    latin1 = await client.post(
        "/api/v1/agencies/credit-import",
        data="credit_code,score\n甲".encode("gbk"),
        headers={**CSV, **official.headers},
    )
    assert latin1.status == 422
