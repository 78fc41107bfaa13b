# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# Development defaults; production sets its own environment (see README).
export DEBUG ?= 1

.PHONY: run test install lint check migrate seed clean

# The mail worker runs beside the server, delivering queued e-mail (to this terminal, in
# development), and stops with it.
run: install migrate
	$(BIN)/python manage.py seed --demo
	$(BIN)/python manage.py deliver_mail & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	FAST_PASSWORD_HASHER=1 $(BIN)/pytest $(PYTEST_ARGS)

install: $(VENV)/.installed static/vendor/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/.installed: node_modules/.installed bin/vendor-static
	bin/vendor-static
	touch $@

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles db.sqlite3
