# Build rules of one self-checking kernel test program, host and Cortex-M (included last by lpn_ops_test.mk
# and cm_diff_test.mk, which set):
#   TEST_NAME      program name: $(OUT)/$(TEST_NAME)[_asan] on the host, $(OUT)/$(TEST_NAME)_$(TARGET).elf
#   TEST_SOURCES   .c files of the program; TEST_HEADERS its prerequisites besides them
#   TEST_CFLAGS    language and warning flags; TEST_CPPFLAGS include paths
#   TEST_CM_DEFINE the macro that switches the program to semihosting on Cortex-M
# Goals: host [SANITIZE=1] (ASan + UBSan), cm TARGET=m4|m7|m33. OUT, TARGET, SANITIZE, HOST_CC as documented there.

include $(ROOT)/firmware/targets/cortex-m/cortex-m.mk

HOST_CFLAGS := $(TEST_CFLAGS) -O2 -g
HOST_NAME := $(TEST_NAME)
ifeq ($(SANITIZE),1)
HOST_CFLAGS := $(TEST_CFLAGS) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_NAME := $(TEST_NAME)_asan
endif

.PHONY: host cm
host: $(OUT)/$(HOST_NAME)
cm: $(OUT)/$(TEST_NAME)_$(TARGET).elf

$(OUT)/$(HOST_NAME): $(TEST_SOURCES) $(TEST_HEADERS)
	@mkdir -p $(OUT)
	$(HOST_CC) $(HOST_CFLAGS) $(TEST_CPPFLAGS) $(TEST_SOURCES) -o $@

$(OUT)/$(TEST_NAME)_$(TARGET).elf: $(TEST_SOURCES) $(TEST_HEADERS) $(CM_SOURCES) $(CM_HEADERS) $(CM_LDSCRIPTS)
	@mkdir -p $(OUT)
	$(CM_CC) $(CM_CFLAGS) -pedantic -D$(TEST_CM_DEFINE) $(TEST_CPPFLAGS) -I$(CM_DIR) $(TEST_SOURCES) \
		$(CM_SOURCES) $(CM_LDFLAGS) -o $@
