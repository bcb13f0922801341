/*
 * ops_shape.c - views (view, reshape, flatten, squeeze, unsqueeze, transpose,
 * t, T, expand, select, slice) and copies (clone, .float(), index_select,
 * masked_select, cat, stack).
 *
 * VIEWS
 *   A view op computes its output's layout (shape, strides, offset) from its
 *   input's layout; the output shares the input's storage, so a write through
 *   either is seen by the other, as in PyTorch. The backward pass applies the
 *   SAME layout function to the input's gradient buffer (contiguous, input
 *   shape) and adds the output gradient through the resulting view: where the
 *   view reads one element several times (expand's stride 0) the gradients
 *   sum by +=, and elements the view never reads (slices) get nothing.
 *
 *   view/reshape/flatten/squeeze/unsqueeze are one op (OP_VIEW): each keeps
 *   the elements in row-major order and only regroups dims. Whether new
 *   strides exist for the regrouping is decided like PyTorch's view (a dim
 *   may be split or merged only inside a run of memory-contiguous dims);
 *   where they do not, reshape copies and view is an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_impl.h"

/* ---- layouts ---- */

/* Where a view's elements are: what a view op computes. */
typedef struct Layout {
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    int64_t stride[TENSOR_MAX_DIMS];
    int64_t offset;
} Layout;

static Layout layout_of(const Tensor *t)
{
    Layout l;
    l.ndim = t->ndim;
    memcpy(l.shape, t->shape, sizeof l.shape);
    memcpy(l.stride, t->stride, sizeof l.stride);
    l.offset = t->offset;
    return l;
}

/* A tensor struct that reads `base`'s storage through layout `l`: a
 * descriptor on the caller's stack, never retained or released. */
static Tensor view_descriptor(const Tensor *base, const Layout *l)
{
    Tensor v = *base;
    v.ndim = l->ndim;
    memcpy(v.shape, l->shape, sizeof v.shape);
    memcpy(v.stride, l->stride, sizeof v.stride);
    v.offset = l->offset;
    return v;
}

static void layout_contiguous(Layout *l)
{
    int64_t s = 1;
    for (int i = l->ndim - 1; i >= 0; i--) {
        l->stride[i] = s;
        s *= l->shape[i];
    }
}

/* Strides that show `in`'s elements, in row-major order, with shape
 * (ndim, shape); false when the regrouping would need a dim to span two
 * non-contiguous runs of memory (PyTorch's rule for view). Walks the input
 * dims from the last, cutting them into chunks of memory-contiguous dims,
 * and requires each chunk to be made exactly of whole output dims. */
static bool layout_regroup(const Layout *in, int ndim, const int64_t *shape, Layout *out)
{
    out->ndim = ndim;
    memcpy(out->shape, shape, (size_t)ndim * sizeof *shape);
    out->offset = in->offset;
    int64_t numel = 1;
    for (int i = 0; i < in->ndim; i++)
        numel *= in->shape[i];
    if (numel <= 1) {
        /* nothing or one element: any strides read it correctly */
        layout_contiguous(out);
        return true;
    }
    int view_d = ndim - 1;
    int64_t chunk_base_stride = in->stride[in->ndim - 1];
    int64_t tensor_numel = 1, view_numel = 1;
    for (int d = in->ndim - 1; d >= 0; d--) {
        tensor_numel *= in->shape[d];
        bool chunk_ends = d == 0 || (in->shape[d - 1] != 1 &&
                                     in->stride[d - 1] != tensor_numel * chunk_base_stride);
        if (!chunk_ends)
            continue;
        while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
            out->stride[view_d] = view_numel * chunk_base_stride;
            view_numel *= shape[view_d];
            view_d--;
        }
        if (view_numel != tensor_numel)
            return false;
        if (d > 0) {
            chunk_base_stride = in->stride[d - 1];
            tensor_numel = 1;
            view_numel = 1;
        }
    }
    return view_d == -1;
}

/* The output layout of view op `kind` with `args` over input layout `in`.
 * Arguments were validated by the public wrappers. False only for OP_VIEW
 * when no strides exist (then the forward pass copies). */
