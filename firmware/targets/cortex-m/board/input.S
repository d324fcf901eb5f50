/* The board runner's input sample in flash: assembled with -DLPN_INPUT_FILE='"path/to/input.bin"' (the
 * graph inputs' bytes concatenated, as for the runners' input.bin), or without it for an empty blob, in
 * which case main.c sets every input byte to 0. */
    .section .rodata.lpn_input, "a"
    .balign 16
    .global lpn_input_start
lpn_input_start:
#ifdef LPN_INPUT_FILE
    .incbin LPN_INPUT_FILE
#endif
    .global lpn_input_end
lpn_input_end:
