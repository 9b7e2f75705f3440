# Ragline — every target installs what it needs first (idempotent, from the committed locks).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_VALIDATION := false
# llama-cpp-python (the tests' real model server) builds from source: CPU only, and portable
# (a -march=native build crashed on this machine's AMX cores).
export CMAKE_ARGS := -DGGML_CUDA=OFF -DGGML_BLAS=OFF -DLLAMA_CURL=OFF -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF

.PHONY: demo dev test test-python test-web test-e2e setup web browser bench synth lint clean

demo: setup web ## start the local stack, ingest the NTSB sample corpus, answer a question
	$(VENV)/bin/ragline demo

dev: setup web ## the local stack, serving until Ctrl-C
	$(VENV)/bin/ragline dev

test: setup web browser ## the whole suite: Python (unit, integration, infra, browser) and web components
	cd frontend && npm test
	$(PY) -m pytest -q -p no:cacheprovider

setup: $(VENV)/.installed frontend/node_modules/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==25.3
	$(PY) -m pip cache remove llama_cpp_python >/dev/null 2>&1 || true  # a wheel cached from other CMAKE_ARGS
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web: frontend/out/index.html

frontend/out/index.html: frontend/node_modules/.installed $(shell find frontend/app frontend/components frontend/lib -type f 2>/dev/null) frontend/package.json
	cd frontend && NEXT_TELEMETRY_DISABLED=1 npm run build

browser: ## Debian's Chromium for the browser tests (Playwright cannot download one here)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

bench: setup ## ingestion and query benchmarks (print figures)
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_query.py
	$(PY) bench/bench_index.py
	$(PY) bench/eval_retrieval.py

synth: setup ## synthesize every environment into cdk.out
	$(PY) app.py

clean:
	rm -rf .ragline cdk.out frontend/out test-results
