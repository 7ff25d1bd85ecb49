# The two commands: `make test` (everything, on throwaway servers) and `make bench`.
PYTHON ?= python3

.PHONY: test bench fmt clean

test:
	$(PYTHON) tests/run.py

bench:
	$(PYTHON) bench/run.py

fmt:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

clean:
	rm -rf .venv .test-output .bench-output
