"""Where a link from the chat opens: mini-program pages → the phone view (`/console/m/…`) on PUBLIC_BASE_URL.

The assistant and the pushes name mini-program pages (`pages/agency/detail?id=3`). In the official account those
open the phone view instead; inside WeChat the phone view signs the reader in by web authorization on the way,
so the link lands signed in and in place. The same mapping as the console's `src/links.js` (`cardLink`).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

PHONE_VIEW = "/console/m"
_ID = re.compile(r"^[0-9]{1,18}$")


def phone_view_path(page: str) -> str | None:
    """The phone-view path (below `/console`) for a mini-program page, or None when it has no phone-view page."""
    path, _, query = page.lstrip("/").partition("?")
    params = dict(parse_qsl(query))
    if path == "pages/agency/detail" and _ID.match(params.get("id", "")):
        return f"/m/agencies/{params['id']}"
    if path == "pages/agency/search":
        return "/m/" + (f"?{urlencode(params)}" if params else "")
    if path == "pages/voucher/program" and _ID.match(params.get("id", "")):
        return program_page(int(params["id"]))
    if path.startswith("pages/voucher/"):
        return "/m/vouchers"
    if path.startswith("pages/login"):
        return "/m/chat"
    return None


def agency_page(agency_id: int) -> str:
    return f"/m/agencies/{agency_id}"


def program_page(program_id: int) -> str:
    """A voucher programme's application page in the phone view."""
    return f"/m/vouchers?program={program_id}"


def web_url(public_base: str, path: str) -> str:
    """An absolute URL of a phone-view path (`/m/…`)."""
    return f"{public_base.rstrip('/')}/console{path}"


def chat_link(public_base: str, link: str | None) -> str | None:
    """What a card's link becomes in the official account: http(s) links stay, mini-program pages go to the phone
    view, anything else is left out."""
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    path = phone_view_path(link)
    return None if path is None else web_url(public_base, path)