static bool view_layout(OpKind kind, const OpArgs *args, const Layout *in, Layout *out)
{
    switch (kind) {
    case OP_VIEW:
        return layout_regroup(in, args->ndim, args->shape, out);
    case OP_TRANSPOSE:
        /* args->shape[0..ndim) is a permutation: output dim i is input dim shape[i] */
        *out = *in;
        for (int i = 0; i < in->ndim; i++) {
            out->shape[i] = in->shape[args->shape[i]];
            out->stride[i] = in->stride[args->shape[i]];
        }
        return true;
    case OP_EXPAND: {
        /* args->shape is the target; new leading dims and expanded 1s read stride 0 */
        int lead = args->ndim - in->ndim;
        out->ndim = args->ndim;
        out->offset = in->offset;
        for (int i = 0; i < args->ndim; i++) {
            out->shape[i] = args->shape[i];
            int j = i - lead;
            out->stride[i] = j >= 0 && in->shape[j] == args->shape[i] ? in->stride[j] : 0;
        }
        return true;
    }
    case OP_SELECT: {
        /* args->dim, args->start: the (non-negative) index */
        int d = args->dim;
        out->ndim = in->ndim - 1;
        out->offset = in->offset + args->start * in->stride[d];
        for (int i = 0, j = 0; i < in->ndim; i++)
            if (i != d) {
                out->shape[j] = in->shape[i];
                out->stride[j++] = in->stride[i];
            }
        return true;
    }
    case OP_SLICE: {
        /* args->dim; 0 <= start <= stop <= size; step > 0 */
        int d = args->dim;
        *out = *in;
        int64_t span = args->stop - args->start;
        out->shape[d] = span > 0 ? (span + args->step - 1) / args->step : 0;
        out->stride[d] = in->stride[d] * args->step;
        out->offset = in->offset + args->start * in->stride[d];
        return true;
    }
    default:
        return false;
    }
}

/* ---- strided element loops ---- */

/* dst[...] = src[...] (or +=) over the logical elements of two tensors of
 * the same shape, any layouts; dst's elements must not overlap each other
 * unless `accumulate` (then repeated elements collect every addend). */
static void strided_apply(Tensor *dst, const Tensor *src, bool accumulate)
{
    int64_t shape[4] = {1, 1, 1, 1}, sd[4] = {0}, ss[4] = {0};
    for (int i = 0; i < dst->ndim; i++) {
        int j = 4 - dst->ndim + i;
        shape[j] = dst->shape[i];
        sd[j] = dst->stride[i];
        ss[j] = src->stride[i];
    }
    float *d0 = dst->storage->data + dst->offset;
    const float *s0 = src->storage->data + src->offset;
    int64_t n = shape[3];
    for (int64_t i0 = 0; i0 < shape[0]; i0++)
        for (int64_t i1 = 0; i1 < shape[1]; i1++)
            for (int64_t i2 = 0; i2 < shape[2]; i2++) {
                float *d = d0 + i0 * sd[0] + i1 * sd[1] + i2 * sd[2];
                const float *s = s0 + i0 * ss[0] + i1 * ss[1] + i2 * ss[2];
                if (accumulate && sd[3] == 1 && ss[3] == 1)
                    for (int64_t k = 0; k < n; k++)
                        d[k] += s[k];
                else if (accumulate)
                    for (int64_t k = 0; k < n; k++)
                        d[k * sd[3]] += s[k * ss[3]];
                else if (sd[3] == 1 && ss[3] == 1)
                    memcpy(d, s, (size_t)n * sizeof *d);
                else
                    for (int64_t k = 0; k < n; k++)
                        d[k * sd[3]] = s[k * ss[3]];
            }
}

/* A new contiguous tensor of (ndim, shape) holding t's elements in
 * row-major order (numel must match). */
static Tensor *copy_regrouped(Engine *eng, const Tensor *t, int ndim, const int64_t *shape)
{
    Tensor *out = tensor_empty(eng, t->dtype, ndim, shape);
    if (out)
        strided_copy(tensor_data(out), t);
    return out;
}

/* ---- the view ops: one forward and one backward for all five kinds ---- */

static Tensor *view_forward(Engine *eng, Node *n)
{
    Tensor *in = n->inputs[0];
    Layout src = layout_of(in), dst;
    if (!view_layout(n->op, &n->args, &src, &dst))
        return copy_regrouped(eng, in, n->args.ndim, n->args.shape); /* reshape's copy */
    Tensor *out = tensor_alias(eng, in);
    if (!out)
        return NULL;
    out->ndim = dst.ndim;
    memcpy(out->shape, dst.shape, sizeof out->shape);
    memcpy(out->stride, dst.stride, sizeof out->stride);
    out->offset = dst.offset;
    return out;
}

