"""Who may do what in the WeChat domain: declared once here, checked by the WeChat services with the acting principal.

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| wechat-login, web authorization, a sign-in link | – | – | – | yes (the code / link is the credential) |
| `manage_own_consents`: read / register subscribe consents | own, if linked | own, if linked | own, if linked | – |
| `link_follower`: link a follower with a one-time link | own account | own account | own account | – |
| `download_qrcode`: an agency's poster QR code | any agency | own agency | – | – |
| `download_qrcode`: a voucher programme's poster QR code | yes | – | – | – |
| `read_scan_report`: scans per agency and programme | yes | – | – | – |
| webhook `/wechat` | – | – | – | WeChat's servers, proven by the signature |

Whether the account is linked to WeChat is checked against the account; which agency a poster is for, against
the agency staff's own (`Scope.of`).
"""

from __future__ import annotations

import enum

from core.auth import Role
from core.permissions import ANY_ROLE, PermissionTable, Rule

OFFICIAL = frozenset({Role.OFFICIAL})
AGENCY = frozenset({Role.AGENCY})


class Action(enum.StrEnum):
    MANAGE_OWN_CONSENTS = "manage_own_consents"
    LINK_FOLLOWER = "link_follower"
    DOWNLOAD_QRCODE = "download_qrcode"
    READ_SCAN_REPORT = "read_scan_report"


PERMISSIONS = PermissionTable(
    {
        Action.MANAGE_OWN_CONSENTS: Rule(ANY_ROLE, own_only=ANY_ROLE),
        Action.LINK_FOLLOWER: Rule(ANY_ROLE, own_only=ANY_ROLE),
        Action.DOWNLOAD_QRCODE: Rule(OFFICIAL | AGENCY, own_only=AGENCY),
        Action.READ_SCAN_REPORT: Rule(OFFICIAL),
    }
)
