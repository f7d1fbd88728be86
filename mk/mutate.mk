# Mutation testing of the code and tables that guard money and access (tools/mutate.py: mutmut + table mutants).
# Not part of `make test`. `MUTATE_CHANGED=1 make mutate` tests only the modules and tables changed against main.
# The database is PostgreSQL (the row locks exist only there); the cache is in-process unless REDIS_URL is set.
# Knobs: MUTATE_CHILDREN (mutants at once, default 1), MUTATE_BUDGET (minutes per module after mutmut's coverage
# pass, default 15), MUTATE_ARGS (--module PATH, --no-tables, --no-code, --fresh, --report-only).
# The report: var/mutation/report.md (docs/testing.md, "Mutation testing").
MUTATE_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: mutate
mutate: venv
	DATABASE_URL="$${DATABASE_URL:-$(MUTATE_DATABASE_URL)}" $(PY) -m tools.mutate $(MUTATE_ARGS)
