# The two commands: `make test` (everything, on throwaway servers) and `make bench`.
PYTHON ?= python3

.PHONY: test bench lint clean

test:
	$(PYTHON) tests/run.py

bench:
	$(PYTHON) bench/run.py

clean:
	rm -rf .venv .test-output .bench-output
