# Baton: the two commands that matter are `make run` and `make test`.
JOBS ?= $(shell nproc)
CONFIG ?= config/baton.yaml
RELEASE_DIR := build/release
TEST_DIR := build/asan

.PHONY: deps build run test unit integration e2e bench bench-micro clean check docker-test

deps:
	./scripts/install-deps.sh

build: deps
	cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DBATON_BUILD_TESTS=OFF
	cmake --build $(RELEASE_DIR) -j $(JOBS) --target baton

run: build
	$(RELEASE_DIR)/baton --config $(CONFIG)

# Debug + ASan/UBSan build of everything, then unit, integration and end-to-end tests.
test: deps
	cmake -S . -B $(TEST_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBATON_SANITIZE="address;undefined"
	cmake --build $(TEST_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(TEST_DIR) --output-on-failure -j 2
	BATON_BIN=$(TEST_DIR)/baton ./tests/e2e/run.sh

check: build
	$(RELEASE_DIR)/baton --check $(CONFIG)

bench:
	./bench/run.sh

# Google Benchmark micro-benchmarks of the hot pieces (scan + rewrite, features, plan, PII scan).
bench-micro: deps
	cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DBATON_BUILD_TESTS=OFF -DBATON_BUILD_BENCH=ON
	cmake --build build/bench -j $(JOBS)
	for b in build/bench/bench/*_bench; do $$b --benchmark_min_time=0.2; done

# Builds docker/Dockerfile with podman and checks the image for real (docs/docker.md).
docker-test:
	./scripts/docker-test.sh

clean:
	rm -rf build
