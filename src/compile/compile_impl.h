/* Private declarations of the compile module: the tape a trace records, the passes that
 * simplify and fuse it, the fused kernel's program, and shape inference for shapeless replay.
 *
 * A tape is a list of nodes in topological order over numbered values. Values 0..nin-1 are the
 * function's inputs (state entries after the explicit inputs), then come constants (arrays
 * captured by reference) and node outputs. Every pass is one or two linear sweeps with hash
 * maps; nothing recurses. */
#ifndef LZ_COMPILE_IMPL_H
#define LZ_COMPILE_IMPL_H

#include "cpu/cpu.h"
#include "lazuli/compile.h"

enum { CZ_INPUT, CZ_CONST, CZ_NODE };

/* One value of the tape: its kind, dtype and shape when traced. */
typedef struct cz_value {
  uint8_t kind; /* CZ_INPUT, CZ_CONST, CZ_NODE */
  lz_dtype dtype;
  int ndim;
  int32_t ref; /* input index, constant index, or producing node index */
  int shape[LZ_MAX_NDIM];
} cz_value;

typedef struct cz_node {
  uint16_t op;
  uint16_t nin, nout;
  int32_t *in;  /* value ids */
  int32_t *out; /* value ids */
  void *params; /* a copy of the op's parameters (params_size bytes), owned by the tape */
} cz_node;

typedef struct cz_tape {
  int nin; /* inputs, state entries included */
  cz_value *vals;
  int32_t nvals, cap_vals;
  cz_node *nodes;
  int32_t nnodes, cap_nodes;
  lz_array **consts; /* strong references */
  int32_t nconsts, cap_consts;
  int32_t *outs; /* the function's outputs, then the state outputs */
  int nouts;
  int n_user_outs;    /* outputs f returned; the rest are state outputs */
  bool shapeless_ok;  /* every node can infer its shape again */
  int unsupported_op; /* after CZ_TRACE_UNSUPPORTED: the op that made it so */
} cz_tape;

/* ---- the tape (tape.c) ----------------------------------------------------------------- */

LZ_HIDDEN void cz_tape_free(cz_tape *t);
/* Appends a value; returns its id or -1 (out of memory). */
LZ_HIDDEN int32_t cz_tape_value(cz_tape *t, int kind, int32_t ref, lz_dtype dt, const int *shape,
                                int ndim);
/* Appends a constant holding a new reference to `a`; returns its value id or -1. */
LZ_HIDDEN int32_t cz_tape_const(cz_tape *t, lz_array *a);
/* Appends a node (inputs and params copied; nout output values created with the given types).
 * Returns the node index or -1. */
LZ_HIDDEN int32_t cz_tape_node(cz_tape *t, int op, const void *params, const int32_t *in, int nin,
                               int nout, const lz_dtype *dts, const int *const *shapes,
                               const int *ndims);
/* A copy of an op's parameters for a new owner (retains what fused params reference). */
LZ_HIDDEN void *cz_params_dup(int op, const void *params);
LZ_HIDDEN void cz_params_release(int op, void *params);

/* A minimal map from nonzero 64-bit keys to int32 values (open addressing). */
typedef struct cz_map {
  uint64_t *keys;
  int32_t *vals;
  size_t cap, count;
} cz_map;
LZ_HIDDEN int cz_map_put(cz_map *m, uint64_t key, int32_t val);
/* The value of key, or -1. */
LZ_HIDDEN int32_t cz_map_get(const cz_map *m, uint64_t key);
LZ_HIDDEN void cz_map_free(cz_map *m);
LZ_HIDDEN uint64_t cz_hash_bytes(uint64_t h, const void *p, size_t n);

/* ---- tracing (trace.c) ------------------------------------------------------------------- */

typedef enum cz_trace_result { CZ_TRACE_OK, CZ_TRACE_ERROR, CZ_TRACE_UNSUPPORTED } cz_trace_result;

