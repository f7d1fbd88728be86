"""WeChat-domain errors, each with its status and code."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, ServiceUnavailable, Unauthenticated


class LoginCodeInvalid(Unauthenticated):
    code = "wechat_code_invalid"


class WeChatUserRefused(Forbidden):
    code = "wechat_user_refused"


class AccountDisabled(Forbidden):
    code = "account_disabled"


class WeChatUnreachable(ServiceUnavailable):
    code = "wechat_unavailable"


class WeChatNotLinked(Conflict):
    code = "wechat_not_linked"
