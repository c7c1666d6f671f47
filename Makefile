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
            -D_FORTIFY_SOURCE=2 -Isrc -Isrc/lib -I$(BUILD)/include
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

# The commit the build came from, for `dock --version` (tini's format, which
# `docker info` reads): the short hash, "-dirty" when tracked files differ
# from it. Computed once, and only when this directory is the top of a git
# checkout: a source tree unpacked elsewhere (or inside another project's
# repository) builds with no commit. `make COMMIT=...` (or COMMIT in the
# environment, as scripts/reproducible-check.sh does for its copies) wins.
ifeq ($(origin COMMIT),undefined)
COMMIT := $(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
	c=$$(git rev-parse --short HEAD 2>/dev/null) && \
	{ git diff --quiet HEAD -- 2>/dev/null || c=$$c-dirty; } && echo $$c)
endif
ifneq ($(shell printf '%s' '$(COMMIT)' | tr -d '0-9A-Za-z-'),)
$(error COMMIT may hold only letters, digits and '-' (dockerd splits it on '.'): '$(COMMIT)')
endif

# src/lib/ holds the pure code: parsers and formatters that make no system
# call (scripts/check-lib-purity.sh checks it), linked by the fuzz targets
# on their own; src/ holds what does I/O.
SRCS     := $(wildcard src/*.c src/lib/*.c)
HDRS     := $(wildcard src/*.h src/lib/*.h)
OBJS     := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
# Unit tests link every module but main.c, built with the host compiler and
# sanitizers; the pure ones are what they exercise.
UNITSRC  := $(filter-out src/main.c src/compat.c,$(SRCS))
UNIT     := $(wildcard tests/unit/test_*.c)

.PHONY: all deps test unit integration demo bench fuzz fuzz-replay clean help
all: $(BUILD)/dock

# Packages by purpose (scripts/deps.sh): `make` and `make unit` need only the
# build ones, never Docker, qemu or the peer inits.
deps:
	@./scripts/deps.sh

# -MMD -MP: each object records the headers it includes, so a header change
# rebuilds exactly what uses it.
$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	@mkdir -p $(dir $@); echo "  CC $<"; $(CC) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(OBJS:.o=.d)

# Only main.c prints the commit; the stamp changes (and main.o is rebuilt)
# only when the commit does, so a new commit never leaves a stale --version.
$(BUILD)/obj/main.o: $(BUILD)/commit
$(BUILD)/obj/main.o: CFLAGS += -DDOCK_COMMIT='"$(COMMIT)"'
$(BUILD)/commit: FORCE | $(BUILD)/obj
	@printf '%s\n' '$(COMMIT)' | cmp -s - $@ || printf '%s\n' '$(COMMIT)' >$@
.PHONY: FORCE
FORCE:

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

$(BUILD)/unit: $(UNIT) $(UNITSRC) tests/unit/unit.h tests/unit/main.c $(HDRS) | $(BUILD)/obj
	$(HOSTCC) -std=c11 $(WARN) -Wno-missing-prototypes -D_GNU_SOURCE -DDOCK_VERSION='"$(VERSION)"' \
		-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -Isrc -Isrc/lib \
		$(UNIT) $(UNITSRC) tests/unit/main.c -o $@ $(UNITLIBS)

# `make unit SUITES="rotate loop"` runs those suites only (`build/unit -l`
# lists them; a name also selects its sub-suites: rotate = test_rotate_*).
unit: $(BUILD)/unit
	$(BUILD)/unit $(SUITES)

integration: $(BUILD)/dock
	@./scripts/deps.sh integration containers
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

# The purity check first: src/lib may make no system call (see the script).
test:
	@./scripts/deps.sh build unit integration containers
	./scripts/check-lib-purity.sh
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

# Every committed corpus input (the seeds and each fixed crash) run once
# through its target: the fuzz regression tests, in seconds.
fuzz-replay:
	@./scripts/deps.sh build fuzz
	$(MAKE) -C tests/fuzz replay

clean:
	rm -rf $(BUILD)

# ASan+UBSan build (glibc, dynamic) in build/asan/dock, then the unit and
# integration tests against it; see scripts/check-asan.sh.
.PHONY: check-asan
check-asan:
	@./scripts/deps.sh build unit integration containers
	./scripts/check-asan.sh

# Release artefacts (scripts/arch.sh lists the architectures and how each is
# built; docs/release.md says which Debian 12 cannot build and why).
#   make arm64 / armhf / i386 / ppc64el / s390x
#                     cross-build build/ARCH/dock (tests/integration/
#                     test_cross_arch.py runs each under qemu-user-static)
#   make release      every artefact of every architecture into dist/, from
#                     clean builds: dock-VERSION-linux-ARCH.tgz (+ .sha256),
#                     dock_VERSION_ARCH.deb, dock-VERSION-oci.tar, SHA256SUMS
#   make release-check  builds them twice in two directories and compares
#   make deb          dist/dock_VERSION_{amd64,arm64}.deb (DEB_ARCHS=...)
#   make image        dist/dock-VERSION-oci.tar, an OCI image of /dock
#   make install      build/dock and the man page under DESTDIR/PREFIX
#   make size         links with a map and says where the bytes go
CROSS_ARCHS := arm64 armhf i386 ppc64el s390x
DEB_ARCHS   := amd64 arm64
PREFIX      := /usr/local
DESTDIR     :=
BINDIR       = $(PREFIX)/bin
MANDIR       = $(PREFIX)/share/man
.PHONY: $(CROSS_ARCHS) release release-check deb image install uninstall size print-commit
$(CROSS_ARCHS):
	@./scripts/deps.sh release
	. ./scripts/arch.sh && $(MAKE) BUILD=$(BUILD)/$@ CC="$$(arch_cc $@)" LIBS="$$(arch_libs $@)" $(BUILD)/$@/dock

release:
	@./scripts/deps.sh release
	./scripts/release.sh $(VERSION)

release-check:
	@./scripts/deps.sh release
	./scripts/reproducible-check.sh $(VERSION)

deb:
	@./scripts/deps.sh release
	for a in $(DEB_ARCHS); do ./scripts/deb.sh $(VERSION) $$a || exit 1; done

image:
	@./scripts/deps.sh build
	./scripts/image.sh $(VERSION) amd64

# PREFIX=/usr DESTDIR=/tmp/stage as packagers expect; the man page is
# installed gzipped, as man(1) finds it.
install: $(BUILD)/dock
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BUILD)/dock $(DESTDIR)$(BINDIR)/dock
	gzip -9 -n <docs/dock.1 >$(DESTDIR)$(MANDIR)/man1/dock.1.gz.tmp
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/dock.1.gz.tmp
	mv $(DESTDIR)$(MANDIR)/man1/dock.1.gz.tmp $(DESTDIR)$(MANDIR)/man1/dock.1.gz

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/dock $(DESTDIR)$(MANDIR)/man1/dock.1.gz

size:
	@./scripts/deps.sh build
	./scripts/size.sh

print-commit:
	@echo '$(COMMIT)'

# What each target is for; keep it beside the targets it lists.
help:
	@echo 'make                build/dock (static, musl); needs scripts/deps.sh build'
	@echo 'make unit           build/unit and every unit suite (SUITES="rotate loop": only those)'
	@echo 'make integration    the integration suite (as root; runc and docker)'
	@echo 'make test           build, unit and integration, as CI runs them'
	@echo 'make check-asan     unit and integration against an ASan+UBSan build (build/asan/dock)'
	@echo 'make fuzz           every libFuzzer target for FUZZ_SECONDS (default 20) each'
	@echo 'make fuzz-replay    every committed fuzz corpus input once (regressions)'
	@echo 'make bench          the benchmarks against tini, dumb-init, catatonit, s6'
	@echo 'make demo           a short demonstration (scripts/demo.sh)'
	@echo 'make arm64          cross build build/arm64/dock (likewise armhf i386 ppc64el s390x)'
	@echo 'make armhf          cross build build/armhf/dock'
	@echo 'make i386           cross build build/i386/dock'
	@echo 'make ppc64el        cross build build/ppc64el/dock'
	@echo 'make s390x          cross build build/s390x/dock'
	@echo 'make release        reproducible dist/: archives, .debs, OCI image, every architecture'
	@echo 'make deb            dist/dock_VERSION_ARCH.deb'
	@echo 'make image          dist/dock-VERSION-oci.tar, an OCI image holding /dock'
	@echo 'make install        build/dock and the man page into $$(DESTDIR)$$(PREFIX)'
	@echo 'make uninstall      what make install put there'
	@echo 'make print-commit   the commit --version names'
	@echo 'make release-check  the release built twice and compared'
	@echo 'make size           where the bytes of build/dock go'
	@echo 'make deps           install the packages of every purpose (scripts/deps.sh)'
	@echo 'make clean          remove build/'
	@echo 'One test: build/unit NAME (build/unit -l lists them);'
	@echo '  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_X.py -k NAME'
