"""An official's issue file (CSV) is read exactly or refused with what is wrong and where: each refusal by its code,
message and details (line, column, reason), as the console shows them beside the file. Written against the mutants
that survived `make mutate` in `vouchers.issuing.parse_issue_csv` (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

from typing import Any

import pytest

from core.credit_code import make_credit_code
from core.errors import ValidationFailed
from vouchers.issuing import parse_issue_csv

CODE = make_credit_code("91330106MA2C00001")


def refused(text: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refusal:
        parse_issue_csv(text)
    assert refusal.value.code == "validation_error" and refusal.value.status == 422
    return refusal.value


def test_a_file_that_is_not_csv_names_the_line_it_broke_on() -> None:
    refusal = refused("credit_code\n" + "x" * 200_000 + "\n")  # a cell beyond the csv module's field limit
    assert refusal.message.startswith("the file is not valid CSV: field larger than field limit")
    assert refusal.details == [{"line": 2}]


@pytest.mark.parametrize("text", ["", "\n", " , \ncredit_code\n", "\ufeff"])
def test_an_empty_file_or_a_blank_header_is_refused_as_empty(text: str) -> None:
    refusal = refused(text)
    assert refusal.message == "the file is empty"
    assert refusal.details == [{"line": 1, "message": "expected a header row"}]


def test_a_byte_order_mark_before_the_header_is_not_part_of_the_first_column() -> None:
    issue, lines = parse_issue_csv(f"\ufeffcredit_code\n{CODE}\n")
    assert [item.credit_code for item in issue.enterprises] == [CODE]
    assert lines == [2]


def test_enterprises_named_by_id_with_and_without_a_face_value() -> None:
    issue, lines = parse_issue_csv("enterprise_id,face_value_fen\n7,300000\n\n8,\n")
    assert [(item.enterprise_id, item.face_value_fen) for item in issue.enterprises] == [(7, 300000), (8, None)]
    assert lines == [2, 4]  # the blank line 3 is skipped, the lines kept for reporting


def test_an_unknown_column_is_named_as_written() -> None:
    # Named as written (lower-cased): a leading "X" is part of the name, not something to strip like the BOM.
    refusal = refused(f"credit_code,Xenterprise_id,colour\n{CODE},1,red\n")
    expected: list[dict[str, Any]] = [
        {"line": 1, "column": "xenterprise_id", "message": "unknown column"},
        {"line": 1, "column": "colour", "message": "unknown column"},
    ]
    assert refusal.details == expected
    assert refusal.message == "line 1: unknown column"


def test_the_first_column_is_read_as_written_only_a_byte_order_mark_is_dropped() -> None:
    refusal = refused(f"Xcredit_code\n{CODE}\n")  # an "X" is not stripped like the BOM: "xcredit_code" is unknown
    assert refusal.details == [
        {"line": 1, "column": "xcredit_code", "message": "unknown column"},
        {"line": 1, "column": None, "message": "needs exactly one of credit_code, enterprise_id"},
    ]


@pytest.mark.parametrize("header", ["face_value_fen", "credit_code,enterprise_id"])
def test_exactly_one_way_of_naming_the_enterprise(header: str) -> None:
    refusal = refused(f"{header}\n1\n")
    assert refusal.details == [
        {"line": 1, "column": None, "message": "needs exactly one of credit_code, enterprise_id"}
    ]
    assert refusal.message == "line 1: needs exactly one of credit_code, enterprise_id"


def test_every_bad_row_is_reported_by_line_and_column_and_the_message_names_the_first() -> None:
    """Header names are read trimmed and in any case; a face value must be 1 fen to 10^12 fen in digits (at most 13
    of them), each bad cell named by its column in words an official can act on."""
    refusal = refused(
        " Credit_Code , Face_Value_Fen \n"
        f"{CODE},abc\n"  # line 2
        f"{CODE}\n"  # 3
        " ,100\n"  # 4
        f"{CODE},12345678901234\n"  # 5: 14 digits
        f"{CODE},0\n"  # 6
        f"{CODE},1000000000001\n"  # 7: 13 digits, one fen over the largest amount
        f"{CODE},1000000000000\n"  # 8: the largest amount
        " , \n"  # 9: blank
    )
    assert refusal.details == [
        {"line": 2, "column": "face_value_fen", "message": "must be a positive whole number"},
        {"line": 3, "column": None, "message": "has 1 cells, the header has 2"},
        {"line": 4, "column": "credit_code", "message": "is empty"},
        {"line": 5, "column": "face_value_fen", "message": "must be a positive whole number"},
        {"line": 6, "column": "face_value_fen", "message": "Input should be greater than 0"},
        {"line": 7, "column": "face_value_fen", "message": "Input should be less than or equal to 1000000000000"},
    ]
    assert refusal.message == "line 2, column face_value_fen: must be a positive whole number"


def test_a_bad_enterprise_id_is_reported_once_by_its_column() -> None:
    refusal = refused("enterprise_id\nabc\n0\n")
    assert refusal.details == [
        {"line": 2, "column": "enterprise_id", "message": "must be a positive whole number"},
        {"line": 3, "column": "enterprise_id", "message": "Input should be greater than or equal to 1"},
    ]


def test_a_row_of_the_wrong_width_is_named_by_its_line_alone() -> None:
    refusal = refused(f"credit_code\n{CODE},1\n")
    assert refusal.message == "line 2: has 2 cells, the header has 1"


@pytest.mark.parametrize("text", ["credit_code\n", "credit_code\n\n , \n"])
def test_a_header_without_rows_is_refused(text: str) -> None:
    refusal = refused(text)
    assert refusal.message == "the file has no rows"
    assert refusal.details == [{"line": 2, "message": "expected at least one row"}]


def test_the_largest_face_value_and_a_blank_one_are_read_with_their_lines() -> None:
    issue, lines = parse_issue_csv(f" Credit_Code , FACE_VALUE_FEN \n{CODE} , 1000000000000 \n , \n{CODE},\n")
    assert [(item.credit_code, item.face_value_fen) for item in issue.enterprises] == [
        (CODE, 10**12),
        (CODE, None),
    ]
    assert lines == [2, 4]


def test_the_columns_may_come_in_any_order_and_a_blank_face_value_skips_only_itself() -> None:
    issue, lines = parse_issue_csv("face_value_fen,enterprise_id\n,7\n300000,8\n")
    assert [(item.enterprise_id, item.face_value_fen) for item in issue.enterprises] == [(7, None), (8, 300000)]
    assert lines == [2, 3]
