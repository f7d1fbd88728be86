"""The shared rules every domain's permissions go through: `require`, `Scope` and `PermissionTable`.

A principal's scope decides which rows a list returns and which record a detail check lets through, so each kind of
principal is checked here — officials, staff with their agency or enterprise, and the incomplete ones (staff of
none), which must reach nothing — on both `covers` (detail checks) and `where` (list filters, as SQL).
"""

from __future__ import annotations

import enum

import pytest
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.dialects import postgresql

from core.auth import EVERYTHING, NATIONWIDE, NOTHING, Principal, Role, Scope, bearer_token, require
from core.errors import Forbidden, Unauthenticated
from core.permissions import ANY_ROLE, OutsideJurisdiction, PermissionTable, Rule

OFFICIAL = Principal(1, "official", Role.OFFICIAL, region_code=NATIONWIDE)
HANGZHOU_OFFICIAL = Principal(8, "official-hz", Role.OFFICIAL, region_code="330100")
OFFICIAL_OF_NO_REGION = Principal(9, "official-none", Role.OFFICIAL)
AGENCY_STAFF = Principal(2, "agency", Role.AGENCY, agency_id=7)
ENTERPRISE_STAFF = Principal(3, "enterprise", Role.ENTERPRISE, enterprise_id=9)
AGENCY_OF_NONE = Principal(4, "agency-none", Role.AGENCY)
ENTERPRISE_OF_NONE = Principal(5, "wx:5", Role.ENTERPRISE)
# Ids that a careless check could mix up: staff whose id fields hold the other kind's number.
AGENCY_WITH_ENTERPRISE_ID = Principal(6, "odd-agency", Role.AGENCY, enterprise_id=9)
ENTERPRISE_WITH_AGENCY_ID = Principal(7, "odd-enterprise", Role.ENTERPRISE, agency_id=7)

rows = Table("rows", MetaData(), Column("agency_id", Integer), Column("enterprise_id", Integer))


def sql(scope: Scope, *, agency: bool = True, enterprise: bool = True) -> str:
    condition = scope.where(
        agency=rows.c.agency_id if agency else None, enterprise=rows.c.enterprise_id if enterprise else None
    )
    statement = select(rows.c.agency_id).where(condition)
    compiled = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})  # type: ignore[no-untyped-call]
    return str(compiled).split("WHERE ", 1)[1]


@pytest.mark.parametrize(
    ("principal", "scope"),
    [
        (OFFICIAL, EVERYTHING),
        (HANGZHOU_OFFICIAL, Scope(everything=True, region="3301")),
        (OFFICIAL_OF_NO_REGION, NOTHING),
        (AGENCY_STAFF, Scope(agency_id=7)),
        (ENTERPRISE_STAFF, Scope(enterprise_id=9)),
        (AGENCY_OF_NONE, NOTHING),
        (ENTERPRISE_OF_NONE, NOTHING),
        (AGENCY_WITH_ENTERPRISE_ID, NOTHING),
        (ENTERPRISE_WITH_AGENCY_ID, NOTHING),
    ],
)
def test_each_kind_of_principal_reaches_its_own_records_or_nothing(principal: Principal, scope: Scope) -> None:
    assert Scope.of(principal) == scope


def test_everything_nothing_and_one_owner_cover_what_they_say() -> None:
    assert EVERYTHING.covers()
    assert EVERYTHING.covers(agency_id=1, enterprise_id=2)
    assert not NOTHING.covers()
    assert not NOTHING.covers(agency_id=7, enterprise_id=9)
    assert not NOTHING.covers(agency_id=None, enterprise_id=None)

    agency = Scope(agency_id=7)
    assert agency.covers(agency_id=7)
    assert agency.covers(agency_id=7, enterprise_id=1)
    assert not agency.covers(agency_id=8)
    assert not agency.covers(enterprise_id=7)  # another kind's id is not a match
    assert not agency.covers()

    enterprise = Scope(enterprise_id=9)
    assert enterprise.covers(enterprise_id=9)
    assert enterprise.covers(agency_id=1, enterprise_id=9)
    assert not enterprise.covers(enterprise_id=10)
    assert not enterprise.covers(agency_id=9)
    assert not enterprise.covers()


def test_list_filters_keep_only_the_scopes_rows() -> None:
    assert sql(EVERYTHING) == "true"
    assert sql(NOTHING) == "false"
    assert sql(Scope(agency_id=7)) == "rows.agency_id = 7"
    assert sql(Scope(enterprise_id=9)) == "rows.enterprise_id = 9"
    # A table without the owner's column has none of the scope's rows.
    assert sql(Scope(agency_id=7), agency=False) == "false"
    assert sql(Scope(enterprise_id=9), enterprise=False) == "false"
    assert sql(EVERYTHING, agency=False, enterprise=False) == "true"


