"""The operating commands behind `python server.py …`: serve, migrate, create and deactivate accounts, seed, check,
develop."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from core.settings import Settings, load_settings, require_secrets

CommandRunner = Callable[[Settings, argparse.Namespace], int]

# Connections the kernel keeps waiting to be accepted, per listening process (capped by net.core.somaxconn).
LISTEN_BACKLOG = 1024


def migrate(settings: Settings) -> None:
    """Bring the schema to the newest revision (creating the SQLite folder first)."""
    from alembic import command
    from alembic.config import Config

    sqlite_path = settings.sqlite_path()
    if sqlite_path is not None:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    config = Config("alembic.ini")
    # Alembic's options are configparser values: a percent-encoded URL (a password with `@`, a socket directory in
    # `?host=%2Fvar%2Frun%2Fpostgresql`) would be read as an interpolation, so `%` is doubled to stay itself.
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    command.upgrade(config, "head")


def event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where available (Linux, macOS): measurably more requests per core than the default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from app.factory import create_app
    from core.logs import configure_logging

    # Serving needs every secret; the other commands (migrate, seed, create-user, …) touch only the database.
    require_secrets(settings)
    configure_logging(settings.log_level)
    if args.migrate:
        migrate(settings)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        loop=event_loop(),
        reuse_port=args.reuse_port,
        # Connections waiting to be accepted: with aiohttp's 128, opening-burst runs (hundreds of new connections a
        # second while the loop is busy) had client connection errors; a full queue makes the kernel drop them.
        backlog=LISTEN_BACKLOG,
    )
    return 0


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    migrate(settings)
    print("schema is up to date")
    return 0


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from accounts.schemas import NewUser
    from accounts.service import create_user
    from app.schema import load_models
    from core.db import Database
    from core.errors import AppError

    load_models()  # every mapped table, so the users table's foreign keys resolve
    try:
        new = NewUser(
            role=args.role,
            username=args.username,
            password=args.password,
            display_name=args.display_name or "",
            agency_id=args.agency_id,
            enterprise_id=args.enterprise_id,
            region_code=args.region,
            is_admin=args.admin,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"create-user: {first['loc'][0]}: {first['msg']}", file=sys.stderr)
        return 2

    async def create() -> int:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as session:
                user = await create_user(session, new)
            print(f"created {user.role} user {user.username!r} (id {user.id})")
            return 0
        except AppError as exc:
            print(f"create-user: {exc.message}", file=sys.stderr)
            return 2
        finally:
            await db.dispose()

    return asyncio.run(create())


def _deactivate_user(settings: Settings, args: argparse.Namespace) -> int:
    from accounts.service import deactivate_user
    from app.schema import load_models
    from core.cache import make_cache
    from core.db import Database
    from core.errors import AppError

    load_models()

    async def deactivate() -> int:
        db = Database(settings.database_url)
        cache = make_cache(str(settings.redis_url) if settings.redis_url else None, settings.cache_prefix)
        try:
            async with db.transaction() as session:
                user = await deactivate_user(session, cache, username=args.username, user_id=args.user_id)
            print(f"deactivated user {user.username or '(no name)'} (id {user.id}); its tokens are revoked")
            return 0
        except AppError as exc:
            print(f"deactivate-user: {exc.message}", file=sys.stderr)
            return 2
        finally:
            await cache.close()
            await db.dispose()

    return asyncio.run(deactivate())


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo import seed

    return asyncio.run(seed(settings, agencies=args.agencies))


def _vouchers(settings: Settings, args: argparse.Namespace) -> int:
    from vouchers.commands import check

    return asyncio.run(check(settings))


def _wechat_chat(settings: Settings, args: argparse.Namespace) -> int:
    from wechat_standin.chat import run_chat

    return run_chat(settings, args)


def _wechat_menu(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from wechat.menu import MENU_FILE, run

    return asyncio.run(run(settings, args.menu_command, Path(args.file) if args.file else MENU_FILE))


def _export_learned(settings: Settings, args: argparse.Namespace) -> int:
    from app.schema import load_models
    from bot.knowledge import export_learned
    from core.db import Database

    load_models()

    async def export() -> str:
        db = Database(settings.database_url)
        try:
            async with db.transaction(write=False) as session:
                return await export_learned(session, None, command_line=True)
        finally:
            await db.dispose()

    text = asyncio.run(export())
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _dev(settings: Settings, _args: argparse.Namespace) -> int:
    from app.devrun import run_dev

    return run_dev(settings)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, CommandRunner]]:
    parser = argparse.ArgumentParser(prog="server.py", description="ip-assistant backend")
    sub = parser.add_subparsers(dest="command")
    runners: dict[str, CommandRunner] = {}

    run = sub.add_parser("run", help="serve the API (the default)")
    run.add_argument("--migrate", action="store_true", help="apply migrations first")
    run.add_argument("--reuse-port", action="store_true", help="share PORT with other worker processes (SO_REUSEPORT)")
    runners["run"] = _run

    sub.add_parser("dev", help="start every process of the system in the foreground (what `make run` does)")
    runners["dev"] = _dev

    sub.add_parser("migrate", help="apply database migrations")
    runners["migrate"] = _migrate

    create = sub.add_parser("create-user", help="create an account that can log in")
    create.add_argument("--role", required=True, choices=["official", "agency", "enterprise"])
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--display-name")
    create.add_argument("--agency-id", type=int)
    create.add_argument("--enterprise-id", type=int)
    create.add_argument("--region", help="officials: jurisdiction code (province/city/district); 000000 = nationwide")
    create.add_argument(
        "--admin", action="store_true", help="administrator of the region's officials, or of the agency/enterprise"
    )
    runners["create-user"] = _create_user

    deactivate = sub.add_parser("deactivate-user", help="stop an account: no more logins, its tokens revoked")
    named = deactivate.add_mutually_exclusive_group(required=True)
    named.add_argument("--username")
    named.add_argument("--user-id", type=int, help="for a mini-program user, who has no user name")
    runners["deactivate-user"] = _deactivate_user

    seed = sub.add_parser("seed", help="deterministic demo data (idempotent)")
    seed.add_argument("--agencies", type=int, default=200, help="how many demo agencies")
    runners["seed"] = _seed

    vouchers = sub.add_parser("vouchers", help="voucher ledger tools")
    vouchers_sub = vouchers.add_subparsers(dest="vouchers_command", required=True)
    vouchers_sub.add_parser("check", help="recompute every balance from the audit record; exit 1 on any difference")
    runners["vouchers"] = _vouchers

    from wechat_standin.options import add_chat_arguments

    add_chat_arguments(sub.add_parser("wechat-chat", help="chat with the running service as a WeChat user"))
    runners["wechat-chat"] = _wechat_chat

    menu = sub.add_parser("wechat-menu", help="the official account's menu (wechat/menu.yml): show it, or publish it")
    menu.add_argument("menu_command", choices=["show", "publish"], help="show: the file and what WeChat has; publish")
    menu.add_argument("--file", help="another menu file (default wechat/menu.yml)")
    runners["wechat-menu"] = _wechat_menu

    learned = sub.add_parser(
        "export-learned", help="the questions officials answered, as Rasa NLU YAML for the next training"
    )
    learned.add_argument("--out", help="write to this file (e.g. nlu_data/nlu/learned.yml) instead of stdout")
    runners["export-learned"] = _export_learned
    return parser, runners


def main(argv: Sequence[str] | None = None) -> int:
    parser, runners = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "run"
    if args.command is None:
        args.migrate = False
        args.reuse_port = False
    settings = load_settings()
    return runners[command](settings, args)
