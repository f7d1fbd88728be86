"""Poster QR codes with a scene: downloaded by officials (any agency, any programme) and agency staff (their own
agency), answered when scanned — a new follower (`subscribe` + `qrscene_…`) or an existing one (`SCAN`) — with the
agency's card and follow link or the programme's page, and counted per agency and programme."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.auth import Role
from core.settings import Settings
from tests.conftest import AccountFactory
from tests.support.world import agency_body, program_body
from wechat_standin.app import StandIn, official_openid_for
from wechat_standin.server import WeChatServer, event_message

from .conftest import RecordingEngine

Client = TestClient[Any, Any]
PNG = b"\x89PNG\r\n\x1a\n"
AGENCY_NAME = "杭州扫码测试专利代理事务所"


async def _agency_and_program(client: Client, make_account: AccountFactory) -> tuple[Any, int, int]:
    official = await make_account(Role.OFFICIAL)
    agency = await client.post("/api/v1/agencies", json=agency_body(name_zh=AGENCY_NAME), headers=official.headers)
    assert agency.status == 201, await agency.text()
    program = await client.post("/api/v1/voucher-programs", json=program_body(), headers=official.headers)
    assert program.status == 201, await program.text()
    return official, int((await agency.json())["id"]), int((await program.json())["id"])


async def test_scans_of_an_agency_poster_answer_its_card_and_are_counted(
    client: Client,
    standin: StandIn,
    wx: WeChatServer,
    engine: RecordingEngine,
    make_account: AccountFactory,
    settings: Settings,
) -> None:
    official, agency_id, _program_id = await _agency_and_program(client, make_account)
    poster = await client.get(f"/api/v1/wechat/qrcodes/agency/{agency_id}", headers=official.headers)
    assert poster.status == 200, await poster.text()
    assert poster.content_type == "image/png"
    assert (await poster.read()).startswith(PNG)
    assert f'filename="qrcode-agency-{agency_id}.png"' in poster.headers["Content-Disposition"]
    assert standin.qrcodes and list(standin.qrcodes.values()) == [f"agency:{agency_id}"]

    new = await wx.deliver(
        event_message(official_openid_for(standin.appid, "erin"), "subscribe", f"qrscene_agency:{agency_id}")
    )
    assert new.status == 200 and new.reply is not None
    page = f"{settings.public_base}/console/m/agencies/{agency_id}"
    assert new.reply.startswith("欢迎关注！")
    assert AGENCY_NAME in new.reply
    assert f'<a href="{page}?follow=1">关注这家机构</a>' in new.reply

    again = await wx.deliver(event_message(official_openid_for(standin.appid, "frank"), "SCAN", f"agency:{agency_id}"))
    assert again.reply is not None and "欢迎关注" not in again.reply and page in again.reply
    assert engine.turns == []  # answered by the webhook, not the assistant

    report = await client.get("/api/v1/wechat/qrcodes", headers=official.headers)
    assert report.status == 200
    [row] = (await report.json())["items"]
    assert row["scene"] == f"agency:{agency_id}" and row["kind"] == "agency" and row["target_id"] == agency_id
    assert (row["new_followers"], row["follower_scans"], row["total"]) == (1, 1, 2)


async def test_a_retried_scan_event_is_counted_once(
    client: Client, standin: StandIn, wx: WeChatServer, make_account: AccountFactory
) -> None:
    official, agency_id, _program_id = await _agency_and_program(client, make_account)
    assert (await client.get(f"/api/v1/wechat/qrcodes/agency/{agency_id}", headers=official.headers)).status == 200
    xml = event_message(official_openid_for(standin.appid, "gina"), "SCAN", f"agency:{agency_id}")
    envelope = wx.envelope(xml)
    for _delivery in range(3):  # WeChat's retries: the very same request
        response = await wx.http.post(wx.url, params=envelope.params, data=envelope.body.encode())
        assert response.status == 200
    [row] = (await (await client.get("/api/v1/wechat/qrcodes", headers=official.headers)).json())["items"]
    assert row["follower_scans"] == 1


async def test_a_programme_poster_answers_its_application_page(
    client: Client, standin: StandIn, wx: WeChatServer, make_account: AccountFactory, settings: Settings
) -> None:
    official, _agency_id, program_id = await _agency_and_program(client, make_account)
    assert (await client.get(f"/api/v1/wechat/qrcodes/program/{program_id}", headers=official.headers)).status == 200
    new = await wx.deliver(
        event_message(official_openid_for(standin.appid, "hal"), "subscribe", f"qrscene_program:{program_id}")
    )
    assert new.reply is not None
    assert program_body()["name"] in new.reply
    assert f"{settings.public_base}/console/m/vouchers?program={program_id}" in new.reply
    scan = await wx.deliver(event_message(official_openid_for(standin.appid, "ivy"), "SCAN", f"program:{program_id}"))
    assert scan.reply is not None and program_body()["name"] in scan.reply
    [row] = (await (await client.get("/api/v1/wechat/qrcodes", headers=official.headers)).json())["items"]
    assert (row["kind"], row["new_followers"], row["follower_scans"]) == ("program", 1, 1)


async def test_a_plain_subscribe_still_gets_the_welcome_menu(
    client: Client, standin: StandIn, wx: WeChatServer
) -> None:
    delivery = await wx.deliver(event_message(official_openid_for(standin.appid, "jo"), "subscribe"))
    assert delivery.reply is not None and "知识产权政策助手" in delivery.reply


async def test_who_may_download_which_poster(client: Client, standin: StandIn, make_account: AccountFactory) -> None:
    official, agency_id, program_id = await _agency_and_program(client, make_account)
    other = await client.post("/api/v1/agencies", json=agency_body(), headers=official.headers)
    assert other.status == 201
    other_id = int((await other.json())["id"])
    staff = await make_account(Role.AGENCY, agency_id=agency_id)
    enterprise_user = (await (await client.post("/api/v1/auth/wechat-login", json={"code": "kim.1"})).json())["token"]

    assert (await client.get(f"/api/v1/wechat/qrcodes/agency/{agency_id}", headers=staff.headers)).status == 200
    foreign = await client.get(f"/api/v1/wechat/qrcodes/agency/{other_id}", headers=staff.headers)
    assert foreign.status == 403 and (await foreign.json())["error"]["code"] == "not_your_agency"
    programme = await client.get(f"/api/v1/wechat/qrcodes/program/{program_id}", headers=staff.headers)
    assert programme.status == 403 and (await programme.json())["error"]["code"] == "forbidden"
    enterprise = await client.get(
        f"/api/v1/wechat/qrcodes/agency/{agency_id}", headers={"Authorization": f"Bearer {enterprise_user}"}
    )
    assert enterprise.status == 403 and (await enterprise.json())["error"]["code"] == "forbidden"
    anonymous = await client.get(f"/api/v1/wechat/qrcodes/agency/{agency_id}")
    assert anonymous.status == 401 and (await anonymous.json())["error"]["code"] == "unauthenticated"
    missing = await client.get("/api/v1/wechat/qrcodes/agency/999999", headers=official.headers)
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "agency_not_found"
    unknown_kind = await client.get(f"/api/v1/wechat/qrcodes/enterprise/{agency_id}", headers=official.headers)
    assert unknown_kind.status == 404
    report = await client.get("/api/v1/wechat/qrcodes", headers=staff.headers)
    assert report.status == 403 and (await report.json())["error"]["code"] == "forbidden"
    assert standin.calls["qrcode/create"] == 1  # the refusals asked WeChat for nothing
