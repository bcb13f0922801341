/*
 * lib_builtins.c - Python's built-in functions that nnl keeps (print, len,
 * range, ...), the methods of str and list, and clear errors for the
 * built-ins nnl leaves out on purpose (open, exec, __import__ ...).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "pyformat.h"

/* ---- print ---- */

static bool bi_print(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    const char *sep = " ", *end = "\n";
    for (int k = 0; k < a->n_kw; k++) {
        Value v = a->kw_values[k];
        const char *name = a->kw_names[k];
        if (strcmp(name, "sep") == 0 || strcmp(name, "end") == 0) {
            const char *s = strcmp(name, "sep") == 0 ? " " : "\n";
            if (v.kind != VAL_NONE && !arg_str(in, v, name, &s))
                return false;
            if (strcmp(name, "sep") == 0)
                sep = s;
            else
                end = s;
        } else if (strcmp(name, "flush") == 0) {
            continue;
        } else if (strcmp(name, "file") == 0) {
            return rt_error(in, "print(file=...) is not part of nnl: programs cannot write files");
        } else {
            return rt_error(in, "print() got an unexpected keyword argument '%s'", name);
        }
    }
    StrBuf sb = STRBUF_INIT;
    for (int i = 0; i < a->n_pos; i++) {
        if (i)
            sb_append(&sb, sep);
        if (!value_str(in, a->pos[i], &sb)) {
            sb_free(&sb);
            return false;
        }
    }
    sb_append(&sb, end);
    interp_print(in, sb_str(&sb), sb.len);
    sb_free(&sb);
    *out = val_none();
    return true;
}

/* ---- sequences ---- */

static bool int_argument(Interp *in, Value v, int64_t *out)
{
    if (v.kind == VAL_FLOAT)
        return rt_error(in, "'float' object cannot be interpreted as an integer");
    return arg_int(in, v, "argument", out);
}

static bool bi_range(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (a->n_kw)
        return rt_error(in, "range() takes no keyword arguments");
    if (a->n_pos < 1 || a->n_pos > 3)
        return rt_error(in, "range expected 1 to 3 arguments, got %d", a->n_pos);
    int64_t v[3] = {0, 0, 1};
    for (int i = 0; i < a->n_pos; i++)
        if (!int_argument(in, a->pos[i], &v[i]))
            return false;
    ObjRange *r = (ObjRange *)obj_alloc(&in->heap, OBJ_RANGE, sizeof(ObjRange));
    if (a->n_pos == 1) {
        r->start = 0;
        r->stop = v[0];
        r->step = 1;
    } else {
        r->start = v[0];
        r->stop = v[1];
        r->step = v[2];
    }
    if (r->step == 0) {
        value_release(val_obj(&r->h));
        return rt_error(in, "range() arg 3 must not be zero");
    }
    *out = val_obj(&r->h);
    return true;
}

static bool bi_len(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"obj", NULL};
    Value v[1];
    int64_t n;
    if (!args_parse(in, a, "len", names, 1, v) || !value_length(in, v[0], &n))
        return false;
    *out = val_int(n);
    return true;
}

static bool bi_enumerate(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"iterable", "start", NULL};
    Value v[2];
    int64_t start = 0;
    if (!args_parse(in, a, "enumerate", names, 1, v))
        return false;
    if (arg_given(v[1]) && !arg_int(in, v[1], "start", &start))
        return false;
    return make_enumerate(in, v[0], start, out);
}

static bool bi_zip(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (a->n_kw)
        return rt_error(in, "zip() takes no keyword arguments in nnl");
    return make_zip(in, a->pos, a->n_pos, out);
}

/* Collect an iterable into a new list. */
static bool collect(Interp *in, Value v, ObjList **out)
{
    ObjIter *it;
    if (!value_iter(in, v, &it))
        return false;
    ObjList *l = list_new(&in->heap, 0);
    for (;;) {
        Value x;
        IterStep st = iter_next(in, it, &x);
        if (st == ITER_DONE)
            break;
        if (st == ITER_ERROR || !interp_safe_point(in)) {
            if (st == ITER_VALUE)
                value_release(x);
            value_release(val_obj(&it->h));
            value_release(val_obj(&l->h));
            return false;
        }
        list_append(l, x);
    }
    value_release(val_obj(&it->h));
    *out = l;
    return true;
}

static bool bi_list(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"iterable", NULL};
    Value v[1];
    if (!args_parse(in, a, "list", names, 0, v))
        return false;
    if (!arg_given(v[0])) {
        *out = val_obj(&list_new(&in->heap, 0)->h);
        return true;
    }
    ObjList *l;
    if (!collect(in, v[0], &l))
        return false;
    *out = val_obj(&l->h);
    return true;
}

