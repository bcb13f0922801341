/*
 * lib_extra.c - the modules around torch that the course uses (numpy,
 * matplotlib.pyplot, seaborn, time) and nnrepl's own teaching built-ins
 * (watch, pause, check, check_close, ask, load_dataset).
 *
 * NumPy arrays are engine tensors tagged is_numpy (val_numpy): they print,
 * index and iterate as ndarrays (printer.c, operators.c, iter.c). nnl keeps
 * every array in float32, int64 or bool: where real NumPy would make a
 * float64 array (np.array([1.5]), np.arange(0.0, 1.0, 0.1), np.loadtxt),
 * nnl makes a float32 one, which is what the course converts its arrays to
 * anyway (dtype=np.float32, torch.from_numpy). A 0-d result (np.sum(a),
 * a[0]) becomes a Python number; a float32 value reads back as its shortest
 * decimal ("0.1"), as NumPy prints it.
 *
 * matplotlib.pyplot collects the figure in in->plot until plt.show(), which
 * hands it to the front-end as EVENT_PLOT (the TUI's plot pane, or an ASCII
 * chart on stdout in batch mode) and starts a new figure. Format strings
 * ("r-o") are passed through; the front-end draws them.
 *
 * Data files are only ever read (np.loadtxt, load_dataset). Relative paths
 * resolve against the current directory, then the running file's directory,
 * then the installed datasets/ directory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "eval_internal.h"
#include "ops.h"
#include "pyformat.h"

/* ---- shared helpers ---- */

static bool given(Value v)
{
    return arg_given(v) && v.kind != VAL_NONE;
}

/* A float32 value as the Python float NumPy shows for it: its shortest
 * decimal, so np.float32(0.1) prints 0.1, not 0.10000000149011612. */
static double float32_as_python(float x)
{
    StrBuf sb = STRBUF_INIT;
    numpy_format_float32_scalar(&sb, x);
    double d = strtod(sb_str(&sb), NULL);
    sb_free(&sb);
    return d;
}

/* The Python number for a one-element array of the given dtype. */
static Value numpy_number(const Tensor *t)
{
    float x = tensor_get_flat(t, 0);
    switch (t->dtype) {
    case DTYPE_BOOL:
        return val_bool(x != 0.0f);
    case DTYPE_INT64:
        return val_int((int64_t)x);
    case DTYPE_FLOAT32:
        break;
    }
    return val_float(float32_as_python(x));
}

/* Wrap a NumPy result (takes over r): 0-d arrays become Python numbers. */
static Value numpy_result(Interp *in, Tensor *r)
{
    if (r->ndim == 0) {
        Value v = numpy_number(r);
        tensor_release(r);
        return v;
    }
    return val_numpy(in, r);
}

static void shape_text(int ndim, const int64_t *shape, char *buf, size_t size)
{
    /* Python's tuple notation: (), (3,), (2, 3) */
    size_t k = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (k < size)
        snprintf(buf + k, size - k, ndim == 1 ? ",)" : ")");
}

static const char *const REQUIRES_GRAD_MESSAGE =
    "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.";

/* len(range): computed without overflow for any 64-bit bounds. */
static int64_t range_length(const ObjRange *r)
{
    uint64_t span, step;
    if (r->step > 0 && r->stop > r->start) {
        span = (uint64_t)r->stop - (uint64_t)r->start;
        step = (uint64_t)r->step;
    } else if (r->step < 0 && r->stop < r->start) {
        span = (uint64_t)r->start - (uint64_t)r->stop;
        step = 0 - (uint64_t)r->step;
    } else {
        return 0;
    }
    uint64_t n = span / step + (span % step != 0);
    return n > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* A range as a 1-D int64 array. */
static bool range_tensor(Interp *in, const ObjRange *r, Tensor **out)
{
    int64_t n = range_length(r);
    if (n == 0) {
        int64_t shape[1] = {0};
        *out = tensor_empty(&in->eng, DTYPE_INT64, 1, shape);
    } else {
        *out = tensor_arange(&in->eng, (double)r->start, (double)r->start + (double)n * (double)r->step,
                             (double)r->step, DTYPE_INT64);
    }
    return *out ? true : rt_engine_error(in);
}

/* An array-like argument of np.*: arrays and torch tensors as they are
 * (*is_torch tells which; NumPy reads a tensor through numpy(), so one that
 * requires grad is PyTorch's error), lists, tuples and ranges as new arrays.
 * Python numbers are left to the callers (they stay Python numbers). */
static bool array_arg(Interp *in, Value v, const char *fname, Tensor **out, bool *is_torch)
{
    *is_torch = false;
    if (val_is(v, OBJ_TENSOR)) {
        *is_torch = !AS_TENSOR(v)->is_numpy;
        if (*is_torch && val_as_tensor(v)->requires_grad)
            return rt_error(in, "%s", REQUIRES_GRAD_MESSAGE);
        *out = tensor_retain(val_as_tensor(v));
        return true;
    }
    if (val_is(v, OBJ_LIST) || val_is(v, OBJ_TUPLE))
        return tensor_from_value(in, v, false, DTYPE_FLOAT32, out);
    if (val_is(v, OBJ_RANGE))
        return range_tensor(in, (const ObjRange *)v.as.obj, out);
    if (val_is_number(v))
        return tensor_from_value(in, v, false, DTYPE_FLOAT32, out);
    return rt_error(in, "%s(): expected an array, a list or a number, not %s", fname, value_type_name(v));
}

/* Convert in place to `dtype` (no-op when it already has it). */
static bool convert_dtype(Interp *in, Tensor **t, DType dtype)
{
    if ((*t)->dtype == dtype)
        return true;
    Tensor *c = tensor_to_dtype(&in->eng, *t, dtype);
    tensor_release(*t);
    *t = c;
    return c ? true : rt_engine_error(in);
}

/* dtype= of np.* functions: np.float32 / np.int64 (or torch's dtypes), the
 * Python types float, int and bool, or their NumPy names as strings. nnl has
 * no float64: float means float32. */
static bool dtype_param(Interp *in, Value v, const char *fname, bool *has, DType *out)
{
    *has = false;
    if (!given(v))
        return true;
    *has = true;
    if (val_is(v, OBJ_DTYPE)) {
        *out = ((const ObjDtype *)v.as.obj)->dtype;
        return true;
    }
    const char *name = NULL;
    if (val_is(v, OBJ_NATIVE) && ((const ObjNative *)v.as.obj)->self.kind == VAL_NONE)
        name = ((const ObjNative *)v.as.obj)->name;
    else if (val_is(v, OBJ_STR))
        name = AS_STR(v)->data;
    if (name && (strcmp(name, "float") == 0 || strcmp(name, "float32") == 0)) {
        *out = DTYPE_FLOAT32;
        return true;
    }
    if (name && (strcmp(name, "int") == 0 || strcmp(name, "int64") == 0)) {
        *out = DTYPE_INT64;
        return true;
    }
    if (name && strcmp(name, "bool") == 0) {
        *out = DTYPE_BOOL;
        return true;
    }
    return rt_error(in, "%s(): dtype must be np.float32, np.int64 or bool (nnl's arrays are "
                        "float32, int64 or bool), not %s", fname, value_type_name(v));
}

/* ---- numpy ---- */

/* np.array(object, dtype=None): a new array (a copy). Floats give float32
 * where NumPy gives float64; ints int64; bools bool. */
static bool np_array(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"object", "dtype", NULL};
    Value v[2];
    bool has_dtype;
    DType dtype = DTYPE_FLOAT32;
    if (!args_parse(in, a, "array", names, 1, v) || !dtype_param(in, v[1], "array", &has_dtype, &dtype))
        return false;
    Tensor *t;
    if (val_is(v[0], OBJ_TENSOR)) {
        Tensor *src = val_as_tensor(v[0]);
        if (src->requires_grad && !AS_TENSOR(v[0])->is_numpy)
            return rt_error(in, "%s", REQUIRES_GRAD_MESSAGE);
        t = tensor_copy_data(&in->eng, src);
        if (!t)
            return rt_engine_error(in);
    } else if (val_is(v[0], OBJ_RANGE)) {
        if (!range_tensor(in, (const ObjRange *)v[0].as.obj, &t))
            return false;
    } else if (val_is(v[0], OBJ_LIST) || val_is(v[0], OBJ_TUPLE) || val_is_number(v[0])) {
        if (!tensor_from_value(in, v[0], has_dtype, dtype, &t))
            return false;
    } else {
        return rt_error(in, "array(): expected a list, a tuple, a range, a number or an array, not %s",
                        value_type_name(v[0]));
    }
    if (has_dtype && !convert_dtype(in, &t, dtype))
        return false;
    t->is_wrapped_number = false;
    t->requires_grad = false;
    *out = val_numpy(in, t);
    return true;
}

