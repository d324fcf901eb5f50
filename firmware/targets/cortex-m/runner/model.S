/* The model as a binary blob in flash: assembled with -DLPN_MODEL_FILE='"path/to/model.tflite"'.
 * 16-byte alignment keeps the flatbuffer's aligned buffers (int32 biases) aligned in memory. */
    .section .lpn_model, "a"
    .balign 16
    .global lpn_model_start
lpn_model_start:
    .incbin LPN_MODEL_FILE
    .global lpn_model_end
lpn_model_end:
