# Every target installs what it needs: a fresh machine with Python 3.10+, make and terraform is enough.
PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
C7N_VENV := .venv-c7n
PY := $(VENV)/bin/python

.PHONY: demo test bench bench-org docs venv clean

demo: $(VENV)/.installed  ## Apply examples/complete to a local AWS emulator and show the guardrails working.
	$(PY) scripts/demo.py

test: $(VENV)/.installed $(CHECKOV_VENV)/.installed  ## Install pinned requirements, run the test suite.
	$(VENV)/bin/pytest

bench: $(VENV)/.installed  ## Plan wall time of the examples beside the provider-only floor.
	$(PY) scripts/bench.py

bench-org: $(VENV)/.installed $(C7N_VENV)/.installed  ## Organization audit beside c7n-org run: time, memory, verdicts.
	$(PY) scripts/bench_org_audit.py --c7n-org $(C7N_VENV)/bin/c7n-org

docs: $(VENV)/.installed  ## Regenerate the terraform-docs tables (requirements ... outputs) in the READMEs.
	$(PY) scripts/readme_tables.py

venv: $(VENV)/.installed $(CHECKOV_VENV)/.installed

$(VENV)/.installed: requirements/dev.txt pyproject.toml VERSION
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# checkov pins its own boto3 and installs an `hcl2` package that clashes with python-hcl2: own venv.
$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/checkov.txt
	touch $@

# Cloud Custodian pins its own boto3: own venv, called as a command by the organization benchmark.
$(C7N_VENV)/.installed: requirements/c7n.txt
	$(PYTHON) -m venv $(C7N_VENV)
	$(C7N_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/c7n.txt
	touch $@

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(C7N_VENV) .cache .pytest_cache
