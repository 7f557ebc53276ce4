# Lightning DB — build, test, install.
#
#   make            library (build/liblightningdb.{a,so}) and build/lightning
#   make test       install deps, build, run every test; ends "N passed, N failed"
#   make test-asan  the tests under AddressSanitizer + UBSan (build/asan)
#   make test-tsan  the concurrency tests under ThreadSanitizer (build/tsan)
#   make check-locks  clang -Wthread-safety over the engine (lock annotations)
#   make perf       the performance regression run (scripts/run_performance_regression_tests.sh)
#   make deps       install the Debian packages (idempotent, quiet when present)
#   make install PREFIX=/usr/local
#
# Sanitizer and other variant builds live in their own build directory, so
# they never mix objects with the optimised build.

CC       ?= gcc
BUILD    ?= build
PREFIX   ?= /usr/local
OPT      ?= -O2
SAN      ?=
WERROR   ?= -Werror

CPPFLAGS += -Iinclude -Isrc -Itests/common -I/usr/include/postgresql -D_GNU_SOURCE
CFLAGS   ?=
CFLAGS   += -std=c11 $(OPT) -g -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers \
            -fPIC -pthread -fno-strict-aliasing -MMD -MP
ifneq ($(SAN),)
# Sanitizer builds also check the engine's invariants (LDB_ASSERT, contract.h).
CPPFLAGS += -DLDB_CHECKS
CFLAGS   += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SAN)
endif
LDFLAGS  += -pthread

ENGINE_LIBS = -llz4 -lzstd
TOOL_LIBS   = -llmdb -lrocksdb -lleveldb -lsqlite3 -lpq -ljansson -linih -lm
TEST_LIBS   = -lcmocka

