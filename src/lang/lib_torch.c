/*
 * lib_torch.c - the `torch` module (torch.tensor, torch.zeros, torch.max ...),
 * `torch.autograd`, and the Tensor type: its properties (shape, grad, data,
 * requires_grad ...) and methods (backward, item, view, sum ...).
 *
 * Most operations are written once, as a Tensor method whose receiver is the
 * input (`self`); torch.X(input, ...) checks that `input` is a torch tensor
 * and calls the method. NumPy arrays made by np.* are tensors too (tagged
 * is_numpy): they share this method table, keep their tag through the methods
 * NumPy arrays have, reduce to Python numbers like NumPy scalars, and refuse
 * the PyTorch-only methods with Python's AttributeError text.
 *
 * Results that name things differently from PyTorch because they cannot be
 * reproduced byte for byte: a grad_fn is an object of a class named after
 * the node, printed `<MulBackward0 object>` (PyTorch prints
 * `<MulBackward0 object at 0x...>`), torch.no_grad() as
 * `<torch.autograd.grad_mode.no_grad object>`, and torch.manual_seed()
 * returns None instead of a Generator.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "pyformat.h"

/* ---- small helpers ---- */

static bool is_numpy(Value v)
{
    return val_is(v, OBJ_TENSOR) && AS_TENSOR(v)->is_numpy;
}

static Tensor *self_tensor(Value self)
{
    return AS_TENSOR(self)->t;
}


/* Wrap a new engine result `r` like `like` (a torch tensor or a NumPy array).
 * r == NULL reports the engine's error. */
static bool wrap_like(Interp *in, Value like, Tensor *r, Value *out)
{
    if (!r)
        return rt_engine_error(in);
    *out = is_numpy(like) ? val_numpy(in, r) : val_tensor(in, r);
    return true;
}

/* The same for reductions: a NumPy reduction to one value is a scalar. */
static bool wrap_reduced(Interp *in, Value like, Tensor *r, Value *out)
{
    if (r && is_numpy(like) && r->ndim == 0) {
        *out = numpy_element_value(r);
        tensor_release(r);
        return true;
    }
    return wrap_like(in, like, r, out);
}

/* A Python number of one tensor element, as item() gives it. */
static Value element_value(const Tensor *t, int64_t i)
{
    float x = tensor_get_flat(t, i);
    switch (t->dtype) {
    case DTYPE_INT64:
        return val_int((int64_t)x);
    case DTYPE_BOOL:
        return val_bool(x != 0.0f);
    case DTYPE_FLOAT32:
        break;
    }
    return val_float((double)x);
}

static Value size_value(Interp *in, int ndim, const int64_t *shape, bool is_size)
{
    ObjTuple *t = tuple_new(&in->heap, ndim);
    t->is_size = is_size;
    for (int i = 0; i < ndim; i++)
        t->items[i] = val_int(shape[i]);
    return val_obj(&t->h);
}

/* The torch namespace (registered by lib_torch_init; programs cannot change
 * a module's attributes, so what is found there is ours). */
static ObjNamespace *torch_namespace(Interp *in)
{
    Value *v = table_get(&in->modules, intern(in, "torch"));
    return v && val_is(*v, OBJ_NAMESPACE) ? (ObjNamespace *)v->as.obj : NULL;
}

static Value dtype_object_new(Interp *in, DType dtype, const char *name)
{
    ObjDtype *d = (ObjDtype *)obj_alloc(&in->heap, OBJ_DTYPE, sizeof(ObjDtype));
    d->dtype = dtype;
    d->name = name;
    return val_obj(&d->h);
}

/* torch.float32 / torch.int64 / torch.bool themselves, so that
 * `x.dtype is torch.float32` holds as in PyTorch. New reference. */
static Value torch_dtype_value(Interp *in, DType dtype)
{
    static const char *const attr[] = {[DTYPE_FLOAT32] = "float32", [DTYPE_INT64] = "int64",
                                       [DTYPE_BOOL] = "bool"};
    ObjNamespace *ns = torch_namespace(in);
    Value *v = ns ? table_get(&ns->attrs, intern(in, attr[dtype])) : NULL;
    if (v && val_is(*v, OBJ_DTYPE))
        return value_retain(*v);
    return dtype_object_new(in, dtype, dtype_name(dtype));
}

/* What NumPy calls the dtypes nnl's arrays can have. */
static const char *numpy_dtype_name(DType d)
{
    switch (d) {
    case DTYPE_INT64:
        return "int64";
    case DTYPE_BOOL:
        return "bool";
    case DTYPE_FLOAT32:
        break;
    }
    return "float32";
}

static void emit_output(Interp *in, const char *label, const Tensor *t)
{
    Event ev = {.kind = EVENT_OUTPUT, .tensor = t, .label = label};
    interp_emit(in, &ev);
}

/* A call's arguments without the first positional one (or keyword `first`):
 * torch.X(input, ...) -> input.X(...). `kw` arrays have room for a->n_kw. */
static bool split_input(Interp *in, const CallArgs *a, const char *fname, Value *input, CallArgs *rest,
                        const char **kw_names, Value *kw_values)
{
    input->kind = VAL_UNSET;
    rest->pos = a->n_pos ? a->pos + 1 : NULL;
    rest->n_pos = a->n_pos ? a->n_pos - 1 : 0;
    rest->kw_names = kw_names;
    rest->kw_values = kw_values;
    rest->n_kw = 0;
    if (a->n_pos)
        *input = a->pos[0];
    for (int k = 0; k < a->n_kw; k++) {
        if (strcmp(a->kw_names[k], "input") == 0) {
            if (arg_given(*input))
                return rt_error(in, "%s() got multiple values for argument 'input'", fname);
            *input = a->kw_values[k];
            continue;
        }
        kw_names[rest->n_kw] = a->kw_names[k];
        kw_values[rest->n_kw++] = a->kw_values[k];
    }
    if (!arg_given(*input))
        return rt_error(in, "%s() missing required argument: 'input'", fname);
    return true;
}

/* PyTorch's TypeError for a non-tensor where a tensor is required. */
static bool require_torch_tensor(Interp *in, Value v, const char *fname, const char *arg, int position)
{
    if (val_is(v, OBJ_TENSOR) && !AS_TENSOR(v)->is_numpy)
        return true;
    return rt_error(in, "%s(): argument '%s' (position %d) must be Tensor, not %s", fname, arg, position,
                    value_type_name(v));
}

/* Run a Tensor method for torch.fname(input, ...). */
static bool call_as_method(Interp *in, const char *fname, NativeFn method, const CallArgs *a, Value *out)
{
    size_t n = a->n_kw ? (size_t)a->n_kw : 1;
    const char **kw_names = malloc(n * sizeof *kw_names);
    Value *kw_values = malloc(n * sizeof *kw_values);
    if (!kw_names || !kw_values)
        abort();
    Value input;
    CallArgs rest;
    bool ok = split_input(in, a, fname, &input, &rest, kw_names, kw_values) &&
              require_torch_tensor(in, input, fname, "input", 1) && method(in, input, &rest, out);
    free(kw_names);
    free(kw_values);
    return ok;
}

/* ---- argument kinds ---- */

static bool given(Value v)
{
    return arg_given(v) && v.kind != VAL_NONE;
}

static bool dtype_arg(Interp *in, Value v, bool *has, DType *out)
{
    *has = false;
    if (!given(v))
        return true;
    if (!val_is(v, OBJ_DTYPE))
        return rt_error(in, "dtype must be a torch.dtype (torch.float32, torch.int64 or torch.bool), not %s",
                        value_type_name(v));
    *has = true;
    *out = ((ObjDtype *)v.as.obj)->dtype;
    return true;
}

static bool float_dtype_error(Interp *in, bool capital)
{
    return rt_error(in, "%snly Tensors of floating point and complex dtype can require gradients",
                    capital ? "O" : "o");
}

/* The requires_grad= keyword of the creation functions; releases t on failure. */
static bool apply_requires_grad(Interp *in, Value flag, Tensor *t)
{
    bool rg = false;
    if (given(flag) && !arg_bool(in, flag, "requires_grad", &rg)) {
        tensor_release(t);
        return false;
    }
    if (rg && t->dtype != DTYPE_FLOAT32) {
        tensor_release(t);
        return float_dtype_error(in, true);
    }
    t->requires_grad = rg;
    return true;
}

/* A dim argument: an int (bools are refused, as PyTorch refuses them). */
static bool dim_arg(Interp *in, Value v, const char *what, int64_t *out)
{
    if (v.kind == VAL_BOOL || v.kind == VAL_FLOAT)
        return rt_error(in, "%s must be an int, not %s", what, value_type_name(v));
    return arg_int(in, v, what, out);
}

static bool number_arg(Interp *in, Value v, const char *what, double *out)
{
    Tensor *t = val_as_tensor(v);
    if (t && tensor_numel(t) != 1)
        return rt_error(in, "%s must be a number, not a tensor with %lld elements", what,
                        (long long)tensor_numel(t));
    return arg_double(in, v, what, out);
}

/* Sizes as separate ints or one sequence: zeros(2, 3), zeros((2, 3)). */
static bool sizes_arg(Interp *in, const CallArgs *a, const char *fname, int *ndim, int64_t *shape)
{
    if (a->n_pos == 0)
        return rt_error(in, "%s() missing required argument: 'size'", fname);
    return arg_shape(in, a->pos, a->n_pos, fname, ndim, shape);
}

/* Keyword arguments of the size-taking creation functions. */
typedef struct CreateOptions {
    bool has_dtype;
    DType dtype;
    Value requires_grad;
} CreateOptions;

