"""action_my_vouchers: the sender's own enterprise's vouchers, from the verified identity on the message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import lookups
from bot.actions.common import button, card, lang_of, pick, say, sender_principal, yuan
from core.auth import Role

MAX_CARDS = 5


class ActionMyVouchers(Action):  # type: ignore[misc]  # rasa_sdk is untyped
    def name(self) -> str:
        return "action_my_vouchers"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        principal = sender_principal(tracker)
        if principal is None:
            say(
                dispatcher,
                pick(
                    lang,
                    "查看服务券需要先登录：请在小程序登录，或在公众号绑定您的企业账号。",
                    "To see your vouchers, log in in the mini-program or bind your company account in the "
                    "official account.",
                ),
                [button(pick(lang, "服务券怎么申请", "Applying for vouchers"), "/ask_voucher_apply")],
                [card(pick(lang, "登录 / 绑定企业", "Log in / bind your company"), "", [], "pages/login/index")],
            )
            return []
        if principal.role is not Role.ENTERPRISE or principal.enterprise_id is None:
            say(
                dispatcher,
                pick(
                    lang,
                    "您的账号还没有关联企业，服务券发给企业。请联系主管部门把账号关联到企业。",
                    "Your account is not linked to a company, and vouchers belong to companies. "
                    "Ask the office to link it.",
                ),
                [button(pick(lang, "转人工", "Talk to a person"), "/human_handoff")],
            )
            return []
        vouchers = await lookups.my_vouchers(principal)
        if not vouchers:
            say(
                dispatcher,
                pick(lang, "贵企业目前没有服务券。", "Your company has no vouchers yet."),
                [button(pick(lang, "服务券怎么申请", "Applying for vouchers"), "/ask_voucher_apply")],
            )
            return []
        spendable = [v for v in vouchers if v.spendable]
        balance = sum(v.balance_fen for v in spendable)
        if spendable:
            soonest = min(spendable, key=lambda v: v.expires_at)
            text = pick(
                lang,
                f"贵企业有{len(spendable)}张可用服务券，余额共¥{yuan(balance)}；最早一张{soonest.expires_at.date().isoformat()}到期。",
                f"Your company has {len(spendable)} usable vouchers, ¥{yuan(balance)} in all; the first expires "
                f"{soonest.expires_at.date().isoformat()}.",
            )
        else:
            text = pick(
                lang, "贵企业的服务券都已用完或失效。", "Your company's vouchers are all used or no longer valid."
            )
        cards = []
        for v in vouchers[:MAX_CARDS]:
            state = v.state_label_zh if lang == "zh" else v.state_label_en
            lines = [
                pick(
                    lang,
                    f"余额¥{yuan(v.balance_fen)}／面值¥{yuan(v.face_value_fen)}",
                    f"¥{yuan(v.balance_fen)} left of ¥{yuan(v.face_value_fen)}",
                ),
                pick(lang, f"{v.expires_at.date().isoformat()}到期", f"expires {v.expires_at.date().isoformat()}"),
            ]
            if v.spendable and v.usable_at:
                lines.append(pick(lang, f"{len(v.usable_at)}家机构可用", f"usable at {len(v.usable_at)} agencies"))
            cards.append(card(v.program_name, state, lines, f"pages/voucher/detail?id={v.id}"))
        say(
            dispatcher,
            text,
            [
                button(pick(lang, "服务券怎么用", "Using a voucher"), "/ask_voucher_use"),
                button(pick(lang, "找收券机构", "Agencies taking vouchers"), "/find_agency"),
            ],
            cards,
        )
        return []
