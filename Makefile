# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, install sigcube, ingest SPARC, print the report, run a sweep,
#               write the HTML explorer of that sweep
#   make test   create .venv, install sigcube with its test extras, run the test suite (≤ 10 min on 2 cores)
# and, for the rest of the suite and for CI:
#   make test-slow   the slow tier (deep and long variants); .ci/run runs make test, then make test-slow
#   make test-deep   the few slow tests longer than the slow tier's budget (not run by CI)
#   make browser     install Debian's chromium and chromium-driver if missing (the browser test needs them)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Use the shared local mirror of the public data when it sits beside the checkout.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/sparc),)
export SIGCUBE_DATA_DIR ?= $(SHARED_DATA)
endif

# pytest-xdist workers of make test and make test-slow (auto: one per core); each test file runs in one worker, so
# its module fixtures (a sweep, a report) are computed once.
WORKERS ?= auto
# More pytest options, e.g. make test PYTEST_ARGS="-k explore -x"; the 25 slowest tests are listed after each run.
PYTEST_ARGS ?= --durations=25
# The run's own temporary folder (pytest's default, /tmp/pytest-of-$USER, keeps only the newest three runs of any
# checkout: a concurrent run elsewhere would delete this one's files); removed when the tests pass.
RUN_PYTEST = d=$$(mktemp -d "$${TMPDIR:-/tmp}/sigcube-tests.XXXXXX") && \
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadscope --basetemp "$$d/run" $(PYTEST_ARGS) $(1) && rm -rf "$$d" || \
	{ echo "the tests' temporary files are in $$d"; exit 1; }
# apt-get as root, through sudo otherwise.
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: demo test test-slow test-deep browser install clean docs

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/sigcube ingest sparc
	$(BIN)/sigcube report sparc
	$(BIN)/sigcube report sparc --preset all
	$(BIN)/sigcube sweep sweeps/sigma_A0_k.toml
	$(BIN)/sigcube report sweep cubes/sigma-A0-k.zarr
	$(BIN)/sigcube explore cubes/sigma-A0-k.zarr

# The default tier: every test not marked slow, in parallel.
test: install browser
	$(call RUN_PYTEST,)

# The slow tier: the tests marked slow, in parallel (those also marked deep excepted).
test-slow: install browser
	$(call RUN_PYTEST,-m "slow and not deep")

# The deep tier: slow tests longer than the slow tier's budget (not run by CI; run it before changing a committed
# report or the population model).
test-deep: install
	$(call RUN_PYTEST,-m deep)

# Debian's chromium and chromium-driver, for tests/project/test_browser.py (which never installs them itself).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
	  echo "installing chromium and chromium-driver (the browser test needs them)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	else echo "make browser: no chromium/chromedriver and no apt-get; install them, or the browser test fails" >&2; \
	  exit 1; fi

# The documentation site, offline, warnings as errors: docs/_build/html/index.html. The notebooks are executed once
# and cached (docs/_build/.jupyter_cache); they read the SPARC cube (ingested from the data mirror if missing).
docs: install
	$(BIN)/python -c "import sphinx, myst_nb, furo" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[test,docs]'
	$(BIN)/python -m sphinx -b html -W --keep-going docs docs/_build/html

clean:
	rm -rf $(VENV) cubes/*.zarr cubes/*.html
