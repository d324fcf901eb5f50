# lpn runtime: the .tflite reader, resolver, op adapters, planner and executor (firmware/runtime/).
#
# Include after setting ROOT (the repository root); link with the kernels of firmware/kernels.mk and
# firmware/kernels/lpn_ops.mk (the op adapters call both). Outputs:
#   LPN_RUNTIME_SOURCES   .c files to compile and link (together with LPN_KERNEL_SOURCES)
#   LPN_RUNTIME_HEADERS   headers they depend on (for make prerequisites)
#   LPN_RUNTIME_CPPFLAGS  include paths
#   LPN_RUNTIME_CFLAGS    language and warning flags (C99, no extensions beyond a weak symbol)
#   LPN_CUSTOM_SOURCES    the LPN custom-op format rules (flexbuffer options reader, option / code / requant
#   LPN_CUSTOM_HEADERS    validation) on their own: part of the runtime, also linked by the LiteRT registrar

LPN_RUNTIME_DIR := $(ROOT)/firmware/runtime

LPN_RUNTIME_SOURCES := $(sort $(wildcard $(LPN_RUNTIME_DIR)/*.c)) $(sort $(wildcard $(LPN_RUNTIME_DIR)/ops/*.c))
LPN_RUNTIME_HEADERS := $(ROOT)/firmware/include/lpn/runtime.h $(wildcard $(LPN_RUNTIME_DIR)/*.h) \
	$(wildcard $(LPN_RUNTIME_DIR)/ops/*.h)
LPN_RUNTIME_CPPFLAGS := -I$(ROOT)/firmware/include -I$(LPN_RUNTIME_DIR)
LPN_RUNTIME_CFLAGS := -std=c99 -pedantic -Wall -Wextra -Werror
LPN_CUSTOM_SOURCES := $(LPN_RUNTIME_DIR)/flexbuffer.c $(LPN_RUNTIME_DIR)/lpn_custom.c
LPN_CUSTOM_HEADERS := $(LPN_RUNTIME_DIR)/flexbuffer.h $(LPN_RUNTIME_DIR)/lpn_custom.h