static bool bi_tuple(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"iterable", NULL};
    Value v[1];
    if (!args_parse(in, a, "tuple", names, 0, v))
        return false;
    ObjList *l = NULL;
    if (arg_given(v[0]) && !collect(in, v[0], &l))
        return false;
    int64_t n = l ? l->count : 0;
    ObjTuple *t = tuple_new(&in->heap, n);
    for (int64_t i = 0; i < n; i++)
        t->items[i] = value_retain(l->items[i]);
    if (l)
        value_release(val_obj(&l->h));
    *out = val_obj(&t->h);
    return true;
}

/* ---- numbers ---- */

static bool bi_abs(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"x", NULL};
    Value v[1];
    if (!args_parse(in, a, "abs", names, 1, v))
        return false;
    switch (v[0].kind) {
    case VAL_INT:
        if (v[0].as.i == INT64_MIN)
            return rt_error(in, "integer overflow: nnl ints are 64-bit");
        *out = val_int(v[0].as.i < 0 ? -v[0].as.i : v[0].as.i);
        return true;
    case VAL_BOOL:
        *out = val_int(v[0].as.b);
        return true;
    case VAL_FLOAT:
        *out = val_float(fabs(v[0].as.f));
        return true;
    default:
        break;
    }
    Tensor *t = val_as_tensor(v[0]);
    if (!t)
        return rt_error(in, "bad operand type for abs(): '%s'", value_type_name(v[0]));
    Tensor *r = tensor_abs(&in->eng, t);
    if (!r)
        return rt_engine_error(in);
    *out = AS_TENSOR(v[0])->is_numpy ? val_numpy(in, r) : val_tensor(in, r);
    return true;
}

/* min() and max(): of an iterable, or of two or more arguments. */
static bool extreme(Interp *in, const CallArgs *a, bool want_max, Value *out)
{
    const char *name = want_max ? "max" : "min";
    for (int k = 0; k < a->n_kw; k++)
        if (strcmp(a->kw_names[k], "default") != 0)
            return rt_error(in, "%s() got an unexpected keyword argument '%s' (not part of nnl)", name,
                            a->kw_names[k]);
    if (a->n_pos == 0)
        return rt_error(in, "%s expected at least 1 argument, got 0", name);
    ObjList *items;
    if (a->n_pos == 1) {
        if (!collect(in, a->pos[0], &items))
            return false;
    } else {
        items = list_new(&in->heap, a->n_pos);
        for (int i = 0; i < a->n_pos; i++)
            list_append(items, value_retain(a->pos[i]));
    }
    if (items->count == 0) {
        value_release(val_obj(&items->h));
        if (a->n_kw) {
            *out = value_retain(a->kw_values[0]);
            return true;
        }
        return rt_error(in, "%s() arg is an empty sequence", name);
    }
    Value best = items->items[0];
    for (int64_t i = 1; i < items->count; i++) {
        Value r;
        if (!compare_op(in, want_max ? CMPOP_GT : CMPOP_LT, items->items[i], best, in->call_pos, &r)) {
            value_release(val_obj(&items->h));
            return false;
        }
        bool better;
        bool ok = value_truthy(in, r, &better);
        value_release(r);
        if (!ok) {
            value_release(val_obj(&items->h));
            return false;
        }
        if (better)
            best = items->items[i];
    }
    *out = value_retain(best);
    value_release(val_obj(&items->h));
    return true;
}

static bool bi_min(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return extreme(in, a, false, out);
}

static bool bi_max(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return extreme(in, a, true, out);
}

static bool bi_sum(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"iterable", "start", NULL};
    Value v[2];
    if (!args_parse(in, a, "sum", names, 1, v))
        return false;
    if (val_is(v[1], OBJ_STR))
        return rt_error(in, "sum() can't sum strings [use ''.join(seq) instead]");
    Value acc = arg_given(v[1]) ? value_retain(v[1]) : val_int(0);
    ObjIter *it;
    if (!value_iter(in, v[0], &it)) {
        value_release(acc);
        return false;
    }
    bool ok = true;
    for (;;) {
        Value x, r;
        IterStep st = iter_next(in, it, &x);
        if (st != ITER_VALUE) {
            ok = st == ITER_DONE;
            break;
        }
        ok = binary_op(in, BIN_ADD, acc, x, in->call_pos, &r);
        value_release(x);
        if (!ok)
            break;
        value_release(acc);
        acc = r;
    }
    value_release(val_obj(&it->h));
    if (!ok) {
        value_release(acc);
        return false;
    }
    *out = acc;
    return true;
}

