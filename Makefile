# ccs2chademo — every target creates .venv when it is missing and installs the project into it.
# Debian packages a target needs are installed only when missing (we run as root on CI).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# --dist worksteal: the real-time tests (veth sessions, interop peers: ~400 s of waiting, little
# CPU) come last in collection order; xdist's default `load` queued most of them on one worker,
# which ran them alone for ~250 s after the other had finished.  A worker that runs dry now
# takes half of the other's queue.  Pure build, 2 cores: 708 s -> 601 s (6 December 2026).
PYTEST_ARGS ?= -n 2 --dist worksteal --durations=25

.PHONY: test test-pure pure-tree lint bench clean debian-build debian-net debian-tshark debian-chromium veth-demo demo fuzz fuzz-deps soak soak-veth campaign

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The hot modules are compiled with mypyc (src/ccs2chademo/_build.py lists them; CCS2CHADEMO_PURE=1
# at install time skips it).
# The build runs in .venv itself (no build isolation) so mypy sees the installed dependencies:
# first a pure install that brings them, then the compiled one.  Any change to a compiled module
# rebuilds the extensions.  Bytecode caches are written at install: the generated EXI modules are
# ≈ 2.5 MB of source, and where a process may not write them (PYTHONDONTWRITEBYTECODE, a read-only
# tree) every start would compile them again — seconds and tens of MB of RSS (docs/perf.md).
COMPILED := $(shell sed -n 's|^ *"\([a-z0-9_/]*\.py\)",$$|src/ccs2chademo/\1|p' src/ccs2chademo/_build.py)

$(STAMP): pyproject.toml setup.py src/ccs2chademo/_build.py $(COMPILED) | $(BIN)/python
	@$(MAKE) --no-print-directory debian-build
	$(BIN)/pip install --quiet 'setuptools>=77' wheel 'mypy>=1.18'
	CCS2CHADEMO_PURE=1 $(BIN)/pip install --quiet --no-build-isolation -e '.[test,bench,cluster]'
	CCS2CHADEMO_COMPILE=require $(BIN)/pip install --quiet --no-build-isolation --no-deps -e .
	$(BIN)/python -m compileall -q src/ccs2chademo
	touch $(STAMP)

# A C compiler and the Python headers for the compiled modules (only when missing; skipped for
# a pure build).
debian-build:
	@test -n "$$CCS2CHADEMO_PURE" || command -v cc >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev; }
	@test -n "$$CCS2CHADEMO_PURE" || $(BIN)/python -c "import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" || { apt-get update && apt-get install -y --no-install-recommends python3-dev; }

# Debian tools the kernel-networking tests use (ip netns, veth).
debian-net:
	@command -v ip >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends iproute2; }

# Wireshark's tshark checks our simulated captures (tests/sim/test_tshark.py); the debconf
# question of wireshark-common (non-root capture) is answered "no" so the install never prompts.
debian-tshark:
	@command -v tshark >/dev/null 2>&1 || { echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections; apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tshark; }

# Debian's headless chromium and its chromedriver for the status-page tests (tests/web; never a
# downloaded browser).  Where it cannot be installed (not root, no repository) those tests skip.
debian-chromium:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver; } || echo "chromium could not be installed: the browser tests will be skipped"

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

test: $(STAMP) debian-net debian-tshark debian-chromium $(TEST_PEER)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The whole suite on the pure-Python sources (a copy without the compiled extensions): the
# reference behaviour, and what a machine without a C compiler runs (CCS2CHADEMO_PURE=1).
PURE_TREE := build/pure-src
test-pure: $(STAMP) debian-net debian-tshark debian-chromium pure-tree
	CCS2CHADEMO_PURE=1 PYTHONPATH=$(CURDIR)/$(PURE_TREE) $(BIN)/python -m pytest $(PYTEST_ARGS)

pure-tree:
	rm -rf $(PURE_TREE) && mkdir -p $(PURE_TREE)
	tar cf - --exclude='*.so' --exclude=__pycache__ -C src ccs2chademo | tar xf - -C $(PURE_TREE)

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

