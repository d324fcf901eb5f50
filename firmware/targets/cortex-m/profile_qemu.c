/* lpn_profile_mark() for QEMU: an empty, never-inlined function whose first instruction the
 * insn_count plugin watches (the plugin is given its address from the ELF symbol table). */
#include "profile.h"

__attribute__((noinline, used)) void lpn_profile_mark(uint32_t op_index, uint32_t phase) {
    __asm__ volatile("" : : "r"(op_index), "r"(phase) : "memory");
}
