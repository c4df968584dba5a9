# Two commands on a fresh machine:
#   make book   set up .venv, build the website into _build/html (warnings are errors)
#   make test   set up .venv and system packages, build the book, run every test
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests need: a real browser for the site tests, bubblewrap for the grading sandbox,
# PostgreSQL for the shared-gradebook test (it starts a private server; Debian keeps initdb off PATH).
APT_PACKAGES := chromium bubblewrap postgresql
APT_COMMANDS := chromium bwrap /usr/lib/postgresql/*/bin/initdb
JOBS ?= 2

.PHONY: book test test-fast lint setup sysdeps web-assets bench clean student-edition

setup: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt constraints.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found (looked for python3.11 and python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-test.txt
	touch $@

sysdeps:
	@missing=""; for c in $(APT_COMMANDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages ($(APT_PACKAGES)); missing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

# Browser libraries the website serves itself so it works offline (RequireJS, the ipywidgets
# embed manager): pinned npm tarballs, hash-checked, unpacked into _ext/vendor/ (needs npm once).
web-assets: $(STAMP)
	$(BIN)/python _ext/fetch_web_assets.py

book: $(STAMP) web-assets
	$(BIN)/jupyter-book build . -W --keep-going

# What the public student repository holds (chapter notebooks, released assignments, coursekit
# without the grader), written to _build/student; see _ext/student_edition.py.
student-edition: book
	$(BIN)/python _ext/student_edition.py

test: $(STAMP) sysdeps
	$(MAKE) lint
	$(MAKE) student-edition
	$(BIN)/python -m pytest -n $(JOBS) tests

# ruff's checks and its formatter (settings in pyproject.toml) over the whole repository, mypy over
# the modules it lists.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Under a minute: everything but the book build, the website, chapter-source and student-edition
# tests (tests/site, tests/book, tests/student), the tests that need a graded corpus (marker
# corpora) and the slow ones (marker slow: each runs notebooks in kernels of their own, and the
# grading runner's wait out the time limits they check). Builds nothing; `make test` runs them all.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -q -m "not corpora and not slow" --ignore=tests/site --ignore=tests/book --ignore=tests/student tests

# Speed and memory against PyTorch, micrograd and plain nbgrader (README.md, Benchmarks). The peers come
# from bench/requirements.txt and are installed here only. Select parts with e.g.
# make bench BENCH_ARGS="--only torch,engine" (or "--quick" to skip the cold book build).
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=

$(BENCH_STAMP): $(STAMP) bench/requirements.txt
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf _build .pytest_cache .hypothesis
