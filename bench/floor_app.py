"""The cheapest request that talks to the database: the real app (same middlewares, unit of work and pool) plus one
route, `GET /api/v1/bench/select-1`, that runs `SELECT 1` through the request's session.

`bench_search` measures it beside `/healthz` of the same process, so the cold search's ratio can be read against
the ratio no request that queries PostgreSQL can beat on the machine at hand. Only `make bench` starts it; it is
not part of the product.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from app.cli import event_loop
from app.factory import create_app
from core.http import session
from core.logs import configure_logging
from core.settings import load_settings


async def select_one(request: web.Request) -> web.Response:
    await session(request).execute(text("SELECT 1"))
    return web.json_response({"status": "ok"})


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    app.router.add_get("/api/v1/bench/select-1", select_one)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None, loop=event_loop())


if __name__ == "__main__":
    main()
