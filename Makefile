# Military Diplomacy: the book, the assignments and the instructor's workflow.
#
#   make book                  build the site into _build/html (sets up .venv first)
#   make test                  run the whole test suite (sets up .venv, and node_modules when npm exists)
#   make test-fast             the unit tests only (no book build, nbgrader run, browser or wheel build)
#   make dist                  the wheel and sdist students and instructors install, into dist/
#   make page-sizes            transferred size of each chapter page of the built book
#
#   make release A=ps1         student version of an assignment into exercises/release/
#   make collect A=ps1 FROM="submissions (1).zip"
#                              a folder or Canvas/Moodle zip of submissions into exercises/submitted/
#                              (no FROM on a class hub: the latest submissions from the exchange)
#   make grade A=ps1           autograde every submission, in parallel and sandboxed
#   make feedback A=ps1        feedback HTML per student into exercises/feedback/
#   make export                exercises/grades/grades.csv: a row per student, a column per assignment
#   make export ARGS="--lms canvas --roster canvas-export.csv"
#                              exercises/grades/canvas-grades.csv for Canvas's gradebook import
#   make report A=ps1          exercises/grades/<assignment>-report.html: item analysis
#   make scores A=ps1          points per student and question (CSV)
#   make bench                 time serial nbgrader against `mildip grade` on a synthetic class
#
#   make hub ROSTER=roster.csv as root on a Linux server: users from the roster, the student
#                              environment, the exchange, and JupyterHub on 127.0.0.1:8000
#                              (HUB_IP, HUB_PORT, HUB_PREFIX to change)
#   make hub-down              stop the hub; users and their work stay
#   make bench-hub             40 students log in at once: server start, fetch and submit times
#
# Every instructor target passes ARGS on to `mildip`, e.g. make grade A=ps1 ARGS="--jobs 2 --force".
#
# Python 3.11 or newer is needed; set PYTHON=python3.12 (say) to choose another interpreter.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test test-fast dist page-sizes release collect grade feedback export report scores bench clean hub hub-down bench-hub

# npm packages: world-atlas (the maps' country outlines, copied into the site: the book needs
# it) and axe-core (checks the built pages' accessibility in tests/test_browser.py; without npm
# those checks skip, and fail under CI=true).
NPM        := $(shell command -v npm 2>/dev/null)
NODE_STAMP := node_modules/.installed
ifneq ($(NPM),)
TEST_DEPS  := $(NODE_STAMP)
endif

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

book: $(STAMP) $(TEST_DEPS)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The book is in _build/html/index.html"

# The test files run on TEST_WORKERS workers (pytest-xdist; each file on one worker); the 20
# slowest tests are listed at the end.
TEST_WORKERS ?= 3

test: $(STAMP) $(TEST_DEPS)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=20

test-fast: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -m "not slow"

dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --quiet --outdir dist .
	@echo "Students install it with: pip install dist/mildip-*.whl"

page-sizes: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/page_sizes.py

# The instructor's targets run `mildip` with A (the assignment) and FROM (a path) passed through the
# environment and quoted by the shell, so that any file name works (FROM="submissions (1).zip"),
# and with ARGS appended as they are (ARGS="--jobs 2 --force"). `mildip <command> --help` lists them.
MILDIP     := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip
NEED_A      = @test -n "$$A" || { echo "make $@: name the assignment, e.g. make $@ A=ps1" >&2; exit 2; }

release: $(STAMP)
	$(NEED_A)
	$(MILDIP) release "$$A" $(ARGS)

collect: $(STAMP)
	$(NEED_A)
	$(MILDIP) collect "$$A" $${FROM:+"$$FROM"} $(ARGS)

grade: $(STAMP)
	$(NEED_A)
	$(MILDIP) grade "$$A" $(ARGS)

feedback: $(STAMP)
	$(NEED_A)
	$(MILDIP) feedback "$$A" $(ARGS)

export: $(STAMP)
	$(MILDIP) export $(ARGS)

report: $(STAMP)
	$(NEED_A)
	$(MILDIP) report "$$A" $(ARGS)

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/grading.py $(ARGS)

scores: $(STAMP)
	$(NEED_A)
	$(MILDIP) scores "$$A" $(ARGS)

# The class hub (hub/hub.py, README "A class on a shared hub"). HUB_PACKAGE is what the student
# environment installs as the course package: this project until `make dist` builds a wheel, then
# HUB_PACKAGE ?= $(firstword $(wildcard dist/mildip-*.whl))
HUB_PREFIX  ?= /srv/mildip-hub
HUB_IP      ?= 127.0.0.1
HUB_PORT    ?= 8000
HUB_PYTHON  ?= /usr/bin/python3
HUB_PACKAGE ?= .

hub: $(STAMP) $(TEST_DEPS)
	@test -n "$(ROSTER)" || { echo "make hub: name the roster, e.g. make hub ROSTER=roster.csv"; exit 2; }
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python hub/hub.py up --roster "$(ROSTER)" --prefix "$(HUB_PREFIX)" \
	    --ip "$(HUB_IP)" --port "$(HUB_PORT)" --python "$(HUB_PYTHON)" --package "$(HUB_PACKAGE)"

hub-down: $(STAMP)
	$(BIN)/python hub/hub.py down --prefix "$(HUB_PREFIX)"

bench-hub: $(STAMP) $(TEST_DEPS)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/hub.py --python "$(HUB_PYTHON)" --package "$(HUB_PACKAGE)"

clean:
	rm -rf _build dist
