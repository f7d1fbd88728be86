"""Who may do what in the WeChat domain (checked in `wechat.service`).

| action | official | agency | enterprise | anonymous |
|---|---|---|---|---|
| wechat-login | – | – | – | yes (the code is the credential) |
| read / register own subscribe consents | own, if linked to WeChat | own, if linked | own, if linked | – |
| webhook `/wechat` | – | – | – | WeChat's servers, proven by the signature |
"""

from __future__ import annotations

from core.auth import Principal, require


def may_manage_own_consents(principal: Principal | None) -> Principal:
    """Any signed-in user manages their own consents; linking to WeChat is checked against the account."""
    return require(principal)
