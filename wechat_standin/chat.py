"""Chat with the running service as a WeChat user, from the terminal.

Each line you type becomes a user message that this tool signs (and, with WECHAT_AES_KEY, encrypts) exactly as
WeChat's servers would, posts to `/wechat`, retries like WeChat (same MsgId, signature, timestamp and nonce; three
deliveries, 5 s apart), then decrypts and prints the reply. Messages the service sends later through the stand-in
(customer-service messages, subscribe messages) are printed as they arrive.

    python server.py wechat-chat                 # interactive
    python server.py wechat-chat --say 你好 --say 2
    lines starting with "/" are commands: /subscribe, /unsubscribe, /click KEY, /image, /quit
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
from typing import Any

import aiohttp

from core.settings import Settings
from wechat_standin.app import official_openid_for, openid_for
from wechat_standin.server import Delivery, WeChatServer, event_message, media_message, new_msg_id, text_message

_LINK = re.compile(r"<a\s[^>]*>(.*?)</a>", re.DOTALL)


def readable(text: str) -> str:
    """WeChat shows links as tappable text; so do we."""
    return _LINK.sub(lambda m: f"[{m.group(1)}]", text)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in readable(text).splitlines())


def _message_for(line: str, openid: str) -> str | None:
    if not line.startswith("/"):
        return text_message(openid, line, new_msg_id())
    command, _, rest = line[1:].partition(" ")
    if command in ("subscribe", "unsubscribe"):
        return event_message(openid, command)
    if command == "click":
        return event_message(openid, "CLICK", rest.strip())
    if command in ("image", "voice"):
        return media_message(openid, command, new_msg_id())
    return None


def _show_delivery(delivery: Delivery) -> None:
    note = f"{delivery.seconds:.2f} s, delivery {delivery.deliveries} of 3"
    if delivery.status != 200:
        print(f"  ✗ HTTP {delivery.status or 'timeout'} ({note}) {delivery.reply_xml[:200]}")
    elif delivery.reply is None:
        print(f"  … empty reply ({note}); the answer follows as a customer-service message")
    else:
        print(f"  ← ({note})\n{_indent(delivery.reply)}")


async def _watch(http: aiohttp.ClientSession, standin: str, openids: set[str], stop: asyncio.Event) -> None:
    """Print what the service sent this user through the stand-in's API: customer-service messages to their
    official-account openid, subscribe messages to their mini-program openid."""
    after = None
    while not stop.is_set():
        try:
            async with http.get(f"{standin}/_standin/sent", params={"after": str(after or 0)}) as response:
                data = await response.json()
            if after is None:
                after = int(data["last_seq"])  # only what arrives from now on
            else:
                for item in data["items"]:
                    after = max(after, int(item["seq"]))
                    if item.get("touser") in openids:
                        print(_render_sent(item), flush=True)
        except (aiohttp.ClientError, ValueError, KeyError):
            pass
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


def _render_sent(item: dict[str, Any]) -> str:
    body = item["body"]
    if item["api"] == "custom/send":
        return f"  ← [客服消息 custom/send]\n{_indent(body.get('text', {}).get('content', ''))}"
    fields = ", ".join(f"{k}={v.get('value')}" for k, v in body.get("data", {}).items())
    return f"  ← [订阅消息 subscribe/send] template={body.get('template_id')} page={body.get('page', '')}: {fields}"


async def chat(settings: Settings, args: argparse.Namespace) -> int:
    backend = args.backend or f"http://127.0.0.1:{settings.port}/wechat"
    standin = (args.standin or str(settings.wechat_api_base)).rstrip("/")
    aes_key = None if args.plain else settings.wechat_aes_key
    # The user's openid in the official account (the mini-program's differs; the backend links them by unionid).
    openid = official_openid_for(settings.wechat_appid, args.user)
    async with aiohttp.ClientSession() as http:
        server = WeChatServer(http, backend, token=settings.wechat_token, appid=settings.wechat_appid, aes_key=aes_key)
        mode = "safe mode (AES-encrypted, msg_signature)" if aes_key else "plain mode (signed)"
        print(f"WeChat user {args.user!r} (official-account openid {openid}) → {backend}, {mode}")
        try:  # tell the stand-in this user follows the account (so cgi-bin/user/info knows their unionid)
            async with http.get(f"{standin}/_standin/openid", params={"user": args.user}) as response:
                response.raise_for_status()
        except aiohttp.ClientError:
            print(f"(the stand-in at {standin} is not answering: later messages will not be shown)")
        stop = asyncio.Event()
        mini_program = openid_for(settings.wechat_appid, args.user)
        watcher = asyncio.create_task(_watch(http, standin, {openid, mini_program}, stop))
        await asyncio.sleep(0.6)  # let the watcher learn where "now" is
        try:
            if args.say:
                for line in args.say:
                    await _send(server, line, openid)
                await asyncio.sleep(args.wait)
            else:
                print("type a message (/subscribe, /click FIND_AGENCY, /image, /quit); Ctrl-D ends")
                loop = asyncio.get_running_loop()
                while True:
                    line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
                    if not line or line == "/quit":
                        break
                    await _send(server, line, openid)
        finally:
            stop.set()
            await watcher
    return 0


async def _send(server: WeChatServer, line: str, openid: str) -> None:
    xml = _message_for(line, openid)
    if xml is None:
        print("  commands: /subscribe /unsubscribe /click KEY /image /voice /quit")
        return
    print(f"→ {line}", flush=True)
    try:
        delivery = await server.deliver(xml)
    except aiohttp.ClientError as exc:
        print(f"  ✗ the service is not answering at {server.url}: {exc}")
        return
    _show_delivery(delivery)


def run_chat(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(chat(settings, args))
    except KeyboardInterrupt:
        return 0
