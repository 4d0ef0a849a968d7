# Two entry points (see README.md): `make run` runs the main job, `make test` runs every test.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint venv npm peers deps bench difftest

$(BIN)/pyop: pyproject.toml
	$(PY) -m venv $(VENV)
	@echo "installing pyop and its dependencies into $(VENV) (log: $(VENV)/pip.log)"
	@$(BIN)/pip install -q --upgrade pip > $(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; false)
	@$(BIN)/pip install -q -e '.[dev]' >> $(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; false)
	touch $(BIN)/pyop

venv: $(BIN)/pyop

# anvil (L1) and the OP contract artifacts, pinned in package.json / package-lock.json.
# (`npm install`, not `npm ci`: npm 11's ci refuses a lock file that omits the other
# platforms' optional anvil binaries; install keeps the locked versions.)
node_modules/.pyop-installed: package.json package-lock.json
	npm install --no-audit --no-fund
	touch $@

npm: node_modules/.pyop-installed

# op-geth, op-node, op-batcher, op-proposer from the Go module proxy into ~/.cache/pyop/peers
# (reused when present; a cold build takes several minutes).
peers:
	bash scripts/build-peers.sh

deps: venv npm peers

# Main job: decode a real OP Mainnet batcher transaction (frames, channel, span batch of 27 blocks).
run: venv
	$(BIN)/pyop decode calldata --network op-mainnet spec_vectors/batcher/op-mainnet-batcher-tx-0xe69d9433.bin

lint: venv
	$(BIN)/ruff check pyop tests bench
	$(BIN)/mypy

test: deps lint
	$(BIN)/pytest -q

# Differential fuzzing against op-node v1.19.6's own functions (Go peer interop/go/difftest):
# 1,000,000 inputs per target (`make test` runs 2,000 per target, tests/tools/test_difftest.py).
# Long: run it under `heavy` on a shared machine. DIFFTEST_ARGS adds options (e.g. --seed 7).
DIFFTEST_N ?= 1000000
difftest: deps
	$(BIN)/pyop difftest all --n $(DIFFTEST_N) $(DIFFTEST_ARGS)

bench: venv
	$(BIN)/python -m bench.codec_bench
	$(BIN)/python -m bench.trie_bench
