# pose_lifter developer entry points. Every target builds/refreshes the environment first
# (scripts/setup_env.sh is idempotent and stamp-based: ~1 s when nothing changed).
# Commands run inside the env via scripts/env.sh (venv + install/ overlay + ROS vars).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := test

IN_ENV = source scripts/env.sh &&
TEST_DIRS = $(wildcard test training/tests)
PYTEST_ARGS ?=

.PHONY: setup test demo bench clean

setup:
	bash scripts/setup_env.sh

# pytest exit code 5 (no tests collected) is a failure like any other non-zero code.
test: setup
	@if [ -z "$(strip $(TEST_DIRS))" ]; then echo "make test: no test directories (test/, training/tests/)" >&2; exit 1; fi
	@$(IN_ENV) python -m pytest -q $(TEST_DIRS) $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) -> failure" >&2; fi; \
	  exit $$rc

demo: setup
	$(IN_ENV) python -m pose_lifter.cli demo

bench: setup
	$(IN_ENV) python -m pose_lifter.bench

clean:
	rm -rf .venv build install log .pytest_cache .hypothesis .setup_env.lock
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -not -path './.git/*' -exec rm -rf {} +
