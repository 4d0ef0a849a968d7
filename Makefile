# Two entry points (see README.md): `make run` runs the main job, `make test` runs every test.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run decode test lint venv npm peers geth chromium deps bench difftest

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

# op-geth only (all `make run` needs from Go: the rollup node, batcher and proposer are pyop).
geth:
	@echo "[make run] op-geth: reusing or building it in $${PYOP_PEERS_CACHE:-$$HOME/.cache/pyop/peers} (a cold build takes minutes)"
	@bash scripts/build-peers.sh geth

# Debian's chromium for the dashboard's browser tests (driven by Playwright for Python with
# executable_path; `playwright install` is never used). apt-get only when it is missing.
chromium:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium (apt-get) for the dashboard browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; }

deps: venv npm peers chromium

# Main job: a local OP Stack (anvil, op-geth, pyop node as sequencer, pyop batcher and proposer)
# with the teaching dashboard on 127.0.0.1; prints its URL. Ctrl-C stops everything it started.
# The devnet lives in out/devnet (git-ignored, re-created on every run).
run: venv npm geth
	@echo "[make run] python env, anvil + OP contracts and op-geth are ready; starting the devnet"
	$(BIN)/pyop devnet run out/devnet

# The former main job: decode a real OP Mainnet batcher transaction (frames, channel, span batch
# of 27 blocks).
decode: venv
	$(BIN)/pyop decode calldata --network op-mainnet spec_vectors/batcher/op-mainnet-batcher-tx-0xe69d9433.bin

lint: venv
	$(BIN)/ruff check pyop tests bench
	$(BIN)/mypy

# Test modules run on PYTEST_WORKERS pytest-xdist workers, one module per worker at a time
# (--dist loadfile; module-scoped devnets are built once); the slow devnet modules start first
# (tests/conftest.py). PYTEST_WORKERS=0 runs everything in this process, one test after another.
PYTEST_WORKERS ?= 3
test: deps lint
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile

# Differential fuzzing against op-node v1.19.6's own functions (Go peer interop/go/difftest):
# 1,000,000 inputs per target (`make test` runs 2,000 per target, tests/tools/test_difftest.py).
# Long: run it under `heavy` on a shared machine. DIFFTEST_ARGS adds options (e.g. --seed 7).
DIFFTEST_N ?= 1000000
difftest: deps
	$(BIN)/pyop difftest all --n $(DIFFTEST_N) $(DIFFTEST_ARGS)

bench: venv
	$(BIN)/python -m bench.codec_bench
	$(BIN)/python -m bench.trie_bench
	$(BIN)/python -m bench.dashboard_bench