/* gin[0] (contiguous, input shape) viewed as the forward view += gout */
static bool view_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    if (!gin[0])
        return true;
    Layout src = layout_of(gin[0]), dst;
    if (!view_layout(n->op, &n->args, &src, &dst))
        return engine_fail(eng, "%s: gradient layout is not a view", op_table[n->op].name);
    Tensor g = view_descriptor(gin[0], &dst);
    strided_apply(&g, gout, true);
    return true;
}

Tensor *op_view_forward(Engine *eng, Node *n) { return view_forward(eng, n); }
Tensor *op_transpose_forward(Engine *eng, Node *n) { return view_forward(eng, n); }
Tensor *op_expand_forward(Engine *eng, Node *n) { return view_forward(eng, n); }
Tensor *op_select_forward(Engine *eng, Node *n) { return view_forward(eng, n); }
Tensor *op_slice_forward(Engine *eng, Node *n) { return view_forward(eng, n); }

bool op_view_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    return view_backward(eng, n, gout, gin);
}

bool op_transpose_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    return view_backward(eng, n, gout, gin);
}

bool op_expand_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    return view_backward(eng, n, gout, gin);
}

bool op_select_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    return view_backward(eng, n, gout, gin);
}

bool op_slice_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    return view_backward(eng, n, gout, gin);
}

/* ---- clone and .float(): copies whose gradient passes straight through ---- */

Tensor *op_clone_forward(Engine *eng, Node *n)
{
    return tensor_copy_data(eng, n->inputs[0]);
}

static bool pass_gradient(const Tensor *gout, Tensor **gin)
{
    if (!gin[0])
        return true;
    float *d = tensor_data(gin[0]);
    const float *g = tensor_data(gout);
    int64_t count = tensor_numel(gin[0]);
    for (int64_t i = 0; i < count; i++)
        d[i] += g[i];
    return true;
}

bool op_clone_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    (void)n;
    return pass_gradient(gout, gin);
}

Tensor *op_to_float_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    /* always a new tensor: the node must never become its input's grad_fn */
    return a->dtype == DTYPE_FLOAT32 ? tensor_copy_data(eng, a) : tensor_to_dtype(eng, a, DTYPE_FLOAT32);
}

bool op_to_float_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    (void)n;
    return pass_gradient(gout, gin);
}

/* ---- index_select: out[.., j, ..] = a[.., indices[j], ..] ---- */

/* a seen as (outer, size, inner) around dim d */
static void split_at_dim(const Tensor *a, int d, int64_t *outer, int64_t *size, int64_t *inner)
{
    *outer = *inner = 1;
    for (int i = 0; i < d; i++)
        *outer *= a->shape[i];
    *size = a->shape[d];
    for (int i = d + 1; i < a->ndim; i++)
        *inner *= a->shape[i];
}

/* args->dim; args->indices[0..n_indices), each already in [0, size) */
Tensor *op_index_select_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    int d = n->args.dim;
    int64_t count = n->args.n_indices, outer, size, inner;
    split_at_dim(a, d, &outer, &size, &inner);
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[d] = count;
    Tensor *src = tensor_contiguous(eng, a);
    Tensor *out = src ? tensor_empty(eng, a->dtype, a->ndim, shape) : NULL;
    if (!out) {
        tensor_release(src);
        return NULL;
    }
    const float *x = tensor_data(src);
    float *o = tensor_data(out);
    for (int64_t i = 0; i < outer; i++)
        for (int64_t j = 0; j < count; j++)
            memcpy(o + (i * count + j) * inner, x + (i * size + n->args.indices[j]) * inner,
                   (size_t)inner * sizeof *o);
    tensor_release(src);
    return out;
}

/* gin[.., indices[j], ..] += gout[.., j, ..]; a repeated index collects
 * the gradient of every position that read it. */
bool op_index_select_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    if (!gin[0])
        return true;
    int64_t count = n->args.n_indices, outer, size, inner;
    split_at_dim(gin[0], n->args.dim, &outer, &size, &inner);
    const float *g = tensor_data(gout);
    float *d = tensor_data(gin[0]);
    for (int64_t i = 0; i < outer; i++)
        for (int64_t j = 0; j < count; j++) {
            float *dst = d + (i * size + n->args.indices[j]) * inner;
            const float *src = g + (i * count + j) * inner;
            for (int64_t k = 0; k < inner; k++)
                dst[k] += src[k];
        }
    return true;
}

