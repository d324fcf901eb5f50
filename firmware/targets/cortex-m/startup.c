/*
 * Minimal Cortex-M startup shared by every lpn Cortex-M target (M4, M7, M33).
 *
 * The vector table holds the initial stack pointer and the reset handler; every
 * fault lands in a handler that reports through semihosting and exits with a
 * distinct status, so a crashed run under QEMU never hangs and never passes.
 * Reset copies .data from flash, zeroes .bss, calls main() and exits with its
 * return value.
 */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t __data_load__[];
extern uint32_t __data_start__[];
extern uint32_t __data_end__[];
extern uint32_t __bss_start__[];
extern uint32_t __bss_end__[];
extern uint32_t __stack_top__[];

int main(void);

void Reset_Handler(void);
void Fault_Handler(void);
void Default_Handler(void);

/* Exit status reported when a fault or an unexpected interrupt stops the program. */
enum { LPN_EXIT_FAULT = 0x7e, LPN_EXIT_UNEXPECTED_IRQ = 0x7d };

void Reset_Handler(void) {
    uint32_t *src = __data_load__;
    uint32_t *dst = __data_start__;
    while (dst < __data_end__) {
        *dst++ = *src++;
    }
    for (dst = __bss_start__; dst < __bss_end__; ++dst) {
        *dst = 0u;
    }
    lpn_semihost_exit(main());
}

void Fault_Handler(void) {
    lpn_semihost_write("lpn: hard fault\n");
    lpn_semihost_exit(LPN_EXIT_FAULT);
}

void Default_Handler(void) {
    lpn_semihost_write("lpn: unexpected interrupt\n");
    lpn_semihost_exit(LPN_EXIT_UNEXPECTED_IRQ);
}

typedef void (*lpn_vector_t)(void);

/* Core exceptions only: the runtime uses no peripheral interrupts. */
__attribute__((section(".vectors"), used)) static const lpn_vector_t lpn_vectors[16] = {
    (lpn_vector_t)(uintptr_t)__stack_top__, /* initial SP          */
    Reset_Handler,                          /* reset               */
    Fault_Handler,                          /* NMI                 */
    Fault_Handler,                          /* HardFault           */
    Fault_Handler,                          /* MemManage           */
    Fault_Handler,                          /* BusFault            */
    Fault_Handler,                          /* UsageFault          */
    Fault_Handler,                          /* SecureFault (v8-M)  */
    0,
    0,
    0,
    Default_Handler, /* SVCall   */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV   */
    Default_Handler, /* SysTick  */
};
