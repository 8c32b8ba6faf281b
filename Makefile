# airlock — one GNU Makefile, out-of-tree builds under $(B)/.
#
# Each module lives in src/<module>/ and describes itself in
# src/<module>/module.mk (its library, its binaries, its unit tests and the
# Debian packages it needs), so adding a module never edits this file.

B          ?= build
PREFIX     ?= /usr/local
CC         ?= gcc
PKG_CONFIG ?= pkg-config
SSH        ?= yes
FUZZ_B     ?= build-fuzz
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 30

# Warnings as errors and hardening (ARCHITECTURE.md, "Build"); callers may
# add to CFLAGS.
CFLAGS   ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -Isrc
CFLAGS   += -std=c17 -Wall -Wextra -Wpedantic -Werror -Wformat=2 -Wshadow \
            -Wstrict-prototypes -Wmissing-prototypes -Wvla \
            -fstack-protector-strong -fPIE
LDFLAGS  += -pie -Wl,-z,relro,-z,now
# Sanitizers (make asan), after the defaults so their -O1 wins.
CFLAGS   += $(SAN_CFLAGS)
LDFLAGS  += $(SAN_LDFLAGS)
DEPFLAGS  = -MMD -MP

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CPPFLAGS += -DAIRLOCK_VERSION='"$(VERSION)"'

# Packages every build and test needs; modules append theirs.
DEB_PKGS := build-essential pkg-config libcmocka-dev procps util-linux \
            psmisc iproute2 bsdutils tini debootstrap python3-yaml
LINT_PKGS := clang-format cppcheck shellcheck

BINS       :=
DEPS_CHECKS :=
UNIT_TESTS :=
OBJS       :=

CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

# Quiet builds: one short line per file; `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

.DELETE_ON_ERROR:
.SECONDARY:
.SECONDEXPANSION:
.DEFAULT_GOAL := all

# $(call static_lib,NAME,SOURCES) defines $(B)/libNAME.a from SOURCES.
define static_lib
$(1)_OBJS := $$(patsubst %.c,$$(B)/%.o,$(2))
OBJS += $$($(1)_OBJS)
$$(B)/lib$(1).a: $$($(1)_OBJS)
	@mkdir -p $$(@D)
	@echo "  AR      $$@"
	@# Made anew, never updated: a source that moved or went away must not
	@# leave its old object (and its old definitions) in the archive.
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^
endef

include $(sort $(wildcard src/*/module.mk))
include dist/dist.mk

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# Unit tests: tests/unit/test_<name>.c links the libraries in test_<name>_DEPS
# and extra linker flags (e.g. --wrap) in test_<name>_LDFLAGS.
$(B)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(CMOCKA_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/tests/unit/test_%: $(B)/tests/unit/test_%.o $$(test_$$*_DEPS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) $(test_$*_LDFLAGS) -o $@ $< $(test_$*_DEPS) $(CMOCKA_LIBS) $(test_$*_LDLIBS)

UNIT_BINS := $(patsubst %,$(B)/tests/unit/test_%,$(UNIT_TESTS))

# Small programs the integration tests run inside the namespaces.
TEST_HELPERS := $(patsubst tests/helpers/%.c,$(B)/tests/helpers/%,$(wildcard tests/helpers/*.c))
$(B)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<
# LD_PRELOAD shims the integration tests use to make a libc call fail.
TEST_HELPERS += $(patsubst tests/helpers/preload/%.c,$(B)/tests/helpers/%.so,$(wildcard tests/helpers/preload/*.c))
$(B)/tests/helpers/%.so: tests/helpers/preload/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ $< -ldl
OBJS += $(patsubst %,$(B)/tests/unit/test_%.o,$(UNIT_TESTS))

.PHONY: all deps test unit integration e2e asan lint format demo bench clean \
        install fuzz check-deps

all: $(BINS)

# Installs only what is missing, so it is quick when nothing is.
deps:
	@sh tests/install-deps.sh $(DEB_PKGS)
	@for check in $(DEPS_CHECKS); do sh $$check || exit 1; done

test: deps
	$(MAKE) all unit-bins test-helpers static deb
	$(MAKE) check-deps
	@sh tests/run-all.sh $(B)

unit-bins: $(UNIT_BINS)

test-helpers: $(TEST_HELPERS)

unit: $(UNIT_BINS)
	@sh tests/unit/run.sh $(B)

integration: all test-helpers
	@sh tests/integration/run.sh $(B)

# airlock in a real Debian root filesystem (debootstrap, cached under
# /var/cache/airlock-e2e), started as a container runtime would, in each
# mode: root, Docker's capability set, non-root with a read-only root.
e2e: deps all
	@bash tests/rootfs/run.sh $(B)

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, in their own
# build directory so objects never mix.
# SAN_* rather than CFLAGS=...: a variable set on make's command line
# overrides every `CFLAGS +=` here, which would drop the warnings, -Werror
# and the hardening flags from the sanitizer build.
asan: deps
	$(MAKE) B=build-asan \
	    SAN_CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    SAN_LDFLAGS="-fsanitize=address,undefined" unit

# PID 1 links libc only (ARCHITECTURE.md): nothing but libc.so.6 may be NEEDED.
check-deps: $(B)/airlock
	@needed=$$(readelf -d $(B)/airlock | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '); \
	if [ "$$needed" != "libc.so.6 " ]; then \
	    echo "check-deps: build/airlock must link libc only, links: $$needed"; exit 1; fi
	@if grep -rEn '#include *"(keys|sshd)/|libssh|sodium' src/init src/common; then \
	    echo "check-deps: init/common must not include SSH headers"; exit 1; fi

LINT_C   = $(shell git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 2>/dev/null)
LINT_SH  = $(shell git ls-files '*.sh' .ci/run 'etc/service/*/run' 'docker/*.sh' 2>/dev/null)

lint:
	@sh tests/install-deps.sh $(LINT_PKGS)
	clang-format --dry-run -Werror $(LINT_C)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	    --inline-suppr --std=c11 -D_GNU_SOURCE -Isrc \
	    --suppress=missingIncludeSystem $(filter %.c,$(LINT_C))
	shellcheck -x $(LINT_SH)

format:
	clang-format -i $(LINT_C)

demo: deps all
	@bash tests/demo.sh $(B)

# Every bench side by side with its peers (Debian packages), then
# bench/results/DATE.{md,json,svg}; BENCH_ONLY=init,sshd,syslog picks some.
bench: deps all test-helpers
	@bash bench/run.sh $(B)

fuzz: fuzz-keys fuzz-certs fuzz-syslogd fuzz-init fuzz-sshd

# Installed binaries are stripped (STRIP=true keeps the symbols); the ones
# in $(B) keep their debug information.
STRIP ?= strip
# my_init and sv are links to airlock, for phusion/baseimage images
# (README, "Migrating from phusion/baseimage"); with Debian's merged /usr,
# PREFIX=/usr puts them at /sbin/my_init and /sbin/sv too.
install: all
	for b in $(BINS); do install -D -m 0755 -s --strip-program=$(STRIP) $$b $(DESTDIR)$(PREFIX)/sbin/$$(basename $$b); done
	for l in my_init sv; do ln -sfn airlock $(DESTDIR)$(PREFIX)/sbin/$$l; done
	for m in $(MANS); do install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/$$(basename $$m); done

clean:
	rm -rf build build-asan build-fuzz build-static

-include $(OBJS:.o=.d)
