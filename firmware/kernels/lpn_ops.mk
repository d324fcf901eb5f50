# The LPN custom-op kernels (include/lpn/lpn_ops.h): sources, headers and flags for every build that links
# them (tests, the LiteRT registrar, the firmware runtime). Include after ROOT is set. The variant is
# LPN_KERNELS's (kernels/variant.mk: ref by default; cortex-m takes the optimized files of LPN_OPS_CM_NAMES).
#   LPN_OPS_SOURCES   the six kernels, one public function (+ *_get_buffer_size twin) per file
#   LPN_OPS_HEADERS   headers they depend on
#   LPN_OPS_CPPFLAGS  include paths; LPN_OPS_CFLAGS language and warning flags they are held to

include $(ROOT)/firmware/kernels/variant.mk

LPN_OPS_DIR := $(LPN_KERNEL_DIR)
LPN_OPS_NAMES := lpn_shift_conv_s8 lpn_shift_depthwise_conv_s8 lpn_shift_fully_connected_s8 lpn_quant_norm_s8 \
	lpn_conv_lpn_s8 lpn_depthwise_conv_lpn_s8
LPN_OPS_CM_NAMES := lpn_shift_conv_s8 lpn_shift_depthwise_conv_s8 lpn_shift_fully_connected_s8 \
	lpn_conv_lpn_s8 lpn_depthwise_conv_lpn_s8
# plus lpn_shift_check.c: the argument checks of the optimized variants, as functions (internal)
LPN_OPS_SOURCES := $(call lpn_variant_files,$(LPN_OPS_NAMES),$(LPN_OPS_CM_NAMES)) $(LPN_OPS_DIR)/lpn_shift_check.c
LPN_OPS_HEADERS := $(ROOT)/firmware/include/lpn/lpn_ops.h $(ROOT)/firmware/include/lpn/kernels.h \
	$(LPN_OPS_DIR)/lpn_shift_common.h $(LPN_OPS_DIR)/lpn_shift_check.h $(LPN_OPS_DIR)/lpn_shift_conv_core.h \
	$(LPN_OPS_DIR)/lpn_kernel_util.h $(if $(filter cortex-m,$(LPN_KERNELS)),$(wildcard $(LPN_OPS_DIR)/cortex-m/*.h))
LPN_OPS_CPPFLAGS := -I$(ROOT)/firmware/include -I$(LPN_OPS_DIR)
LPN_OPS_CFLAGS := -std=c99 -pedantic -Wall -Wextra -Werror