/* ---- cat and stack ---- */

/* cat skips a 1-D tensor with no elements, as PyTorch does for
 * compatibility with code that starts from torch.tensor([]). */
static bool is_legacy_empty(const Tensor *t)
{
    return t->ndim == 1 && t->shape[0] == 0;
}

/* The layout of input t as it enters the concatenation: t itself for cat,
 * t with a size-1 dim inserted at `dim` for stack. */
static Layout piece_layout(const Tensor *t, bool stack, int dim)
{
    Layout l = layout_of(t);
    if (!stack)
        return l;
    for (int i = l.ndim; i > dim; i--) {
        l.shape[i] = l.shape[i - 1];
        l.stride[i] = l.stride[i - 1];
    }
    l.shape[dim] = 1;
    l.stride[dim] = 0;
    l.ndim++;
    return l;
}

/* Inputs were checked by the wrappers (same shapes except along args.dim;
 * for stack all equal); args.dim is non-negative in the output's dims. */
static Tensor *concat_forward(Engine *eng, Node *n, bool stack)
{
    int dim = n->args.dim;
    const Tensor *ref = NULL;
    DType dtype = DTYPE_BOOL; /* promoted: bool < int64 < float32 */
    for (int i = 0; i < n->n_inputs; i++) {
        const Tensor *t = n->inputs[i];
        if (t->dtype == DTYPE_FLOAT32 || (t->dtype == DTYPE_INT64 && dtype == DTYPE_BOOL))
            dtype = t->dtype;
        if (!ref && (stack || !is_legacy_empty(t)))
            ref = t;
    }
    if (!ref) /* every input is an empty 1-D tensor */
        return tensor_empty(eng, dtype, 1, (const int64_t[]){0});
    Layout shape = piece_layout(ref, stack, dim);
    shape.shape[dim] = 0;
    for (int i = 0; i < n->n_inputs; i++)
        if (stack || !is_legacy_empty(n->inputs[i]))
            shape.shape[dim] += stack ? 1 : n->inputs[i]->shape[dim];
    Tensor *out = tensor_empty(eng, dtype, shape.ndim, shape.shape);
    if (!out)
        return NULL;
    int64_t at = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const Tensor *t = n->inputs[i];
        if (!stack && is_legacy_empty(t))
            continue;
        Layout piece = piece_layout(t, stack, dim);
        Tensor src = view_descriptor(t, &piece);
        Layout part = layout_of(out);
        part.shape[dim] = piece.shape[dim];
        part.offset += at * part.stride[dim];
        Tensor dst = view_descriptor(out, &part);
        strided_apply(&dst, &src, false);
        at += piece.shape[dim];
    }
    return out;
}

/* gin[i] += the part of gout that input i filled */
static bool concat_backward(Node *n, const Tensor *gout, Tensor **gin, bool stack)
{
    int dim = n->args.dim;
    int64_t at = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const Tensor *t = n->inputs[i];
        if (!stack && is_legacy_empty(t))
            continue;
        int64_t width = stack ? 1 : t->shape[dim];
        if (gin[i]) {
            Layout piece = piece_layout(gin[i], stack, dim);
            Tensor dst = view_descriptor(gin[i], &piece);
            Layout part = layout_of(gout);
            part.shape[dim] = width;
            part.offset += at * part.stride[dim];
            Tensor src = view_descriptor(gout, &part);
            strided_apply(&dst, &src, true);
        }
        at += width;
    }
    return true;
}

Tensor *op_cat_forward(Engine *eng, Node *n) { return concat_forward(eng, n, false); }
Tensor *op_stack_forward(Engine *eng, Node *n) { return concat_forward(eng, n, true); }

bool op_cat_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    return concat_backward(n, gout, gin, false);
}

bool op_stack_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    return concat_backward(n, gout, gin, true);
}

/* ==== public wrappers: argument checks with PyTorch's messages ==== */

/* "[2, 5]": PyTorch's spelling of a size list in its messages */
static void size_list_format(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "",
                                 (long long)shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

static Tensor *apply_view(Engine *eng, OpKind kind, Tensor *a, const OpArgs *args)
{
    return op_apply(eng, kind, 1, &a, args);
}

static bool check_ndim(Engine *eng, int ndim)
{
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS)
        return engine_fail(eng, "tensors have at most %d dimensions (got %d)", TENSOR_MAX_DIMS, ndim);
    return true;
}

