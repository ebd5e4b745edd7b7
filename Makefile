# The two commands a new user runs: `make dev` (install, build, start the local stack) and
# `make test` (install what is missing, build, run every test tier).
SHELL := /bin/bash
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export HARDHAT_DISABLE_TELEMETRY_PROMPT := true
# uv from PATH, else the one `make install` puts in python3's site-packages (run as `python3 -m uv`)
UV_BIN := $(shell command -v uv 2>/dev/null)
UV ?= $(if $(UV_BIN),$(UV_BIN),python3 -m uv)
PY := $(UV) run --frozen python
PORT ?= 3000

.PHONY: install install-system build build-circuits build-contracts dev test test-fast test-unit test-contract test-integration \
        test-infra test-e2e test-contracts test-zk typecheck synth slither bench bench-register bench-gas bench-zk \
        bench-access bench-chain bench-upload bench-settlement bench-proofs bench-load bench-analytics test-sdk test-schema \
        test-faults clean

## install: Python (uv, from uv.lock) and npm (from package-lock.json) dependencies, system tools
install: .venv/.installed node_modules/.installed install-system
## install-system: Debian packages the tests use, checked like a user would: ipfs_cid (reference CIDs), chromium
## (headless: the verification page and the dashboard), pdftotext from poppler-utils (compliance reports)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SYSTEM_TOOLS := ipfs_cid:ipfs-cid chromium:chromium pdftotext:poppler-utils
install-system:
	@missing="$$(for t in $(SYSTEM_TOOLS); do command -v $${t%%:*} >/dev/null || echo $${t#*:}; done)"; \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi
.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv==0.13.9 \
		|| python3 -m pip install --user --quiet uv==0.13.9
	$(UV) sync --frozen
	touch $@
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

## build: circuits (keys cached by input hash) and their Solidity verifiers, then the contracts
build: install build-circuits build-contracts
build-circuits: install
	$(PY) circuits/build.py
build-contracts: install build-circuits
	node contracts/build.mjs

## dev: the local stack (Hardhat node, moto server, API on 127.0.0.1:$(PORT), workers)
dev: build
	$(PY) -m local.stack --port $(PORT)

## test: every tier (one folder of tests/ each; tests/conftest.py marks each test with its folder)
test: build
	$(PY) -m pytest tests
## test-fast: no build, no Hardhat, no synth, no mypy run: unit and port-contract tests, the infra tests that do not
## synthesize, the suite's layout (`make typecheck`, or `make test`'s tests/infra/test_typecheck.py, runs mypy)
test-fast: .venv/.installed install-system
	$(PY) -m pytest tests/unit tests/contract tests/infra tests/sdk tests/test_layout.py -m "not synth and not typecheck"
test-unit: install
	$(PY) -m pytest tests/unit
test-contract: .venv/.installed
	$(PY) -m pytest tests/contract
test-integration: build
	$(PY) -m pytest tests/integration
test-infra: install
	$(PY) -m pytest tests/infra
test-e2e: build
	$(PY) -m pytest tests/e2e
test-contracts: build
	$(PY) -m pytest tests/contracts
test-zk: build
	$(PY) -m pytest tests/zk
## test-faults: fault scenarios against the real parts (chain node cut mid-saga and mid-settlement, DynamoDB
## throttling and transaction conflicts, S3 5xx, SQS redelivery, a task killed and retried); docs/reliability.md
test-faults: build
	$(PY) -m pytest tests/faults
## test-schema: schemathesis (--checks all, stateful phase) against a local stack with a signed-in creator's
## token; part of test-e2e (SCHEMATHESIS_EXAMPLES=30 by default)
test-schema: build
	$(PY) -m pytest tests/e2e/test_api_schema.py
## test-sdk: the client package (sdk/): models against the OpenAPI document, signing, exit codes, a fresh install
test-sdk: .venv/.installed
	$(PY) -m pytest tests/sdk

## typecheck: mypy over the shared layer, the functions, local/ and infra/ ([tool.mypy] in pyproject.toml)
typecheck: install
	$(PY) -m mypy

synth: build
	npx cdk synth --quiet

slither: build
	$(PY) contracts/slither.py

bench: bench-register bench-gas bench-zk bench-access bench-chain bench-upload bench-settlement bench-proofs bench-load \
       bench-analytics
## bench-analytics: Flow 7: GET /creator/{address}/analytics p50/p99 (cache hit, miss) over 100 content items and
## 100,000 seeded uses, aggregate updates per second, event-to-push with 50 WebSocket clients (bench/results/analytics.json)
bench-analytics: build
	$(PY) bench/analytics.py
bench-register: build
	$(PY) bench/register.py
bench-gas: build
	$(PY) bench/gas.py
bench-zk: build
	$(PY) bench/zk.py
bench-access: build
	$(PY) bench/access.py
## bench-upload: zkdm multipart upload to the local moto S3, SHA-256 and CID throughput (bench/results/upload.json)
bench-upload: build
	$(PY) bench/upload.py
bench-chain: build
	node contracts/build.mjs --test
	$(PY) bench/chain.py
## bench-settlement: Flow 4 on the local stack: 64th access -> payment.completed webhook (p50), uses settled per minute, gas per use at 64 (bench/results/settlement.json)
bench-settlement: build
	$(PY) bench/settlement.py
## bench-load: 32 signed clients on the access path for 60 s (DURATION=, CLIENTS=): exact use counts and rate limits,
## 0 server errors, p50/p99 against a bare handler in the same gateway (bench/results/load.json)
DURATION ?= 60
CLIENTS ?= 32
bench-load: build
	$(PY) bench/load.py --duration $(DURATION) --clients $(CLIENTS)
## bench-proofs: compliance and aggregate proofs end to end (chunked: 1,247 uses / 5 licensees, 10,000 / 50; compliance 1,000 and 5,000 uses) (bench/results/proofs.json)
bench-proofs: build
	$(PY) bench/proofs.py

clean:
	rm -rf build cdk.out .local