static bool bi_round(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"number", "ndigits", NULL};
    Value v[2];
    if (!args_parse(in, a, "round", names, 1, v))
        return false;
    bool has_digits = arg_given(v[1]) && v[1].kind != VAL_NONE;
    int64_t nd = 0;
    if (has_digits && !int_argument(in, v[1], &nd))
        return false;
    Value x = v[0];
    if (x.kind == VAL_INT || x.kind == VAL_BOOL) {
        int64_t i = x.kind == VAL_INT ? x.as.i : x.as.b;
        if (has_digits && nd < 0) {
            double r = py_round((double)i, (int)(nd < -400 ? -400 : nd));
            *out = val_int((int64_t)r);
        } else {
            *out = val_int(i);
        }
        return true;
    }
    double d;
    Tensor *t = val_as_tensor(x);
    if (x.kind == VAL_FLOAT) {
        d = x.as.f;
    } else if (t && tensor_numel(t) == 1 && t->ndim == 0) {
        d = tensor_get_flat(t, 0);
        /* round(tensor) keeps a tensor in PyTorch */
        double r = has_digits ? py_round(d, (int)nd) : nearbyint(d);
        Tensor *rt = tensor_scalar(&in->eng, t->dtype, r);
        if (!rt)
            return rt_engine_error(in);
        *out = val_tensor(in, rt);
        return true;
    } else {
        return rt_error(in, "type %s doesn't define __round__ method", value_type_name(x));
    }
    if (!has_digits) {
        int64_t r;
        if (!py_round_to_int(d, &r))
            return rt_error(in, "%s", py_float_to_int_error(d));
        *out = val_int(r);
        return true;
    }
    double r = py_round(d, (int)(nd > 400 ? 400 : nd < -400 ? -400 : nd));
    if (isinf(r) && isfinite(d))
        return rt_error(in, PY_MSG_ROUND_OVERFLOW);
    *out = val_float(r);
    return true;
}

static bool parse_float_text(Interp *in, const char *s, double *out)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    const char *p = end;
    while (isspace((unsigned char)*p))
        p++;
    if (end == s || *p)
        return false;
    /* strtod accepts hex floats; Python's float() does not */
    if (strchr(s, 'x') || strchr(s, 'X'))
        return false;
    (void)in;
    *out = d;
    return true;
}

static bool bi_float(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"x", NULL};
    Value v[1];
    if (!args_parse(in, a, "float", names, 0, v))
        return false;
    if (!arg_given(v[0])) {
        *out = val_float(0.0);
        return true;
    }
    if (val_is(v[0], OBJ_STR)) {
        double d;
        if (!parse_float_text(in, AS_STR(v[0])->data, &d)) {
            StrBuf sb = STRBUF_INIT;
            value_repr(in, v[0], &sb);
            rt_error(in, "could not convert string to float: %s", sb_str(&sb));
            sb_free(&sb);
            return false;
        }
        *out = val_float(d);
        return true;
    }
    Tensor *t = val_as_tensor(v[0]);
    if (t && tensor_numel(t) != 1)
        return rt_error(in, "only one element tensors can be converted to Python scalars");
    double d;
    if (!val_is_number(v[0]) && !t)
        return rt_error(in, "float() argument must be a string or a real number, not '%s'",
                        value_type_name(v[0]));
    if (!arg_double(in, v[0], "float() argument", &d))
        return false;
    *out = val_float(d);
    return true;
}

static bool bi_int(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"x", NULL};
    Value v[1];
    if (!args_parse(in, a, "int", names, 0, v))
        return false;
    if (!arg_given(v[0])) {
        *out = val_int(0);
        return true;
    }
    Value x = v[0];
    if (x.kind == VAL_INT || x.kind == VAL_BOOL) {
        *out = val_int(x.kind == VAL_INT ? x.as.i : x.as.b);
        return true;
    }
    if (val_is(x, OBJ_STR)) {
        const char *s = AS_STR(x)->data;
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        while (isspace((unsigned char)*end))
            end++;
        if (end == s || *end || errno == ERANGE) {
            StrBuf sb = STRBUF_INIT;
            value_repr(in, x, &sb);
            rt_error(in, "invalid literal for int() with base 10: %s", sb_str(&sb));
            sb_free(&sb);
            return false;
        }
        *out = val_int(i);
        return true;
    }
    Tensor *t = val_as_tensor(x);
    if (t && tensor_numel(t) != 1)
        return rt_error(in, "only one element tensors can be converted to Python scalars");
    double d;
    if (x.kind != VAL_FLOAT && !t)
        return rt_error(in, "int() argument must be a string or a real number, not '%s'",
                        value_type_name(x));
    if (!arg_double(in, x, "int() argument", &d))
        return false;
    int64_t i;
    if (!py_float_to_int(d, &i))
        return rt_error(in, "%s", py_float_to_int_error(d));
    *out = val_int(i);
    return true;
}

static bool bi_str(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"object", NULL};
    Value v[1];
    if (!args_parse(in, a, "str", names, 0, v))
        return false;
    StrBuf sb = STRBUF_INIT;
    if (arg_given(v[0]) && !value_str(in, v[0], &sb)) {
        sb_free(&sb);
        return false;
    }
    *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
    sb_free(&sb);
    return true;
}

