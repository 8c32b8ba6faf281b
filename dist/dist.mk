# dist/dist.mk: what is built to be shipped rather than tested: the static
# binaries (`make static`). Included by the Makefile after the modules.

# ---- make static -------------------------------------------------------------
# build-static/airlock and build-static/setuser, linked statically with musl
# (Debian's musl-tools) as static PIEs: they run in an empty root (scratch,
# distroless, Alpine) with nothing but themselves. airlock-sshd is not built
# here: libssh and libsodium stay shared libraries (README, "Static binaries").
# busybox-static is the static app of tests/integration/test_static.sh.
DEB_PKGS += musl-tools busybox-static

STATIC_B ?= build-static

.PHONY: static
static:
	@sh tests/install-deps.sh musl-tools
	$(MAKE) B=$(STATIC_B) STATIC=1 $(STATIC_B)/airlock $(STATIC_B)/setuser

ifeq ($(STATIC),1)
# Debian installs musl's headers and crt files under the musl triplet.
MUSL_TRIPLET ?= $(patsubst %-gnu,%-musl,$(shell gcc -dumpmachine))
MUSL_LIBDIR  ?= /usr/lib/$(MUSL_TRIPLET)
MUSL_INCDIR  ?= /usr/include/$(MUSL_TRIPLET)
MULTIARCH    ?= $(shell gcc -print-multiarch)
# musl-gcc is gcc with a specs file; Debian's always names the dynamic
# loader, so it cannot link a static PIE. Ours is the same file with rcrt1.o
# (the self-relocating start file) and a static-pie link line.
STATIC_SPECS := $(B)/musl-static-pie.specs
# musl ships no kernel headers; privdrop needs <linux/capability.h>. The
# kernel's own UAPI headers do not depend on the libc.
STATIC_UAPI  := $(B)/uapi
CPPFLAGS += -specs $(STATIC_SPECS) -isystem $(STATIC_UAPI)
LDFLAGS  += -specs $(STATIC_SPECS)

$(STATIC_SPECS): dist/musl-static-pie.specs.in
	@mkdir -p $(@D)
	@test -f $(MUSL_LIBDIR)/rcrt1.o || { echo "static: no $(MUSL_LIBDIR)/rcrt1.o (apt-get install musl-tools)"; exit 1; }
	sed -e 's|@MUSL_LIBDIR@|$(MUSL_LIBDIR)|g' -e 's|@MUSL_INCDIR@|$(MUSL_INCDIR)|g' $< >$@

$(STATIC_UAPI):
	@mkdir -p $@
	ln -sfn /usr/include/linux $@/linux
	ln -sfn /usr/include/asm-generic $@/asm-generic
	ln -sfn /usr/include/$(MULTIARCH)/asm $@/asm

$(OBJS): | $(STATIC_SPECS) $(STATIC_UAPI)
endif

# ---- man pages -----------------------------------------------------------------
# One plain-roff source per binary in man/, with @VERSION@ filled in here;
# `make install` puts them under $(PREFIX)/share/man/man8. groff-base gives
# the tests groff to check them with.
DEB_PKGS += groff-base
MANS := $(patsubst %,$(B)/man/%.8,$(notdir $(BINS)))

$(B)/man/%.8: man/%.8 VERSION
	@mkdir -p $(@D)
	@echo "  MAN     $@"
	$(Q)sed 's/@VERSION@/$(VERSION)/g' $< >$@

.PHONY: man
man: $(MANS)
all: $(MANS)
