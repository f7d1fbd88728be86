"""Whole numbers in other scripts' digits, or longer than any column holds, wherever the service reads one.

`tests/security/test_fuzz.py` sends such numbers as every path id and integer query parameter of the OpenAPI
document; these are the other doors: JSON bodies, the query forms pydantic also reads as integers, CSV cells,
region codes, and identifiers stored earlier (a ticket's sender).
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.models import ConsultationTicket
from core.db import Database
from core.digits import ascii_int, is_ascii_digits
from tests.support.world import World, agency_body, enterprise_body

Client = TestClient[Any, Any]


async def expect_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    body = await response.json()
    assert (response.status, body["error"]["code"]) == (status, code), body
    if field is not None:
        assert body["error"]["details"][0]["field"] == field, body
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize("text", ["²", "①", "١٢", "１２", "12²", "", " 12", "+12", "-1", "1_0", "9" * 19, "9" * 5000])
def test_only_bounded_ascii_digits_are_read(text: str) -> None:
    assert ascii_int(text, max_digits=18) is None


def test_ascii_digits_are_read() -> None:
    assert ascii_int("0042", max_digits=18) == 42
    assert ascii_int("9" * 18, max_digits=18) == 10**18 - 1
    assert is_ascii_digits("0123456789") and not is_ascii_digits("12\n")


async def test_an_integer_field_sent_as_a_long_string_is_422_naming_the_field(client: Client, world: World) -> None:
    # pydantic reads "9…9" and "1_0…0" as integers of any size; no column holds them.
    for text in ("9" * 25, "1_" + "0" * 25):
        response = await client.post(
            f"/api/v1/agencies/{world.agency_a}/reviews",
            json={"redemption_id": text, "rating": 5},
            headers=world.enterprise_own.headers,
        )
        await expect_error(response, 422, "validation_error", "redemption_id")


async def test_an_integer_literal_past_pythons_limit_is_422_naming_the_field(client: Client, world: World) -> None:
    body = b'{"redemption_id": ' + b"9" * 5000 + b', "rating": 5}'
    response = await client.post(
        f"/api/v1/agencies/{world.agency_a}/reviews",
        data=body,
        headers={**world.enterprise_own.headers, "Content-Type": "application/json"},
    )
    error = await expect_error(response, 422, "validation_error", "redemption_id")
    assert "digits" not in error["message"]


async def test_query_integers_in_any_form_pydantic_reads_are_bounded(client: Client, world: World) -> None:
    for text in ("1_" + "0" * 30, "1" * 30 + ".0", " " + "9" * 30):
        response = await client.get("/api/v1/redemptions", params={"program_id": text}, headers=world.official.headers)
        await expect_error(response, 422, "validation_error", "query.program_id")


async def test_a_body_that_is_not_json_is_400_with_a_fixed_message(client: Client) -> None:
    for raw, message in (
        (b"\xff\xfe\xfa", "the body is not valid JSON (not UTF-8 text)"),
        (b'{"username": ', "the body is not valid JSON (line 1, column 14)"),
    ):
        response = await client.post("/api/v1/auth/login", data=raw, headers={"Content-Type": "application/json"})
        error = await expect_error(response, 400, "invalid_json")
        assert error["message"] == message


async def test_a_csv_batch_with_other_digits_is_422_naming_line_and_column(client: Client, world: World) -> None:
    for cell in ("²", "١٢", "9" * 5000):
        response = await client.post(
            f"/api/v1/voucher-programs/{world.program_id}/vouchers",
            data=f"enterprise_id\n{cell}\n".encode(),
            headers={**world.official.headers, "Content-Type": "text/csv"},
        )
        error = await expect_error(response, 422, "validation_error")
        assert error["details"][0]["line"] == 2 and error["details"][0]["column"] == "enterprise_id"


@pytest.mark.parametrize("code", ["3３0106", "33٠106", "330１06"])
async def test_region_codes_are_ascii_digits(client: Client, world: World, code: str) -> None:
    headers = world.official.headers
    enterprise = await client.post("/api/v1/enterprises", json=enterprise_body(region_code=code), headers=headers)
    await expect_error(enterprise, 422, "validation_error", "region_code")
    agency = await client.post("/api/v1/agencies", json=agency_body(region_code=code), headers=headers)
    await expect_error(agency, 422, "validation_error", "region_code")
    search = await client.get("/api/v1/enterprises", params={"region": code}, headers=headers)
    await expect_error(search, 422, "validation_error", "query.region")
    directory = await client.get("/api/v1/voucher-programs", params={"region": code})
    await expect_error(directory, 422, "validation_error", "query.region")


async def test_answering_a_ticket_whose_sender_id_is_not_a_number_is_not_a_500(
    client: Client, world: World, db: Database
) -> None:
    async with db.transaction() as session:
        ticket = ConsultationTicket(sender_id="u:²", channel="miniprogram", question="优先审查需要哪些材料？")
        session.add(ticket)
        await session.flush()
        ticket_id = ticket.id
    response = await client.patch(
        f"/api/v1/assistant/tickets/{ticket_id}", json={"answer": "见官网。"}, headers=world.official.headers
    )
    assert response.status == 200, await response.text()
