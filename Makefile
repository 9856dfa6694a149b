# pcsurvey: see README.md.  Targets are cli.md's: make, run, stop, test,
# bench, fuzz.  `make SANITIZE=address,undefined` builds into build/san.

CC	?= cc
PKGS	 = libpq libsodium libcjson
WARN	 = -Wall -Wextra -Werror -Wpedantic -Wformat=2 -Wshadow \
	   -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wvla \
	   -Wswitch-enum -Wcast-qual -Wnull-dereference -fno-common
HARDEN	 = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS_PCS = -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g $(WARN) \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_PCS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi

ifdef SANITIZE
B	 = build/san
OPT	 = -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
LDHARD	 = -fsanitize=$(SANITIZE)
BIN	 = build/san/pcsurvey
else
B	 = build/opt
OPT	 = -O2 $(HARDEN)
LDHARD	 = -pie -Wl,-z,relro,-z,now
BIN	 = bin/pcsurvey
endif

SRC	 = $(wildcard fcgi-app/*.c)
LIBSRC	 = $(filter-out fcgi-app/main.c,$(SRC))
OBJ	 = $(LIBSRC:fcgi-app/%.c=$(B)/%.o) $(B)/refdata.o $(B)/migrations.o
UNIT	 = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
REFCSV	 = $(sort $(wildcard sql/reference/*.csv))
MIGR	 = $(sort $(wildcard sql/migrations/*.sql))

all: $(BIN)

$(BIN): $(B)/main.o $(B)/libpcs.a
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(LDHARD) -o $@ $^ $(LDLIBS_PCS)

$(B)/libpcs.a: $(OBJ)
	@rm -f $@ && ar rcs $@ $^

$(B)/%.o: fcgi-app/%.c $(wildcard fcgi-app/*.h) | $(B)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_PCS) $(OPT) -iquote fcgi-app -c -o $@ $<

$(B)/refdata.c: fcgi-app/gen-refdata.sh $(REFCSV) | $(B)
	sh fcgi-app/gen-refdata.sh $(REFCSV) > $@.tmp && mv $@.tmp $@

# The file list itself is a prerequisite: removing or renaming a migration
# rebuilds too (timestamps alone would not notice).
$(B)/migrations.list: FORCE | $(B)
	@echo '$(MIGR)' | cmp -s - $@ || echo '$(MIGR)' > $@

$(B)/migrations.c: fcgi-app/gen-refdata.sh $(MIGR) $(B)/migrations.list | $(B)
	sh fcgi-app/gen-refdata.sh -n migration_files $(MIGR) > $@.tmp && mv $@.tmp $@

FORCE:

$(B)/migrations.o: $(B)/migrations.c
	$(CC) $(CFLAGS_PCS) $(OPT) -iquote fcgi-app -c -o $@ $<

$(B)/refdata.o: $(B)/refdata.c
	$(CC) $(CFLAGS_PCS) $(OPT) -iquote fcgi-app -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libpcs.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_PCS) $(OPT) -iquote fcgi-app -Itests/unit -o $@ $< $(B)/libpcs.a \
	    $(LDLIBS_PCS) -lcmocka $(LDHARD)

$(B):
	mkdir -p $(B)

unit: $(UNIT)

# Runs each unit binary (cmocka prints its own totals); fails if any fails.
# `make test` runs them too, with valgrind and the sanitizer build.
check-unit: unit
	@rc=0; for t in $(UNIT); do echo "== $$t"; $$t || rc=1; done; exit $$rc

run:
	bash deploy/dev-stack.sh run

stop:
	bash deploy/dev-stack.sh stop

test:
	bash tests/run-all.sh

bench:
	python3 tests/bench/bench.py $(if $(QUICK),--quick)

fuzz:
	bash tests/fuzz/run.sh

clean:
	rm -rf build bin

.PHONY: all unit check-unit run stop test bench fuzz clean FORCE