static bool create_options(Interp *in, const CallArgs *a, const char *fname, CreateOptions *o)
{
    o->has_dtype = false;
    o->dtype = DTYPE_FLOAT32;
    o->requires_grad.kind = VAL_UNSET;
    for (int k = 0; k < a->n_kw; k++) {
        const char *name = a->kw_names[k];
        if (strcmp(name, "dtype") == 0) {
            if (!dtype_arg(in, a->kw_values[k], &o->has_dtype, &o->dtype))
                return false;
        } else if (strcmp(name, "requires_grad") == 0) {
            o->requires_grad = a->kw_values[k];
        } else {
            return rt_error(in, "%s() got an unexpected keyword argument '%s'", fname, name);
        }
    }
    return true;
}

/* Finish a created tensor: dtype conversion and requires_grad. */
static bool finish_created(Interp *in, Tensor *t, const CreateOptions *o, Value *out)
{
    if (!t)
        return rt_engine_error(in);
    if (o->has_dtype && t->dtype != o->dtype) {
        Tensor *c = tensor_to_dtype(&in->eng, t, o->dtype);
        tensor_release(t);
        if (!c)
            return rt_engine_error(in);
        t = c;
    }
    if (!apply_requires_grad(in, o->requires_grad, t))
        return false;
    *out = val_tensor(in, t);
    return true;
}

/* ---- torch: creating tensors ---- */

/* torch.tensor(data, dtype=None, requires_grad=False) */
static bool torch_tensor(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"data", "dtype", "requires_grad", NULL};
    Value v[3];
    bool has_dtype;
    DType dtype = DTYPE_FLOAT32;
    Tensor *t;
    if (!args_parse(in, a, "tensor", names, 1, v) || !dtype_arg(in, v[1], &has_dtype, &dtype))
        return false;
    if (!tensor_from_value(in, v[0], has_dtype, dtype, &t))
        return false;
    if (!apply_requires_grad(in, v[2], t))
        return false;
    *out = val_tensor(in, t);
    return true;
}

static bool fill_created(Interp *in, const CallArgs *a, const char *fname, double value, Value *out)
{
    CreateOptions o;
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (!create_options(in, a, fname, &o) || !sizes_arg(in, a, fname, &nd, shape))
        return false;
    Tensor *t = tensor_full(&in->eng, o.has_dtype ? o.dtype : DTYPE_FLOAT32, nd, shape, value);
    return finish_created(in, t, &o, out);
}

static bool torch_zeros(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return fill_created(in, a, "zeros", 0.0, out);
}

static bool torch_ones(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return fill_created(in, a, "ones", 1.0, out);
}

/* The dtype PyTorch infers from a Python scalar (torch.full's fill value). */
static DType scalar_dtype(Value v)
{
    if (v.kind == VAL_INT)
        return DTYPE_INT64;
    if (v.kind == VAL_BOOL)
        return DTYPE_BOOL;
    Tensor *t = val_as_tensor(v);
    return t ? t->dtype : DTYPE_FLOAT32;
}

/* torch.full(size, fill_value, dtype=None, requires_grad=False) */
static bool torch_full(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"size", "fill_value", "dtype", "requires_grad", NULL};
    Value v[4];
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    double value;
    CreateOptions o = {false, DTYPE_FLOAT32, {.kind = VAL_UNSET}};
    if (!args_parse(in, a, "full", names, 2, v) || !dtype_arg(in, v[2], &o.has_dtype, &o.dtype))
        return false;
    o.requires_grad = v[3];
    if (!val_is(v[0], OBJ_TUPLE) && !val_is(v[0], OBJ_LIST))
        return rt_error(in, "full(): argument 'size' must be a tuple of ints, not %s", value_type_name(v[0]));
    if (!arg_shape(in, &v[0], 1, "full", &nd, shape) || !number_arg(in, v[1], "fill_value", &value))
        return false;
    Tensor *t = tensor_full(&in->eng, o.has_dtype ? o.dtype : scalar_dtype(v[1]), nd, shape, value);
    return finish_created(in, t, &o, out);
}

/* torch.eye(n, m=None, dtype=None, requires_grad=False) */
static bool torch_eye(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"n", "m", "dtype", "requires_grad", NULL};
    Value v[4];
    int64_t n, m;
    CreateOptions o = {false, DTYPE_FLOAT32, {.kind = VAL_UNSET}};
    if (!args_parse(in, a, "eye", names, 1, v) || !dtype_arg(in, v[2], &o.has_dtype, &o.dtype) ||
        !dim_arg(in, v[0], "n", &n))
        return false;
    m = n;
    if (given(v[1]) && !dim_arg(in, v[1], "m", &m))
        return false;
    if (n < 0 || m < 0)
        return rt_error(in, "%s must be greater or equal to 0, got %lld", n < 0 ? "n" : "m",
                        (long long)(n < 0 ? n : m));
    o.requires_grad = v[3];
    return finish_created(in, tensor_eye(&in->eng, n, m), &o, out);
}

static bool like_created(Interp *in, const CallArgs *a, const char *fname, double value, Value *out)
{
    static const char *const names[] = {"input", "dtype", "requires_grad", NULL};
    Value v[3];
    CreateOptions o = {false, DTYPE_FLOAT32, {.kind = VAL_UNSET}};
    if (!args_parse(in, a, fname, names, 1, v) || !require_torch_tensor(in, v[0], fname, "input", 1) ||
        !dtype_arg(in, v[1], &o.has_dtype, &o.dtype))
        return false;
    o.requires_grad = v[2];
    return finish_created(in, tensor_full_like(&in->eng, val_as_tensor(v[0]), value), &o, out);
}

static bool torch_zeros_like(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return like_created(in, a, "zeros_like", 0.0, out);
}

static bool torch_ones_like(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return like_created(in, a, "ones_like", 1.0, out);
}

static bool is_integer_number(Value v)
{
    Tensor *t = val_as_tensor(v);
    return v.kind == VAL_INT || v.kind == VAL_BOOL || (t && t->dtype != DTYPE_FLOAT32);
}

/* torch.arange(end) / arange(start, end, step=1, dtype=None, requires_grad=False):
 * int64 when every bound is an integer, as in PyTorch. */
static bool torch_arange(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"start", "end", "step", "dtype", "requires_grad", NULL};
    Value v[5];
    CreateOptions o = {false, DTYPE_FLOAT32, {.kind = VAL_UNSET}};
    if (!args_parse(in, a, "arange", names, 1, v) || !dtype_arg(in, v[3], &o.has_dtype, &o.dtype))
        return false;
    o.requires_grad = v[4];
    Value start = v[0], end = v[1], step = v[2];
    if (!given(end)) {
        end = start;
        start = val_int(0);
    }
    double s, e, st = 1.0;
    if (!number_arg(in, start, "start", &s) || !number_arg(in, end, "end", &e) ||
        (given(step) && !number_arg(in, step, "step", &st)))
        return false;
    bool ints = is_integer_number(start) && is_integer_number(end) && (!given(step) || is_integer_number(step));
    DType d = o.has_dtype ? o.dtype : ints ? DTYPE_INT64 : DTYPE_FLOAT32;
    return finish_created(in, tensor_arange(&in->eng, s, e, st, d), &o, out);
}

/* torch.linspace(start, end, steps, dtype=None, requires_grad=False) */
static bool torch_linspace(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"start", "end", "steps", "dtype", "requires_grad", NULL};
    Value v[5];
    double s, e;
    int64_t steps;
    CreateOptions o = {false, DTYPE_FLOAT32, {.kind = VAL_UNSET}};
    if (!args_parse(in, a, "linspace", names, 3, v) || !dtype_arg(in, v[3], &o.has_dtype, &o.dtype) ||
        !number_arg(in, v[0], "start", &s) || !number_arg(in, v[1], "end", &e) ||
        !dim_arg(in, v[2], "steps", &steps))
        return false;
    o.requires_grad = v[4];
    return finish_created(in, tensor_linspace(&in->eng, s, e, steps), &o, out);
}

static bool random_created(Interp *in, const CallArgs *a, const char *fname, bool normal, Value *out)
{
    CreateOptions o;
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (!create_options(in, a, fname, &o) || !sizes_arg(in, a, fname, &nd, shape))
        return false;
    if (o.has_dtype && o.dtype != DTYPE_FLOAT32)
        return rt_error(in, "\"%s\" not implemented for '%s'", normal ? "normal_kernel_cpu" : "check_uniform_bounds",
                        o.dtype == DTYPE_INT64 ? "Long" : "Bool");
    Tensor *t = normal ? tensor_randn(&in->eng, nd, shape) : tensor_rand(&in->eng, nd, shape);
    return finish_created(in, t, &o, out);
}

static bool torch_rand(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return random_created(in, a, "rand", false, out);
}

static bool torch_randn(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return random_created(in, a, "randn", true, out);
}

/* torch.randint(high, size) / randint(low, high, size, dtype=None) */
static bool torch_randint(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"low", "high", "size", "dtype", "requires_grad", NULL};
    Value v[5];
    CreateOptions o = {false, DTYPE_INT64, {.kind = VAL_UNSET}};
    if (!args_parse(in, a, "randint", names, 2, v) || !dtype_arg(in, v[3], &o.has_dtype, &o.dtype))
        return false;
    o.requires_grad = v[4];
    Value low = v[0], high = v[1], size = v[2];
    if (!arg_given(size)) {
        /* randint(high, size) */
        size = high;
        high = low;
        low = val_int(0);
    }
    if (!val_is(size, OBJ_TUPLE) && !val_is(size, OBJ_LIST))
        return rt_error(in, "randint(): argument 'size' must be a tuple of ints, not %s", value_type_name(size));
    int64_t lo, hi;
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (!dim_arg(in, low, "low", &lo) || !dim_arg(in, high, "high", &hi) ||
        !arg_shape(in, &size, 1, "randint", &nd, shape))
        return false;
    return finish_created(in, tensor_randint(&in->eng, lo, hi, nd, shape), &o, out);
}

