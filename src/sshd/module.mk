# src/sshd: airlock-sshd (libssh + libsodium). `make SSH=no` leaves it out.
ifneq ($(SSH),no)
SSH_PKGS   := libssh libsodium libcrypto
SSH_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(SSH_PKGS) 2>/dev/null)
SSH_LIBS    = $(shell $(PKG_CONFIG) --libs $(SSH_PKGS) 2>/dev/null || echo -lssh -lsodium -lcrypto)
# The e2e tests drive the real OpenSSH client, sftp and ssh-audit, and
# paramiko for raw-message attacks (tests/e2e/authority_attack.py) and a
# client that ignores the channel window (bench/sshd.sh installs the
# servers it compares with itself).
DEB_PKGS   += libssh-dev libsodium-dev openssh-client openssh-sftp-server \
              ssh-audit python3 python3-paramiko
# tests/e2e/test_record.sh plays the session recordings back.
DEB_PKGS   += asciinema
# libssh-4 before 0.10.6-0+deb12u3 does not check AES-GCM tags.
DEPS_CHECKS += tests/e2e/check-libssh-version.sh

$(eval $(call static_lib,sshd,$(filter-out src/sshd/main.c,$(wildcard src/sshd/*.c))))
OBJS += $(B)/src/sshd/main.o

$(B)/src/sshd/%.o: CFLAGS += $(SSH_CFLAGS)

BINS += $(B)/airlock-sshd
$(B)/airlock-sshd: $(B)/src/sshd/main.o $(B)/libsshd.a $(B)/libkeys.a $(B)/libprivdrop.a $(B)/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SSH_LIBS)

SSHD_UNIT := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_sshd*.c))
UNIT_TESTS += $(SSHD_UNIT)
$(foreach t,$(SSHD_UNIT),$(eval test_$(t)_DEPS := $$(B)/libsshd.a $$(B)/libkeys.a $$(B)/libprivdrop.a $$(B)/libcommon.a))
$(foreach t,$(SSHD_UNIT),$(eval test_$(t)_LDLIBS := $$(SSH_LIBS)))
endif

# A libssh client for protocol edge cases in tests/e2e (not installed).
ifneq ($(SSH),no)
OBJS += $(B)/tests/e2e/sshd_probe.o
$(B)/tests/e2e/sshd_probe.o: tests/e2e/sshd_probe.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(SSH_CFLAGS) $(DEPFLAGS) -c -o $@ $<
$(B)/tests/sshd-probe: $(B)/tests/e2e/sshd_probe.o
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SSH_LIBS)
# `make test` builds `all unit-bins` before running the suites.
unit-bins: $(B)/tests/sshd-probe
endif

# libFuzzer targets for the AIRLOCK_SSH_* parser, the recording encoder
# and request parser (tests/fuzz/fuzz_sshd_record.c), and for both ends of the
# key authority protocol (the listener parses what a possibly compromised
# pre-auth process sends); `make fuzz` runs each bounded. They need
# libsodium (keys), not libssh, so they build with SSH=no too.
# record.c (AIRLOCK_SSH_RECORD_* is read by config.c) and what it uses.
SSHD_RECORD_FUZZ_SRC = src/sshd/record.c src/sshd/authority.c src/sshd/audit.c \
                       src/common/utf8.c src/common/timeutil.c
.PHONY: fuzz-sshd
fuzz-sshd:
	@sh tests/install-deps.sh clang
	@mkdir -p $(FUZZ_B)/fuzz/corpus-sshd-config $(FUZZ_B)/fuzz/corpus-sshd-authority
	$(FUZZ_CC) $(KEYS_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_sshd_config \
	    tests/fuzz/fuzz_sshd_config.c src/sshd/config.c src/sshd/limits.c \
	    $(SSHD_RECORD_FUZZ_SRC) $(KEYS_FUZZ_SRC) $(KEYS_LIBS)
	$(FUZZ_CC) $(KEYS_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_sshd_authority \
	    tests/fuzz/fuzz_sshd_authority.c src/sshd/authority.c \
	    src/common/timeutil.c $(KEYS_FUZZ_SRC) $(KEYS_LIBS)
	$(FUZZ_CC) $(KEYS_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_sshd_record \
	    tests/fuzz/fuzz_sshd_record.c $(SSHD_RECORD_FUZZ_SRC) \
	    $(KEYS_FUZZ_SRC) $(KEYS_LIBS)
	$(FUZZ_B)/fuzz/fuzz_sshd_config -max_total_time=$(FUZZ_TIME) -max_len=12000 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-sshd-config tests/fuzz/corpus/sshd_config
	$(FUZZ_B)/fuzz/fuzz_sshd_authority -max_total_time=$(FUZZ_TIME) \
	    -max_len=16385 -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-sshd-authority tests/fuzz/corpus/sshd_authority
	@mkdir -p $(FUZZ_B)/fuzz/corpus-sshd-record
	$(FUZZ_B)/fuzz/fuzz_sshd_record -max_total_time=$(FUZZ_TIME) \
	    -max_len=16384 -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-sshd-record tests/fuzz/corpus/sshd_record
