from __future__ import annotations

from core.errors import Conflict, Forbidden


class CreditCodeTaken(Conflict):
    code = "credit_code_taken"


class NotYourEnterprise(Forbidden):
    code = "not_your_enterprise"
