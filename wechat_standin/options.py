"""Command-line options of the terminal chat, shared by `python -m wechat_standin chat` and
`python server.py wechat-chat` (argparse only, so building either parser stays cheap)."""

from __future__ import annotations

import argparse


def add_chat_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default="alice", help="who you are: the stand-in derives a fixed openid from it")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="plain mode even when WECHAT_AES_KEY is set (the service then refuses it unless WECHAT_COMPATIBLE_MODE)",
    )
    parser.add_argument(
        "--say", action="append", default=[], metavar="TEXT", help="send this and exit (repeatable); else interactive"
    )
    parser.add_argument("--wait", type=float, default=8.0, help="with --say: seconds to wait for later messages")
    parser.add_argument("--backend", help="the webhook URL (default http://127.0.0.1:PORT/wechat)")
    parser.add_argument("--standin", help="the stand-in's URL (default WECHAT_API_BASE)")
