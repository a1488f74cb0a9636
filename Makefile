# Military Diplomacy: the book, the assignments and the instructor's workflow.
#
#   make book                  build the site into _build/html (sets up .venv first)
#   make test                  run the whole test suite (sets up .venv, and node_modules when npm exists)
#   make page-sizes            transferred size of each chapter page of the built book
#
#   make release A=ps1         student version of an assignment into exercises/release/
#   make collect A=ps1 FROM=submissions.zip
#                              a folder or LMS zip of submissions into exercises/submitted/
#   make grade A=ps1           autograde every submission, in parallel and sandboxed
#   make feedback A=ps1        feedback HTML per student into exercises/feedback/
#   make export                exercises/grades/grades.csv: a row per student, a column per assignment
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
# Python 3.11 or newer is needed; set PYTHON=python3.12 (say) to choose another interpreter.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test page-sizes release collect grade feedback export report scores bench clean hub hub-down bench-hub

# axe-core (npm) checks the built pages' accessibility in tests/test_browser.py. Without npm
# those checks skip (and fail under CI=true).
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

book: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The book is in _build/html/index.html"

test: $(STAMP) $(TEST_DEPS)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

page-sizes: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/page_sizes.py

release: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip release $(A)

collect: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip collect $(A) $(FROM)

grade: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip grade $(A)

feedback: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip feedback $(A)

export: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip export

report: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip report $(A)

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/grading.py

scores: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip scores $(A)

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
	rm -rf _build
