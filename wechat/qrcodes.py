"""Poster QR codes with a scene (`agency:<id>`, `program:<id>`), what a scan answers, and scans counted.

A poster is a permanent QR code (`qrcode/create`, `QR_LIMIT_STR_SCENE`) made once per agency or programme and
kept (`wechat_qr_codes`); its image comes from WeChat's `showqrcode`. Scanning it sends the webhook `subscribe`
with `EventKey=qrscene_<scene>` (a new follower) or `SCAN` with `EventKey=<scene>` (a follower already): the
answer is the agency's card with a follow link, or the programme's application page, both into the phone view
(where WeChat signs the reader in); the scan is counted on its code, once per event (the webhook's dedup).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.errors import AgencyNotFound, NotYourAgency
from agencies.lookup import get_agency_summary
from core.auth import Principal, Role, Scope
from core.chat import ChatReply
from core.db import utcnow
from core.errors import Forbidden, NotFound
from core.wechat.links import agency_page, program_page, web_url
from core.wechat.platform import WeChatPlatform
from vouchers.programs import program_or_404
from wechat.models import QrCode
from wechat.permissions import PERMISSIONS, Action
from wechat.schemas import ScanReportOut, ScanRowOut

log = logging.getLogger(__name__)

KINDS = ("agency", "program")
_SCENE = re.compile(r"^(agency|program):([0-9]{1,18})$")


@dataclass(frozen=True, slots=True)
class Scene:
    kind: str
    target_id: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.target_id}"


def is_new_follower(event: str) -> bool:
    return event in ("subscribe", "subscribe_scan")


def parse_scene(event: str, event_key: str) -> Scene | None:
    """The scene of a QR scan event: `subscribe` with `qrscene_<scene>`, or `scan` with `<scene>`; else None.
    (wechatpy's parser already turns the first into `subscribe_scan` with the prefix removed.)"""
    if event == "subscribe" and event_key.startswith("qrscene_"):
        raw = event_key.removeprefix("qrscene_")
    elif event in ("subscribe_scan", "scan"):
        raw = event_key
    else:
        return None
    match = _SCENE.match(raw)
    return None if match is None else Scene(match.group(1), int(match.group(2)))


async def _code_for(session: AsyncSession, platform: WeChatPlatform, scene: Scene) -> QrCode:
    name = str(scene)
    code = await session.scalar(select(QrCode).where(QrCode.scene == name))
    if code is not None and code.ticket:
        return code
    ticket = await platform.create_qrcode(name)  # permanent: the same code for the same scene, asked again or not
    if code is None:
        code = QrCode(scene=name, kind=scene.kind, target_id=scene.target_id, ticket=ticket.ticket, url=ticket.url)
        try:
            async with session.begin_nested():
                session.add(code)
                await session.flush()
        except IntegrityError:  # made by a concurrent download meanwhile
            found = await session.scalar(select(QrCode).where(QrCode.scene == name))
            assert found is not None
            return found
    else:
        code.ticket, code.url = ticket.ticket, ticket.url
        await session.flush()
    return code


async def poster(
    session: AsyncSession, platform: WeChatPlatform, principal: Principal | None, kind: str, target_id: int
) -> tuple[bytes, str]:
    """The poster QR code's image for an agency (officials; agency staff for their own) or a programme
    (officials), and a file name for it."""
    acting = PERMISSIONS.check(principal, Action.DOWNLOAD_QRCODE)
    if kind == "agency":
        if PERMISSIONS.own_only(acting, Action.DOWNLOAD_QRCODE) and not Scope.of(acting).covers(agency_id=target_id):
            raise NotYourAgency("agency staff download their own agency's poster only")
        if await get_agency_summary(session, target_id) is None:
            raise AgencyNotFound(target_id)
    else:
        if acting.role is not Role.OFFICIAL:
            raise Forbidden("only officials download a programme's poster")
        await program_or_404(session, target_id)
    code = await _code_for(session, platform, Scene(kind, target_id))
    image = await platform.qrcode_image(code.ticket)
    return image, f"qrcode-{kind}-{target_id}.png"


async def record_scan(session: AsyncSession, scene: Scene, *, new_follower: bool) -> bool:
    """Count one scan on the scene's code; False when no poster of ours carries this scene."""
    column = QrCode.subscribe_scans if new_follower else QrCode.scan_scans
    counted = await session.execute(
        update(QrCode).where(QrCode.scene == str(scene)).values({column: column + 1, QrCode.last_scan_at: utcnow()})
    )
    return bool(getattr(counted, "rowcount", 0))


async def scan_reply(session: AsyncSession, public_base: str, scene: Scene, *, new_follower: bool) -> list[ChatReply]:
    """What a scan answers: the agency's card and a follow link, or the programme's application page."""
    welcome = "欢迎关注！" if new_follower else ""
    if scene.kind == "agency":
        agency = await get_agency_summary(session, scene.target_id)
        if agency is None:
            return []
        page = web_url(public_base, agency_page(agency.id))
        text = (
            f"{welcome}您扫描的是这家代理机构的二维码：\n"
            f"▪ {agency.name_zh} — 信用等级 {agency.credit_level}（{agency.credit_score}分）\n"
            f"  专利代理师 {agency.patent_attorneys} 人" + ("，接受服务券" if agency.accepts_vouchers else "") + "\n"
            f'  <a href="{page}">查看机构主页</a>\n'
            f'  <a href="{page}?follow=1">关注这家机构</a>（评级变化时提醒您）'
        )
        return [ChatReply(text=text)]
    try:
        program = await program_or_404(session, scene.target_id)
    except NotFound:  # a poster of a programme since deleted: nothing to show
        return []
    page = web_url(public_base, program_page(program.id))
    text = (
        f"{welcome}您扫描的是服务券项目的二维码：\n▪ {program.name}\n"
        f'  <a href="{page}">查看并申请服务券</a>（申请前需绑定企业）'
    )
    return [ChatReply(text=text)]


async def scan_report(session: AsyncSession, principal: Principal | None) -> ScanReportOut:
    """Every poster code and its scans, for officials' reports."""
    PERMISSIONS.check(principal, Action.READ_SCAN_REPORT)
    codes = (await session.scalars(select(QrCode).order_by(QrCode.kind, QrCode.target_id))).all()
    return ScanReportOut(
        items=[
            ScanRowOut(
                scene=code.scene,
                kind=code.kind,
                target_id=code.target_id,
                new_followers=code.subscribe_scans,
                follower_scans=code.scan_scans,
                total=code.subscribe_scans + code.scan_scans,
                created_at=code.created_at,
                last_scan_at=code.last_scan_at,
            )
            for code in codes
        ]
    )