/* Calls the function: `call` gets the placeholders (nin of them: explicit inputs, then state
 * entries) and stores up to `cap` outputs (new references owned by the current scope), sets
 * *n_user to how many f returned, and returns the total or -1. */
typedef int (*cz_call_fn)(void *ctx, lz_array *const *ph, int nin, lz_array **outs, int cap,
                          int *n_user);
/* Traces into `t` with placeholders shaped like like[0..nin). On CZ_TRACE_UNSUPPORTED (an op
 * whose parameters the tape cannot hold) no error is set: the caller calls f directly. */
LZ_HIDDEN cz_trace_result cz_trace(cz_tape *t, lz_array *const *like, int nin, int nexplicit,
                                   cz_call_fn call, void *ctx, int *n_user_outs);

/* Replays t on the inputs in[0..t->nin): fills v[0..t->nvals) with every value (inputs and
 * constants borrowed, node outputs owned by the current scope), one lz__make per node; with
 * `shapeless`, each node's output shapes are inferred from its inputs. 0 or -1. */
LZ_HIDDEN int cz_replay(const cz_tape *t, bool shapeless, lz_array *const *in, lz_array **v);

/* ---- passes (simplify.c, fuse.c) --------------------------------------------------------- */

/* CSE, removal of no-ops, dead-code elimination: a new, smaller tape in *out. 0 or -1. */
LZ_HIDDEN int cz_simplify(const cz_tape *in, cz_tape *out);
/* Groups elementwise chains (and the reduction they feed) into fused nodes, rows whose
 * reductions over the last axis are broadcast back into row kernels, and, when `epilogue`,
 * a matmul feeding one plain elementwise group into that group as its prologue. 0 or -1. */
LZ_HIDDEN int cz_fuse(const cz_tape *in, cz_tape *out, bool epilogue);
/* Sets t->shapeless_ok. */
LZ_HIDDEN void cz_check_shapeless(cz_tape *t);
/* The shapes of a node's outputs for new input arrays (shapeless replay). 0 or -1. */
LZ_HIDDEN int cz_infer_shapes(const cz_node *n, const cz_value *const *traced_outs,
                              lz_array *const *in, int (*shapes)[LZ_MAX_NDIM], int *ndims);
LZ_HIDDEN bool cz_op_infers_shape(int op);

/* ---- the fused kernel (fused.c) --------------------------------------------------------- */

enum { FZ_MAX_OPERANDS = 32, FZ_MAX_STEPS = 96 };

/* Where a step's operand lives during one tile (one row in row mode): an operand of the node,
 * a register, the stored lane, or (row mode) a per-row scalar slot. */
enum { FZ_OPND, FZ_REG, FZ_LANE, FZ_SCAL };
typedef struct fz_loc {
  uint8_t kind;
  int16_t idx; /* operand index (outputs first, then the node's inputs) or register */
} fz_loc;

/* FZ_REDUCE (row mode): a sum, mean, max, min, var or std over the row (ctx: its
 * lz_reduce_params) into a per-row scalar. */
/* FZ_PAIR (row mode): two float32 add/subtract/multiply steps in one pass, the first's value
 * feeding only the second: out = (in0 op in1) op2 in2, or in2 op2 (in0 op in1) when pair_rev. */
enum { FZ_LOOP, FZ_CAST, FZ_WHERE, FZ_COPY, FZ_REDUCE, FZ_PAIR };
typedef struct fz_step {
  uint8_t kind;
  uint8_t nin;
  bool scalar; /* row mode: one value per row (the row's reductions and what follows) */
  uint16_t op; /* the op it comes from (printing) */
  lz_dtype dt_out, dt_in;
  lz_cpu_inner_fn fn;
  void *ctx; /* the op's parameters (owned by the program) */
  fz_loc out, in[3];
  uint8_t isz[4]; /* item sizes of out, in[0..2] */
  bool has_mean;  /* var/std (row mode): the row's mean is already at `mean` */
  fz_loc mean;
  uint16_t op2; /* FZ_PAIR: the second op */
  bool pair_rev;
  bool squares; /* FZ_REDUCE sum/mean (row mode): of the squares of its float32 input */
} fz_step;

