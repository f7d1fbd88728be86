"""The cheapest requests that talk to the database: the real app (same middlewares, unit of work and pool) plus
three routes that each run `SELECT 1`, peeling off one layer at a time:

- `GET /api/v1/bench/select-1` — through the request's session (the unit of work): what every GET of ours pays;
- `GET /api/v1/bench/select-1-core` — through SQLAlchemy Core on the app's engine, autocommit, no ORM session;
- `GET /api/v1/bench/select-1-asyncpg` — on a bare asyncpg pool of the same size, no SQLAlchemy at all.

`bench_search` measures them beside `/healthz` of the same process, so the cold search's ratio can be read against
the ratio no request that queries PostgreSQL can beat on the machine at hand — and against what the stack under
our code allows. Only `make bench` (and `bench.profile_requests`) start it; it is not part of the product.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.cli import event_loop
from app.factory import create_app
from core.db import DATABASE
from core.http import session
from core.logs import configure_logging
from core.settings import load_settings

BARE_POOL: web.AppKey[asyncpg.Pool] = web.AppKey("bench_bare_pool")
BARE_POOL_SIZE = 20  # the app's own pool: 2 x Database's pool_size, all kept


async def select_one(request: web.Request) -> web.Response:
    await session(request).execute(text("SELECT 1"))
    return web.json_response({"status": "ok"})


async def select_one_core(request: web.Request) -> web.Response:
    engine = request.app[DATABASE].engine.execution_options(isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return web.json_response({"status": "ok"})


async def select_one_asyncpg(request: web.Request) -> web.Response:
    async with request.app[BARE_POOL].acquire() as conn:
        await conn.fetchval("SELECT 1")
    return web.json_response({"status": "ok"})


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    dsn = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def bare_pool(app: web.Application) -> AsyncIterator[None]:
        async with asyncpg.create_pool(dsn, min_size=BARE_POOL_SIZE, max_size=BARE_POOL_SIZE) as pool:
            app[BARE_POOL] = pool
            yield

    app.cleanup_ctx.append(bare_pool)
    app.router.add_get("/api/v1/bench/select-1", select_one)
    app.router.add_get("/api/v1/bench/select-1-core", select_one_core)
    app.router.add_get("/api/v1/bench/select-1-asyncpg", select_one_asyncpg)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None, loop=event_loop())


if __name__ == "__main__":
    main()
