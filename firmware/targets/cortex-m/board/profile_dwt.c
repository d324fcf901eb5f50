/*
 * lpn_profile_mark() for real boards: the DWT cycle counter read at each op's begin and end mark.
 * Register addresses are architectural (Armv7-M ARM, C1.6 / C1.8), the same on every vendor's part.
 */
#include "profile_dwt.h"

#define LPN_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define DEMCR LPN_REG(0xE000EDFCu)      /* Debug Exception and Monitor Control */
#define DWT_CTRL LPN_REG(0xE0001000u)   /* DWT control */
#define DWT_CYCCNT LPN_REG(0xE0001004u) /* cycle count */
#define DWT_LAR LPN_REG(0xE0001FB0u)    /* CoreSight lock access (Cortex-M7 only) */

enum {
    DEMCR_TRCENA = 1u << 24,
    DWT_CTRL_CYCCNTENA = 1u << 0,
    DWT_CTRL_NOCYCCNT = 1u << 25,
};
#define DWT_LAR_UNLOCK 0xC5ACCE55u

static uint32_t begin_cycles;
static uint32_t op_cycles[LPN_DWT_MAX_OPS];

int lpn_dwt_init(void) {
    DEMCR |= DEMCR_TRCENA;
#if defined(LPN_DWT_UNLOCK) && LPN_DWT_UNLOCK
    DWT_LAR = DWT_LAR_UNLOCK; /* Cortex-M7: the DWT ignores writes until unlocked */
#endif
    if ((DWT_CTRL & DWT_CTRL_NOCYCCNT) != 0u) {
        return 0;
    }
    DWT_CYCCNT = 0u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    /* Read back: a DWT that ignores writes (locked, or not modelled: QEMU) leaves CYCCNTENA clear. */
    return (DWT_CTRL & DWT_CTRL_CYCCNTENA) != 0u;
}

uint32_t lpn_dwt_now(void) { return DWT_CYCCNT; }

uint32_t lpn_dwt_op_cycles(uint32_t op_index) { return op_index < LPN_DWT_MAX_OPS ? op_cycles[op_index] : 0u; }

/* Overrides the runtime's weak empty hook: one counter read per mark, as early as possible in the end
 * mark and as late as possible in the begin mark, so an op's count holds little of the hook itself. */
void lpn_profile_mark(uint32_t op_index, uint32_t phase) {
    if (phase == LPN_PROFILE_END) {
        const uint32_t now = DWT_CYCCNT;
        if (op_index < LPN_DWT_MAX_OPS) {
            op_cycles[op_index] = now - begin_cycles; /* modulo 2^32: one wrap is harmless */
        }
        return;
    }
    begin_cycles = DWT_CYCCNT;
}
