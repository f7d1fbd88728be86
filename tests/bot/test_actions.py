"""Custom actions through the real `/bot/actions` endpoint, with tracker JSON as Rasa sends it, on real rows."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.facts import POLICY_INTENTS
from bot.models import ConsultationTicket, UnansweredQuestion
from core.auth import Principal, Role
from core.db import Database
from core.settings import Settings
from tests.agencies.builders import make_agency
from tests.bot.builders import action_call, earlier_turn, entity, signed
from tests.conftest import TEST_SECRETS, AccountFactory
from tests.vouchers.builders import issue, make_enterprise, make_program

Client = TestClient[Any, Any]


def as_rasa(client: Client) -> dict[str, str]:
    """The header Rasa's action endpoint sends (every app of the suite has the suite's token)."""
    return {"X-Actions-Token": TEST_SECRETS["BOT_ACTIONS_TOKEN"]}


async def run(client: Client, call: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = await client.post("/bot/actions", json=call, headers=as_rasa(client))
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def texts(result: dict[str, Any]) -> str:
    return "\n".join(r.get("text") or "" for r in result["responses"])


def cards(result: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in result["responses"]:
        out.extend((r.get("custom") or {}).get("cards", []))
    return out


def slot_events(result: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}


# ---------------------------------------------------------------- the endpoint itself


async def test_the_endpoint_lists_every_agreed_action(client: Client) -> None:
    response = await client.get("/bot/actions", headers=as_rasa(client))
    names = {a["name"] for a in await response.json()}
    assert {
        "action_answer_policy",
        "action_find_agency",
        "action_check_agency_rating",
        "action_compare_agencies",
        "action_my_vouchers",
        "validate_fast_track_form",
        "action_fast_track_plan",
        "action_clarify",
        "action_human_handoff",
        "action_record_unanswered",
    } <= names


async def test_an_unknown_action_is_404_and_a_bad_body_400(client: Client) -> None:
    body = await run(client, action_call("action_nope", text="hi", intent="greet"), status=404)
    assert body["action_name"] == "action_nope"
    bad = await client.post(
        "/bot/actions", data=b"{nope", headers={"Content-Type": "application/json", **as_rasa(client)}
    )
    assert bad.status == 400


# ---------------------------------------------------------------- policy answers


async def test_every_policy_intent_is_answered_with_its_source_in_both_languages(client: Client) -> None:
    for intent in POLICY_INTENTS:
        for lang, marker in (("zh", "来源："), ("en", "Source: ")):
            result = await run(client, action_call("action_answer_policy", intent=intent, slots={"lang": lang}))
            (reply,) = [r for r in result["responses"] if r.get("text")]
            assert marker in reply["text"], (intent, lang)
            assert reply["buttons"], (intent, lang)
            assert len(reply["text"]) <= 600


async def test_the_credit_answer_explains_the_level_asked_about(client: Client) -> None:
    call = action_call(
        "action_answer_policy",
        text="B级代理机构是什么意思",
        intent="ask_credit_rules",
        entities=[entity("rating_level", "B")],
        slots={"lang": "zh"},
    )
    assert texts(await run(client, call)).startswith("B级：80–89分")


async def test_voucher_answers_show_the_programs_in_our_database(client: Client, make_account: AccountFactory) -> None:
    official = await make_account(Role.OFFICIAL)
    await make_program(client, official.headers, name="杭州市知识产权服务券 2026")
    call = action_call("action_answer_policy", text="服务券怎么申请", intent="ask_voucher_apply", slots={"lang": "zh"})
    result = await run(client, call)
    assert "因城市而异" in texts(result)
    assert [c["title"] for c in cards(result)] == ["杭州市知识产权服务券 2026"]


# ---------------------------------------------------------------- agencies


async def seed_agencies(db: Database) -> dict[str, int]:
    return {
        "tianheng": await make_agency(
            db,
            name_zh="杭州天衡专利代理事务所（普通合伙）",
            short_name="天衡专利",
            region_code="330106",
            score=98,
            patent_attorneys=25,
            fields=("new_energy", "mechanical"),
            services=(("invention", 400_000, 800_000), ("trademark_registration", 80_000, 150_000)),
        ),
        "xihu": await make_agency(
            db, name_zh="杭州西湖知识产权代理有限公司", region_code="330106", score=91, accepts_vouchers=False
        ),
        "qiantang": await make_agency(db, name_zh="杭州钱塘专利代理有限公司", region_code="330104", score=82),
        "ningbo": await make_agency(db, name_zh="宁波甬港专利代理事务所", region_code="330203", score=99),
    }


async def test_find_agency_returns_real_rated_agencies_of_the_city_best_first(client: Client, db: Database) -> None:
    ids = await seed_agencies(db)
    call = action_call(
        "action_find_agency",
        text="杭州有没有做发明专利的代理所",
        intent="find_agency",
        entities=[entity("region", "330100"), entity("service_type", "invention")],
        slots={"lang": "zh"},
    )
    result = await run(client, call)
    found = cards(result)
    links = [c["link"] for c in found]
    assert links[:3] == [f"pages/agency/detail?id={ids[k]}" for k in ("tianheng", "xihu", "qiantang")]
    assert found[0]["subtitle"].startswith("A级 98分")
    assert "发明专利申请 ¥4,000–8,000" in found[0]["lines"]
    assert "杭州" in texts(result) and "共3家" in texts(result)
    assert all(f"id={ids['ningbo']}" not in link for link in links if link)


async def test_find_agency_honours_the_rating_floor_and_keeps_what_the_earlier_search_said(
    client: Client, db: Database
) -> None:
    ids = await seed_agencies(db)
    earlier = earlier_turn(
        "杭州做发明专利的代理",
        "find_agency",
        "action_find_agency",
        entities=[entity("region", "330100"), entity("service_type", "invention")],
        slots={"region": "330100", "service_type": "invention"},
    )
    call = action_call(
        "action_find_agency",
        text="A级以上的呢",
        intent="find_agency",
        entities=[entity("rating_level", "A")],
        slots={"lang": "en", "region": "330100", "service_type": "invention"},
        earlier=earlier,
    )
    result = await run(client, call)
    links = [c["link"] for c in cards(result) if "detail" in (c["link"] or "")]
    assert links == [f"pages/agency/detail?id={ids['tianheng']}", f"pages/agency/detail?id={ids['xihu']}"]
    assert "Hangzhou" in texts(result)


async def test_check_agency_rating_by_name_and_by_a_misspelt_name(client: Client, db: Database) -> None:
    await seed_agencies(db)
    exact = await run(
        client,
        action_call(
            "action_check_agency_rating",
            text="天衡专利信用怎么样",
            intent="check_agency_rating",
            entities=[entity("agency_name", "天衡专利")],
            slots={"lang": "zh"},
        ),
    )
    assert "杭州天衡专利代理事务所（普通合伙）：信用等级A级 98分" in texts(exact)
    # 天恒 for 天衡: same pinyin, different characters.
    typo = await run(
        client,
        action_call(
            "action_check_agency_rating",
            text="杭州天恒专利代理所评级",
            intent="check_agency_rating",
            entities=[entity("agency_name", "杭州天恒专利代理所")],
            slots={"lang": "zh"},
        ),
    )
    assert "杭州天衡专利代理事务所" in texts(typo)


async def test_a_homophone_typo_finds_the_agency(client: Client, db: Database) -> None:
    await seed_agencies(db)
    result = await run(
        client,
        action_call(
            "action_check_agency_rating",
            text="钱唐知识产权怎么样",
            intent="check_agency_rating",
            entities=[entity("agency_name", "钱唐知识产权")],
            slots={"lang": "zh"},
        ),
    )
    assert texts(result).startswith("杭州钱塘专利代理有限公司：信用等级B级 82分")


async def test_an_ambiguous_name_gets_did_you_mean_buttons(client: Client, db: Database) -> None:
    await seed_agencies(db)
    result = await run(
        client,
        action_call(
            "action_check_agency_rating",
            text="杭州代理公司信用",
            intent="check_agency_rating",
            entities=[entity("agency_name", "杭州代理公司")],
            slots={"lang": "zh"},
        ),
    )
    (reply,) = result["responses"]
    assert "您是不是要找" in reply["text"]
    titles = [b["title"] for b in reply["buttons"]]
    assert titles[0] == "杭州天衡专利代理事务所（普通合伙）" and len(titles) == 3
    assert reply["buttons"][0]["payload"].startswith("/check_agency_rating{")


async def test_a_name_nothing_resembles_says_so(client: Client, db: Database) -> None:
    await seed_agencies(db)
    result = await run(
        client,
        action_call(
            "action_check_agency_rating",
            text="Zephyr Legal信用",
            intent="check_agency_rating",
            entities=[entity("agency_name", "Zephyr Legal")],
            slots={"lang": "en"},
        ),
    )
    assert "I found no agency called 'Zephyr Legal'" in texts(result)


async def test_compare_puts_two_agencies_side_by_side(client: Client, db: Database) -> None:
    await seed_agencies(db)
    result = await run(
        client,
        action_call(
            "action_compare_agencies",
            text="比较一下天衡专利和钱塘专利",
            intent="compare_agencies",
            entities=[entity("agency_name", "天衡专利"), entity("agency_name", "钱塘专利")],
            slots={"lang": "zh"},
        ),
    )
    text = texts(result)
    assert "【杭州天衡专利代理事务所（普通合伙）】A级 98分｜代理师25人｜领域：" in text
    assert "新能源" in text and "发明专利申请 ¥4,000–8,000｜收券" in text
    assert "【杭州钱塘专利代理有限公司】B级 82分" in text
    assert "信用分最高：杭州天衡专利代理事务所（普通合伙）" in text
    assert len(cards(result)) == 2


async def test_compare_with_one_name_asks_for_another(client: Client, db: Database) -> None:
    await seed_agencies(db)
    result = await run(
        client,
        action_call(
            "action_compare_agencies",
            text="compare Tianheng",
            intent="compare_agencies",
            entities=[entity("agency_name", "天衡专利")],
            slots={"lang": "en"},
        ),
    )
    assert "Name two" in texts(result)


# ---------------------------------------------------------------- my vouchers


async def test_my_vouchers_for_a_linked_enterprise_user(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    official = await make_account(Role.OFFICIAL)
    enterprise_id = await make_enterprise(db)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    program = await make_program(client, official.headers, name="杭州市知识产权服务券 2026")
    await issue(client, official.headers, program["id"], enterprise_id)
    principal = Principal(user_id=staff.user_id, username="", role=Role.ENTERPRISE, enterprise_id=enterprise_id)
    sender = f"u:{staff.user_id}"
    result = await run(
        client,
        action_call(
            "action_my_vouchers",
            text="我的券什么时候过期",
            intent="my_vouchers",
            sender_id=sender,
            metadata=signed(settings, sender, principal, text="我的券什么时候过期"),
            slots={"lang": "zh"},
        ),
    )
    assert "贵企业有1张可用服务券，余额共¥5,000" in texts(result)
    (voucher,) = cards(result)
    assert voucher["title"] == "杭州市知识产权服务券 2026"


async def test_my_vouchers_asks_an_unknown_sender_to_log_in(client: Client) -> None:
    result = await run(
        client, action_call("action_my_vouchers", text="my vouchers", intent="my_vouchers", slots={"lang": "en"})
    )
    assert "log in" in texts(result)


async def test_my_vouchers_ignores_a_forged_identity(client: Client, db: Database, settings: Settings) -> None:
    enterprise_id = await make_enterprise(db)
    honest = Principal(user_id=7, username="", role=Role.ENTERPRISE, enterprise_id=999)
    forged = signed(settings, "u:7", honest, text="我的券") | {"enterprise_id": str(enterprise_id)}
    result = await run(
        client,
        action_call(
            "action_my_vouchers",
            text="我的券",
            intent="my_vouchers",
            sender_id="u:7",
            metadata=forged,
            slots={"lang": "zh"},
        ),
    )
    assert "先登录" in texts(result)


# ---------------------------------------------------------------- the eligibility form


async def test_the_form_normalises_free_text_and_asks_only_what_the_rules_need(client: Client) -> None:
    first = await run(
        client,
        action_call(
            "validate_fast_track_form",
            text="发明专利",
            intent="check_priority_eligibility",
            active_loop="fast_track_form",
            slots={"lang": "zh", "plan_focus": "priority_exam", "requested_slot": "application_type"},
            candidates={"application_type": "发明专利"},
        ),
    )
    # The eligibility check's questions (the field is unknown): the field comes next.
    assert slot_events(first) == {"application_type": "invention", "requested_slot": "technical_field"}
    second = await run(
        client,
        action_call(
            "validate_fast_track_form",
            text="做锂电池的",
            intent="inform",
            active_loop="fast_track_form",
            slots={
                "lang": "zh",
                "plan_focus": "priority_exam",
                "application_type": "invention",
                "requested_slot": "technical_field",
            },
            candidates={"technical_field": "做锂电池的"},
        ),
    )
    # The words are kept for the planner, which reads free text itself.
    assert slot_events(second) == {
        "technical_field": "new_energy",
        "plan_field_text": "做锂电池的",
        "requested_slot": "filed_abroad_first_in_china",
    }
    last = await run(
        client,
        action_call(
            "validate_fast_track_form",
            text="还没收到",
            intent="deny",
            active_loop="fast_track_form",
            slots={
                "lang": "zh",
                "plan_focus": "priority_exam",
                "application_type": "invention",
                "technical_field": "new_energy",
                "filed_abroad_first_in_china": False,
                "exploitation_status": "none",
                "requested_slot": "first_office_action_received",
            },
            candidates={"first_office_action_received": False},
        ),
    )
    # The provincial question is skipped for a national key industry: the form is complete.
    assert slot_events(last) == {"first_office_action_received": False, "requested_slot": None}


async def test_an_unreadable_answer_is_asked_again(client: Client) -> None:
    result = await run(
        client,
        action_call(
            "validate_fast_track_form",
            text="嗯……",
            intent="inform",
            active_loop="fast_track_form",
            slots={"lang": "zh", "plan_focus": "priority_exam", "requested_slot": "application_type"},
            candidates={"application_type": "嗯……"},
        ),
    )
    assert slot_events(result) == {"application_type": None, "requested_slot": "application_type"}
    assert "没太明白" in texts(result)


async def test_the_verdict_names_reasons_materials_signer_and_source_then_resets_the_form(client: Client) -> None:
    result = await run(
        client,
        action_call(
            "action_fast_track_plan",
            text="否",
            intent="deny",
            slots={
                "lang": "zh",
                "plan_focus": "priority_exam",
                "application_type": "invention",
                "technical_field": "new_energy",
                "filed_abroad_first_in_china": False,
                "exploitation_status": "exploiting",
                "first_office_action_received": False,
            },
        ),
    )
    text = texts(result)
    assert text.startswith("结论：符合优先审查条件")
    assert "国家重点发展产业" in text and "已实施" in text
    assert "优先审查请求书" in text and "省级知识产权局或国务院有关部门签署" in text
    assert "45日内" in text and "来源：《专利优先审查管理办法》" in text
    assert {k: v for k, v in slot_events(result).items() if v is not None} == {"plan_focus": "all"}
    assert len(text) <= 700


async def test_an_invention_with_a_first_office_action_gets_not_eligible_and_pph(client: Client) -> None:
    result = await run(
        client,
        action_call(
            "action_fast_track_plan",
            text="yes",
            intent="affirm",
            slots={
                "lang": "en",
                "plan_focus": "priority_exam",
                "application_type": "invention",
                "technical_field": "next_gen_it",
                "filed_abroad_first_in_china": False,
                "exploitation_status": "none",
                "first_office_action_received": True,
            },
        ),
    )
    assert texts(result).startswith("Verdict: not eligible")
    assert any(b["payload"] == "/ask_pph" for b in result["responses"][0]["buttons"])


# ---------------------------------------------------------------- when it does not know


async def test_clarify_offers_the_two_likeliest_topics_then_a_person(
    client: Client, db: Database, settings: Settings
) -> None:
    ranking = [("nlu_fallback", 0.6), ("ask_pph", 0.4), ("ask_priority_exam_conditions", 0.3), ("greet", 0.1)]
    # An official-account follower with no account: anonymous, but signed by the gateway like every sender.
    follower = "wx:o-follower"
    first = await run(
        client,
        action_call(
            "action_clarify",
            text="加快那个审查的",
            intent="nlu_fallback",
            ranking=ranking,
            slots={"lang": "zh"},
            sender_id=follower,
            metadata=signed(settings, follower, None, text="加快那个审查的", openid="o-follower"),
        ),
    )
    payloads = [b["payload"] for b in first["responses"][0]["buttons"]]
    assert payloads[:2] == ["/ask_pph", "/ask_priority_exam_conditions"]
    # Both readings are named in the question, and no policy answer (no source line) is given.
    question = first["responses"][0]["text"]
    assert "PPH专利审查高速路" in question and "优先审查条件" in question
    assert "来源" not in texts(first)
    again = await run(
        client,
        action_call(
            "action_clarify",
            text="就是那个快的",
            intent="nlu_fallback",
            ranking=ranking,
            slots={"lang": "zh"},
            sender_id=follower,
            metadata=signed(settings, follower, None, text="就是那个快的", openid="o-follower"),
            earlier=earlier_turn("加快那个审查的", "nlu_fallback", "action_clarify"),
        ),
    )
    assert "/human_handoff" in [b["payload"] for b in again["responses"][0]["buttons"]]
    async with db.transaction() as session:
        rows = (await session.scalars(select(UnansweredQuestion))).all()
    assert {(r.reason, r.intent) for r in rows} == {("low_confidence", "ask_pph")}
    assert len(rows) == 2


async def test_handoff_opens_one_ticket_per_conversation_that_officials_see(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    enterprise_id = await make_enterprise(db)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    principal = Principal(user_id=staff.user_id, username="", role=Role.ENTERPRISE, enterprise_id=enterprise_id)
    sender = f"u:{staff.user_id}"
    call = action_call(
        "action_human_handoff",
        text="转人工",
        intent="human_handoff",
        sender_id=sender,
        metadata=signed(settings, sender, principal, text="转人工"),
        slots={"lang": "zh"},
        earlier=earlier_turn("我们的专利被人抄了怎么办，对方在外省", "ask_rights_protection", "action_answer_policy"),
    )
    first = await run(client, call)
    assert "工单号 #" in texts(first)
    await run(client, call)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ConsultationTicket)) == 1

    official = await make_account(Role.OFFICIAL)
    listing = await client.get("/api/v1/assistant/tickets", headers=official.headers)
    assert listing.status == 200
    (ticket,) = (await listing.json())["items"]
    assert ticket["question"] == "我们的专利被人抄了怎么办，对方在外省"
    assert ticket["enterprise_id"] == enterprise_id and ticket["status"] == "open"
    assert ticket["transcript"][-1] == "转人工"


async def test_out_of_scope_is_recorded_and_answered(client: Client, db: Database, settings: Settings) -> None:
    text = "明天杭州天气怎么样"
    result = await run(
        client,
        action_call(
            "action_record_unanswered",
            text=text,
            intent="out_of_scope",
            metadata=signed(settings, "u:1", None, text=text),
            slots={"lang": "zh"},
        ),
    )
    assert "已记录" in texts(result)
    async with db.transaction() as session:
        row = await session.scalar(select(UnansweredQuestion))
    assert row is not None and row.text == "明天杭州天气怎么样" and row.reason == "out_of_scope"


def test_every_verdict_fits_a_phone() -> None:
    import itertools

    from agencies.catalogue import FieldCode
    from bot.actions.eligibility import render_verdict
    from bot.eligibility import Answers, CaseType, Exploitation, assess

    longest = {"zh": 0, "en": 0}
    for case, field, abroad, used, local, first_action in itertools.product(
        list(CaseType),
        list(FieldCode),
        [True, False, None],
        [*Exploitation, None],
        [True, False, None],
        [True, False, None],
    ):
        answers = Answers(case, field, abroad, used, local, first_action)
        for lang in ("zh", "en"):
            text = render_verdict(assess(answers), lang)
            assert text.splitlines()[-1].startswith(("来源：", "Source: "))
            longest[lang] = max(longest[lang], len(text))
    # English runs about twice as long as Chinese for the same content.
    assert longest["zh"] <= 450 and longest["en"] <= 800, longest
