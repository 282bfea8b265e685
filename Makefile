# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= demo
RUNDIR ?= runs/demo

.PHONY: run test venv lint demo clean bench browser smoke

# The C extensions are built in place by the editable install: a changed source rebuilds them.
$(BIN)/tamis: pyproject.toml $(wildcard tamis/_native/*.c tamis/_native/*.h)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/tamis

# Build the generated demo corpus and run the default recipe on it.
run: venv
	$(BIN)/tamis demo $(DEMO) --docs 10000 --overwrite
	$(BIN)/tamis run --input $(DEMO) --output $(RUNDIR) --overwrite

# Headless Chromium for the report's browser test (Debian's package; installing needs root, as on
# CI). If it cannot be installed, that one test is skipped and says why.
browser:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; } \
		|| echo "make browser: could not install chromium; the report's browser test will be skipped"

# Set up and run the whole test suite (what .ci/run calls), then the no-extras smoke run:
# tamis installed as users get it (`pip install .`, no extras) into a second environment,
# one default-recipe run over every reader (.ci/smoke_noextras.sh). The suite runs in two
# processes (pytest-xdist; the tests that use the Ray cluster share one, see tests/conftest.py):
# CI has two cores, and most tests wait on one subprocess at a time.
test: venv browser
	$(BIN)/ruff check tamis tests bench
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup
	bash .ci/smoke_noextras.sh

smoke:
	bash .ci/smoke_noextras.sh

lint: venv
	$(BIN)/ruff check tamis tests bench

clean:
	rm -rf $(VENV) .venv-noextras $(DEMO) runs build *.egg-info
