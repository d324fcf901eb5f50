/*
 * What a real board provides to the board runner (main.c): its clock and a blocking console.
 * One source file per board family implements it (e.g. stm32f4_usart2.c); the board's make file
 * (targets/cortex-m/boards/<board>.mk) names that file in BOARD_SOURCES.
 */
#ifndef LPN_BOARD_H
#define LPN_BOARD_H

#include <stdint.h>

/* Sets up the core clock and the console UART. Called once, first thing in main(). */
void lpn_board_init(void);

/* Core clock in Hz after lpn_board_init() (what the DWT cycle counter counts). */
uint32_t lpn_board_core_hz(void);

/* Sends one byte on the console, waiting while the transmitter is busy. */
void lpn_board_putc(char c);

/* Waits until the last byte has left the transmitter (before halting or resetting). */
void lpn_board_flush(void);

#endif
