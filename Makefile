# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, install sigcube, ingest SPARC, print the report, run a sweep,
#               write the HTML explorer of that sweep
#   make test   create .venv, install sigcube with its test extras, run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Use the shared local mirror of the public data when it sits beside the checkout.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/sparc),)
export SIGCUBE_DATA_DIR ?= $(SHARED_DATA)
endif

.PHONY: demo test install clean docs

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

test: install
	$(BIN)/python -m pytest

# The documentation site, offline, warnings as errors: docs/_build/html/index.html. The notebooks are executed once
# and cached (docs/_build/.jupyter_cache); they read the SPARC cube (ingested from the data mirror if missing).
docs: install
	$(BIN)/python -c "import sphinx, myst_nb, furo" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[test,docs]'
	$(BIN)/python -m sphinx -b html -W --keep-going docs docs/_build/html

clean:
	rm -rf $(VENV) cubes/*.zarr cubes/*.html
