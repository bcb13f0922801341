/* Shape and indexing ops: forward values, which results share storage with
 * their input (exactly where PyTorch's do), the grad_fn names PyTorch 1.13
 * prints, gradients by central differences (also on non-contiguous
 * inputs), and errors with PyTorch's messages. */
#include <string.h>

#include "fixture.h"
#include "gradcheck.h"

/* 0, 1, 2, ... in the given shape (float32) */
static Tensor *iota(Engine *eng, int ndim, const int64_t *shape)
{
    Tensor *t = tensor_empty(eng, DTYPE_FLOAT32, ndim, shape);
    assert_non_null(t);
    for (int64_t i = 0; i < tensor_numel(t); i++)
        tensor_data(t)[i] = (float)i;
    return t;
}

/* Does a write through `view` at flat index i show in `base` at flat j? */
static bool writes_through(Tensor *view, int64_t i, Tensor *base, int64_t j)
{
    float old = tensor_get_flat(view, i);
    tensor_set_flat(view, i, 1000.0f);
    bool seen = tensor_get_flat(base, j) == 1000.0f;
    tensor_set_flat(view, i, old);
    return seen;
}

static void assert_error(Tensor *result, Engine *eng, const char *message)
{
    assert_null(result);
    assert_string_equal(engine_error(eng), message);
}

static void release_all(Tensor **ts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tensor_release(ts[i]);
}

#define RELEASE(...) release_all((Tensor *[]){__VA_ARGS__}, sizeof((Tensor *[]){__VA_ARGS__}) / sizeof(Tensor *))

/* ---- view, reshape, flatten ---- */

static void test_view_shares_storage(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 1, SHAPE(6));
    Tensor *v = tensor_view(eng, x, 2, SHAPE(-1, 2));
    assert_non_null(v);
    assert_shape(v, 2, SHAPE(3, 2));
    assert_tensor_close(v, VALUES(0, 1, 2, 3, 4, 5), 6, 0);
    assert_true(v->storage == x->storage);
    assert_true(writes_through(v, 3, x, 3));
    /* a transposed tensor can still be viewed when no dim spans two runs */
    Tensor *t = tensor_t(eng, v);                       /* (2, 3), strides (1, 2) */
    Tensor *split = tensor_view(eng, t, 3, SHAPE(2, 3, 1));
    assert_non_null(split);
    assert_true(writes_through(split, 1, x, 2));        /* split[0, 1, 0] is t[0, 1] = x[2] */
    RELEASE(x, v, t, split);
}

static void test_view_errors(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 2, SHAPE(2, 3));
    Tensor *t = tensor_t(eng, x);
    assert_error(tensor_view(eng, t, 1, SHAPE(6)), eng,
                 "view size is not compatible with input tensor's size and stride (at least one "
                 "dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
    assert_error(tensor_view(eng, x, 2, SHAPE(2, 5)), eng, "shape '[2, 5]' is invalid for input of size 6");
    assert_error(tensor_view(eng, x, 2, SHAPE(-1, 4)), eng, "shape '[-1, 4]' is invalid for input of size 6");
    assert_error(tensor_view(eng, x, 2, SHAPE(-1, -1)), eng, "only one dimension can be inferred");
    assert_error(tensor_view(eng, x, 2, SHAPE(-2, 3)), eng, "invalid shape dimension -2");
    assert_error(tensor_view(eng, x, 5, SHAPE(1, 1, 2, 3, 1)), eng, "tensors have at most 4 dimensions (got 5)");
    Tensor *empty = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(0, 3));
    assert_error(tensor_reshape(eng, empty, 2, SHAPE(-1, 0)), eng,
                 "cannot reshape tensor of 0 elements into shape [-1, 0] because the unspecified "
                 "dimension size -1 can be any value and is ambiguous");
    Tensor *ok = tensor_view(eng, empty, 2, SHAPE(-1, 3));
    assert_shape(ok, 2, SHAPE(0, 3));
    RELEASE(x, t, empty, ok);
}