/* A number argument of arange/linspace; *is_int for Python ints and bools. */
static bool number_param(Interp *in, Value v, const char *fname, const char *what, double *out,
                         bool *is_int)
{
    if (!val_is_number(v))
        return rt_error(in, "%s(): %s must be a number, not %s", fname, what, value_type_name(v));
    *is_int = v.kind != VAL_FLOAT;
    *out = v.kind == VAL_FLOAT ? v.as.f : v.kind == VAL_INT ? (double)v.as.i : (double)v.as.b;
    return true;
}

/* np.arange([start,] stop[, step], dtype=None): int64 when every argument
 * is an int, else float32 (NumPy: float64). Values are start + i*step
 * computed in double, as NumPy does, then stored. */
static bool np_arange(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"start", "stop", "step", "dtype", NULL};
    Value v[4];
    bool has_dtype;
    DType dtype = DTYPE_FLOAT32;
    if (!args_parse(in, a, "arange", names, 1, v) || !dtype_param(in, v[3], "arange", &has_dtype, &dtype))
        return false;
    double start = 0, stop = 0, step = 1;
    bool i0 = true, i1 = true, i2 = true;
    if (!given(v[1])) {
        if (!number_param(in, v[0], "arange", "stop", &stop, &i1))
            return false;
    } else if (!number_param(in, v[0], "arange", "start", &start, &i0) ||
               !number_param(in, v[1], "arange", "stop", &stop, &i1)) {
        return false;
    }
    if (given(v[2]) && !number_param(in, v[2], "arange", "step", &step, &i2))
        return false;
    if (step == 0)
        return rt_error(in, "arange(): step must not be zero");
    if (!isfinite(start) || !isfinite(stop) || !isfinite(step))
        return rt_error(in, "arange(): start, stop and step must be finite numbers");
    if (!has_dtype)
        dtype = i0 && i1 && i2 ? DTYPE_INT64 : DTYPE_FLOAT32;
    double count = ceil((stop - start) / step);
    Tensor *t;
    if (!(count > 0)) {
        int64_t shape[1] = {0};
        t = tensor_empty(&in->eng, dtype, 1, shape);
    } else {
        t = tensor_arange(&in->eng, start, stop, step, dtype);
    }
    if (!t)
        return rt_engine_error(in);
    *out = val_numpy(in, t);
    return true;
}

/* np.linspace(start, stop, num=50, endpoint=True): float32 (NumPy: float64),
 * start + i*step in double with the last value exactly stop. */
static bool np_linspace(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"start", "stop", "num", "endpoint", "dtype", NULL};
    Value v[5];
    double start = 0, stop = 0;
    bool is_int, endpoint = true, has_dtype;
    int64_t num = 50;
    DType dtype = DTYPE_FLOAT32;
    if (!args_parse(in, a, "linspace", names, 2, v) ||
        !number_param(in, v[0], "linspace", "start", &start, &is_int) ||
        !number_param(in, v[1], "linspace", "stop", &stop, &is_int) ||
        !dtype_param(in, v[4], "linspace", &has_dtype, &dtype))
        return false;
    if (given(v[2])) {
        if (v[2].kind == VAL_FLOAT)
            return rt_error(in, "'float' object cannot be interpreted as an integer");
        if (!arg_int(in, v[2], "num", &num))
            return false;
    }
    if (given(v[3]) && !arg_bool(in, v[3], "endpoint", &endpoint))
        return false;
    if (num < 0)
        return rt_error(in, "Number of samples, %lld, must be non-negative.", (long long)num);
    if (num > (int64_t)(in->eng.max_bytes / sizeof(double)))
        return rt_error(in, "linspace(): too many samples (%lld)", (long long)num);
    double *values = malloc((size_t)(num ? num : 1) * sizeof(double));
    if (!values)
        return rt_error(in, "linspace(): out of memory");
    int64_t div = endpoint ? num - 1 : num;
    double step = div > 0 ? (stop - start) / (double)div : 0.0;
    for (int64_t i = 0; i < num; i++)
        values[i] = start + (double)i * step;
    if (endpoint && num > 1)
        values[num - 1] = stop;
    int64_t shape[1] = {num};
    Tensor *t = tensor_from_doubles(&in->eng, DTYPE_FLOAT32, 1, shape, values, num);
    free(values);
    if (!t)
        return rt_engine_error(in);
    if (has_dtype && !convert_dtype(in, &t, dtype))
        return false;
    *out = val_numpy(in, t);
    return true;
}

typedef Tensor *(*UnaryTensorFn)(Engine *, Tensor *);

/* np.exp / np.log: a Python number gives a Python float (computed in
 * double, as NumPy's float64 scalars are); an array an array; a torch
 * tensor a torch tensor (NumPy hands tensors back to torch). */
static bool numpy_unary(Interp *in, const CallArgs *a, const char *fname, double (*scalar)(double),
                        UnaryTensorFn fn, Value *out)
{
    static const char *const names[] = {"x", NULL};
    Value v[1];
    if (!args_parse(in, a, fname, names, 1, v))
        return false;
    if (val_is_number(v[0])) {
        double x;
        arg_double(in, v[0], "x", &x);
        *out = val_float(scalar(x));
        return true;
    }
    Tensor *t;
    bool is_torch;
    if (!array_arg(in, v[0], fname, &t, &is_torch))
        return false;
    if (dtype_is_integral(t->dtype) && !convert_dtype(in, &t, DTYPE_FLOAT32))
        return false;
    Tensor *r = fn(&in->eng, t);
    tensor_release(t);
    if (!r)
        return rt_engine_error(in);
    *out = is_torch ? val_tensor(in, r) : numpy_result(in, r);
    return true;
}

static double exp_of(double x)
{
    return exp(x);
}

static double log_of(double x)
{
    return log(x);
}

static bool np_exp(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return numpy_unary(in, a, "exp", exp_of, tensor_exp, out);
}

static bool np_log(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return numpy_unary(in, a, "log", log_of, tensor_log, out);
}

/* np.sum / np.mean (a, axis=None, keepdims=False). Over a whole array the
 * result is a Python number, like a NumPy scalar; with an axis an array (a
 * number again when that leaves 0 dimensions). A torch tensor gives torch
 * tensors, as tensor.sum() would. */
static bool numpy_reduce(Interp *in, const CallArgs *a, const char *fname, bool mean, Value *out)
{
    static const char *const names[] = {"a", "axis", "keepdims", NULL};
    Value v[3];
    int64_t axis = 0;
    bool keepdims = false;
    if (!args_parse(in, a, fname, names, 1, v))
        return false;
    bool has_axis = given(v[1]);
    if (has_axis && !arg_int(in, v[1], "axis", &axis))
        return false;
    if (given(v[2]) && !arg_bool(in, v[2], "keepdims", &keepdims))
        return false;
    Tensor *t;
    bool is_torch;
    if (!array_arg(in, v[0], fname, &t, &is_torch))
        return false;
    if (has_axis && !is_torch && (axis < -t->ndim || axis >= t->ndim || t->ndim == 0)) {
        int ndim = t->ndim;
        tensor_release(t);
        return rt_error(in, "axis %lld is out of bounds for array of dimension %d", (long long)axis, ndim);
    }
    /* NumPy sums bools as ints and averages ints as floats */
    if (mean && dtype_is_integral(t->dtype) && !convert_dtype(in, &t, DTYPE_FLOAT32))
        return false;
    if (!mean && t->dtype == DTYPE_BOOL && !convert_dtype(in, &t, DTYPE_INT64))
        return false;
    Tensor *r;
    if (has_axis)
        r = mean ? tensor_mean_dim(&in->eng, t, axis, keepdims) : tensor_sum_dim(&in->eng, t, axis, keepdims);
    else
        r = mean ? tensor_mean(&in->eng, t) : tensor_sum(&in->eng, t);
    int ndim = t->ndim;
    tensor_release(t);
    if (!r)
        return rt_engine_error(in);
    if (keepdims && !has_axis && !is_torch && ndim > 0) {
        /* keepdims over everything: shape (1, 1, ...) */
        int64_t ones[TENSOR_MAX_DIMS] = {1, 1, 1, 1};
        Tensor *k = tensor_reshape(&in->eng, r, ndim, ones);
        tensor_release(r);
        if (!k)
            return rt_engine_error(in);
        r = k;
    }
    *out = is_torch ? val_tensor(in, r) : numpy_result(in, r);
    return true;
}

