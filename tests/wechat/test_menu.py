"""The menu as code: wechat/menu.yml checked against WeChat's limits before anything is sent, and published with
wechatpy to the stand-in (which checks the same limits, as WeChat does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import Settings
from wechat import menu
from wechat.webhook import ANSWERED_KEYS
from wechat_standin.app import StandIn

KEYS = frozenset(ANSWERED_KEYS)
BASE = "https://ipa.example.cn"


def problems_of(raw: Any) -> list[str]:
    with pytest.raises(menu.MenuInvalid) as refused:
        menu.build(raw, public_base=BASE, keys=KEYS)
    return refused.value.problems


def view(name: str = "机构", url: str = "{phone_view}/") -> dict[str, str]:
    return {"type": "view", "name": name, "url": url}


def click(name: str = "帮助", key: str = "HELP") -> dict[str, str]:
    return {"type": "click", "name": name, "key": key}


def test_the_repository_menu_is_valid_and_points_into_the_phone_view() -> None:
    built = menu.build(menu.load(), public_base=BASE, keys=KEYS)
    assert [b["name"] for b in built["button"]] == ["找机构", "问政策", "我的"]
    leaves = [item for b in built["button"] for item in b["sub_button"]]
    assert {item["type"] for item in leaves} == {"view", "click"}
    assert all(item["url"].startswith(f"{BASE}/console/m/") for item in leaves if item["type"] == "view")
    assert {"FIND_AGENCY", "FAST_TRACK", "VOUCHER_APPLY", "MY_ACCOUNT"} <= {i.get("key") for i in leaves}


def test_more_than_three_top_level_buttons_are_refused() -> None:
    assert problems_of({"button": [click() for _ in range(4)]}) == ["button: 1 to 3 top-level buttons"]


def test_more_than_five_items_under_a_button_are_refused() -> None:
    problems = problems_of({"button": [{"name": "政策", "sub_button": [click() for _ in range(6)]}]})
    assert problems == ["button[0].sub_button: 1 to 5 items"]


def test_names_over_wechats_byte_limits_are_refused() -> None:
    problems = problems_of(
        {"button": [{"name": "五个汉字呀", "sub_button": [click(name="长" * 21)]}, click(name="1234567890abcdefg")]}
    )
    assert not any(p.startswith("button[0].name") for p in problems)  # 5 汉字 are 15 bytes: they fit
    assert any(p.startswith("button[0].sub_button[0].name: at most 60 bytes") for p in problems)
    assert any(p.startswith("button[1].name:") and "17 bytes" in p for p in problems)


def test_unknown_keys_foreign_urls_and_wrong_types_are_refused() -> None:
    problems = problems_of(
        {
            "button": [
                click(key="NOT_HANDLED"),
                view(url="https://evil.example/phish"),
                {"type": "media_id", "name": "素材", "media_id": "x"},
            ]
        }
    )
    assert problems[0].startswith("button[0].key: 'NOT_HANDLED' is not a key the webhook answers")
    assert problems[1] == f"button[1].url: must open the phone view ({BASE}/console/m/…)"
    assert problems[2].startswith("button[2].type: must be one of click, view")


async def test_publish_sends_the_menu_and_show_reads_it_back(
    settings: Settings, standin: StandIn, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await menu.run(settings, "publish") == 0
    assert standin.menu == menu.build(menu.load(), public_base=settings.public_base, keys=KEYS)
    assert standin.calls["menu/create"] == 1
    assert await menu.run(settings, "show") == 0
    shown = capsys.readouterr().out
    assert "# published now at" in shown and "电脑端登录" in shown.split("# published now at", 1)[1]


async def test_an_invalid_file_is_not_sent(
    settings: Settings, standin: StandIn, clean: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "menu.yml"
    bad.write_text(yaml.safe_dump({"button": [click(key="NOPE")]}, allow_unicode=True), encoding="utf-8")
    assert await menu.run(settings, "publish", bad) == 1
    assert "button[0].key: 'NOPE'" in capsys.readouterr().err
    assert standin.calls["menu/create"] == 0
    assert standin.menu is None


async def test_wechat_refusing_the_menu_is_reported(
    settings: Settings, standin: StandIn, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    standin.failures["menu/create"].append(40018)  # WeChat refuses what our checks passed: exit 2 with its code
    assert await menu.run(settings, "publish") == 2
    assert "WeChat refused: 40018" in capsys.readouterr().err
    assert standin.menu is None
