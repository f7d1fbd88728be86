"""Who may do what with agencies: declared once here (PERMISSIONS), checked by the agency services with the acting
principal; ownership (`own_only`) after the role, by `check_own_agency`.

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| search, read a profile | yes | yes | yes | yes |
| register an agency | yes | – | – | – |
| edit a profile | any agency, every field | own agency, editable fields only | – | – |
| record / reverse credit events, import results | yes | – | – | – |
| read the credit record | any agency | own agency | – | – |
| follow / unfollow | – | – | yes | – |
| review | – | – | after a delivered voucher service there | – |
| object to a deduction | – | own agency | – | – |
| decide an objection, hide a review | yes | – | – | – |
| read objections and the audit | any agency | own agency | – | – |
| reply to a review (once) | – | own agency | – | – |
| read reviews | all, hidden too | visible; own agency: hidden too | visible; hidden ones they wrote | visible |
"""

from __future__ import annotations

import enum

from agencies.errors import NotYourAgency, RegulatedField
from core.auth import Principal, Role
from core.permissions import PermissionTable, Rule


class Action(enum.StrEnum):
    REGISTER = "register"
    EDIT_PROFILE = "edit_profile"
    RECORD_CREDIT = "record_credit"
    READ_CREDIT_RECORD = "read_credit_record"
    IMPORT_RESULTS = "import_results"
    FOLLOW = "follow"
    REVIEW = "review"
    OBJECT = "object"
    DECIDE_OBJECTION = "decide_objection"
    READ_OBJECTIONS = "read_objections"
    READ_AUDIT = "read_audit"
    REPLY_REVIEW = "reply_review"
    HIDE_REVIEW = "hide_review"
    RESTORE_REVIEW = "restore_review"


OFFICIAL = frozenset({Role.OFFICIAL})
AGENCY = frozenset({Role.AGENCY})
ENTERPRISE = frozenset({Role.ENTERPRISE})

PERMISSIONS = PermissionTable(
    {
        Action.REGISTER: Rule(OFFICIAL),
        Action.EDIT_PROFILE: Rule(OFFICIAL | AGENCY, own_only=AGENCY),
        Action.RECORD_CREDIT: Rule(OFFICIAL),
        Action.READ_CREDIT_RECORD: Rule(OFFICIAL | AGENCY, own_only=AGENCY),
        Action.IMPORT_RESULTS: Rule(OFFICIAL),
        Action.FOLLOW: Rule(ENTERPRISE),
        # Checked by vouchers.reviews, which also checks the delivered voucher service a review needs.
        Action.REVIEW: Rule(ENTERPRISE),
        Action.OBJECT: Rule(AGENCY, own_only=AGENCY),
        Action.DECIDE_OBJECTION: Rule(OFFICIAL),
        Action.READ_OBJECTIONS: Rule(OFFICIAL | AGENCY, own_only=AGENCY),
        Action.READ_AUDIT: Rule(OFFICIAL | AGENCY, own_only=AGENCY),
        Action.REPLY_REVIEW: Rule(AGENCY, own_only=AGENCY),
        Action.HIDE_REVIEW: Rule(OFFICIAL),
        Action.RESTORE_REVIEW: Rule(OFFICIAL),
    }
)

# Profile fields only officials change: they come from the licence register. The rating is in no patch at all.
REGULATED_FIELDS = frozenset({"name_zh", "name_en", "credit_code", "licence_no", "kind", "region_code", "founded_year"})
STAFF_EDITABLE_FIELDS = frozenset(
    {
        "short_name",
        "address",
        "contact_name",
        "contact_phone",
        "contact_email",
        "website",
        "description",
        "patent_attorneys",
        "trademark_agents",
        "accepts_vouchers",
        "services",
        "fields",
        "branches",
    }
)


def check_own_agency(acting: Principal, action: Action, agency_id: int) -> None:
    """403 when `acting` may do `action` only on its own agency and `agency_id` is another one. Officials act on
    the agencies of their region: `check_agency_region`, once the agency is loaded."""
    if acting.is_official:
        return
    if not PERMISSIONS.scope(acting, action).covers(agency_id=agency_id):
        raise NotYourAgency("agency staff may act only on their own agency")


def check_agency_region(acting: Principal, action: Action, agency_id: int, region_code: str) -> None:
    """403 `outside_jurisdiction` when an official acts on an agency registered outside their region."""
    PERMISSIONS.check_region(acting, action, region_code, f"agency {agency_id}")


def check_patch_fields(principal: Principal, fields: set[str]) -> None:
    """Agency staff may change only editable fields; the 403 names every regulated one they sent."""
    if principal.role is Role.OFFICIAL:
        return
    regulated = sorted(fields - STAFF_EDITABLE_FIELDS)
    if regulated:
        raise RegulatedField(regulated)