/* torch.manual_seed(seed): reseeds the interpreter's generator. PyTorch
 * returns a Generator object; nnl has none to return. */
static bool torch_manual_seed(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"seed", NULL};
    Value v[1];
    int64_t seed;
    if (!args_parse(in, a, "manual_seed", names, 1, v) || !dim_arg(in, v[0], "seed", &seed))
        return false;
    rng_seed(&in->eng.rng, (uint64_t)seed);
    *out = val_none();
    return true;
}

/* torch.from_numpy(array): a torch tensor sharing the array's storage. */
static bool torch_from_numpy(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"ndarray", NULL};
    Value v[1];
    if (!args_parse(in, a, "from_numpy", names, 1, v))
        return false;
    if (!is_numpy(v[0]))
        return rt_error(in, "expected np.ndarray (got %s)", value_type_name(v[0]));
    Tensor *r = tensor_alias(&in->eng, val_as_tensor(v[0]));
    if (!r)
        return rt_engine_error(in);
    *out = val_tensor(in, r);
    return true;
}

/* torch.Tensor(data) -> a float32 tensor; torch.Tensor(2, 3) -> zeros of that
 * shape (PyTorch leaves them uninitialised); torch.Tensor() -> tensor([]);
 * torch.Tensor(tensor_or_array) -> the same data. */
static bool torch_Tensor(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (a->n_kw)
        return rt_error(in, "Tensor() got an unexpected keyword argument '%s'", a->kw_names[0]);
    Tensor *t;
    if (a->n_pos == 0) {
        t = tensor_zeros(&in->eng, DTYPE_FLOAT32, 1, (const int64_t[]){0});
    } else if (a->n_pos == 1 && (val_is(a->pos[0], OBJ_LIST) || (val_is(a->pos[0], OBJ_TUPLE) &&
                                                                  !AS_TUPLE(a->pos[0])->is_size))) {
        if (!tensor_from_value(in, a->pos[0], true, DTYPE_FLOAT32, &t))
            return false;
    } else if (a->n_pos == 1 && val_is(a->pos[0], OBJ_TENSOR)) {
        /* PyTorch's legacy constructor shares the data and keeps the dtype */
        Tensor *src = val_as_tensor(a->pos[0]);
        if (src->requires_grad)
            return rt_error(in, "torch.Tensor(x) of a tensor that requires grad is not part of nnl "
                                "(use x.detach() or x.clone())");
        t = tensor_alias(&in->eng, src);
    } else {
        int nd;
        int64_t shape[TENSOR_MAX_DIMS];
        for (int i = 0; i < a->n_pos; i++)
            if (a->pos[i].kind != VAL_INT && !val_is(a->pos[i], OBJ_TUPLE))
                return rt_error(in, "new(): data must be a sequence (got %s)", value_type_name(a->pos[i]));
        if (!arg_shape(in, a->pos, a->n_pos, "Tensor", &nd, shape))
            return false;
        t = tensor_zeros(&in->eng, DTYPE_FLOAT32, nd, shape);
    }
    if (!t)
        return rt_engine_error(in);
    *out = val_tensor(in, t);
    return true;
}

/* torch.LongTensor(data): int64 data (old PyTorch code builds labels so). */
static bool torch_LongTensor(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"data", NULL};
    Value v[1];
    Tensor *t;
    if (!args_parse(in, a, "LongTensor", names, 1, v))
        return false;
    if (!val_is(v[0], OBJ_LIST) && !val_is(v[0], OBJ_TUPLE))
        return rt_error(in, "LongTensor(data): data must be a list of numbers in nnl, not %s",
                        value_type_name(v[0]));
    if (!tensor_from_value(in, v[0], true, DTYPE_INT64, &t))
        return false;
    *out = val_tensor(in, t);
    return true;
}

/* torch.Size(sizes) */
static bool torch_Size(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"sizes", NULL};
    Value v[1];
    if (!args_parse(in, a, "Size", names, 0, v))
        return false;
    if (!arg_given(v[0])) {
        *out = size_value(in, 0, NULL, true);
        return true;
    }
    ObjIter *it;
    if (!value_iter(in, v[0], &it))
        return false;
    ObjList *items = list_new(&in->heap, 0);
    bool ok = true;
    for (;;) {
        Value x;
        IterStep st = iter_next(in, it, &x);
        if (st != ITER_VALUE) {
            ok = st == ITER_DONE;
            break;
        }
        list_append(items, x);
        if (x.kind != VAL_INT) {
            ok = rt_error(in, "torch.Size() takes an iterable of 'int' (item %lld is '%s')",
                          (long long)items->count - 1, value_type_name(x));
            break;
        }
    }
    value_release(val_obj(&it->h));
    if (ok) {
        ObjTuple *t = tuple_new(&in->heap, items->count);
        t->is_size = true;
        for (int64_t i = 0; i < items->count; i++)
            t->items[i] = items->items[i];
        items->count = 0;
        *out = val_obj(&t->h);
    }
    value_release(val_obj(&items->h));
    return ok;
}

static bool torch_no_grad(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (a->n_pos || a->n_kw)
        return rt_error(in, "no_grad() takes no arguments");
    ObjContext *c = (ObjContext *)obj_alloc(&in->heap, OBJ_CONTEXT, sizeof(ObjContext));
    c->kind = CONTEXT_NO_GRAD;
    *out = val_obj(&c->h);
    return true;
}

/* torch.autograd.Variable(data, requires_grad=False): in PyTorch 1.13 a new
 * leaf sharing the tensor's data (the graph behind it is cut). */
static bool autograd_variable(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"data", "requires_grad", "volatile", NULL};
    Value v[3];
    if (!args_parse(in, a, "Variable", names, 1, v))
        return false;
    if (!val_is(v[0], OBJ_TENSOR) || is_numpy(v[0]))
        return rt_error(in, "Variable data has to be a tensor, but got %s", value_type_name(v[0]));
    Tensor *r = tensor_alias(&in->eng, val_as_tensor(v[0]));
    if (!r)
        return rt_engine_error(in);
    if (!apply_requires_grad(in, v[1], r))
        return false;
    *out = val_tensor(in, r);
    return true;
}

/* ---- Tensor: conversions to Python values ---- */

static Value tolist_at(Interp *in, const Tensor *t, int dim, int64_t *flat)
{
    if (dim == t->ndim)
        return element_value(t, (*flat)++);
    ObjList *l = list_new(&in->heap, t->shape[dim]);
    for (int64_t i = 0; i < t->shape[dim]; i++)
        list_append(l, tolist_at(in, t, dim + 1, flat));
    return val_obj(&l->h);
}

static bool no_arguments(Interp *in, const CallArgs *a, const char *fname)
{
    if (a->n_pos || a->n_kw)
        return rt_error(in, "%s() takes no arguments (%d given)", fname, a->n_pos + a->n_kw);
    return true;
}

static bool m_tolist(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "tolist"))
        return false;
    int64_t flat = 0;
    *out = tolist_at(in, self_tensor(self), 0, &flat);
    return true;
}

static bool m_item(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "item"))
        return false;
    Tensor *t = self_tensor(self);
    if (tensor_numel(t) != 1)
        return rt_error(in, is_numpy(self) ? "can only convert an array of size 1 to a Python scalar"
                                           : "only one element tensors can be converted to Python scalars");
    *out = element_value(t, 0);
    return true;
}

/* numpy(): the same storage seen as a NumPy array, as PyTorch shares it. */
static bool m_numpy(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "numpy"))
        return false;
    Tensor *t = self_tensor(self);
    if (t->requires_grad)
        return rt_error(in, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.");
    Tensor *r = tensor_alias(&in->eng, t);
    if (!r)
        return rt_engine_error(in);
    *out = val_numpy(in, r);
    return true;
}

static bool m_size(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"dim", NULL};
    Value v[1];
    Tensor *t = self_tensor(self);
    if (!args_parse(in, a, "size", names, 0, v))
        return false;
    if (!given(v[0])) {
        *out = size_value(in, t->ndim, t->shape, true);
        return true;
    }
    int64_t dim;
    int d;
    if (!dim_arg(in, v[0], "dim", &dim))
        return false;
    if (t->ndim == 0)
        return rt_error(in, "Dimension specified as %lld but tensor has no dimensions", (long long)dim);
    if (!tensor_wrap_dim(&in->eng, t->ndim, dim, &d))
        return rt_engine_error(in);
    *out = val_int(t->shape[d]);
    return true;
}

static bool m_dim(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "dim"))
        return false;
    *out = val_int(self_tensor(self)->ndim);
    return true;
}

static bool m_numel(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "numel"))
        return false;
    *out = val_int(tensor_numel(self_tensor(self)));
    return true;
}

/* ---- Tensor: autograd ---- */

/* gradient · output summed: backward of it gives output.backward(gradient). */
static Tensor *weighted_root(Interp *in, Tensor *t, Value gradient)
{
    Tensor *g;
    if (!arg_tensor(in, gradient, "gradient", &g))
        return NULL;
    if (!tensor_same_shape(g, t)) {
        StrBuf gs = STRBUF_INIT, ts = STRBUF_INIT;
        torch_format_size(&gs, g->ndim, g->shape);
        torch_format_size(&ts, t->ndim, t->shape);
        rt_error(in, "Mismatch in shape: grad_output[0] has a shape of %s and output[0] has a shape of %s.",
                 sb_str(&gs), sb_str(&ts));
        sb_free(&gs);
        sb_free(&ts);
        tensor_release(g);
        return NULL;
    }
    /* the graph must be recorded even if backward() runs under no_grad */
    bool saved = in->eng.grad_enabled;
    in->eng.grad_enabled = true;
    Tensor *prod = tensor_mul(&in->eng, t, g);
    Tensor *root = prod ? tensor_sum(&in->eng, prod) : NULL;
    in->eng.grad_enabled = saved;
    tensor_release(prod);
    tensor_release(g);
    if (!root)
        rt_engine_error(in);
    return root;
}

