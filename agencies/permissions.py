"""Who may do what with agencies: declared once here, checked by `agencies.service` with the acting principal.

| action | official | agency staff | enterprise staff | anonymous |
|---|---|---|---|---|
| search, read a profile | yes | yes | yes | yes |
| register an agency | yes | – | – | – |
| edit a profile | any agency, every field | own agency, editable fields only | – | – |
| record / reverse credit events, import results | yes | – | – | – |
| read the credit record | any agency | own agency | – | – |
| follow / unfollow | – | – | yes | – |
| review | – | – | after a delivered voucher service there | – |
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from agencies.errors import NotYourAgency, RegulatedField
from core.auth import Principal, Role, require


class Action(enum.StrEnum):
    REGISTER = "register"
    EDIT_PROFILE = "edit_profile"
    RECORD_CREDIT = "record_credit"
    READ_CREDIT_RECORD = "read_credit_record"
    IMPORT_RESULTS = "import_results"
    FOLLOW = "follow"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[Role]
    # Roles that may act only on the agency they belong to.
    own_agency_only: frozenset[Role] = frozenset()


RULES: dict[Action, Rule] = {
    Action.REGISTER: Rule(frozenset({Role.OFFICIAL})),
    Action.EDIT_PROFILE: Rule(frozenset({Role.OFFICIAL, Role.AGENCY}), own_agency_only=frozenset({Role.AGENCY})),
    Action.RECORD_CREDIT: Rule(frozenset({Role.OFFICIAL})),
    Action.READ_CREDIT_RECORD: Rule(frozenset({Role.OFFICIAL, Role.AGENCY}), own_agency_only=frozenset({Role.AGENCY})),
    Action.IMPORT_RESULTS: Rule(frozenset({Role.OFFICIAL})),
    Action.FOLLOW: Rule(frozenset({Role.ENTERPRISE})),
    Action.REVIEW: Rule(frozenset({Role.ENTERPRISE})),
}

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


def authorize(principal: Principal | None, action: Action, agency_id: int | None = None) -> Principal:
    """The principal when it may do `action` (on `agency_id`); 401 when anonymous, 403 otherwise."""
    rule = RULES[action]
    acting = require(principal, *rule.roles)
    if acting.role in rule.own_agency_only and (agency_id is None or acting.agency_id != agency_id):
        raise NotYourAgency("agency staff may act only on their own agency")
    return acting


def check_patch_fields(principal: Principal, fields: set[str]) -> None:
    """Agency staff may change only editable fields; the 403 names every regulated one they sent."""
    if principal.role is Role.OFFICIAL:
        return
    regulated = sorted(fields - STAFF_EDITABLE_FIELDS)
    if regulated:
        raise RegulatedField(regulated)
