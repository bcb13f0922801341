/*
 * tensor.h - n-dimensional arrays (up to 4 dimensions) with autograd metadata.
 *
 * STORAGE
 *   Every tensor's elements live in a reference-counted Storage of float32.
 *   The dtype (float32, int64, bool) is a tag that decides printing, type
 *   promotion and which operations are allowed, as in PyTorch; int64 values
 *   are stored exactly as long as |v| <= 2^24 (tensor_from_* refuses larger
 *   integers), bool as 0 or 1. One storage type keeps every kernel single.
 *
 *   A tensor is a view of its storage: shape, strides (in elements) and an
 *   offset. view(), reshape() of contiguous data, transpose() and slicing make
 *   views that share storage, exactly where PyTorch shares; other operations
 *   make new storage.
 *
 * OWNERSHIP
 *   Tensor, Storage and Node are reference counted.
 *   - A function that returns Tensor* returns a NEW reference (the caller owns
 *     it and must tensor_release() it), or NULL with engine_error() set.
 *   - Tensor* arguments are BORROWED: the callee takes its own reference
 *     (tensor_retain) if it keeps one.
 *   - Struct fields that point to tensors (grad, Node inputs) own a reference.
 *   There are no cycles: a tensor owns its grad_fn node, the node owns its
 *   inputs, and the inputs never point back to their consumers. The output
 *   that a node needs for its backward pass is kept as a separate alias
 *   tensor without grad_fn.
 */
#ifndef NNREPL_TENSOR_H
#define NNREPL_TENSOR_H

#include "engine.h"

#define TENSOR_MAX_DIMS 4
#define TENSOR_MAX_EXACT_INT 16777216 /* 2^24: largest exactly stored integer */

typedef enum DType { DTYPE_FLOAT32, DTYPE_INT64, DTYPE_BOOL } DType;

typedef struct Storage {
    int refcount;
    int64_t numel;
    float *data;       /* numel floats, accounted in Engine.bytes_in_use */
    Engine *eng;       /* whose accounting this storage counts against */
} Storage;

typedef struct Node Node; /* autograd.h */

typedef struct Tensor Tensor;
struct Tensor {
    int refcount;
    DType dtype;
    int ndim;                         /* 0..TENSOR_MAX_DIMS */
    int64_t shape[TENSOR_MAX_DIMS];
    int64_t stride[TENSOR_MAX_DIMS];  /* in elements */
    int64_t offset;                   /* first element, in elements */
    Storage *storage;
    bool requires_grad;
    /* A Python number promoted to a 0-d tensor for an operation: like PyTorch's
     * "wrapped number", it does not decide the result dtype (int tensor * 2.5
     * is float, float tensor * 2 stays float32). */
    bool is_wrapped_number;
    /* A layer's weight or bias, or an nn.Parameter: prints as PyTorch prints
     * parameters ("Parameter containing:"). */
    bool is_parameter;
    Tensor *grad;     /* accumulated gradient of a leaf, or NULL; owned */
    Node *grad_fn;    /* the operation that produced it, or NULL (a leaf); owned */
};

/* ---- creation (all return new references, or NULL + engine error) ---- */

/* Uninitialised contiguous tensor of the given shape. */
Tensor *tensor_empty(Engine *eng, DType dtype, int ndim, const int64_t *shape);
Tensor *tensor_zeros(Engine *eng, DType dtype, int ndim, const int64_t *shape);
Tensor *tensor_full(Engine *eng, DType dtype, int ndim, const int64_t *shape, double value);
/* A 0-d tensor. */
Tensor *tensor_scalar(Engine *eng, DType dtype, double value);
/* Copy `n` values (n must equal the shape's element count). */
Tensor *tensor_from_floats(Engine *eng, DType dtype, int ndim, const int64_t *shape,
                           const float *values, int64_t n);
Tensor *tensor_from_doubles(Engine *eng, DType dtype, int ndim, const int64_t *shape,
                            const double *values, int64_t n);
