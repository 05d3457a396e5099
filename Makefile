# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-cluster lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cnnstudio

# Two workers: most tests spend their time in Python (Keras tracing, Qt), so the second
# core was idle. (--dist loadfile hung once a worker had crashed; plain load reschedules.)
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider -n 2 -m "not cluster"

# Several processes and Ray sweeps (minutes on 2 cores): pip install -e ".[cluster]" first.
test-cluster: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[cluster]"
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider -m cluster

lint: $(STAMP)
	$(BIN)/ruff check cnnstudio tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/train_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info
