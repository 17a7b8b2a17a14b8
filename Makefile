# make run   — start GridBot (no TELEGRAM_BOT_TOKEN: the local sandbox on http://127.0.0.1:8080/)
# make test  — run the tests (PostgreSQL tests run when 127.0.0.1:5432 answers, else skip)
# make demo  — play the whole loop through the Bot API double and print the transcript
# Each target creates .venv and installs the project first if needed.

VENV   ?= .venv
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; \
          done)
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test demo bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "GridBot needs Python 3.11 or newer (python3.11, python3.12 or python3.13 on PATH)"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(VENV)/bin/gridbot run

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n 2

demo: $(STAMP)
	$(VENV)/bin/gridbot demo

bench: $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e ".[bench]"
	$(VENV)/bin/python benchmarks/bench_nlp.py --data ../shared/data/govmsg

clean:
	rm -rf $(VENV) var .pytest_cache
