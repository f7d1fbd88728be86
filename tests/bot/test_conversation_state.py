"""What a conversation carries from one message to the next: a search keeps only what its own messages said (never
what the eligibility form collected), reads regions, ratings and "accepts vouchers" from everyday words, compares
agencies named in their short forms; a question in the middle of the form is answered instead of swallowed; the
verdict takes the enterprise's verified qualification and region from its profile."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient

from core.auth import Principal, Role
from core.db import Database, utcnow
from core.settings import Settings
from tests.agencies.builders import make_agency
from tests.bot.builders import action_call, earlier_turn, entity, signed
from tests.bot.test_actions import cards, run, seed_agencies, slot_events, texts
from tests.conftest import AccountFactory
from tests.vouchers.builders import make_enterprise

Client = TestClient[Any, Any]


def detail_ids(result: dict[str, Any]) -> list[int]:
    return [int(c["link"].split("id=")[1]) for c in cards(result) if "detail?id=" in (c["link"] or "")]


def buttons(result: dict[str, Any]) -> list[str]:
    return [b["payload"] for r in result["responses"] for b in r.get("buttons") or []]


# ---------------------------------------------------------------- searches


async def test_the_reported_question_finds_hangzhou_agencies_rated_a_that_file_inventions(
    client: Client, db: Database
) -> None:
    ids = await seed_agencies(db)
    trademark_only = await make_agency(
        db, name_zh="杭州商标事务所", region_code="330102", score=97, services=(("trademark_registration", 1, 2),)
    )
    # The model tagged nothing: the words of the message still make the search.
    call = action_call(
        "action_find_agency",
        text="杭州有哪些信用A级的代理机构可以做发明专利",
        intent="find_agency",
        slots={"lang": "zh"},
    )
    result = await run(client, call)
    assert detail_ids(result) == [ids["tianheng"], ids["xihu"]]
    assert trademark_only not in detail_ids(result) and ids["qiantang"] not in detail_ids(result)
    assert "杭州·发明专利申请·A级及以上共2家" in texts(result)


async def test_a_field_left_over_from_the_eligibility_form_does_not_narrow_a_later_search(
    client: Client, db: Database
) -> None:
    ids = await seed_agencies(db)  # only 天衡 works in new energy
    form_turns = [
        *earlier_turn("我的发明能优先审查吗", "check_priority_eligibility", "fast_track_form", ago=60),
        # The form's answer: Rasa fills technical_field from it (and the slot keeps it if the form was left).
        *earlier_turn(
            "做锂电池的",
            "nlu_fallback",
            "fast_track_form",
            entities=[entity("technical_field", "new_energy")],
            slots={"technical_field": "new_energy"},
            ago=50,
        ),
    ]
    result = await run(
        client,
        action_call(
            "action_find_agency",
            text="杭州有哪些代理机构",
            intent="find_agency",
            entities=[entity("region", "330100")],
            slots={"lang": "zh", "technical_field": "new_energy", "region": "330100"},
            earlier=form_turns,
        ),
    )
    assert detail_ids(result) == [ids["tianheng"], ids["xihu"], ids["qiantang"]]
    assert "新能源" not in texts(result).split("\n")[0]


async def test_a_search_refined_over_messages_keeps_what_those_messages_said(client: Client, db: Database) -> None:
    ids = await seed_agencies(db)
    result = await run(
        client,
        action_call(
            "action_find_agency",
            text="只要收服务券的",
            intent="find_agency",
            slots={"lang": "zh"},
            earlier=earlier_turn("杭州的代理机构", "find_agency", "action_find_agency"),
        ),
    )
    # 西湖 does not accept vouchers; Hangzhou came from the earlier search message's words.
    assert detail_ids(result) == [ids["tianheng"], ids["qiantang"]]
    assert "收服务券" in texts(result)
    (see_all,) = [c for c in cards(result) if "search?" in (c["link"] or "")]
    assert "accepts_vouchers=true" in see_all["link"] and "region=330100" in see_all["link"]


async def test_accepts_vouchers_in_english(client: Client, db: Database) -> None:
    ids = await seed_agencies(db)
    result = await run(
        client,
        action_call(
            "action_find_agency",
            text="agencies in Hangzhou that accept vouchers",
            intent="find_agency",
            slots={"lang": "en"},
        ),
    )
    assert detail_ids(result) == [ids["tianheng"], ids["qiantang"]]
    assert "accepting vouchers" in texts(result)


async def test_a_colloquial_region_name_is_resolved(client: Client, db: Database) -> None:
    ids = await seed_agencies(db)
    for text, entities in (("甬的代理所哪家好", []), ("宁波的代理所", [entity("region", "宁波")])):
        result = await run(
            client,
            action_call("action_find_agency", text=text, intent="find_agency", entities=entities, slots={"lang": "zh"}),
        )
        assert detail_ids(result) == [ids["ningbo"]], text
        assert texts(result).startswith("宁波共1家")


# ---------------------------------------------------------------- comparing


async def test_compare_two_short_names_the_model_did_not_tag(client: Client, db: Database) -> None:
    await seed_agencies(db)
    result = await run(
        client,
        action_call(
            "action_compare_agencies", text="比较一下天衡和钱塘哪个好", intent="compare_agencies", slots={"lang": "zh"}
        ),
    )
    text = texts(result)
    assert "【杭州天衡专利代理事务所（普通合伙）】A级 98分" in text
    assert "【杭州钱塘专利代理有限公司】B级 82分" in text
    assert len(cards(result)) == 2


async def test_compare_up_to_four_names_by_short_name_pinyin_or_typo(client: Client, db: Database) -> None:
    ids = await seed_agencies(db)
    result = await run(
        client,
        action_call(
            "action_compare_agencies",
            text="tianheng、钱唐、甬港和西湖对比",
            intent="compare_agencies",
            entities=[entity("agency_name", "tianheng")],
            slots={"lang": "zh"},
        ),
    )
    found = [int(c["link"].split("id=")[1]) for c in cards(result)]
    assert sorted(found) == sorted(ids.values())
    assert "信用分最高：宁波甬港专利代理事务所" in texts(result)


# ---------------------------------------------------------------- a question in the middle of the form


def form_call(text: str, intent: str, requested: str, value: Any, **slots: Any) -> dict[str, Any]:
    return action_call(
        "validate_fast_track_form",
        text=text,
        intent=intent,
        confidence=0.4 if intent == "nlu_fallback" else 0.9,
        active_loop="fast_track_form",
        slots={"lang": "zh", "plan_focus": "priority_exam", "requested_slot": requested, **slots},
        candidates={requested: value},
    )


async def test_a_question_asked_instead_of_the_field_leaves_the_form(client: Client) -> None:
    text = "那批下来一般要多久啊？"
    result = await run(client, form_call(text, "nlu_fallback", "technical_field", text, application_type="invention"))
    assert slot_events(result) == {"technical_field": None, "requested_slot": None}
    assert texts(result) == ""  # the plan action answers; the form does not ask "它属于什么技术领域？" again


async def test_a_question_with_an_intent_the_form_has_no_rule_for_leaves_the_form(client: Client) -> None:
    text = "集体商标和证明商标能快审吗"
    result = await run(client, form_call(text, "ask_collective_marks", "technical_field", text))
    assert slot_events(result)["requested_slot"] is None


async def test_a_question_is_not_read_as_a_yes(client: Client) -> None:
    text = "有哪些材料要准备？"
    result = await run(client, form_call(text, "nlu_fallback", "provincial_priority_industry", text))
    assert slot_events(result) == {"provincial_priority_industry": None, "requested_slot": None}


async def test_answers_stay_answers(client: Client) -> None:
    invention = {"application_type": "invention"}
    asked = "做锂电池的，可以吗？"
    field = await run(client, form_call(asked, "nlu_fallback", "technical_field", asked, **invention))
    assert slot_events(field)["technical_field"] == "new_energy"
    yes = await run(
        client, form_call("有的", "affirm", "provincial_priority_industry", True, **invention, technical_field="other")
    )
    assert slot_events(yes)["provincial_priority_industry"] is True
    unsure_text = "不知道算什么领域"
    unsure = await run(client, form_call(unsure_text, "nlu_fallback", "technical_field", unsure_text, **invention))
    assert slot_events(unsure)["technical_field"] == "other"
    unreadable = await run(client, form_call("嗯……", "nlu_fallback", "technical_field", "嗯……", **invention))
    # Asked again (Rasa's form asks the next empty slot: the same one), never left.
    assert slot_events(unreadable)["technical_field"] is None and "没太明白" in texts(unreadable)
    assert slot_events(unreadable).get("requested_slot", "technical_field") == "technical_field"


async def test_a_bare_field_read_as_an_agency_search_is_the_fields_answer(client: Client) -> None:
    invention = {"application_type": "invention"}
    # Rasa's mapping leaves the slot empty for a find_agency message (a search interrupts the form): the value None.
    bare = await run(client, form_call("做锂电池的", "find_agency", "technical_field", None, **invention))
    events = slot_events(bare)
    assert events["technical_field"] == "new_energy" and events["plan_field_text"] == "做锂电池的"
    assert events["requested_slot"] == "filed_abroad_first_in_china"  # the form goes on to its next question
    # With a word of searching, or asked as a question, it is a search: the form is left for it.
    for search in ("找做锂电池的代理机构", "做锂电池的有推荐吗"):
        left = await run(client, form_call(search, "find_agency", "technical_field", None, **invention))
        assert slot_events(left) == {"technical_field": None, "requested_slot": None}, search
    # Only for the field: a find_agency reading while another question is asked stays a search.
    other = await run(
        client,
        form_call(
            "做锂电池的", "find_agency", "provincial_priority_industry", None, **invention, technical_field="other"
        ),
    )
    assert slot_events(other)["requested_slot"] is None


async def test_after_leaving_the_form_the_question_gets_its_likeliest_topics_and_a_way_back(client: Client) -> None:
    ranking = [("nlu_fallback", 0.6), ("ask_priority_exam_timeline", 0.45), ("ask_pph", 0.2), ("greet", 0.1)]
    result = await run(
        client,
        action_call(
            "action_fast_track_plan",
            text="那批下来一般要多久啊？",
            intent="nlu_fallback",
            confidence=0.45,
            ranking=ranking,
            slots={"lang": "zh", "plan_focus": "priority_exam", "application_type": "invention"},
        ),
    )
    assert "暂停" in texts(result) and "结论" not in texts(result)
    assert buttons(result) == ["/ask_priority_exam_timeline", "/ask_pph", "/check_priority_eligibility"]
    assert {k: v for k, v in slot_events(result).items() if v is not None} == {"plan_focus": "all"}


async def test_after_leaving_the_form_a_clear_policy_question_is_answered_with_its_source(client: Client) -> None:
    result = await run(
        client,
        action_call(
            "action_fast_track_plan",
            text="PPH怎么走",
            intent="ask_pph",
            slots={
                "lang": "zh",
                "plan_focus": "priority_exam",
                "application_type": "invention",
                "technical_field": "new_energy",
            },
        ),
    )
    assert "来源：" in texts(result) and "暂停" in texts(result)
    assert buttons(result)[-1] == "/check_priority_eligibility"


# ---------------------------------------------------------------- the verdict uses the profile


FORM_DONE = {
    "lang": "zh",
    "plan_focus": "priority_exam",
    "application_type": "invention",
    "technical_field": "new_energy",
    "filed_abroad_first_in_china": False,
    "exploitation_status": "none",
    "first_office_action_received": False,
}


async def verdict_for(
    client: Client, settings: Settings, principal: Principal | None, sender: str, lang: str = "zh"
) -> str:
    result = await run(
        client,
        action_call(
            "action_fast_track_plan",
            text="没有",
            intent="deny",
            sender_id=sender,
            metadata=signed(settings, sender, principal, lang, text="没有"),
            slots={**FORM_DONE, "lang": lang},
        ),
    )
    return texts(result)


async def test_the_verdict_takes_qualification_and_region_from_the_enterprise_profile(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    until = utcnow().date() + dt.timedelta(days=200)
    enterprise_id = await make_enterprise(
        db, region_code="320506", qualification="national_little_giant", expires_on=until
    )
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    principal = Principal(user_id=staff.user_id, username="", role=Role.ENTERPRISE, enterprise_id=enterprise_id)
    sender = f"u:{staff.user_id}"
    text = await verdict_for(client, settings, principal, sender)
    assert text.startswith("结论：符合优先审查条件")
    assert f'按贵司档案：江苏省苏州市，国家级专精特新"小巨人"企业（已核验，有效至{until.isoformat()}）' in text
    assert "由江苏省知识产权局（或国务院有关部门）签署" in text
    assert "优先推荐" in text and "国知发运字〔2022〕38号" in text
    assert text.splitlines()[-1].startswith("来源：《专利优先审查管理办法》")
    english = await verdict_for(client, settings, principal, sender, "en")
    assert "From your company profile: Suzhou" in english and "Jiangsu IP office" in english


async def test_an_expired_certification_counts_as_none(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    enterprise_id = await make_enterprise(db, qualification="provincial_specialized")
    async with db.transaction() as session:
        from enterprises.models import Enterprise

        row = await session.get(Enterprise, enterprise_id)
        assert row is not None
        row.qualification_expires_on = utcnow().date() - dt.timedelta(days=1)
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    principal = Principal(user_id=staff.user_id, username="", role=Role.ENTERPRISE, enterprise_id=enterprise_id)
    text = await verdict_for(client, settings, principal, f"u:{staff.user_id}")
    assert "档案中无有效的专精特新资质" in text and "优先推荐" not in text


async def test_an_anonymous_or_forged_sender_gets_the_verdict_without_a_profile(
    client: Client, db: Database, settings: Settings
) -> None:
    enterprise_id = await make_enterprise(db)
    anonymous = await verdict_for(client, settings, None, "wx:o-anon")
    assert "按贵司档案" not in anonymous and "省级知识产权局或国务院有关部门签署" in anonymous
    forged_principal = Principal(user_id=5, username="", role=Role.ENTERPRISE, enterprise_id=enterprise_id)
    forged = action_call(
        "action_fast_track_plan",
        text="没有",
        intent="deny",
        sender_id="u:5",
        metadata=signed(settings, "u:5", forged_principal, text="别的话"),  # signed for another message
        slots=FORM_DONE,
    )
    assert "按贵司档案" not in texts(await run(client, forged))
