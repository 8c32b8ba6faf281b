# src/init: airlock, PID 1. Links libc and libcommon only (check-deps);
# syslogd and setuser are separate entry points in the same binary.
$(eval $(call static_lib,init,$(filter-out src/init/main.c,$(wildcard src/init/*.c))))
OBJS += $(B)/src/init/main.o

BINS += $(B)/airlock
$(B)/airlock: $(B)/src/init/main.o $(B)/libinit.a $(B)/libsyslogd.a $(B)/libprivdrop.a $(B)/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

UNIT_TESTS += init
test_init_DEPS := $(B)/libinit.a $(B)/libcommon.a
# systemd only for systemd-socket-activate, which test_init.sh runs to
# check socket activation; no daemon is started.
DEB_PKGS += systemd

ifeq ($(SSH),no)
CPPFLAGS += -DAIRLOCK_NO_SSH
endif

# The container environment and startup scripts; cron runs as a service.
DEB_PKGS += cron
UNIT_TESTS += environ startup
test_environ_DEPS := $(B)/libinit.a $(B)/libcommon.a
test_startup_DEPS := $(B)/libinit.a $(B)/libcommon.a