static void test_reshape_views_or_copies(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 2, SHAPE(2, 3));
    x->requires_grad = true;
    Tensor *r = tensor_reshape(eng, x, 1, SHAPE(-1));
    assert_true(r->storage == x->storage);
    assert_string_equal(tensor_grad_fn_name(r), "ReshapeAliasBackward0");
    Tensor *t = tensor_t(eng, x);
    Tensor *c = tensor_reshape(eng, t, 1, SHAPE(6));   /* needs a copy */
    assert_non_null(c);
    assert_true(c->storage != x->storage);
    assert_tensor_close(c, VALUES(0, 3, 1, 4, 2, 5), 6, 0);
    assert_string_equal(tensor_grad_fn_name(c), "UnsafeViewBackward0");
    Tensor *v = tensor_view(eng, x, 2, SHAPE(3, 2));
    assert_string_equal(tensor_grad_fn_name(v), "ViewBackward0");
    Tensor *s = tensor_scalar(eng, DTYPE_FLOAT32, 5);
    Tensor *s1 = tensor_reshape(eng, s, 1, SHAPE(1));
    assert_shape(s1, 1, SHAPE(1));
    Tensor *s0 = tensor_view(eng, s1, 0, NULL);
    assert_int_equal(s0->ndim, 0);
    assert_tensor_close(s0, VALUES(5), 1, 0);
    RELEASE(x, r, t, c, v, s, s1, s0);
}

static void test_flatten(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 3, SHAPE(2, 3, 4));
    x->requires_grad = true;
    Tensor *f = tensor_flatten(eng, x, 1, -1);
    assert_shape(f, 2, SHAPE(2, 12));
    assert_true(f->storage == x->storage);
    assert_string_equal(tensor_grad_fn_name(f), "ReshapeAliasBackward0");
    Tensor *all = tensor_flatten(eng, x, 0, -1);
    assert_shape(all, 1, SHAPE(24));
    Tensor *mid = tensor_flatten(eng, x, 0, 1);
    assert_shape(mid, 2, SHAPE(6, 4));
    Tensor *same = tensor_flatten(eng, x, 1, 1);
    assert_ptr_equal(same, x);                        /* PyTorch returns the tensor itself */
    Tensor *s = tensor_scalar(eng, DTYPE_FLOAT32, 2);
    Tensor *s1 = tensor_flatten(eng, s, 0, -1);
    assert_shape(s1, 1, SHAPE(1));
    Tensor *xt = tensor_transpose(eng, x, 0, 2);      /* (4, 3, 2) */
    Tensor *ft = tensor_flatten(eng, xt, 1, 2);
    assert_shape(ft, 2, SHAPE(4, 6));
    assert_string_equal(tensor_grad_fn_name(ft), "UnsafeViewBackward0");
    assert_tensor_close(ft, VALUES(0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21,
                                   2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23), 24, 0);
    assert_error(tensor_flatten(eng, x, 2, 1), eng,
                 "flatten() has invalid args: start_dim cannot come after end_dim");
    assert_error(tensor_flatten(eng, x, 0, 3), eng,
                 "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
    RELEASE(x, f, all, mid, same, s, s1, xt, ft);
}

/* ---- squeeze, unsqueeze, transpose, t, T, expand ---- */

static void test_squeeze_unsqueeze(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 3, SHAPE(2, 1, 3));
    x->requires_grad = true;
    Tensor *a = tensor_squeeze(eng, x);
    assert_shape(a, 2, SHAPE(2, 3));
    assert_true(writes_through(a, 4, x, 4));
    assert_string_equal(tensor_grad_fn_name(a), "SqueezeBackward0");
    Tensor *b = tensor_squeeze_dim(eng, x, 1);
    assert_shape(b, 2, SHAPE(2, 3));
    assert_string_equal(tensor_grad_fn_name(b), "SqueezeBackward1");
    Tensor *c = tensor_squeeze_dim(eng, x, 0);        /* size 2: unchanged, still a view */
    assert_shape(c, 3, SHAPE(2, 1, 3));
    assert_string_equal(tensor_grad_fn_name(c), "SqueezeBackward1");
    Tensor *d = tensor_unsqueeze(eng, a, -1);
    assert_shape(d, 3, SHAPE(2, 3, 1));
    assert_string_equal(tensor_grad_fn_name(d), "UnsqueezeBackward0");
    Tensor *e = tensor_unsqueeze(eng, a, 0);
    assert_shape(e, 3, SHAPE(1, 2, 3));
    assert_true(writes_through(e, 5, x, 5));
    /* unsqueeze of a transposed tensor is a view too */
    Tensor *at = tensor_t(eng, a);
    Tensor *f = tensor_unsqueeze(eng, at, 1);
    assert_shape(f, 3, SHAPE(3, 1, 2));
    assert_true(writes_through(f, 1, x, 3));           /* f[0, 0, 1] = a[1, 0] = x[3] */
    assert_error(tensor_squeeze_dim(eng, a, 2), eng,
                 "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_error(tensor_unsqueeze(eng, a, 3), eng,
                 "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
    Tensor *four = tensor_zeros(eng, DTYPE_FLOAT32, 4, SHAPE(1, 1, 1, 1));
    assert_error(tensor_unsqueeze(eng, four, 0), eng, "tensors have at most 4 dimensions (got 5)");
    RELEASE(x, a, b, c, d, e, at, f, four);
}

