# Mutation testing of the code and tables that guard money and access (tools/mutate.py, mutmut + table mutants).
# Not part of `make test`: a full run takes about an hour on two cores; `MUTATE_CHANGED=1 make mutate` tests only the
# modules changed against main. Runs on PostgreSQL + Redis (the row locks exist only there); the report is
# var/mutation/report.md. Knobs: MUTATE_CHILDREN (mutants at once, default 1), MUTATE_BUDGET (minutes per module,
# default 15), MUTATE_ARGS (e.g. --module vouchers/ledger.py, --fresh, --report-only).
MUTATE_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
MUTATE_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: mutate
mutate: venv
	DATABASE_URL="$${DATABASE_URL:-$(MUTATE_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(MUTATE_REDIS_URL)}" \
	  $(PY) -m tools.mutate $(MUTATE_ARGS)
