# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUNS   ?= runs

.PHONY: demo test check wheel bench install browser clean

install: $(STAMP)

# torch first, alone and pinned: pip then keeps the CPU build it finds instead of pulling a CUDA one.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Trains (or reuses) the post's four models and writes $(RUNS)/demo/report.html.
demo: $(STAMP)
	$(BIN)/latentwalk demo --out $(RUNS)/demo

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
		else echo "install Chromium first: sudo apt-get install chromium"; exit 1; fi; }

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The fast tier: every test not marked slow (about a minute and a half on 2 cores).
check: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# The wheel, built and installed into a fresh venv, runs `demo --quick` from an empty folder, offline.
wheel: $(STAMP)
	tools/check_wheel.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/train_speed.py
	$(BIN)/python benchmarks/time_to_quality.py
	$(BIN)/python benchmarks/render_speed.py
	$(BIN)/python benchmarks/serve_latency.py
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/quality.py
	$(BIN)/python benchmarks/measure_speed.py --run $(RUNS)/demo/vae10    # after `make demo`

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis src/*.egg-info
