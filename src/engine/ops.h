/*
 * ops.h - the tensor operations callers use. Each is a thin wrapper over
 * op_apply() (autograd.h) or, for non-differentiable results (comparisons,
 * argmax, integer arithmetic), a plain kernel.
 *
 * All return a new reference or NULL with engine_error() set (ownership and
 * error rules: engine.h, tensor.h). Dims may be negative, as in PyTorch.
 * Binary operations broadcast like NumPy and promote dtypes like PyTorch:
 * bool < int64 < float32, a wrapped number (tensor.h) only decides the
 * category (int or float), `/` always gives float32, comparisons give bool.
 */
#ifndef NNREPL_OPS_H
#define NNREPL_OPS_H

#include "autograd.h"

/* ---- elementwise ---- */
Tensor *tensor_add(Engine *eng, Tensor *a, Tensor *b);
Tensor *tensor_sub(Engine *eng, Tensor *a, Tensor *b);
Tensor *tensor_mul(Engine *eng, Tensor *a, Tensor *b);
Tensor *tensor_div(Engine *eng, Tensor *a, Tensor *b);        /* true division */
Tensor *tensor_floor_div(Engine *eng, Tensor *a, Tensor *b);  /* //, no grad */
Tensor *tensor_remainder(Engine *eng, Tensor *a, Tensor *b);  /* %, Python sign rule, no grad */
Tensor *tensor_pow(Engine *eng, Tensor *a, Tensor *b);        /* tensor ** tensor */
Tensor *tensor_pow_scalar(Engine *eng, Tensor *a, double exponent);
Tensor *tensor_rpow_scalar(Engine *eng, double base, Tensor *a); /* base ** tensor */
Tensor *tensor_neg(Engine *eng, Tensor *a);
Tensor *tensor_exp(Engine *eng, Tensor *a);
Tensor *tensor_log(Engine *eng, Tensor *a);
Tensor *tensor_sqrt(Engine *eng, Tensor *a);
Tensor *tensor_abs(Engine *eng, Tensor *a);
Tensor *tensor_tanh(Engine *eng, Tensor *a);
Tensor *tensor_sigmoid(Engine *eng, Tensor *a);
Tensor *tensor_relu(Engine *eng, Tensor *a);
/* clamp(min=, max=): either bound may be absent. */
Tensor *tensor_clamp(Engine *eng, Tensor *a, bool has_min, double min, bool has_max, double max);

/* comparisons -> bool tensors (no grad) */
typedef enum CompareOp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE } CompareOp;
Tensor *tensor_compare(Engine *eng, CompareOp op, Tensor *a, Tensor *b);
/* logical not of a bool tensor / `~` */
Tensor *tensor_logical_not(Engine *eng, Tensor *a);

/* ---- reductions ---- */
Tensor *tensor_sum(Engine *eng, Tensor *a);                          /* all -> 0-d */
Tensor *tensor_sum_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim);
Tensor *tensor_mean(Engine *eng, Tensor *a);
Tensor *tensor_mean_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim);
Tensor *tensor_max(Engine *eng, Tensor *a);                          /* all -> 0-d */
Tensor *tensor_min(Engine *eng, Tensor *a);
/* max/min along dim: values (differentiable) and int64 indices. */
bool tensor_max_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim,
                    Tensor **values, Tensor **indices);
bool tensor_min_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim,
                    Tensor **values, Tensor **indices);
Tensor *tensor_argmax(Engine *eng, Tensor *a);                       /* flat index, 0-d int64 */
Tensor *tensor_argmax_dim(Engine *eng, Tensor *a, int64_t dim, bool keepdim);
/* torch.allclose(a, b, rtol, atol) */
bool tensor_allclose(Engine *eng, Tensor *a, Tensor *b, double rtol, double atol, bool *out);

/* ---- linear algebra ---- */
/* torch.matmul: 1-D/2-D as PyTorch, batched (3-D/4-D) with broadcast batch dims. */
Tensor *tensor_matmul(Engine *eng, Tensor *a, Tensor *b);
/* torch.mm: both 2-D. */
Tensor *tensor_mm(Engine *eng, Tensor *a, Tensor *b);
/* nn.Linear: y = x·Wᵀ + b; x (..., in), weight (out, in), bias (out) or NULL. */
Tensor *tensor_linear(Engine *eng, Tensor *x, Tensor *weight, Tensor *bias);

