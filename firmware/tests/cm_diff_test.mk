# Randomized differential test of the optimized Cortex-M kernels against the reference ones (cm_diff_test.c),
# driven by tests/test_kernels_cm_diff.py.
#
#   make -f firmware/tests/cm_diff_test.mk host [SANITIZE=1] OUT=/tmp/cd   # host, portable intrinsics
#   make -f firmware/tests/cm_diff_test.mk cm TARGET=m4 OUT=/tmp/cd        # Cortex-M ELF for QEMU

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
TARGET ?= m4
OUT ?= $(ROOT)/build/firmware/cm_diff_test
SANITIZE ?= 0
HOST_CC ?= cc
LPN_KERNELS := cortex-m

include $(ROOT)/firmware/kernels.mk
include $(ROOT)/firmware/kernels/lpn_ops.mk

TEST_NAME := cm_diff_test
# only the kernels under test (and lpn_compute_padding), to keep the builds short
TEST_SOURCES := $(ROOT)/firmware/tests/cm_diff_test.c $(filter $(foreach k,lpn_compute_padding lpn_conv_s8 \
	lpn_depthwise_conv_s8 lpn_fully_connected_per_channel_s8 lpn_add_s8 lpn_shift_conv_s8 \
	lpn_shift_depthwise_conv_s8 lpn_shift_fully_connected_s8 lpn_conv_lpn_s8 lpn_depthwise_conv_lpn_s8 \
	lpn_shift_check,%/$(k).c),$(LPN_KERNEL_SOURCES) $(LPN_OPS_SOURCES))
TEST_HEADERS := $(LPN_KERNEL_HEADERS) $(LPN_OPS_HEADERS) $(wildcard $(ROOT)/firmware/kernels/*.c) \
	$(ROOT)/firmware/tests/lpn_test_util.h
TEST_CFLAGS := $(LPN_KERNEL_CFLAGS)
TEST_CPPFLAGS := $(LPN_KERNEL_CPPFLAGS)
TEST_CM_DEFINE := LPN_TEST_SEMIHOSTING
include $(ROOT)/firmware/tests/kernel_test_rules.mk
