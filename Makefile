# Stepwise: build, test and run.
#
#   make run     install what is missing, build (release), start the demo server (stepwise serve)
#   make test    install what is missing, build every target with warnings as errors, run all tests
#   make build   debug build of every target (same flags as `make test`, so nothing rebuilds twice)
#   make sanitize  build and run every test under AddressSanitizer, then ThreadSanitizer (not
#                part of `make test`: each build and run takes several minutes)
#   make bench   install nginx, wrk and curl, build (release), benchmark `stepwise serve` against
#                nginx, then the client against wrk and curl (both fetching from nginx), then
#                large downloads and uploads (server CPU per GiB) against nginx
#   make format  swift format --in-place over the Swift sources
#   make clean   remove build products
#
# Installing needs root (we run as root on Debian 12); otherwise sudo is used when available.

SHELL := /bin/bash
.DEFAULT_GOAL := build

# Swift lives in /opt/swift/usr/bin on our Debian machines when it is not on PATH.
ifeq ($(shell command -v swift 2>/dev/null),)
export PATH := /opt/swift/usr/bin:$(PATH)
endif
SWIFT ?= swift
# One set of flags for every build and test, so `make build` and `make test` share a build.
SWIFT_FLAGS := -Xswiftc -warnings-as-errors

# ---- What gets installed (the one place to change it) -------------------------------------------
# Debian packages to build and run.
BUILD_PACKAGES := libev-dev libssl-dev zlib1g-dev openssl pkg-config libglib2.0-dev libuv1-dev
# Extra Debian packages for the tests: peer tools (curl, nghttp2's h2load/nghttp/nghttpd, nginx
# as a real server for the client tests, run unprivileged from a temporary prefix) and what the
# Python peer venv needs.
TEST_PACKAGES := curl nghttp2-client nginx python3 python3-venv
# Python test peers (later issues: h2 websockets), pip-installed into a venv that `make clean`
# keeps (.build-test-peers, git-ignored). Tests find its interpreter in $STEPWISE_PYTHON.
PY_TEST_PEERS := h11 httpx
# Extra Debian packages for `make bench` (Benchmarks/run.sh, Benchmarks/client.sh): the reference
# server, the load generator (wrk) and the clients the Stepwise client is compared with (wrk, curl).
BENCH_PACKAGES := nginx wrk curl
# -------------------------------------------------------------------------------------------------

PEERS_VENV := .build-test-peers
PEERS_PYTHON := $(CURDIR)/$(PEERS_VENV)/bin/python
PIP_TIMEOUT := 300

SUDO := $(if $(filter 0,$(shell id -u)),,$(shell command -v sudo 2>/dev/null))

.PHONY: build test sanitize run bench format clean deps test-deps py-test-peers

build:
	$(SWIFT) build $(SWIFT_FLAGS)

# The demo server: static files from the current directory, /hello, /echo (see --help).
# Override with e.g. `make run SERVE_ARGS="--port 9000 --tls"`.
SERVE_ARGS ?= --port 8080
run: deps
	$(SWIFT) build -c release --product stepwise
	.build/release/stepwise serve $(SERVE_ARGS)

test: deps test-deps py-test-peers
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	STEPWISE_PYTHON=$(PEERS_PYTHON) $(SWIFT) test $(SWIFT_FLAGS) --disable-swift-testing

# Not part of `make test` (CI's time budget): the whole suite under AddressSanitizer, then under
# ThreadSanitizer, each in a build directory of its own (git-ignored) so that no debug build is
# rebuilt. About three minutes to build and two to three to run each, on two cores.
# - Leak detection is off: the test process's leak report is mostly XCTest's own (each test case
#   and its run hold each other, so everything a test case keeps is reported), weak-reference side
#   tables, and reactors dropped with work still queued, which keeps them alive by design. Run with
#   SANITIZE_ASAN_OPTIONS=detect_leaks=1 to read it; it fails the run.
# - die_after_fork=0: ThreadSanitizer refuses threads in a child forked from a threaded process,
#   which ReactorBlockingTests.testBlockingJobsRunInAForkedChild does on purpose.
SANITIZE_ASAN_OPTIONS ?= detect_leaks=0
SANITIZE_TSAN_OPTIONS ?= die_after_fork=0
sanitize: deps test-deps py-test-peers
	$(SWIFT) build --build-tests --sanitize=address --build-path .build-asan
	ASAN_OPTIONS=$(SANITIZE_ASAN_OPTIONS) STEPWISE_PYTHON=$(PEERS_PYTHON) \
	  $(SWIFT) test --skip-build --sanitize=address --build-path .build-asan --disable-swift-testing
	$(SWIFT) build --build-tests --sanitize=thread --build-path .build-tsan
	TSAN_OPTIONS=$(SANITIZE_TSAN_OPTIONS) STEPWISE_PYTHON=$(PEERS_PYTHON) \
	  $(SWIFT) test --skip-build --sanitize=thread --build-path .build-tsan --disable-swift-testing

# Not part of `make test`: takes about ten minutes and wants an otherwise idle machine (two cores:
# servers on one, load generators on the other). Benchmarks/README.md has the knobs.
bench: deps
	$(call install_missing,$(BENCH_PACKAGES))
	$(SWIFT) build -c release --product stepwise
	$(SWIFT) build -c release --product stepwise-client-bench
	Benchmarks/run.sh
	Benchmarks/client.sh
	Benchmarks/bodies.sh

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests Examples

# Keeps the Python peer venv (remove .build-test-peers by hand to reinstall it).
clean:
	$(SWIFT) package clean
	rm -rf .build-asan .build-tsan

# Installs the Debian packages among $(1) that are missing; apt-get update only if some are.
define install_missing
	@command -v dpkg >/dev/null || { echo "note: no dpkg here; install $(1) yourself"; exit 0; }; \
	missing=""; \
	for package in $(1); do \
	  dpkg -s "$$package" 2>/dev/null | grep -q '^Status: install ok installed' \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ] && [ -z "$(SUDO)" ]; then \
	    echo "error: need root or sudo to install:$$missing" >&2; exit 1; \
	  fi; \
	  echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	    && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call install_missing,$(BUILD_PACKAGES))

test-deps:
	$(call install_missing,$(TEST_PACKAGES))

# The interop tests need these peers and fail without them, so a failed install stops here with
# the reason rather than later with a missing-module error.
py-test-peers: test-deps
	@if [ -n "$(strip $(PY_TEST_PEERS))" ] \
	  && ! "$(PEERS_PYTHON)" -c 'import sys, importlib.metadata as m; [m.version(p) for p in sys.argv[1:]]' \
	    $(PY_TEST_PEERS) >/dev/null 2>&1; then \
	  echo "installing Python test peers: $(PY_TEST_PEERS)"; \
	  { [ -x "$(PEERS_PYTHON)" ] || python3 -m venv "$(PEERS_VENV)"; } \
	    && timeout $(PIP_TIMEOUT) "$(PEERS_PYTHON)" -m pip install --quiet \
	      --disable-pip-version-check $(PY_TEST_PEERS) \
	    || { echo "error: could not install the Python test peers ($(PY_TEST_PEERS))" >&2; exit 1; }; \
	fi
