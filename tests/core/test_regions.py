"""GB/T 2260 region lookup: codes, Chinese names, pinyin, English; a province covers its cities."""

from __future__ import annotations

import pytest

from core import regions


@pytest.mark.parametrize("text", ["330100", "杭州市", "杭州", "hangzhou", "HangZhou", " Hangzhou "])
def test_a_city_by_code_name_or_pinyin(text: str) -> None:
    region = regions.lookup(text)
    assert region is not None
    assert region.code == "330100"
    assert region.level == "city"


@pytest.mark.parametrize("text", ["330000", "浙江省", "浙江", "浙", "zhejiang", "Zhejiang"])
def test_a_province_by_code_name_abbreviation_or_pinyin(text: str) -> None:
    region = regions.lookup(text)
    assert region is not None
    assert region.code == "330000"


def test_special_english_names() -> None:
    assert regions.lookup("Inner Mongolia").code == "150000"  # type: ignore[union-attr]
    assert regions.lookup("Tibet").code == "540000"  # type: ignore[union-attr]
    assert regions.lookup("Shaanxi").code == "610000"  # type: ignore[union-attr]
    assert regions.lookup("shanxi").code == "140000"  # type: ignore[union-attr]
    assert regions.lookup("Xi'an").code == "610100"  # type: ignore[union-attr]


def test_ambiguous_names_prefer_the_wider_region() -> None:
    assert regions.lookup("吉林").code == "220000"  # type: ignore[union-attr]
    assert regions.lookup("吉林市").code == "220200"  # type: ignore[union-attr]


def test_a_province_covers_its_cities_and_a_city_its_districts() -> None:
    zhejiang = regions.lookup("浙江")
    hangzhou = regions.lookup("杭州")
    assert zhejiang is not None and hangzhou is not None
    assert zhejiang.contains("330106") and zhejiang.contains("330200")
    assert not zhejiang.contains("320100")
    assert hangzhou.contains("330106") and not hangzhou.contains("330200")
    assert zhejiang.code_range() == ("33", "34")
    assert hangzhou.code_range() == ("3301", "3302")


def test_every_province_is_there_with_its_cities() -> None:
    provinces = regions.provinces()
    assert len(provinces) == 31
    assert len(regions.cities_of("440000")) == 21  # Guangdong
    assert sum(1 for r in regions.all_regions() if r.level == "city") == 333


def test_unknown_text_is_none_and_unknown_districts_fall_back_to_their_city() -> None:
    assert regions.lookup("atlantis") is None
    assert regions.lookup("") is None
    fallback = regions.lookup("330106")
    assert fallback is not None and fallback.code == "330100"
    assert regions.display_name("330106") == "浙江省杭州市"
    assert regions.display_name("110108") == "北京市海淀区"
    assert not regions.is_valid_code("990000")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("甬", "330200"),
        ("蓉城", "510100"),
        ("鹏城", "440300"),
        ("魔都", "310000"),
        ("沪", "310000"),
        ("杭", "330100"),
    ],
)
def test_colloquial_names(text: str, code: str) -> None:
    region = regions.lookup(text)
    assert region is not None and region.code == code


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("杭州有哪些信用A级的代理机构可以做发明专利", "330100"),
        ("绍兴有没有做外观的代理所", "330600"),  # a city the old lexicon did not list
        ("甬的代理所哪家好", "330200"),
        ("在深的代理机构", "440300"),
        ("深的代理哪家靠谱", "440300"),
        ("我们在延边，能找谁", "222400"),  # an autonomous prefecture by its short name
        ("余杭区的企业", "330100"),
        ("agencies in Hangzhou please", "330100"),
        ("any firm in Inner Mongolia?", "150000"),
    ],
)
def test_a_sentence_names_its_region(sentence: str, code: str) -> None:
    region = regions.find_in_text(sentence)
    assert region is not None and region.code == code, sentence


@pytest.mark.parametrize("sentence", ["资深的代理人", "京东上的店铺", "新能源汽车", "云计算的专利", "有没有补贴", ""])
def test_a_one_character_name_inside_another_word_is_no_region(sentence: str) -> None:
    assert regions.find_in_text(sentence) is None


def test_every_prefecture_level_division_is_found_by_its_short_name_in_a_sentence() -> None:
    cities = [r for r in regions.all_regions() if r.level == "city"]
    missed = []
    for city in cities:
        found = regions.find_in_text(f"{city.short}有哪些代理机构")
        # A short name shared with a province (吉林, 海南 — also a prefecture of Qinghai) goes to the wider
        # region, as lookup does.
        expected = regions.lookup(city.short)
        if found is None or expected is None or found.code != expected.code:
            missed.append(city.name)
        elif found.code != city.code:
            assert found.level == "province", city.name
    assert missed == []
