# One command for each job on a fresh machine: `make test`, `make demo`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-test

.PHONY: test unit keras demo compare bench clean browser

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

test: browser $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q

# The browser tests (tests/browser) drive Debian's Chromium through its chromedriver: when either is
# missing, install both with apt-get (as root, or through sudo).
BROWSER_PACKAGES := chromium chromium-driver
HAVE_BROWSER     := command -v chromium >/dev/null && command -v chromedriver >/dev/null

browser:
	@$(HAVE_BROWSER) && exit 0; \
	if [ "$$(id -u)" = 0 ]; then as_root=""; \
	elif command -v sudo >/dev/null; then as_root=sudo; \
	else echo "make: the browser tests need chromium and chromedriver; as root, run:" \
	          "apt-get install $(BROWSER_PACKAGES)" >&2; exit 1; fi; \
	command -v apt-get >/dev/null || { echo "make: the browser tests need chromium and chromedriver on PATH;" \
	    "without apt-get, install Chromium and its matching chromedriver yourself" >&2; exit 1; }; \
	echo "Installing $(BROWSER_PACKAGES) (Debian packages) for the browser tests"; \
	$$as_root apt-get update && \
	$$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(BROWSER_PACKAGES) && \
	{ $(HAVE_BROWSER) || { echo "make: $(BROWSER_PACKAGES) installed, yet chromium or chromedriver" \
	    "is still not on PATH" >&2; exit 1; }; }

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
