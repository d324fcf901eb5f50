# Cortex-M toolchain settings, one table for every emulated target.
#   TARGET=m4  -> Cortex-M4,  QEMU mps2-an386
#   TARGET=m7  -> Cortex-M7,  QEMU mps2-an500
#   TARGET=m33 -> Cortex-M33, QEMU mps2-an505

CM_DIR := $(ROOT)/firmware/targets/cortex-m

CM_CPU_m4    := cortex-m4
CM_BOARD_m4  := mps2-an386
CM_CPU_m7    := cortex-m7
CM_BOARD_m7  := mps2-an500
CM_CPU_m33   := cortex-m33
CM_BOARD_m33 := mps2-an505

CM_CPU   := $(CM_CPU_$(TARGET))
CM_BOARD := $(CM_BOARD_$(TARGET))
ifeq ($(CM_CPU),)
$(error unknown TARGET '$(TARGET)': use m4, m7 or m33)
endif

CM_CC   ?= arm-none-eabi-gcc
CM_QEMU ?= qemu-system-arm

# No -ffreestanding: it turns every memcpy-based unaligned load into a library call.
# Soft-float ABI: the integer kernels use no floating point at all.
CM_CFLAGS := -mcpu=$(CM_CPU) -mthumb -mfloat-abi=soft -std=c99 -O2 -g \
	-Wall -Wextra -Werror -ffunction-sections -fdata-sections
CM_LDFLAGS := -nostartfiles --specs=nano.specs --specs=nosys.specs \
	-L$(CM_DIR) -T$(CM_DIR)/boards/$(CM_BOARD).ld -Wl,--gc-sections -Wl,--no-warn-rwx-segments

CM_SOURCES   := $(CM_DIR)/startup.c $(CM_DIR)/semihosting.c
CM_HEADERS   := $(CM_DIR)/semihosting.h
CM_LDSCRIPTS := $(CM_DIR)/sections.ld $(CM_DIR)/boards/$(CM_BOARD).ld

CM_QEMU_FLAGS := -M $(CM_BOARD) -nographic -monitor none -serial none \
	-chardev stdio,id=semihost -semihosting-config enable=on,target=native,chardev=semihost
