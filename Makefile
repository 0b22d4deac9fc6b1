# Two commands: `make run` (app on embedded defaults with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test test-fast venv services browser migrations bench clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing Python packages into $(VENV) (first run takes a few minutes)"
	@$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-*; touch $@

run: venv
	@$(PY) manage.py init-db
	@$(PY) manage.py demo --if-empty
	@$(PY) app.py

services:
	@bash scripts/ensure_services.sh

browser:
	@bash scripts/ensure_browser.sh

test: venv services browser
	@$(PY) -m pytest -q -p no:cacheprovider tests

test-fast: venv
	@$(PY) -m pytest -q -p no:cacheprovider tests/unit

# Regenerate the single initial migration from models/ (allowed while nothing is released).
migrations: venv
	@rm -f migrations/versions/0001_*.py /tmp/dashboard-migrations.db
	@DATABASE_URL=sqlite:////tmp/dashboard-migrations.db $(VENV)/bin/alembic -c alembic.ini revision --autogenerate -m "initial schema" --rev-id 0001 \
	  >/dev/null && echo "migrations/versions/0001 regenerated"

bench: venv services
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf var/