/* backward(gradient=None, retain_graph=None): accumulates into the leaves'
 * .grad; a one-element loss is reported to the front-end (loss pane). */
static bool m_backward(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"gradient", "retain_graph", "create_graph", NULL};
    Value v[3];
    bool retain = false, create = false;
    if (!args_parse(in, a, "backward", names, 0, v))
        return false;
    if (given(v[1]) && !arg_bool(in, v[1], "retain_graph", &retain))
        return false;
    if (given(v[2]) && !arg_bool(in, v[2], "create_graph", &create))
        return false;
    if (create)
        return rt_error(in, "backward(create_graph=True) is not part of nnl (no higher-order gradients)");
    Tensor *t = self_tensor(self);
    Tensor *root = tensor_retain(t);
    if (given(v[0])) {
        tensor_release(root);
        if (!(root = weighted_root(in, t, v[0])))
            return false;
    }
    bool ok = autograd_backward(&in->eng, root, retain);
    tensor_release(root);
    if (!ok)
        return rt_engine_error(in);
    in->backward_count++;
    if (tensor_numel(t) == 1) {
        Event ev = {.kind = EVENT_BACKWARD, .value = tensor_get_flat(t, 0), .step_count = in->backward_count};
        interp_emit(in, &ev);
    }
    *out = val_none();
    return true;
}

static bool m_detach(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "detach"))
        return false;
    return wrap_like(in, self, tensor_alias(&in->eng, self_tensor(self)), out);
}

static bool m_clone(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "clone"))
        return false;
    return wrap_like(in, self, tensor_clone(&in->eng, self_tensor(self)), out);
}

/* In-place writes are refused where PyTorch would record them in the graph
 * (nnl's engine does not), and on leaves that require grad, as in PyTorch. */
static bool check_in_place(Interp *in, const Tensor *t)
{
    if (!in->eng.grad_enabled || !t->requires_grad)
        return true;
    if (tensor_is_leaf(t))
        return rt_error(in, "a leaf Variable that requires grad is being used in an in-place operation.");
    return rt_error(in, "in-place changes of a tensor computed with grad are not part of nnl "
                        "(make a new tensor, e.g. torch.zeros_like(x), or change x.detach())");
}

static bool m_zero_(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "zero_") || !check_in_place(in, self_tensor(self)))
        return false;
    tensor_fill_(self_tensor(self), 0.0);
    *out = value_retain(self);
    return true;
}

static bool m_fill_(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"value", NULL};
    Value v[1];
    double x;
    if (!args_parse(in, a, "fill_", names, 1, v))
        return false;
    Tensor *vt = val_as_tensor(v[0]);
    if (vt && vt->ndim != 0)
        return rt_error(in, "fill_ only supports 0-dimension value tensor but got tensor with %d dimensions.",
                        vt->ndim);
    if (!number_arg(in, v[0], "value", &x) || !check_in_place(in, self_tensor(self)))
        return false;
    tensor_fill_(self_tensor(self), x);
    *out = value_retain(self);
    return true;
}

/* ---- Tensor: dtype conversions ---- */

static bool m_float(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "float"))
        return false;
    return wrap_like(in, self, tensor_to_float(&in->eng, self_tensor(self)), out);
}

static bool m_long(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "long"))
        return false;
    return wrap_like(in, self, tensor_to_dtype(&in->eng, self_tensor(self), DTYPE_INT64), out);
}

static bool m_bool(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "bool"))
        return false;
    return wrap_like(in, self, tensor_to_dtype(&in->eng, self_tensor(self), DTYPE_BOOL), out);
}

/* .int() makes int32 in PyTorch, a dtype nnl does not have: say so rather
 * than print a different result. */
static bool m_int(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    (void)a;
    (void)out;
    return rt_error(in, "Tensor.int() (int32) is not part of nnl: use .long() for int64 integers");
}

/* ---- Tensor: shape ---- */

static bool shape_method(Interp *in, Value self, const CallArgs *a, const char *fname, bool reshape,
                         Value *out)
{
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (a->n_kw)
        return rt_error(in, "%s() got an unexpected keyword argument '%s'", fname, a->kw_names[0]);
    if (a->n_pos == 0)
        return rt_error(in, "%s() missing 1 required positional argument: \"shape\"", fname);
    if (!arg_shape(in, a->pos, a->n_pos, fname, &nd, shape))
        return false;
    Tensor *t = self_tensor(self);
    Tensor *r = reshape ? tensor_reshape(&in->eng, t, nd, shape) : tensor_view(&in->eng, t, nd, shape);
    return wrap_like(in, self, r, out);
}

static bool m_view(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return shape_method(in, self, a, "view", false, out);
}

static bool m_reshape(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return shape_method(in, self, a, "reshape", true, out);
}

static bool m_t(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!no_arguments(in, a, "t"))
        return false;
    return wrap_like(in, self, tensor_t(&in->eng, self_tensor(self)), out);
}

/* transpose(dim0, dim1); NumPy's a.transpose() reverses the axes and
 * a.transpose(axes...) permutes them (only the 2-D cases here). */
static bool numpy_transpose(Interp *in, Value self, const CallArgs *a, Value *out)
{
    Tensor *t = self_tensor(self);
    if (a->n_kw)
        return rt_error(in, "transpose() takes no keyword arguments in nnl");
    if (a->n_pos == 0)
        return wrap_like(in, self, tensor_T(&in->eng, t), out);
    int nd;
    int64_t axes[TENSOR_MAX_DIMS];
    if (!arg_shape(in, a->pos, a->n_pos, "transpose", &nd, axes))
        return false;
    if (nd != t->ndim)
        return rt_error(in, "axes don't match array");
    if (nd == 2 && axes[0] == 1 && axes[1] == 0)
        return wrap_like(in, self, tensor_T(&in->eng, t), out);
    if (nd == 2 && axes[0] == 0 && axes[1] == 1)
        return wrap_like(in, self, tensor_alias(&in->eng, t), out);
    return rt_error(in, "transpose(axes) of NumPy arrays is not part of nnl beyond 2-D (use .T)");
}

static bool m_transpose(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (is_numpy(self))
        return numpy_transpose(in, self, a, out);
    static const char *const names[] = {"dim0", "dim1", NULL};
    Value v[2];
    int64_t d0, d1;
    if (!args_parse(in, a, "transpose", names, 2, v) || !dim_arg(in, v[0], "dim0", &d0) ||
        !dim_arg(in, v[1], "dim1", &d1))
        return false;
    return wrap_like(in, self, tensor_transpose(&in->eng, self_tensor(self), d0, d1), out);
}

static bool m_flatten(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"start_dim", "end_dim", NULL};
    Value v[2];
    int64_t s = 0, e = -1;
    if (is_numpy(self)) {
        /* NumPy's flatten() is always a copy of all elements */
        if (!no_arguments(in, a, "flatten"))
            return false;
        Tensor *c = tensor_copy_data(&in->eng, self_tensor(self));
        Tensor *r = c ? tensor_view(&in->eng, c, 1, (const int64_t[]){-1}) : NULL;
        tensor_release(c);
        return wrap_like(in, self, r, out);
    }
    if (!args_parse(in, a, "flatten", names, 0, v) || (given(v[0]) && !dim_arg(in, v[0], "start_dim", &s)) ||
        (given(v[1]) && !dim_arg(in, v[1], "end_dim", &e)))
        return false;
    return wrap_like(in, self, tensor_flatten(&in->eng, self_tensor(self), s, e), out);
}

static bool m_unsqueeze(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"dim", NULL};
    Value v[1];
    int64_t d;
    if (!args_parse(in, a, "unsqueeze", names, 1, v) || !dim_arg(in, v[0], "dim", &d))
        return false;
    return wrap_like(in, self, tensor_unsqueeze(&in->eng, self_tensor(self), d), out);
}

static bool m_squeeze(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"dim", NULL};
    const char *const numpy_names[] = {"axis", NULL};
    Value v[1];
    int64_t d;
    if (!args_parse(in, a, "squeeze", is_numpy(self) ? numpy_names : names, 0, v))
        return false;
    if (!given(v[0]))
        return wrap_like(in, self, tensor_squeeze(&in->eng, self_tensor(self)), out);
    if (!dim_arg(in, v[0], "dim", &d))
        return false;
    return wrap_like(in, self, tensor_squeeze_dim(&in->eng, self_tensor(self), d), out);
}

/* ---- Tensor: reductions ---- */

/* One dim or several (a tuple or list of ints); none = all. */
typedef struct DimList {
    bool all;
    int n;
    int64_t dims[TENSOR_MAX_DIMS];
} DimList;

static bool dims_arg(Interp *in, Value v, const char *what, DimList *out)
{
    out->all = !given(v);
    out->n = 0;
    if (out->all)
        return true;
    if (val_is(v, OBJ_TUPLE) || val_is(v, OBJ_LIST)) {
        const Value *items = val_is(v, OBJ_TUPLE) ? AS_TUPLE(v)->items : AS_LIST(v)->items;
        int64_t count = val_is(v, OBJ_TUPLE) ? AS_TUPLE(v)->count : AS_LIST(v)->count;
        if (count > TENSOR_MAX_DIMS)
            return rt_error(in, "%s: too many dims (%lld); tensors have at most %d", what, (long long)count,
                            TENSOR_MAX_DIMS);
        out->all = count == 0; /* sum(dim=()) reduces everything, as PyTorch does */
        for (int64_t i = 0; i < count; i++)
            if (!dim_arg(in, items[i], what, &out->dims[out->n++]))
                return false;
        return true;
    }
    out->n = 1;
    return dim_arg(in, v, what, &out->dims[0]);
}

