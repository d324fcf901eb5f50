# ST NUCLEO-H743ZI / NUCLEO-H743ZI2: STM32H743ZI, Cortex-M7, 2 MiB flash at 0x08000000; RAM: the 128 KiB
# DTCM at 0x20000000 (zero wait states, no cache involved).
# Console: USART3 on PD8 (TX) / PD9 (RX), AF7, wired to the ST-LINK virtual COM port; 115200 8N1.
# Clock: the reset default, HSI 64 MHz, no PLL (SYSCLK = HCLK = PCLK1 = 64 MHz, USART3 kernel clock =
# PCLK1); caches off, as after reset.
# UNTESTED ON HARDWARE, and not emulated by QEMU: it is only built and linked in CI.
#
# A board file sets parameters only (no trailing comments: make would keep the spaces before them);
# firmware/targets/cortex-m/board/board.mk builds from them. See docs/boards.md.

# The core, one of cortex-m.mk's targets: compiler flags and the shared runtime / kernel objects.
BOARD_TARGET := m7
BOARD_FLASH_ORIGIN := 0x08000000
BOARD_FLASH_LENGTH := 2048K
BOARD_RAM_ORIGIN := 0x20000000
BOARD_RAM_LENGTH := 128K
BOARD_STACK_BYTES := 8K
# Static tensor arena in bytes (96 KiB); lpn_init reports over the UART what a model needs.
BOARD_ARENA_BYTES := 98304
# Clock and console of the board (register-level C, no vendor headers); the M7's DWT needs its unlock.
BOARD_SOURCES := $(ROOT)/firmware/targets/cortex-m/board/stm32h7_usart3.c
BOARD_CPPFLAGS := -DLPN_STM32H7_SYSCLK_HZ=64000000u -DLPN_STM32H7_PCLK1_HZ=64000000u -DLPN_STM32H7_BAUD=115200u \
	-DLPN_DWT_UNLOCK=1
# Flashing: pyocd target name, else the openocd board configuration.
BOARD_PYOCD_TARGET := stm32h743zitx
BOARD_OPENOCD_CFG := board/st_nucleo_h743zi.cfg
