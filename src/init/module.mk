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
UNIT_TESTS += environ startup stop
test_environ_DEPS := $(B)/libinit.a $(B)/libcommon.a
test_startup_DEPS := $(B)/libinit.a $(B)/libcommon.a
test_stop_DEPS := $(B)/libinit.a $(B)/libcommon.a

# libFuzzer targets for the flag/AIRLOCK_* parser and the container
# environment loader (file contents, .sh and .json); `make fuzz` runs each
# bounded. Like PID 1 they link libc, init and common code only.
INIT_FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                  -D_GNU_SOURCE -Isrc
.PHONY: fuzz-init
fuzz-init:
	@sh tests/install-deps.sh clang
	@mkdir -p $(FUZZ_B)/fuzz/corpus-init-config $(FUZZ_B)/fuzz/corpus-environ
	$(FUZZ_CC) $(INIT_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_init_config \
	    tests/fuzz/fuzz_init_config.c src/init/config.c $(wildcard src/common/*.c)
	$(FUZZ_CC) $(INIT_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_environ \
	    tests/fuzz/fuzz_environ.c src/init/environ.c $(wildcard src/common/*.c)
	$(FUZZ_B)/fuzz/fuzz_init_config -max_total_time=$(FUZZ_TIME) -max_len=4096 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-init-config tests/fuzz/corpus/init_config
	$(FUZZ_B)/fuzz/fuzz_environ -max_total_time=$(FUZZ_TIME) -max_len=16384 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-environ tests/fuzz/corpus/environ

# The service state table (svcstate.c), walked transition by transition.
UNIT_TESTS += svcstate
test_svcstate_DEPS := $(B)/libinit.a $(B)/libcommon.a