static bool bi_repr(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"object", NULL};
    Value v[1];
    if (!args_parse(in, a, "repr", names, 1, v))
        return false;
    StrBuf sb = STRBUF_INIT;
    bool ok = value_repr(in, v[0], &sb);
    if (ok)
        *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
    sb_free(&sb);
    return ok;
}

static bool bi_format(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"value", "format_spec", NULL};
    Value v[2];
    const char *spec = "";
    if (!args_parse(in, a, "format", names, 1, v))
        return false;
    if (arg_given(v[1]) && !arg_str(in, v[1], "format_spec", &spec))
        return false;
    StrBuf sb = STRBUF_INIT;
    bool ok = value_format(in, v[0], spec, &sb);
    if (ok)
        *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
    sb_free(&sb);
    return ok;
}

static bool bi_bool(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"x", NULL};
    Value v[1];
    bool b = false;
    if (!args_parse(in, a, "bool", names, 0, v))
        return false;
    if (arg_given(v[0]) && !value_truthy(in, v[0], &b))
        return false;
    *out = val_bool(b);
    return true;
}

/* isinstance(x, classinfo): classes of the program, nn.Module, Dataset,
 * torch.Tensor, and the built-in types int, float, str, bool, list, tuple. */
static bool instance_of(Interp *in, Value x, Value cls, bool *out);

static bool native_is(Value f, NativeFn fn)
{
    return val_is(f, OBJ_NATIVE) && ((ObjNative *)f.as.obj)->fn == fn;
}

static bool instance_of(Interp *in, Value x, Value cls, bool *out)
{
    if (val_is(cls, OBJ_TUPLE)) {
        for (int64_t i = 0; i < AS_TUPLE(cls)->count; i++) {
            if (!instance_of(in, x, AS_TUPLE(cls)->items[i], out))
                return false;
            if (*out)
                return true;
        }
        *out = false;
        return true;
    }
    if (val_is(cls, OBJ_CLASS)) {
        const ObjClass *target = AS_CLASS(cls);
        *out = false;
        if (val_is(x, OBJ_INSTANCE))
            for (const ObjClass *c = AS_INSTANCE(x)->cls; c && !*out; c = c->parent)
                *out = c == target;
        /* the built-in layers are nn.Modules too */
        if (val_is(x, OBJ_LAYER) && target->base == BASE_MODULE && !target->parent)
            *out = true;
        if (val_is(x, OBJ_DATASET) && target->base == BASE_DATASET && !target->parent)
            *out = true;
        if (strcmp(target->name->data, "object") == 0)
            *out = true;
        return true;
    }
    if (native_is(cls, bi_int))
        *out = x.kind == VAL_INT || x.kind == VAL_BOOL;
    else if (native_is(cls, bi_float))
        *out = x.kind == VAL_FLOAT;
    else if (native_is(cls, bi_bool))
        *out = x.kind == VAL_BOOL;
    else if (native_is(cls, bi_str))
        *out = val_is(x, OBJ_STR);
    else if (native_is(cls, bi_list))
        *out = val_is(x, OBJ_LIST);
    else if (native_is(cls, bi_tuple))
        *out = val_is(x, OBJ_TUPLE);
    else if (val_is(cls, OBJ_NATIVE) && strcmp(((ObjNative *)cls.as.obj)->name, "Tensor") == 0)
        *out = val_is(x, OBJ_TENSOR) && !AS_TENSOR(x)->is_numpy;
    else if (val_is(cls, OBJ_NATIVE) && x.kind == VAL_OBJ &&
             (x.as.obj->kind == OBJ_LAYER || x.as.obj->kind == OBJ_OPTIMIZER ||
              x.as.obj->kind == OBJ_DATASET || x.as.obj->kind == OBJ_LOADER))
        /* nn.Linear, optim.SGD, DataLoader ...: constructors named after the type */
        *out = strcmp(((ObjNative *)cls.as.obj)->name, value_type_name(x)) == 0;
    else
        return rt_error(in, "isinstance() arg 2 must be a type or tuple of types");
    return true;
}

static bool bi_isinstance(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"obj", "class_or_tuple", NULL};
    Value v[2];
    bool r;
    if (!args_parse(in, a, "isinstance", names, 2, v) || !instance_of(in, v[0], v[1], &r))
        return false;
    *out = val_bool(r);
    return true;
}

/* super(Class, self) or super() inside a method. */
static bool bi_super(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    const ObjClass *cls;
    Value obj;
    if (a->n_pos == 2) {
        if (!val_is(a->pos[0], OBJ_CLASS))
            return rt_error(in, "super() argument 1 must be a type, not %s", value_type_name(a->pos[0]));
        cls = AS_CLASS(a->pos[0]);
        obj = a->pos[1];
    } else if (a->n_pos == 0) {
        Frame *f = current_frame(in);
        if (!f->function || !f->function->owner || f->function->def->u.def.n_params == 0)
            return rt_error(in, "super(): no arguments (use it inside a method)");
        cls = f->function->owner;
        Value *first = table_get(&f->scope->vars, intern(in, f->function->def->u.def.params[0].name));
        if (!first)
            return rt_error(in, "super(): self is not set");
        obj = *first;
    } else {
        return rt_error(in, "super() takes zero or two arguments in nnl");
    }
    ObjSuper *sp = (ObjSuper *)obj_alloc(&in->heap, OBJ_SUPER, sizeof(ObjSuper));
    sp->start = cls->parent;
    sp->self = value_retain(obj);
    *out = val_obj(&sp->h);
    return true;
}

