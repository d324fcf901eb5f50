/* RESHAPE adapter: same bytes, new shape (the output is its own planned tensor, so a copy). */
#include <string.h>

#include "op_common.h"

static lpn_rt_status_t prepare(lpn_runtime_t *rt, lpn_op_t *op) {
    int present;
    if (lpn_check_arity(rt, op, 1, 2, 1, 0u) || lpn_options(rt, op, LPN_OPTIONS_RESHAPE, 1, &present)) {
        return rt->error.status;
    }
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *y = lpn_op_output(rt, op, 0);
    /* The output shape in the file is authoritative; the optional shape input is not re-evaluated. */
    return lpn_check_tensor(rt, op, y, y->type == x->type && y->bytes == x->bytes, (int64_t)x->bytes);
}

static lpn_rt_status_t eval(lpn_runtime_t *rt, const lpn_op_t *op, void *scratch) {
    const lpn_tensor_t *x = lpn_op_input(rt, op, 0), *y = lpn_op_output(rt, op, 0);
    (void)scratch;
    memmove(lpn_tensor_data(rt, y), lpn_tensor_data(rt, x), y->bytes);
    return LPN_RT_OK;
}

const lpn_kernel_t lpn_kernel_reshape = {LPN_OP_RESHAPE, 0, "RESHAPE", 1, 8, prepare, eval};
