# Flywheel: two commands from a fresh clone. `make run` builds the warehouse; `make test` lints and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/dagster_home

.PHONY: install run refresh test lint format typecheck ui seeds validate docs markdown-docs screenshots snapshot bench clean

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]' -c constraints.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/flywheel run

refresh: $(STAMP)
	$(BIN)/flywheel refresh

lint: $(STAMP)
	$(BIN)/ruff check pipelines flywheel_demo tests benchmarks
	$(BIN)/ruff format --check pipelines flywheel_demo tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# Two pytest-xdist workers; tests that share a build run on one worker (tests/conftest.py: work groups, heaviest first).
test: lint typecheck
	$(BIN)/pytest -q --durations=15 -n 2 --dist loadgroup --no-loadscope-reorder

format: $(STAMP)
	$(BIN)/ruff check --fix pipelines flywheel_demo tests benchmarks
	$(BIN)/ruff format pipelines flywheel_demo tests benchmarks

validate: $(STAMP)
	$(BIN)/dagster definitions validate -w workspace.yaml

ui: $(STAMP)
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The HTML docs catalog (docs/catalog/): every model, column, lineage and check.
docs: $(STAMP)
	$(BIN)/python -m pipelines.docs.html_catalog

# The generated Markdown: docs/kpi_catalog.md, docs/definitions.md, and the README's headline numbers (read from
# the warehouse `make run` built).
markdown-docs: $(STAMP)
	$(BIN)/python -m pipelines.docs.kpi_catalog
	$(BIN)/python -m pipelines.docs.definitions_doc
	$(BIN)/python -m pipelines.docs.headline

# Not part of `make test`: needs Chromium (Debian's, installed when missing) and a demo build (made when missing).
screenshots: $(STAMP)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(BIN)/python -m pipelines.docs.screenshots

# Benchmarks are not part of `make test` (a smoke version is); LARGE=1 adds the large scale.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --scales small,medium --spark medium $(if $(LARGE),--large,)

snapshot: $(STAMP)
	FLYWHEEL_UPDATE_SNAPSHOT=1 $(BIN)/pytest -q tests/contract/test_asset_catalog_snapshot.py

seeds: $(STAMP)
	$(BIN)/flywheel generate --scale small --out seeds

clean:
	rm -rf warehouse dagster_home/storage dagster_home/history dagster_home/schedules dagster_home/logs
