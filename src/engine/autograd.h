/*
 * autograd.h - the operation table and reverse-mode differentiation.
 *
 * Every differentiable operation is one row of `op_table` (op_table.c lists
 * them all): a name, the grad_fn name PyTorch prints, and a forward and a
 * backward function written side by side in the same source file.
 *
 *   forward(eng, node)    reads node->inputs and node->args, checks shapes
 *                         (NULL + message on a mismatch), returns the output
 *                         and may keep what backward needs in node->saved.
 *   backward(eng, node, gout, gin)
 *                         gout: gradient of the output (contiguous, output's
 *                         shape). gin[i]: a zero-filled contiguous tensor of
 *                         input i's shape to ADD the input's gradient into, or
 *                         NULL when input i needs no gradient.
 *
 * op_apply() runs forward and, when grad mode is on and some input requires
 * grad, attaches the node to the output as its grad_fn. autograd_backward()
 * derives a topological order from the graph (never hand-ordered), runs each
 * node's backward once with its summed output gradient, accumulates into the
 * leaves' .grad like PyTorch, and frees the graph's buffers; a second
 * backward through a freed node is an error.
 */
#ifndef NNREPL_AUTOGRAD_H
#define NNREPL_AUTOGRAD_H

#include "tensor.h"

typedef enum OpKind {
    /* elementwise, broadcasting */
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_REMAINDER, OP_POW, OP_NEG,
    OP_EXP, OP_LOG, OP_SQRT, OP_ABS, OP_TANH, OP_SIGMOID, OP_RELU, OP_CLAMP,
    /* reductions */
    OP_SUM, OP_MEAN, OP_MAX_DIM, OP_MIN_DIM, OP_MAX_ALL, OP_MIN_ALL,
    /* linear algebra */
    OP_MATMUL, OP_LINEAR,
    /* shape and indexing (views where PyTorch gives views) */
    OP_VIEW, OP_TRANSPOSE, OP_EXPAND, OP_SLICE, OP_SELECT, OP_INDEX_SELECT,
    OP_CAT, OP_STACK, OP_CLONE, OP_TO_FLOAT,
    /* neural network */
    OP_SOFTMAX, OP_LOG_SOFTMAX,
    OP_MSE_LOSS, OP_BCE_LOSS, OP_NLL_LOSS, OP_CROSS_ENTROPY,
    OP_CONV2D, OP_MAX_POOL2D, OP_DROPOUT,
    OP_COUNT
} OpKind;

enum { REDUCTION_NONE, REDUCTION_MEAN, REDUCTION_SUM };

/* Parameters of one application of an op (which fields matter is per op). */
typedef struct OpArgs {
    int dim;                          /* reductions, softmax, cat, select ... */
    bool has_dim;                     /* reductions: over one dim, not all */
    int dim2;                         /* transpose */
    bool keepdim;
    int64_t start, stop, step;        /* slice; select uses start */
    int ndim;                         /* view/expand target shape */
    int64_t shape[TENSOR_MAX_DIMS];
    double a, b;                      /* pow exponent; clamp min/max; dropout p */
    bool has_a, has_b;                /* clamp: which bounds are given */
    int reduction;                    /* losses */
    int stride, padding;              /* conv2d (square), max_pool2d */
    int kernel;                       /* max_pool2d kernel size */
    const int64_t *indices;           /* index_select: borrowed during forward */
    int64_t n_indices;
    /* The grad_fn name PyTorch prints when it depends on the variant
     * (sum() is SumBackward0, sum(dim) SumBackward1); NULL: the table's. */
    const char *grad_fn_name;
} OpArgs;

#define NODE_MAX_SAVED 3

struct Node {
    int refcount;
    Engine *eng;                     /* whose small-object lists it goes back to */
    OpKind op;
    int n_inputs;
    Tensor **inputs;                 /* owned references; NULL once freed */
    Tensor *saved[NODE_MAX_SAVED];   /* op-specific (output alias, mask, indices) */
    int64_t *saved_indices;          /* index_select's index list (owned copy) */
    OpArgs args;
    bool freed;                      /* buffers released by a backward pass */
    /* scratch of autograd_backward */
    Tensor *grad_sum;
    int visit_mark;
};

typedef Tensor *(*OpForwardFn)(Engine *eng, Node *node);
typedef bool (*OpBackwardFn)(Engine *eng, Node *node, const Tensor *gout, Tensor **gin);

typedef struct OpDef {
    const char *name;         /* "matmul" (error messages) */
    const char *grad_fn_name; /* "MmBackward0" (what PyTorch prints) */
    OpForwardFn forward;
    OpBackwardFn backward;
} OpDef;

extern const OpDef op_table[OP_COUNT];

/* Run op `kind` on inputs[0..n_inputs) (borrowed) with `args`; record the
 * graph when needed. New reference or NULL + error. */
Tensor *op_apply(Engine *eng, OpKind kind, int n_inputs, Tensor *const *inputs,
                 const OpArgs *args);

/* The PyTorch grad_fn name of a non-leaf ("AddBackward0"), NULL for a leaf. */
const char *tensor_grad_fn_name(const Tensor *t);

/* loss.backward(): `root` must hold one element (else an error like PyTorch's
 * "grad can be implicitly created only for scalar outputs"). */
bool autograd_backward(Engine *eng, Tensor *root, bool retain_graph);

void node_retain(Node *n);
void node_release(Node *n);

/* Gradient helpers for backward functions. */
/* Sum `g` (a broadcast result's gradient) down to `target`'s shape and add it
 * into `target` (both contiguous). */
bool grad_accumulate_reduced(Engine *eng, Tensor *target, const Tensor *g);

#endif
