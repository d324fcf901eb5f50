# Real boards, part 1 (included by firmware/Makefile before cortex-m.mk): with BOARD=<name>, reads
# targets/cortex-m/boards/<name>.mk and sets TARGET to the board's core, so the compiler flags and the
# runtime / kernel objects are those of the QEMU runner for the same core (m4, m7 or m33).

LPN_BOARDS := $(sort $(basename $(notdir $(wildcard $(ROOT)/firmware/targets/cortex-m/boards/*.mk))))

ifneq ($(BOARD),)
ifeq ($(filter $(BOARD),$(LPN_BOARDS)),)
$(error unknown BOARD '$(BOARD)': known boards are $(LPN_BOARDS) (targets/cortex-m/boards/<name>.mk))
endif
include $(ROOT)/firmware/targets/cortex-m/boards/$(BOARD).mk
override TARGET := $(BOARD_TARGET)
endif
