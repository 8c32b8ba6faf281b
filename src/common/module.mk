# src/common: log, checked parsing, time, paths under AIRLOCK_ROOT, safe I/O.
$(eval $(call static_lib,common,$(wildcard src/common/*.c)))

UNIT_TESTS += common spawn
test_common_DEPS := $(B)/libcommon.a
test_spawn_DEPS := $(B)/libcommon.a
