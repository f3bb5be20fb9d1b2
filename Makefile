# Every target installs what it needs: a fresh machine with Python 3.11+, make and terraform is enough.
PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
C7N_VENV := .venv-c7n
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv
# Bytecode compiled at install, as pip does: otherwise every checkov and CLI run compiles its imports again
# where PYTHONDONTWRITEBYTECODE is set.
UV_INSTALL := $(UV) pip install --quiet --compile-bytecode
PY := $(VENV)/bin/python

.PHONY: demo test durations bench bench-org docs release try try-stop venv clean

demo: $(VENV)/.installed  ## Apply examples/complete to a local AWS emulator and show the guardrails working.
	$(PY) -m scripts.demo

test: $(VENV)/.installed $(CHECKOV_VENV)/.installed  ## Install pinned requirements, run the test suite.
	$(VENV)/bin/pytest

durations: $(VENV)/.installed $(CHECKOV_VENV)/.installed  ## Run the suite and record each test file's seconds (tests/durations.json), which orders the next runs.
	$(VENV)/bin/pytest --record-durations

bench: $(VENV)/.installed  ## Plan wall time of the examples beside the provider-only floor.
	$(PY) -m scripts.bench

bench-org: $(VENV)/.installed $(C7N_VENV)/.installed  ## Organization audit beside c7n-org run: time, memory, verdicts.
	$(PY) -m scripts.bench_org_audit --c7n-org $(C7N_VENV)/bin/c7n-org $(ARGS)

docs: $(VENV)/.installed  ## Regenerate the terraform-docs tables (requirements ... outputs) in the READMEs.
	$(PY) -m scripts.readme_tables

release: $(VENV)/.installed  ## dist/: module archive, CLI wheel and sdist, SHA256SUMS, all of VERSION.
	$(PY) -m scripts.release

try: $(VENV)/.installed  ## Leave an AWS emulator running with a seeded fleet; print the CLI commands to try on it.
	$(PY) -m scripts.try_cli start

try-stop: $(VENV)/.installed  ## Stop the emulator that `make try` left running.
	$(PY) -m scripts.try_cli stop

# One after the other: uv already uses every core, so building both at once is no faster.
venv: $(VENV)/.installed $(CHECKOV_VENV)/.installed

# uv downloads, unpacks and compiles on every core where pip goes one package at a time; it lives in a
# virtualenv of its own, installed by the pip that comes with $(PYTHON) -m venv.
$(UV): requirements/uv.txt
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/uv.txt
	touch $@

# Each virtualenv: the stdlib creates it with $(PYTHON), uv installs the pinned file into it.
$(VENV)/.installed: requirements/dev.txt pyproject.toml VERSION | $(UV)
	$(PYTHON) -m venv --without-pip $(VENV)
	$(UV_INSTALL) --python $(PY) -r requirements/dev.txt
	$(UV) pip install --quiet --python $(PY) --no-deps --no-build-isolation -e .
	touch $@

# checkov pins its own boto3 and installs an `hcl2` package that clashes with python-hcl2: own venv.
$(CHECKOV_VENV)/.installed: requirements/checkov.txt | $(UV)
	$(PYTHON) -m venv --without-pip $(CHECKOV_VENV)
	$(UV_INSTALL) --python $(CHECKOV_VENV)/bin/python -r requirements/checkov.txt
	touch $@

# Cloud Custodian pins its own boto3: own venv, called as a command by the organization benchmark.
$(C7N_VENV)/.installed: requirements/c7n.txt | $(UV)
	$(PYTHON) -m venv --without-pip $(C7N_VENV)
	$(UV_INSTALL) --python $(C7N_VENV)/bin/python -r requirements/c7n.txt
	touch $@

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(C7N_VENV) $(UV_VENV) .cache .pytest_cache
