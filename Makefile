# Lazuli's front door. `make demo` and `make test` work on a fresh Debian 12 machine as root.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
ASAN_DIR := build/asan
TSAN_DIR := build/tsan
REL_DIR := build/release
CMAKE ?= cmake
# Debian's interpreter (NumPy, pytest) when present: a pyenv python3 may have neither.
PYTHON ?= $(shell [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)

.PHONY: all deps build python demo test test-asan test-tsan test-release test-fuzz fuzz-build bench bench-compare fuzz stress install clean format ops-doc

all: build

deps:
	@sh scripts/install-deps.sh

$(REL_DIR)/Makefile: CMakeLists.txt
	$(CMAKE) -S . -B $(REL_DIR) -DCMAKE_BUILD_TYPE=Release -DLZ_WERROR=ON

build: deps $(REL_DIR)/Makefile
	$(CMAKE) --build $(REL_DIR) -j $(JOBS)

# The Python package lazuli in the build tree (lazuli.core and the pure-Python modules).
python: deps $(REL_DIR)/Makefile
	$(CMAKE) --build $(REL_DIR) -j $(JOBS) --target python
	@echo "Python package built; use it with:"
	@echo "  export PYTHONPATH=$(CURDIR)/$(REL_DIR)/python"

demo: build
	./scripts/demo.sh $(REL_DIR)

# Every test under ASan+UBSan (warnings as errors), the threading tests under TSan, then every
# test again in the optimised build. The pytest suite of the Python package is one of the
# CTest tests (python_tests) in both the ASan and the optimised builds.
test: deps test-asan test-tsan test-release test-fuzz

test-asan:
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DLZ_SANITIZE=ON -DLZ_WERROR=ON \
	  -DLZ_BUILD_BENCH=OFF -DCMAKE_C_FLAGS="-O1"
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 LZ_TEST_SMALL=1 ctest --output-on-failure -j $(JOBS)

# The threading tests under ThreadSanitizer: only the library and the tests that share arrays
# between threads are built (test_threads: the pool, threaded loops, async eval;
# test_concurrency: whole programs on 8 threads); any report fails.
TSAN_TESTS := test_threads test_concurrency
test-tsan:
	$(CMAKE) -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DLZ_TSAN=ON -DLZ_WERROR=ON \
	  -DLZ_BUILD_BENCH=OFF -DLZ_BUILD_EXAMPLES=OFF -DCMAKE_C_FLAGS="-O1"
	$(CMAKE) --build $(TSAN_DIR) -j $(JOBS) --target $(TSAN_TESTS)
	cd $(TSAN_DIR) && TSAN_OPTIONS="halt_on_error=1 exitcode=66" LZ_TEST_SMALL=1 \
	  ctest --output-on-failure -R '^($(subst $(eval) ,|,$(TSAN_TESTS)))$$'

test-release: $(REL_DIR)/Makefile
	$(CMAKE) --build $(REL_DIR) -j $(JOBS)
	cd $(REL_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	$(REL_DIR)/bench/lz_bench
	$(PYTHON) bench/bench_python.py $(REL_DIR)

bench-compare: build
	@sh scripts/install-deps.sh --bench
	$(PYTHON) bench/compare.py $(REL_DIR)/bench/lz_bench
	$(CMAKE) --build $(REL_DIR) -j $(JOBS) --target python
	PYTHONPATH=$(CURDIR)/$(REL_DIR)/python $(PYTHON) bench/py_train.py

FUZZ_DIR := build/fuzz
FUZZ_TARGETS := npy npz safetensors gguf export api
FUZZ_SECONDS ?= 60
# libFuzzer's options per target: the API fuzzer's tens of thousands of features make the
# entropic schedule's bookkeeping cost ~98% of its time (17 against ~1,000 executions/s).
FUZZ_OPTS = $$([ $$t = api ] && echo -entropic=0)

fuzz-build:
	CC=clang $(CMAKE) -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Debug -DLZ_FUZZ=ON -DLZ_WERROR=ON \
	  -DLZ_BUILD_TESTS=OFF -DLZ_BUILD_EXAMPLES=OFF -DLZ_BUILD_BENCH=OFF -DCMAKE_C_FLAGS="-O1"
	$(CMAKE) --build $(FUZZ_DIR) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))

