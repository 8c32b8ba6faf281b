# src/keys: authorized_keys parsing, options, sources, store, fingerprints,
# the watcher and the `airlock-sshd keys` front end; certificates and
# revocation (libsodium, and libcrypto for ECDSA/RSA CA signatures).
KEYS_CFLAGS = $(shell $(PKG_CONFIG) --cflags libsodium libcrypto 2>/dev/null)
KEYS_LIBS   = $(shell $(PKG_CONFIG) --libs libsodium libcrypto 2>/dev/null || echo -lsodium -lcrypto)
DEB_PKGS   += libsodium-dev libssl-dev openssh-client

$(eval $(call static_lib,keys,$(wildcard src/keys/*.c)))

$(B)/src/keys/%.o: CFLAGS += $(KEYS_CFLAGS)

# Unit tests: each tests/unit/test_keys*.c is its own binary.
KEYS_UNIT := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_keys*.c))
UNIT_TESTS += $(KEYS_UNIT)
$(foreach t,$(KEYS_UNIT),$(eval test_$(t)_DEPS := $$(B)/libkeys.a $$(B)/libcommon.a))
$(foreach t,$(KEYS_UNIT),$(eval test_$(t)_LDLIBS := $$(KEYS_LIBS)))

# A test-only front end (not installed, not in BINS): runs keys_cli_main
# without the SSH server, for the integration test when airlock-sshd is
# not built (make SSH=no).
OBJS += $(B)/tests/unit/keys_cli_driver.o
$(B)/tests/keys-cli: $(B)/tests/unit/keys_cli_driver.o $(B)/libkeys.a $(B)/libcommon.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(KEYS_LIBS)

# libFuzzer targets for the line parser, the options parser, the store
# reader and the from= matcher; a bounded run each. `make fuzz` depends on
# fuzz-keys (top-level Makefile).
FUZZ_B        ?= build-fuzz
FUZZ_TIME     ?= 30
FUZZ_CC       ?= clang
KEYS_FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                 -D_GNU_SOURCE -Isrc $(KEYS_CFLAGS)
KEYS_FUZZ_SRC  = $(filter-out src/keys/keys_cli.c src/keys/watch.c,$(wildcard src/keys/*.c)) \
                 src/common/log.c src/common/nbout.c src/common/path.c src/common/safeio.c \
                 src/common/strutil.c
.PHONY: fuzz-keys
fuzz-keys:
	@sh tests/install-deps.sh clang
	@mkdir -p $(FUZZ_B)/fuzz $(FUZZ_B)/fuzz/corpus-line $(FUZZ_B)/fuzz/corpus-options \
	    $(FUZZ_B)/fuzz/corpus-store $(FUZZ_B)/fuzz/corpus-from
	$(FUZZ_CC) $(KEYS_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_keys_line tests/fuzz/fuzz_keys_line.c $(KEYS_FUZZ_SRC) $(KEYS_LIBS)
	$(FUZZ_CC) $(KEYS_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_keys_options tests/fuzz/fuzz_keys_options.c $(KEYS_FUZZ_SRC) $(KEYS_LIBS)
	$(FUZZ_CC) $(KEYS_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_keys_store tests/fuzz/fuzz_keys_store.c $(KEYS_FUZZ_SRC) $(KEYS_LIBS)
	$(FUZZ_CC) $(KEYS_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_keys_from tests/fuzz/fuzz_keys_from.c $(KEYS_FUZZ_SRC) $(KEYS_LIBS)
	$(FUZZ_B)/fuzz/fuzz_keys_line -max_total_time=$(FUZZ_TIME) -max_len=9000 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-line tests/fuzz/corpus/keys_line
	$(FUZZ_B)/fuzz/fuzz_keys_options -max_total_time=$(FUZZ_TIME) -max_len=2048 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-options tests/fuzz/corpus/keys_options
	$(FUZZ_B)/fuzz/fuzz_keys_store -max_total_time=$(FUZZ_TIME) -max_len=40000 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-store tests/fuzz/corpus/keys_store
	$(FUZZ_B)/fuzz/fuzz_keys_from -max_total_time=$(FUZZ_TIME) -max_len=2048 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-from tests/fuzz/corpus/keys_from

# libFuzzer targets for the certificate parser/verifier (with the
# decision built on it) and the revocation list parser. Their seeds are
# made at fuzz time by ssh-keygen (tests/fuzz/cert_seeds.sh): nothing
# generated is committed. `make fuzz` depends on fuzz-certs.
.PHONY: fuzz-certs
fuzz-certs:
	@sh tests/install-deps.sh clang openssh-client
	@mkdir -p $(FUZZ_B)/fuzz/corpus-cert $(FUZZ_B)/fuzz/corpus-revoked
	$(FUZZ_CC) $(KEYS_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_keys_cert tests/fuzz/fuzz_keys_cert.c $(KEYS_FUZZ_SRC) $(KEYS_LIBS)
	$(FUZZ_CC) $(KEYS_FUZZ_FLAGS) -o $(FUZZ_B)/fuzz/fuzz_keys_revoked tests/fuzz/fuzz_keys_revoked.c $(KEYS_FUZZ_SRC) $(KEYS_LIBS)
	sh tests/fuzz/cert_seeds.sh $(FUZZ_B)/fuzz/seeds-cert $(FUZZ_B)/fuzz/seeds-revoked
	$(FUZZ_B)/fuzz/fuzz_keys_cert -max_total_time=$(FUZZ_TIME) -max_len=8192 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-cert $(FUZZ_B)/fuzz/seeds-cert
	$(FUZZ_B)/fuzz/fuzz_keys_revoked -max_total_time=$(FUZZ_TIME) -max_len=4096 \
	    -artifact_prefix=$(FUZZ_B)/fuzz/ \
	    $(FUZZ_B)/fuzz/corpus-revoked $(FUZZ_B)/fuzz/seeds-revoked

# test_keys_store injects EIO/EACCES into reads of chosen sources.
test_keys_store_LDFLAGS := -Wl,--wrap=read_all
