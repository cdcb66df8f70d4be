# The two commands of the README: `make run` and `make test`.
#
#   make run       install what the daemon needs, build it (Release, in
#                  build-run/), start it on $(CONFIG) with a local anvil devnet
#                  when the config points at one that is not running
#   make test      install what the tests need too, build with sanitizers (in
#                  build/), run every test
#   make demo      a devnet and one deposit end to end (uses build-run/)
#   make install   install as a systemd service (root; DESTDIR/PREFIX honoured)
BUILD        ?= build
RUN_BUILD    ?= build-run
BENCH_BUILD  ?= build-release
CONFIG       ?= examples/depositd.toml
JOBS         ?= 2
CMAKE_FLAGS  ?=
PREFIX       ?= /usr/local

# ccache hits across clones of the same tree (CI builds a fresh clone).
export CCACHE_BASEDIR   := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all setup setup-test build build-run run test unit integration bench demo clean check-config \
        install uninstall

all: build

# Installs what is missing (idempotent; fast when everything is there).
setup:
	@bash scripts/setup

# Also the test-only packages (chromium and playwright-core for the browser test).
setup-test:
	@bash scripts/setup --test

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

# The development build (with tests), in $(BUILD).
build: setup-test $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# What `make run`, `make demo` and `make install` use: optimised, no tests,
# never the sanitizer build of `make test`.
$(RUN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(RUN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPOSITD_TESTS=OFF

build-run: setup $(RUN_BUILD)/CMakeCache.txt
	cmake --build $(RUN_BUILD) -j$(JOBS)

run: build-run
	python3 scripts/run.py --build $(RUN_BUILD) --config $(CONFIG)

check-config: build-run
	$(RUN_BUILD)/daemon/depositd --config $(CONFIG) --check-config

# The test build runs under AddressSanitizer + UndefinedBehaviorSanitizer.
test: CMAKE_FLAGS += -DDEPOSITD_SANITIZE=ON
test: setup-test $(BUILD)/CMakeCache.txt
	cmake -S . -B $(BUILD) -DDEPOSITD_SANITIZE=ON
	cmake --build $(BUILD) -j$(JOBS)
	bash scripts/check-levels
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600

bench: setup-test
	cmake -S . -B $(BENCH_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPOSITD_BENCH=ON -DDEPOSITD_TESTS=OFF
	cmake --build $(BENCH_BUILD) -j$(JOBS)
	bash bench/run $(BENCH_BUILD)

demo: build-run
	python3 scripts/demo.py --build $(RUN_BUILD)

# systemd service: depositd user, /etc/depositd, binaries, unit (scripts/install).
install: build-run
	PREFIX=$(PREFIX) BUILD=$(RUN_BUILD) bash scripts/install

uninstall:
	PREFIX=$(PREFIX) bash scripts/install --uninstall

clean:
	rm -rf $(BUILD) $(RUN_BUILD) $(BENCH_BUILD)
