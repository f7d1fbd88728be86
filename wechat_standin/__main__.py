"""`python -m wechat_standin serve` (the stand-in on WECHAT_API_BASE's port) or `… chat` (the terminal chat)."""

from __future__ import annotations

import argparse
import sys

from core.settings import load_settings
from wechat_standin.options import add_chat_arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wechat_standin", description="a local stand-in for WeChat")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="answer WeChat's API on WECHAT_API_BASE (what `make run` starts)")
    serve.add_argument("--host", help="default: WECHAT_API_BASE's host")
    serve.add_argument("--port", type=int, help="default: WECHAT_API_BASE's port")
    serve.add_argument("--oauth-user", default="alice", help="who the web-authorization page answers as")
    serve.add_argument("--webhook", help="where scan events go (default http://127.0.0.1:PORT/wechat)")
    add_chat_arguments(sub.add_parser("chat", help="chat with the running service as a WeChat user"))
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "chat":
        from wechat_standin.chat import run_chat

        return run_chat(settings, args)
    from aiohttp import web

    from wechat_standin.app import create_standin_app

    base = settings.wechat_api_base
    host, port = args.host or base.host or "127.0.0.1", args.port or base.port or 8081
    print(f"WeChat stand-in on http://{host}:{port} (AppID {settings.wechat_appid}); sent messages: /_standin/sent")
    sys.stdout.flush()
    standin = create_standin_app(
        settings.wechat_appid,
        settings.wechat_secret,
        oauth_user=args.oauth_user,
        webhook=args.webhook or f"http://127.0.0.1:{settings.port}/wechat",
        webhook_token=settings.wechat_token,
        webhook_aes_key=settings.wechat_aes_key,
    )
    web.run_app(standin, host=host, port=port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
