# One command for each job on a fresh machine: `make test`, `make demo`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-test

.PHONY: test unit keras demo compare bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

test: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

keras: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q tests/keras

demo: $(STAMP)
	$(PY) -m comparisons.demo
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/refnn-compare

compare: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/refnn-compare

bench: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/refnn-compare bench

clean:
	rm -rf $(VENV) build *.egg-info reports .pytest_cache
