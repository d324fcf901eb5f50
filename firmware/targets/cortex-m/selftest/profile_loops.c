/*
 * Test program for the insn_count plugin: region k runs a loop of (k+1)*1000 iterations between
 * two marks, so the per-region counts must grow by exactly the same amount from one region to the next.
 */
#include <stdint.h>

#include "profile.h"

static volatile uint32_t sink;

static void __attribute__((noinline)) spin(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
        sink += i;
    }
}

int main(void) {
    for (uint32_t k = 0; k < 4; ++k) {
        lpn_profile_mark(k, LPN_PROFILE_BEGIN);
        spin((k + 1u) * 1000u);
        lpn_profile_mark(k, LPN_PROFILE_END);
    }
    return 0;
}
