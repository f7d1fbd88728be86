"""China's unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters with a check character."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(ch) * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code, or None when it is."""
    if len(code) != 18:
        return "must be 18 characters"
    if any(ch not in ALPHABET for ch in code):
        return "may contain only digits and the letters A-H, J-N, P-R, T, U, W-Y"
    if check_character(code[:17]) != code[17]:
        return "check character does not match"
    return None


def make_credit_code(body17: str) -> str:
    """Complete 17 characters with their check character (demo data and tests)."""
    return body17 + check_character(body17)
