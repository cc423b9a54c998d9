# The two commands of the README:
#   make run    set up, start Neo4j, seed the diabetes-alliance demo, serve on 127.0.0.1:8000
#   make test   set up, lint, type-check, check the import contracts (pyproject.toml), start a
#               separate test Neo4j, run every test
# With NEO4J_URI set, that server is used and no local Neo4j is started.

PYTHON ?= python3
# Development state (keys, training files, the local Neo4j instances) stays in the checkout
# whichever directory a `shield` command is later run from.
export HS_DATA_DIR := $(CURDIR)
VENV := .venv
BIN := $(VENV)/bin
# Tests get their own server instance (own data and port): they wipe its database per test.
TEST_ENV := HS_LOCAL_NEO4J__HOME=$(CURDIR)/.neo4j/test HS_LOCAL_NEO4J__BOLT_PORT=7688

# Benchmarks get a third instance whose database is made afresh before each one. Every test and
# every benchmark wipes its graph, and a store that has had millions of records deleted makes
# Neo4j scan its id files for reusable ids at each commit (IndexedIdGenerator.maintenance: 27 %
# of its CPU samples at 200 decisions/s on a day-old test store, 3 % on a fresh one; JFR, docs/performance.md). A
# running service, which deletes next to nothing, never pays that.
BENCH_HOME := $(CURDIR)/.neo4j/bench
BENCH_ENV := HS_LOCAL_NEO4J__HOME=$(BENCH_HOME) HS_LOCAL_NEO4J__BOLT_PORT=7689
FRESH_BENCH_NEO4J = if [ -z "$$NEO4J_URI" ]; then \
	$(BENCH_ENV) $(BIN)/shield neo4j stop >/dev/null 2>&1; \
	rm -rf $(BENCH_HOME)/data/databases/neo4j $(BENCH_HOME)/data/transactions/neo4j; \
	$(BENCH_ENV) $(BIN)/shield neo4j start; fi

.PHONY: install run test lint neo4j-stop bench

$(BIN)/shield: pyproject.toml
	scripts/bootstrap
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(BIN)/shield

run: install
	@if [ -z "$$NEO4J_URI" ]; then $(BIN)/shield neo4j start; fi
	$(BIN)/shield demo
	$(BIN)/shield serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	@if [ -z "$$NEO4J_URI" ]; then $(TEST_ENV) $(BIN)/shield neo4j start; fi
	$(TEST_ENV) $(BIN)/pytest

neo4j-stop: install
	-$(BIN)/shield neo4j stop
	-$(TEST_ENV) $(BIN)/shield neo4j stop
	-$(BENCH_ENV) $(BIN)/shield neo4j stop

bench: install .venv-pydvl/bin/python
	@$(FRESH_BENCH_NEO4J)
	$(BENCH_ENV) $(BIN)/python -m bench.ledger
	@$(FRESH_BENCH_NEO4J)
	$(BENCH_ENV) $(BIN)/python -m bench.ingest
	@$(FRESH_BENCH_NEO4J)
	$(BENCH_ENV) $(BIN)/python -m bench.decisions
	$(BIN)/python -m bench.ocr
	@$(FRESH_BENCH_NEO4J)
	$(BENCH_ENV) PYDVL_PYTHON=$(CURDIR)/.venv-pydvl/bin/python $(BIN)/python -m bench.settlement

# pyDVL pins numpy below 2: it gets its own environment, used only by bench/settlement.py.
.venv-pydvl/bin/python:
	$(PYTHON) -m venv .venv-pydvl
	.venv-pydvl/bin/pip install -q --disable-pip-version-check "pydvl==0.10.0" "numpy<2" "scikit-learn<2"
