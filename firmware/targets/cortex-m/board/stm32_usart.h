/*
 * The board.h functions of an STM32 board whose console is a USART wired to the ST-LINK virtual COM port:
 * register level, no vendor headers, clocks at their reset values (nothing to set up but the console).
 * Included once, by the board family's file (stm32f4_usart2.c, stm32h7_usart3.c), which first defines:
 *
 *   LPN_STM32_CORE_HZ, LPN_STM32_USART_HZ, LPN_STM32_BAUD   core clock, USART kernel clock (Hz), baud rate
 *   LPN_STM32_RCC_GPIO_EN, LPN_STM32_GPIO_EN_BIT            RCC register and bit enabling the GPIO port clock
 *   LPN_STM32_RCC_USART_EN, LPN_STM32_USART_EN_BIT          RCC register and bit enabling the USART clock
 *   LPN_STM32_GPIO                                          base address of the port (MODER at +0x00, PUPDR at
 *                                                           +0x0C, AFRL / AFRH at +0x20 / +0x24 on every STM32)
 *   LPN_STM32_TX_PIN                                        TX pin of the port; RX is the next pin, in the same AFR
 *   LPN_STM32_USART_AF                                      alternate function number of both pins
 *   LPN_STM32_CR1, _CR2, _CR3, _BRR, _STATUS, _TXDATA       USART register addresses (F4: SR / DR, H7: ISR / TDR)
 *   LPN_STM32_CR1_UE                                        CR1's USART enable bit (F4: 13, H7: 0)
 *
 * The shared bits: CR1.TE (3), CR1.RE (2), status TXE (7) and TC (6).
 */
#ifndef LPN_STM32_USART_H
#define LPN_STM32_USART_H

#include "board.h"

#define LPN_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

enum {
    GPIO_MODE_AF = 2u, /* MODER field value: alternate function */
    GPIO_PULL_UP = 1u, /* PUPDR field value */
    USART_CR1_RE = 1u << 2,
    USART_CR1_TE = 1u << 3,
    USART_STATUS_TC = 1u << 6,
    USART_STATUS_TXE = 1u << 7,
};

#define GPIO_MODER LPN_REG(LPN_STM32_GPIO + 0x00u)
#define GPIO_PUPDR LPN_REG(LPN_STM32_GPIO + 0x0Cu)
#define GPIO_AFR LPN_REG(LPN_STM32_GPIO + (LPN_STM32_TX_PIN < 8 ? 0x20u : 0x24u))
#define TX_PIN (LPN_STM32_TX_PIN)
#define RX_PIN (LPN_STM32_TX_PIN + 1)

/* Oversampling by 16: BRR = USARTDIV = round(kernel clock / baud) (on the F4: mantissa and 4 fraction bits,
 * the same number). */
#define USART_BRR_VALUE ((LPN_STM32_USART_HZ + LPN_STM32_BAUD / 2u) / LPN_STM32_BAUD)

void lpn_board_init(void) {
    LPN_REG(LPN_STM32_RCC_GPIO_EN) |= 1u << LPN_STM32_GPIO_EN_BIT;
    LPN_REG(LPN_STM32_RCC_USART_EN) |= 1u << LPN_STM32_USART_EN_BIT;
    (void)LPN_REG(LPN_STM32_RCC_USART_EN); /* read back: the clock runs before the first peripheral access */

    /* TX, RX: the USART's alternate function, RX with pull-up (idle high when nothing drives it). */
    GPIO_AFR = (GPIO_AFR & ~(0xFFu << (TX_PIN % 8 * 4))) | (LPN_STM32_USART_AF << (TX_PIN % 8 * 4)) |
               (LPN_STM32_USART_AF << (RX_PIN % 8 * 4));
    GPIO_PUPDR = (GPIO_PUPDR & ~(0xFu << (TX_PIN * 2))) | (GPIO_PULL_UP << (RX_PIN * 2));
    GPIO_MODER = (GPIO_MODER & ~(0xFu << (TX_PIN * 2))) | (GPIO_MODE_AF << (TX_PIN * 2)) |
                 (GPIO_MODE_AF << (RX_PIN * 2));

    /* 8 data bits, no parity, 1 stop bit, no FIFO, no flow control; BRR is written while UE = 0. */
    LPN_REG(LPN_STM32_CR1) = 0u;
    LPN_REG(LPN_STM32_CR2) = 0u;
    LPN_REG(LPN_STM32_CR3) = 0u;
    LPN_REG(LPN_STM32_BRR) = USART_BRR_VALUE;
    LPN_REG(LPN_STM32_CR1) = LPN_STM32_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

uint32_t lpn_board_core_hz(void) { return LPN_STM32_CORE_HZ; }

void lpn_board_putc(char c) {
    while ((LPN_REG(LPN_STM32_STATUS) & USART_STATUS_TXE) == 0u) {
    }
    LPN_REG(LPN_STM32_TXDATA) = (uint32_t)(uint8_t)c;
}

void lpn_board_flush(void) {
    while ((LPN_REG(LPN_STM32_STATUS) & USART_STATUS_TC) == 0u) {
    }
}

#endif