static bool np_sum(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return numpy_reduce(in, a, "sum", false, out);
}

static bool np_mean(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return numpy_reduce(in, a, "mean", true, out);
}

/* NumPy's dtypes are ObjDtypes too (so torch accepts dtype=np.float32);
 * their name is what Python prints for them. */
#define NUMPY_DTYPE_PREFIX "<class 'numpy."

/* np.float32(x) / np.int64(x): calling a NumPy dtype converts. A number
 * gives a Python number with the dtype's rounding (np.float32(0.1) is 0.1
 * as NumPy prints it, the float32 nearest 0.1); an array or list gives an
 * array of that dtype. torch's dtypes are not callable, as in PyTorch. */
static bool dtype_call(Interp *in, Value self, const CallArgs *a, Value *out)
{
    const ObjDtype *d = (const ObjDtype *)self.as.obj;
    if (strncmp(d->name, NUMPY_DTYPE_PREFIX, strlen(NUMPY_DTYPE_PREFIX)) != 0)
        return rt_error(in, "'torch.dtype' object is not callable");
    const char *fname = d->dtype == DTYPE_INT64 ? "int64" : "float32";
    static const char *const names[] = {"value", NULL};
    Value v[1];
    if (!args_parse(in, a, fname, names, 0, v))
        return false;
    if (!arg_given(v[0])) {
        *out = d->dtype == DTYPE_INT64 ? val_int(0) : val_float(0.0);
        return true;
    }
    if (val_is_number(v[0])) {
        double x;
        arg_double(in, v[0], "value", &x);
        if (d->dtype == DTYPE_INT64) {
            int64_t i;
            if (!py_float_to_int(x, &i))
                return rt_error(in, "%s", py_float_to_int_error(x));
            *out = val_int(i);
        } else {
            *out = val_float(float32_as_python((float)x));
        }
        return true;
    }
    Tensor *t;
    bool is_torch;
    if (!array_arg(in, v[0], fname, &t, &is_torch))
        return false;
    if (t->dtype == d->dtype) {
        Tensor *c = tensor_copy_data(&in->eng, t);
        tensor_release(t);
        if (!c)
            return rt_engine_error(in);
        t = c;
    } else if (!convert_dtype(in, &t, d->dtype)) {
        return false;
    }
    *out = numpy_result(in, t);
    return true;
}

/* ---- data files ---- */

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *join_path(const char *dir, const char *name)
{
    StrBuf sb = STRBUF_INIT;
    sb_append(&sb, dir);
    if (sb.len && sb_str(&sb)[sb.len - 1] != '/')
        sb_append_char(&sb, '/');
    sb_append(&sb, name);
    return sb_take(&sb);
}

/* The first of `dirs` (NULL entries skipped) that holds `name`, or NULL. */
static char *find_in_dirs(const char *name, const char *const *dirs, int n_dirs)
{
    for (int i = 0; i < n_dirs; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        char *p = join_path(dirs[i], name);
        if (is_regular_file(p))
            return p;
        free(p);
    }
    return NULL;
}

/* np.loadtxt's path: as given (relative to the current directory), then
 * relative to the running file's directory, then to datasets/. malloc'd,
 * or NULL when no such file exists. */
static char *resolve_data_path(Interp *in, const char *path)
{
    if (!path[0])
        return NULL;
    if (is_regular_file(path))
        return strdup(path);
    if (path[0] == '/')
        return NULL;
    const char *dirs[] = {in->opt.script_dir, in->opt.datasets_dir};
    return find_in_dirs(path, dirs, 2);
}

/* "data.csv not found (looked in the current directory, the program's
 * directory and datasets/)" */
static bool data_not_found(Interp *in, const char *path)
{
    if (path[0] == '/')
        return rt_error(in, "%s not found", path);
    const char *places[3];
    int n = 0;
    places[n++] = "the current directory";
    if (in->opt.script_dir)
        places[n++] = "the program's directory";
    if (in->opt.datasets_dir)
        places[n++] = "datasets/";
    StrBuf sb = STRBUF_INIT;
    for (int i = 0; i < n; i++)
        sb_printf(&sb, "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ", places[i]);
    rt_error(in, "%s not found (looked in %s)", path, sb_str(&sb));
    sb_free(&sb);
    return false;
}

/* The value of a keyword nnl accepts only at its default. */
static bool only_default(Interp *in, Value v, const char *fname, const char *name, bool is_default)
{
    if (given(v) && !is_default)
        return rt_error(in, "%s(%s=...) is not part of nnl", fname, name);
    return true;
}

typedef struct LoadtxtOptions {
    const char *path;
    DType dtype;
    char delimiter;
    int skiprows;
} LoadtxtOptions;

/* loadtxt's arguments; the keywords nnl does not implement are accepted
 * only at their defaults. */
static bool loadtxt_options(Interp *in, const CallArgs *a, LoadtxtOptions *o)
{
    static const char *const names[] = {"fname", "dtype", "comments", "delimiter", "converters",
                                        "skiprows", "usecols", "unpack", "ndmin", NULL};
    Value v[9];
    bool has_dtype;
    const char *delim = NULL;
    int64_t skiprows = 0;
    o->dtype = DTYPE_FLOAT32;
    if (!args_parse(in, a, "loadtxt", names, 1, v) || !arg_str(in, v[0], "fname", &o->path) ||
        !dtype_param(in, v[1], "loadtxt", &has_dtype, &o->dtype))
        return false;
    if (o->dtype == DTYPE_BOOL)
        return rt_error(in, "loadtxt(): dtype must be np.float32 or np.int64");
    bool hash_comments = val_is(v[2], OBJ_STR) && strcmp(AS_STR(v[2])->data, "#") == 0;
    if (!only_default(in, v[2], "loadtxt", "comments", hash_comments) ||
        !only_default(in, v[4], "loadtxt", "converters", false) ||
        !only_default(in, v[6], "loadtxt", "usecols", false) ||
        !only_default(in, v[7], "loadtxt", "unpack", v[7].kind == VAL_BOOL && !v[7].as.b) ||
        !only_default(in, v[8], "loadtxt", "ndmin", v[8].kind == VAL_INT && v[8].as.i == 0))
        return false;
    if (given(v[3]) && !arg_str(in, v[3], "delimiter", &delim))
        return false;
    if (delim && (strlen(delim) != 1 || delim[0] == '\n' || delim[0] == '#'))
        return rt_error(in, "loadtxt(): delimiter must be a single character such as ',' (got '%s')", delim);
    o->delimiter = delim ? delim[0] : DATA_DELIM_WHITESPACE;
    if (given(v[5]) && !arg_int(in, v[5], "skiprows", &skiprows))
        return false;
    if (skiprows < 0 || skiprows > 1000000000)
        return rt_error(in, "loadtxt(): skiprows must be a non-negative int");
    o->skiprows = (int)skiprows;
    return true;
}

/* The data module's error, naming the file as the program did
 * ("data.csv:3: ..."), not by the path where it was found. */
static bool data_error(Interp *in, const char *path, const char *resolved)
{
    const char *msg = engine_error(&in->eng);
    size_t n = strlen(resolved);
    if (strncmp(msg, resolved, n) == 0 && strcmp(resolved, path) != 0)
        return rt_error(in, "%s%s", path, msg + n);
    return rt_engine_error(in);
}

