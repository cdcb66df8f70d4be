# The two commands of the README: `make run` and `make test`.
BUILD        ?= build
BENCH_BUILD  ?= build-release
CONFIG       ?= examples/depositd.toml
JOBS         ?= 2
CMAKE_FLAGS  ?=

# ccache hits across clones of the same tree (CI builds a fresh clone).
export CCACHE_BASEDIR   := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all setup setup-test build run test unit integration bench demo clean check-config

all: build

# Installs what is missing (idempotent; fast when everything is there).
setup:
	@bash scripts/setup

# Also the test-only packages (chromium and playwright-core for the browser test).
setup-test:
	@bash scripts/setup --test

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/daemon/depositd --config $(CONFIG)

check-config: build
	$(BUILD)/daemon/depositd --config $(CONFIG) --check-config

# The test build runs under AddressSanitizer + UndefinedBehaviorSanitizer.
test: CMAKE_FLAGS += -DDEPOSITD_SANITIZE=ON
test: setup-test $(BUILD)/CMakeCache.txt
	cmake -S . -B $(BUILD) -DDEPOSITD_SANITIZE=ON
	cmake --build $(BUILD) -j$(JOBS)
	bash scripts/check-levels
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600

bench: setup
	cmake -S . -B $(BENCH_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPOSITD_BENCH=ON -DDEPOSITD_TESTS=OFF
	cmake --build $(BENCH_BUILD) -j$(JOBS)
	bash bench/run $(BENCH_BUILD)

demo: build
	python3 scripts/demo.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(BENCH_BUILD)