static void test_transpose_t_and_T(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 2, SHAPE(2, 3));
    x->requires_grad = true;
    Tensor *t = tensor_t(eng, x);
    assert_shape(t, 2, SHAPE(3, 2));
    assert_tensor_close(t, VALUES(0, 3, 1, 4, 2, 5), 6, 0);
    assert_true(writes_through(t, 1, x, 3));           /* t[0, 1] is x[1, 0] */
    assert_string_equal(tensor_grad_fn_name(t), "TBackward0");
    Tensor *tr = tensor_transpose(eng, x, -1, 0);
    assert_tensor_close(tr, VALUES(0, 3, 1, 4, 2, 5), 6, 0);
    assert_string_equal(tensor_grad_fn_name(tr), "TransposeBackward0");
    Tensor *T = tensor_T(eng, x);
    assert_string_equal(tensor_grad_fn_name(T), "PermuteBackward0");
    Tensor *y = iota(eng, 3, SHAPE(2, 3, 4));
    Tensor *yT = tensor_T(eng, y);
    assert_shape(yT, 3, SHAPE(4, 3, 2));
    assert_float_equal(tensor_get_flat(yT, 1), 12.0f, 0);  /* yT[0, 0, 1] = y[1, 0, 0] */
    Tensor *y12 = tensor_transpose(eng, y, 1, 2);
    assert_shape(y12, 3, SHAPE(2, 4, 3));
    assert_float_equal(tensor_get_flat(y12, 1), 4.0f, 0);  /* y12[0, 0, 1] = y[0, 1, 0] */
    Tensor *v = iota(eng, 1, SHAPE(3));
    Tensor *vt = tensor_t(eng, v);
    assert_shape(vt, 1, SHAPE(3));
    assert_error(tensor_t(eng, y), eng, "t() expects a tensor with <= 2 dimensions, but self is 3D");
    assert_error(tensor_transpose(eng, x, 0, 2), eng,
                 "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    RELEASE(x, t, tr, T, y, yT, y12, v, vt);
}

static void test_expand(void **state)
{
    Engine *eng = *state;
    Tensor *col = make_tensor(eng, 2, SHAPE(3, 1), VALUES(1, 2, 3));
    Tensor *e = tensor_expand(eng, col, 2, SHAPE(3, 4));
    assert_shape(e, 2, SHAPE(3, 4));
    assert_tensor_close(e, VALUES(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), 12, 0);
    assert_int_equal(e->stride[1], 0);
    tensor_set_flat(col, 1, 7.0f);                     /* a write to the base shows in every copy */
    assert_float_equal(tensor_get_flat(e, 6), 7.0f, 0);
    Tensor *lead = tensor_expand(eng, col, 3, SHAPE(2, -1, 4));
    assert_shape(lead, 3, SHAPE(2, 3, 4));
    assert_error(tensor_expand(eng, col, 2, SHAPE(2, 4)), eng,
                 "the expanded size of the tensor (2) must match the existing size (3) at "
                 "non-singleton dimension 0.  Target sizes: [2, 4].  Tensor sizes: [3, 1]");
    assert_error(tensor_expand(eng, col, 1, SHAPE(3)), eng,
                 "expand: the number of sizes provided (1) must be greater or equal to the number "
                 "of dimensions in the tensor (2)");
    assert_error(tensor_expand(eng, col, 3, SHAPE(-1, -1, 4)), eng,
                 "the expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0");
    RELEASE(col, e, lead);
}

/* ---- select, slice ---- */

static void test_select(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 2, SHAPE(3, 4));
    Tensor *row = tensor_select(eng, x, 0, 1);
    assert_shape(row, 1, SHAPE(4));
    assert_tensor_close(row, VALUES(4, 5, 6, 7), 4, 0);
    assert_true(writes_through(row, 2, x, 6));
    Tensor *last = tensor_select(eng, x, 0, -1);
    assert_tensor_close(last, VALUES(8, 9, 10, 11), 4, 0);
    Tensor *col = tensor_select(eng, x, 1, -3);
    assert_tensor_close(col, VALUES(1, 5, 9), 3, 0);
    assert_true(writes_through(col, 2, x, 9));
    Tensor *item = tensor_select(eng, row, 0, 3);
    assert_int_equal(item->ndim, 0);
    assert_tensor_close(item, VALUES(7), 1, 0);
    assert_error(tensor_select(eng, x, 0, 5), eng, "index 5 is out of bounds for dimension 0 with size 3");
    assert_error(tensor_select(eng, x, 1, -5), eng, "index -5 is out of bounds for dimension 1 with size 4");
    assert_error(tensor_select(eng, item, 0, 0), eng,
                 "invalid index of a 0-dim tensor. Use `tensor.item()` to convert a 0-dim tensor to a number");
    RELEASE(x, row, last, col, item);
}