/* sorted(iterable, reverse=False): a stable merge sort with Python's order. */
static bool merge_sort(Interp *in, Value *items, Value *tmp, int64_t n, bool reverse)
{
    if (n < 2)
        return true;
    int64_t h = n / 2;
    if (!merge_sort(in, items, tmp, h, reverse) || !merge_sort(in, items + h, tmp, n - h, reverse))
        return false;
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        Value r;
        bool take_right;
        if (!compare_op(in, CMPOP_LT, reverse ? items[i] : items[j], reverse ? items[j] : items[i],
                        in->call_pos, &r))
            return false;
        take_right = r.kind == VAL_BOOL && r.as.b;
        value_release(r);
        tmp[k++] = take_right ? items[j++] : items[i++];
    }
    while (i < h)
        tmp[k++] = items[i++];
    while (j < n)
        tmp[k++] = items[j++];
    memcpy(items, tmp, (size_t)n * sizeof(Value));
    return true;
}

static bool bi_sorted(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"iterable", "reverse", NULL};
    Value v[2];
    bool reverse = false;
    ObjList *l;
    if (!args_parse(in, a, "sorted", names, 1, v))
        return false;
    if (arg_given(v[1]) && !arg_bool(in, v[1], "reverse", &reverse))
        return false;
    if (!collect(in, v[0], &l))
        return false;
    Value *tmp = malloc((size_t)(l->count ? l->count : 1) * sizeof(Value));
    if (!tmp)
        abort();
    bool ok = merge_sort(in, l->items, tmp, l->count, reverse);
    free(tmp);
    if (!ok) {
        value_release(val_obj(&l->h));
        return false;
    }
    *out = val_obj(&l->h);
    return true;
}

/* ---- what nnl leaves out on purpose ---- */

static bool bi_forbidden(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    (void)a;
    (void)out;
    return rt_error(in, "%s", "this built-in is not part of nnl");
}

#define FORBIDDEN(fname, message)                                                          \
    static bool bi_no_##fname(Interp *in, Value self, const CallArgs *a, Value *out)       \
    {                                                                                      \
        (void)self;                                                                        \
        (void)a;                                                                           \
        (void)out;                                                                         \
        return rt_error(in, "%s", message);                                                \
    }

FORBIDDEN(open, "open() is not part of nnl: programs cannot read or write files "
                "(read data with np.loadtxt(...) or load_dataset(...))")
FORBIDDEN(import, "__import__() is not part of nnl: use an import statement "
                  "(torch, numpy, matplotlib.pyplot, seaborn and time can be imported)")
FORBIDDEN(exec, "exec() and eval() are not part of nnl")
FORBIDDEN(input, "input() is not part of nnl: use ask(prompt) to read a student's answer")
FORBIDDEN(scope, "globals(), locals() and vars() are not part of nnl")
FORBIDDEN(dict, "dict() is not part of nnl: use a list, or a list of (key, value) tuples")
FORBIDDEN(set, "set() is not part of nnl: use a list")
FORBIDDEN(type, "type() is not part of nnl: use isinstance(x, torch.Tensor), or print(x) to see what x is")

/* ---- str methods ---- */

static const ObjStr *self_str(Value self)
{
    return AS_STR(self);
}