def test_require_is_401_for_nobody_and_403_for_another_role() -> None:
    with pytest.raises(Unauthenticated) as nobody:
        require(None)
    assert (nobody.value.status, nobody.value.code) == (401, "unauthenticated")
    with pytest.raises(Unauthenticated):
        require(None, Role.OFFICIAL)
    with pytest.raises(Forbidden) as wrong:
        require(ENTERPRISE_STAFF, Role.OFFICIAL, Role.AGENCY)
    assert (wrong.value.status, wrong.value.code) == (403, "forbidden")
    assert "official, agency" in str(wrong.value) and "you are enterprise" in str(wrong.value)
    assert require(ENTERPRISE_STAFF) is ENTERPRISE_STAFF
    assert require(AGENCY_STAFF, Role.OFFICIAL, Role.AGENCY) is AGENCY_STAFF


def test_requires_refusals_say_what_was_needed() -> None:
    with pytest.raises(Unauthenticated) as nobody:
        require(None, Role.OFFICIAL)
    assert (nobody.value.status, nobody.value.code, nobody.value.message) == (
        401,
        "unauthenticated",
        "log in first: this needs a bearer token",
    )
    staff = Principal(3, "enterprise", Role.ENTERPRISE, enterprise_id=9)
    with pytest.raises(Forbidden) as wrong:
        require(staff, Role.OFFICIAL, Role.AGENCY)
    assert (wrong.value.status, wrong.value.code, wrong.value.message) == (
        403,
        "forbidden",
        "this needs the role official, agency; you are enterprise",
    )


def test_a_scope_reaches_the_regions_inside_its_own() -> None:
    hangzhou = Scope.jurisdiction("330100")
    assert hangzhou.limited_to_region and not Scope.jurisdiction(NATIONWIDE).limited_to_region
    assert not Scope(agency_id=7).limited_to_region
    assert [hangzhou.reaches(code) for code in ("330100", "330106", "330200", "440300", None)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert Scope.jurisdiction(NATIONWIDE).reaches(None) and Scope(agency_id=7).reaches("440300")
    assert hangzhou.covers(region_code="330106") and not hangzhou.covers(region_code="330200")
    assert not hangzhou.covers(agency_id=7)  # a record whose region was not given is outside a region


class Act(enum.StrEnum):
    OPEN = "open"
    OWN = "own"
    OFFICIAL_ONLY = "official_only"
    NOBODY = "nobody"


TABLE = PermissionTable(
    {
        Act.OPEN: Rule(ANY_ROLE),
        Act.OWN: Rule(frozenset({Role.OFFICIAL, Role.ENTERPRISE}), own_only=frozenset({Role.ENTERPRISE})),
        Act.OFFICIAL_ONLY: Rule(frozenset({Role.OFFICIAL})),
        Act.NOBODY: Rule(frozenset()),
    }
)


def test_a_permission_table_checks_roles_and_scopes_by_its_rules() -> None:
    assert TABLE.roles(Act.OFFICIAL_ONLY) == {Role.OFFICIAL}
    for principal in (OFFICIAL, AGENCY_STAFF, ENTERPRISE_OF_NONE):
        assert TABLE.check(principal, Act.OPEN) is principal
    with pytest.raises(Unauthenticated):
        TABLE.check(None, Act.OPEN)
    with pytest.raises(Forbidden):
        TABLE.check(AGENCY_STAFF, Act.OWN)
    with pytest.raises(Forbidden):
        TABLE.check(ENTERPRISE_STAFF, Act.OFFICIAL_ONLY)
    assert TABLE.check(ENTERPRISE_STAFF, Act.OWN) is ENTERPRISE_STAFF

    assert TABLE.own_only(ENTERPRISE_STAFF, Act.OWN)
    assert not TABLE.own_only(OFFICIAL, Act.OWN)
    assert TABLE.scope(ENTERPRISE_STAFF, Act.OWN) == Scope(enterprise_id=9)
    assert TABLE.scope(ENTERPRISE_OF_NONE, Act.OWN) == NOTHING
    assert TABLE.scope(OFFICIAL, Act.OWN) == EVERYTHING
    # Without an own-only limit a role reaches everything the rule lets it act on.
    assert TABLE.scope(ENTERPRISE_STAFF, Act.OPEN) == EVERYTHING


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer    ", None),
        ("", None),
        ("abc", None),
    ],
)
def test_only_a_bearer_token_is_taken_from_the_authorization_header(header: str, token: str | None) -> None:
    request = make_mocked_request("GET", "/api/v1/me", headers={"Authorization": header} if header else {})
    assert bearer_token(request) == token


