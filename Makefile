# Plexus: the two commands are `make demo` and `make test`. Everything else is a building block.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
ifneq ($(DUCKDB_ROOT),)
CMAKE_FLAGS += -DDUCKDB_ROOT=$(DUCKDB_ROOT)
endif

.PHONY: all bootstrap build test test-slow demo bench format clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Every test: unit and integration (GoogleTest), end to end against build/plexus.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -LE slow

test-slow: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -L slow

# The example mesh from descriptors to a cross-domain answer, then served on localhost.
demo: build
	@scripts/demo.sh

# Benchmarks: writes bench/results/*.json and *.md. BENCH_ORDERS sets the data size.
bench: build
	@BUILD=$(BUILD) scripts/bench.sh

format:
	@find src bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	@rm -rf $(BUILD)
