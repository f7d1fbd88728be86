"""Mutants of the rule tables: the permission tables of every domain and the voucher state machines.

mutmut mutates code inside functions only; these tables are module-level data, and a wrong entry in them is exactly
the kind of bug that grants access or moves money. Each mutant here is one plausible slip in one entry — a role
granted or denied an action, an "own only" limit dropped, a legal move removed from or added to a state table —
named by a readable id. `apply(mutant_id)` changes the table in place; it must run before the routes are imported
(they read their roles from the tables when they are declared), so `tools.mutate` applies it in a forked child that
has imported only the tables.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

# The domains whose permission table is mutated, with the tests that must notice a wrong entry: the authorization
# matrix (every route × every kind of caller, statuses written out by hand), what the lists contain per caller, and
# the domain's own tests of its rules.
PERMISSION_DOMAINS: dict[str, tuple[str, ...]] = {
    "vouchers": (
        "tests/vouchers/test_refusals.py",
        "tests/vouchers/test_permissions.py",
        "tests/vouchers/test_after_expiry.py",
        "tests/vouchers/test_rules.py",
    ),
    "agencies": ("tests/agencies/test_credit_events.py", "tests/agencies/test_profiles.py"),
    "accounts": ("tests/accounts/test_login.py",),
    "enterprises": ("tests/enterprises/test_enterprises.py",),
    "bot": ("tests/bot/test_tickets.py", "tests/bot/test_my_tickets.py"),
    "wechat": ("tests/wechat/test_pushes.py",),
    "fast_track": ("tests/fast_track/test_centres.py",),
}
MATRIX_TESTS = ("tests/security/test_authorization_matrix.py", "tests/security/test_list_contents.py")
STATE_TESTS = (
    "tests/vouchers/test_state_table.py",
    "tests/vouchers/test_refusals.py",
    "tests/vouchers/test_cancel.py",
    "tests/vouchers/test_flow.py",
    "tests/vouchers/test_rules.py",
)


@dataclass(frozen=True)
class TableMutant:
    id: str
    file: str
    tests: tuple[str, ...]


def _permission_tables() -> Iterator[tuple[str, Any]]:
    for domain in PERMISSION_DOMAINS:
        yield domain, importlib.import_module(f"{domain}.permissions").PERMISSIONS


def mutants() -> list[TableMutant]:
    """Every table mutant, in a stable order."""
    from core.auth import Role
    from vouchers import states

    found: list[TableMutant] = []
    for domain, table in _permission_tables():
        tests = (*MATRIX_TESTS, *PERMISSION_DOMAINS[domain])
        file = f"{domain}/permissions.py"
        for action, rule in table.rules.items():
            for role in Role:
                sign = "-" if role in rule.roles else "+"
                found.append(TableMutant(f"perm:{domain}:{action.value}:{sign}{role.value}", file, tests))
            for role in sorted(rule.own_only):
                found.append(TableMutant(f"own:{domain}:{action.value}:-{role.value}", file, tests))
    tests = (*STATE_TESTS, *MATRIX_TESTS)
    file = "vouchers/states.py"
    for action, moves in states.VOUCHER_MOVES.items():
        for start, targets in moves.items():
            origin = start.value if start else "new"
            found.append(TableMutant(f"moves:voucher:{action.value}:{origin}:drop", file, tests))
            for target in targets if len(targets) > 1 else ():  # one target left out is the entry dropped
                found.append(TableMutant(f"moves:voucher:{action.value}:{origin}:-{target.value}", file, tests))
    for state in states.VoucherState:
        for action in (a for a, moves in states.VOUCHER_MOVES.items() if a.value in ("redeem", "revoke", "expire")):
            if state not in states.VOUCHER_MOVES[action]:
                found.append(TableMutant(f"moves:voucher:{action.value}:{state.value}:add", file, tests))
    for action, (before, _) in states.REDEMPTION_MOVES.items():
        if before is not None:
            found.append(TableMutant(f"moves:redemption:{action.value}:from-other", file, tests))
    for name in ("SPENDABLE", "FINAL"):
        for state in sorted(getattr(states, name)):
            found.append(TableMutant(f"set:{name}:-{state.value}", file, tests))
    return found


def apply(mutant_id: str) -> None:
    """Make the one slip `mutant_id` names in its table."""
    from core.auth import Role
    from core.permissions import Rule
    from vouchers import states

    kind, *parts = mutant_id.split(":")
    if kind in ("perm", "own"):
        domain, action_value, change = parts
        table = importlib.import_module(f"{domain}.permissions").PERMISSIONS
        action = next(a for a in table.rules if a.value == action_value)
        rule: Rule = table.rules[action]
        role = Role(change[1:])
        if kind == "own":
            table.rules[action] = replace(rule, own_only=rule.own_only - {role})
        elif change[0] == "+":
            table.rules[action] = replace(rule, roles=rule.roles | {role})
        else:
            table.rules[action] = replace(rule, roles=rule.roles - {role}, own_only=rule.own_only - {role})
    elif kind == "moves" and parts[0] == "voucher":
        _, action_value, origin, change = parts
        action = next(a for a in states.VOUCHER_MOVES if a.value == action_value)
        # A copy: reject shares settle's moves, and a slip in one must not be a slip in both.
        moves = states.VOUCHER_MOVES[action] = dict(states.VOUCHER_MOVES[action])
        start = None if origin == "new" else states.VoucherState(origin)
        if change == "drop":
            del moves[start]
        elif change == "add":
            moves[start] = next(iter(moves.values()))
        else:
            moves[start] = moves[start] - {states.VoucherState(change[1:])}
    elif kind == "moves":
        _, action_value, _ = parts
        action = next(a for a in states.REDEMPTION_MOVES if a.value == action_value)
        before, after = states.REDEMPTION_MOVES[action]
        others = [s for s in states.RedemptionState if s not in (before, after)]
        states.REDEMPTION_MOVES[action] = (others[0], after)
    elif kind == "set":
        name, change = parts
        setattr(states, name, getattr(states, name) - {states.VoucherState(change[1:])})
    else:
        raise ValueError(f"unknown table mutant {mutant_id!r}")
