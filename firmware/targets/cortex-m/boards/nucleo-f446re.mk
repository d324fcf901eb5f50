# ST NUCLEO-F446RE: STM32F446RE, Cortex-M4F, 512 KiB flash at 0x08000000, 128 KiB SRAM at 0x20000000.
# Console: USART2 on PA2 (TX) / PA3 (RX), AF7, wired to the ST-LINK virtual COM port; 115200 8N1.
# Clock: the reset default, HSI 16 MHz, no PLL (SYSCLK = HCLK = PCLK1 = 16 MHz, flash at 0 wait states).
# UNTESTED ON HARDWARE: it builds and links in CI, and its UART / DWT code runs under QEMU netduinoplus2.
#
# A board file sets parameters only (no trailing comments: make would keep the spaces before them);
# firmware/targets/cortex-m/board/board.mk builds from them. See docs/boards.md.

# The core, one of cortex-m.mk's targets: compiler flags and the shared runtime / kernel objects.
BOARD_TARGET := m4
BOARD_FLASH_ORIGIN := 0x08000000
BOARD_FLASH_LENGTH := 512K
BOARD_RAM_ORIGIN := 0x20000000
BOARD_RAM_LENGTH := 128K
BOARD_STACK_BYTES := 8K
# Static tensor arena in bytes (96 KiB); lpn_init reports over the UART what a model needs.
BOARD_ARENA_BYTES := 98304
# Clock and console of the board (register-level C, no vendor headers).
BOARD_SOURCES := $(ROOT)/firmware/targets/cortex-m/board/stm32f4_usart2.c
BOARD_CPPFLAGS := -DLPN_STM32F4_SYSCLK_HZ=16000000u -DLPN_STM32F4_PCLK1_HZ=16000000u -DLPN_STM32F4_BAUD=115200u
# Flashing: pyocd target name, else the openocd board configuration.
BOARD_PYOCD_TARGET := stm32f446retx
BOARD_OPENOCD_CFG := board/st_nucleo_f4.cfg