/* One replacement field of str.format: {name!conv:spec}. */
static bool format_field(Interp *in, const char *field, size_t len, const CallArgs *a, int *auto_index,
                         StrBuf *out)
{
    char name[128] = "", spec[128] = "";
    char conv = 0;
    size_t i = 0, k = 0;
    while (i < len && field[i] != '!' && field[i] != ':' && k + 1 < sizeof name)
        name[k++] = field[i++];
    name[k] = '\0';
    if (i < len && field[i] == '!') {
        conv = i + 1 < len ? field[i + 1] : 0;
        i += 2;
        if (conv != 'r' && conv != 's')
            return rt_error(in, "Unknown conversion specifier %c", conv ? conv : '?');
    }
    if (i < len && field[i] == ':') {
        i++;
        size_t n = len - i < sizeof spec - 1 ? len - i : sizeof spec - 1;
        memcpy(spec, field + i, n);
        spec[n] = '\0';
        if (strchr(spec, '{'))
            return rt_error(in, "nested format fields are not part of nnl");
    }
    Value v;
    if (name[0] == '\0') {
        if (*auto_index < 0)
            return rt_error(in, "cannot switch from manual field specification to automatic field numbering");
        if (*auto_index >= a->n_pos)
            return rt_error(in, "Replacement index %d out of range for positional args tuple", *auto_index);
        v = a->pos[(*auto_index)++];
    } else if (isdigit((unsigned char)name[0])) {
        if (*auto_index > 0)
            return rt_error(in, "cannot switch from automatic field numbering to manual field specification");
        *auto_index = -1;
        int idx = atoi(name);
        if (idx >= a->n_pos)
            return rt_error(in, "Replacement index %d out of range for positional args tuple", idx);
        v = a->pos[idx];
    } else {
        int found = -1;
        for (int kx = 0; kx < a->n_kw; kx++)
            if (strcmp(a->kw_names[kx], name) == 0)
                found = kx;
        if (found < 0)
            return rt_error(in, "KeyError: '%s' (str.format)", name);
        v = a->kw_values[found];
    }
    if (conv) {
        StrBuf tmp = STRBUF_INIT;
        bool ok = conv == 'r' ? value_repr(in, v, &tmp) : value_str(in, v, &tmp);
        if (ok) {
            Value s = val_str_n(&in->heap, sb_str(&tmp), tmp.len);
            ok = value_format(in, s, spec, out);
            value_release(s);
        }
        sb_free(&tmp);
        return ok;
    }
    return value_format(in, v, spec, out);
}

static bool str_format(Interp *in, Value self, const CallArgs *a, Value *out)
{
    const ObjStr *s = self_str(self);
    StrBuf sb = STRBUF_INIT;
    int auto_index = 0;
    for (size_t i = 0; i < s->len; i++) {
        char c = s->data[i];
        if (c == '{' && i + 1 < s->len && s->data[i + 1] == '{') {
            sb_append_char(&sb, '{');
            i++;
        } else if (c == '}' && i + 1 < s->len && s->data[i + 1] == '}') {
            sb_append_char(&sb, '}');
            i++;
        } else if (c == '{') {
            const char *close = memchr(s->data + i, '}', s->len - i);
            if (!close) {
                sb_free(&sb);
                return rt_error(in, "Single '{' encountered in format string");
            }
            if (!format_field(in, s->data + i + 1, (size_t)(close - s->data - i - 1), a, &auto_index, &sb)) {
                sb_free(&sb);
                return false;
            }
            i = (size_t)(close - s->data);
        } else if (c == '}') {
            sb_free(&sb);
            return rt_error(in, "Single '}' encountered in format string");
        } else {
            sb_append_char(&sb, c);
        }
    }
    *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
    sb_free(&sb);
    return true;
}

static bool str_join(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"iterable", NULL};
    Value v[1];
    ObjList *l;
    if (!args_parse(in, a, "join", names, 1, v) || !collect(in, v[0], &l))
        return false;
    StrBuf sb = STRBUF_INIT;
    for (int64_t i = 0; i < l->count; i++) {
        if (!val_is(l->items[i], OBJ_STR)) {
            rt_error(in, "sequence item %lld: expected str instance, %s found", (long long)i,
                     value_type_name(l->items[i]));
            sb_free(&sb);
            value_release(val_obj(&l->h));
            return false;
        }
        if (i)
            sb_append_n(&sb, self_str(self)->data, self_str(self)->len);
        sb_append_n(&sb, AS_STR(l->items[i])->data, AS_STR(l->items[i])->len);
    }
    value_release(val_obj(&l->h));
    *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
    sb_free(&sb);
    return true;
}

static bool str_case(Interp *in, Value self, const CallArgs *a, Value *out, bool upper)
{
    if (a->n_pos || a->n_kw)
        return rt_error(in, "%s() takes no arguments", upper ? "upper" : "lower");
    const ObjStr *s = self_str(self);
    ObjStr *r = str_new(&in->heap, s->data, s->len);
    for (size_t i = 0; i < r->len; i++)
        r->data[i] = (char)(upper ? toupper((unsigned char)r->data[i]) : tolower((unsigned char)r->data[i]));
    r->hash = str_hash(r->data, r->len);
    *out = val_obj(&r->h);
    return true;
}

static bool str_upper(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return str_case(in, self, a, out, true);
}

static bool str_lower(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return str_case(in, self, a, out, false);
}

static bool str_strip(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (a->n_pos || a->n_kw)
        return rt_error(in, "strip() takes no arguments in nnl");
    const ObjStr *s = self_str(self);
    size_t b = 0, e = s->len;
    while (b < e && isspace((unsigned char)s->data[b]))
        b++;
    while (e > b && isspace((unsigned char)s->data[e - 1]))
        e--;
    *out = val_str_n(&in->heap, s->data + b, e - b);
    return true;
}

