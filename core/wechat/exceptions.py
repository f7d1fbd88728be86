"""WeChat API errors as typed exceptions, by `errcode`."""

from __future__ import annotations

from typing import ClassVar


class WeChatError(Exception):
    """An answer from WeChat carrying a non-zero `errcode` (or no answer at all)."""

    # Final errors are recorded, never retried: retrying cannot change the answer.
    final: ClassVar[bool] = True

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(WeChatError):
    """Network failure, timeout, 5xx or a non-JSON answer: worth another try later."""

    final = False

    def __init__(self, reason: str) -> None:
        super().__init__(-2, reason)


class SystemBusy(WeChatError):
    final = False


class ApiRateLimited(WeChatError):
    final = False


class InvalidCredential(WeChatError):
    """40001 / 40014 / 42001: the access token is invalid or expired; refetched once by the client."""

    final = False


class InvalidAppCredential(WeChatError):
    """40013 / 40125 / 40164: our AppID, secret or IP is wrong — an operator must fix the settings."""


class InvalidCode(WeChatError):
    """40029 / 40163: the login code is wrong or already used."""


class LoginRateLimited(WeChatError):
    """45011: more than 100 logins a minute for this user."""


class HighRiskUser(WeChatError):
    """40226: WeChat refuses to log in this user."""


class ReplyWindowClosed(WeChatError):
    """45015: the 48-hour customer-service window is over, or the user unfollowed."""


class ReplyCountExceeded(WeChatError):
    """45047: too many customer-service messages in the window."""


class NoPermission(WeChatError):
    """48001: the account lacks this API permission."""


class ContentTooLong(WeChatError):
    """45002: the text is over 2048 bytes."""


class NoConsentLeft(WeChatError):
    """43101: the user has no subscribe consent left for this template."""


class BadTemplateData(WeChatError):
    """47003: the template data does not fit the template's fields."""


class BadOpenId(WeChatError):
    """40003: not an openid of this app."""


class BadTemplate(WeChatError):
    """40037: no such template."""


_BY_CODE: dict[int, type[WeChatError]] = {
    -1: SystemBusy,
    45009: ApiRateLimited,
    40001: InvalidCredential,
    40014: InvalidCredential,
    42001: InvalidCredential,
    40013: InvalidAppCredential,
    40125: InvalidAppCredential,
    40164: InvalidAppCredential,
    40029: InvalidCode,
    40163: InvalidCode,
    45011: LoginRateLimited,
    40226: HighRiskUser,
    45015: ReplyWindowClosed,
    45047: ReplyCountExceeded,
    48001: NoPermission,
    45002: ContentTooLong,
    43101: NoConsentLeft,
    47003: BadTemplateData,
    40003: BadOpenId,
    40037: BadTemplate,
}

TOKEN_ERRORS = frozenset({40001, 40014, 42001})


def error_for(errcode: int, errmsg: str = "") -> WeChatError:
    return _BY_CODE.get(errcode, WeChatError)(errcode, errmsg)
