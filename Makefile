# Lazuli's front door. `make demo` and `make test` work on a fresh Debian 12 machine as root.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
ASAN_DIR := build/asan
REL_DIR := build/release
CMAKE ?= cmake

.PHONY: all deps build demo test test-asan test-release bench bench-compare fuzz install clean format

all: build

deps:
	@sh scripts/install-deps.sh

$(REL_DIR)/Makefile: CMakeLists.txt
	$(CMAKE) -S . -B $(REL_DIR) -DCMAKE_BUILD_TYPE=Release -DLZ_WERROR=ON

build: deps $(REL_DIR)/Makefile
	$(CMAKE) --build $(REL_DIR) -j $(JOBS)

demo: build
	./scripts/demo.sh $(REL_DIR)

# Every test under ASan+UBSan (warnings as errors), then again in the optimised build.
test: deps test-asan test-release

test-asan:
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DLZ_SANITIZE=ON -DLZ_WERROR=ON \
	  -DLZ_BUILD_BENCH=OFF -DCMAKE_C_FLAGS="-O1"
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 LZ_TEST_SMALL=1 ctest --output-on-failure -j $(JOBS)

test-release: $(REL_DIR)/Makefile
	$(CMAKE) --build $(REL_DIR) -j $(JOBS)
	cd $(REL_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	$(REL_DIR)/bench/lz_bench

bench-compare: build
	@sh scripts/install-deps.sh --bench
	python3 bench/compare.py $(REL_DIR)/bench/lz_bench

install: build
	$(CMAKE) --install $(REL_DIR)

format:
	clang-format -i include/*.h include/lazuli/*.h src/*/*.c src/*/*.h tests/*.c tests/*.h

clean:
	rm -rf build
