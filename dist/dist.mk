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

# ---- make deb -----------------------------------------------------------------
# $(B)/airlock_VERSION_ARCH.deb with dpkg-deb: what `make install
# PREFIX=/usr` installs (stripped binaries, man pages, gzipped as Debian
# wants), the README and SECURITY.md, and the cron service as an example
# to link into /etc/service (a package must not start a service nobody
# asked for). Depends comes from dpkg-shlibdeps, with libssh-4 raised to
# the first build that checks AES-GCM tags.
DEB_ARCH       = $(shell dpkg --print-architecture)
DEB_MAINTAINER ?= airlock maintainers <maintainers@users.noreply.r-seed-6471da2b.example>
DEB_LIBSSH     := libssh-4 (>= 0.10.6-0+deb12u3)
DEB_FILE        = $(B)/airlock_$(VERSION)_$(DEB_ARCH).deb
DEB_STAGE      := $(B)/deb
DEB_ROOT       := $(DEB_STAGE)/debian/airlock

.PHONY: deb
deb: $(B)/airlock_$(VERSION)_$$(DEB_ARCH).deb

$(B)/airlock_$(VERSION)_%.deb: $(BINS) $(MANS) dist/deb/control.in README.md SECURITY.md \
        etc/service/cron/run VERSION
	@echo "  DEB     $@"
	$(Q)rm -rf $(DEB_STAGE)
	$(Q)$(MAKE) --no-print-directory -s install DESTDIR=$(abspath $(DEB_ROOT)) PREFIX=/usr
	@# Not the phusion links: a package's /usr/sbin/sv would shadow runit's
	@# /usr/bin/sv on a host that has runit.
	$(Q)rm -f $(DEB_ROOT)/usr/sbin/my_init $(DEB_ROOT)/usr/sbin/sv
	$(Q)gzip -9n $(DEB_ROOT)/usr/share/man/man8/*.8
	$(Q)install -D -m 0644 README.md $(DEB_ROOT)/usr/share/doc/airlock/README.md
	$(Q)install -D -m 0644 SECURITY.md $(DEB_ROOT)/usr/share/doc/airlock/SECURITY.md
	$(Q)install -D -m 0755 etc/service/cron/run $(DEB_ROOT)/usr/share/airlock/service/cron/run
	$(Q)mkdir -p $(DEB_ROOT)/DEBIAN
	$(Q)cd $(DEB_ROOT) && find usr -type f | LC_ALL=C sort | xargs md5sum >DEBIAN/md5sums
	$(Q): >$(DEB_STAGE)/debian/control
	$(Q)cd $(DEB_STAGE) && dpkg-shlibdeps -O debian/airlock/usr/sbin/* >shlibs.txt
	$(Q)deps=$$(sed -n 's/^shlibs:Depends=//p' $(DEB_STAGE)/shlibs.txt | \
	    sed 's/libssh-4 ([^)]*)/$(DEB_LIBSSH)/'); \
	size=$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1); \
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@ARCH@|$*|' \
	    -e 's|@MAINTAINER@|$(DEB_MAINTAINER)|' -e "s|@SIZE@|$$size|" \
	    -e "s|@DEPENDS@|$$deps|" dist/deb/control.in >$(DEB_ROOT)/DEBIAN/control
	$(Q)dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $@ >/dev/null