/* Same shape and dtype as `like`, contiguous. */
Tensor *tensor_zeros_like(Engine *eng, const Tensor *like);
Tensor *tensor_full_like(Engine *eng, const Tensor *like, double value);

Tensor *tensor_eye(Engine *eng, int64_t n, int64_t m);
/* torch.arange(start, end, step): dtype int64 when all three are integers. */
Tensor *tensor_arange(Engine *eng, double start, double end, double step, DType dtype);
Tensor *tensor_linspace(Engine *eng, double start, double end, int64_t steps);
Tensor *tensor_rand(Engine *eng, int ndim, const int64_t *shape);   /* U[0,1) */
Tensor *tensor_randn(Engine *eng, int ndim, const int64_t *shape);  /* N(0,1) */
Tensor *tensor_randint(Engine *eng, int64_t low, int64_t high, int ndim, const int64_t *shape);
Tensor *tensor_randperm(Engine *eng, int64_t n);                    /* int64 */

/* ---- references ---- */

Tensor *tensor_retain(Tensor *t); /* returns t; NULL-safe */
void tensor_release(Tensor *t);   /* NULL-safe */

/* ---- facts ---- */

int64_t tensor_numel(const Tensor *t);
int64_t shape_numel(int ndim, const int64_t *shape);
bool tensor_is_contiguous(const Tensor *t);
bool tensor_same_shape(const Tensor *a, const Tensor *b);
bool tensor_is_leaf(const Tensor *t);          /* no grad_fn */
bool dtype_is_integral(DType d);               /* int64 or bool */
const char *dtype_name(DType d);               /* "torch.float32", ... */
/* "(3, 2)" into buf. */
void tensor_shape_str(const Tensor *t, char *buf, size_t size);
/* Normalise a possibly negative dim for a tensor of `ndim` dims; false + error
 * ("dimension out of range (expected to be in range of [-2, 1], but got 2)"). */
bool tensor_wrap_dim(Engine *eng, int ndim, int64_t dim, int *out);

/* ---- element access (any layout) ---- */

/* The element at a flat row-major index of the tensor's logical shape. */
float tensor_get_flat(const Tensor *t, int64_t i);
void tensor_set_flat(Tensor *t, int64_t i, float v);
/* Pointer to the first element; only meaningful for contiguous tensors. */
float *tensor_data(const Tensor *t);
/* A 1-element tensor's value (item()); false + error otherwise. */
bool tensor_item(Engine *eng, const Tensor *t, double *out);

/* ---- layout ---- */

/* `t` itself (retained) if contiguous, else a contiguous copy. No autograd. */
Tensor *tensor_contiguous(Engine *eng, Tensor *t);
/* Copy of the data, fresh storage, no autograd (clone without the graph). */
Tensor *tensor_copy_data(Engine *eng, const Tensor *t);
/* A tensor sharing t's storage and layout, no grad_fn, requires_grad false:
 * what `t.data` and `t.detach()` return. */
Tensor *tensor_alias(Engine *eng, Tensor *t);

/* ---- in place (no autograd; the evaluator guards their use) ---- */

void tensor_fill_(Tensor *t, double v);                  /* zero_(), fill_() */
/* dst[...] = src broadcast to dst's shape; dtype follows dst. */
bool tensor_copy_(Engine *eng, Tensor *dst, const Tensor *src);
/* Make `t` show `src`'s storage and layout (what `t.data = src` does). */
void tensor_set_data_(Tensor *t, Tensor *src);
/* dst = dst + alpha * src (src broadcast to dst), used by optimizers and `w -= ...`. */
bool tensor_add_scaled_(Engine *eng, Tensor *dst, const Tensor *src, double alpha);

/* Convert dtype (copy unless already of that dtype, then retained). */
Tensor *tensor_to_dtype(Engine *eng, Tensor *t, DType dtype);

#endif