static SliceSpec slice_of(bool has_start, int64_t start, bool has_stop, int64_t stop, int64_t step)
{
    SliceSpec s = {has_start, has_stop, start, stop, step};
    return s;
}

static void test_slice(void **state)
{
    Engine *eng = *state;
    Tensor *y = iota(eng, 1, SHAPE(10));
    struct { SliceSpec s; int64_t n; float v[10]; } cases[] = {
        {slice_of(true, 5, true, 100, 1), 5, {5, 6, 7, 8, 9}},   /* stop clamped */
        {slice_of(true, -100, true, 2, 1), 2, {0, 1}},          /* start clamped */
        {slice_of(true, 8, true, 2, 1), 0, {0}},                /* empty */
        {slice_of(false, 0, false, 0, 3), 4, {0, 3, 6, 9}},
        {slice_of(true, -3, false, 0, 1), 3, {7, 8, 9}},
        {slice_of(true, 1, true, -1, 4), 2, {1, 5}},
        {slice_of(true, 3, true, 3, 1), 0, {0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *s = tensor_slice(eng, y, 0, cases[c].s);
        assert_non_null(s);
        assert_shape(s, 1, (int64_t[]){cases[c].n});
        assert_tensor_close(s, cases[c].v, cases[c].n, 0);
        tensor_release(s);
    }
    Tensor *x = iota(eng, 2, SHAPE(2, 3));
    Tensor *cols = tensor_slice(eng, x, 1, slice_of(false, 0, false, 0, 2)); /* x[:, ::2] */
    assert_shape(cols, 2, SHAPE(2, 2));
    assert_int_equal(cols->stride[0], 3);
    assert_int_equal(cols->stride[1], 2);
    assert_tensor_close(cols, VALUES(0, 2, 3, 5), 4, 0);
    assert_true(writes_through(cols, 3, x, 5));
    x->requires_grad = true;
    Tensor *rows = tensor_slice(eng, x, 0, slice_of(true, 1, true, 3, 1));
    assert_string_equal(tensor_grad_fn_name(rows), "SliceBackward0");
    assert_error(tensor_slice(eng, y, 0, slice_of(false, 0, false, 0, -1)), eng, "step must be greater than zero");
    assert_error(tensor_slice(eng, y, 0, slice_of(false, 0, false, 0, 0)), eng, "slice step cannot be zero");
    Tensor *s = tensor_scalar(eng, DTYPE_FLOAT32, 1);
    assert_error(tensor_slice(eng, s, 0, slice_of(true, 1, false, 0, 1)), eng,
                 "slice() cannot be applied to a 0-dim tensor.");
    RELEASE(y, x, cols, rows, s);
}

/* ---- index_select, masked_select ---- */

static void test_index_select(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 2, SHAPE(3, 4));
    x->requires_grad = true;
    Tensor *rows = tensor_index_select(eng, x, 0, (int64_t[]){2, 0, -1}, 3);
    assert_shape(rows, 2, SHAPE(3, 4));
    assert_tensor_close(rows, VALUES(8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11), 12, 0);
    assert_true(rows->storage != x->storage);         /* a copy, as in PyTorch */
    assert_string_equal(tensor_grad_fn_name(rows), "IndexBackward0");
    Tensor *last = tensor_index_select(eng, x, 1, (int64_t[]){-1}, 1);  /* x[:, [-1]] keeps the dim */
    assert_shape(last, 2, SHAPE(3, 1));
    assert_tensor_close(last, VALUES(3, 7, 11), 3, 0);
    Tensor *none = tensor_index_select(eng, x, 0, NULL, 0);
    assert_shape(none, 2, SHAPE(0, 4));
    assert_error(tensor_index_select(eng, x, 0, (int64_t[]){0, 5}, 2), eng,
                 "index 5 is out of bounds for dimension 0 with size 3");
    assert_error(tensor_index_select(eng, x, 1, (int64_t[]){-5}, 1), eng,
                 "index -5 is out of bounds for dimension 1 with size 4");
    RELEASE(x, rows, last, none);
}

static void test_masked_select(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 2, SHAPE(2, 3));
    Tensor *mask = tensor_from_doubles(eng, DTYPE_BOOL, 2, SHAPE(2, 3), (double[]){1, 0, 1, 0, 0, 1}, 6);
    x->requires_grad = true;
    Tensor *r = tensor_masked_select(eng, x, mask);
    assert_shape(r, 1, SHAPE(3));
    assert_tensor_close(r, VALUES(0, 2, 5), 3, 0);
    assert_string_equal(tensor_grad_fn_name(r), "IndexBackward0");
    Tensor *row_mask = tensor_from_doubles(eng, DTYPE_BOOL, 1, SHAPE(2), (double[]){0, 1}, 2);
    Tensor *rows = tensor_masked_select(eng, x, row_mask);
    assert_shape(rows, 2, SHAPE(1, 3));
    assert_tensor_close(rows, VALUES(3, 4, 5), 3, 0);
    Tensor *bad = tensor_from_doubles(eng, DTYPE_BOOL, 1, SHAPE(3), (double[]){1, 0, 1}, 3);
    assert_error(tensor_masked_select(eng, x, bad), eng,
                 "the shape of the mask [3] at index 0 does not match the shape of the indexed tensor [2] at index 0");
    Tensor *ints = tensor_zeros(eng, DTYPE_INT64, 2, SHAPE(2, 3));
    assert_error(tensor_masked_select(eng, x, ints), eng,
                 "masked select: expected a bool mask, but got torch.int64");
    RELEASE(x, mask, r, row_mask, rows, bad, ints);
}

