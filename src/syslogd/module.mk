# src/syslogd: the /dev/log collector, linked into build/airlock and run as
# `airlock syslogd` (libc + common only, like the rest of that binary).
$(eval $(call static_lib,syslogd,$(wildcard src/syslogd/*.c)))

UNIT_TESTS += syslogd
test_syslogd_DEPS := $(B)/libsyslogd.a $(B)/libcommon.a

# logger(1) from util-linux for the integration test; busybox and rsyslog
# only for bench/syslog.sh.
DEB_PKGS += bsdutils python3

# Test-only driver (not installed, not in BINS) so the integration test can
# run the collector before build/airlock dispatches `airlock syslogd`. It is
# built along with the unit tests.
OBJS += $(B)/tests/unit/syslogd_driver.o
$(B)/tests/syslogd-driver: $(B)/tests/unit/syslogd_driver.o $(B)/libsyslogd.a $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^
$(B)/tests/unit/test_syslogd: | $(B)/tests/syslogd-driver