/* np.loadtxt(fname, dtype=np.float32, comments='#', delimiter=None,
 * converters=None, skiprows=0): a numeric text file, plain or gzip. nnl's
 * default dtype is float32 (NumPy's is float64); delimiter=None splits on
 * runs of whitespace. A file of one row or one column gives a 1-D array. */
static bool np_loadtxt(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    LoadtxtOptions o;
    if (!loadtxt_options(in, a, &o))
        return false;
    char *resolved = resolve_data_path(in, o.path);
    if (!resolved)
        return data_not_found(in, o.path);
    Tensor *t = data_load_csv(&in->eng, resolved, o.delimiter, o.dtype, o.skiprows);
    bool ok = t ? true : data_error(in, o.path, resolved);
    free(resolved);
    if (ok)
        *out = numpy_result(in, t);
    return ok;
}

/* ---- matplotlib.pyplot ---- */

#define PLOT_MAX_SERIES 64
#define PLOT_MAX_POINTS 1000000
#define PLOT_MAX_FMT 16

void plot_state_clear(PlotState *p)
{
    for (int i = 0; i < p->n_series; i++) {
        free((void *)p->series[i].x);
        free((void *)p->series[i].y);
        free((void *)p->series[i].fmt);
        free((void *)p->series[i].label);
    }
    free(p->series);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    memset(p, 0, sizeof *p);
}

/* One number of plotted data: a number or a one-element tensor. */
static bool plot_number(Interp *in, Value v, const char *fname, double *out)
{
    if (val_is_number(v))
        return arg_double(in, v, "value", out);
    Tensor *t = val_as_tensor(v);
    if (t && tensor_numel(t) == 1) {
        if (t->requires_grad && !AS_TENSOR(v)->is_numpy)
            return rt_error(in, "%s", REQUIRES_GRAD_MESSAGE);
        *out = tensor_get_flat(t, 0);
        return true;
    }
    if ((val_is(v, OBJ_LIST) || val_is(v, OBJ_TUPLE)))
    {
        const Value *items = val_is(v, OBJ_LIST) ? AS_LIST(v)->items : AS_TUPLE(v)->items;
        int64_t n = val_is(v, OBJ_LIST) ? AS_LIST(v)->count : AS_TUPLE(v)->count;
        /* a column given as a list of one-element lists: [[1.0], [2.0]] */
        if (n == 1 && (val_is_number(items[0]) || val_as_tensor(items[0])))
            return plot_number(in, items[0], fname, out);
    }
    return rt_error(in, "%s(): data must be numbers (found %s)", fname, value_type_name(v));
}

/* Plotted data as doubles: a list, tuple, range, tensor or array (a column
 * vector (N, 1) counts as N points), or one number. */
