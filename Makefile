# moesim — quick start: `make run` (main job) and `make test` (the test suite). Both set themselves up.
SWIFT ?= swift
APT_PACKAGES := libedit-dev pkg-config libmimalloc-dev

.PHONY: run test bench figures fuzz deps format clean

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

## fuzz: libFuzzer over the command language (lexer, parser, interpreter) for FUZZ_SECONDS, seeded with
## scenarios/ and fuzz/regressions/; crashes are written to .build/fuzz-artifacts/. Links with lld (gold
## crashes on this toolchain's fuzzer link). Leak detection is off: a world replaced while processes wait on
## messages that never come leaks those tasks by design (Simulation.shutdown reports them).
FUZZ_SECONDS ?= 60
## FUZZ_FLAGS: more libFuzzer flags (CI: a fixed seed and run count, so every CI run tries the same inputs).
FUZZ_FLAGS ?=
fuzz: deps
	mkdir -p .build
	printf '{ "schemaVersion": "1.0", "linker": { "path": "%s" } }\n' \
	  "$$(dirname "$$(readlink -f "$$(command -v swiftc)")")/ld.lld" > .build/fuzz-toolset.json
	$(SWIFT) build -c release --build-path .build/fuzz --product moesim-fuzz --toolset .build/fuzz-toolset.json \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	mkdir -p .build/fuzz-corpus .build/fuzz-artifacts
	ASAN_OPTIONS=detect_leaks=0 .build/fuzz/release/moesim-fuzz .build/fuzz-corpus scenarios fuzz/regressions \
	  -max_total_time=$(FUZZ_SECONDS) -timeout=20 -max_len=4096 -rss_limit_mb=4096 -detect_leaks=0 \
	  -artifact_prefix=.build/fuzz-artifacts/ $(FUZZ_FLAGS)

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