ENGINE_SRC := $(sort $(wildcard src/engine/*.c))
TOOLS_SRC  := $(sort $(wildcard src/util/*.c src/bench/*.c src/perf/*.c $(filter-out src/cli/main.c,$(wildcard src/cli/*.c))))
TESTCOMMON_SRC := $(sort $(wildcard tests/common/*.c))
TEST_SRC   := $(sort $(wildcard tests/unit/test_*.c tests/integration/test_*.c))
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/obj/%.o)
TOOLS_OBJ  := $(TOOLS_SRC:%.c=$(BUILD)/obj/%.o)
TESTCOMMON_OBJ := $(TESTCOMMON_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN   := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(TEST_SRC)))
EXAMPLE_BIN := $(patsubst %.c,$(BUILD)/examples/%,$(notdir $(EXAMPLE_SRC)))

LIB_A  := $(BUILD)/liblightningdb.a
LIB_SO := $(BUILD)/liblightningdb.so
TOOLS_A := $(BUILD)/liblightningtools.a
CLI    := $(BUILD)/lightning
DEPS_STAMP := build/.deps-ok

.PHONY: all deps test test-run test-asan test-tsan perf install uninstall clean examples check-tests
all: $(LIB_A) $(LIB_SO) $(CLI) $(EXAMPLE_BIN)

# The package check runs once per build tree; delete build/ to check again.
deps: | $(DEPS_STAMP)
$(DEPS_STAMP):
	@./scripts/deps.sh
	@mkdir -p $(dir $@) && touch $@

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB_A): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(ENGINE_OBJ)
	$(CC) -shared -Wl,-soname,liblightningdb.so.0 $(LDFLAGS) -o $@ $^ $(ENGINE_LIBS)

$(TOOLS_A): $(TOOLS_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CLI): $(BUILD)/obj/src/cli/main.o $(TOOLS_A) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(TOOL_LIBS) $(ENGINE_LIBS)

$(BUILD)/examples/%: examples/%.c $(TOOLS_A) $(LIB_A) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(TOOLS_A) $(LIB_A) $(LDFLAGS) $(TOOL_LIBS) $(ENGINE_LIBS)
examples: $(EXAMPLE_BIN)

# Every tests/{unit,integration}/test_*.c is its own cmocka program.
define test_rule
$(BUILD)/tests/$(notdir $(basename $(1))): $(BUILD)/obj/$(basename $(1)).o $(TESTCOMMON_OBJ) $(TOOLS_A) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(TOOL_LIBS) $$(ENGINE_LIBS) $$(TEST_LIBS)
endef
$(foreach t,$(TEST_SRC),$(eval $(call test_rule,$(t))))

# The README's test command. Test programs find the CLI through LIGHTNING_BIN.
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory test-run

test-run: $(TEST_BIN) $(CLI)
	@LIGHTNING_BIN=$(abspath $(CLI)) ./scripts/run_tests.sh $(TEST_BIN)

test-asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=address,undefined OPT=-O1 test-run

# ThreadSanitizer runs the tests with concurrent threads (readers, writers, the
# checkpoint and cleaner threads, the log's pre-faulting helper, and the
# durability races forced between them, and the index, hash and epoch unit
# tests' lock-free readers).
TSAN_TESTS = $(filter %concurrency %txn %bank %maintenance %multiget %log_mapping %durability %space %clock_step %verify_first \
             %test_index %test_hash %test_epoch,$(TEST_BIN))
test-tsan: deps
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN=thread OPT=-O1 tsan-run
tsan-run: $(TEST_BIN) $(CLI)
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" LIGHTNING_BIN=$(abspath $(CLI)) \
	    ./scripts/run_tests.sh $(TSAN_TESTS)

perf: deps
	./scripts/run_performance_regression_tests.sh

install: $(LIB_A) $(LIB_SO) $(CLI)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/liblightningdb.so.0
	ln -sf liblightningdb.so.0 $(DESTDIR)$(PREFIX)/lib/liblightningdb.so
	install -m 644 include/lightningdb.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' lightningdb.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lightningdb.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/liblightningdb.a $(DESTDIR)$(PREFIX)/lib/liblightningdb.so* \
	    $(DESTDIR)$(PREFIX)/include/lightningdb.h $(DESTDIR)$(PREFIX)/bin/lightning \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/lightningdb.pc

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# The build's flags are recorded in every benchmark result.
$(BUILD)/obj/src/bench/machine.o: CPPFLAGS += -DLDB_CFLAGS='"$(strip $(CFLAGS))"'

# ---- reliability: fuzzing and leak checks --------------------------------
#
#   make fuzz [FUZZ_SECONDS=N]  each libFuzzer target N seconds (default 60),
#                               clang-14 with ASan+UBSan, starting from the
#                               committed corpus fuzz/corpus/<target>; new
#                               inputs go to build/fuzz/corpus/<target>,
#                               crashers to build/fuzz/artifacts/ (commit a
#                               minimised crasher to fuzz/corpus/<target>/:
#                               `make test` then runs it, failing until fixed)
#   make test-valgrind          valgrind --leak-check=full over the quick
#                               unit and engine tests (VALGRIND_TESTS)
#
# `make test` needs no clang: it runs the committed corpus through the same
# targets built by gcc into build/tests/test_fuzz_corpus.

FUZZ_TARGETS := record checkpoint manifest api
FUZZ_HDRS    := $(wildcard fuzz/*.h)
FUZZ_REG_OBJ := $(FUZZ_TARGETS:%=$(BUILD)/obj/fuzz/reg_%.o)

$(BUILD)/obj/fuzz/reg_%.o: fuzz/fuzz_%.c $(FUZZ_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ifuzz $(CFLAGS) -DFUZZ_NO_MAIN -DLLVMFuzzerTestOneInput=fuzz_$*_one -c $< -o $@
$(BUILD)/tests/test_fuzz_corpus: $(FUZZ_REG_OBJ)
# The targets come after the library on the link line: link it once more.
$(BUILD)/tests/test_fuzz_corpus: TEST_LIBS += $(LIB_A) $(ENGINE_LIBS) -lcmocka
$(BUILD)/obj/tests/unit/test_fuzz_corpus.o: CPPFLAGS += -DFUZZ_CORPUS_DIR='"$(abspath fuzz/corpus)"'

FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/fuzz
FUZZ_CFLAGS  := -std=c11 -O1 -g -D_GNU_SOURCE -Iinclude -Isrc -Ifuzz -pthread \
                -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_ENGINE_OBJ := $(ENGINE_SRC:src/engine/%.c=$(FUZZ_BUILD)/obj/%.o)

.PHONY: fuzz fuzz-build fuzz-deps test-valgrind valgrind-run check-locks
# make check-locks: clang's -Wthread-safety over the engine; fails on a call
# that needs a mutex not held, or takes one already held (contract.h).
check-locks: fuzz-deps
	@fail=0; for f in $(ENGINE_SRC); do \
	    $(FUZZ_CC) -fsyntax-only -Iinclude -Isrc -D_GNU_SOURCE -std=c11 \
	        -Wthread-safety -Wthread-safety-beta -Werror $$f || fail=1; done; \
	    if [ $$fail = 0 ]; then echo "check-locks: the engine's lock annotations hold"; fi; exit $$fail
fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "make fuzz: installing clang" >&2; \
	    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends clang >&2; }

$(FUZZ_BUILD)/obj/%.o: src/engine/%.c | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_ENGINE_OBJ) | fuzz-deps
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_ENGINE_OBJ) -o $@ $(ENGINE_LIBS)

.SECONDARY: $(FUZZ_ENGINE_OBJ)
fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts; \
	    echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -timeout=20 -rss_limit_mb=4096 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
	        $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t >$(FUZZ_BUILD)/fuzz_$$t.log 2>&1; rc=$$?; \
	    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' \
	        $(FUZZ_BUILD)/fuzz_$$t.log; \
	    if [ $$rc -ne 0 ]; then tail -n 40 $(FUZZ_BUILD)/fuzz_$$t.log; \
	        echo "fuzz_$$t failed (exit $$rc): see $(FUZZ_BUILD)/fuzz_$$t.log and $(FUZZ_BUILD)/artifacts/"; \
	        exit 1; fi; \
	done

# Valgrind: the quick programs (the engine's fault-free unit-level paths,
# the OOM sweep, the corpus regression). Each runs through a wrapper script
# so scripts/run_tests.sh can total them like any test.
VALGRIND_TESTS = $(filter %/test_fuzz_corpus %/test_oom %/test_db_api %/test_db_model \
                 %/test_bench_hist %/test_bench_keygen %/test_perf_compare \
                 %/test_perf_suite %/test_perf_results,$(TEST_BIN))
VALGRIND_OPTS ?= --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
                 --error-exitcode=1 --track-origins=no --quiet
test-valgrind: deps
	@$(MAKE) --no-print-directory BUILD=build/valgrind OPT=-O1 valgrind-run
valgrind-run: $(VALGRIND_TESTS) $(CLI)
	@mkdir -p $(BUILD)/valgrind-wrap
	@for t in $(VALGRIND_TESTS); do \
	    w=$(BUILD)/valgrind-wrap/$$(basename $$t); \
	    printf '#!/bin/sh\nexec valgrind $(VALGRIND_OPTS) %s "$$@"\n' "$(abspath $(BUILD))/tests/$$(basename $$t)" > $$w; \
	    chmod +x $$w; done
	@LIGHTNING_BIN=$(abspath $(CLI)) ./scripts/run_tests.sh \
	    $(addprefix $(BUILD)/valgrind-wrap/,$(notdir $(VALGRIND_TESTS)))

# ---- machine-readable verdicts and CI templates ---------------------------
# These tests validate what they produce against the schemas in docs/schemas
# and run the CI templates of examples/ci: they need the source tree.
$(BUILD)/obj/tests/unit/test_perf_verdict.o: CPPFLAGS += -DPERF_SOURCE_DIR='"$(abspath .)"'
$(BUILD)/obj/tests/integration/test_perf_ci.o: CPPFLAGS += -DPERF_SOURCE_DIR='"$(abspath .)"'
$(BUILD)/obj/tests/integration/test_perf_verdict_cli.o: CPPFLAGS += -DPERF_SOURCE_DIR='"$(abspath .)"'
$(BUILD)/obj/tests/integration/test_perf_history_pg.o: CPPFLAGS += -DPERF_SOURCE_DIR='"$(abspath .)"'
$(BUILD)/obj/tests/integration/test_perf_testbeds.o: CPPFLAGS += -DPERF_SOURCE_DIR='"$(abspath .)"'
