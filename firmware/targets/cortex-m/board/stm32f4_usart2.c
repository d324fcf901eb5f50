/*
 * STM32F4 console on USART2, PA2 = TX, PA3 = RX (alternate function 7): the ST-LINK virtual COM port
 * of the NUCLEO-F4 boards. Register-level (RM0390 for STM32F446: RCC section 6, GPIO section 7,
 * USART section 25); no vendor headers. The clock stays at its reset value (HSI); the board file passes
 * the core and APB1 clocks (LPN_STM32F4_SYSCLK_HZ, LPN_STM32F4_PCLK1_HZ) and the baud rate. The code is
 * stm32_usart.h's; this file gives the registers.
 */
#if !defined(LPN_STM32F4_SYSCLK_HZ) || !defined(LPN_STM32F4_PCLK1_HZ)
#error "the board file must set LPN_STM32F4_SYSCLK_HZ (core) and LPN_STM32F4_PCLK1_HZ (APB1, USART2) in Hz"
#endif
#ifndef LPN_STM32F4_BAUD
#define LPN_STM32F4_BAUD 115200u
#endif

/* 16 MHz / 115200 -> BRR 139 = 0x8B (mantissa 8, fraction 11): 115108 baud, -0.08 %. */
#define LPN_STM32_CORE_HZ LPN_STM32F4_SYSCLK_HZ
#define LPN_STM32_USART_HZ LPN_STM32F4_PCLK1_HZ
#define LPN_STM32_BAUD LPN_STM32F4_BAUD
/* RCC (base 0x40023800): AHB1ENR.GPIOAEN, APB1ENR.USART2EN. */
#define LPN_STM32_RCC_GPIO_EN 0x40023830u
#define LPN_STM32_GPIO_EN_BIT 0
#define LPN_STM32_RCC_USART_EN 0x40023840u
#define LPN_STM32_USART_EN_BIT 17
/* GPIOA, pins 2 and 3, AF7. */
#define LPN_STM32_GPIO 0x40020000u
#define LPN_STM32_TX_PIN 2
#define LPN_STM32_USART_AF 7u
/* USART2 (base 0x40004400): SR / DR layout. */
#define LPN_STM32_STATUS 0x40004400u
#define LPN_STM32_TXDATA 0x40004404u
#define LPN_STM32_BRR 0x40004408u
#define LPN_STM32_CR1 0x4000440Cu
#define LPN_STM32_CR2 0x40004410u
#define LPN_STM32_CR3 0x40004414u
#define LPN_STM32_CR1_UE (1u << 13)

#include "stm32_usart.h"