static bool str_split(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"sep", NULL};
    Value v[1];
    if (!args_parse(in, a, "split", names, 0, v))
        return false;
    const char *sep = NULL;
    if (arg_given(v[0]) && v[0].kind != VAL_NONE && !arg_str(in, v[0], "sep", &sep))
        return false;
    if (sep && !*sep)
        return rt_error(in, "empty separator");
    const ObjStr *s = self_str(self);
    ObjList *l = list_new(&in->heap, 0);
    if (!sep) {
        size_t i = 0;
        while (i < s->len) {
            while (i < s->len && isspace((unsigned char)s->data[i]))
                i++;
            size_t start = i;
            while (i < s->len && !isspace((unsigned char)s->data[i]))
                i++;
            if (i > start)
                list_append(l, val_str_n(&in->heap, s->data + start, i - start));
        }
    } else {
        size_t n = strlen(sep), start = 0;
        for (;;) {
            const char *hit = strstr(s->data + start, sep);
            size_t end = hit ? (size_t)(hit - s->data) : s->len;
            list_append(l, val_str_n(&in->heap, s->data + start, end - start));
            if (!hit)
                break;
            start = end + n;
        }
    }
    *out = val_obj(&l->h);
    return true;
}

static bool str_replace(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"old", "new", NULL};
    Value v[2];
    const char *old, *new_text;
    if (!args_parse(in, a, "replace", names, 2, v) || !arg_str(in, v[0], "old", &old) ||
        !arg_str(in, v[1], "new", &new_text))
        return false;
    const ObjStr *s = self_str(self);
    size_t n = strlen(old);
    StrBuf sb = STRBUF_INIT;
    for (size_t i = 0; i < s->len;) {
        if (n && strncmp(s->data + i, old, n) == 0) {
            sb_append(&sb, new_text);
            i += n;
        } else {
            sb_append_char(&sb, s->data[i++]);
        }
    }
    *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
    sb_free(&sb);
    return true;
}

static bool str_affix(Interp *in, Value self, const CallArgs *a, Value *out, bool prefix)
{
    static const char *const names[] = {"affix", NULL};
    Value v[1];
    const char *x;
    if (!args_parse(in, a, prefix ? "startswith" : "endswith", names, 1, v) || !arg_str(in, v[0], "affix", &x))
        return false;
    const ObjStr *s = self_str(self);
    size_t n = strlen(x);
    bool r = n <= s->len && memcmp(prefix ? s->data : s->data + s->len - n, x, n) == 0;
    *out = val_bool(r);
    return true;
}

static bool str_startswith(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return str_affix(in, self, a, out, true);
}

static bool str_endswith(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return str_affix(in, self, a, out, false);
}

/* ---- list methods ---- */

static bool list_append_m(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (a->n_pos != 1 || a->n_kw)
        return rt_error(in, "list.append() takes exactly one argument (%d given)", a->n_pos + a->n_kw);
    list_append(AS_LIST(self), value_retain(a->pos[0]));
    *out = val_none();
    return true;
}

static bool list_extend_m(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (a->n_pos != 1 || a->n_kw)
        return rt_error(in, "list.extend() takes exactly one argument (%d given)", a->n_pos + a->n_kw);
    ObjList *l;
    if (!collect(in, a->pos[0], &l))
        return false;
    for (int64_t i = 0; i < l->count; i++)
        list_append(AS_LIST(self), value_retain(l->items[i]));
    value_release(val_obj(&l->h));
    *out = val_none();
    return true;
}

static bool list_pop_m(Interp *in, Value self, const CallArgs *a, Value *out)
{
    ObjList *l = AS_LIST(self);
    int64_t i = l->count - 1;
    if (a->n_pos > 1 || a->n_kw)
        return rt_error(in, "pop expected at most 1 argument, got %d", a->n_pos + a->n_kw);
    if (l->count == 0)
        return rt_error(in, "pop from empty list");
    if (a->n_pos == 1) {
        if (!arg_int(in, a->pos[0], "index", &i))
            return false;
        if (i < 0)
            i += l->count;
        if (i < 0 || i >= l->count)
            return rt_error(in, "pop index out of range");
    }
    *out = l->items[i];
    memmove(l->items + i, l->items + i + 1, (size_t)(l->count - i - 1) * sizeof(Value));
    l->count--;
    return true;
}

static bool list_insert_m(Interp *in, Value self, const CallArgs *a, Value *out)
{
    ObjList *l = AS_LIST(self);
    int64_t i;
    if (a->n_pos != 2 || a->n_kw)
        return rt_error(in, "insert expected 2 arguments, got %d", a->n_pos + a->n_kw);
    if (!arg_int(in, a->pos[0], "index", &i))
        return false;
    if (i < 0)
        i = i + l->count < 0 ? 0 : i + l->count;
    if (i > l->count)
        i = l->count;
    list_append(l, val_none());
    memmove(l->items + i + 1, l->items + i, (size_t)(l->count - 1 - i) * sizeof(Value));
    l->items[i] = value_retain(a->pos[1]);
    *out = val_none();
    return true;
}

