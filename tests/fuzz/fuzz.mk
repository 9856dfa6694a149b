# tests/fuzz/fuzz.mk: builds the libFuzzer harnesses of tests/fuzz/ (style
# README "Tests", adversarial.md T-40).  Called by run.sh and replay.sh from
# the repository root, never by the main Makefile's own rules, and writes
# only under its own build folder, so it cannot race the shared build/opt
# and build/san trees.
#
#   make -f tests/fuzz/fuzz.mk MODE=fuzz     build/fuzz/bin/fuzz_NAME
#       clang, -fsanitize=fuzzer,address,undefined: the fuzzing binaries
#   make -f tests/fuzz/fuzz.mk MODE=replay   build/fuzz-replay/bin/fuzz_NAME
#       no libFuzzer: standalone.c runs each file given (ASan + UBSan)
#   make -f tests/fuzz/fuzz.mk MODE=cover    build/fuzz-cover/bin/fuzz_NAME
#       clang source-based coverage, for run.sh's per-harness report
#
# CJSON_SRC=DIR compiles DIR/cJSON.c into the harnesses (so coverage and the
# sanitizers reach it: toolchain.md item 8) instead of linking the system
# libcjson; run.sh fetches the Debian source of the installed version.

MODE	?= replay
CC_FUZZ	?= clang
CJSON_SRC ?=

PKGS	 = libpq libsodium libcjson
STD	 = -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g
# The project's warnings, without -Werror: clang warns about things gcc
# does not, and this build must not break on another engineer's file.
WARN	 = -Wall -Wextra -Wno-unused-parameter
INC	 = -iquote fcgi-app -iquote tests/fuzz
ifneq ($(CJSON_SRC),)
INC	+= -I$(CJSON_SRC)
endif
INC	+= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS	 = $(shell pkg-config --libs libpq libsodium 2>/dev/null) -lfcgi
ifeq ($(CJSON_SRC),)
LIBS	+= -lcjson
endif

ifeq ($(MODE),fuzz)
B	 = build/fuzz
CC_USE	 = $(CC_FUZZ)
SAN	 = -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=all
LIBCFLAGS = $(SAN) -fsanitize=fuzzer-no-link
LINK	 = $(SAN) -fsanitize=fuzzer
DRIVER	 =
else ifeq ($(MODE),cover)
B	 = build/fuzz-cover
CC_USE	 = $(CC_FUZZ)
LIBCFLAGS = -O0 -fprofile-instr-generate -fcoverage-mapping
LINK	 = -fprofile-instr-generate
DRIVER	 = $(B)/standalone.o
else
B	 = build/fuzz-replay
# gcc or clang, whichever is there: the replay needs no libFuzzer.
CC_USE	 = $(shell command -v $(CC_FUZZ) >/dev/null 2>&1 && echo $(CC_FUZZ) || echo cc)
SAN	 = -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=all
LIBCFLAGS = $(SAN)
LINK	 = $(SAN)
DRIVER	 = $(B)/standalone.o
endif

SRC	 = $(filter-out fcgi-app/main.c,$(wildcard fcgi-app/*.c))
OBJ	 = $(SRC:fcgi-app/%.c=$(B)/obj/%.o) $(B)/obj/refdata.o $(B)/obj/migrations.o
ifneq ($(CJSON_SRC),)
OBJ	+= $(B)/obj/cJSON.o
endif
HARN	 = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
BINS	 = $(HARN:%=$(B)/bin/fuzz_%)
REFCSV	 = $(sort $(wildcard sql/reference/*.csv))
MIGR	 = $(sort $(wildcard sql/migrations/*.sql))

all: $(BINS)

$(B)/obj/%.o: fcgi-app/%.c $(wildcard fcgi-app/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $< ($(MODE))"
	@$(CC_USE) $(STD) $(WARN) $(INC) $(LIBCFLAGS) -c -o $@ $<

$(B)/obj/cJSON.o: $(CJSON_SRC)/cJSON.c
	@mkdir -p $(dir $@)
	@echo "  CC      cJSON.c from $(CJSON_SRC) ($(MODE))"
	@$(CC_USE) -std=c99 -g -w -I$(CJSON_SRC) $(LIBCFLAGS) -c -o $@ $<

$(B)/obj/refdata.c: fcgi-app/gen-refdata.sh $(REFCSV)
	@mkdir -p $(dir $@)
	@sh fcgi-app/gen-refdata.sh $(REFCSV) > $@.tmp && mv $@.tmp $@

$(B)/obj/migrations.c: fcgi-app/gen-refdata.sh $(MIGR)
	@mkdir -p $(dir $@)
	@sh fcgi-app/gen-refdata.sh -n migration_files $(MIGR) > $@.tmp && mv $@.tmp $@

$(B)/obj/refdata.o: $(B)/obj/refdata.c
	@$(CC_USE) $(STD) $(INC) $(LIBCFLAGS) -c -o $@ $<

$(B)/obj/migrations.o: $(B)/obj/migrations.c
	@$(CC_USE) $(STD) $(INC) $(LIBCFLAGS) -c -o $@ $<

$(B)/libpcs.a: $(OBJ)
	@rm -f $@ && ar rcs $@ $^

$(B)/standalone.o: tests/fuzz/standalone.c
	@mkdir -p $(dir $@)
	@$(CC_USE) $(STD) $(WARN) $(LIBCFLAGS) -c -o $@ $<

$(B)/bin/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/harness.h $(B)/libpcs.a $(DRIVER)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC_USE) $(STD) $(WARN) $(INC) $(LIBCFLAGS) -o $@ $< $(DRIVER) \
	    $(B)/libpcs.a $(LINK) $(LIBS)

list:
	@echo $(HARN)

.PHONY: all list
