# The LPN custom-op kernels (include/lpn/lpn_ops.h): sources, headers and flags for every build that links
# them (tests, the LiteRT registrar; the firmware runtime once its adapters land). Include after ROOT is set.
#   LPN_OPS_SOURCES   the four kernels, one public function (+ *_get_buffer_size twin) per file
#   LPN_OPS_HEADERS   headers they depend on
#   LPN_OPS_CPPFLAGS  include paths; LPN_OPS_CFLAGS language and warning flags they are held to

LPN_OPS_DIR := $(ROOT)/firmware/kernels
LPN_OPS_NAMES := lpn_shift_conv_s8 lpn_shift_depthwise_conv_s8 lpn_shift_fully_connected_s8 lpn_quant_norm_s8
LPN_OPS_SOURCES := $(addprefix $(LPN_OPS_DIR)/,$(addsuffix .c,$(LPN_OPS_NAMES)))
LPN_OPS_HEADERS := $(ROOT)/firmware/include/lpn/lpn_ops.h $(ROOT)/firmware/include/lpn/kernels.h \
	$(LPN_OPS_DIR)/lpn_shift_common.h $(LPN_OPS_DIR)/lpn_kernel_util.h
LPN_OPS_CPPFLAGS := -I$(ROOT)/firmware/include -I$(LPN_OPS_DIR)
LPN_OPS_CFLAGS := -std=c99 -pedantic -Wall -Wextra -Werror
