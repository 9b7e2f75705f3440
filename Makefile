# Ragline — every target installs what it needs first, from the committed locks in
# requirements/ (compiled from pyproject.toml's groups by `make locks`), and skips what is
# already installed (stamp files in .venv/, remade when a lock changes).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# uv installs (≈15x faster than pip here: see requirements/lock.py); pip stays in the venv for
# CDK's layer bundling (cdk/bundling.py). uv does not read pip.conf, so the machine's local
# wheel folder (the CPU build of PyTorch) is passed on.
UV_VERSION := 0.13.9
PIP_VERSION := 25.3
UV := $(VENV)/bin/uv
PIP := $(UV) pip install --quiet --python $(PY)
FIND_LINKS = $$(links=$$(python3 -m pip config get global.find-links 2>/dev/null) && echo "--find-links $$links")
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_VALIDATION := false
# The machine's CA store, as pip.conf's `cert` gives pip.
export UV_SYSTEM_CERTS := 1

# llama-cpp-python (the tests' real model server) ships only as source: CPU only, and portable
# (a -march=native build crashed on this machine's AMX cores). Built once into a wheel cache
# keyed by its version and these flags, so no later setup (or fresh clone) compiles it again.
LLAMA_CPP_VERSION := $(shell sed -n 's/^llama-cpp-python==\([^ ]*\).*/\1/p' requirements/dev.txt)
export CMAKE_ARGS := -DGGML_CUDA=OFF -DGGML_BLAS=OFF -DLLAMA_CURL=OFF -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF
WHEEL_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ragline-wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell printf %s "$(CMAKE_ARGS)" | sha256sum | cut -c1-12)

.PHONY: demo dev test test-python setup setup-local setup-dev web browser bench synth locks llama-wheel clean

demo: setup-local ## start the local stack, ingest the NTSB sample corpus, answer a question
	$(VENV)/bin/ragline demo

dev: setup-local web ## the local stack (and the web app), serving until Ctrl-C
	$(VENV)/bin/ragline dev

test: setup web browser ## the whole suite: Python (unit, integration, infra, browser) and web components
	cd frontend && npm test
	$(PY) -m pytest -q -p no:cacheprovider

test-python: setup-dev ## the Python suite only
	$(PY) -m pytest -q -p no:cacheprovider

setup: setup-dev frontend/node_modules/.installed
setup-local: $(VENV)/.installed-local
setup-dev: $(VENV)/.installed-dev

$(UV):
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(PIP) pip==$(PIP_VERSION)

# What `ragline demo` / `ragline dev` need: the runtime and local groups (= `pip install .`).
$(VENV)/.installed-local: requirements/local.txt pyproject.toml | $(UV)
	$(PIP) -r requirements/local.txt
	$(PIP) --no-deps -e .
	touch $@

# Everything (dev.txt holds local.txt's pins and more, so the demo's install is reused as is).
$(VENV)/.installed-dev: requirements/dev.txt pyproject.toml $(WHEEL_CACHE)/.built | $(UV)
	$(PIP) $(FIND_LINKS) --find-links $(WHEEL_CACHE) --only-binary llama-cpp-python -r requirements/dev.txt
	$(PIP) --no-deps -e .
	touch $@ $(VENV)/.installed-local

llama-wheel: $(WHEEL_CACHE)/.built
$(WHEEL_CACHE)/.built: | $(UV)
	@echo "Building llama-cpp-python $(LLAMA_CPP_VERSION) once into $(WHEEL_CACHE) (a few minutes)"
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps --no-cache-dir \
	  -w $(WHEEL_CACHE) llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web: frontend/out/index.html

frontend/out/index.html: frontend/node_modules/.installed $(shell find frontend/app frontend/components frontend/lib -type f 2>/dev/null) frontend/package.json
	cd frontend && NEXT_TELEMETRY_DISABLED=1 npm run build

browser: ## Debian's Chromium for the browser tests (Playwright cannot download one here)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

bench: setup-dev ## ingestion and query benchmarks (print figures)
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_query.py
	$(PY) bench/bench_index.py
	$(PY) bench/eval_retrieval.py

synth: $(VENV)/.installed-cdk ## synthesize every environment into cdk.out
	$(PY) app.py

$(VENV)/.installed-cdk: requirements/cdk.txt pyproject.toml | $(UV)
	$(PIP) -r requirements/cdk.txt
	$(PIP) --no-deps -e .
	touch $@

locks: | $(UV) ## recompile requirements/*.txt from pyproject.toml's groups (uv pip compile)
	$(PY) requirements/lock.py

clean:
	rm -rf .ragline cdk.out frontend/out test-results