static int compare_desc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x < y) - (x > y);
}

/* sum or mean over the listed dims (or all), keepdim as PyTorch/NumPy. */
static Tensor *reduce_dims(Interp *in, Tensor *t, bool mean, const DimList *dl, bool keepdim)
{
    Engine *eng = &in->eng;
    if (dl->all && !keepdim)
        return mean ? tensor_mean(eng, t) : tensor_sum(eng, t);
    int dims[TENSOR_MAX_DIMS], n = 0;
    if (dl->all) {
        for (int i = 0; i < t->ndim; i++)
            dims[n++] = i;
    } else {
        for (int i = 0; i < dl->n; i++) {
            if (!tensor_wrap_dim(eng, t->ndim, dl->dims[i], &dims[n]))
                return NULL;
            for (int j = 0; j < n; j++)
                if (dims[j] == dims[n]) {
                    engine_fail(eng, "dim %d appears multiple times in the list of dims", dims[n]);
                    return NULL;
                }
            n++;
        }
    }
    /* the highest dim first, so that the others keep their positions */
    qsort(dims, (size_t)n, sizeof dims[0], compare_desc);
    if (t->ndim == 0 || n == 0)
        return mean ? tensor_mean(eng, t) : tensor_sum(eng, t);
    Tensor *r = tensor_retain(t);
    for (int i = 0; i < n && r; i++) {
        Tensor *next = mean ? tensor_mean_dim(eng, r, dims[i], keepdim) : tensor_sum_dim(eng, r, dims[i], keepdim);
        tensor_release(r);
        r = next;
    }
    return r;
}

/* The arguments of sum/mean: (dim, keepdim) for tensors (`axis` accepted as
 * PyTorch accepts it), (axis, keepdims) for NumPy arrays. */
static bool reduction_args(Interp *in, Value self, const CallArgs *a, const char *fname, DimList *dl,
                           bool *keepdim)
{
    *keepdim = false;
    if (is_numpy(self)) {
        static const char *const names[] = {"axis", "dtype", "out", "keepdims", NULL};
        Value v[4];
        if (!args_parse(in, a, fname, names, 0, v))
            return false;
        if (given(v[1]) || given(v[2]))
            return rt_error(in, "%s(dtype=..., out=...) of NumPy arrays is not part of nnl", fname);
        return dims_arg(in, v[0], "axis", dl) && (!given(v[3]) || arg_bool(in, v[3], "keepdims", keepdim));
    }
    static const char *const names[] = {"dim", "keepdim", "axis", NULL};
    Value v[3];
    if (!args_parse(in, a, fname, names, 0, v))
        return false;
    if (arg_given(v[0]) && arg_given(v[2]))
        return rt_error(in, "%s() got multiple values for argument 'dim'", fname);
    if (!dims_arg(in, arg_given(v[2]) ? v[2] : v[0], "dim", dl))
        return false;
    if (given(v[1]) && !arg_bool(in, v[1], "keepdim", keepdim))
        return false;
    if (*keepdim && dl->all && !arg_given(v[0]) && !arg_given(v[2]))
        return rt_error(in, "%s(): keepdim=True needs a dim", fname);
    return true;
}

static bool sum_or_mean(Interp *in, Value self, const CallArgs *a, bool mean, Value *out)
{
    DimList dl;
    bool keepdim;
    if (!reduction_args(in, self, a, mean ? "mean" : "sum", &dl, &keepdim))
        return false;
    Tensor *t = tensor_retain(self_tensor(self));
    if (mean && is_numpy(self) && t->dtype != DTYPE_FLOAT32) {
        /* NumPy's mean of integers is a float */
        Tensor *f = tensor_to_dtype(&in->eng, t, DTYPE_FLOAT32);
        tensor_release(t);
        if (!(t = f))
            return rt_engine_error(in);
    }
    Tensor *r = reduce_dims(in, t, mean, &dl, keepdim);
    tensor_release(t);
    return wrap_reduced(in, self, r, out);
}

static bool m_sum(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return sum_or_mean(in, self, a, false, out);
}

static bool m_mean(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return sum_or_mean(in, self, a, true, out);
}

/* torch.return_types.max(values=..., indices=...): a 2-tuple that also has
 * .values and .indices (see named_result_property). */
static Value named_result(Interp *in, const char *type_name, Tensor *values, Tensor *indices)
{
    ObjTuple *t = tuple_new(&in->heap, 2);
    t->struct_name = type_name;
    t->items[0] = val_tensor(in, values);
    t->items[1] = val_tensor(in, indices);
    return val_obj(&t->h);
}

/* max/min of NumPy arrays: (axis=None, out=None, keepdims=False), values only. */
static bool numpy_extreme(Interp *in, Value self, const CallArgs *a, bool want_max, Value *out)
{
    static const char *const names[] = {"axis", "out", "keepdims", NULL};
    const char *fname = want_max ? "max" : "min";
    Value v[3];
    bool keepdim = false;
    int64_t axis;
    if (!args_parse(in, a, fname, names, 0, v))
        return false;
    if (given(v[1]))
        return rt_error(in, "%s(out=...) of NumPy arrays is not part of nnl", fname);
    if (given(v[2]) && !arg_bool(in, v[2], "keepdims", &keepdim))
        return false;
    Tensor *t = self_tensor(self);
    if (!given(v[0])) {
        if (keepdim)
            return rt_error(in, "%s(keepdims=True) without an axis is not part of nnl", fname);
        return wrap_reduced(in, self, want_max ? tensor_max(&in->eng, t) : tensor_min(&in->eng, t), out);
    }
    if (!dim_arg(in, v[0], "axis", &axis))
        return false;
    Tensor *values, *indices;
    bool ok = want_max ? tensor_max_dim(&in->eng, t, axis, keepdim, &values, &indices)
                       : tensor_min_dim(&in->eng, t, axis, keepdim, &values, &indices);
    if (!ok)
        return rt_engine_error(in);
    tensor_release(indices);
    return wrap_reduced(in, self, values, out);
}

/* max()/min() of all elements, or max(dim, keepdim=False) -> (values, indices). */
static bool extreme(Interp *in, Value self, const CallArgs *a, bool want_max, Value *out)
{
    if (is_numpy(self))
        return numpy_extreme(in, self, a, want_max, out);
    static const char *const names[] = {"dim", "keepdim", NULL};
    const char *fname = want_max ? "max" : "min";
    Value v[2];
    bool keepdim = false;
    int64_t dim;
    if (!args_parse(in, a, fname, names, 0, v))
        return false;
    Tensor *t = self_tensor(self);
    if (val_is(v[0], OBJ_TENSOR))
        return rt_error(in, "%s(input, other) (the elementwise %s) is not part of nnl", fname,
                        want_max ? "maximum" : "minimum");
    if (!given(v[0])) {
        if (arg_given(v[1]))
            return rt_error(in, "%s(): keepdim needs a dim", fname);
        return wrap_like(in, self, want_max ? tensor_max(&in->eng, t) : tensor_min(&in->eng, t), out);
    }
    if (!dim_arg(in, v[0], "dim", &dim) || (given(v[1]) && !arg_bool(in, v[1], "keepdim", &keepdim)))
        return false;
    Tensor *values, *indices;
    bool ok = want_max ? tensor_max_dim(&in->eng, t, dim, keepdim, &values, &indices)
                       : tensor_min_dim(&in->eng, t, dim, keepdim, &values, &indices);
    if (!ok)
        return rt_engine_error(in);
    *out = named_result(in, want_max ? "torch.return_types.max" : "torch.return_types.min", values, indices);
    return true;
}

static bool m_max(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return extreme(in, self, a, true, out);
}

static bool m_min(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return extreme(in, self, a, false, out);
}

/* argmax(dim=None, keepdim=False); NumPy: argmax(axis=None). */
/* all() / any(): whether every / some element is nonzero, a 0-d bool. */
static bool truth_reduce(Interp *in, Value self, const CallArgs *a, Value *out, bool want_all)
{
    if (a->n_pos || a->n_kw)
        return rt_error(in, "%s() with a dim is not part of nnl; use it without arguments",
                        want_all ? "all" : "any");
    Tensor *t = self_tensor(self);
    bool result = want_all;
    for (int64_t i = 0; i < tensor_numel(t) && result == want_all; i++)
        result = tensor_get_flat(t, i) != 0.0f;
    Tensor *r = tensor_scalar(&in->eng, DTYPE_BOOL, result);
    if (!r)
        return rt_engine_error(in);
    return wrap_reduced(in, self, r, out);
}

static bool m_all(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return truth_reduce(in, self, a, out, true);
}

static bool m_any(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return truth_reduce(in, self, a, out, false);
}

static bool m_argmax(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"dim", "keepdim", NULL};
    static const char *const numpy_names[] = {"axis", "out", NULL};
    Value v[2];
    bool keepdim = false;
    int64_t dim;
    bool np = is_numpy(self);
    if (!args_parse(in, a, "argmax", np ? numpy_names : names, 0, v))
        return false;
    if (np && given(v[1]))
        return rt_error(in, "argmax(out=...) of NumPy arrays is not part of nnl");
    if (!np && given(v[1]) && !arg_bool(in, v[1], "keepdim", &keepdim))
        return false;
    Tensor *t = self_tensor(self);
    if (!given(v[0])) {
        Tensor *r = tensor_argmax(&in->eng, t);
        if (r && keepdim) {
            /* argmax(keepdim=True) without a dim keeps every dim as size 1 */
            int64_t ones[TENSOR_MAX_DIMS] = {1, 1, 1, 1};
            Tensor *k = tensor_view(&in->eng, r, t->ndim, ones);
            tensor_release(r);
            r = k;
        }
        return wrap_reduced(in, self, r, out);
    }
    if (!dim_arg(in, v[0], np ? "axis" : "dim", &dim))
        return false;
    return wrap_reduced(in, self, tensor_argmax_dim(&in->eng, t, dim, keepdim), out);
}

