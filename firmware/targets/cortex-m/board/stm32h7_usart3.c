/*
 * STM32H7 console on USART3, PD8 = TX, PD9 = RX (alternate function 7): the ST-LINK virtual COM port of
 * the NUCLEO-H7 (Nucleo-144) boards. Register-level (RM0433 for STM32H743: RCC section 8, GPIO section 12,
 * USART section 48; the H7 USART has the ISR / TDR register layout, not the F4's SR / DR); no vendor
 * headers. The clock stays at its reset value (HSI 64 MHz); the board file passes the core and APB1
 * clocks (LPN_STM32H7_SYSCLK_HZ, LPN_STM32H7_PCLK1_HZ) and the baud rate. USART3's kernel clock is
 * PCLK1 after reset (RCC_D2CCIP2R.USART234578SEL = 0). The code is stm32_usart.h's; this file gives the
 * registers (the H7 ports reset to MODER = 3, analog; stm32_usart.h sets the two pins' fields).
 */
#if !defined(LPN_STM32H7_SYSCLK_HZ) || !defined(LPN_STM32H7_PCLK1_HZ)
#error "the board file must set LPN_STM32H7_SYSCLK_HZ (core) and LPN_STM32H7_PCLK1_HZ (APB1, USART3) in Hz"
#endif
#ifndef LPN_STM32H7_BAUD
#define LPN_STM32H7_BAUD 115200u
#endif

/* 64 MHz / 115200 -> BRR 556 (115108 baud). */
#define LPN_STM32_CORE_HZ LPN_STM32H7_SYSCLK_HZ
#define LPN_STM32_USART_HZ LPN_STM32H7_PCLK1_HZ
#define LPN_STM32_BAUD LPN_STM32H7_BAUD
/* RCC (base 0x58024400), the CPU's enables: AHB4ENR.GPIODEN, APB1LENR.USART3EN. */
#define LPN_STM32_RCC_GPIO_EN 0x580244E0u
#define LPN_STM32_GPIO_EN_BIT 3
#define LPN_STM32_RCC_USART_EN 0x580244E8u
#define LPN_STM32_USART_EN_BIT 18
/* GPIOD, pins 8 and 9 (AFRH), AF7. */
#define LPN_STM32_GPIO 0x58020C00u
#define LPN_STM32_TX_PIN 8
#define LPN_STM32_USART_AF 7u
/* USART3 (base 0x40004800): ISR / TDR layout; TXE with the FIFO off (TXFNF). */
#define LPN_STM32_CR1 0x40004800u
#define LPN_STM32_CR2 0x40004804u
#define LPN_STM32_CR3 0x40004808u
#define LPN_STM32_BRR 0x4000480Cu
#define LPN_STM32_STATUS 0x4000481Cu
#define LPN_STM32_TXDATA 0x40004828u
#define LPN_STM32_CR1_UE (1u << 0)

#include "stm32_usart.h"
