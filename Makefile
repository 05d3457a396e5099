# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast test-cluster lint bench dist clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing CNN Studio and what it needs into $(VENV) (the first time: 1-2 minutes)..."
	$(BIN)/python -m pip install --progress-bar on -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cnnstudio

# Three workers on two cores: many tests wait (on a background thread, a child process, a
# window's event loop), and a third worker fills those waits: 1,408 tests took 13 min 36 s
# with -n 3 against 15 min 36 s with -n 2 (2026-12-06, quiet). (--dist loadfile hung once a
# worker had crashed; plain load reschedules.) The 25 slowest tests are listed at the end.
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider -n 3 -m "not cluster" --durations=25

# The edit–test loop: everything but the tests marked slow (CI runs them all).
test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider -n 2 -m "not cluster and not slow"

# Several processes and Ray sweeps (minutes on 2 cores): pip install -e ".[cluster]" first.
test-cluster: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[cluster]"
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider -m cluster

# Style, and the layers: core without Qt, registries without families, no family importing
# another (import-linter's contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check cnnstudio tests benchmarks
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/train_throughput.py

# The wheel and the sdist in dist/ (what pip and pipx install); .ci/wheel_smoke tries the
# wheel in a fresh venv. A stale build/ could slip removed files into the wheel: it goes.
dist: $(STAMP)
	rm -rf build dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info
