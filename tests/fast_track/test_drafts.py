"""The drafted documents: real .docx files python-docx reads back with the fields filled from the answers."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

import docx
from aiohttp.test_utils import TestClient

from core.auth import Role
from core.credit_code import make_credit_code
from fast_track.drafts import DOCX_TYPE, read_back
from tests.conftest import AccountFactory

Client = TestClient[Any, Any]
DRAFT = "/api/v1/fast-track/draft"


async def test_priority_exam_request_is_filled_from_the_answers(client: Client) -> None:
    params = {
        "track": "priority_exam",
        "kind": "invention",
        "stage": "substantive_exam",
        "technical_field": "锂电池隔膜",
        "exploiting": "true",
        "filed_abroad_after_china": "false",
        "application_number": "202310123456.7",
        "title": "一种锂电池复合隔膜",
        "applicant": "深圳某某新能源有限公司",
    }
    response = await client.get(f"{DRAFT}?{urlencode(params)}")
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == DOCX_TYPE
    assert "attachment" in response.headers["Content-Disposition"]
    content = await response.read()
    document = docx.Document(io.BytesIO(content))  # a real .docx
    assert document.paragraphs[0].text == "专利优先审查请求书（草稿）"
    cells = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert cells["申请号"] == "202310123456.7"
    assert cells["发明创造名称"] == "一种锂电池复合隔膜"
    assert cells["申请人"] == "深圳某某新能源有限公司"
    text = read_back(content)
    # Ground 1 (new energy is a national key industry) and ground 4 (exploiting), with the article.
    assert "☑ 第三条第（一）项" in text and "☑ 第三条第（四）项" in text
    assert "第三条第（五）项" not in text
    # Not ground 5 alone: the provincial recommendation is among the attachments.
    assert "推荐意见（盖章）" in text and "检索报告" in text
    assert "属于新能源领域" in text


async def test_ground_five_alone_needs_no_recommendation(client: Client) -> None:
    params = {
        "track": "priority_exam",
        "kind": "utility_model",
        "stage": "filed",
        "technical_field": "家具",
        "exploiting": "false",
        "filed_abroad_after_china": "true",
    }
    response = await client.get(f"{DRAFT}?{urlencode(params)}")
    assert response.status == 200, await response.text()
    text = read_back(await response.read())
    assert "☑ 第三条第（五）项" in text
    assert "推荐意见（盖章）" not in text
    assert "受理通知书副本" in text


async def test_pph_checklist_and_correspondence_table(client: Client) -> None:
    params = {"track": "pph", "kind": "invention", "stage": "filed", "foreign_allowed_office": "jp"}
    response = await client.get(f"{DRAFT}?{urlencode(params)}")
    assert response.status == 200, await response.text()
    document = docx.Document(io.BytesIO(await response.read()))
    correspondence = document.tables[1]
    assert [c.text for c in correspondence.rows[0].cells][1] == "JP可授权权利要求"
    assert len(correspondence.rows) == 11
    assert any(p.text == "☐ 合作局（JP）已认定至少一项权利要求可授权" for p in document.paragraphs)


async def test_a_route_the_plan_rules_out_gets_no_draft(client: Client) -> None:
    # Rule pph.stage: not after the first office action.
    params = {"track": "pph", "kind": "invention", "stage": "office_action", "foreign_allowed_office": "US"}
    response = await client.get(f"{DRAFT}?{urlencode(params)}")
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "route_not_open"
    bad = await client.get(f"{DRAFT}?track=normal&kind=invention")
    assert bad.status == 422
    assert (await bad.json())["error"]["details"][0]["field"] == "query.track"


async def test_the_applicant_comes_from_the_signed_in_enterprise(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    created = await client.post(
        "/api/v1/enterprises",
        json={
            "name": "杭州云栖智能装备有限公司",
            "credit_code": make_credit_code("91330106MA2J00001"),
            "region_code": "330106",
            "legal_representative": "陈志远",
        },
        headers=official.headers,
    )
    enterprise = await created.json()
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise["id"])
    params = {"track": "priority_exam", "kind": "invention", "stage": "substantive_exam", "exploiting": "true"}
    response = await client.get(f"{DRAFT}?{urlencode(params)}", headers=staff.headers)
    assert response.status == 200
    text = read_back(await response.read())
    assert "杭州云栖智能装备有限公司" in text


async def test_text_a_word_document_cannot_hold_is_refused_naming_the_field(client: Client) -> None:
    # Found by the schema fuzz: a control character in the application number failed the draft with a 500.
    for name, value in (("application_number", "P\x1a"), ("title", "隔膜\x00"), ("technical_field", "锂电\x0b")):
        params = {"track": "priority_exam", "kind": "invention", name: value}
        response = await client.get(f"{DRAFT}?{urlencode(params)}")
        assert response.status == 422, await response.text()
        assert (await response.json())["error"]["details"][0]["field"] == f"query.{name}"
    plan = await client.post("/api/v1/fast-track/plan", json={"kind": "invention", "situation": "急\x01"})
    assert plan.status == 422 and (await plan.json())["error"]["details"][0]["field"] == "situation"
