"""The knowledge loop through the real routes and `/bot/actions`: the queue grouped, an official's answer published
with its source, the askers told, the answer served to new wordings (actions and the chat's fallback), expiry,
withdrawal, jurisdictions, corrections, audit, and the export as training data."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.factory import create_app
from bot import knowledge, service
from bot.knowledge import LEARNED_MAX, china_today, learned_intent
from bot.models import ConsultationTicket, KnowledgeAnswer, KnowledgeAudit, UnansweredQuestion
from core.auth import Principal, Role
from core.db import DATABASE, Database
from core.events import EventBus, TicketAnswered
from core.settings import Settings
from tests.bot.builders import action_call, signed
from tests.bot.test_actions import run, texts
from tests.bot.test_gateway import closed_port
from tests.conftest import Account, AccountFactory
from tests.vouchers.builders import make_enterprise

Client = TestClient[Any, Any]

FEE_QUESTIONS = [
    ("wx:o-fee-1", "专利年费可以减缴吗", "low_confidence"),
    ("wx:o-fee-2", "小企业专利年费减免怎么申请", "out_of_scope"),
    ("wx:o-fee-2", "专利年费太贵了有没有优惠", "low_confidence"),
]
OTHER_QUESTIONS = [
    ("wx:o-other", "软件著作权怎么登记", "out_of_scope"),
    ("wx:o-else", "今天天气怎么样", "out_of_scope"),
]
NEW_WORDING = "交专利年费有减免政策没"
ANSWER = "符合条件的小微企业和个人可按85%的比例减缴专利年费（授权当年起前十年），在专利业务办理系统提交费减备案即可。"
SOURCE = {
    "document": "专利收费减缴办法",
    "article": "第三条",
    "date": "2016-09-01",
    "status": "in_force",
}


async def queue(db: Database, questions: list[tuple[str, str, str]], user_id: int | None = None) -> list[int]:
    ids = []
    async with db.transaction() as session:
        for sender, text, reason in questions:
            row = await service.record_unanswered(
                session, sender_id=sender, principal=None, text=text, lang="zh", reason=reason
            )
            if user_id is not None and sender.startswith("u:"):
                row.user_id = user_id
            ids.append(row.id)
    return ids


def body(question_ids: list[int], **overrides: Any) -> dict[str, Any]:
    return {
        "question_ids": question_ids,
        "question": "专利年费能减缴吗？",
        "answer": ANSWER,
        "source": SOURCE,
        **overrides,
    }


async def publish(client: Client, official: Account, question_ids: list[int], **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/assistant/knowledge", json=body(question_ids, **overrides), headers=official.headers
    )
    assert response.status == 201, await response.text()
    published: dict[str, Any] = await response.json()
    return published


async def clarify(
    client: Client, settings: Settings, text: str, sender: str = "wx:o-new", principal: Principal | None = None
) -> dict[str, Any]:
    """What the assistant says to `text` read as low confidence (nlu_fallback → action_clarify), as Rasa asks."""
    ranking = [("nlu_fallback", 0.55), ("ask_ip_insurance", 0.3), ("ask_pledge_financing", 0.2)]
    openid = sender[3:] if sender.startswith("wx:") else None
    return await run(
        client,
        action_call(
            "action_clarify",
            text=text,
            intent="nlu_fallback",
            ranking=ranking,
            slots={"lang": "zh"},
            sender_id=sender,
            metadata=signed(settings, sender, principal, text=text, openid=openid),
        ),
    )


# ---------------------------------------------------------------- the queue


async def test_the_queue_groups_alike_questions_largest_first(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    fee = await queue(db, FEE_QUESTIONS)
    other = await queue(db, OTHER_QUESTIONS)
    official = await make_account(Role.OFFICIAL)
    page = await (await client.get("/api/v1/assistant/knowledge/groups", headers=official.headers)).json()
    assert page["questions"] == 5 and page["total"] == 3 and page["threshold"] == 0.4
    first = page["items"][0]
    assert first["question_ids"] == fee and first["size"] == 3 and first["askers"] == 2 and first["lang"] == "zh"
    assert [q["text"] for q in first["questions"]] == [t for _s, t, _r in FEE_QUESTIONS]
    assert sorted(g["question_ids"][0] for g in page["items"][1:]) == other
    only = await client.get("/api/v1/assistant/knowledge/groups?reason=low_confidence", headers=official.headers)
    assert [g["question_ids"] for g in (await only.json())["items"]] == [[fee[0], fee[2]]]
    bad = await client.get("/api/v1/assistant/knowledge/groups?reason=lost", headers=official.headers)
    assert bad.status == 422


# ---------------------------------------------------------------- publishing and telling


async def test_an_answer_to_a_group_tells_every_asker_once_and_leaves_the_queue(
    client: Client, db: Database, make_account: AccountFactory, event_bus: EventBus
) -> None:
    told: list[TicketAnswered] = []

    async def deliver(_session: AsyncSession, event: TicketAnswered) -> None:
        told.append(event)

    event_bus.subscribe(TicketAnswered, deliver)
    enterprise_id = await make_enterprise(db)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    mine = f"u:{staff.user_id}"
    fee = await queue(db, [*FEE_QUESTIONS, (mine, "专利年费减缴需要什么材料", "handoff")], user_id=staff.user_id)
    # The mini-program user had asked for a person: their open ticket is the one answered.
    async with db.transaction() as session:
        handoff, _ = await service.open_ticket(
            session,
            sender_id=mine,
            channel="miniprogram",
            principal=Principal(user_id=staff.user_id, username="", role=Role.ENTERPRISE, enterprise_id=enterprise_id),
            lang="zh",
            question="专利年费减缴需要什么材料",
            transcript=["专利年费减缴需要什么材料", "转人工"],
        )
    official = await make_account(Role.OFFICIAL)
    published = await publish(client, official, fee, expires_on=(china_today() + dt.timedelta(days=30)).isoformat())
    assert published["state"] == "active" and published["status"] == "active"
    assert published["examples"] == 4 and published["told"] == 3 and published["region_code"] == "000000"
    assert published["source"] == SOURCE and published["lang"] == "zh" and published["created_by"] == official.user_id

    assert sorted(e.sender_id for e in told) == sorted(["wx:o-fee-1", "wx:o-fee-2", mine])
    for event in told:
        assert ANSWER in event.answer and "来源：《专利收费减缴办法》第三条（2016-09-01，现行有效）" in event.answer
    assert {e.ticket_id for e in told if e.sender_id == mine} == {handoff.id}
    # One ticket per conversation: o-fee-2 asked twice, is told once.
    async with db.transaction() as session:
        tickets = (await session.scalars(select(ConsultationTicket).order_by(ConsultationTicket.id))).all()
        audit = (await session.scalars(select(KnowledgeAudit))).all()
    assert len(tickets) == 3 and {t.status for t in tickets} == {"answered"}
    assert {t.knowledge_answer_id for t in tickets} == {published["id"]}
    assert {t.channel for t in tickets} == {"wechat", "miniprogram"}
    assert [(a.action, a.actor_user_id, a.questions) for a in audit] == [("published", official.user_id, 4)]

    # The asker reads it among their tickets, whatever WeChat allowed.
    own = await (await client.get("/api/v1/me/tickets", headers=staff.headers)).json()
    assert [(t["id"], t["status"]) for t in own["items"]] == [(handoff.id, "answered")]
    assert ANSWER in own["items"][0]["answer"]
    # The questions are labelled examples now, out of the queue.
    page = await (await client.get("/api/v1/assistant/knowledge/groups", headers=official.headers)).json()
    assert page["total"] == 0
    listed = await (await client.get("/api/v1/assistant/unanswered", headers=official.headers)).json()
    assert {q["knowledge_answer_id"] for q in listed["items"]} == {published["id"]}
    # Answering them again (another official, a stale screen) is refused; nothing changes.
    again = await client.post("/api/v1/assistant/knowledge", json=body(fee[:1]), headers=official.headers)
    assert again.status == 409 and (await again.json())["error"]["code"] == "questions_already_answered"
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(KnowledgeAnswer)) == 1
    assert len(told) == 3


async def test_bad_answers_are_refused_naming_the_field_and_change_nothing(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    fee = await queue(db, FEE_QUESTIONS)
    official = await make_account(Role.OFFICIAL)
    url = "/api/v1/assistant/knowledge"
    yesterday = (china_today() - dt.timedelta(days=1)).isoformat()
    cases: list[tuple[dict[str, Any], str]] = [
        (body(fee, expires_on=yesterday), "expires_on"),
        (body(fee, intent="ask_everything"), "intent"),
        (body([*fee, 99999999]), "question_ids"),
        (body([]), "question_ids"),
        (body(fee, answer=""), "answer"),
        (body(fee, source={**SOURCE, "status": "rumour"}), "source.status"),
        (body(fee, source={**SOURCE, "date": "someday"}), "source.date"),
        ({**body(fee), "extra": 1}, "extra"),
    ]
    for sent, field in cases:
        response = await client.post(url, json=sent, headers=official.headers)
        error = (await response.json())["error"]
        assert response.status == 422, (field, error)
        assert field in {d["field"] for d in error["details"]}, (field, error)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(KnowledgeAnswer)) == 0
        assert await session.scalar(select(func.count()).select_from(ConsultationTicket)) == 0
        linked = await session.scalar(
            select(func.count())
            .select_from(UnansweredQuestion)
            .where(UnansweredQuestion.knowledge_answer_id.is_not(None))
        )
    assert linked == 0


async def test_a_known_intent_labels_the_questions(client: Client, db: Database, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    published = await publish(client, official, await queue(db, FEE_QUESTIONS[:1]), intent="ask_ip_insurance")
    assert published["intent"] == "ask_ip_insurance"


# ---------------------------------------------------------------- serving


async def test_a_new_wording_gets_the_answer_with_source_and_date_and_is_not_queued(
    client: Client, db: Database, make_account: AccountFactory, settings: Settings
) -> None:
    official = await make_account(Role.OFFICIAL)
    before = await clarify(client, settings, NEW_WORDING)
    assert ANSWER not in texts(before)  # nothing published yet: the two readings are offered
    published = await publish(client, official, await queue(db, FEE_QUESTIONS))
    result = await clarify(client, settings, NEW_WORDING, sender="wx:o-newcomer")
    said = texts(result)
    assert ANSWER in said
    assert "来源：《专利收费减缴办法》第三条（2016-09-01，现行有效）" in said
    assert f"（主管部门答复，{china_today().isoformat()}）" in said
    assert "/human_handoff" in [b["payload"] for b in result["responses"][0]["buttons"]]
    # The out-of-scope path serves it too; an unrelated question still gets the clarifying question.
    oos = await run(
        client,
        action_call(
            "action_record_unanswered",
            text="年费减缴比例是多少",
            intent="out_of_scope",
            slots={"lang": "zh"},
            metadata=signed(settings, "u:1", None, text="年费减缴比例是多少"),
        ),
    )
    assert ANSWER in texts(oos)
    unrelated = await clarify(client, settings, "加快那个审查的", sender="wx:o-other-asker")
    assert ANSWER not in texts(unrelated) and "您问的可能是" in texts(unrelated)
    async with db.transaction() as session:
        queued = (
            await session.scalars(
                select(UnansweredQuestion.text).where(UnansweredQuestion.knowledge_answer_id.is_(None))
            )
        ).all()
    # Only the question asked before the answer existed and the unrelated one wait for officials.
    assert sorted(queued) == sorted([NEW_WORDING, "加快那个审查的"])
    assert published["examples"] == 3


async def test_an_anonymous_unsigned_asker_is_served_too(
    client: Client, db: Database, make_account: AccountFactory
) -> None:
    """Serving writes nothing: no signed identity is needed (a forged one is simply anonymous)."""
    official = await make_account(Role.OFFICIAL)
    await publish(client, official, await queue(db, FEE_QUESTIONS))
    call = action_call("action_clarify", text=NEW_WORDING, intent="nlu_fallback", slots={"lang": "zh"})
    assert ANSWER in texts(await run(client, call))


async def test_expired_and_withdrawn_answers_are_not_served(
    client: Client, db: Database, make_account: AccountFactory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    official = await make_account(Role.OFFICIAL)
    today = china_today()
    published = await publish(client, official, await queue(db, FEE_QUESTIONS), expires_on=today.isoformat())
    served = texts(await clarify(client, settings, NEW_WORDING))
    assert ANSWER in served and f"有效至{today.isoformat()}" in served  # its last day
    # The next day in China: the answer the assistant just served (and keeps in memory) has lapsed.
    monkeypatch.setattr(knowledge, "china_today", lambda: today + dt.timedelta(days=1))
    assert ANSWER not in texts(await clarify(client, settings, NEW_WORDING, sender="wx:o-late"))
    expired = await (await client.get("/api/v1/assistant/knowledge?state=expired", headers=official.headers)).json()
    assert [a["id"] for a in expired["items"]] == [published["id"]] and expired["items"][0]["state"] == "expired"
    active = await (await client.get("/api/v1/assistant/knowledge?state=active", headers=official.headers)).json()
    assert active["total"] == 0
    # Extended: served again; withdrawn: not served, whatever the date.
    url = f"/api/v1/assistant/knowledge/{published['id']}"
    extended = await client.patch(url, json={"expires_on": None}, headers=official.headers)
    assert (await extended.json())["state"] == "active"
    assert ANSWER in texts(await clarify(client, settings, NEW_WORDING, sender="wx:o-later"))
    withdrawn = await client.patch(url, json={"status": "withdrawn"}, headers=official.headers)
    assert (await withdrawn.json())["state"] == "withdrawn"
    assert ANSWER not in texts(await clarify(client, settings, NEW_WORDING, sender="wx:o-last"))
    async with db.transaction() as session:
        actions = (await session.scalars(select(KnowledgeAudit.action).order_by(KnowledgeAudit.id))).all()
    assert actions == ["published", "edited", "withdrawn"]


async def test_answers_are_served_from_memory_and_a_correction_is_served_at_once(
    app: web.Application, client: Client, db: Database, make_account: AccountFactory, settings: Settings
) -> None:
    """Each fallback would otherwise read every active answer and its examples: the process keeps them (near
    cache) until an official publishes or changes one."""
    read: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "assistant_knowledge" in statement:
            read.append(statement)

    engine = app[DATABASE].engine.sync_engine
    sqlalchemy_event.listen(engine, "before_cursor_execute", record)
    try:
        official = await make_account(Role.OFFICIAL)
        published = await publish(client, official, await queue(db, FEE_QUESTIONS))
        read.clear()
        assert ANSWER in texts(await clarify(client, settings, NEW_WORDING))
        assert read, "the first question after the answer was published reads it"
        read.clear()
        assert ANSWER in texts(await clarify(client, settings, NEW_WORDING, sender="wx:o-second"))
        assert read == []
        corrected = "符合条件的小微企业和个人可按85%的比例减缴专利年费（授权当年起前十年）。"
        url = f"/api/v1/assistant/knowledge/{published['id']}"
        response = await client.patch(url, json={"answer": corrected}, headers=official.headers)
        assert response.status == 200, await response.text()
        said = texts(await clarify(client, settings, NEW_WORDING, sender="wx:o-third"))
        assert corrected in said and ANSWER not in said
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", record)


async def test_a_regional_answer_is_served_in_its_region_only(
    client: Client, db: Database, make_account: AccountFactory, settings: Settings
) -> None:
    hangzhou = await make_account(Role.OFFICIAL, region_code="330100")
    published = await publish(client, hangzhou, await queue(db, FEE_QUESTIONS))
    assert published["region_code"] == "330100"

    async def asker_in(region: str) -> Principal:
        enterprise_id = await make_enterprise(db, region_code=region)
        staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
        return Principal(user_id=staff.user_id, username="", role=Role.ENTERPRISE, enterprise_id=enterprise_id)

    local, shenzhen = await asker_in("330106"), await asker_in("440305")
    said_local = texts(await clarify(client, settings, NEW_WORDING, f"u:{local.user_id}", local))
    said_far = texts(await clarify(client, settings, NEW_WORDING, f"u:{shenzhen.user_id}", shenzhen))
    said_anonymous = texts(await clarify(client, settings, NEW_WORDING, "wx:o-anyone"))
    assert ANSWER in said_local and ANSWER not in said_far and ANSWER not in said_anonymous


async def test_officials_correct_answers_in_their_jurisdiction_and_askers_hear_the_correction(
    client: Client, db: Database, make_account: AccountFactory, event_bus: EventBus
) -> None:
    told: list[TicketAnswered] = []

    async def deliver(_session: AsyncSession, event: TicketAnswered) -> None:
        told.append(event)

    event_bus.subscribe(TicketAnswered, deliver)
    national = await make_account(Role.OFFICIAL)
    zhejiang = await make_account(Role.OFFICIAL, region_code="330000")
    shenzhen = await make_account(Role.OFFICIAL, region_code="440300")
    everywhere = await publish(client, national, await queue(db, FEE_QUESTIONS[:1]))
    local = await publish(client, zhejiang, await queue(db, OTHER_QUESTIONS[:1]), question="软著登记")
    assert len(told) == 2
    # A regional official may not change a nationwide answer, nor see another region's.
    url = f"/api/v1/assistant/knowledge/{everywhere['id']}"
    refused = await client.patch(url, json={"answer": "改一下。"}, headers=zhejiang.headers)
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "outside_jurisdiction"
    hidden = await client.patch(
        f"/api/v1/assistant/knowledge/{local['id']}", json={"answer": "改。"}, headers=shenzhen.headers
    )
    assert hidden.status == 404 and (await hidden.json())["error"]["code"] == "knowledge_answer_not_found"
    missing = await client.patch(
        "/api/v1/assistant/knowledge/99999999", json={"answer": "改。"}, headers=national.headers
    )
    assert missing.status == 404
    empty = await client.patch(url, json={}, headers=national.headers)
    assert empty.status == 422
    past = await client.patch(url, json={"expires_on": "2000-01-01"}, headers=national.headers)
    assert past.status == 422 and (await past.json())["error"]["details"][0]["field"] == "expires_on"
    assert len(told) == 2
    # The nationwide official corrects it: the asker is told the corrected answer.
    corrected = await client.patch(url, json={"answer": "比例为85%，以最新通知为准。"}, headers=national.headers)
    assert corrected.status == 200 and (await corrected.json())["answer"] == "比例为85%，以最新通知为准。"
    assert len(told) == 3 and "比例为85%，以最新通知为准。" in told[-1].answer and told[-1].sender_id == "wx:o-fee-1"
    # What each official lists: the nationwide answers and their region's.
    seen = {}
    for name, who in (("national", national), ("zhejiang", zhejiang), ("shenzhen", shenzhen)):
        page = await (await client.get("/api/v1/assistant/knowledge", headers=who.headers)).json()
        seen[name] = {a["id"] for a in page["items"]}
    assert seen == {
        "national": {everywhere["id"], local["id"]},
        "zhejiang": {everywhere["id"], local["id"]},
        "shenzhen": {everywhere["id"]},
    }


# ---------------------------------------------------------------- the chat's fallback (Rasa unreachable)


@pytest.fixture
async def offline_client(settings: Settings, clean: None, aiohttp_client: Callable[..., Awaitable[Client]]) -> Client:
    offline = settings.model_copy(update={"rasa_url": f"http://127.0.0.1:{closed_port()}"})
    return await aiohttp_client(create_app(offline))


async def test_with_rasa_down_the_chat_still_serves_official_answers(
    offline_client: Client, db: Database, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=await make_enterprise(db))
    await publish(offline_client, official, await queue(db, FEE_QUESTIONS))
    response = await offline_client.post("/api/v1/chat", json={"text": NEW_WORDING}, headers=staff.headers)
    (reply,) = (await response.json())["replies"]
    assert ANSWER in reply["text"] and "来源：《专利收费减缴办法》" in reply["text"]
    other = await offline_client.post("/api/v1/chat", json={"text": "今天天气怎么样"}, headers=staff.headers)
    (menu,) = (await other.json())["replies"]
    assert "繁忙" in menu["text"] and ANSWER not in menu["text"]


# ---------------------------------------------------------------- the labelled examples


async def test_the_answered_questions_export_as_rasa_training_data(
    client: Client, db: Database, make_account: AccountFactory, settings: Settings
) -> None:
    official = await make_account(Role.OFFICIAL)
    fee = await publish(client, official, await queue(db, FEE_QUESTIONS))
    labelled = await publish(
        client,
        official,
        await queue(db, [("wx:o-x", "保险[理赔](service_type)怎么{办}", "low_confidence")]),
        question="知识产权保险理赔",
        intent="ask_ip_insurance",
    )
    withdrawn = await publish(client, official, await queue(db, OTHER_QUESTIONS[:1]), question="软著登记")
    await client.patch(
        f"/api/v1/assistant/knowledge/{withdrawn['id']}", json={"status": "withdrawn"}, headers=official.headers
    )
    response = await client.get("/api/v1/assistant/knowledge/export", headers=official.headers)
    assert response.status == 200 and response.content_type == "text/yaml"
    data = yaml.safe_load(await response.text())
    assert data["version"] == "3.1"
    examples = {item["intent"]: [line[2:] for line in item["examples"].splitlines()] for item in data["nlu"]}
    assert examples == {
        "learned_zhuan_li_nian_fei_neng_jian_jiao": ["专利年费能减缴吗？", *(t for _s, t, _r in FEE_QUESTIONS)],
        "ask_ip_insurance": ["知识产权保险理赔", "保险 理赔 service_type 怎么 办"],
    }
    assert labelled["examples"] == 1 and fee["intent"] == ""
    # The command line writes the same file (for a nationwide official the API exports every active answer).
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "server.py",
        "export-learned",
        env={**os.environ, "DATABASE_URL": settings.database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await command.communicate()
    assert command.returncode == 0, err.decode()
    assert out.decode() == await response.text()


# What Rasa (and every tool reading its YAML) takes as an intent name without quoting or escaping.
RASA_INTENT = re.compile(r"^[a-z][a-z0-9_]*$")


@pytest.mark.parametrize(
    ("topic", "name"),
    [
        ("专利年费能减缴吗？", "learned_zhuan_li_nian_fei_neng_jian_jiao"),
        ("ＰＣＴ国家阶段 fees?", "learned_pct_guo_jia_jie_duan_fees"),
        ("Can SMEs get a patent fee reduction?", "learned_can_smes_get_a_patent_fee_reduction"),
        ("为什么商标被驳回了啊!!", "learned_wei_shen_me_shang_biao_bei_bo_hui_le"),
    ],
)
def test_a_topic_the_model_lacks_is_named_from_the_officials_topic(topic: str, name: str) -> None:
    assert learned_intent(KnowledgeAnswer(id=41, question=topic)) == name
    assert RASA_INTENT.match(name) and len(name) <= LEARNED_MAX
    # Stable: not the answer's id — another answer on the same topic lands in the same intent.
    assert learned_intent(KnowledgeAnswer(id=42, question=f" {topic} ")) == name


def test_a_long_topic_is_cut_at_a_syllable_and_a_topic_without_words_keeps_the_id() -> None:
    topic = "知识产权海外纠纷应对指导中心能提供哪些免费服务，中小企业怎么申请呢？"
    long = learned_intent(KnowledgeAnswer(id=5, question=topic))
    assert long == "learned_zhi_shi_chan_quan_hai_wai_jiu_fen_ying_dui_zhi_dao" and len(long) <= LEARNED_MAX
    assert learned_intent(KnowledgeAnswer(id=5, question="？？🙂")) == "learned_5"
    assert learned_intent(KnowledgeAnswer(id=6, question="x" * (LEARNED_MAX + 1))) == "learned_6"


async def test_an_unsure_policy_reading_gives_way_to_a_very_alike_official_answer(
    client: Client, db: Database, make_account: AccountFactory, settings: Settings
) -> None:
    """action_answer_policy: below PREEMPT_BELOW confidence, an official answer at least PREEMPT_SIMILARITY alike
    comes first; a sure reading, or a merely alike question, keeps the policy fact."""
    official = await make_account(Role.OFFICIAL)
    await publish(client, official, await queue(db, FEE_QUESTIONS))

    async def policy(text: str, confidence: float) -> str:
        call = action_call(
            "action_answer_policy",
            text=text,
            intent="ask_ip_insurance",
            confidence=confidence,
            slots={"lang": "zh"},
            metadata=signed(settings, "u:1", None, text=text),
        )
        return texts(await run(client, call))

    very_alike = "小微企业专利年费怎么减缴"  # 0.76 alike to the group's questions
    merely_alike = "年费减缴比例是多少"  # 0.47: enough for a fallback, not to overrule the model
    assert ANSWER in await policy(very_alike, 0.62)
    assert ANSWER not in (sure := await policy(very_alike, 0.93)) and "保险" in sure
    assert ANSWER not in (kept := await policy(merely_alike, 0.62)) and "保险" in kept
