/* Human-readable names of lpn_status codes. */
#include "lpn/kernels.h"

const char *lpn_status_string(lpn_status status) {
    switch (status) {
    case LPN_OK:
        return "ok";
    case LPN_ERR_ARGUMENT:
        return "invalid argument";
    case LPN_ERR_SHAPE:
        return "shape mismatch";
    case LPN_ERR_BUFFER:
        return "scratch buffer too small";
    case LPN_ERR_UNSUPPORTED:
        return "unsupported configuration";
    }
    return "unknown status";
}