/* ---- cat, stack ---- */

static void test_cat_and_stack(void **state)
{
    Engine *eng = *state;
    Tensor *a = iota(eng, 2, SHAPE(2, 2));
    Tensor *b = make_tensor(eng, 2, SHAPE(1, 2), VALUES(-1, -2));
    Tensor *r = tensor_cat(eng, 2, (Tensor *[]){a, b}, 0);
    assert_shape(r, 2, SHAPE(3, 2));
    assert_tensor_close(r, VALUES(0, 1, 2, 3, -1, -2), 6, 0);
    tensor_release(r);
    Tensor *bt = tensor_t(eng, b);                       /* (2, 1), non-contiguous view */
    r = tensor_cat(eng, 3, (Tensor *[]){a, bt, a}, -1);
    assert_shape(r, 2, SHAPE(2, 5));
    assert_tensor_close(r, VALUES(0, 1, -1, 0, 1, 2, 3, -2, 2, 3), 10, 0);
    tensor_release(r);
    Tensor *ints = tensor_arange(eng, 1, 3, 1, DTYPE_INT64);
    Tensor *half = make_tensor(eng, 1, SHAPE(1), VALUES(1.5f));
    r = tensor_cat(eng, 2, (Tensor *[]){ints, half}, 0);
    assert_int_equal(r->dtype, DTYPE_FLOAT32);
    assert_tensor_close(r, VALUES(1, 2, 1.5f), 3, 0);
    tensor_release(r);
    Tensor *legacy = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(0));  /* skipped, as in PyTorch */
    r = tensor_cat(eng, 2, (Tensor *[]){legacy, a}, 1);
    assert_shape(r, 2, SHAPE(2, 2));
    tensor_release(r);
    r = tensor_stack(eng, 2, (Tensor *[]){a, a}, 0);
    assert_shape(r, 3, SHAPE(2, 2, 2));
    tensor_release(r);
    r = tensor_stack(eng, 2, (Tensor *[]){a, a}, -1);
    assert_shape(r, 3, SHAPE(2, 2, 2));
    assert_tensor_close(r, VALUES(0, 0, 1, 1, 2, 2, 3, 3), 8, 0);
    tensor_release(r);
    Tensor *v = make_tensor(eng, 1, SHAPE(2), VALUES(5, 6));
    r = tensor_stack(eng, 2, (Tensor *[]){v, v}, 1);
    assert_tensor_close(r, VALUES(5, 5, 6, 6), 4, 0);
    tensor_release(r);
    RELEASE(a, b, bt, ints, half, legacy, v);
}

