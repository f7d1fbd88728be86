"""The official account's menu as code: `wechat/menu.yml`, checked against WeChat's limits, sent with wechatpy.

`python server.py wechat-menu show` prints the file as it would be sent and what WeChat has now (`menu/get`);
`python server.py wechat-menu publish` checks it and sends it (`menu/create`). Nothing is sent when a check
fails: every problem is listed with where it is (`button[2].sub_button[0].name: …`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from core.settings import Settings
from core.wechat.links import PHONE_VIEW

MENU_FILE = Path(__file__).resolve().parent / "menu.yml"

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_NAME_BYTES = 16  # a top-level button: 4 Chinese characters
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024
TYPES = ("click", "view")


class MenuInvalid(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def load(path: Path = MENU_FILE) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _leaf(
    item: dict[str, Any], where: str, phone_view: str, keys: frozenset[str], problems: list[str]
) -> dict[str, Any]:
    kind = item.get("type")
    name = str(item.get("name", ""))
    out: dict[str, Any] = {"type": kind, "name": name}
    if kind not in TYPES:
        problems.append(f"{where}.type: must be one of {', '.join(TYPES)}")
    elif kind == "click":
        key = item.get("key")
        if not isinstance(key, str) or not key:
            problems.append(f"{where}.key: a click item needs a key")
        elif _size(key) > MAX_KEY_BYTES:
            problems.append(f"{where}.key: at most {MAX_KEY_BYTES} bytes")
        elif key not in keys:
            problems.append(f"{where}.key: {key!r} is not a key the webhook answers ({', '.join(sorted(keys))})")
        out["key"] = key
    else:
        url = item.get("url")
        if not isinstance(url, str) or not url:
            problems.append(f"{where}.url: a view item needs a url")
        else:
            url = url.replace("{phone_view}", phone_view)
            if _size(url) > MAX_URL_BYTES:
                problems.append(f"{where}.url: at most {MAX_URL_BYTES} bytes")
            elif not url.startswith(phone_view + "/") and url != phone_view:
                problems.append(f"{where}.url: must open the phone view ({phone_view}/…)")
        out["url"] = url
    unknown = set(item) - {"type", "name", "key", "url"}
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return out


def build(raw: Any, *, public_base: str, keys: frozenset[str]) -> dict[str, Any]:
    """The menu/create body from the file's contents, or MenuInvalid listing every problem."""
    problems: list[str] = []
    phone_view = public_base.rstrip("/") + PHONE_VIEW
    buttons = raw.get("button") if isinstance(raw, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise MenuInvalid([f"button: 1 to {MAX_BUTTONS} top-level buttons"])
    out: list[dict[str, Any]] = []
    for i, button in enumerate(buttons):
        where = f"button[{i}]"
        if not isinstance(button, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        name = button.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}.name: required")
            name = ""
        elif _size(name) > MAX_NAME_BYTES:
            problems.append(f"{where}.name: {name!r} is {_size(name)} bytes; at most {MAX_NAME_BYTES} (4 汉字)")
        subs = button.get("sub_button")
        if subs is None:
            out.append(_leaf(button, where, phone_view, keys, problems))
            continue
        if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB_BUTTONS:
            problems.append(f"{where}.sub_button: 1 to {MAX_SUB_BUTTONS} items")
            continue
        if set(button) - {"name", "sub_button"}:
            problems.append(f"{where}: a button with sub_button has only a name")
        items = []
        for j, sub in enumerate(subs):
            sub_where = f"{where}.sub_button[{j}]"
            if not isinstance(sub, dict):
                problems.append(f"{sub_where}: must be a mapping")
                continue
            sub_name = sub.get("name")
            if not isinstance(sub_name, str) or not sub_name.strip():
                problems.append(f"{sub_where}.name: required")
            elif _size(sub_name) > MAX_SUB_NAME_BYTES:
                problems.append(f"{sub_where}.name: at most {MAX_SUB_NAME_BYTES} bytes")
            items.append(_leaf(sub, sub_where, phone_view, keys, problems))
        out.append({"name": name, "sub_button": items})
    if problems:
        raise MenuInvalid(problems)
    return {"button": out}


def menu_keys() -> frozenset[str]:
    from wechat.webhook import ANSWERED_KEYS

    return ANSWERED_KEYS


async def run(settings: Settings, action: str, path: Path = MENU_FILE) -> int:
    """`wechat-menu show|publish`: 0 when done, 1 when the file fails a check (nothing sent), 2 when WeChat refused."""
    import aiohttp

    from core.cache import make_cache
    from core.wechat.client import WeChatClient
    from core.wechat.exceptions import WeChatError
    from core.wechat.tokens import TokenStore
    from wechat.routes import platform_for

    try:
        menu: dict[str, Any] | None = build(load(path), public_base=settings.public_base, keys=menu_keys())
    except MenuInvalid as exc:
        print(f"{path}: the menu breaks WeChat's rules; nothing was sent:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        if action == "publish":
            return 1
        menu = None
    except (OSError, yaml.YAMLError) as exc:
        print(f"{path}: cannot read it: {exc}", file=sys.stderr)
        return 1
    cache = make_cache(str(settings.redis_url) if settings.redis_url else None, settings.cache_prefix)
    try:
        async with aiohttp.ClientSession() as http:
            client = WeChatClient(
                http, base_url=str(settings.wechat_api_base), appid=settings.wechat_appid, secret=settings.wechat_secret
            )
            tokens = TokenStore(cache, settings.wechat_appid, client.fetch_stable_token)
            platform = platform_for(settings, cache, tokens)
            try:
                if action == "publish":
                    assert menu is not None
                    await platform.create_menu(menu)
                    print(f"published {path.name} to {settings.wechat_api_base} (AppID {settings.wechat_appid})")
                else:
                    print(f"# {path} as it would be sent:")
                    print(json.dumps(menu, ensure_ascii=False, indent=2))
                    current = await platform.get_menu()
                    print(f"# published now at {settings.wechat_api_base}:")
                    print(json.dumps(current, ensure_ascii=False, indent=2) if current else "(no menu)")
            except WeChatError as exc:
                print(f"WeChat refused: {exc.errcode} {exc.errmsg}", file=sys.stderr)
                return 2
    finally:
        await cache.close()
    return 0
