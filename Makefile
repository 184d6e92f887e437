# Two commands matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck docs docs-serve pytest bench install clean

$(STAMP): pyproject.toml tools/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e tools
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/gourmet run

test: lint typecheck docs pytest

# No Python module over 400 lines (STYLE.md): split by concept before it grows past that.
MAX_MODULE_LINES := 400

lint: $(STAMP)
	@over=$$(git ls-files -z --cached --others --exclude-standard '*.py' | xargs -0 wc -l 2>/dev/null \
	  | awk '$$2 != "total" && $$1 > $(MAX_MODULE_LINES) {print "  " $$2 ": " $$1 " lines"}'); \
	if [ -n "$$over" ]; then echo "modules over $(MAX_MODULE_LINES) lines:"; echo "$$over"; exit 1; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

# The documentation site (mkdocs.yml): strict, so a broken link or a path that moved fails it.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

pytest: $(STAMP)
	$(BIN)/pytest

# wrk and pgbouncer drive the benchmarks; a fresh machine gets them from Debian first.
BENCH_TOOLS := wrk pgbouncer

bench: $(STAMP)
	@missing=""; for tool in $(BENCH_TOOLS); do \
	  command -v $$tool >/dev/null || test -x /usr/sbin/$$tool || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make bench: installing$$missing (Debian packages)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends$$missing; \
	fi
	$(BIN)/python -m bench
	$(BIN)/python -m bench.overload
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.retrying
	$(BIN)/python -m bench.workers
	$(BIN)/python -m bench.night

clean:
	rm -rf $(VENV) var site .mypy_cache .pytest_cache .ruff_cache
