# Build of the LPN custom-op kernel test (lpn_ops_test.c), driven by tests/test_lpn_kernels.py.
#
#   make -f firmware/tests/lpn_ops_test.mk host OUT=/tmp/lt            # host, -O2
#   make -f firmware/tests/lpn_ops_test.mk host SANITIZE=1 OUT=/tmp/lt # host, ASan + UBSan
#   make -f firmware/tests/lpn_ops_test.mk cm TARGET=m4 OUT=/tmp/lt    # Cortex-M ELF for QEMU (semihosting)

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
TARGET ?= m4
OUT ?= $(ROOT)/build/firmware/lpn_ops_test
SANITIZE ?= 0
HOST_CC ?= cc

include $(ROOT)/firmware/kernels/lpn_ops.mk
include $(ROOT)/firmware/targets/cortex-m/cortex-m.mk

TEST := $(ROOT)/firmware/tests/lpn_ops_test.c
# lpn_status_string: the status names the test prints (a kernels.h function of the builtin kernel set).
SOURCES := $(TEST) $(LPN_OPS_SOURCES) $(ROOT)/firmware/kernels/lpn_status_string.c
HOST_CFLAGS := $(LPN_OPS_CFLAGS) -O2 -g
HOST_NAME := lpn_ops_test
ifeq ($(SANITIZE),1)
HOST_CFLAGS := $(LPN_OPS_CFLAGS) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_NAME := lpn_ops_test_asan
endif

.PHONY: host cm
host: $(OUT)/$(HOST_NAME)
cm: $(OUT)/lpn_ops_test_$(TARGET).elf

$(OUT)/$(HOST_NAME): $(SOURCES) $(LPN_OPS_HEADERS)
	@mkdir -p $(OUT)
	$(HOST_CC) $(HOST_CFLAGS) $(LPN_OPS_CPPFLAGS) $(SOURCES) -o $@

$(OUT)/lpn_ops_test_$(TARGET).elf: $(SOURCES) $(LPN_OPS_HEADERS) $(CM_SOURCES) $(CM_HEADERS) $(CM_LDSCRIPTS)
	@mkdir -p $(OUT)
	$(CM_CC) $(CM_CFLAGS) -pedantic -DLPN_OPS_TEST_SEMIHOSTING $(LPN_OPS_CPPFLAGS) -I$(CM_DIR) $(SOURCES) \
		$(CM_SOURCES) $(CM_LDFLAGS) -o $@
