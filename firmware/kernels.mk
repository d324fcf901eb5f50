# lpn kernels: the sources, headers and flags every build of the kernels uses (host, Cortex-M, tests).
#
# Include after setting ROOT (the repository root). Choose the variant with LPN_KERNELS (kernels/variant.mk):
#   LPN_KERNELS=ref       portable C99 reference kernels of firmware/kernels/ (default)
#   LPN_KERNELS=cortex-m  the same, with the files of firmware/kernels/cortex-m/ replacing their
#                         same-named reference files (Armv7E-M / Armv8-M Mainline DSP: M4, M7, M33)
# The LPN custom-op kernels are kernels/lpn_ops.mk's, which selects its variant by the same LPN_KERNELS.
# Outputs:
#   LPN_KERNEL_SOURCES   .c files to compile and link
#   LPN_KERNEL_HEADERS   headers they depend on (for make prerequisites)
#   LPN_KERNEL_CPPFLAGS  include paths (public firmware/include and the kernels' internal headers)
#   LPN_KERNEL_CFLAGS    language and warning flags the kernels are held to

include $(ROOT)/firmware/kernels/variant.mk

# One public function (and its *_get_buffer_size twin) per file; file name = function name.
LPN_KERNEL_NAMES := \
	lpn_status_string lpn_compute_padding \
	lpn_conv_s8 lpn_depthwise_conv_s8 lpn_fully_connected_s8 lpn_fully_connected_per_channel_s8 \
	lpn_add_s8 lpn_avg_pool_s8 lpn_max_pool_s8 lpn_mean_s8 lpn_softmax_s8

# Kernels with an optimized Cortex-M file in firmware/kernels/cortex-m/.
LPN_KERNEL_CM_NAMES := lpn_conv_s8 lpn_depthwise_conv_s8 lpn_fully_connected_s8 lpn_fully_connected_per_channel_s8 \
	lpn_add_s8

LPN_KERNEL_SOURCES := $(call lpn_variant_files,$(LPN_KERNEL_NAMES),$(LPN_KERNEL_CM_NAMES))
LPN_KERNEL_HEADERS := $(ROOT)/firmware/include/lpn/kernels.h $(ROOT)/firmware/include/lpn/fixed_point.h \
	$(wildcard $(LPN_KERNEL_DIR)/*.h) $(wildcard $(LPN_KERNEL_DIR)/cortex-m/*.h)
LPN_KERNEL_CPPFLAGS := -I$(ROOT)/firmware/include -I$(LPN_KERNEL_DIR)
LPN_KERNEL_CFLAGS := -std=c99 -pedantic -Wall -Wextra -Werror