/* ---- Tensor: elementwise and neural-network functions ---- */

typedef Tensor *(*UnaryEngineFn)(Engine *eng, Tensor *a);

static bool unary_method(Interp *in, Value self, const CallArgs *a, const char *fname, UnaryEngineFn fn,
                         Value *out)
{
    if (!no_arguments(in, a, fname))
        return false;
    return wrap_like(in, self, fn(&in->eng, self_tensor(self)), out);
}

#define UNARY_METHOD(name)                                                             \
    static bool m_##name(Interp *in, Value self, const CallArgs *a, Value *out)        \
    {                                                                                  \
        return unary_method(in, self, a, #name, tensor_##name, out);                   \
    }

UNARY_METHOD(exp)
UNARY_METHOD(log)
UNARY_METHOD(sqrt)
UNARY_METHOD(abs)
UNARY_METHOD(tanh)
UNARY_METHOD(relu)

static bool m_sigmoid(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (!unary_method(in, self, a, "sigmoid", tensor_sigmoid, out))
        return false;
    emit_output(in, "sigmoid", val_as_tensor(*out));
    return true;
}

static bool softmax_like(Interp *in, Value self, const CallArgs *a, bool log, Value *out)
{
    static const char *const names[] = {"dim", "dtype", NULL};
    const char *fname = log ? "log_softmax" : "softmax";
    Value v[2];
    int64_t dim;
    if (!args_parse(in, a, fname, names, 0, v))
        return false;
    if (!given(v[0]))
        return rt_error(in, "%s() missing required argument: 'dim' (softmax over which dimension?)", fname);
    if (given(v[1]))
        return rt_error(in, "%s(dtype=...) is not part of nnl", fname);
    if (!dim_arg(in, v[0], "dim", &dim))
        return false;
    Tensor *t = self_tensor(self);
    Tensor *r = log ? tensor_log_softmax(&in->eng, t, dim) : tensor_softmax(&in->eng, t, dim);
    if (!wrap_like(in, self, r, out))
        return false;
    if (!log)
        emit_output(in, "softmax", r);
    return true;
}

static bool m_softmax(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return softmax_like(in, self, a, false, out);
}

static bool m_log_softmax(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return softmax_like(in, self, a, true, out);
}

/* clamp(min=None, max=None) */
static bool m_clamp(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"min", "max", NULL};
    Value v[2];
    double lo = 0, hi = 0;
    if (!args_parse(in, a, "clamp", names, 0, v))
        return false;
    bool has_lo = given(v[0]), has_hi = given(v[1]);
    if (!has_lo && !has_hi)
        return rt_error(in, "torch.clamp: At least one of 'min' or 'max' must not be None");
    if ((has_lo && !number_arg(in, v[0], "min", &lo)) || (has_hi && !number_arg(in, v[1], "max", &hi)))
        return false;
    Tensor *t = tensor_retain(self_tensor(self));
    /* an integer tensor clamped with float bounds becomes float, as in PyTorch */
    bool float_bound = (has_lo && !is_integer_number(v[0])) || (has_hi && !is_integer_number(v[1]));
    if (float_bound && t->dtype != DTYPE_FLOAT32) {
        Tensor *f = tensor_to_float(&in->eng, t);
        tensor_release(t);
        if (!(t = f))
            return rt_engine_error(in);
    }
    Tensor *r = tensor_clamp(&in->eng, t, has_lo, lo, has_hi, hi);
    tensor_release(t);
    return wrap_like(in, self, r, out);
}

/* ---- Tensor: binary operations as methods ---- */

static bool binary_method(Interp *in, Value self, const CallArgs *a, const char *fname, BinOp op, Value *out)
{
    static const char *const names[] = {"other", NULL};
    Value v[1];
    if (!args_parse(in, a, fname, names, 1, v))
        return false;
    return binary_op(in, op, self, v[0], in->call_pos, out);
}

#define BINARY_METHOD(name, op)                                                        \
    static bool m_##name(Interp *in, Value self, const CallArgs *a, Value *out)        \
    {                                                                                  \
        return binary_method(in, self, a, #name, op, out);                             \
    }

BINARY_METHOD(add, BIN_ADD)
BINARY_METHOD(sub, BIN_SUB)
BINARY_METHOD(mul, BIN_MUL)
BINARY_METHOD(div, BIN_DIV)
BINARY_METHOD(matmul, BIN_MATMUL)

static bool m_pow(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"exponent", NULL};
    Value v[1];
    if (!args_parse(in, a, "pow", names, 1, v))
        return false;
    return binary_op(in, BIN_POW, self, v[0], in->call_pos, out);
}

static bool m_mm(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"mat2", NULL};
    Value v[1];
    if (!args_parse(in, a, "mm", names, 1, v) || !require_torch_tensor(in, v[0], "mm", "mat2", 1))
        return false;
    return wrap_like(in, self, tensor_mm(&in->eng, self_tensor(self), val_as_tensor(v[0])), out);
}

static bool compare_method(Interp *in, Value self, const CallArgs *a, const char *fname, CmpOp op,
                           Value *out)
{
    static const char *const names[] = {"other", NULL};
    Value v[1];
    if (!args_parse(in, a, fname, names, 1, v))
        return false;
    if (val_is(v[0], OBJ_TENSOR) || val_is_number(v[0]))
        return compare_op(in, op, self, v[0], in->call_pos, out);
    Tensor *other;
    if (!arg_tensor(in, v[0], "other", &other))
        return false;
    Value ov = val_tensor(in, other);
    bool ok = compare_op(in, op, self, ov, in->call_pos, out);
    value_release(ov);
    return ok;
}

