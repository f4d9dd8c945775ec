# Two entry points a newcomer needs: `make demo` and `make test`. Both install everything first, from the
# committed lock (requirements.lock: every Python package, direct and transitive, at the version that was tested).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The installer itself is pinned too, so a new pip release cannot change how the lock is read.
PIP_VERSION       := 26.3
PIP_TOOLS_VERSION := 7.6.2

.PHONY: setup demo test catalogs bench lock screenshots

$(STAMP): pyproject.toml requirements.lock .ci/system-deps
	bash .ci/system-deps
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/exhorto demo --out out/demo

test: setup
	$(VENV)/bin/ruff check engine workflows tests bench
	$(PY) -m pytest -n 2 --dist loadgroup

# Images of the first page of every kind of document (docs/screenshots/form-*.png), with poppler's pdftoppm; and
# of every page of the web UI (docs/screenshots/web-*.png, plus the walk-through's images), from the browser tests
# (Debian's Chromium, Playwright), which check each page as they take it.
screenshots: setup
	$(PY) -m engine.documents.screenshots docs/screenshots
	EXHORTO_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q -p no:cacheprovider \
	  tests/web/test_web_browser.py::test_request_from_draft_to_execution_in_the_browser \
	  "tests/web/test_web_editor_browser.py::test_the_sectioned_editor_passes_axe_and_fits_a_small_screen[es]" \
	  "tests/web/test_web_pages_a11y.py::test_every_page_passes_axe_and_fits_360_px[en]"

catalogs: setup
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k _ -k colon -k C_:1c,2 -k translate_context:2c,3 -o locales/exhorto.pot --no-location --sort-output --project exhorto .
	$(VENV)/bin/pybabel update -i locales/exhorto.pot -d locales -D exhorto --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d locales -D exhorto --statistics

# Refresh the lock on purpose (new or changed dependency in pyproject.toml): resolves pyproject.toml's ranges with the
# test extra and the editable build's own requirements, keeping every pin that still fits; `make lock
# LOCK_FLAGS=--upgrade` takes the newest releases instead. Writes names and versions only (no index, host or path).
# pip-tools runs from its own venv so that it never changes what the project's venv holds.
LOCK_VENV  := .venv-lock
LOCK_FLAGS ?=
lock:
	test -x $(LOCK_VENV)/bin/python || python3 -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet pip==$(PIP_VERSION) pip-tools==$(PIP_TOOLS_VERSION)
	$(LOCK_VENV)/bin/pip-compile --quiet $(LOCK_FLAGS) --extra test --build-deps-for editable --strip-extras \
	  --allow-unsafe --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
	  --output-file requirements.lock pyproject.toml

bench: setup
	$(PY) bench/run_all.py
