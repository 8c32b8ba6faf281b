# src/syslogd: the /dev/log collector, linked into build/airlock and run as
# `airlock syslogd` (libc + common only, like the rest of that binary).
$(eval $(call static_lib,syslogd,$(wildcard src/syslogd/*.c)))

UNIT_TESTS += syslogd
test_syslogd_DEPS := $(B)/libsyslogd.a $(B)/libcommon.a

# logger(1) and python3 for the integration test (busybox and rsyslog are
# installed by bench/syslog.sh itself, as only the benchmark needs them).
DEB_PKGS += bsdutils python3