static bool list_find(Interp *in, Value self, const CallArgs *a, Value *out, bool count)
{
    if (a->n_pos != 1 || a->n_kw)
        return rt_error(in, "%s() takes exactly one argument", count ? "count" : "index");
    ObjList *l = AS_LIST(self);
    int64_t n = 0;
    for (int64_t i = 0; i < l->count; i++) {
        bool eq;
        if (!value_equal(in, l->items[i], a->pos[0], &eq))
            return false;
        if (eq && !count) {
            *out = val_int(i);
            return true;
        }
        n += eq;
    }
    if (!count) {
        StrBuf sb = STRBUF_INIT;
        value_repr(in, a->pos[0], &sb);
        rt_error(in, "%s is not in list", sb_str(&sb));
        sb_free(&sb);
        return false;
    }
    *out = val_int(n);
    return true;
}

static bool list_index_m(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return list_find(in, self, a, out, false);
}

static bool list_count_m(Interp *in, Value self, const CallArgs *a, Value *out)
{
    return list_find(in, self, a, out, true);
}

static bool list_reverse_m(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (a->n_pos || a->n_kw)
        return rt_error(in, "reverse() takes no arguments");
    ObjList *l = AS_LIST(self);
    for (int64_t i = 0, j = l->count - 1; i < j; i++, j--) {
        Value t = l->items[i];
        l->items[i] = l->items[j];
        l->items[j] = t;
    }
    *out = val_none();
    return true;
}

static bool list_copy_m(Interp *in, Value self, const CallArgs *a, Value *out)
{
    if (a->n_pos || a->n_kw)
        return rt_error(in, "copy() takes no arguments");
    ObjList *src = AS_LIST(self), *l = list_new(&in->heap, src->count);
    for (int64_t i = 0; i < src->count; i++)
        list_append(l, value_retain(src->items[i]));
    *out = val_obj(&l->h);
    return true;
}

/* ---- registration ---- */

static void add_object_class(Interp *in)
{
    ObjClass *obj = (ObjClass *)obj_alloc(&in->heap, OBJ_CLASS, sizeof(ObjClass));
    obj->name = str_new(&in->heap, "object", 6);
    obj->base = BASE_OBJECT;
    table_init(&obj->attrs);
    table_set(&in->builtins, intern(in, "object"), val_obj(&obj->h));
    value_release(val_obj(&obj->h));
}

void lib_builtins_init(Interp *in)
{
    static const struct {
        const char *name;
        NativeFn fn;
    } functions[] = {
        {"print", bi_print},     {"range", bi_range},         {"len", bi_len},
        {"enumerate", bi_enumerate}, {"zip", bi_zip},         {"list", bi_list},
        {"tuple", bi_tuple},     {"abs", bi_abs},             {"min", bi_min},
        {"max", bi_max},         {"sum", bi_sum},             {"round", bi_round},
        {"float", bi_float},     {"int", bi_int},             {"str", bi_str},
        {"repr", bi_repr},       {"format", bi_format},       {"bool", bi_bool},
        {"isinstance", bi_isinstance}, {"super", bi_super},   {"sorted", bi_sorted},
        {"open", bi_no_open},    {"__import__", bi_no_import}, {"exec", bi_no_exec},
        {"eval", bi_no_exec},    {"compile", bi_no_exec},     {"input", bi_no_input},
        {"globals", bi_no_scope}, {"locals", bi_no_scope},    {"vars", bi_no_scope},
        {"breakpoint", bi_forbidden}, {"help", bi_forbidden}, {"dict", bi_no_dict},
        {"set", bi_no_set},      {"type", bi_no_type},
    };
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
        builtins_add_native(in, functions[i].name, functions[i].fn);
    add_object_class(in);

    type_add_method(in, OBJ_STR, "format", str_format);
    type_add_method(in, OBJ_STR, "join", str_join);
    type_add_method(in, OBJ_STR, "upper", str_upper);
    type_add_method(in, OBJ_STR, "lower", str_lower);
    type_add_method(in, OBJ_STR, "strip", str_strip);
    type_add_method(in, OBJ_STR, "split", str_split);
    type_add_method(in, OBJ_STR, "replace", str_replace);
    type_add_method(in, OBJ_STR, "startswith", str_startswith);
    type_add_method(in, OBJ_STR, "endswith", str_endswith);

    type_add_method(in, OBJ_LIST, "append", list_append_m);
    type_add_method(in, OBJ_LIST, "extend", list_extend_m);
    type_add_method(in, OBJ_LIST, "pop", list_pop_m);
    type_add_method(in, OBJ_LIST, "insert", list_insert_m);
    type_add_method(in, OBJ_LIST, "index", list_index_m);
    type_add_method(in, OBJ_LIST, "count", list_count_m);
    type_add_method(in, OBJ_LIST, "reverse", list_reverse_m);
    type_add_method(in, OBJ_LIST, "copy", list_copy_m);
}
