# The LPN custom-op registrar for LiteRT / TensorFlow Lite: a host shared library built from the same kernel
# sources as the firmware. Used by lpn_tf/runtime/litert.py (which runs this for you).
#
#   make -f firmware/targets/litert/litert.mk            # -> build/firmware/litert/liblpn_litert.so
#   make -f firmware/targets/litert/litert.mk OUT=/tmp/x # elsewhere
#
# The library needs no TFLite headers or libraries at build time (tflite_abi.h declares the C ABI it
# uses); at run time the host process provides tflite::MutableOpResolver::AddCustom (docs/litert.md).

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../../..)
OUT ?= $(ROOT)/build/firmware/litert
HOST_CC ?= cc

include $(ROOT)/firmware/kernels/lpn_ops.mk
include $(ROOT)/firmware/runtime.mk

LITERT_DIR := $(ROOT)/firmware/targets/litert
# the option / code / requant rules come from the firmware runtime (LPN_CUSTOM_*, runtime.mk): one reader
LITERT_SOURCES := $(LITERT_DIR)/lpn_litert.c $(LPN_CUSTOM_SOURCES) $(LPN_OPS_SOURCES) \
	$(ROOT)/firmware/kernels/lpn_compute_padding.c $(ROOT)/firmware/kernels/lpn_status_string.c
LITERT_HEADERS := $(LITERT_DIR)/lpn_litert.h $(LITERT_DIR)/tflite_abi.h $(LPN_CUSTOM_HEADERS) \
	$(LPN_OPS_HEADERS)
# only the lpn_litert_* functions of lpn_litert.h are exported (version script); the kernels stay local
LITERT_EXTRA_CFLAGS ?=
LITERT_CFLAGS := $(LPN_OPS_CFLAGS) -O2 -g -fPIC $(LITERT_EXTRA_CFLAGS)
LITERT_CPPFLAGS := $(LPN_OPS_CPPFLAGS) -I$(LPN_RUNTIME_DIR)

.PHONY: litert
litert: $(OUT)/liblpn_litert.so

$(OUT)/liblpn_litert.so: $(LITERT_SOURCES) $(LITERT_HEADERS) $(LITERT_DIR)/exports.map $(LITERT_DIR)/litert.mk \
		$(ROOT)/firmware/kernels/lpn_ops.mk $(ROOT)/firmware/runtime.mk
	@mkdir -p $(OUT)
	$(HOST_CC) $(LITERT_CFLAGS) $(LITERT_CPPFLAGS) -shared -Wl,--version-script=$(LITERT_DIR)/exports.map \
		$(LITERT_SOURCES) -ldl -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@

# Sanitizer build of the options parser with a deterministic corruption driver (tests/test_litert_lpn.py).
.PHONY: options-fuzz
options-fuzz: $(OUT)/options_fuzz

$(OUT)/options_fuzz: $(LITERT_SOURCES) $(LITERT_HEADERS) $(LITERT_DIR)/options_fuzz.c $(LITERT_DIR)/litert.mk
	@mkdir -p $(OUT)
	$(HOST_CC) $(LPN_OPS_CFLAGS) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer $(LITERT_CPPFLAGS) $(LITERT_SOURCES) $(LITERT_DIR)/options_fuzz.c -ldl -o $@
