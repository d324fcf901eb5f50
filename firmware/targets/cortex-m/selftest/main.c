/*
 * Proof of life: CRC-32 (IEEE 802.3, as zlib) of a buffer that lives in .data,
 * after .bss was checked to be zero. Prints the CRC through semihosting and exits
 * with its low 7 bits, so the test can check both channels against Python's zlib.
 */
#include <stdint.h>

#include "semihosting.h"

static uint8_t pattern[256] = {1, 2, 3}; /* in .data: proves the flash-to-RAM copy */
static uint32_t zeroed[64];              /* in .bss:  proves zeroing */

static uint32_t crc32_update(uint32_t crc, const uint8_t *data, uint32_t len) {
    crc = ~crc;
    for (uint32_t i = 0; i < len; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

int main(void) {
    for (uint32_t i = 0; i < 64; ++i) {
        if (zeroed[i] != 0u) {
            lpn_semihost_write("selftest: .bss not zeroed\n");
            return 0x7f;
        }
    }
    for (uint32_t i = 3; i < 256; ++i) {
        pattern[i] = (uint8_t)(i * 7u + 1u);
    }
    uint32_t crc = crc32_update(0u, pattern, 256u);
    lpn_semihost_write("selftest crc32=0x");
    lpn_semihost_write_hex(crc);
    lpn_semihost_write("\n");
    return (int)(crc & 0x7fu);
}
