"""The mutation tool's reading of docs/testing.md: which survivors are listed as equivalent, and so not counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import mutate

DOC = """# Testing

## Mutation testing

### Equivalent mutants

- `a.x_f__mutmut_1` — one name on one line.
- `own:x:read:-agency`, `own:x:read:-enterprise`,
  `own:x:read:-official` — names running over two lines; `not.a.name` after the dash is the reason's.
- **Code** — a bullet without a quoted name.

## Running a subset

- `b.x_g__mutmut_2` — in another part of the page: not listed.
"""


def test_the_equivalent_mutants_are_every_name_before_each_items_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "testing.md"
    doc.write_text(DOC)
    monkeypatch.setattr(mutate, "EQUIVALENT_DOC", doc)
    assert mutate.equivalent_mutants() == {
        "a.x_f__mutmut_1",
        "own:x:read:-agency",
        "own:x:read:-enterprise",
        "own:x:read:-official",
    }
