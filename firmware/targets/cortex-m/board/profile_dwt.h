/*
 * Per-op cycle counts from the Cortex-M DWT cycle counter (Armv7-M / Armv8-M Mainline: M3, M4, M7,
 * M33, M55). profile_dwt.c implements the runtime's lpn_profile_mark() hook (profile.h) by reading
 * DWT_CYCCNT before and after every op, the board counterpart of the QEMU insn_count plugin.
 */
#ifndef LPN_PROFILE_DWT_H
#define LPN_PROFILE_DWT_H

#include <stdint.h>

#include "profile.h"

/* Ops whose cycles are kept; later ops run normally but report no count. */
#ifndef LPN_DWT_MAX_OPS
#define LPN_DWT_MAX_OPS 256u
#endif

/* Enables trace (CoreDebug DEMCR.TRCENA), zeroes and starts DWT_CYCCNT. Returns 1, or 0 when the core
 * has no cycle counter (DWT_CTRL.NOCYCCNT) or the enable did not stick (a locked DWT; QEMU, which does
 * not model the DWT), in which case the counts are meaningless (QEMU: all 0). */
int lpn_dwt_init(void);

/* Current DWT_CYCCNT (wraps at 2^32 cycles: 268 s at 16 MHz, 23.8 s at 180 MHz). */
uint32_t lpn_dwt_now(void);

/* Cycles of op `op_index` in the last lpn_invoke (end mark minus begin mark; a few cycles of the
 * mark calls included). Returns 0 for an op never marked and for op_index >= LPN_DWT_MAX_OPS. */
uint32_t lpn_dwt_op_cycles(uint32_t op_index);

#endif