/* Reductions a fused kernel can end with (the reduced axes are the trailing ones). */
typedef enum fz_red {
  FZ_RED_NONE,
  FZ_RED_SUM,
  FZ_RED_MEAN,
  FZ_RED_MAX,
  FZ_RED_MIN, /* one pass */
  FZ_RED_LSE,
  FZ_RED_SOFTMAX,
  FZ_RED_VAR,
  FZ_RED_STD /* over a stored lane */
} fz_red;

typedef struct fz_prog {
  atomic_long refs;
  int ndim; /* of the iteration shape */
  int nel;  /* elementwise outputs (operands 0..nel) */
  int nsteps, nregs;
  fz_step steps[FZ_MAX_STEPS];
  /* the reduction: its input, axes (trailing `naxes`), whether dims are kept, ddof */
  fz_red red;
  fz_loc red_in;
  uint16_t red_op;
  int naxes;
  bool keepdims;
  int ddof;
  lz_dtype red_dt; /* compute dtype (float32 or float64) = its output dtype */
  /* Row mode: the steps run one row (the last axis) at a time over row-long registers kept in
   * cache, reductions of the row are steps writing per-row scalars that later steps broadcast
   * back, and every value leaving the node is an elementwise output (red is FZ_RED_NONE). */
  bool rowwise;
  int nscal;              /* per-row scalar slots */
  int reg_isz;            /* bytes per element of a register */
  bool fixed_shape;       /* holds a broadcast_to or reshape: its shape is `shape`, not inferred */
  int shape[LZ_MAX_NDIM]; /* the traced iteration shape */
  /* per operand (outputs, then inputs): FZ_FRAME_NOKEEP when its shape is the rows' shape
   * without the last axis (a reduction without keepdims), aligned as if it had a trailing 1;
   * FZ_FRAME_KEEP marks an output of one value per row, with the last axis kept as 1 */
  uint8_t frame[FZ_MAX_OPERANDS];
  /* A matmul prologue (the GEMM epilogue): the node's last two inputs are A (..., M, K) and
   * B (K, N), and operand `nel` is their product, computed one block of rows at a time into a
   * per-thread buffer that the steps read while it is in cache; never stored whole. */
  bool mm;
} fz_prog;
enum { FZ_FRAME_FULL, FZ_FRAME_NOKEEP, FZ_FRAME_KEEP };

typedef struct lz_fused_params {
  fz_prog *prog;
} lz_fused_params;

LZ_HIDDEN void fz_prog_retain(fz_prog *p);
LZ_HIDDEN void fz_prog_release(fz_prog *p);
/* Whether node `op` with input dtypes can be a step; fills the step's kind and fn. */
LZ_HIDDEN bool fz_step_supported(int op, const lz_dtype *in_dts, int nin, lz_dtype out_dt,
                                 fz_step *st);
/* The placeholder op's parameters: which input (or state entry), and which trace made it. */
typedef struct lz_placeholder_params {
  int index;
  int nexplicit;  /* inputs before the state entries */
  uint64_t trace; /* the trace it belongs to */
} lz_placeholder_params;

/* Runs one step over n elements: pp/ss are the output's and the inputs' pointers and byte
 * strides; tmp holds n elements of 8 bytes. */
LZ_HIDDEN void fz_exec_step(const fz_step *st, int64_t n, char **pp, const int64_t *ss, char *tmp);
/* The kernel of a row program (fused_rows.c), outputs allocated. 0 or -1. */
LZ_HIDDEN int fz_rows_run(const fz_prog *p, lz_node *node, lz_array **outs);

/* ---- printing (dot.c) ------------------------------------------------------------------- */

LZ_HIDDEN void cz_tape_print(FILE *f, const cz_tape *t);
LZ_HIDDEN void fz_prog_describe(const fz_prog *p, char *buf, size_t cap);

#endif /* LZ_COMPILE_IMPL_H */
