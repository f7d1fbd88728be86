"""The fast-track planner in the chat (issue 20 §4), through the real `/bot/actions` endpoint: the form starts from
what is known (the opening sentence, the signed-in company's profile), asks what the planner still needs one
question at a time, answers with the ranked routes for a phone and a link to the plan page, in the user's language;
the eligibility check is the same form answering for priority examination; a question mid-form is answered, not
swallowed; the plan's slots never narrow a later agency search."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient

from core.auth import Principal, Role
from core.db import Database
from core.settings import Settings
from tests.bot.builders import action_call, earlier_turn, entity, signed
from tests.bot.test_actions import cards, run, seed_agencies, slot_events, texts
from tests.bot.test_conversation_state import buttons, detail_ids
from tests.conftest import AccountFactory
from tests.vouchers.builders import make_enterprise

Client = TestClient[Any, Any]

REPORTED = "我们有件锂电池隔膜的发明专利在实审，怎么最快拿到授权？"


def start(text: str, intent: str = "plan_fast_track", **kwargs: Any) -> dict[str, Any]:
    """The form's validation at activation, as Rasa 3.6 sends it: the form already marked active (its temporary
    tracker has the ActiveLoop event), nothing requested yet."""
    kwargs.setdefault("slots", {"lang": "zh"})
    return action_call("validate_fast_track_form", text=text, intent=intent, active_loop="fast_track_form", **kwargs)


def answer(text: str, intent: str, requested: str, value: Any, **slots: Any) -> dict[str, Any]:
    return action_call(
        "validate_fast_track_form",
        text=text,
        intent=intent,
        active_loop="fast_track_form",
        slots={"lang": "zh", "plan_focus": "all", "requested_slot": requested, **slots},
        candidates={requested: value},
    )


def plan_call(slots: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("text", "美国")
    kwargs.setdefault("intent", "plan_fast_track")
    return action_call("action_fast_track_plan", slots={"plan_focus": "all", **slots}, **kwargs)


# ---------------------------------------------------------------- the form asks only what it does not know


async def test_the_reported_question_starts_the_plan_with_kind_field_and_stage_known(client: Client) -> None:
    events = slot_events(await run(client, start(REPORTED)))
    assert events["plan_focus"] == "all"
    assert events["application_type"] == "invention"
    assert events["stage"] == "substantive_exam"
    assert events["technical_field"] == "new_energy"
    # Priority examination is open (a key industry) and fast pre-examination closed (already filed): what still
    # decides a route is whether a foreign office allowed the claims (PPH) — the one question asked.
    assert events["requested_slot"] == "foreign_allowed_office"


async def test_a_bare_question_starts_with_the_kind_and_clears_an_earlier_run(client: Client) -> None:
    leftover = {"lang": "en", "application_type": "design", "stage": "granted", "mark_type": "word"}
    events = slot_events(await run(client, start("can we speed up our patent", slots=leftover)))
    assert events["requested_slot"] == "application_type"
    assert events["application_type"] is None and events["stage"] is None and events["mark_type"] is None


async def test_the_eligibility_intent_runs_the_same_form_for_priority_examination(client: Client) -> None:
    events = slot_events(await run(client, start("帮我看看能不能优先审查", intent="check_priority_eligibility")))
    assert events["plan_focus"] == "priority_exam"
    assert events["requested_slot"] == "application_type"
    # Its questions are the eligibility rules' (bot/eligibility.py): after the kind, the field.
    nxt = await run(
        client,
        answer("发明", "plan_fast_track", "application_type", "invention", plan_focus="priority_exam"),
    )
    assert slot_events(nxt) == {"application_type": "invention", "requested_slot": "technical_field"}


async def test_a_signed_in_companys_region_comes_from_its_profile_and_is_never_asked(
    client: Client, db: Database, settings: Settings, make_account: AccountFactory
) -> None:
    enterprise_id = await make_enterprise(db, region_code="320506")
    staff = await make_account(Role.ENTERPRISE, enterprise_id=enterprise_id)
    principal = Principal(user_id=staff.user_id, username="", role=Role.ENTERPRISE, enterprise_id=enterprise_id)
    sender = f"u:{staff.user_id}"
    text = "我们的实用新型还没提交，怎么最快授权"
    signed_start = start(text, sender_id=sender, metadata=signed(settings, sender, principal, text=text))
    events = slot_events(await run(client, signed_start))
    assert events["plan_region"] == "320506"
    assert events["application_type"] == "utility_model" and events["stage"] == "not_filed"
    assert events["requested_slot"] == "technical_field"
    anonymous = slot_events(await run(client, start(text)))
    assert anonymous["plan_region"] is None


async def test_button_answers_and_free_text_are_read_and_the_next_open_question_follows(client: Client) -> None:
    stage = await run(
        client, answer("/plan_fast_track", "plan_fast_track", "stage", "not_filed", application_type="invention")
    )
    assert slot_events(stage) == {"stage": "not_filed", "requested_slot": "technical_field"}
    field = await run(
        client,
        answer(
            "做工业机器人的",
            "nlu_fallback",
            "technical_field",
            "做工业机器人的",
            application_type="invention",
            stage="not_filed",
        ),
    )
    events = slot_events(field)
    assert events["technical_field"] == "smart_manufacturing" and events["plan_field_text"] == "做工业机器人的"
    # Not filed yet: fast pre-examination turns on the protection centre, so where the applicant is comes next.
    assert events["requested_slot"] == "plan_region"
    region = await run(
        client,
        answer(
            "苏州",
            "nlu_fallback",
            "plan_region",
            "苏州",
            application_type="invention",
            stage="not_filed",
            technical_field="smart_manufacturing",
        ),
    )
    assert slot_events(region)["plan_region"] == "320500"
    unreadable = await run(client, answer("嗯……", "nlu_fallback", "stage", "嗯……", application_type="invention"))
    assert slot_events(unreadable)["stage"] is None and "没太明白" in texts(unreadable)


async def test_a_question_instead_of_an_answer_leaves_the_form(client: Client) -> None:
    text = "PPH要交多少钱？"
    result = await run(
        client, answer(text, "nlu_fallback", "foreign_allowed_office", text, application_type="invention")
    )
    assert slot_events(result) == {"foreign_allowed_office": None, "requested_slot": None}
    # The plan action then answers the question (its likeliest topics here) with a way back into the plan.
    left = await run(
        client,
        plan_call(
            {
                "lang": "zh",
                "application_type": "invention",
                "stage": "substantive_exam",
                "technical_field": "new_energy",
            },
            text=text,
            intent="nlu_fallback",
            confidence=0.4,
            ranking=[("nlu_fallback", 0.6), ("ask_pph", 0.45), ("ask_priority_exam_timeline", 0.2)],
        ),
    )
    assert "暂停" in texts(left) and "最快的路线" not in texts(left)
    assert buttons(left) == ["/ask_pph", "/ask_priority_exam_timeline", "/plan_fast_track"]


# ---------------------------------------------------------------- the plan


async def test_the_plan_is_ranked_for_a_phone_with_the_next_step_source_and_a_link(client: Client) -> None:
    slots = {
        "lang": "zh",
        "application_type": "invention",
        "stage": "substantive_exam",
        "technical_field": "new_energy",
        "plan_field_text": "锂电池隔膜",
        "foreign_allowed_office": "US",
    }
    result = await run(client, plan_call(slots))
    lines = texts(result).splitlines()
    assert lines[0] == "最快的路线（按用时排序）："
    routes = [line for line in lines if line[:2] in ("1.", "2.", "3.", "4.")]
    # Each open route in one line with its verdict, soonest first: PPH (claims allowed in the US) before priority
    # examination (a key industry), both before the normal path.
    assert routes[0].startswith("1. PPH ✓ 可走") and routes[1].startswith("2. 优先审查 ✓ 可走")
    assert any(line.startswith("3. 普通程序") for line in routes)
    assert any(line.startswith("不可走：快速预审") for line in lines)  # already filed
    assert "商标" not in texts(result)  # a trademark route is not a line on a patent's plan
    assert any(line.startswith("建议：PPH。下一步：") for line in lines)
    assert any(line.startswith("来源：") for line in lines)
    assert "锂电池" in texts(result) and "新能源" in texts(result)  # the field's match is shown
    (card,) = cards(result)
    link = urlsplit(card["link"])
    assert link.path == "pages/fast-track/plan"
    assert parse_qs(link.query) == {
        "kind": ["invention"],
        "stage": ["substantive_exam"],
        "technical_field": ["锂电池隔膜"],
        "foreign_allowed_office": ["US"],
    }
    assert buttons(result)[1] == "/plan_fast_track"
    assert len(texts(result)) <= 700  # a phone screen, not a report
    events = slot_events(result)
    assert {k: v for k, v in events.items() if v is not None} == {"plan_focus": "all"}


async def test_the_plan_in_english_for_a_trademark(client: Client) -> None:
    slots = {"lang": "en", "application_type": "trademark", "stage": "not_filed", "mark_type": "collective"}
    result = await run(client, plan_call(slots, text="collective"))
    text = texts(result)
    assert text.startswith("Your routes, soonest first:")
    assert "Normal examination ✓ open" in text
    assert "Trademark fast examination" in text and "优先" not in text
    assert parse_qs(urlsplit(cards(result)[0]["link"]).query)["mark_type"] == ["collective"]


async def test_the_eligibility_check_answers_with_the_verdict_then_offers_the_whole_plan(client: Client) -> None:
    slots = {
        "lang": "zh",
        "plan_focus": "priority_exam",
        "application_type": "invention",
        "technical_field": "new_energy",
        "filed_abroad_first_in_china": False,
        "exploitation_status": "none",
        "first_office_action_received": False,
    }
    result = await run(client, plan_call(slots, text="否", intent="deny"))
    assert texts(result).startswith("结论：符合优先审查条件")
    (card,) = cards(result)
    assert card["link"].startswith("pages/fast-track/plan?kind=invention")
    assert "/ask_priority_exam_process" in buttons(result)


async def test_reexamination_stays_an_eligibility_verdict(client: Client) -> None:
    slots = {
        "lang": "en",
        "plan_focus": "priority_exam",
        "application_type": "reexamination",
        "technical_field": "next_gen_it",
        "filed_abroad_first_in_china": False,
        "exploitation_status": "exploiting",
    }
    result = await run(client, plan_call(slots, text="yes", intent="affirm"))
    assert texts(result).startswith("Verdict: eligible")
    assert cards(result) == []  # the planner plans applications, not reexaminations


# ---------------------------------------------------------------- no leak into a later search


async def test_the_plans_field_and_region_do_not_narrow_a_later_search(client: Client, db: Database) -> None:
    ids = await seed_agencies(db)  # only 天衡 works in new energy; all three are in Hangzhou
    plan_turns = [
        *earlier_turn(REPORTED, "plan_fast_track", "fast_track_form", ago=60),
        *earlier_turn(
            "做锂电池的",
            "nlu_fallback",
            "fast_track_form",
            entities=[entity("technical_field", "new_energy")],
            slots={"technical_field": "new_energy", "plan_region": "320500"},
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
            slots={"lang": "zh", "technical_field": "new_energy", "plan_region": "320500", "region": "330100"},
            earlier=plan_turns,
        ),
    )
    assert detail_ids(result) == [ids["tianheng"], ids["xihu"], ids["qiantang"]]
    assert "新能源" not in texts(result).split("\n")[0]
