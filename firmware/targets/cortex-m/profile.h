/*
 * Profiling marks. The runtime calls lpn_profile_mark() before and after every op; under QEMU the
 * insn_count plugin (firmware/tools/qemu-insn-count) records the executed-instruction count at each
 * call; on a board the implementation can read the DWT cycle counter instead.
 */
#ifndef LPN_PROFILE_H
#define LPN_PROFILE_H

#include <stdint.h>

enum { LPN_PROFILE_BEGIN = 0, LPN_PROFILE_END = 1 };

/* Marks the begin or end of op `op_index`. Never inlined: its address is the plugin's trigger. */
void lpn_profile_mark(uint32_t op_index, uint32_t phase);

#endif
