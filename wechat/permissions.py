"""Who may do what in the WeChat domain: declared once here, checked by `wechat.service` with the acting principal.

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| wechat-login | – | – | – | yes (the code is the credential) |
| `manage_own_consents`: read / register subscribe consents | own, if linked | own, if linked | own, if linked | – |
| webhook `/wechat` | – | – | – | WeChat's servers, proven by the signature |

Only the consents have a rule here; whether the account is linked to WeChat is checked against the account.
"""

from __future__ import annotations

import enum

from core.permissions import ANY_ROLE, PermissionTable, Rule


class Action(enum.StrEnum):
    MANAGE_OWN_CONSENTS = "manage_own_consents"


PERMISSIONS = PermissionTable({Action.MANAGE_OWN_CONSENTS: Rule(ANY_ROLE, own_only=ANY_ROLE)})
