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

# A new migration revision from the models' changes: make migrations MSG="what changed"
migrations: venv
	@rm -f /tmp/dashboard-migrations.db
	@DATABASE_URL=sqlite:////tmp/dashboard-migrations.db $(VENV)/bin/alembic -c alembic.ini upgrade head >/dev/null
	@DATABASE_URL=sqlite:////tmp/dashboard-migrations.db $(VENV)/bin/alembic -c alembic.ini revision --autogenerate -m "$(MSG)"

bench: venv services
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf var/