static bool plot_values(Interp *in, Value v, const char *fname, double **out, int64_t *n)
{
    const Value *items = NULL;
    *n = 0;
    Tensor *t = val_as_tensor(v);
    if (t) {
        if (t->ndim > 2 || (t->ndim == 2 && t->shape[1] != 1)) {
            char shape[64];
            shape_text(t->ndim, t->shape, shape, sizeof shape);
            return rt_error(in, "%s(): data of shape %s cannot be plotted in nnl: pass 1-D data or "
                                "one column (N, 1)", fname, shape);
        }
        if (t->requires_grad && !AS_TENSOR(v)->is_numpy)
            return rt_error(in, "%s", REQUIRES_GRAD_MESSAGE);
        *n = tensor_numel(t);
    } else if (val_is(v, OBJ_RANGE)) {
        *n = range_length((const ObjRange *)v.as.obj);
    } else if (val_is(v, OBJ_LIST)) {
        items = AS_LIST(v)->items;
        *n = AS_LIST(v)->count;
    } else if (val_is(v, OBJ_TUPLE)) {
        items = AS_TUPLE(v)->items;
        *n = AS_TUPLE(v)->count;
    } else if (val_is_number(v)) {
        *n = 1;
    } else {
        return rt_error(in, "%s(): data must be a list, a range, a tensor, an array or a number, not %s",
                        fname, value_type_name(v));
    }
    if (*n > PLOT_MAX_POINTS)
        return rt_error(in, "%s(): too many points (%lld; nnl plots at most %d)", fname, (long long)*n,
                        PLOT_MAX_POINTS);
    double *d = malloc((size_t)(*n ? *n : 1) * sizeof(double));
    if (!d)
        return rt_error(in, "%s(): out of memory", fname);
    for (int64_t i = 0; i < *n; i++) {
        if (t) {
            d[i] = tensor_get_flat(t, i);
        } else if (val_is(v, OBJ_RANGE)) {
            const ObjRange *r = (const ObjRange *)v.as.obj;
            d[i] = (double)(r->start + i * r->step);
        } else if (!plot_number(in, items ? items[i] : v, fname, &d[i])) {
            free(d);
            return false;
        }
    }
    *out = d;
    return true;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Add a series to the figure; takes over x and y. */
static bool plot_add_series(Interp *in, double *x, double *y, int64_t n, const char *fmt, const char *label)
{
    PlotState *p = &in->plot;
    if (p->n_series >= PLOT_MAX_SERIES) {
        free(x);
        free(y);
        return rt_error(in, "too many lines in one figure (nnl draws at most %d): call plt.show() or "
                            "plt.clf()", PLOT_MAX_SERIES);
    }
    PlotSeries *grown = realloc(p->series, (size_t)(p->n_series + 1) * sizeof *grown);
    if (!grown)
        abort();
    p->series = grown;
    PlotSeries *s = &p->series[p->n_series++];
    s->x = x;
    s->y = y;
    s->n = (int)n;
    s->fmt = strdup(fmt ? fmt : "");
    s->label = dup_or_null(label);
    return true;
}

static bool is_one_of(const char *name, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

/* Keyword arguments a pyplot function accepts (most without effect);
 * anything else is an error, as matplotlib's own. */
static bool check_keywords(Interp *in, const CallArgs *a, const char *fname, const char *const *accepted)
{
    for (int k = 0; k < a->n_kw; k++)
        if (!is_one_of(a->kw_names[k], accepted))
            return rt_error(in, "%s() got an unexpected keyword argument '%s'", fname, a->kw_names[k]);
    return true;
}

static Value keyword(const CallArgs *a, const char *name)
{
    for (int k = 0; k < a->n_kw; k++)
        if (strcmp(a->kw_names[k], name) == 0)
            return a->kw_values[k];
    Value unset = {.kind = VAL_UNSET};
    return unset;
}

/* A short keyword string (color='r'), or NULL when not a string. */
static const char *keyword_str(const CallArgs *a, const char *name)
{
    Value v = keyword(a, name);
    return val_is(v, OBJ_STR) && AS_STR(v)->len <= PLOT_MAX_FMT ? AS_STR(v)->data : NULL;
}

static bool is_single_color(const char *c)
{
    return c && ((strlen(c) == 1 && strchr("bgrcmykw", c[0])) ||
                 (strlen(c) == 2 && c[0] == 'C' && c[1] >= '0' && c[1] <= '9'));
}

/* The line style keywords of plot() turned into a format string, for a
 * call without one: marker='o', linestyle='--', color='r' -> "o--r". */
static void style_from_keywords(const CallArgs *a, bool scatter, StrBuf *fmt)
{
    const char *color = keyword_str(a, "color");
    if (!color)
        color = keyword_str(a, "c");
    const char *marker = keyword_str(a, "marker");
    const char *ls = keyword_str(a, "linestyle");
    if (!ls)
        ls = keyword_str(a, "ls");
    static const char *const styles[][2] = {{"-", "-"},       {"--", "--"},    {"-.", "-."},
                                            {":", ":"},       {"solid", "-"},  {"dashed", "--"},
                                            {"dashdot", "-."}, {"dotted", ":"}, {"None", ""},
                                            {"none", ""},     {"", ""}};
    const char *line = NULL;
    for (size_t i = 0; ls && i < sizeof styles / sizeof styles[0]; i++)
        if (strcmp(ls, styles[i][0]) == 0)
            line = styles[i][1];
    if (marker && strlen(marker) == 1 && strchr(".,ov^<>12348spP*hH+xXDd|_", marker[0]))
        sb_append(fmt, marker);
    else if (scatter)
        sb_append(fmt, "o");
    if (scatter)
        line = "";
    if (line)
        sb_append(fmt, line);
    else if (fmt->len)
        sb_append(fmt, "-");   /* plot(marker='o') keeps its line, unlike the format "o" */
    if (is_single_color(color))
        sb_append(fmt, color);
    else if (color && fmt->len == 0 && !line)
        sb_append(fmt, color); /* a colour name alone: "red" */
}

/* The label= keyword as text (str() of any value), or NULL. */
static bool label_keyword(Interp *in, const CallArgs *a, char **out)
{
    *out = NULL;
    Value v = keyword(a, "label");
    if (!given(v))
        return true;
    StrBuf sb = STRBUF_INIT;
    if (!value_str(in, v, &sb)) {
        sb_free(&sb);
        return false;
    }
    *out = sb_take(&sb);
    return true;
}

/* The x for plot(y): 0, 1, ..., n-1. */
static double *default_x(int64_t n)
{
    double *x = malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!x)
        abort();
    for (int64_t i = 0; i < n; i++)
        x[i] = (double)i;
    return x;
}

/* Add the series of one plotted group: (x, y), or y alone when `second` is unset. */
static bool plot_group(Interp *in, const char *fname, Value first, Value second, const char *fmt,
                       const char *label)
{
    double *x = NULL, *y = NULL;
    int64_t nx, ny;
    if (!arg_given(second)) {
        if (!plot_values(in, first, fname, &y, &ny))
            return false;
        x = default_x(ny);
        nx = ny;
    } else {
        if (!plot_values(in, first, fname, &x, &nx))
            return false;
        if (!plot_values(in, second, fname, &y, &ny)) {
            free(x);
            return false;
        }
    }
    if (nx != ny) {
        free(x);
        free(y);
        return rt_error(in, "x and y must have same first dimension, but have shapes (%lld,) and (%lld,)",
                        (long long)nx, (long long)ny);
    }
    return plot_add_series(in, x, y, nx, fmt, label);
}

static const char *const LINE_KEYWORDS[] = {
    "label", "color", "c", "linewidth", "lw", "linestyle", "ls", "marker", "markersize", "ms",
    "alpha", "markerfacecolor", "mfc", "markeredgecolor", "mec", "markeredgewidth", "mew",
    "zorder", "fontsize", "drawstyle", "antialiased", "dashes", "fillstyle", NULL};

/* plt.plot([x], y, [fmt], [x2], y2, [fmt2], ..., label=..., color=..., ...):
 * each group adds a series; y alone is drawn against 0..n-1. Returns None
 * (matplotlib returns its Line2D objects, which nnl does not have). */
static bool plt_plot(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (!check_keywords(in, a, "plot", LINE_KEYWORDS))
        return false;
    if (a->n_pos == 0)
        return rt_error(in, "plot() needs the data to draw: plt.plot(y) or plt.plot(x, y)");
    char *label;
    if (!label_keyword(in, a, &label))
        return false;
    StrBuf style = STRBUF_INIT;
    style_from_keywords(a, false, &style);
    bool ok = true;
    for (int i = 0; i < a->n_pos && ok;) {
        Value first = a->pos[i++], second = {.kind = VAL_UNSET};
        if (val_is(first, OBJ_STR)) {
            ok = rt_error(in, "plot(): the format string '%s' must follow the data", AS_STR(first)->data);
            break;
        }
        if (i < a->n_pos && !val_is(a->pos[i], OBJ_STR))
            second = a->pos[i++];
        const char *fmt = sb_str(&style);
        if (i < a->n_pos && val_is(a->pos[i], OBJ_STR)) {
            const ObjStr *f = AS_STR(a->pos[i++]);
            if (f->len > PLOT_MAX_FMT || strlen(f->data) != f->len) {
                ok = rt_error(in, "plot(): '%.40s' is not a valid format string (such as 'r-o' or 'b.')",
                              f->data);
                break;
            }
            fmt = f->data;
        }
        ok = plot_group(in, "plot", first, second, fmt, label);
    }
    sb_free(&style);
    free(label);
    *out = val_none();
    return ok;
}

static const char *const SCATTER_KEYWORDS[] = {
    "s", "c", "color", "marker", "label", "alpha", "linewidths", "edgecolors", "cmap", "zorder", NULL};

/* plt.scatter(x, y, ...): markers without a line (format "o"). */
static bool plt_scatter(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (!check_keywords(in, a, "scatter", SCATTER_KEYWORDS))
        return false;
    if (a->n_pos != 2)
        return rt_error(in, "scatter() takes the data as two arguments: plt.scatter(x, y)");
    char *label;
    if (!label_keyword(in, a, &label))
        return false;
    StrBuf style = STRBUF_INIT;
    style_from_keywords(a, true, &style);
    bool ok = plot_group(in, "scatter", a->pos[0], a->pos[1], sb_str(&style), label);
    sb_free(&style);
    free(label);
    *out = val_none();
    return ok;
}

static const char *const TEXT_KEYWORDS[] = {
    "fontsize", "size", "fontweight", "weight", "color", "loc", "labelpad", "pad", "rotation",
    "fontdict", "family", "fontfamily", "style", "fontstyle", "ha", "va", "horizontalalignment",
    "verticalalignment", NULL};

/* xlabel / ylabel / title: one text (str() of the argument) replacing the
 * previous one. */
static bool set_text(Interp *in, const CallArgs *a, const char *fname, char **slot, Value *out)
{
    if (!check_keywords(in, a, fname, TEXT_KEYWORDS))
        return false;
    if (a->n_pos != 1)
        return rt_error(in, "%s() takes 1 positional argument but %d were given", fname, a->n_pos);
    StrBuf sb = STRBUF_INIT;
    if (!value_str(in, a->pos[0], &sb)) {
        sb_free(&sb);
        return false;
    }
    free(*slot);
    *slot = sb_take(&sb);
    *out = val_none();
    return true;
}

static bool plt_xlabel(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return set_text(in, a, "xlabel", &in->plot.xlabel, out);
}

static bool plt_ylabel(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return set_text(in, a, "ylabel", &in->plot.ylabel, out);
}

static bool plt_title(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return set_text(in, a, "title", &in->plot.title, out);
}

static const char *const LEGEND_KEYWORDS[] = {
    "loc", "fontsize", "frameon", "title", "ncol", "ncols", "shadow", "framealpha",
    "bbox_to_anchor", "prop", "labels", "markerscale", "fancybox", NULL};

/* plt.legend(): show the labels; plt.legend(['a', 'b']) also names the
 * series in order. */
static bool plt_legend(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (!check_keywords(in, a, "legend", LEGEND_KEYWORDS))
        return false;
    if (a->n_pos > 1)
        return rt_error(in, "legend() takes the labels as one list in nnl");
    Value labels = a->n_pos ? a->pos[0] : keyword(a, "labels");
    if (given(labels)) {
        if (!val_is(labels, OBJ_LIST) && !val_is(labels, OBJ_TUPLE))
            return rt_error(in, "legend(): labels must be a list of strings, not %s", value_type_name(labels));
        const Value *items = val_is(labels, OBJ_LIST) ? AS_LIST(labels)->items : AS_TUPLE(labels)->items;
        int64_t n = val_is(labels, OBJ_LIST) ? AS_LIST(labels)->count : AS_TUPLE(labels)->count;
        for (int64_t i = 0; i < n && i < in->plot.n_series; i++) {
            StrBuf sb = STRBUF_INIT;
            if (!value_str(in, items[i], &sb)) {
                sb_free(&sb);
                return false;
            }
            free((void *)in->plot.series[i].label);
            in->plot.series[i].label = sb_take(&sb);
        }
    }
    in->plot.legend = true;
    *out = val_none();
    return true;
}

/* plt.show(): hand the figure to the front-end, then start a new one.
 * Nothing is drawn when nothing was plotted. */
static bool plt_show(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const accepted[] = {"block", NULL};
    if (!check_keywords(in, a, "show", accepted))
        return false;
    if (a->n_pos)
        return rt_error(in, "show() takes no positional arguments");
    interp_flush_plot(in);
    *out = val_none();
    return true;
}

void interp_flush_plot(Interp *in)
{
    PlotState *p = &in->plot;
    if (p->n_series > 0) {
        Figure fig = {p->series, p->n_series, p->title, p->xlabel, p->ylabel, p->legend};
        Event ev = {.kind = EVENT_PLOT, .figure = &fig};
        interp_emit(in, &ev);
    }
    plot_state_clear(p);
}

/* plt.figure(...) and plt.clf(): start a new, empty figure. nnl has one
 * figure at a time, so figure() drops what was not shown yet. */
static bool plt_figure(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const accepted[] = {"figsize", "dpi", "num", "facecolor", "edgecolor", "clear", NULL};
    if (!check_keywords(in, a, "figure", accepted))
        return false;
    plot_state_clear(&in->plot);
    *out = val_none();
    return true;
}

static bool plt_clf(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (a->n_pos || a->n_kw)
        return rt_error(in, "clf() takes no arguments");
    plot_state_clear(&in->plot);
    *out = val_none();
    return true;
}

/* plt.grid, plt.xlim, plt.ylim: accepted with any arguments and without
 * effect (the chart always shows the whole data and its own ticks); they
 * return None. */
static bool plt_no_effect(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)in;
    (void)self;
    (void)a;
    *out = val_none();
    return true;
}

