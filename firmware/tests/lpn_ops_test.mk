# Build of the LPN custom-op kernel test (lpn_ops_test.c), driven by tests/test_lpn_kernels.py.
#
#   make -f firmware/tests/lpn_ops_test.mk host OUT=/tmp/lt            # host, -O2
#   make -f firmware/tests/lpn_ops_test.mk host SANITIZE=1 OUT=/tmp/lt # host, ASan + UBSan
#   make -f firmware/tests/lpn_ops_test.mk cm TARGET=m4 OUT=/tmp/lt    # Cortex-M ELF for QEMU (semihosting)
#
# LPN_KERNELS=cortex-m (kernels/variant.mk) builds it with the optimized kernels: lpn_ops_cm_test.mk.

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
TARGET ?= m4
OUT ?= $(ROOT)/build/firmware/lpn_ops_test
SANITIZE ?= 0
HOST_CC ?= cc

include $(ROOT)/firmware/kernels/lpn_ops.mk

TEST_NAME := lpn_ops_test
# lpn_status_string: the status names the test prints (a kernels.h function of the builtin kernel set).
TEST_SOURCES := $(ROOT)/firmware/tests/lpn_ops_test.c $(LPN_OPS_SOURCES) $(ROOT)/firmware/kernels/lpn_status_string.c
TEST_HEADERS := $(LPN_OPS_HEADERS) $(ROOT)/firmware/tests/lpn_test_util.h
TEST_CFLAGS := $(LPN_OPS_CFLAGS)
TEST_CPPFLAGS := $(LPN_OPS_CPPFLAGS)
TEST_CM_DEFINE := LPN_TEST_SEMIHOSTING
include $(ROOT)/firmware/tests/kernel_test_rules.mk
