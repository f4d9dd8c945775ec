# Two entry points a newcomer needs: `make demo` and `make test`. Both install everything first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test catalogs bench

$(STAMP): pyproject.toml .ci/system-deps
	bash .ci/system-deps
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/exhorto demo --out out/demo

test: setup
	$(VENV)/bin/ruff check engine workflows tests bench
	$(PY) -m pytest -n 2 --dist loadgroup

catalogs: setup
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k _ -o locales/exhorto.pot --no-location --sort-output --project exhorto .
	$(VENV)/bin/pybabel update -i locales/exhorto.pot -d locales -D exhorto --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d locales -D exhorto --statistics

bench: setup
	$(PY) bench/run_all.py
