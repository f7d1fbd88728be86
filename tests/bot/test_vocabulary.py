"""The everyday words the actions read from a message when the model tagged nothing, and the lexicon built from
the same tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import vocabulary
from core import regions
from tests.support.scripts import load_script


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("杭州有哪些信用A级的代理机构", "A"),
        ("A+的代理所", "A_plus"),
        ("a+级", "A_plus"),
        ("信用好的", "A"),
        ("找个靠谱的", "A"),
        ("口碑好的代理", "A"),
        ("B级以上就行", "B"),
        ("a reliable firm", "A"),
        ("做发明专利的", None),
    ],
)
def test_rating_words_become_a_credit_floor(text: str, level: str | None) -> None:
    assert vocabulary.rating_in(text) == level


@pytest.mark.parametrize(
    ("text", "voucher"),
    [
        ("收服务券的代理所", True),
        ("能用券的有哪些", True),
        ("接受创新券吗", True),
        ("agencies that accept vouchers", True),
        ("can I use my voucher there", True),
        ("杭州做商标的代理", False),
        ("服务券怎么申请", False),
    ],
)
def test_accepting_vouchers_is_read_as_a_filter(text: str, voucher: bool) -> None:
    assert vocabulary.wants_voucher_agencies(text) is voucher


@pytest.mark.parametrize(
    ("text", "service", "field"),
    [
        ("可以做发明专利的", "invention", None),
        ("想注册个商标", "trademark_registration", None),
        ("做锂电池的企业", None, "new_energy"),
        ("我们做工业软件", None, "digital_economy"),
        ("PCT国际申请", "pct_foreign", None),
        ("design patent for a battery", "design", "new_energy"),
    ],
)
def test_services_and_fields_in_everyday_words(text: str, service: str | None, field: str | None) -> None:
    assert vocabulary.service_in(text) == service
    assert vocabulary.field_in(text) == field


def test_the_lexicon_lists_every_province_and_prefecture_level_division() -> None:
    lexicon = load_script(Path("bot/scripts/lexicon.py"))
    wanted = {r.code for r in regions.all_regions() if r.level in ("province", "city")}
    assert len(wanted) == 31 + 333
    assert set(lexicon.REGIONS) == wanted
    assert "甬" in lexicon.REGIONS["330200"] and "杭" in lexicon.REGIONS["330100"]
    # One-character names that are parts of common words stay out of the model's vocabulary.
    assert "新" not in lexicon.REGIONS["650000"] and "云" not in lexicon.REGIONS["530000"]
