# Real boards, part 2 (included at the end of firmware/Makefile; part 1 is select.mk):
#
#   make -C firmware board BOARD=nucleo-f446re MODEL=m.tflite [INPUT=x.bin] [LPN_KERNELS=ref|cortex-m]
#        [BOARD_OUT=dir]     -> $(BOARD_OUT)/lpn_board.elf, .bin, .map and the arm-none-eabi-size table
#   make -C firmware flash BOARD=nucleo-f446re MODEL=m.tflite   -> builds, then pyocd, else openocd
#
# The runtime and kernel objects are the QEMU runner's ($(RUNNER_OUT)/obj, compiled once per core and
# kernel variant) minus its semihosting main and QEMU profile hook; the board adds main.c (UART report),
# profile_dwt.c (DWT cycles per op) and its BOARD_SOURCES (clock, console). The ELF is relinked on every
# call (a second or less), so a different MODEL or INPUT can never leave a stale image.

.PHONY: board flash board-force

ifeq ($(BOARD),)
board flash:
	@echo "make $@: BOARD is not set; use make $@ BOARD=<name> MODEL=m.tflite (boards: $(LPN_BOARDS))" >&2; exit 2
else
BOARD_DIR := $(CM_DIR)/board
BOARD_BUILD := $(BUILD)/boards/$(BOARD)
BOARD_OUT ?= $(BOARD_BUILD)
BOARD_ELF := $(BOARD_OUT)/lpn_board.elf
BOARD_LD := $(BOARD_BUILD)/board.ld
BOARD_OBJCOPY := $(patsubst %gcc,%objcopy,$(CM_CC))
BOARD_SIZE := $(patsubst %gcc,%size,$(CM_CC))
PYOCD ?= pyocd
OPENOCD ?= openocd

BOARD_SHARED_OBJECTS := $(filter-out $(RUNNER_OUT)/obj/main.o $(RUNNER_OUT)/obj/profile_qemu.o,$(RUNNER_OBJECTS))
BOARD_C_SOURCES := $(BOARD_DIR)/main.c $(BOARD_DIR)/profile_dwt.c $(BOARD_SOURCES)
BOARD_OBJECTS := $(addprefix $(BOARD_BUILD)/obj/,$(notdir $(BOARD_C_SOURCES:.c=.o)))
BOARD_CFLAGS := $(RUNNER_CFLAGS) -I$(BOARD_DIR) $(BOARD_CPPFLAGS) -DLPN_BOARD_NAME='"$(BOARD)"' \
	-DLPN_BOARD_ARENA_BYTES=$(BOARD_ARENA_BYTES)u
BOARD_LDFLAGS := $(filter-out -T%,$(CM_LDFLAGS)) -T$(BOARD_LD) -Wl,--print-memory-usage

ifneq ($(filter board flash,$(MAKECMDGOALS)),)
ifeq ($(MODEL),)
$(error MODEL is not set: make $(filter board flash,$(MAKECMDGOALS)) BOARD=$(BOARD) MODEL=path/to/model.tflite)
endif
endif

board: $(BOARD_ELF)

define board_object
$(BOARD_BUILD)/obj/$(notdir $(1:.c=.o)): $(1) $(LIB_HEADERS) $(BOARD_DIR)/board.h $(BOARD_DIR)/profile_dwt.h \
		$(CM_DIR)/profile.h $(ROOT)/firmware/targets/cortex-m/boards/$(BOARD).mk
	@mkdir -p $$(dir $$@)
	$(CM_CC) $(BOARD_CFLAGS) -c $$< -o $$@
endef
$(foreach src,$(BOARD_C_SOURCES),$(eval $(call board_object,$(src))))

# The board's linker script: boards/generic.ld.in with the board's memory sizes.
$(BOARD_LD): $(CM_DIR)/boards/generic.ld.in $(ROOT)/firmware/targets/cortex-m/boards/$(BOARD).mk
	@mkdir -p $(dir $@)
	$(CM_CC) -E -P -x c -DFLASH_ORIGIN=$(BOARD_FLASH_ORIGIN) -DFLASH_LENGTH=$(BOARD_FLASH_LENGTH) \
		-DRAM_ORIGIN=$(BOARD_RAM_ORIGIN) -DRAM_LENGTH=$(BOARD_RAM_LENGTH) -DSTACK_BYTES=$(BOARD_STACK_BYTES) \
		$< -o $@.$$$$ && mv -f $@.$$$$ $@

$(BOARD_ELF): $(BOARD_SHARED_OBJECTS) $(BOARD_OBJECTS) $(BOARD_LD) $(CM_DIR)/sections.ld $(MODEL) $(INPUT) \
		$(CM_DIR)/runner/model.S $(BOARD_DIR)/input.S board-force
	@mkdir -p $(dir $@)
	$(CM_CC) $(CM_CFLAGS) -DLPN_MODEL_FILE='"$(abspath $(MODEL))"' -c $(CM_DIR)/runner/model.S -o $@.model.o
	$(CM_CC) $(CM_CFLAGS) $(if $(INPUT),-DLPN_INPUT_FILE='"$(abspath $(INPUT))"') -c $(BOARD_DIR)/input.S \
		-o $@.input.o
	$(CM_CC) $(CM_CFLAGS) $(BOARD_SHARED_OBJECTS) $(BOARD_OBJECTS) $@.model.o $@.input.o $(BOARD_LDFLAGS) \
		-Wl,-Map=$(basename $@).map -o $@.$$$$ && mv -f $@.$$$$ $@
	rm -f $@.model.o $@.input.o
	$(BOARD_OBJCOPY) -O binary $@ $(basename $@).bin
	$(BOARD_SIZE) $@

flash: $(BOARD_ELF)
	PYOCD='$(PYOCD)' OPENOCD='$(OPENOCD)' sh $(BOARD_DIR)/flash.sh $(BOARD_ELF) $(BOARD_PYOCD_TARGET) \
		$(BOARD_OPENOCD_CFG)
endif
