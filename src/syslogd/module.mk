# src/syslogd: the /dev/log collector, linked into build/airlock and run as
# `airlock syslogd` (libc + common only, like the rest of that binary).
$(eval $(call static_lib,syslogd,$(wildcard src/syslogd/*.c)))

UNIT_TESTS += syslogd
test_syslogd_DEPS := $(B)/libsyslogd.a $(B)/libcommon.a

# logger(1) and python3 for the integration test (busybox and rsyslog are
# installed by bench/syslog.sh itself, as only the benchmark needs them).
DEB_PKGS += bsdutils python3

# libFuzzer target for the datagram parser; `make fuzz` runs it bounded.
.PHONY: fuzz-syslogd
fuzz-syslogd:
	@sh tests/install-deps.sh clang
	@mkdir -p $(FUZZ_B)/fuzz/corpus-syslog
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -D_GNU_SOURCE -Isrc -o $(FUZZ_B)/fuzz/fuzz_syslog tests/fuzz/fuzz_syslog.c \
	    src/syslogd/message.c src/common/utf8.c
	$(FUZZ_B)/fuzz/fuzz_syslog -max_total_time=$(FUZZ_TIME) -max_len=70000 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ $(FUZZ_B)/fuzz/corpus-syslog tests/fuzz/corpus/syslog
