# ccs2chademo — every target creates .venv when it is missing and installs the project into it.
# Debian packages a target needs are installed only when missing (we run as root on CI).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: test lint bench clean debian-net

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# Debian tools the kernel-networking tests use (ip netns, veth).
debian-net:
	@command -v ip >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends iproute2; }

test: $(STAMP) debian-net
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests bench tools)
	$(BIN)/mypy

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist src/*.egg-info