#define COMPARE_METHOD(name, op)                                                       \
    static bool m_##name(Interp *in, Value self, const CallArgs *a, Value *out)        \
    {                                                                                  \
        return compare_method(in, self, a, #name, op, out);                            \
    }

COMPARE_METHOD(eq, CMPOP_EQ)
COMPARE_METHOD(ne, CMPOP_NE)
COMPARE_METHOD(lt, CMPOP_LT)
COMPARE_METHOD(le, CMPOP_LE)
COMPARE_METHOD(gt, CMPOP_GT)
COMPARE_METHOD(ge, CMPOP_GE)

/* ---- Tensor: the method tables ---- */

typedef struct MethodDef {
    const char *name;
    NativeFn fn;
} MethodDef;

/* Methods that tensors and NumPy arrays both have. */
static const MethodDef shared_methods[] = {
    {"item", m_item},         {"tolist", m_tolist},     {"reshape", m_reshape},
    {"transpose", m_transpose}, {"flatten", m_flatten}, {"squeeze", m_squeeze},
    {"sum", m_sum},           {"mean", m_mean},         {"max", m_max},
    {"min", m_min},           {"argmax", m_argmax},     {"all", m_all},
    {"any", m_any},
};

/* A NumPy array refuses the PyTorch-only methods as a real ndarray would
 * (its `size` is a number, not a method). */
static bool numpy_lacks(Interp *in, const char *name)
{
    if (strcmp(name, "size") == 0)
        return rt_error(in, "'int' object is not callable");
    return rt_error(in, "'numpy.ndarray' object has no attribute '%s'", name);
}

#define TORCH_ONLY(name)                                                               \
    static bool t_##name(Interp *in, Value self, const CallArgs *a, Value *out)        \
    {                                                                                  \
        if (is_numpy(self))                                                            \
            return numpy_lacks(in, #name);                                             \
        return m_##name(in, self, a, out);                                             \
    }

TORCH_ONLY(backward)
TORCH_ONLY(numpy)
TORCH_ONLY(size)
TORCH_ONLY(dim)
TORCH_ONLY(numel)
TORCH_ONLY(view)
TORCH_ONLY(t)
TORCH_ONLY(unsqueeze)
TORCH_ONLY(detach)
TORCH_ONLY(clone)
TORCH_ONLY(zero_)
TORCH_ONLY(fill_)
TORCH_ONLY(float)
TORCH_ONLY(long)
TORCH_ONLY(int)
TORCH_ONLY(bool)
TORCH_ONLY(exp)
TORCH_ONLY(log)
TORCH_ONLY(sqrt)
TORCH_ONLY(abs)
TORCH_ONLY(pow)
TORCH_ONLY(sigmoid)
TORCH_ONLY(tanh)
TORCH_ONLY(relu)
TORCH_ONLY(softmax)
TORCH_ONLY(log_softmax)
TORCH_ONLY(matmul)
TORCH_ONLY(mm)
TORCH_ONLY(add)
TORCH_ONLY(sub)
TORCH_ONLY(mul)
TORCH_ONLY(div)
TORCH_ONLY(eq)
TORCH_ONLY(ne)
TORCH_ONLY(lt)
TORCH_ONLY(le)
TORCH_ONLY(gt)
TORCH_ONLY(ge)
TORCH_ONLY(clamp)

static const MethodDef torch_only_methods[] = {
    {"backward", t_backward}, {"numpy", t_numpy},     {"size", t_size},
    {"dim", t_dim},           {"numel", t_numel},     {"view", t_view},
    {"t", t_t},               {"unsqueeze", t_unsqueeze}, {"detach", t_detach},
    {"clone", t_clone},       {"zero_", t_zero_},     {"fill_", t_fill_},
    {"float", t_float},       {"long", t_long},       {"int", t_int},
    {"bool", t_bool},         {"exp", t_exp},         {"log", t_log},
    {"sqrt", t_sqrt},         {"abs", t_abs},         {"pow", t_pow},
    {"sigmoid", t_sigmoid},   {"tanh", t_tanh},       {"relu", t_relu},
    {"softmax", t_softmax},   {"log_softmax", t_log_softmax}, {"matmul", t_matmul},
    {"mm", t_mm},             {"add", t_add},         {"sub", t_sub},
    {"mul", t_mul},           {"div", t_div},         {"eq", t_eq},
    {"ne", t_ne},             {"lt", t_lt},           {"le", t_le},
    {"gt", t_gt},             {"ge", t_ge},           {"clamp", t_clamp},
};

static bool is_torch_only_method(const char *name)
{
    for (size_t i = 0; i < sizeof torch_only_methods / sizeof torch_only_methods[0]; i++)
        if (strcmp(name, torch_only_methods[i].name) == 0)
            return true;
    return false;
}

/* ---- Tensor: properties ---- */

/* A grad_fn: PyTorch prints `<MulBackward0 object at 0x...>`; nnl has no
 * addresses to show, so it is an object of a library class named after the
 * node, printed `<MulBackward0 object>`. */
static Value grad_fn_value(Interp *in, const char *name)
{
    ObjClass *cls = (ObjClass *)obj_alloc(&in->heap, OBJ_CLASS, sizeof(ObjClass));
    cls->name = str_new(&in->heap, name, strlen(name));
    cls->base = BASE_OBJECT;
    cls->native = true;
    table_init(&cls->attrs);
    ObjInstance *inst = (ObjInstance *)obj_alloc(&in->heap, OBJ_INSTANCE, sizeof(ObjInstance));
    inst->cls = cls; /* takes over the class's reference */
    table_init(&inst->attrs);
    return val_obj(&inst->h);
}

/* PyTorch names a student may reach for that nnl does not have. */
static const char *const missing_torch_methods[] = {
    "add_", "sub_", "mul_", "div_", "copy_", "uniform_", "normal_", "permute", "expand", "repeat",
    "to", "cuda", "cpu", "type", "double", "half", "norm", "std", "var", "argmin", "sort", "topk",
    "masked_fill", "index_select", "gather", "scatter", "chunk", "split", "contiguous", "view_as",
    "expand_as", "type_as", "requires_grad_", "retain_grad", "register_hook", "new_tensor", NULL,
};

static bool name_in(const char *name, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

static bool numpy_property(Interp *in, Value self, const char *name, Value *out, bool *found)
{
    Tensor *t = self_tensor(self);
    *found = true;
    if (strcmp(name, "shape") == 0)
        *out = size_value(in, t->ndim, t->shape, false);
    else if (strcmp(name, "size") == 0)
        *out = val_int(tensor_numel(t));
    else if (strcmp(name, "ndim") == 0)
        *out = val_int(t->ndim);
    else if (strcmp(name, "dtype") == 0)
        *out = dtype_object_new(in, t->dtype, numpy_dtype_name(t->dtype));
    else if (strcmp(name, "T") == 0)
        return wrap_like(in, self, tensor_T(&in->eng, t), out);
    else if (is_torch_only_method(name))
        return numpy_lacks(in, name);
    else
        *found = false;
    return true;
}

static bool tensor_get_property(Interp *in, Value self, const ObjStr *name, Value *out, bool *found)
{
    if (is_numpy(self))
        return numpy_property(in, self, name->data, out, found);
    Tensor *t = self_tensor(self);
    const char *n = name->data;
    *found = true;
    if (strcmp(n, "shape") == 0) {
        *out = size_value(in, t->ndim, t->shape, true);
    } else if (strcmp(n, "grad") == 0) {
        *out = t->grad ? val_tensor(in, tensor_retain(t->grad)) : val_none();
    } else if (strcmp(n, "data") == 0) {
        return wrap_like(in, self, tensor_alias(&in->eng, t), out);
    } else if (strcmp(n, "requires_grad") == 0) {
        *out = val_bool(t->requires_grad);
    } else if (strcmp(n, "is_leaf") == 0) {
        *out = val_bool(tensor_is_leaf(t));
    } else if (strcmp(n, "ndim") == 0) {
        *out = val_int(t->ndim);
    } else if (strcmp(n, "dtype") == 0) {
        *out = torch_dtype_value(in, t->dtype);
    } else if (strcmp(n, "T") == 0) {
        return wrap_like(in, self, tensor_T(&in->eng, t), out);
    } else if (strcmp(n, "grad_fn") == 0) {
        const char *fn = tensor_grad_fn_name(t);
        *out = fn ? grad_fn_value(in, fn) : val_none();
    } else if (name_in(n, missing_torch_methods)) {
        return rt_error(in, "Tensor.%s is not part of nnl", n);
    } else {
        *found = false;
    }
    return true;
}

static bool set_requires_grad(Interp *in, Tensor *t, Value v)
{
    if (v.kind != VAL_BOOL)
        return rt_error(in, "requires_grad must be a bool");
    bool rg = v.as.b;
    if (!tensor_is_leaf(t)) {
        if (rg)
            return rt_error(in, "you can only change requires_grad flags of leaf variables.");
        return rt_error(in, "you can only change requires_grad flags of leaf variables. If you want to use a "
                            "computed variable in a subgraph that doesn't require differentiation use "
                            "var_no_grad = var.detach().");
    }
    if (rg && t->dtype != DTYPE_FLOAT32)
        return float_dtype_error(in, false);
    t->requires_grad = rg;
    return true;
}

static bool set_grad(Interp *in, Tensor *t, Value v)
{
    if (v.kind == VAL_NONE) {
        tensor_release(t->grad);
        t->grad = NULL;
        return true;
    }
    Tensor *g = val_as_tensor(v);
    if (!g || AS_TENSOR(v)->is_numpy) {
        /* (PyTorch's message has no space before the type name) */
        return rt_error(in, "assigned grad expected to be a Tensor or None but got grad of type%s",
                        value_type_name(v));
    }
    if (!tensor_same_shape(g, t))
        return rt_error(in, "assigned grad has data of a different size");
    if (g->dtype != t->dtype)
        return rt_error(in, "assigned grad has data of a different type");
    tensor_retain(g);
    tensor_release(t->grad);
    t->grad = g;
    return true;
}

static bool tensor_set_property(Interp *in, Value self, const ObjStr *name, Value v, bool *found)
{
    const char *n = name->data;
    *found = false;
    if (is_numpy(self))
        return true;
    Tensor *t = self_tensor(self);
    *found = true;
    if (strcmp(n, "requires_grad") == 0)
        return set_requires_grad(in, t, v);
    if (strcmp(n, "grad") == 0)
        return set_grad(in, t, v);
    if (strcmp(n, "data") == 0) {
        Tensor *src = val_as_tensor(v);
        if (!src)
            return rt_error(in, "Variable data has to be a tensor, but got %s", value_type_name(v));
        tensor_set_data_(t, src);
        return true;
    }
    static const char *const read_only[] = {"shape", "is_leaf", "ndim", "dtype", "T", "grad_fn", NULL};
    if (name_in(n, read_only))
        return rt_error(in, "attribute '%s' of a tensor is not writable", n);
    *found = false;
    return true;
}

/* ---- printing of dtypes, no_grad and named results ---- */

static bool dtype_repr(Interp *in, Value self, StrBuf *out)
{
    (void)in;
    sb_append(out, ((ObjDtype *)self.as.obj)->name);
    return true;
}

static bool context_repr(Interp *in, Value self, StrBuf *out)
{
    (void)in;
    (void)self;
    sb_append(out, "<torch.autograd.grad_mode.no_grad object>");
    return true;
}

/* torch.return_types.max(\nvalues=...,\nindices=...) as PyTorch prints it. */
static bool named_result_repr(Interp *in, Value self, StrBuf *out)
{
    const ObjTuple *t = AS_TUPLE(self);
    static const char *const fields[] = {"values", "indices"};
    sb_printf(out, "%s(", t->struct_name);
    for (int64_t i = 0; i < t->count && i < 2; i++) {
        sb_printf(out, "\n%s=", fields[i]);
        if (!value_repr(in, t->items[i], out))
            return false;
        sb_append(out, i + 1 < t->count ? "," : "");
    }
    sb_append_char(out, ')');
    return true;
}

static bool named_result_property(Interp *in, Value self, const ObjStr *name, Value *out, bool *found)
{
    (void)in;
    const ObjTuple *t = AS_TUPLE(self);
    *found = false;
    if (!t->struct_name || t->count != 2)
        return true;
    if (strcmp(name->data, "values") == 0 || strcmp(name->data, "indices") == 0) {
        *out = value_retain(t->items[name->data[0] == 'v' ? 0 : 1]);
        *found = true;
    }
    return true;
}

/* ---- torch.X(input, ...) forms of the methods ---- */

#define TORCH_FORM(name, method)                                                       \
    static bool torch_##name(Interp *in, Value self, const CallArgs *a, Value *out)    \
    {                                                                                  \
        (void)self;                                                                    \
        return call_as_method(in, #name, method, a, out);                              \
    }

TORCH_FORM(exp, m_exp)
TORCH_FORM(log, m_log)
TORCH_FORM(sqrt, m_sqrt)
TORCH_FORM(abs, m_abs)
TORCH_FORM(tanh, m_tanh)
TORCH_FORM(sigmoid, m_sigmoid)
TORCH_FORM(relu, m_relu)
TORCH_FORM(softmax, m_softmax)
TORCH_FORM(log_softmax, m_log_softmax)
TORCH_FORM(sum, m_sum)
TORCH_FORM(mean, m_mean)
TORCH_FORM(max, m_max)
TORCH_FORM(min, m_min)
TORCH_FORM(argmax, m_argmax)
TORCH_FORM(clamp, m_clamp)
TORCH_FORM(pow, m_pow)
TORCH_FORM(reshape, m_reshape)
TORCH_FORM(flatten, m_flatten)
TORCH_FORM(squeeze, m_squeeze)
TORCH_FORM(unsqueeze, m_unsqueeze)
TORCH_FORM(transpose, m_transpose)
TORCH_FORM(t, m_t)
TORCH_FORM(numel, m_numel)
TORCH_FORM(detach, m_detach)
TORCH_FORM(clone, m_clone)

/* torch.matmul(input, other), torch.mm(input, mat2): both must be tensors. */
static bool torch_two_tensors(Interp *in, const CallArgs *a, const char *fname, const char *second,
                              Tensor **x, Tensor **y)
{
    const char *const names[] = {"input", second, NULL};
    Value v[2];
    if (!args_parse(in, a, fname, names, 2, v) || !require_torch_tensor(in, v[0], fname, "input", 1) ||
        !require_torch_tensor(in, v[1], fname, second, 2))
        return false;
    *x = val_as_tensor(v[0]);
    *y = val_as_tensor(v[1]);
    return true;
}

static bool torch_matmul(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    Tensor *x, *y;
    if (!torch_two_tensors(in, a, "matmul", "other", &x, &y))
        return false;
    Tensor *r = tensor_matmul(&in->eng, x, y);
    if (!r)
        return rt_engine_error(in);
    *out = val_tensor(in, r);
    return true;
}

static bool torch_mm(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    Tensor *x, *y;
    if (!torch_two_tensors(in, a, "mm", "mat2", &x, &y))
        return false;
    Tensor *r = tensor_mm(&in->eng, x, y);
    if (!r)
        return rt_engine_error(in);
    *out = val_tensor(in, r);
    return true;
}

/* The tensors of torch.cat/torch.stack's first argument (borrowed). */
static bool tensor_sequence(Interp *in, Value v, const char *fname, Tensor ***out, int *n)
{
    if (!val_is(v, OBJ_LIST) && !val_is(v, OBJ_TUPLE))
        return rt_error(in, "%s(): argument 'tensors' (position 1) must be tuple of Tensors, not %s", fname,
                        value_type_name(v));
    const Value *items = val_is(v, OBJ_LIST) ? AS_LIST(v)->items : AS_TUPLE(v)->items;
    int64_t count = val_is(v, OBJ_LIST) ? AS_LIST(v)->count : AS_TUPLE(v)->count;
    if (count > 100000)
        return rt_error(in, "%s(): too many tensors (%lld)", fname, (long long)count);
    *out = malloc((size_t)(count ? count : 1) * sizeof **out);
    if (!*out)
        abort();
    for (int64_t i = 0; i < count; i++) {
        if (!val_is(items[i], OBJ_TENSOR)) {
            free(*out);
            return rt_error(in, "expected Tensor as element %lld in argument 0, but got %s", (long long)i,
                            value_type_name(items[i]));
        }
        (*out)[i] = val_as_tensor(items[i]);
    }
    *n = (int)count;
    return true;
}

static bool cat_or_stack(Interp *in, const CallArgs *a, bool stack, Value *out)
{
    static const char *const names[] = {"tensors", "dim", NULL};
    const char *fname = stack ? "stack" : "cat";
    Value v[2];
    int64_t dim = 0;
    Tensor **ts = NULL;
    int n = 0;
    if (!args_parse(in, a, fname, names, 1, v) || (given(v[1]) && !dim_arg(in, v[1], "dim", &dim)) ||
        !tensor_sequence(in, v[0], fname, &ts, &n))
        return false;
    Tensor *r = stack ? tensor_stack(&in->eng, n, ts, dim) : tensor_cat(&in->eng, n, ts, dim);
    free(ts);
    if (!r)
        return rt_engine_error(in);
    *out = val_tensor(in, r);
    return true;
}

static bool torch_cat(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return cat_or_stack(in, a, false, out);
}

static bool torch_stack(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return cat_or_stack(in, a, true, out);
}

/* torch.allclose(input, other, rtol=1e-05, atol=1e-08) -> bool */
static bool torch_allclose(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"input", "other", "rtol", "atol", "equal_nan", NULL};
    Value v[5];
    double rtol = 1e-05, atol = 1e-08;
    bool equal_nan = false, r;
    if (!args_parse(in, a, "allclose", names, 2, v) || !require_torch_tensor(in, v[0], "allclose", "input", 1) ||
        !require_torch_tensor(in, v[1], "allclose", "other", 2) ||
        (given(v[2]) && !number_arg(in, v[2], "rtol", &rtol)) ||
        (given(v[3]) && !number_arg(in, v[3], "atol", &atol)) ||
        (given(v[4]) && !arg_bool(in, v[4], "equal_nan", &equal_nan)))
        return false;
    if (equal_nan)
        return rt_error(in, "allclose(equal_nan=True) is not part of nnl");
    if (!tensor_allclose(&in->eng, val_as_tensor(v[0]), val_as_tensor(v[1]), rtol, atol, &r))
        return rt_engine_error(in);
    *out = val_bool(r);
    return true;
}

/* ---- registration ---- */

static void add_tensor_methods(Interp *in)
{
    for (size_t i = 0; i < sizeof shared_methods / sizeof shared_methods[0]; i++)
        type_add_method(in, OBJ_TENSOR, shared_methods[i].name, shared_methods[i].fn);
    for (size_t i = 0; i < sizeof torch_only_methods / sizeof torch_only_methods[0]; i++)
        type_add_method(in, OBJ_TENSOR, torch_only_methods[i].name, torch_only_methods[i].fn);
    TypeOps *ops = &in->types[OBJ_TENSOR];
    ops->get_property = tensor_get_property;
    ops->set_property = tensor_set_property;
}

static void add_dtypes(Interp *in, ObjNamespace *torch)
{
    Value f32 = dtype_object_new(in, DTYPE_FLOAT32, "torch.float32");
    Value i64 = dtype_object_new(in, DTYPE_INT64, "torch.int64");
    Value b = dtype_object_new(in, DTYPE_BOOL, "torch.bool");
    /* torch.float is torch.float32 and torch.long is torch.int64 */
    namespace_add_value(in, torch, "float32", f32);
    namespace_add_value(in, torch, "float", f32);
    namespace_add_value(in, torch, "int64", i64);
    namespace_add_value(in, torch, "long", i64);
    namespace_add_value(in, torch, "bool", b);
    value_release(f32);
    value_release(i64);
    value_release(b);
}

static void add_autograd(Interp *in, ObjNamespace *torch)
{
    ObjNamespace *autograd = namespace_new(in, "torch.autograd");
    namespace_add_native(in, autograd, "Variable", autograd_variable);
    Value v = val_obj(&autograd->h);
    namespace_add_value(in, torch, "autograd", v);
    module_register(in, "torch.autograd", v);
    value_release(v);
}

void lib_torch_init(Interp *in)
{
    static const struct {
        const char *name;
        NativeFn fn;
    } functions[] = {
        {"tensor", torch_tensor},   {"zeros", torch_zeros},     {"ones", torch_ones},
        {"full", torch_full},       {"eye", torch_eye},         {"zeros_like", torch_zeros_like},
        {"ones_like", torch_ones_like}, {"arange", torch_arange}, {"linspace", torch_linspace},
        {"rand", torch_rand},       {"randn", torch_randn},     {"randint", torch_randint},
        {"manual_seed", torch_manual_seed}, {"from_numpy", torch_from_numpy},
        {"exp", torch_exp},         {"log", torch_log},         {"sqrt", torch_sqrt},
        {"abs", torch_abs},         {"tanh", torch_tanh},       {"sigmoid", torch_sigmoid},
        {"relu", torch_relu},       {"softmax", torch_softmax}, {"log_softmax", torch_log_softmax},
        {"sum", torch_sum},         {"mean", torch_mean},       {"max", torch_max},
        {"min", torch_min},         {"argmax", torch_argmax},   {"matmul", torch_matmul},
        {"mm", torch_mm},           {"cat", torch_cat},         {"stack", torch_stack},
        {"clamp", torch_clamp},     {"allclose", torch_allclose}, {"no_grad", torch_no_grad},
        {"Size", torch_Size},       {"Tensor", torch_Tensor},   {"FloatTensor", torch_Tensor},
        {"LongTensor", torch_LongTensor}, {"pow", torch_pow},   {"reshape", torch_reshape},
        {"flatten", torch_flatten}, {"squeeze", torch_squeeze}, {"unsqueeze", torch_unsqueeze},
        {"transpose", torch_transpose}, {"t", torch_t},         {"numel", torch_numel},
        {"detach", torch_detach},   {"clone", torch_clone},
    };
    ObjNamespace *torch = namespace_new(in, "torch");
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
        namespace_add_native(in, torch, functions[i].name, functions[i].fn);
    add_dtypes(in, torch);
    add_autograd(in, torch);
    add_tensor_methods(in);

    in->types[OBJ_DTYPE].repr = dtype_repr;
    in->types[OBJ_CONTEXT].repr = context_repr;
    in->types[OBJ_TUPLE].repr = named_result_repr;
    in->types[OBJ_TUPLE].get_property = named_result_property;

    Value v = val_obj(&torch->h);
    table_set(&in->builtins, intern(in, "torch"), v);
    module_register(in, "torch", v);
    value_release(v);
}