/* ---- seaborn: sns.set() and sns.set_theme() only style matplotlib ---- */

static bool sns_set(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)in;
    (void)self;
    (void)a;
    *out = val_none();
    return true;
}

/* ---- time ---- */

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool time_no_args(Interp *in, const CallArgs *a, const char *fname)
{
    if (a->n_pos || a->n_kw)
        return rt_error(in, "time.%s() takes no arguments (%d given)", fname, a->n_pos + a->n_kw);
    return true;
}

static bool time_perf_counter(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (!time_no_args(in, a, "perf_counter"))
        return false;
    *out = val_float(clock_seconds(CLOCK_MONOTONIC));
    return true;
}

static bool time_time(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (!time_no_args(in, a, "time"))
        return false;
    *out = val_float(clock_seconds(CLOCK_REALTIME));
    return true;
}

/* ---- teaching built-ins: watch, pause ---- */

static bool watchable(Value v)
{
    return val_is(v, OBJ_TENSOR) || val_is(v, OBJ_LAYER) || val_is(v, OBJ_OPTIMIZER) ||
           instance_is_module(v);
}

/* The items of a list or tuple argument of watch(), else NULL. */
static const Value *watch_sequence(Value v, int64_t *n)
{
    if (val_is(v, OBJ_LIST)) {
        *n = AS_LIST(v)->count;
        return AS_LIST(v)->items;
    }
    if (val_is(v, OBJ_TUPLE) && !AS_TUPLE(v)->is_size) {
        *n = AS_TUPLE(v)->count;
        return AS_TUPLE(v)->items;
    }
    return NULL;
}

/* watch(*tensors_or_modules): what the weights and gradients panes show. A
 * list or tuple of them counts as its items (watch(model.parameters())).
 * watch() with nothing goes back to the default (the latest model). */
static bool bi_watch(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (a->n_kw)
        return rt_error(in, "watch() got an unexpected keyword argument '%s'", a->kw_names[0]);
    ObjList *l = list_new(&in->heap, a->n_pos);
    for (int i = 0; i < a->n_pos; i++) {
        int64_t n = 1;
        const Value *items = watch_sequence(a->pos[i], &n);
        if (!items)
            items = &a->pos[i];
        for (int64_t k = 0; k < n; k++) {
            if (!watchable(items[k])) {
                value_release(val_obj(&l->h));
                return rt_error(in, "watch() takes tensors and modules, not %s (argument %d)",
                                value_type_name(items[k]), i + 1);
            }
            list_append(l, value_retain(items[k]));
        }
    }
    value_release(in->watched);
    in->watched = val_obj(&l->h);
    if (l->count == 0) {
        value_release(in->watched);
        in->watched = val_none();
    }
    Event ev = {.kind = EVENT_WATCH};
    interp_emit(in, &ev);
    *out = val_none();
    return true;
}

/* pause(note=''): a breakpoint for the TUI; in batch mode nothing happens. */
static bool bi_pause(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"note", NULL};
    Value v[1];
    if (!args_parse(in, a, "pause", names, 0, v))
        return false;
    StrBuf sb = STRBUF_INIT;
    if (given(v[0]) && !value_str(in, v[0], &sb)) {
        sb_free(&sb);
        return false;
    }
    Event ev = {.kind = EVENT_PAUSE, .text = sb_str(&sb), .text_len = sb.len};
    interp_emit(in, &ev);
    sb_free(&sb);
    *out = val_none();
    return true;
}

/* ---- teaching built-ins: check, check_close ---- */

/* The message of a check: msg (str() of it), or "check on line N" when
 * there is none, as the exam grader names checks. */
static bool check_message(Interp *in, Value msg, StrBuf *out)
{
    if (given(msg) && !value_str(in, msg, out))
        return false;
    if (out->len == 0)
        sb_printf(out, "check on line %d", in->current_line);
    return true;
}

static void emit_check(Interp *in, const char *message, bool passed, const char *detail)
{
    if (passed)
        in->checks_passed++;
    else
        in->checks_failed++;
    Event ev = {.kind = EVENT_CHECK, .text = message, .text_len = strlen(message), .passed = passed,
                .detail = passed ? NULL : detail};
    interp_emit(in, &ev);
}

/* check(cond, msg=''): passes when cond is true. On failure the detail is
 * "got " and the repr of cond ("got False", "got tensor(False)"). */
static bool bi_check(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"cond", "msg", NULL};
    Value v[2];
    bool passed;
    if (!args_parse(in, a, "check", names, 1, v) || !value_truthy(in, v[0], &passed))
        return false;
    StrBuf msg = STRBUF_INIT, detail = STRBUF_INIT;
    bool ok = check_message(in, v[1], &msg);
    if (ok && !passed) {
        sb_append(&detail, "got ");
        ok = value_repr(in, v[0], &detail);
    }
    if (ok)
        emit_check(in, sb_str(&msg), passed, sb_str(&detail));
    sb_free(&msg);
    sb_free(&detail);
    *out = val_none();
    return ok;
}

/* Numbers of check_close's arguments, in row-major order, with a shape. */
typedef struct NumberArray {
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    int leaf_depth;          /* the depth of the numbers, once one was seen; -1 before */
    double *values;
    int64_t n, cap;
} NumberArray;

#define NUMBER_ARRAY_INIT {0, {0}, -1, NULL, 0, 0}

static bool numbers_push(Interp *in, NumberArray *na, double x)
{
    if (na->n == na->cap) {
        if ((uint64_t)na->n >= in->eng.max_bytes / sizeof(double))
            return rt_error(in, "check_close(): too many values to compare");
        na->cap = na->cap ? na->cap * 2 : 16;
        double *grown = realloc(na->values, (size_t)na->cap * sizeof(double));
        if (!grown)
            return rt_error(in, "check_close(): out of memory");
        na->values = grown;
    }
    na->values[na->n++] = x;
    return true;
}

/* A list (or a tensor dimension) of `size` items at `depth`: every list at
 * one depth must have the same length, and lists sit above the numbers. */
static bool numbers_dim(Interp *in, NumberArray *na, int depth, int64_t size, const char *what)
{
    if (na->leaf_depth >= 0 && depth >= na->leaf_depth)
        return rt_error(in, "check_close(): %s mixes numbers and lists", what);
    if (depth >= TENSOR_MAX_DIMS)
        return rt_error(in, "check_close(): %s is nested too deeply", what);
    if (depth < na->ndim) {
        if (na->shape[depth] != size)
            return rt_error(in, "check_close(): %s is a ragged list (lengths %lld and %lld at depth %d)",
                            what, (long long)na->shape[depth], (long long)size, depth);
        return true;
    }
    na->shape[na->ndim++] = size;
    return true;
}

/* Numbers sit at one depth, below every list. */
static bool numbers_leaf(Interp *in, NumberArray *na, int depth, const char *what)
{
    if (na->leaf_depth < 0 && depth == na->ndim)
        na->leaf_depth = depth;
    if (depth != na->leaf_depth)
        return rt_error(in, "check_close(): %s mixes numbers and lists", what);
    return true;
}

