# moesim — quick start: `make run` (main job) and `make test` (the test suite). Both set themselves up.
SWIFT ?= swift
APT_PACKAGES := libedit-dev pkg-config

.PHONY: run test bench figures deps format clean

## deps: install the system libraries the build needs (Debian), only when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

## run: the main job.
run: deps
	$(SWIFT) run moesim

## test: the whole test suite (debug build), including every scenario in scenarios/.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## bench: the benchmarks, release build (e.g. `make bench ARGS=core`).
bench: deps
	$(SWIFT) run -c release moesim-bench $(ARGS)

## figures: the README's timeline figures (docs/figures/*.png) drawn by moesim and headless Chromium.
figures: deps
	SWIFT=$(SWIFT) scripts/figures.sh $(ARGS)

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
