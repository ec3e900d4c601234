# Two commands matter on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test fuzz lint format schema bench soak install migrate clean-db pgbouncer chromium gettext guide

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The user guide's screenshots (docs/guide/img) are taken by the browser tests themselves
guide: $(STAMP) chromium
	GUIDE_SCREENSHOTS=docs/guide/img $(BIN)/python -m pytest tests/browser -q

# make demo [PORT=8123]: migrate, load the demo, then serve it with a job worker until Ctrl-C (hub/demo.py)
PORT ?= 8000
demo: $(STAMP)
	$(BIN)/python -m hub.demo --port $(PORT)

test: $(STAMP) pgbouncer chromium gettext
	$(BIN)/python -m pytest

# tests/scaling/test_pooler.py runs a real pgbouncer. Debian's package, installed when it is missing
# (CI runs as root on Debian); anywhere else, install it yourself (apt-get or brew install pgbouncer).
pgbouncer:
	@PATH="$$PATH:/usr/sbin:/usr/local/sbin" command -v pgbouncer >/dev/null 2>&1 || { \
		echo "installing pgbouncer (for tests/scaling/test_pooler.py)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get install -y -qq pgbouncer || { apt-get update -qq && apt-get install -y -qq pgbouncer; }; } \
			>/dev/null 2>&1 \
		|| { echo "could not install pgbouncer: make test needs it (apt-get install pgbouncer)" >&2; exit 1; }; \
	}

# tests/console/test_translations.py extracts the console's texts afresh with makemessages, which
# runs GNU gettext's xgettext: Debian's package, installed when it is missing, as for pgbouncer.
gettext:
	@command -v xgettext >/dev/null 2>&1 || { \
		echo "installing gettext (for tests/console/test_translations.py)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get install -y -qq gettext || { apt-get update -qq && apt-get install -y -qq gettext; }; } \
			>/dev/null 2>&1 \
		|| { echo "could not install gettext: make test needs it (apt-get install gettext)" >&2; exit 1; }; \
	}

# tests/browser drives the operating system's Chromium through Playwright (nothing downloads a
# browser): Debian's package, installed when /usr/bin/chromium is missing, as for pgbouncer.
chromium:
	@test -x /usr/bin/chromium || { \
		echo "installing chromium (for tests/browser)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get install -y -qq chromium || { apt-get update -qq && apt-get install -y -qq chromium; }; } \
			>/dev/null 2>&1 \
		|| { echo "could not install chromium: make test needs it (apt-get install chromium)" >&2; exit 1; }; \
	}

# The long schema fuzz: many examples per operation, a fresh seed, no 5xx and schema conformance
# (`make test` runs the same test with a few examples and a fixed seed). `FUZZ_CHECKS=all` adds
# the checks that judge business rules the schema cannot state (docs/api.md, "What the schema
# cannot say"): expect those to report. A failure names its seed; `make fuzz FUZZ_SEED=…` replays it.
FUZZ_EXAMPLES ?= 200
FUZZ_SEED ?= $(shell date +%s)
FUZZ_CHECKS ?= conformance
fuzz: $(STAMP)
	@echo "fuzzing with FUZZ_SEED=$(FUZZ_SEED), $(FUZZ_EXAMPLES) examples per operation, checks: $(FUZZ_CHECKS)"
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_CHECKS=$(FUZZ_CHECKS) FUZZ_SEED=$(FUZZ_SEED) \
		$(BIN)/python -m pytest tests/test_fuzz.py -o addopts="-ra -n 2 --dist load"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(STAMP)
	$(BIN)/python manage.py graphql_schema --schema hub.schema.schema --out graphql/schema.graphql

# make bench [BENCH="referrals graphql_inbox"] [BENCH_REFERRALS=1000000] [BENCH_KEEP_DB=1]: the referral
# benchmarks run on BENCH_REFERRALS generated referrals; results go to benchmarks/results.json.
BENCH_REFERRALS ?= 20000
bench: $(STAMP)
	BENCH_REFERRALS=$(BENCH_REFERRALS) $(BIN)/python -m benchmarks $(BENCH)

# make soak [SOAK_SECONDS=60] [SOAK_PARTNERS=50] [SOAK_OFFICERS=10] [SOAK_WORKERS="1 2"]: gunicorn on
# 127.0.0.1 under locust clients, once per worker count, in a throw-away database; no 5xx and the
# exact count of referrals, or it fails. p95 and rates go to benchmarks/results.json (docs/performance.md).
SOAK_SECONDS ?= 60
SOAK_PARTNERS ?= 50
SOAK_OFFICERS ?= 10
SOAK_WORKERS ?= 1 2
soak: $(STAMP)
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_PARTNERS=$(SOAK_PARTNERS) SOAK_OFFICERS=$(SOAK_OFFICERS) \
		SOAK_WORKERS="$(SOAK_WORKERS)" $(BIN)/python -m soak

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

# Drops the embedded database (var/pgdata); the demo recreates it on the next `make demo`.
clean-db:
	rm -rf var/pgdata
