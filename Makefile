# ccs2chademo — every target creates .venv when it is missing and installs the project into it.
# Debian packages a target needs are installed only when missing (we run as root on CI).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: test test-pure lint bench clean debian-build debian-net veth-demo demo campaign

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The hot modules are compiled with mypyc (src/ccs2chademo/_build.py lists them; CCS2CHADEMO_PURE=1
# at install time skips it).
# The build runs in .venv itself (no build isolation) so mypy sees the installed dependencies:
# first a pure install that brings them, then the compiled one.  Any change to a compiled module
# rebuilds the extensions.
COMPILED := $(shell sed -n 's|^ *"\([a-z0-9_/]*\.py\)",$$|src/ccs2chademo/\1|p' src/ccs2chademo/_build.py)

$(STAMP): pyproject.toml setup.py src/ccs2chademo/_build.py $(COMPILED) | $(BIN)/python
	@$(MAKE) --no-print-directory debian-build
	$(BIN)/pip install --quiet 'setuptools>=77' wheel 'mypy>=1.18'
	CCS2CHADEMO_PURE=1 $(BIN)/pip install --quiet --no-build-isolation -e '.[test,bench,cluster]'
	CCS2CHADEMO_COMPILE=require $(BIN)/pip install --quiet --no-build-isolation --no-deps -e .
	touch $(STAMP)

# A C compiler and the Python headers for the compiled modules (only when missing; skipped for
# a pure build).
debian-build:
	@test -n "$$CCS2CHADEMO_PURE" || command -v cc >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev; }
	@test -n "$$CCS2CHADEMO_PURE" || $(BIN)/python -c "import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" || { apt-get update && apt-get install -y --no-install-recommends python3-dev; }

# Debian tools the kernel-networking tests use (ip netns, veth).
debian-net:
	@command -v ip >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends iproute2; }

# --- iso15118 peer codec for the EXI benchmark ------------------------------------------------
# bench/exi.py compares our codec with the iso15118 package's (EXIficient in a JVM). That package
# pins pydantic 1 and its own cryptography, so it lives in its own venv, which the benchmark
# drives as a subprocess (bench/peer_exi.py). Its EV side imports aiofile without declaring it.
# Created only when missing (removed again if the install fails); a headless JRE comes from
# Debian when there is no `java`.
PEER_VENV := .venv-peer

$(PEER_VENV):
	@command -v java >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless; }
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet 'iso15118==0.31.*' aiofile || { rm -rf $(PEER_VENV); exit 1; }
# --- end of the iso15118 peer block ------------------------------------------------------------

# --- ev-session: as root the iso15118 interop test runs, so `make test` builds its peer -------
TEST_PEER := $(if $(filter 0,$(shell id -u)),$(PEER_VENV))
# --- end of the ev-session block -----------------------------------------------------------------

test: $(STAMP) debian-net $(TEST_PEER)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The whole suite on the pure-Python sources (a copy without the compiled extensions): the
# reference behaviour, and what a machine without a C compiler runs (CCS2CHADEMO_PURE=1).
PURE_TREE := build/pure-src
test-pure: $(STAMP) debian-net
	rm -rf $(PURE_TREE) && mkdir -p $(PURE_TREE)
	tar cf - --exclude='*.so' --exclude=__pycache__ -C src ccs2chademo | tar xf - -C $(PURE_TREE)
	CCS2CHADEMO_PURE=1 PYTHONPATH=$(CURDIR)/$(PURE_TREE) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests bench tools setup.py)
	$(BIN)/mypy

bench: $(STAMP) $(PEER_VENV)
	@for b in $(filter-out bench/_%,$(wildcard bench/*.py)); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# --- veth demo (issue 8): charger-sim and run in two network namespaces over a veth pair -----
# Needs root (namespaces, raw sockets).  Artefacts (veth.pcapng, adapter.pcapng, session.jsonl,
# can.log, gpio.jsonl) land in test-artifacts/veth-demo/; the namespaces are deleted on every
# way out; the adapter's summary JSON is the last line on stdout.
veth-demo: $(STAMP) debian-net
	@test "$$(id -u)" = 0 || { echo "make veth-demo needs root (network namespaces)"; exit 1; }
	$(BIN)/python -m ccs2chademo.sim.veth_session test-artifacts/veth-demo
# --- end of the veth demo block -----------------------------------------------------------------

clean:
	rm -rf $(VENV) $(PEER_VENV) .pytest_cache .mypy_cache .ruff_cache build dist src/*.egg-info
	find src -name '*.so' -delete

# --- demo: the product end to end ---------------------------------------------------------------
# A Nissan Leaf ZE1 40 kWh charged from 20 % to 80 % at an Alpitronic-like 150 kW charger, through
# the adapter, in virtual time with the live view; writes demo-out/ (session log, pcapng of the CCS
# link, CHAdeMO candump log, session.png) and ends with the summary.
DEMO_OUT ?= demo-out

demo: $(STAMP)
	$(BIN)/ccs2chademo simulate --car leaf-ze1-40 --charger alpitronic --soc-start 20 --soc-stop 80 --out $(DEMO_OUT)
# --- end of the demo block ----------------------------------------------------------------------

# --- reliability campaign (issue 15): the full preset, ≥ 10 000 scenarios (not in `make test`, which
# runs the smoke preset); CAMPAIGN_ARGS e.g. `--workers 1` or `--dask tcp://HOST:8786`.  The report
# lands in $(CAMPAIGN_OUT)/report.html; figures in docs/reliability.md.
CAMPAIGN_OUT ?= campaign-out
CAMPAIGN_ARGS ?=

campaign: $(STAMP)
	$(BIN)/ccs2chademo campaign --preset full --out $(CAMPAIGN_OUT) --json $(CAMPAIGN_ARGS)
# --- end of the campaign block ------------------------------------------------------------------