static bool numbers_collect(Interp *in, Value v, int depth, NumberArray *na, const char *what)
{
    if (val_is_number(v)) {
        double x;
        arg_double(in, v, "value", &x);
        return numbers_leaf(in, na, depth, what) && numbers_push(in, na, x);
    }
    Tensor *t = val_as_tensor(v);
    if (t) {
        for (int i = 0; i < t->ndim; i++)
            if (!numbers_dim(in, na, depth + i, t->shape[i], what))
                return false;
        if (!numbers_leaf(in, na, depth + t->ndim, what))
            return false;
        int64_t count = tensor_numel(t);
        for (int64_t i = 0; i < count; i++)
            if (!numbers_push(in, na, tensor_get_flat(t, i)))
                return false;
        return true;
    }
    if (val_is(v, OBJ_LIST) || val_is(v, OBJ_TUPLE)) {
        const Value *items = val_is(v, OBJ_LIST) ? AS_LIST(v)->items : AS_TUPLE(v)->items;
        int64_t count = val_is(v, OBJ_LIST) ? AS_LIST(v)->count : AS_TUPLE(v)->count;
        if (!numbers_dim(in, na, depth, count, what))
            return false;
        for (int64_t i = 0; i < count; i++)
            if (!numbers_collect(in, items[i], depth + 1, na, what))
                return false;
        return true;
    }
    return rt_error(in, "check_close(): %s must be a number, a list of numbers or a tensor, not %s", what,
                    value_type_name(v));
}

static bool same_shape(const NumberArray *x, const NumberArray *y)
{
    if (x->ndim != y->ndim)
        return false;
    for (int i = 0; i < x->ndim; i++)
        if (x->shape[i] != y->shape[i])
            return false;
    return true;
}

/* check_close(actual, expected, tol=1e-4, msg=''): numbers, lists and
 * tensors. The rule, element by element: equal values pass (infinities
 * included), otherwise |actual - expected| <= tol * (1 + |expected|) — an
 * absolute tolerance near zero, a relative one for large values; NaN never
 * passes. The shapes must agree (two single values always do); a mismatch
 * is a failed check, not an error. */
static bool bi_check_close(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"actual", "expected", "tol", "msg", NULL};
    Value v[4];
    double tol = 1e-4;
    if (!args_parse(in, a, "check_close", names, 2, v))
        return false;
    if (given(v[2]) && !arg_double(in, v[2], "tol", &tol))
        return false;
    if (!(tol >= 0))
        return rt_error(in, "check_close(): tol must be a non-negative number");
    NumberArray x = NUMBER_ARRAY_INIT, y = NUMBER_ARRAY_INIT;
    StrBuf msg = STRBUF_INIT, detail = STRBUF_INIT;
    bool ok = numbers_collect(in, v[0], 0, &x, "actual") && numbers_collect(in, v[1], 0, &y, "expected") &&
              check_message(in, v[3], &msg);
    if (ok) {
        bool passed;
        if (!same_shape(&x, &y) && !(x.n == 1 && y.n == 1)) {
            char xs[64], ys[64];
            shape_text(x.ndim, x.shape, xs, sizeof xs);
            shape_text(y.ndim, y.shape, ys, sizeof ys);
            sb_append(&detail, "got ");
            ok = value_repr(in, v[0], &detail);
            sb_append(&detail, ", expected ");
            ok = ok && value_repr(in, v[1], &detail);
            sb_printf(&detail, ": shape %s does not match %s", xs, ys);
            passed = false;
        } else {
            passed = true;
            for (int64_t i = 0; i < x.n && passed; i++)
                passed = x.values[i] == y.values[i] ||
                         fabs(x.values[i] - y.values[i]) <= tol * (1 + fabs(y.values[i]));
            if (!passed) {
                sb_append(&detail, "got ");
                ok = value_repr(in, v[0], &detail);
                sb_append(&detail, ", expected ");
                ok = ok && value_repr(in, v[1], &detail);
            }
        }
        if (ok)
            emit_check(in, sb_str(&msg), passed, sb_str(&detail));
    }
    free(x.values);
    free(y.values);
    sb_free(&msg);
    sb_free(&detail);
    *out = val_none();
    return ok;
}

/* ---- teaching built-ins: ask ---- */

/* ask(prompt=''): read the student's answer and evaluate it as an nnl
 * expression in the current scope ("0.5", "w * 2", "[1, 2]"); text that is
 * not an expression comes back as a string. */
static bool bi_ask(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"prompt", NULL};
    Value v[1];
    if (!args_parse(in, a, "ask", names, 0, v))
        return false;
    if (!in->fe.read_line)
        return rt_error(in, "ask() needs an interactive front-end or input on stdin");
    StrBuf prompt = STRBUF_INIT;
    if (given(v[0]) && !value_str(in, v[0], &prompt)) {
        sb_free(&prompt);
        return false;
    }
    char *line = NULL;
    bool got = in->fe.read_line(in->fe.ctx, sb_str(&prompt), &line);
    sb_free(&prompt);
    if (!got) {
        free(line);
        return rt_error(in, "ask(): no answer (the input ended)");
    }
    Source *site_source = in->call_source;
    SrcPos site = in->call_pos;
    bool ok = interp_eval_expression(in, line, out);
    if (!ok) {
        /* report at the ask() call, saying which answer failed */
        char *why = strdup(in->diag.message ? in->diag.message : "error");
        in->call_source = site_source;
        in->call_pos = site;
        rt_error(in, "ask(): the answer '%.200s' could not be evaluated: %s", line, why ? why : "error");
        free(why);
    }
    free(line);
    return ok;
}

/* ---- teaching built-ins: load_dataset ---- */

static const char *const DATASET_NAMES = "diabetes, digits, fashion-mnist";
#define FASHION_FULL_DIR "/usr/share/datasets/fashion-mnist"

/* A file of the shipped datasets: in the installed datasets/ directory,
 * then the running file's directory, then ./datasets. */
static bool find_dataset_file(Interp *in, const char *dataset, const char *file, char **out)
{
    const char *dirs[] = {in->opt.datasets_dir, in->opt.script_dir, "datasets"};
    *out = find_in_dirs(file, dirs, 3);
    if (*out)
        return true;
    return rt_error(in, "load_dataset('%s'): %s not found (looked in %s%s%s./datasets)", dataset, file,
                    in->opt.datasets_dir ? in->opt.datasets_dir : "",
                    in->opt.datasets_dir ? ", " : "", in->opt.script_dir ? "the program's directory, " : "");
}

/* A CSV dataset with the label in the last column, `columns` in all:
 * x (N, columns-1) float32 and y: (N, 1) float32, or (N) int64 when
 * `int_labels`. */
static bool load_csv_dataset(Interp *in, const char *name, const char *file, int64_t columns,
                             bool int_labels, Tensor **x, Tensor **y)
{
    char *path;
    if (!find_dataset_file(in, name, file, &path))
        return false;
    Tensor *xy = data_load_csv(&in->eng, path, ',', DTYPE_FLOAT32, 0);
    free(path);
    if (!xy)
        return rt_engine_error(in);
    if (xy->ndim != 2 || xy->shape[1] != columns) {
        tensor_release(xy);
        return rt_error(in, "load_dataset('%s'): %s should have %lld columns", name, file, (long long)columns);
    }
    SliceSpec features = {false, true, 0, columns - 1, 1};
    Tensor *xs = tensor_slice(&in->eng, xy, 1, features);
    Tensor *ys = int_labels ? tensor_select(&in->eng, xy, 1, columns - 1)
                            : tensor_slice(&in->eng, xy, 1, (SliceSpec){true, false, columns - 1, 0, 1});
    tensor_release(xy);
    /* copies: each tensor gets its own contiguous storage */
    *x = xs ? tensor_copy_data(&in->eng, xs) : NULL;
    *y = !ys ? NULL : int_labels ? tensor_to_dtype(&in->eng, ys, DTYPE_INT64) : tensor_copy_data(&in->eng, ys);
    tensor_release(xs);
    tensor_release(ys);
    if (!*x || !*y) {
        tensor_release(*x);
        tensor_release(*y);
        return rt_engine_error(in);
    }
    return true;
}

