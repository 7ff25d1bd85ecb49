# The two commands: `make test` (everything, on throwaway servers) and `make bench`;
# `make demo` serves a populated Odoo on localhost (needs ODOO_PATH, like the Odoo tests).
PYTHON ?= python3

.PHONY: test bench demo fmt clean

test:
	$(PYTHON) tests/run.py

bench:
	$(PYTHON) bench/run.py

demo:
	$(PYTHON) tools/demo.py

fmt:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

clean:
	rm -rf .venv .test-output .bench-output .demo-output
