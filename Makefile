# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUNS   ?= runs

.PHONY: demo test bench install clean

install: $(STAMP)

# torch first, alone and pinned: pip then keeps the CPU build it finds instead of pulling a CUDA one.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@if [ -f $(RUNS)/vae2/config.json ]; then \
		$(BIN)/latentwalk train --resume --out $(RUNS)/vae2; \
	else \
		$(BIN)/latentwalk train --model vae --latent-dim 2 --hidden 200,200 --epochs 20 --out $(RUNS)/vae2; \
	fi
	$(BIN)/latentwalk grid $(RUNS)/vae2 --size 20 --extent -3 3

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/train_speed.py
	$(BIN)/python benchmarks/quality.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis src/*.egg-info
