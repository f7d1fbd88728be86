"""Rendering ChatReplies as WeChat text: choices, cards, and splitting at sentence boundaries within 2048 bytes."""

from __future__ import annotations

from core.chat import ChatButton, ChatCard, ChatReply
from core.wechat.parsing import parse_inbound
from core.wechat.replies import MAX_TEXT_BYTES, render_text, split_text


def test_short_text_is_one_message() -> None:
    assert split_text("你好") == ["你好"]
    assert split_text("   ") == []


def test_long_text_splits_at_sentence_ends_within_the_byte_limit() -> None:
    sentence = "专利优先审查请求应当经国务院专利行政部门同意。"
    text = sentence * 200  # one paragraph, ~13 KB
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(len(c.encode()) <= MAX_TEXT_BYTES for c in chunks)
    assert all(c.endswith("。") for c in chunks)
    assert "".join(chunks) == text


def test_a_single_endless_sentence_is_still_cut_within_the_limit() -> None:
    chunks = split_text("长" * 3000)
    assert all(len(c.encode()) <= MAX_TEXT_BYTES for c in chunks)
    assert "".join(chunks) == "长" * 3000


def test_links_are_never_cut() -> None:
    link = '<a href="weixin://bizmsgmenu?msgmenucontent=找代理机构&msgmenuid=1">找代理机构</a>'
    text = ("说明。" * 300) + link + ("补充。" * 300)
    chunks = split_text(text)
    assert sum(c.count("<a href") for c in chunks) == 1
    assert any(link in c for c in chunks)


def test_buttons_become_numbered_tappable_choices_and_cards_short_lines() -> None:
    reply = ChatReply(
        text="为您找到以下机构：",
        cards=[ChatCard(title="杭州甲专利事务所", subtitle="A级 · 95分", lines=["发明专利 3000–6000元"])],
        buttons=[ChatButton(title="看更多", payload="/find_agency"), ChatButton(title="比较", payload="/compare")],
    )
    rendered = render_text([reply])
    [text] = rendered.chunks
    assert "▪ 杭州甲专利事务所 — A级 · 95分\n  发明专利 3000–6000元" in text
    assert '1. <a href="weixin://bizmsgmenu?msgmenucontent=看更多&msgmenuid=1">看更多</a>' in text
    assert "2. <a href" in text
    assert [c.payload for c in rendered.choices] == ["/find_agency", "/compare"]


def test_events_are_keyed_by_sender_time_and_event_messages_by_sender_and_msgid() -> None:
    event = parse_inbound(
        "<xml><ToUserName>gh</ToUserName><FromUserName>oA</FromUserName><CreateTime>100</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe</Event></xml>"
    )
    message = parse_inbound(
        "<xml><ToUserName>gh</ToUserName><FromUserName>oA</FromUserName><CreateTime>100</CreateTime>"
        "<MsgType>text</MsgType><Content>hi</Content><MsgId>42</MsgId></xml>"
    )
    assert event.dedup_key == "e:oA:100:subscribe"
    assert message.dedup_key == "m:oA:42"


def test_card_links_to_mini_program_pages_open_the_phone_view_in_the_chat() -> None:
    base = "https://ipa.example.cn"
    reply = ChatReply(
        text="为您找到：",
        cards=[
            ChatCard(title="杭州求是", link="pages/agency/detail?id=12"),
            ChatCard(title="服务券", link="pages/voucher/detail?id=5"),
            ChatCard(title="西湖区服务券", link="pages/voucher/program?id=3"),
            ChatCard(title="工单", link="pages/assistant/ticket?id=9"),  # no phone-view page: no link
        ],
    )
    text = render_text([reply], "zh", base).chunks[0]
    assert f'<a href="{base}/console/m/agencies/12">查看详情</a>' in text
    assert f'<a href="{base}/console/m/vouchers">查看详情</a>' in text
    assert f'<a href="{base}/console/m/vouchers?program=3">查看详情</a>' in text
    assert text.count("<a href=") == 3
    # Without a public base (the mini-program's own rendering) only http links are links, as before.
    assert "<a href=" not in render_text([reply], "zh").chunks[0]