# --- veth demo in clara mode (issue 13): the same two processes, the adapter as the clara charge
# controller with a ZombieVerter-like VCU on its virtual CAN channel; needs root.  Artefacts in
# test-artifacts/veth-demo-clara/.
.PHONY: veth-demo-clara
veth-demo-clara: $(STAMP) debian-net
	@test "$$(id -u)" = 0 || { echo "make veth-demo-clara needs root (network namespaces)"; exit 1; }
	$(BIN)/python -m ccs2chademo.sim.veth_session test-artifacts/veth-demo-clara clara

# --- fuzz (issue 15): coverage-guided fuzzing of every parser that meets outside bytes ----------
# tools/fuzz/run.py per target (atheris = libFuzzer for Python, the optional extra [fuzz]: a
# manylinux wheel; clang comes from Debian only when pip has to build it).  It runs on the
# pure-Python tree (coverage inside mypyc-compiled modules is invisible to atheris); FUZZ_RUNS
# inputs per target, FUZZ_SECONDS caps each target's wall time (0: no cap); corpora, logs and
# findings in build/fuzz/TARGET/.  Not part of `make test`; figures in docs/reliability.md.
FUZZ_RUNS ?= 1000000
FUZZ_SECONDS ?= 0
FUZZ_TARGETS ?= exi-apphand exi-din exi-din-twin exi-iso2 exi-iso2-twin v2gtp sdp homeplug chademo canlog pcap config

fuzz-deps: $(STAMP)
	@$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -c "import subprocess, sys, tomllib; \
	  deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['fuzz']; \
	  sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--quiet', *deps]))" \
	  || { command -v clang >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends clang; }; \
	       CLANG_BIN=$$(command -v clang) $(BIN)/pip install --quiet --no-binary atheris atheris; }

fuzz: fuzz-deps pure-tree
	@for t in $(FUZZ_TARGETS); do \
	  CCS2CHADEMO_PURE=1 PYTHONPATH=$(CURDIR)/$(PURE_TREE) nice $(BIN)/python tools/fuzz/run.py $$t \
	    --runs $(FUZZ_RUNS) --seconds $(FUZZ_SECONDS) || exit 1; done
# --- end of the fuzz block ------------------------------------------------------------------------

# --- soak (issue 15): 24 virtual hours of back-to-back sessions in one process; the veth soak ---
# `make soak`: tools/soak.py (memory growth ≤ 1 MB per virtual hour after the first, no live
# runtime/world/timer after each session); SOAK_HOURS to shorten.  `make soak-veth` (root): one
# wall-clock hour (SOAK_MINUTES) of `ccs2chademo run` against `charger-sim` on a veth pair, RSS,
# CPU and the CHAdeMO cycle's jitter sampled each minute.  Figures in docs/reliability.md.
SOAK_HOURS ?= 24
SOAK_MINUTES ?= 60

soak: $(STAMP)
	$(BIN)/python tools/soak.py --hours $(SOAK_HOURS)

soak-veth: $(STAMP) debian-net
	@test "$$(id -u)" = 0 || { echo "make soak-veth needs root (network namespaces)"; exit 1; }
	$(BIN)/python tools/soak.py --veth $(SOAK_MINUTES) --out test-artifacts/soak-veth
# --- end of the soak block ------------------------------------------------------------------------

# --- reliability campaign (issue 15): the full preset, ≥ 10 000 scenarios (not in `make test`, which
# runs the smoke preset); CAMPAIGN_ARGS e.g. `--workers 1` or `--dask tcp://HOST:8786`.  The report
# lands in $(CAMPAIGN_OUT)/report.html; figures in docs/reliability.md.
CAMPAIGN_OUT ?= campaign-out
CAMPAIGN_ARGS ?=

campaign: $(STAMP)
	$(BIN)/ccs2chademo campaign --preset full --out $(CAMPAIGN_OUT) --json $(CAMPAIGN_ARGS)
# --- end of the campaign block ------------------------------------------------------------------