static void test_cat_and_stack_errors(void **state)
{
    Engine *eng = *state;
    Tensor *a = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(2, 3));
    Tensor *b = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(3, 3));
    Tensor *c = tensor_zeros(eng, DTYPE_FLOAT32, 1, SHAPE(2));
    Tensor *s = tensor_scalar(eng, DTYPE_FLOAT32, 1);
    Tensor *d = tensor_zeros(eng, DTYPE_FLOAT32, 2, SHAPE(3, 2));
    assert_error(tensor_cat(eng, 2, (Tensor *[]){a, b}, 1), eng,
                 "torch.cat(): sizes of tensors must match except in dimension 1, but got (2, 3) "
                 "(tensor 0) and (3, 3) (tensor 1)");
    assert_error(tensor_cat(eng, 2, (Tensor *[]){a, c}, 0), eng,
                 "torch.cat(): tensors must have same number of dimensions: got (2, 3) (tensor 0) "
                 "and (2) (tensor 1)");
    assert_error(tensor_cat(eng, 2, (Tensor *[]){a, a}, 2), eng,
                 "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_error(tensor_cat(eng, 0, NULL, 0), eng, "torch.cat(): expected a non-empty list of Tensors");
    assert_error(tensor_cat(eng, 2, (Tensor *[]){c, s}, 0), eng,
                 "zero-dimensional tensor (at position 1) cannot be concatenated");
    assert_error(tensor_stack(eng, 2, (Tensor *[]){a, d}, 0), eng,
                 "stack expects each tensor to be equal size, but got (2, 3) at entry 0 and (3, 2) at entry 1");
    assert_error(tensor_stack(eng, 0, NULL, 0), eng, "stack expects a non-empty TensorList");
    assert_error(tensor_stack(eng, 2, (Tensor *[]){a, a}, 3), eng,
                 "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
    RELEASE(a, b, c, s, d);
}

/* ---- clone, .float() ---- */

static void test_clone_and_to_float(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 2, SHAPE(2, 2));
    x->requires_grad = true;
    Tensor *c = tensor_clone(eng, x);
    assert_true(c->storage != x->storage);
    assert_tensor_close(c, VALUES(0, 1, 2, 3), 4, 0);
    assert_string_equal(tensor_grad_fn_name(c), "CloneBackward0");
    Tensor *f = tensor_to_float(eng, x);
    assert_ptr_equal(f, x);
    Tensor *i = tensor_arange(eng, 0, 3, 1, DTYPE_INT64);
    Tensor *fi = tensor_to_float(eng, i);
    assert_int_equal(fi->dtype, DTYPE_FLOAT32);
    assert_true(fi->storage != i->storage);
    assert_tensor_close(fi, VALUES(0, 1, 2), 3, 0);
    Tensor *ci = tensor_clone(eng, i);
    assert_int_equal(ci->dtype, DTYPE_INT64);
    RELEASE(x, c, f, i, fi, ci);
}

/* ---- gradients ---- */

typedef Tensor *(*UnaryShapeFn)(Engine *eng, Tensor *x);

static Tensor *call(Engine *eng, Tensor **in, void *ctx)
{
    return (*(UnaryShapeFn *)ctx)(eng, in[0]);
}

static Tensor *view_fn(Engine *eng, Tensor *x) { return tensor_view(eng, x, 2, SHAPE(-1, 2)); }
static Tensor *reshape_fn(Engine *eng, Tensor *x) { return tensor_reshape(eng, x, 3, SHAPE(2, 1, -1)); }
static Tensor *flatten_fn(Engine *eng, Tensor *x) { return tensor_flatten(eng, x, 0, -1); }
static Tensor *squeeze_fn(Engine *eng, Tensor *x) { return tensor_squeeze(eng, x); }
static Tensor *unsqueeze_fn(Engine *eng, Tensor *x) { return tensor_unsqueeze(eng, x, 1); }
static Tensor *transpose_fn(Engine *eng, Tensor *x) { return tensor_transpose(eng, x, 0, -1); }
static Tensor *t_fn(Engine *eng, Tensor *x) { return tensor_t(eng, x); }
static Tensor *T_fn(Engine *eng, Tensor *x) { return tensor_T(eng, x); }
static Tensor *clone_fn(Engine *eng, Tensor *x) { return tensor_clone(eng, x); }
static Tensor *select_fn(Engine *eng, Tensor *x) { return tensor_select(eng, x, 0, -1); }
static Tensor *select_col_fn(Engine *eng, Tensor *x) { return tensor_select(eng, x, 1, 1); }

static Tensor *slice_fn(Engine *eng, Tensor *x)
{
    return tensor_slice(eng, x, 1, slice_of(true, -3, false, 0, 2));
}

static Tensor *expand_fn(Engine *eng, Tensor *x)
{
    int64_t shape[4] = {3, -1, -1, -1};
    return tensor_expand(eng, x, x->ndim + 1, shape);
}

static Tensor *index_fn(Engine *eng, Tensor *x)
{
    /* repeated and negative indices: the repeated row collects both gradients */
    return tensor_index_select(eng, x, 0, (int64_t[]){1, -1, 1, 0}, 4);
}

static Tensor *index_last_dim_fn(Engine *eng, Tensor *x)
{
    return tensor_index_select(eng, x, -1, (int64_t[]){0, 0, -1}, 3);
}