/* The target shape of view/reshape with one -1 inferred from numel. */
static bool infer_shape(Engine *eng, int64_t numel, int ndim, const int64_t *shape, int64_t *out)
{
    if (!check_ndim(eng, ndim))
        return false;
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1) {
            if (infer >= 0)
                return engine_fail(eng, "only one dimension can be inferred");
            infer = i;
        } else if (shape[i] < 0) {
            return engine_fail(eng, "invalid shape dimension %lld", (long long)shape[i]);
        } else {
            known *= shape[i];
        }
        out[i] = shape[i];
    }
    char list[128];
    size_list_format(list, sizeof list, ndim, shape);
    if (infer >= 0) {
        if (known == 0) {
            if (numel == 0)
                return engine_fail(eng, "cannot reshape tensor of 0 elements into shape %s because "
                                   "the unspecified dimension size -1 can be any value and is ambiguous",
                                   list);
        } else if (numel % known == 0) {
            out[infer] = numel / known;
            return true;
        }
    } else if (known == numel) {
        return true;
    }
    return engine_fail(eng, "shape '%s' is invalid for input of size %lld", list, (long long)numel);
}

/* OP_VIEW to a resolved shape; `copy_name` is the grad_fn name when the
 * regrouping must copy (NULL: a view is required). */
