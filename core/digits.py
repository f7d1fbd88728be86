"""Whole numbers that arrive as text (path ids, query values, CSV cells, WeChat fields): ASCII digits, bounded.

`str.isdigit()` is also true for superscripts and other scripts' digits ("²", "①", "١٢"), which `int()` then refuses
or silently reads, and `int()` refuses text of more than 4,300 digits: checked with either, bad input became a 500.
"""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")


def is_ascii_digits(text: str) -> bool:
    """True when `text` is one or more of 0-9 and nothing else."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def ascii_int(text: str, *, max_digits: int) -> int | None:
    """`text` as a non-negative integer when it is 1 to `max_digits` ASCII digits; None for anything else."""
    if len(text) > max_digits or not is_ascii_digits(text):
        return None
    return int(text)