/* ---- shape ---- */
/* view: contiguous input only (else PyTorch's error); one -1 allowed. */
Tensor *tensor_view(Engine *eng, Tensor *a, int ndim, const int64_t *shape);
/* reshape: a view when possible, else a copy. */
Tensor *tensor_reshape(Engine *eng, Tensor *a, int ndim, const int64_t *shape);
Tensor *tensor_transpose(Engine *eng, Tensor *a, int64_t dim0, int64_t dim1);
Tensor *tensor_t(Engine *eng, Tensor *a);                            /* <= 2-D */
/* .T: all dims reversed (any ndim; PyTorch's grad_fn PermuteBackward0). */
Tensor *tensor_T(Engine *eng, Tensor *a);
Tensor *tensor_flatten(Engine *eng, Tensor *a, int64_t start_dim, int64_t end_dim);
Tensor *tensor_unsqueeze(Engine *eng, Tensor *a, int64_t dim);
Tensor *tensor_squeeze(Engine *eng, Tensor *a);                      /* all size-1 dims */
Tensor *tensor_squeeze_dim(Engine *eng, Tensor *a, int64_t dim);
Tensor *tensor_expand(Engine *eng, Tensor *a, int ndim, const int64_t *shape);
Tensor *tensor_clone(Engine *eng, Tensor *a);                        /* with grad */
Tensor *tensor_to_float(Engine *eng, Tensor *a);                     /* .float() */

/* ---- indexing ---- */
/* a[index] along dim (removes the dim); negative index counts from the end. */
Tensor *tensor_select(Engine *eng, Tensor *a, int64_t dim, int64_t index);
/* a[start:stop:step] along dim, Python slice semantics; like PyTorch, step
 * must be > 0 ("slice step cannot be zero", "step must be greater than zero"). */
typedef struct SliceSpec {
    bool has_start, has_stop;
    int64_t start, stop, step;
} SliceSpec;
Tensor *tensor_slice(Engine *eng, Tensor *a, int64_t dim, SliceSpec s);
/* a[[i, j, ...]] along dim (keeps the dim). */
Tensor *tensor_index_select(Engine *eng, Tensor *a, int64_t dim,
                            const int64_t *indices, int64_t n);
/* a[mask]: a bool mask of a's shape gives 1-D; a mask of a's leading dims
 * selects along them, (k, rest...). Differentiable (IndexBackward0). */
Tensor *tensor_masked_select(Engine *eng, Tensor *a, Tensor *mask);

Tensor *tensor_cat(Engine *eng, int n, Tensor *const *ts, int64_t dim);
Tensor *tensor_stack(Engine *eng, int n, Tensor *const *ts, int64_t dim);

/* ---- neural network functions ---- */
Tensor *tensor_softmax(Engine *eng, Tensor *a, int64_t dim);
Tensor *tensor_log_softmax(Engine *eng, Tensor *a, int64_t dim);
/* Losses: input and target as PyTorch; reduction REDUCTION_MEAN/SUM/NONE. */
Tensor *tensor_mse_loss(Engine *eng, Tensor *input, Tensor *target, int reduction);
/* BCE clamps each log term at -100, as PyTorch does. */
Tensor *tensor_bce_loss(Engine *eng, Tensor *input, Tensor *target, int reduction);
/* input (N, C) log-probabilities or (C); target int64 (N) or 0-d. */
Tensor *tensor_nll_loss(Engine *eng, Tensor *input, Tensor *target, int reduction);
/* input (N, C) logits; target int64 class indices (N). */
Tensor *tensor_cross_entropy(Engine *eng, Tensor *input, Tensor *target, int reduction);
/* input (N, Cin, H, W) or (Cin, H, W); weight (Cout, Cin, k, k); bias (Cout) or NULL. */
Tensor *tensor_conv2d(Engine *eng, Tensor *input, Tensor *weight, Tensor *bias,
                      int stride, int padding);
/* stride <= 0 means stride = kernel. */
Tensor *tensor_max_pool2d(Engine *eng, Tensor *input, int kernel, int stride);
/* Dropout with probability p when `training`, identity (same tensor, retained) otherwise. */
Tensor *tensor_dropout(Engine *eng, Tensor *input, double p, bool training);

#endif
