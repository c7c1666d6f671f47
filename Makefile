# dock: a micro init for Linux containers.
# `make` builds build/dock, a static binary linked against musl.

VERSION  := 0.1.0
CC       := musl-gcc
HOSTCC   := gcc
BUILD    := build
PYTHON   := /usr/bin/python3

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?= -Os
CFLAGS   += -std=c11 $(WARN) -D_GNU_SOURCE -DDOCK_VERSION='"$(VERSION)"' \
            -ffunction-sections -fdata-sections -fstack-protector-strong \
            -fno-asynchronous-unwind-tables -fno-unwind-tables \
            -D_FORTIFY_SOURCE=2 -Isrc -I$(BUILD)/include
LDFLAGS  += -static -Wl,--gc-sections -s
# Code and constants every run uses go first in their segments, so that the
# kernel's fault-around maps only them (see src/hot.ld): a layout choice,
# kept out of LDFLAGS so that overriding those does not drop it.
LAYOUT   := -Wl,-T,src/hot.ld
MULTIARCH := $(shell gcc -print-multiarch)
LIBDIR   := /usr/lib/$(MULTIARCH)
# Debian's static archives of BearSSL (TLS) and zlib (gzip).
LIBS     := $(LIBDIR)/libbearssl.a $(LIBDIR)/libz.a
UNITLIBS := -lbearssl -lz

SRCS     := $(wildcard src/*.c)
OBJS     := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
# Unit tests link every module but main.c, built with the host compiler and
# sanitizers; the pure ones are what they exercise.
UNITSRC  := $(filter-out src/main.c src/compat.c,$(SRCS))
UNIT     := $(wildcard tests/unit/test_*.c)

.PHONY: all deps test unit integration demo bench fuzz clean
all: $(BUILD)/dock

# Packages by purpose (scripts/deps.sh): `make` and `make unit` need only the
# build ones, never Docker, qemu or the peer inits.
deps:
	@./scripts/deps.sh

# -MMD -MP: each object records the headers it includes, so a header change
# rebuilds exactly what uses it.
$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	@echo "  CC $<"; $(CC) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(OBJS:.o=.d)

# musl-gcc must not see glibc's /usr/include, so the libraries' headers are
# linked into a private include directory.
$(BUILD)/include/.stamp:
	@./scripts/deps.sh build
	@mkdir -p $(BUILD)/include
	ln -sf /usr/include/zlib.h /usr/include/zconf.h /usr/include/bearssl.h /usr/include/bearssl $(BUILD)/include/
	@touch $@

$(BUILD)/obj: $(BUILD)/include/.stamp
	@mkdir -p $@

$(BUILD)/dock: $(OBJS) src/hot.ld
	$(CC) $(LDFLAGS) $(LAYOUT) $(OBJS) $(LIBS) -o $@
	@file -L $@ | grep -qE 'statically linked|static-pie' || { echo "build/dock is not static" >&2; exit 1; }

$(BUILD)/unit: $(UNIT) $(UNITSRC) tests/unit/unit.h tests/unit/main.c $(wildcard src/*.h) | $(BUILD)/obj
	$(HOSTCC) -std=c11 $(WARN) -Wno-missing-prototypes -D_GNU_SOURCE -DDOCK_VERSION='"$(VERSION)"' \
		-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -Isrc \
		$(UNIT) $(UNITSRC) tests/unit/main.c -o $@ $(UNITLIBS)

unit: $(BUILD)/unit
	$(BUILD)/unit

integration: $(BUILD)/dock
	@./scripts/deps.sh integration containers
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

test:
	@./scripts/deps.sh build unit integration containers
	$(MAKE) $(BUILD)/dock $(BUILD)/unit
	$(BUILD)/unit
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

demo: $(BUILD)/dock
	@./scripts/deps.sh integration
	./scripts/demo.sh

# Every benchmark, dock beside its peers, into docs/benchmarks.md (bench/all.py;
# BENCH="--only core,ready" or "--quick" to run less).
bench: $(BUILD)/dock
	@./scripts/deps.sh bench
	$(PYTHON) bench/all.py $(BENCH)

# libFuzzer targets for every parser, each run for a bounded time.
fuzz:
	@./scripts/deps.sh build fuzz
	$(MAKE) -C tests/fuzz run

clean:
	rm -rf $(BUILD)

# ASan+UBSan build (glibc, dynamic) in build/asan/dock, then the unit and
# integration tests against it; see scripts/check-asan.sh.
.PHONY: check-asan
check-asan:
	@./scripts/deps.sh build unit integration containers
	./scripts/check-asan.sh

# Release artefacts (issue 6). `make arm64` cross-builds build/arm64/dock with
# Debian's gcc-aarch64-linux-gnu and musl-dev:arm64 (tests/integration/
# test_arm64.py runs it under qemu-aarch64-static). `make release` makes
# reproducible dist/dock-$(VERSION)-linux-{amd64,arm64}.tgz and .sha256 from
# clean builds; `make release-check` builds them twice in two directories and
# compares; `make size` links with a map and says where the bytes go.
ARM64_CC := aarch64-linux-gnu-gcc -specs /usr/lib/aarch64-linux-musl/musl-gcc.specs
.PHONY: arm64 release release-check size
arm64:
	@./scripts/deps.sh release
	$(MAKE) BUILD=$(BUILD)/arm64 CC="$(ARM64_CC)" LIBDIR=/usr/lib/aarch64-linux-gnu $(BUILD)/arm64/dock

release:
	@./scripts/deps.sh release
	./scripts/release.sh $(VERSION)

release-check:
	@./scripts/deps.sh release
	./scripts/reproducible-check.sh $(VERSION)

size:
	@./scripts/deps.sh build
	./scripts/size.sh
