# The two commands of the README:
#   make demo   -- set up everything on a fresh machine, then find Kepler's third law
#   make test   -- set up everything, then run the Python and Julia test suites
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test bench wbf-example physics-example clean

setup:
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
	$(PY) -m pip install --quiet '.[test,compare]'
	$(PY) -m keplersr.install --yes

demo: setup
	$(VENV)/bin/keplersr demo

test: setup
	$(PY) -m pytest $(PYTEST_ARGS) tests

# the WBF example: the CP-odd optimal observable in WBF Higgs production
wbf-example: setup
	$(PY) examples/wbf_cp_score.py

# the physics scores: WBF (parton, detector A, theta != 0, variant table), then ZH
physics-example: setup
	$(PY) examples/wbf_cp_score.py
	$(PY) examples/zh_d6_score.py

# developer benchmarks (benchmarks/, not installed); each also runs alone: python -m benchmarks NAME
bench: setup
	$(PY) -m benchmarks eval
	$(PY) -m benchmarks startup

clean:
	rm -rf $(VENV) build dist outputs