# A short run of every fuzzer over its committed seed corpus (part of `make test`).
test-fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz_$$t (10 s)"; \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t && \
	  $(FUZZ_DIR)/fuzz/fuzz_$$t $(FUZZ_OPTS) -max_total_time=10 -rss_limit_mb=2048 -print_final_stats=0 \
	    $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t > $(FUZZ_DIR)/fuzz_$$t.log 2>&1 \
	    || { tail -40 $(FUZZ_DIR)/fuzz_$$t.log; exit 1; }; \
	done; echo "fuzz: all targets clean"

# Longer fuzzing: make fuzz FUZZ_SECONDS=600
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t && \
	  $(FUZZ_DIR)/fuzz/fuzz_$$t $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) $(FUZZ_DIR)/corpus/$$t \
	    fuzz/corpus/$$t || exit 1; \
	done

# Reliability, longer than `make test` (hours, not minutes): the whole-program allocation
# failures (the transformer's at every point, not every 7th) and 200 kills per format under
# ASan, the concurrency tests at full length under TSan, the soak (10^5 training steps,
# 10^6 op cycles) in the optimised build, then 10^6 executions of each fuzzer.
STRESS_FUZZ_RUNS ?= 1000000
stress: deps fuzz-build
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DLZ_SANITIZE=ON -DLZ_WERROR=ON \
	  -DLZ_BUILD_BENCH=OFF -DCMAKE_C_FLAGS="-O1"
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS) --target test_oom_programs test_oom_transformer \
	  test_kill_save
	$(CMAKE) -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DLZ_TSAN=ON -DLZ_WERROR=ON \
	  -DLZ_BUILD_BENCH=OFF -DLZ_BUILD_EXAMPLES=OFF -DCMAKE_C_FLAGS="-O1"
	$(CMAKE) --build $(TSAN_DIR) -j $(JOBS) --target $(TSAN_TESTS)
	$(CMAKE) -S . -B $(REL_DIR) -DCMAKE_BUILD_TYPE=Release -DLZ_WERROR=ON
	$(CMAKE) --build $(REL_DIR) -j $(JOBS) --target test_soak
	ASAN_OPTIONS=detect_leaks=1 $(ASAN_DIR)/tests/test_oom_programs
	ASAN_OPTIONS=detect_leaks=1 LZ_OOM_STRIDE=1 $(ASAN_DIR)/tests/test_oom_transformer
	for t in $(TSAN_TESTS); do \
	  TSAN_OPTIONS="halt_on_error=1 exitcode=66" $(TSAN_DIR)/tests/$$t || exit 1; done
	ASAN_OPTIONS=detect_leaks=1 LZ_KILL_TRIALS=200 $(ASAN_DIR)/tests/test_kill_save
	LZ_SOAK_STEPS=100000 LZ_SOAK_CYCLES=1000000 $(REL_DIR)/tests/test_soak
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz_$$t ($(STRESS_FUZZ_RUNS) runs)"; \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t && \
	  $(FUZZ_DIR)/fuzz/fuzz_$$t $(FUZZ_OPTS) -runs=$(STRESS_FUZZ_RUNS) -rss_limit_mb=2048 \
	    -print_final_stats=1 \
	    $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t > $(FUZZ_DIR)/stress_$$t.log 2>&1 \
	    || { tail -40 $(FUZZ_DIR)/stress_$$t.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|cov:' $(FUZZ_DIR)/stress_$$t.log | tail -2; \
	done; echo "stress: all clean"

# docs/ops.md: the op registry with flags and rules, from tools/ops_table.c (a test checks it).
ops-doc: $(REL_DIR)/Makefile
	$(CMAKE) --build $(REL_DIR) -j $(JOBS) --target ops_table
	$(REL_DIR)/tools/ops_table docs/ops.md

install: build
	$(CMAKE) --install $(REL_DIR)

format:
	clang-format -i include/*.h include/lazuli/*.h src/*/*.c src/*/*.h tests/*.c tests/*.h

clean:
	rm -rf build
