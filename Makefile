# Lightning DB — build, test, install.
#
#   make            library (build/liblightningdb.{a,so}) and build/lightning
#   make test       install deps, build, run every test; ends "N passed, N failed"
#   make test-asan  the tests under AddressSanitizer + UBSan (build/asan)
#   make test-tsan  the concurrency tests under ThreadSanitizer (build/tsan)
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

CPPFLAGS += -Iinclude -Isrc -Itests/common -D_GNU_SOURCE
CFLAGS   ?=
CFLAGS   += -std=c11 $(OPT) -g -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers \
            -fPIC -pthread -fno-strict-aliasing -MMD -MP
ifneq ($(SAN),)
CFLAGS   += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SAN)
endif
LDFLAGS  += -pthread

ENGINE_LIBS = -llz4 -lzstd
TOOL_LIBS   = -llmdb -lrocksdb -lleveldb -lsqlite3 -ljansson -linih -lm
TEST_LIBS   = -lcmocka

ENGINE_SRC := $(sort $(wildcard src/engine/*.c))
TOOLS_SRC  := $(sort $(wildcard src/bench/*.c src/perf/*.c $(filter-out src/cli/main.c,$(wildcard src/cli/*.c))))
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
# maintenance thread).
TSAN_TESTS = $(filter %concurrency %txn %bank %maintenance %multiget,$(TEST_BIN))
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
