/*
 * LiteRT / TensorFlow Lite registration of the four LPN custom ops (docs/custom-ops.md), built from the
 * same kernel sources as the firmware (firmware/kernels/lpn_*.c). See docs/litert.md for usage.
 *
 * C ABI only (no TFLite headers needed to include this one): registrations are handed out as
 * `const void *` pointing to a TfLiteRegistration of the TFLite C ABI pinned in tflite_abi.h.
 */
#ifndef LPN_LITERT_H
#define LPN_LITERT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The TfLiteRegistration of one LPN op by custom_code ("LPN_SHIFT_CONV_2D", ...), or NULL. A C++ host adds
 * it with resolver.AddCustom(code, static_cast<const TfLiteRegistration *>(lpn_litert_registration(code))). */
const void *lpn_litert_registration(const char *custom_code);

/* Number of LPN ops and the custom_code of op `index` (NULL past the end). */
int32_t lpn_litert_op_count(void);
const char *lpn_litert_op_code(int32_t index);

/* A registerer for InterpreterWithCustomOps: `void fn(tflite::MutableOpResolver *)`. It adds every LPN op
 * through tflite::MutableOpResolver::AddCustom(const char *, const TfLiteRegistration *, int), taken from
 * lpn_litert_set_add_custom, or else looked up by its mangled name in the process (dlsym). On failure it
 * records the reason (lpn_litert_last_error) and adds nothing. */
void lpn_litert_register(void *mutable_op_resolver);

/* The AddCustom member function to call, as a plain function taking `this` first (Itanium C++ ABI). */
void lpn_litert_set_add_custom(void *add_custom);

/* The last registration or preparation error ("" if none); cleared by lpn_litert_clear_error. */
const char *lpn_litert_last_error(void);
void lpn_litert_clear_error(void);

/* ABI probe for the load-time self-test: while enabled, every Prepare appends lines describing the
 * context and the tensors it read through the declared structs:
 *   "c <tensors_size>"
 *   "n <custom_code> <inputs> <outputs> <custom_initial_data_size>"
 *   "t <index> <type> <bytes> <zero_point> <affine zero points> <rank> <dims...> <name>"
 * The caller compares them with the model file. */
void lpn_litert_probe(int32_t enable);
const char *lpn_litert_probe_text(void);

/* Parses and validates the custom options of `custom_code` without a model (for tests). Returns 0 when
 * valid, else writes the error message (as Prepare would report it) into error[0 .. capacity). */
int32_t lpn_litert_check_options(const char *custom_code, const uint8_t *options, size_t size, char *error,
                                 size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
