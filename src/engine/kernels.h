/*
 * kernels.h - helpers shared by the engine's source files (not public API).
 */
#ifndef NNREPL_KERNELS_H
#define NNREPL_KERNELS_H

#include "tensor.h"

/* Drop a reference to a storage, freeing it (and its accounting) at zero. */
void storage_release(Storage *s);
/* Contiguous row-major strides for t->shape. */
void tensor_set_contiguous_strides(Tensor *t);
/* A new tensor (refcount 1) over storage `s` (retained), contiguous layout. */
Tensor *tensor_wrap_storage(Engine *eng, Storage *s, DType dtype, int ndim, const int64_t *shape);
/* Storage offset of the element at flat row-major index i of t's shape. */
int64_t tensor_flat_offset(const Tensor *t, int64_t i);

/* NumPy broadcasting of two shapes. On a mismatch: false and
 * "<op>: shapes (3, 2) and (4) cannot be broadcast together" style error. */
bool broadcast_shapes(Engine *eng, const char *op, int nda, const int64_t *sa,
                      int ndb, const int64_t *sb, int *nd_out, int64_t *shape_out);
/* Strides that read `t` as if it had shape (ndim, shape) by broadcasting
 * (stride 0 on expanded dims). False + error when t cannot broadcast. */
bool broadcast_to_strides(Engine *eng, const Tensor *t, int ndim, const int64_t *shape,
                          int64_t *strides);
/* *view = t read as shape (ndim, shape) through broadcast_to_strides: a
 * tensor header on the caller's stack over t's storage, holding no
 * reference (read it with tensor_get_flat / tensor_flat_offset while t
 * lives). False + error when t cannot broadcast. */
bool broadcast_view(Engine *eng, const Tensor *t, int ndim, const int64_t *shape, Tensor *view);
/* Copy t's logical elements (any layout) into contiguous `out`. */
void strided_copy(float *out, const Tensor *t);

/* Broadcast the shapes of n tensors (an op's inputs). */
bool broadcast_tensors_shape(Engine *eng, const char *op, const Tensor *a, const Tensor *b,
                             int *nd_out, int64_t *shape_out);

/* "(64, 1, 32, 32)" with open '(' and close ')': shape_format with other
 * brackets. Truncated to fit `size` (> 0). */
void dims_format(char *buf, size_t size, int ndim, const int64_t *shape, char open, char close);

/* Release a tensor whose refcount reached zero, and everything that only it
 * kept alive, without recursion (graphs may be thousands of nodes deep). */
void tensor_free_unreferenced(Tensor *t);

/* ---- elementwise kernels (no autograd) ---- */

typedef enum BinaryKernel {
    BK_ADD, BK_SUB, BK_MUL, BK_DIV, BK_POW, BK_FLOOR_DIV, BK_REMAINDER,
    BK_EQ, BK_NE, BK_LT, BK_LE, BK_GT, BK_GE
} BinaryKernel;

/* out = a (op) b with broadcasting; a new contiguous tensor of `dtype`.
 * `op` names the operation in shape errors. */
Tensor *binary_map(Engine *eng, const char *op, BinaryKernel k, const Tensor *a,
                   const Tensor *b, DType dtype);

/* target += alpha * g, where target was broadcast to g's shape (both
 * contiguous target; g any layout). */
bool grad_accumulate_scaled(Engine *eng, Tensor *target, const Tensor *g, float alpha);

/* The dtype of a binary arithmetic result: the highest category (bool <
 * integer < float) of the two; tensor.h explains wrapped numbers. */
DType promote_types(const Tensor *a, const Tensor *b);

/* ---- sums in PyTorch's order (sum_order.c) ---- */

/* Σ x[0..n) of a contiguous row. */
float sum_contiguous_row(const float *x, int64_t n);
/* out[c] = Σ_r x[r*cols + c]: the column sums of a rows×cols block. */
void sum_columns(const float *x, int64_t rows, int64_t cols, float *out);

#endif