static Tensor *regroup(Engine *eng, Tensor *a, int ndim, const int64_t *shape,
                       const char *view_name, const char *copy_name)
{
    OpArgs args = {0};
    args.ndim = ndim;
    memcpy(args.shape, shape, (size_t)ndim * sizeof *shape);
    Layout src = layout_of(a), dst;
    bool as_view = layout_regroup(&src, ndim, shape, &dst);
    if (!as_view && !copy_name) {
        engine_fail(eng, "view size is not compatible with input tensor's size and stride (at least "
                    "one dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
        return NULL;
    }
    args.grad_fn_name = as_view ? view_name : copy_name;
    return apply_view(eng, OP_VIEW, a, &args);
}

Tensor *tensor_view(Engine *eng, Tensor *a, int ndim, const int64_t *shape)
{
    int64_t target[TENSOR_MAX_DIMS];
    if (!infer_shape(eng, tensor_numel(a), ndim, shape, target))
        return NULL;
    return regroup(eng, a, ndim, target, NULL, NULL);
}

Tensor *tensor_reshape(Engine *eng, Tensor *a, int ndim, const int64_t *shape)
{
    int64_t target[TENSOR_MAX_DIMS];
    if (!infer_shape(eng, tensor_numel(a), ndim, shape, target))
        return NULL;
    return regroup(eng, a, ndim, target, "ReshapeAliasBackward0", "UnsafeViewBackward0");
}

Tensor *tensor_flatten(Engine *eng, Tensor *a, int64_t start_dim, int64_t end_dim)
{
    int s, e;
    if (!tensor_wrap_dim(eng, a->ndim, start_dim, &s) || !tensor_wrap_dim(eng, a->ndim, end_dim, &e))
        return NULL;
    if (s > e) {
        engine_fail(eng, "flatten() has invalid args: start_dim cannot come after end_dim");
        return NULL;
    }
    if (a->ndim == 0)
        return regroup(eng, a, 1, (const int64_t[]){1}, "ReshapeAliasBackward0", "UnsafeViewBackward0");
    if (s == e)
        return tensor_retain(a); /* PyTorch returns the tensor itself */
    int64_t shape[TENSOR_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < a->ndim; i++) {
        if (i <= s || i > e)
            shape[nd++] = a->shape[i];
        else
            shape[nd - 1] *= a->shape[i];
    }
    return regroup(eng, a, nd, shape, "ReshapeAliasBackward0", "UnsafeViewBackward0");
}

Tensor *tensor_unsqueeze(Engine *eng, Tensor *a, int64_t dim)
{
    int d;
    if (!tensor_wrap_dim(eng, a->ndim + 1, dim, &d) || !check_ndim(eng, a->ndim + 1))
        return NULL;
    int64_t shape[TENSOR_MAX_DIMS];
    for (int i = 0, j = 0; i <= a->ndim; i++)
        shape[i] = i == d ? 1 : a->shape[j++];
    return regroup(eng, a, a->ndim + 1, shape, "UnsqueezeBackward0", NULL);
}

Tensor *tensor_squeeze(Engine *eng, Tensor *a)
{
    int64_t shape[TENSOR_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != 1)
            shape[nd++] = a->shape[i];
    return regroup(eng, a, nd, shape, "SqueezeBackward0", NULL);
}

Tensor *tensor_squeeze_dim(Engine *eng, Tensor *a, int64_t dim)
{
    int d;
    if (!tensor_wrap_dim(eng, a->ndim, dim, &d))
        return NULL;
    int64_t shape[TENSOR_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < a->ndim; i++)
        if (i != d || a->shape[i] != 1)
            shape[nd++] = a->shape[i];
    return regroup(eng, a, nd, shape, "SqueezeBackward1", NULL);
}

static Tensor *permute(Engine *eng, Tensor *a, const int64_t *perm, const char *grad_fn_name)
{
    OpArgs args = {0};
    args.ndim = a->ndim;
    memcpy(args.shape, perm, (size_t)a->ndim * sizeof *perm);
    args.grad_fn_name = grad_fn_name;
    return apply_view(eng, OP_TRANSPOSE, a, &args);
}

Tensor *tensor_transpose(Engine *eng, Tensor *a, int64_t dim0, int64_t dim1)
{
    int d0, d1;
    if (!tensor_wrap_dim(eng, a->ndim, dim0, &d0) || !tensor_wrap_dim(eng, a->ndim, dim1, &d1))
        return NULL;
    int64_t perm[TENSOR_MAX_DIMS] = {0, 1, 2, 3};
    if (a->ndim > 0) {
        perm[d0] = d1;
        perm[d1] = d0;
    }
    return permute(eng, a, perm, NULL);
}

static Tensor *reverse_dims(Engine *eng, Tensor *a, const char *grad_fn_name)
{
    int64_t perm[TENSOR_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++)
        perm[i] = a->ndim - 1 - i;
    return permute(eng, a, perm, grad_fn_name);
}

Tensor *tensor_t(Engine *eng, Tensor *a)
{
    if (a->ndim > 2) {
        engine_fail(eng, "t() expects a tensor with <= 2 dimensions, but self is %dD", a->ndim);
        return NULL;
    }
    return reverse_dims(eng, a, "TBackward0");
}

Tensor *tensor_T(Engine *eng, Tensor *a)
{
    return reverse_dims(eng, a, "PermuteBackward0");
}

Tensor *tensor_expand(Engine *eng, Tensor *a, int ndim, const int64_t *shape)
{
    if (!check_ndim(eng, ndim))
        return NULL;
    if (ndim < a->ndim) {
        engine_fail(eng, "expand: the number of sizes provided (%d) must be greater or equal to the "
                    "number of dimensions in the tensor (%d)", ndim, a->ndim);
        return NULL;
    }
    OpArgs args = {0};
    args.ndim = ndim;
    int lead = ndim - a->ndim;
    for (int i = 0; i < ndim; i++) {
        int j = i - lead;
        int64_t want = shape[i];
        if (j < 0) {
            if (want < 0) {
                engine_fail(eng, "the expanded size of the tensor (%lld) isn't allowed in a leading, "
                            "non-existing dimension %d", (long long)want, i);
                return NULL;
            }
        } else if (want == -1) {
            want = a->shape[j];
        } else if (want != a->shape[j] && a->shape[j] != 1) {
            char target[128], have[128];
            size_list_format(target, sizeof target, ndim, shape);
            size_list_format(have, sizeof have, a->ndim, a->shape);
            engine_fail(eng, "the expanded size of the tensor (%lld) must match the existing size "
                        "(%lld) at non-singleton dimension %d.  Target sizes: %s.  Tensor sizes: %s",
                        (long long)want, (long long)a->shape[j], i, target, have);
            return NULL;
        } else if (want < 0) {
            engine_fail(eng, "expand: invalid size %lld", (long long)want);
            return NULL;
        }
        args.shape[i] = want;
    }
    return apply_view(eng, OP_EXPAND, a, &args);
}

Tensor *tensor_clone(Engine *eng, Tensor *a)
{
    OpArgs args = {0};
    return op_apply(eng, OP_CLONE, 1, &a, &args);
}

Tensor *tensor_to_float(Engine *eng, Tensor *a)
{
    if (a->dtype == DTYPE_FLOAT32)
        return tensor_retain(a); /* .float() of a float tensor is the tensor itself */
    OpArgs args = {0};
    return op_apply(eng, OP_TO_FLOAT, 1, &a, &args);
}

/* ---- indexing ---- */

static bool check_indexable(Engine *eng, const Tensor *a)
{
    if (a->ndim > 0)
        return true;
    return engine_fail(eng, "invalid index of a 0-dim tensor. Use `tensor.item()` to convert a "
                       "0-dim tensor to a number");
}

/* index wrapped into [0, size), or false + PyTorch's message */
static bool wrap_index(Engine *eng, int64_t index, int dim, int64_t size, int64_t *out)
{
    if (index < -size || index >= size)
        return engine_fail(eng, "index %lld is out of bounds for dimension %d with size %lld",
                           (long long)index, dim, (long long)size);
    *out = index < 0 ? index + size : index;
    return true;
}

Tensor *tensor_select(Engine *eng, Tensor *a, int64_t dim, int64_t index)
{
    int d;
    OpArgs args = {0};
    if (!check_indexable(eng, a) || !tensor_wrap_dim(eng, a->ndim, dim, &d) ||
        !wrap_index(eng, index, d, a->shape[d], &args.start))
        return NULL;
    args.dim = d;
    return apply_view(eng, OP_SELECT, a, &args);
}

/* Python's slice bound: negative counts from the end, then clamp to [0, size]. */
static int64_t clamp_bound(int64_t v, int64_t size)
{
    if (v < 0)
        v += size;
    return v < 0 ? 0 : v > size ? size : v;
}

Tensor *tensor_slice(Engine *eng, Tensor *a, int64_t dim, SliceSpec s)
{
    if (a->ndim == 0) {
        engine_fail(eng, "slice() cannot be applied to a 0-dim tensor.");
        return NULL;
    }
    if (s.step == 0) {
        engine_fail(eng, "slice step cannot be zero");
        return NULL;
    }
    if (s.step < 0) {
        engine_fail(eng, "step must be greater than zero");
        return NULL;
    }
    int d;
    if (!tensor_wrap_dim(eng, a->ndim, dim, &d))
        return NULL;
    int64_t size = a->shape[d];
    OpArgs args = {0};
    args.dim = d;
    args.step = s.step;
    args.start = s.has_start ? clamp_bound(s.start, size) : 0;
    args.stop = s.has_stop ? clamp_bound(s.stop, size) : size;
    if (args.stop < args.start)
        args.stop = args.start;
    return apply_view(eng, OP_SLICE, a, &args);
}

Tensor *tensor_index_select(Engine *eng, Tensor *a, int64_t dim, const int64_t *indices, int64_t n)
{
    int d;
    if (!check_indexable(eng, a) || !tensor_wrap_dim(eng, a->ndim, dim, &d))
        return NULL;
    if (n < 0 || n > ((int64_t)1 << 40)) {
        engine_fail(eng, "index list too long");
        return NULL;
    }
    int64_t *wrapped = malloc((size_t)(n > 0 ? n : 1) * sizeof *wrapped);
    if (!wrapped) {
        engine_fail(eng, "out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        if (!wrap_index(eng, indices[i], d, a->shape[d], &wrapped[i])) {
            free(wrapped);
            return NULL;
        }
    OpArgs args = {0};
    args.dim = d;
    args.indices = wrapped;
    args.n_indices = n;
    Tensor *out = op_apply(eng, OP_INDEX_SELECT, 1, &a, &args);
    free(wrapped);
    return out;
}

/* a[mask]: the mask covers a's leading dims; the result lists the selected
 * positions along one dim, followed by a's remaining dims. Built as a
 * reshape to (positions, rest...) and an index_select, so it carries a
 * gradient like PyTorch's (IndexBackward0). */
Tensor *tensor_masked_select(Engine *eng, Tensor *a, Tensor *mask)
{
    if (mask->dtype != DTYPE_BOOL) {
        engine_fail(eng, "masked select: expected a bool mask, but got %s", dtype_name(mask->dtype));
        return NULL;
    }
    if (mask->ndim == 0 || mask->ndim > a->ndim) {
        char fm[96], fa[96];
        tensor_shape_str(mask, fm, sizeof fm);
        tensor_shape_str(a, fa, sizeof fa);
        engine_fail(eng, "masked select: a mask of shape %s cannot index a tensor of shape %s", fm, fa);
        return NULL;
    }
    for (int i = 0; i < mask->ndim; i++)
        if (mask->shape[i] != a->shape[i]) {
            engine_fail(eng, "the shape of the mask [%lld] at index %d does not match the shape of "
                        "the indexed tensor [%lld] at index %d",
                        (long long)mask->shape[i], i, (long long)a->shape[i], i);
            return NULL;
        }
    int64_t positions = tensor_numel(mask);
    int64_t shape[TENSOR_MAX_DIMS];
    int nd = 0;
    shape[nd++] = positions;
    for (int i = mask->ndim; i < a->ndim; i++)
        shape[nd++] = a->shape[i];
    int64_t *chosen = malloc((size_t)(positions > 0 ? positions : 1) * sizeof *chosen);
    if (!chosen) {
        engine_fail(eng, "out of memory");
        return NULL;
    }
    int64_t count = 0;
    for (int64_t i = 0; i < positions; i++)
        if (tensor_get_flat(mask, i) != 0.0f)
            chosen[count++] = i;
    Tensor *rows = tensor_reshape(eng, a, nd, shape);
    Tensor *out = rows ? tensor_index_select(eng, rows, 0, chosen, count) : NULL;
    tensor_release(rows);
    free(chosen);
    return out;
}

/* ---- cat and stack ---- */

/* One OP_CAT/OP_STACK node. `dim` is already wrapped. */
static Tensor *concat_apply(Engine *eng, OpKind kind, int n, Tensor *const *ts, int dim,
                            const char *grad_fn_name)
{
    OpArgs args = {0};
    args.dim = dim;
    args.grad_fn_name = grad_fn_name;
    return op_apply(eng, kind, n, ts, &args);
}

Tensor *tensor_cat(Engine *eng, int n, Tensor *const *ts, int64_t dim)
{
    if (n <= 0) {
        engine_fail(eng, "torch.cat(): expected a non-empty list of Tensors");
        return NULL;
    }
    const Tensor *ref = NULL;
    int ref_at = 0;
    for (int i = 0; i < n && !ref; i++)
        if (!is_legacy_empty(ts[i])) {
            ref = ts[i];
            ref_at = i;
        }
    if (!ref) {
        ref = ts[0];
        ref_at = 0;
    }
    for (int i = 0; i < n; i++)
        if (ts[i]->ndim == 0) {
            engine_fail(eng, "zero-dimensional tensor (at position %d) cannot be concatenated", i);
            return NULL;
        }
    int d;
    if (!tensor_wrap_dim(eng, ref->ndim, dim, &d))
        return NULL;
    for (int i = 0; i < n; i++) {
        const Tensor *t = ts[i];
        if (is_legacy_empty(t) && ref->ndim != 1)
            continue;
        bool same_ndim = t->ndim == ref->ndim, sizes_match = same_ndim;
        for (int k = 0; k < t->ndim && same_ndim; k++)
            sizes_match = sizes_match && (k == d || t->shape[k] == ref->shape[k]);
        if (sizes_match)
            continue;
        char fr[96], ft[96];
        tensor_shape_str(ref, fr, sizeof fr);
        tensor_shape_str(t, ft, sizeof ft);
        if (!same_ndim)
            engine_fail(eng, "torch.cat(): tensors must have same number of dimensions: got %s "
                        "(tensor %d) and %s (tensor %d)", fr, ref_at, ft, i);
        else
            engine_fail(eng, "torch.cat(): sizes of tensors must match except in dimension %d, "
                        "but got %s (tensor %d) and %s (tensor %d)", d, fr, ref_at, ft, i);
        return NULL;
    }
    return concat_apply(eng, OP_CAT, n, ts, d, NULL);
}

Tensor *tensor_stack(Engine *eng, int n, Tensor *const *ts, int64_t dim)
{
    if (n <= 0) {
        engine_fail(eng, "stack expects a non-empty TensorList");
        return NULL;
    }
    int d;
    if (!tensor_wrap_dim(eng, ts[0]->ndim + 1, dim, &d) || !check_ndim(eng, ts[0]->ndim + 1))
        return NULL;
    for (int i = 1; i < n; i++)
        if (!tensor_same_shape(ts[0], ts[i])) {
            char f0[96], fi[96];
            tensor_shape_str(ts[0], f0, sizeof f0);
            tensor_shape_str(ts[i], fi, sizeof fi);
            engine_fail(eng, "stack expects each tensor to be equal size, but got %s at entry 0 "
                        "and %s at entry %d", f0, fi, i);
            return NULL;
        }
    return concat_apply(eng, OP_STACK, n, ts, d, NULL);
}
