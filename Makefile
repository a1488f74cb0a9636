# Military Diplomacy: the book, the assignments and the instructor's workflow.
#
#   make book                  build the site into _build/html (sets up .venv first)
#   make test                  run the whole test suite (sets up .venv first)
#
#   make release A=ps1         student version of an assignment into exercises/release/
#   make grade A=ps1           autograde every submission in exercises/submitted/
#   make scores A=ps1          points per student and question (CSV)
#
# Python 3.11 or newer is needed; set PYTHON=python3.12 (say) to choose another interpreter.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test release grade scores clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The book is in _build/html/index.html"

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

release: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip release $(A)

grade: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip grade $(A)

scores: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mildip scores $(A)

clean:
	rm -rf _build
