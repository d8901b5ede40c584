# replaycheck: `make run` runs the bundled scenario suite, `make test` the whole test suite.
# Set-up is idempotent: each step is skipped when its stamp is newer than its inputs.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMPS := .stamps
JS_SRC := $(shell find harness/js/src recorder/src -name '*.ts' 2>/dev/null) build.mjs \
          $(shell find scenarios/real/apps/src -type f 2>/dev/null)
WORKERS ?= 2

.PHONY: setup run test lint bench faults dist clean

setup: $(STAMPS)/chromium $(STAMPS)/postgresql $(STAMPS)/valgrind $(STAMPS)/venv $(STAMPS)/js

# Debian's chromium where apt exists; elsewhere Playwright's own browser download.
$(STAMPS)/chromium:
	@mkdir -p $(STAMPS)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	else $(MAKE) $(STAMPS)/venv && $(PY) -m playwright install chromium; fi
	@touch $@

# Debian's PostgreSQL server for the store's tests (tests/pg.py starts a throwaway cluster);
# without apt they are skipped unless a server is installed under /usr/lib/postgresql.
$(STAMPS)/postgresql:
	@mkdir -p $(STAMPS)
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "no apt-get: install PostgreSQL for the store's tests (skipped without it)"; fi
	@touch $@

# Debian's valgrind: callgrind counts the renderer's instructions for the overhead figure that
# no noise moves (harness/instructions.py); without it that test and bench line are skipped.
$(STAMPS)/valgrind:
	@mkdir -p $(STAMPS)
	@if command -v valgrind >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; \
	else echo "no apt-get: install valgrind for the instruction counts (skipped without it)"; fi
	@touch $@

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

$(STAMPS)/node: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMPS)/js: $(STAMPS)/node $(JS_SRC)
	npm run --silent build
	@touch $@

# Our recorder and rrweb side by side on the bundled suite.
RECORDERS := --recorder builtin --recorder rrweb

run: setup
	$(VENV)/bin/replaycheck run scenarios/ $(RECORDERS) -n $(WORKERS) --report report --json report/results.json

test: setup lint
	$(VENV)/bin/pytest -n $(WORKERS) -m "not callgrind and not solo" tests scenarios $(RECORDERS)
	$(VENV)/bin/pytest -m solo tests

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	node_modules/.bin/tsc --noEmit -p .

bench: setup
	$(PY) bench/bench_pixel.py
	$(PY) bench/bench_pii.py
	@gzip -c recorder/dist/record.js | wc -c | xargs printf 'builtin record bundle: %s bytes gzipped\n'
	@gzip -c node_modules/@rrweb/record/dist/record.umd.min.cjs | wc -c | xargs printf 'rrweb record bundle: %s bytes gzipped\n'
	$(PY) bench/bench_overhead.py
	$(PY) bench/bench_transport.py -n $(WORKERS)
	$(PY) bench/bench_serve.py
	$(PY) bench/bench_insights.py
	$(PY) bench/bench_viewer.py
	$(PY) bench/bench_viewer.py --page-loads 1
	$(PY) bench/bench_instructions.py
	$(VENV)/bin/pytest -q -m callgrind tests/test_instructions.py

# The fault suite (issue 16): each delivery case with both recorders; not part of `make test`.
faults: setup
	$(VENV)/bin/replaycheck run scenarios/faults $(RECORDERS) -n $(WORKERS) --report report/faults --json report/faults/results.json

# The sdist, and the wheel built from it, into dist/: the wheel ships the built bundles.
dist: setup
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .

clean:
	rm -rf $(STAMPS) harness/js/dist report dist build
