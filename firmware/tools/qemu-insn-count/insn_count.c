/*
 * QEMU TCG plugin: exact, repeatable instruction counts between profiling marks.
 *
 *   qemu-system-arm ... -plugin insn_count.so,mark=0x<addr>,out=<file> -d plugin
 *
 * Every guest instruction adds 1 to a counter (inline, no helper call). Each time the
 * instruction at `mark` (the first instruction of the firmware's lpn_profile_mark()) executes,
 * the counter's value is appended to a list. At exit the plugin writes
 *
 *   total <instructions executed>
 *   mark <value at 1st mark>
 *   mark <value at 2nd mark>
 *   ...
 *
 * to `out`. The firmware calls the mark function before and after each op, so op k executed
 * marks[2k+1] - marks[2k] instructions (including a constant mark overhead, measured by the
 * Python side from an empty region).
 *
 * Debian ships no qemu-plugin.h, so the few API entry points used are declared here; they match
 * QEMU_PLUGIN_VERSION 1 (QEMU 7.2). This file is host code (it runs inside QEMU), not firmware.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subset of the QEMU plugin API (qemu-plugin.h, version 1) used here ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;
/* ---- end of the API subset ---- */

static uint64_t insn_count;
static uint64_t mark_addr = UINT64_MAX;
static uint64_t *marks;
static size_t n_marks, cap_marks;
static char out_path[4096];
static int out_of_memory;

static void on_mark(unsigned int vcpu_index, void *userdata) {
    (void)vcpu_index;
    (void)userdata;
    if (n_marks == cap_marks) {
        size_t cap = cap_marks ? 2 * cap_marks : 1024;
        uint64_t *grown = realloc(marks, cap * sizeof *grown);
        if (grown == NULL) {
            out_of_memory = 1;
            return;
        }
        marks = grown;
        cap_marks = cap;
    }
    marks[n_marks++] = insn_count;
}

static void on_tb_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if (qemu_plugin_insn_vaddr(insn) == mark_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &insn_count, 1);
    }
}

static void on_exit(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    FILE *f = fopen(out_path, "w");
    if (f == NULL) {
        qemu_plugin_outs("insn_count: cannot open the output file\n");
        return;
    }
    fprintf(f, "total %" PRIu64 "\n", insn_count);
    if (out_of_memory) {
        fprintf(f, "error out-of-memory\n");
    }
    for (size_t i = 0; i < n_marks; ++i) {
        fprintf(f, "mark %" PRIu64 "\n", marks[i]);
    }
    fclose(f);
    free(marks);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "mark=", 5) == 0) {
            /* Thumb symbol values carry bit 0; instruction addresses do not. */
            mark_addr = strtoull(argv[i] + 5, NULL, 0) & ~(uint64_t)1;
        } else if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        } else {
            qemu_plugin_outs("insn_count: unknown argument (use mark=ADDR,out=FILE)\n");
            return -1;
        }
    }
    if (out_path[0] == '\0') {
        qemu_plugin_outs("insn_count: out=FILE is required\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