def test_a_rule_that_names_no_role_lets_no_one_act() -> None:
    """An empty role set denies; it must never read as "no restriction" (found by mutation testing: dropping the
    last role of a rule let every signed-in role through)."""
    for principal in (OFFICIAL, AGENCY_STAFF, ENTERPRISE_STAFF, ENTERPRISE_OF_NONE):
        with pytest.raises(Forbidden) as refused:
            TABLE.check(principal, Act.NOBODY)
        assert refused.value.code == "forbidden"
        assert str(refused.value) == "no role may nobody"  # the refusal names the action, not a role to get
    with pytest.raises(Unauthenticated):
        TABLE.check(None, Act.NOBODY)


def test_a_table_keeps_the_rules_it_was_built_with() -> None:
    """A table built at run time (every domain's is built at import) answers from its own copy of the rules: a later
    change to the mapping it was given changes nothing."""
    given = {Act.OFFICIAL_ONLY: Rule(frozenset({Role.OFFICIAL}))}
    table = PermissionTable(given)
    given[Act.OFFICIAL_ONLY] = Rule(ANY_ROLE)
    assert table.roles(Act.OFFICIAL_ONLY) == {Role.OFFICIAL}
    assert table.check(OFFICIAL, Act.OFFICIAL_ONLY) is OFFICIAL
    with pytest.raises(Forbidden) as refused:
        table.check(AGENCY_STAFF, Act.OFFICIAL_ONLY)
    assert (refused.value.status, refused.value.code) == (403, "forbidden")


@pytest.mark.parametrize("region_code", ["330106", "440300", None])
def test_staff_are_never_refused_for_a_region_their_ownership_is_checked_apart(region_code: str | None) -> None:
    for principal in (AGENCY_STAFF, ENTERPRISE_STAFF, AGENCY_OF_NONE, ENTERPRISE_OF_NONE):
        TABLE.check_region(principal, Act.OWN, region_code, "agency 7")  # no refusal


def test_an_official_acts_in_their_region_and_below_and_is_refused_elsewhere_saying_where() -> None:
    TABLE.check_region(OFFICIAL, Act.OFFICIAL_ONLY, "440300", "agency 7")  # no refusal
    TABLE.check_region(HANGZHOU_OFFICIAL, Act.OFFICIAL_ONLY, "330106", "agency 7")  # no refusal
    TABLE.check_region(HANGZHOU_OFFICIAL, Act.OFFICIAL_ONLY, "330100", "agency 7")  # no refusal
    refusals = [
        (HANGZHOU_OFFICIAL, "330200", {"region_code": "330200", "your_region": "330100"}),
        (HANGZHOU_OFFICIAL, "330000", {"region_code": "330000", "your_region": "330100"}),
        # A record whose region is not known is outside every region-limited jurisdiction.
        (HANGZHOU_OFFICIAL, None, {"region_code": None, "your_region": "330100"}),
        # An official of no region reaches nothing, not everything.
        (OFFICIAL_OF_NO_REGION, "330106", {"region_code": "330106", "your_region": None}),
        (OFFICIAL_OF_NO_REGION, None, {"region_code": None, "your_region": None}),
    ]
    for official, region_code, details in refusals:
        with pytest.raises(OutsideJurisdiction) as refused:
            TABLE.check_region(official, Act.OFFICIAL_ONLY, region_code, "agency 7")
        assert (refused.value.status, refused.value.code) == (403, "outside_jurisdiction")
        assert refused.value.details == details
        assert str(refused.value).startswith(f"agency 7 is in region {region_code}, outside your jurisdiction")
        # The official is told their own jurisdiction, or that they have none.
        assert str(refused.value).endswith(f"({official.region_code or 'none'})")


placed = Table("placed", MetaData(), Column("id", Integer, primary_key=True), Column("region_code", String(6)))


@pytest.mark.parametrize(
    ("region", "kept"),
    [
        # The next district's code is the end of the district's range: it must stay outside.
        ("330106", ["330106"]),
        ("330100", ["330100", "330105", "330106", "330107"]),
        ("330000", ["330000", "330100", "330105", "330106", "330107", "330200"]),
        (NATIONWIDE, ["110000", "330000", "330100", "330105", "330106", "330107", "330200", "340000"]),
    ],
)
def test_an_officials_list_filter_keeps_their_region_and_below_and_not_the_next_code(
    region: str, kept: list[str]
) -> None:
    engine = create_engine("sqlite://")
    placed.metadata.create_all(engine)
    codes = ["110000", "330000", "330100", "330105", "330106", "330107", "330200", "340000"]
    with engine.begin() as conn:
        conn.execute(insert(placed), [{"region_code": code} for code in codes])
        scope = Scope.of(Principal(1, "o", Role.OFFICIAL, region_code=region))
        found = conn.execute(select(placed.c.region_code).where(scope.where(region=placed.c.region_code))).scalars()
        assert sorted(found) == [c for c in codes if c in kept]