/* Fashion-MNIST images (N, 1, 28, 28) in [0, 1] and int64 labels (N). */
static bool load_idx_pair(Interp *in, const char *dir, const char *images_file, const char *labels_file,
                          Tensor **images, Tensor **labels)
{
    char *ipath = NULL, *lpath = NULL;
    if (dir) {
        ipath = join_path(dir, images_file);
        lpath = join_path(dir, labels_file);
    } else {
        char *rel_i = join_path("fashion-mnist", images_file), *rel_l = join_path("fashion-mnist", labels_file);
        bool found = find_dataset_file(in, "fashion-mnist", rel_i, &ipath) &&
                     find_dataset_file(in, "fashion-mnist", rel_l, &lpath);
        free(rel_i);
        free(rel_l);
        if (!found) {
            free(ipath);
            return false;
        }
    }
    *images = data_load_idx(&in->eng, ipath, true);
    *labels = *images ? data_load_idx(&in->eng, lpath, false) : NULL;
    free(ipath);
    free(lpath);
    if (!*images || !*labels) {
        tensor_release(*images);
        return rt_engine_error(in);
    }
    if ((*images)->ndim != 4 || (*labels)->ndim != 1 || (*images)->shape[0] != (*labels)->shape[0]) {
        tensor_release(*images);
        tensor_release(*labels);
        return rt_error(in, "load_dataset('fashion-mnist'): %s and %s do not make an image set", images_file,
                        labels_file);
    }
    return true;
}

static Value tuple_of(Interp *in, Tensor **ts, int n)
{
    ObjTuple *t = tuple_new(&in->heap, n);
    for (int i = 0; i < n; i++)
        t->items[i] = val_tensor(in, ts[i]);
    return val_obj(&t->h);
}

/* load_dataset(name, full=False), a dataset of datasets/ as torch tensors:
 *   "diabetes"       x float32 (768, 8) scaled to [-1, 1], y float32 (768, 1) 0/1
 *   "digits"         x float32 (1797, 64) with the raw pixel values 0..16 (not
 *                    scaled), y int64 (1797) digits 0..9
 *   "fashion-mnist"  x_train float32 (N, 1, 28, 28) in [0, 1], y_train int64 (N),
 *                    x_test, y_test: the shipped subset (6000 and 1000), or with
 *                    full=True the whole set from the Debian package
 *                    dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
 * full=True changes nothing for the other datasets: they are shipped whole. */
static bool bi_load_dataset(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"name", "full", NULL};
    Value v[2];
    const char *name;
    bool full = false;
    if (!args_parse(in, a, "load_dataset", names, 1, v) || !arg_str(in, v[0], "name", &name))
        return false;
    if (given(v[1]) && !arg_bool(in, v[1], "full", &full))
        return false;
    Tensor *ts[4] = {NULL, NULL, NULL, NULL};
    if (strcmp(name, "diabetes") == 0) {
        if (!load_csv_dataset(in, name, "diabetes.csv.gz", 9, false, &ts[0], &ts[1]))
            return false;
        *out = tuple_of(in, ts, 2);
        return true;
    }
    if (strcmp(name, "digits") == 0) {
        if (!load_csv_dataset(in, name, "digits.csv.gz", 65, true, &ts[0], &ts[1]))
            return false;
        *out = tuple_of(in, ts, 2);
        return true;
    }
    if (strcmp(name, "fashion-mnist") == 0) {
        const char *dir = NULL;
        if (full) {
            struct stat st;
            if (stat(FASHION_FULL_DIR, &st) != 0 || !S_ISDIR(st.st_mode))
                return rt_error(in, "load_dataset('fashion-mnist', full=True) needs the Debian package "
                                    "dataset-fashion-mnist (" FASHION_FULL_DIR " not found)");
            dir = FASHION_FULL_DIR;
        }
        if (!load_idx_pair(in, dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", &ts[0], &ts[1]))
            return false;
        if (!load_idx_pair(in, dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", &ts[2], &ts[3])) {
            tensor_release(ts[0]);
            tensor_release(ts[1]);
            return false;
        }
        *out = tuple_of(in, ts, 4);
        return true;
    }
    return rt_error(in, "load_dataset(): unknown dataset '%s' (available: %s)", name, DATASET_NAMES);
}

/* ---- registration ---- */

typedef struct NativeEntry {
    const char *name;
    NativeFn fn;
} NativeEntry;

static ObjNamespace *namespace_with(Interp *in, const char *name, const NativeEntry *fns, size_t n)
{
    ObjNamespace *ns = namespace_new(in, name);
    for (size_t i = 0; i < n; i++)
        namespace_add_native(in, ns, fns[i].name, fns[i].fn);
    return ns;
}

/* Make ns importable as `dotted` and, when `builtin` is given, pre-imported
 * under that name. Drops the caller's reference. */
static void publish(Interp *in, ObjNamespace *ns, const char *dotted, const char *builtin)
{
    Value v = val_obj(&ns->h);
    module_register(in, dotted, v);
    if (builtin)
        table_set(&in->builtins, intern(in, builtin), v);
    value_release(v);
}

static void add_numpy_dtype(Interp *in, ObjNamespace *np, const char *attr, const char *name, DType dtype)
{
    ObjDtype *d = (ObjDtype *)obj_alloc(&in->heap, OBJ_DTYPE, sizeof(ObjDtype));
    d->dtype = dtype;
    d->name = name;
    Value v = val_obj(&d->h);
    namespace_add_value(in, np, attr, v);
    value_release(v);
}

static void add_numpy(Interp *in)
{
    static const NativeEntry fns[] = {
        {"array", np_array}, {"arange", np_arange}, {"linspace", np_linspace}, {"exp", np_exp},
        {"log", np_log},     {"sum", np_sum},       {"mean", np_mean},         {"loadtxt", np_loadtxt},
    };
    ObjNamespace *np = namespace_with(in, "numpy", fns, sizeof fns / sizeof fns[0]);
    add_numpy_dtype(in, np, "float32", NUMPY_DTYPE_PREFIX "float32'>", DTYPE_FLOAT32);
    add_numpy_dtype(in, np, "int64", NUMPY_DTYPE_PREFIX "int64'>", DTYPE_INT64);
    /* calling a dtype object: np.float32(x) (torch.float32(x) stays an error) */
    if (!table_get(&in->types[OBJ_DTYPE].methods, intern(in, "__call__")))
        type_add_method(in, OBJ_DTYPE, "__call__", dtype_call);
    publish(in, np, "numpy", "np");
}

static void add_matplotlib(Interp *in)
{
    static const NativeEntry fns[] = {
        {"plot", plt_plot},     {"scatter", plt_scatter}, {"xlabel", plt_xlabel},
        {"ylabel", plt_ylabel}, {"title", plt_title},     {"legend", plt_legend},
        {"show", plt_show},     {"figure", plt_figure},   {"clf", plt_clf},
        {"grid", plt_no_effect}, {"xlim", plt_no_effect}, {"ylim", plt_no_effect},
    };
    ObjNamespace *plt = namespace_with(in, "matplotlib.pyplot", fns, sizeof fns / sizeof fns[0]);
    ObjNamespace *mpl = namespace_new(in, "matplotlib");
    namespace_add_value(in, mpl, "pyplot", val_obj(&plt->h));
    publish(in, plt, "matplotlib.pyplot", "plt");
    publish(in, mpl, "matplotlib", NULL);
}

void lib_extra_init(Interp *in)
{
    add_numpy(in);
    add_matplotlib(in);

    static const NativeEntry sns_fns[] = {{"set", sns_set}, {"set_theme", sns_set}};
    publish(in, namespace_with(in, "seaborn", sns_fns, 2), "seaborn", "sns");

    static const NativeEntry time_fns[] = {{"perf_counter", time_perf_counter}, {"time", time_time}};
    publish(in, namespace_with(in, "time", time_fns, 2), "time", "time");

    static const NativeEntry teaching[] = {
        {"watch", bi_watch},         {"pause", bi_pause}, {"check", bi_check},
        {"check_close", bi_check_close}, {"ask", bi_ask}, {"load_dataset", bi_load_dataset},
    };
    for (size_t i = 0; i < sizeof teaching / sizeof teaching[0]; i++)
        builtins_add_native(in, teaching[i].name, teaching[i].fn);
}
