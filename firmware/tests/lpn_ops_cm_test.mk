# The LPN custom-op kernel test of lpn_ops_test.mk (same program, same goals and outputs) built with the
# optimized Cortex-M kernels (LPN_KERNELS=cortex-m, firmware/kernels/variant.mk), driven by
# tests/test_lpn_kernels_cm.py. On the host the intrinsics are portable C; for TARGET=m4|m7|m33 the DSP ones.
#
#   make -f firmware/tests/lpn_ops_cm_test.mk host [SANITIZE=1] OUT=/tmp/lc
#   make -f firmware/tests/lpn_ops_cm_test.mk cm TARGET=m4 OUT=/tmp/lc

LPN_KERNELS := cortex-m
include $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/lpn_ops_test.mk
