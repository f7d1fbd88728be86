"""The vouchers tests' `world` (an official, an enterprise with staff, a participating agency with staff, a programme
and a voucher) serves the review tests, which need a delivered voucher service."""

from tests.vouchers.conftest import world as world