static Tensor *masked_fn(Engine *eng, Tensor *x)
{
    Tensor *zero = tensor_scalar(eng, DTYPE_FLOAT32, 0);
    Tensor *mask = tensor_compare(eng, CMP_GT, x, zero);
    Tensor *r = tensor_masked_select(eng, x, mask);
    tensor_release(zero);
    tensor_release(mask);
    return r;
}

/* (3, 1, 4) -> permute-like chain: transpose, slice, view-by-reshape */
static Tensor *chain_fn(Engine *eng, Tensor *x)
{
    Tensor *a = tensor_transpose(eng, x, 0, 2);                      /* (4, 1, 3) */
    Tensor *b = a ? tensor_slice(eng, a, 0, slice_of(true, 1, false, 0, 2)) : NULL; /* (2, 1, 3) */
    Tensor *c = b ? tensor_reshape(eng, b, 1, SHAPE(-1)) : NULL;      /* copy */
    Tensor *d = c ? tensor_unsqueeze(eng, c, 0) : NULL;
    tensor_release(a);
    tensor_release(b);
    tensor_release(c);
    return d;
}

typedef struct ShapeCase {
    UnaryShapeFn fn;
    int ndim;
    int64_t shape[4];
    bool transposed;   /* input built as a non-contiguous (transposed) leaf */
} ShapeCase;

/* A leaf requiring grad: contiguous, or the transpose of its dims 0 and
 * last of a contiguous tensor. */
static Tensor *leaf(Engine *eng, const ShapeCase *c)
{
    if (!c->transposed)
        return random_tensor(eng, c->ndim, c->shape, -1, 1, true);
    int64_t swapped[4];
    memcpy(swapped, c->shape, sizeof swapped);
    swapped[0] = c->shape[c->ndim - 1];
    swapped[c->ndim - 1] = c->shape[0];
    Tensor *base = random_tensor(eng, c->ndim, swapped, -1, 1, false);
    Tensor *t = tensor_transpose(eng, base, 0, -1);
    assert_non_null(t);
    t->requires_grad = true;
    tensor_release(base);
    return t;
}

