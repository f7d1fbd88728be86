"""The web console (built from `console/` into `console/dist/`) served by the backend at `/console/`.

The console is a single-page app that talks to the public `/api/v1` API with the same bearer tokens as every other
client; this module only hands out its files. Hashed assets (`/console/assets/…`) are cached for a year; every other
path under `/console/` that is not a file answers `index.html`, so the app's own router resolves `/console/agencies/7`
or the phone view's `/console/m/vouchers` after a reload. When the build is missing the page says how to make it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiohttp import web

from core.http import Api

DIST_DIR = Path(__file__).resolve().parent.parent / "console" / "dist"
PREFIX = "/console"
ASSETS = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"

# What the built console loads, and no more: its own scripts, styles and fonts, and the API on this origin; `data:`
# images (Element Plus's CSS icons) and `blob:` ones (file previews). Styles need 'unsafe-inline': ECharts writes its
# tooltips as HTML with style attributes. No inline or eval'd script, and no page may frame the console.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

MISSING_BUILD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ip-assistant console — not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.5">
<h1>The console is not built yet</h1>
<p>控制台尚未构建。请在项目目录运行 <code>make run</code>（会自动构建），
或只构建控制台：<code>make console-build</code>。</p>
<p>Run <code>make run</code> (it builds the console first) or just <code>make console-build</code>
in the project folder, then reload this page.</p>
</body></html>
"""

mimetypes.add_type("application/javascript", ".mjs")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("font/woff2", ".woff2")

api = Api()  # the console declares no API routes of its own: it only uses the public /api/v1


class ConsoleSite:
    """Serves one built console folder; `setup(app)` adds its routes."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist.resolve()
        self.api = Api()

    def setup(self, app: web.Application) -> None:
        app.router.add_get(PREFIX, self.redirect, name="console_root")
        app.router.add_get(PREFIX + "/{tail:.*}", self.serve, name="console")

    async def redirect(self, _request: web.Request) -> web.StreamResponse:
        raise web.HTTPPermanentRedirect(PREFIX + "/")

    async def serve(self, request: web.Request) -> web.StreamResponse:
        response = await self._answer(request)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        index = self.dist / "index.html"
        if not index.is_file():
            return web.Response(text=MISSING_BUILD_PAGE, content_type="text/html", status=503)
        tail = request.match_info["tail"]
        found = self._file(tail)
        if found is not None:
            response = web.FileResponse(found)
            response.headers["Cache-Control"] = IMMUTABLE if tail.startswith(ASSETS) else "no-cache"
            return response
        if tail.startswith(ASSETS) or Path(tail).suffix in (".js", ".css", ".map", ".png", ".svg", ".ico"):
            # A missing asset is a 404, never the app's HTML (which a browser would try to run as a script).
            raise web.HTTPNotFound(text="no such console file")
        response = web.FileResponse(index)
        response.headers["Cache-Control"] = "no-cache"
        response.content_type = "text/html"
        return response

    def _file(self, tail: str) -> Path | None:
        """The file `tail` names inside the build folder; None for folders, missing files and escapes."""
        if not tail or "\x00" in tail:
            return None
        try:
            candidate = (self.dist / tail).resolve()
        except (OSError, ValueError):
            return None
        if not candidate.is_relative_to(self.dist) or not candidate.is_file():
            return None
        return candidate


_site = ConsoleSite(DIST_DIR)


def setup(app: web.Application) -> None:
    _site.setup(app)
