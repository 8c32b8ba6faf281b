# src/privdrop: dropping to a user (libprivdrop.a, shared by setuser and the
# SSH sessions) and build/setuser. libc + common only: capabilities are
# dropped with prctl/capset directly, no libcap.
$(eval $(call static_lib,privdrop,$(filter-out src/privdrop/setuser_main.c,$(wildcard src/privdrop/*.c))))
OBJS += $(B)/src/privdrop/setuser_main.o

BINS += $(B)/setuser
$(B)/setuser: $(B)/src/privdrop/setuser_main.o $(B)/libprivdrop.a $(B)/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# The unit test swaps in a small passwd/group database through --wrap (unknown
# names fall through to the real NSS calls).
UNIT_TESTS += privdrop
test_privdrop_DEPS := $(B)/libprivdrop.a $(B)/libcommon.a
test_privdrop_LDFLAGS := -Wl,--wrap=getpwnam_r,--wrap=getpwuid_r,--wrap=getgrnam_r,--wrap=getgrouplist
