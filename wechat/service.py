"""Mini-program login and subscribe consents: every rule of the WeChat domain's JSON API."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import links
from accounts import service as accounts
from core.auth import Principal
from core.cache import Cache
from core.db import after_commit
from core.errors import TooManyRequests, field_error
from core.settings import Settings
from core.wechat.client import WeChatClient
from core.wechat.exceptions import (
    HighRiskUser,
    InvalidAppCredential,
    InvalidCode,
    LoginRateLimited,
    WeChatError,
)
from wechat import repository
from wechat.errors import AccountDisabled, LoginCodeInvalid, WeChatNotLinked, WeChatUnreachable, WeChatUserRefused
from wechat.permissions import PERMISSIONS, Action
from wechat.schemas import ConsentOut, ConsentsIn, ConsentsOut, WeChatLoginOut

log = logging.getLogger(__name__)


def templates(settings: Settings) -> dict[str, str]:
    """Our subscribe-message templates: template id -> what it is for."""
    return {
        settings.wechat_template_rating_changed: "rating_changed",
        settings.wechat_template_voucher_changed: "voucher_changed",
        settings.wechat_template_voucher_expiring: "voucher_expiring",
        settings.wechat_template_ticket_answered: "ticket_answered",
        settings.wechat_template_application_decided: "application_decided",
        settings.wechat_template_account_changed: "account_changed",
    }


async def wechat_login(
    session: AsyncSession, settings: Settings, cache: Cache, client: WeChatClient, code: str
) -> WeChatLoginOut:
    """`wx.login` code → code2session → our user (created on first login) → our bearer token.

    The session_key WeChat returns is not kept and never answered: nothing here decrypts the mini-program's
    encrypted data, and a key we do not hold cannot leak.
    """
    try:
        found = await client.code2session(code)
    except InvalidCode:
        raise LoginCodeInvalid("code: invalid or already used; call wx.login again for a new code") from None
    except LoginRateLimited:
        raise TooManyRequests("too many logins for this WeChat user; wait a minute", retry_after=60) from None
    except HighRiskUser:
        raise WeChatUserRefused("WeChat refused to log in this user (high-risk account)") from None
    except InvalidAppCredential as exc:
        log.error(
            "code2session rejected our AppID/secret; check WECHAT_APPID / WECHAT_SECRET", extra={"errcode": exc.errcode}
        )
        raise WeChatUnreachable("WeChat login is misconfigured on the server") from None
    except WeChatError as exc:
        log.warning("code2session failed: %s", exc.errmsg, extra={"errcode": exc.errcode, "error": exc.errmsg})
        raise WeChatUnreachable("WeChat did not answer; try again") from None
    # One person, one user: with unionid linking, the official-account follower's user takes this openid.
    user, created = await links.user_for_miniprogram(
        session, openid=found.openid, unionid=found.unionid, unionid_linking=settings.wechat_unionid_linking
    )
    if not user.is_active:
        raise AccountDisabled("this account is disabled")
    issued = await accounts.issue_token(session, settings, user, client="wechat")
    if created:

        async def forget_strangers() -> None:  # the webhook may have cached this person as nobody
            await cache.bump("wechat-users")

        after_commit(session, forget_strangers)
    return WeChatLoginOut(
        token=issued.token,
        expires_at=issued.expires_at,
        user=accounts.me_of(user),
        created=created,
        enterprise_bound=user.enterprise_id is not None,
    )


async def _linked(session: AsyncSession, principal: Principal) -> None:
    user = await accounts.current_user(session, principal)
    if not user.wechat_openid:
        raise WeChatNotLinked("this account has not logged in with WeChat, so WeChat cannot reach it")


async def consents(session: AsyncSession, settings: Settings, principal: Principal | None) -> ConsentsOut:
    acting = PERMISSIONS.check(principal, Action.MANAGE_OWN_CONSENTS)
    await _linked(session, acting)
    stored = await repository.consents_of(session, acting.user_id)
    out = []
    for template_id, purpose in templates(settings).items():
        row = stored.get(template_id)
        out.append(
            ConsentOut(
                template_id=template_id,
                purpose=purpose,
                remaining=row.remaining if row else 0,
                granted_total=row.granted_total if row else 0,
                used_total=row.used_total if row else 0,
            )
        )
    return ConsentsOut(templates=out)


async def register_consents(
    session: AsyncSession, settings: Settings, principal: Principal | None, body: ConsentsIn
) -> ConsentsOut:
    """Count what `wx.requestSubscribeMessage` returned: every "accept" allows one more send of that template."""
    acting = PERMISSIONS.check(principal, Action.MANAGE_OWN_CONSENTS)
    known = templates(settings)
    for template_id in body.results:
        if template_id not in known:
            raise field_error(f"results.{template_id}", "not one of our subscribe-message templates")
    await _linked(session, acting)
    for template_id, result in body.results.items():
        if result == "accept":
            await repository.grant_consent(session, acting.user_id, template_id)
    await session.flush()
    return await consents(session, settings, acting)