static void test_shape_gradients(void **state)
{
    Engine *eng = *state;
    const ShapeCase cases[] = {
        {view_fn, 2, {3, 4}, false},        {view_fn, 3, {2, 1, 4}, false},
        {reshape_fn, 2, {2, 6}, false},     {reshape_fn, 2, {2, 6}, true},
        {flatten_fn, 3, {2, 3, 2}, false},  {flatten_fn, 2, {3, 2}, true},
        {squeeze_fn, 3, {2, 1, 3}, false},  {squeeze_fn, 3, {3, 1, 2}, true},
        {unsqueeze_fn, 2, {2, 3}, false},   {unsqueeze_fn, 2, {2, 3}, true},
        {transpose_fn, 3, {2, 3, 4}, false}, {transpose_fn, 2, {2, 3}, true},
        {t_fn, 2, {2, 3}, false},           {t_fn, 1, {3}, false},
        {T_fn, 3, {2, 3, 2}, false},        {T_fn, 4, {2, 1, 3, 2}, false},
        {clone_fn, 2, {2, 3}, true},
        {select_fn, 2, {3, 4}, false},      {select_col_fn, 3, {2, 3, 2}, true},
        {slice_fn, 2, {2, 5}, false},       {slice_fn, 2, {3, 5}, true},
        {expand_fn, 2, {1, 3}, false},      {expand_fn, 2, {2, 1}, true},
        {expand_fn, 1, {1}, false},
        {index_fn, 2, {3, 2}, false},       {index_fn, 2, {3, 2}, true},
        {index_last_dim_fn, 3, {2, 2, 3}, false},
        {masked_fn, 2, {3, 4}, false},      {masked_fn, 2, {3, 4}, true},
        {chain_fn, 3, {3, 1, 4}, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *x = leaf(eng, &cases[c]);
        if (cases[c].fn == masked_fn) /* keep every element ε away from the mask's edge */
            for (int64_t i = 0; i < tensor_numel(x); i++) {
                float v = tensor_get_flat(x, i);
                tensor_set_flat(x, i, v < 0 ? v - 0.1f : v + 0.1f);
            }
        assert_gradcheck(eng, call, 1, &x, (void *)&cases[c].fn, NULL);
        tensor_release(x);
    }
}

typedef struct ConcatCase {
    bool stack;
    int64_t dim;
    int n;
} ConcatCase;

static Tensor *concat_fn(Engine *eng, Tensor **in, void *ctx)
{
    const ConcatCase *c = ctx;
    return c->stack ? tensor_stack(eng, c->n, in, c->dim) : tensor_cat(eng, c->n, in, c->dim);
}

static void test_cat_and_stack_gradients(void **state)
{
    Engine *eng = *state;
    /* cat along dim 1: widths 1, 3, 2; the middle one non-contiguous, the
     * last one needs no gradient */
    ConcatCase cat1 = {false, 1, 3};
    Tensor *in[3] = {random_tensor(eng, 2, SHAPE(2, 1), -1, 1, true), NULL,
                     random_tensor(eng, 2, SHAPE(2, 2), -1, 1, false)};
    Tensor *base = random_tensor(eng, 2, SHAPE(3, 2), -1, 1, false);
    in[1] = tensor_t(eng, base);
    in[1]->requires_grad = true;
    assert_gradcheck(eng, concat_fn, 3, in, &cat1, NULL);
    ConcatCase cat0 = {false, 0, 2};
    Tensor *rows[2] = {random_tensor(eng, 3, SHAPE(1, 2, 2), -1, 1, true),
                       random_tensor(eng, 3, SHAPE(2, 2, 2), -1, 1, true)};
    assert_gradcheck(eng, concat_fn, 2, rows, &cat0, NULL);
    for (int64_t dim = -3; dim <= 2; dim++) {
        ConcatCase st = {true, dim, 2};
        Tensor *same[2] = {random_tensor(eng, 2, SHAPE(2, 3), -1, 1, true),
                           random_tensor(eng, 2, SHAPE(2, 3), -1, 1, true)};
        assert_gradcheck(eng, concat_fn, 2, same, &st, NULL);
        RELEASE(same[0], same[1]);
    }
    RELEASE(in[0], in[1], in[2], base, rows[0], rows[1]);
}

/* More inputs with gradients than one backward call takes. */
static void test_cat_and_stack_of_many_tensors(void **state)
{
    Engine *eng = *state;
    enum { N = 37 };
    Tensor *parts[N];
    for (int i = 0; i < N; i++)
        parts[i] = random_tensor(eng, 1, SHAPE(2), -1, 1, true);
    ConcatCase cat = {false, 0, N}, stack = {true, 1, N};
    assert_gradcheck(eng, concat_fn, N, parts, &cat, NULL);
    assert_gradcheck(eng, concat_fn, N, parts, &stack, NULL);
    Tensor *r = tensor_stack(eng, N, parts, 0);
    assert_shape(r, 2, SHAPE(N, 2));
    assert_string_equal(tensor_grad_fn_name(r), "StackBackward0");
    assert_float_equal(tensor_get_flat(r, 2 * 20 + 1), tensor_get_flat(parts[20], 1), 0);
    tensor_release(r);
    r = tensor_cat(eng, N, parts, 0);
    assert_string_equal(tensor_grad_fn_name(r), "CatBackward0");
    tensor_release(r);
    for (int i = 0; i < N; i++)
        tensor_release(parts[i]);
}

/* Gradients of views land in the base leaf: x.view(...)[1] and an expand. */
static void test_view_gradients_reach_the_base(void **state)
{
    Engine *eng = *state;
    Tensor *x = iota(eng, 1, SHAPE(6));
    x->requires_grad = true;
    Tensor *v = tensor_view(eng, x, 2, SHAPE(3, 2));
    Tensor *row = tensor_select(eng, v, 0, 1);
    Tensor *e = tensor_expand(eng, row, 2, SHAPE(4, 2));
    Tensor *s = tensor_sum(eng, e);
    assert_true(autograd_backward(eng, s, false));
    assert_tensor_close(x->grad, VALUES(0, 0, 4, 4, 0, 0), 6, 0);
    assert_string_equal(tensor_grad_fn_name(e), "ExpandBackward0");
    assert_string_equal(tensor_grad_fn_name(row), "SelectBackward0");
    RELEASE(x, v, row, e, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_shares_storage),
        cmocka_unit_test(test_view_errors),
        cmocka_unit_test(test_reshape_views_or_copies),
        cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_squeeze_unsqueeze),
        cmocka_unit_test(test_transpose_t_and_T),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_index_select),
        cmocka_unit_test(test_masked_select),
        cmocka_unit_test(test_cat_and_stack),
        cmocka_unit_test(test_cat_and_stack_errors),
        cmocka_unit_test(test_clone_and_to_float),
        cmocka_unit_test(test_shape_gradients),
        cmocka_unit_test(test_cat_and_stack_gradients),
        cmocka_unit_test(test_cat_and_stack_of_many_tensors),
        cmocka_unit_test(test_view_gradients_reach_the_base),
    };
    return cmocka_run_group_tests(tests, engine_setup, NULL);
}
