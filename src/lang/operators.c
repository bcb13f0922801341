/*
 * operators.c - what + - * / // % ** @, comparisons, `in`, truth, len and
 * indexing mean for each kind of value: Python's rules for numbers, strings
 * and lists, PyTorch's for tensors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "pyformat.h"

static const char *op_text(BinOp op)
{
    return binop_symbol(op);
}

static bool unsupported(Interp *in, SrcPos pos, const char *op, Value a, Value b)
{
    return rt_error_at(in, pos, "unsupported operand type(s) for %s: '%s' and '%s'", op,
                       value_type_name(a), value_type_name(b));
}

static bool is_int_like(Value v)
{
    return v.kind == VAL_INT || v.kind == VAL_BOOL;
}

static int64_t int_of(Value v)
{
    return v.kind == VAL_BOOL ? (int64_t)v.as.b : v.as.i;
}

bool value_to_double(Interp *in, Value v, double *out)
{
    return arg_double(in, v, "value", out);
}

static Value number_double(Value v)
{
    return val_float(v.kind == VAL_FLOAT ? v.as.f : (double)int_of(v));
}

/* ---- integers (64-bit; overflow is an error, not a silent wrap) ---- */

static bool int_overflow(Interp *in, SrcPos pos)
{
    return rt_error_at(in, pos, "integer overflow: nnl ints are 64-bit");
}

static bool int_pow(Interp *in, int64_t base, int64_t exp, SrcPos pos, Value *out)
{
    if (exp < 0) {
        if (base == 0)
            return rt_error_at(in, pos, "0.0 cannot be raised to a negative power");
        *out = val_float(pow((double)base, (double)exp));
        return true;
    }
    int64_t result = 1;
    while (exp > 0) {
        if ((exp & 1) && __builtin_mul_overflow(result, base, &result))
            return int_overflow(in, pos);
        exp >>= 1;
        if (exp > 0 && __builtin_mul_overflow(base, base, &base))
            return int_overflow(in, pos);
    }
    *out = val_int(result);
    return true;
}

static int64_t floor_div_int(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int64_t floor_mod_int(int64_t a, int64_t b)
{
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0)))
        r += b;
    return r;
}

static bool int_arith(Interp *in, BinOp op, int64_t a, int64_t b, SrcPos pos, Value *out)
{
    int64_t r;
    switch (op) {
    case BIN_ADD:
        if (__builtin_add_overflow(a, b, &r))
            return int_overflow(in, pos);
        break;
    case BIN_SUB:
        if (__builtin_sub_overflow(a, b, &r))
            return int_overflow(in, pos);
        break;
    case BIN_MUL:
        if (__builtin_mul_overflow(a, b, &r))
            return int_overflow(in, pos);
        break;
    case BIN_DIV:
        if (b == 0)
            return rt_error_at(in, pos, "division by zero");
        *out = val_float((double)a / (double)b);
        return true;
    case BIN_FLOORDIV:
    case BIN_MOD:
        if (b == 0)
            return rt_error_at(in, pos, "integer division or modulo by zero");
        if (a == INT64_MIN && b == -1)
            return op == BIN_MOD ? (*out = val_int(0), true) : int_overflow(in, pos);
        r = op == BIN_FLOORDIV ? floor_div_int(a, b) : floor_mod_int(a, b);
        break;
    case BIN_POW:
        return int_pow(in, a, b, pos, out);
    default:
        return rt_error_at(in, pos, "unsupported operand type(s) for %s: 'int' and 'int'", op_text(op));
    }
    *out = val_int(r);
    return true;
}

static bool float_arith(Interp *in, BinOp op, double a, double b, SrcPos pos, Value *out)
{
    double r;
    switch (op) {
    case BIN_ADD: r = a + b; break;
    case BIN_SUB: r = a - b; break;
    case BIN_MUL: r = a * b; break;
    case BIN_DIV:
        if (b == 0.0)
            return rt_error_at(in, pos, "float division by zero");
        r = a / b;
        break;
    case BIN_FLOORDIV:
        if (b == 0.0)
            return rt_error_at(in, pos, PY_MSG_FLOAT_FLOORDIV_ZERO);
        r = py_float_floordiv(a, b);
        break;
    case BIN_MOD:
        if (b == 0.0)
            return rt_error_at(in, pos, PY_MSG_FLOAT_MOD_ZERO);
        r = py_float_mod(a, b);
        break;
    case BIN_POW:
        if (a == 0.0 && b < 0.0)
            return rt_error_at(in, pos, "0.0 cannot be raised to a negative power");
        if (a < 0.0 && b != floor(b) && isfinite(b))
            return rt_error_at(in, pos, "a negative number raised to a fractional power is a "
                                        "complex number (complex numbers are not part of nnl)");
        r = pow(a, b);
        if (isinf(r) && isfinite(a) && isfinite(b))
            return rt_error_at(in, pos, "(34, 'Numerical result out of range')");
        break;
    default:
        return rt_error_at(in, pos, "unsupported operand type(s) for %s: 'float' and 'float'", op_text(op));
    }
    *out = val_float(r);
    return true;
}

/* ---- sequences ---- */

static bool repeat_count(Interp *in, Value n, SrcPos pos, int64_t *count)
{
    *count = int_of(n) < 0 ? 0 : int_of(n);
    if (*count > 100000000)
        return rt_error_at(in, pos, "repetition too large: %lld", (long long)*count);
    return true;
}

static bool str_concat_repeat(Interp *in, BinOp op, Value a, Value b, SrcPos pos, Value *out)
{
    if (op == BIN_ADD && val_is(b, OBJ_STR)) {
        if (AS_STR(a)->len + AS_STR(b)->len > in->eng.max_bytes)
            return rt_error_at(in, pos, "string too large: it would exceed the memory limit (--max-mem)");
        StrBuf sb = STRBUF_INIT;
        sb_append_n(&sb, AS_STR(a)->data, AS_STR(a)->len);
        sb_append_n(&sb, AS_STR(b)->data, AS_STR(b)->len);
        *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
        sb_free(&sb);
        return true;
    }
    if (op == BIN_MUL && is_int_like(b)) {
        int64_t n;
        if (!repeat_count(in, b, pos, &n))
            return false;
        if ((int64_t)AS_STR(a)->len * n > 100000000 ||
            (uint64_t)AS_STR(a)->len * (uint64_t)n > in->eng.max_bytes)
            return rt_error_at(in, pos, "string too large: it would exceed the memory limit (--max-mem)");
        StrBuf sb = STRBUF_INIT;
        for (int64_t i = 0; i < n; i++)
            sb_append_n(&sb, AS_STR(a)->data, AS_STR(a)->len);
        *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
        sb_free(&sb);
        return true;
    }
    if (op == BIN_MOD)
        return rt_error_at(in, pos, "printf-style %% formatting is not part of nnl; use an f-string "
                                    "or str.format");
    if (op == BIN_ADD)
        return rt_error_at(in, pos, "can only concatenate str (not \"%s\") to str", value_type_name(b));
    return unsupported(in, pos, op_text(op), a, b);
}

static void seq_view(Value v, const Value **items, int64_t *n)
{
    if (val_is(v, OBJ_LIST)) {
        *items = AS_LIST(v)->items;
        *n = AS_LIST(v)->count;
    } else {
        *items = AS_TUPLE(v)->items;
        *n = AS_TUPLE(v)->count;
    }
}

static Value seq_new(Interp *in, bool is_list, int64_t n, Value **items)
{
    if (is_list) {
        ObjList *l = list_new(&in->heap, n);
        l->count = n;
        for (int64_t i = 0; i < n; i++)
            l->items[i] = val_none();
        *items = l->items;
        return val_obj(&l->h);
    }
    ObjTuple *t = tuple_new(&in->heap, n);
    *items = t->items;
    return val_obj(&t->h);
}

static bool seq_concat_repeat(Interp *in, BinOp op, Value a, Value b, SrcPos pos, Value *out)
{
    bool is_list = val_is(a, OBJ_LIST);
    const Value *ia, *ib;
    int64_t na, nb;
    seq_view(a, &ia, &na);
    Value *dst;
    if (op == BIN_ADD && a.as.obj->kind == (b.kind == VAL_OBJ ? b.as.obj->kind : OBJ_KIND_COUNT)) {
        seq_view(b, &ib, &nb);
        if ((uint64_t)(na + nb) * sizeof(Value) > in->eng.max_bytes)
            return rt_error_at(in, pos, "%s too large: it would exceed the memory limit (--max-mem)",
                               is_list ? "list" : "tuple");
        *out = seq_new(in, is_list, na + nb, &dst);
        for (int64_t i = 0; i < na; i++)
            dst[i] = value_retain(ia[i]);
        for (int64_t i = 0; i < nb; i++)
            dst[na + i] = value_retain(ib[i]);
        return true;
    }
    if (op == BIN_MUL && is_int_like(b)) {
        int64_t n;
        if (!repeat_count(in, b, pos, &n))
            return false;
        if (na * n > 100000000)
            return rt_error_at(in, pos, "%s too large", is_list ? "list" : "tuple");
        *out = seq_new(in, is_list, na * n, &dst);
        for (int64_t r = 0; r < n; r++)
            for (int64_t i = 0; i < na; i++)
                dst[r * na + i] = value_retain(ia[i]);
        return true;
    }
    if (op == BIN_ADD)
        return rt_error_at(in, pos, "can only concatenate %s (not \"%s\") to %s",
                           value_type_name(a), value_type_name(b), value_type_name(a));
    return unsupported(in, pos, op_text(op), a, b);
}

/* ---- tensors ---- */

static bool is_numpy_value(Value v)
{
    return val_is(v, OBJ_TENSOR) && AS_TENSOR(v)->is_numpy;
}

/* NumPy semantics are kept only when no torch tensor takes part. */
static bool result_is_numpy(Value a, Value b)
{
    bool ta = val_is(a, OBJ_TENSOR), tb = val_is(b, OBJ_TENSOR);
    return (!ta || is_numpy_value(a)) && (!tb || is_numpy_value(b));
}

static bool tensor_binary(Interp *in, BinOp op, Value a, Value b, SrcPos pos, Value *out)
{
    Engine *eng = &in->eng;
    Tensor *r = NULL;
    if (op == BIN_POW && val_is_number(b) && val_is(a, OBJ_TENSOR)) {
        double e;
        value_to_double(in, b, &e);
        r = tensor_pow_scalar(eng, val_as_tensor(a), e);
    } else if (op == BIN_POW && val_is_number(a)) {
        double base;
        value_to_double(in, a, &base);
        r = tensor_rpow_scalar(eng, base, val_as_tensor(b));
    } else {
        Tensor *ta, *tb;
        if (!arg_tensor(in, a, "operand", &ta))
            return false;
        if (!arg_tensor(in, b, "operand", &tb)) {
            tensor_release(ta);
            return false;
        }
        switch (op) {
        case BIN_ADD: r = tensor_add(eng, ta, tb); break;
        case BIN_SUB: r = tensor_sub(eng, ta, tb); break;
        case BIN_MUL: r = tensor_mul(eng, ta, tb); break;
        case BIN_DIV: r = tensor_div(eng, ta, tb); break;
        case BIN_FLOORDIV: r = tensor_floor_div(eng, ta, tb); break;
        case BIN_MOD: r = tensor_remainder(eng, ta, tb); break;
        case BIN_POW: r = tensor_pow(eng, ta, tb); break;
        case BIN_MATMUL: r = tensor_matmul(eng, ta, tb); break;
        }
        tensor_release(ta);
        tensor_release(tb);
    }
    if (!r)
        return rt_engine_error_at(in, pos);
    *out = result_is_numpy(a, b) ? val_numpy(in, r) : val_tensor(in, r);
    return true;
}

static bool tensor_operand(Value v)
{
    return val_is(v, OBJ_TENSOR);
}

static bool list_of_numbers_with_tensor(Value a, Value b)
{
    return (tensor_operand(a) && (val_is(b, OBJ_LIST) || val_is(b, OBJ_TUPLE))) ||
           (tensor_operand(b) && (val_is(a, OBJ_LIST) || val_is(a, OBJ_TUPLE)));
}

bool binary_op(Interp *in, BinOp op, Value a, Value b, SrcPos pos, Value *out)
{
    if (tensor_operand(a) || tensor_operand(b)) {
        if ((val_is_number(a) || tensor_operand(a) || list_of_numbers_with_tensor(a, b)) &&
            (val_is_number(b) || tensor_operand(b) || list_of_numbers_with_tensor(a, b)))
            return tensor_binary(in, op, a, b, pos, out);
        return unsupported(in, pos, op_text(op), a, b);
    }
    if (val_is_number(a) && val_is_number(b)) {
        if (is_int_like(a) && is_int_like(b))
            return int_arith(in, op, int_of(a), int_of(b), pos, out);
        return float_arith(in, op, number_double(a).as.f, number_double(b).as.f, pos, out);
    }
    if (val_is(a, OBJ_STR))
        return str_concat_repeat(in, op, a, b, pos, out);
    if (val_is(b, OBJ_STR) && op == BIN_MUL && is_int_like(a))
        return str_concat_repeat(in, op, b, a, pos, out);
    if ((val_is(a, OBJ_LIST) || val_is(a, OBJ_TUPLE)))
        return seq_concat_repeat(in, op, a, b, pos, out);
    if ((val_is(b, OBJ_LIST) || val_is(b, OBJ_TUPLE)) && op == BIN_MUL && is_int_like(a))
        return seq_concat_repeat(in, op, b, a, pos, out);
    return unsupported(in, pos, op_text(op), a, b);
}

bool unary_op(Interp *in, UnaryOp op, Value a, SrcPos pos, Value *out)
{
    if (op == UNARY_NOT) {
        bool t;
        if (!value_truthy(in, a, &t))
            return false;
        *out = val_bool(!t);
        return true;
    }
    if (is_int_like(a)) {
        int64_t v = int_of(a);
        if (op == UNARY_NEG && v == INT64_MIN)
            return int_overflow(in, pos);
        *out = val_int(op == UNARY_NEG ? -v : v);
        return true;
    }
    if (a.kind == VAL_FLOAT) {
        *out = val_float(op == UNARY_NEG ? -a.as.f : a.as.f);
        return true;
    }
    Tensor *t = val_as_tensor(a);
    if (t) {
        if (op == UNARY_POS) {
            *out = value_retain(a);
            return true;
        }
        Tensor *r = tensor_neg(&in->eng, t);
        if (!r)
            return rt_engine_error_at(in, pos);
        *out = is_numpy_value(a) ? val_numpy(in, r) : val_tensor(in, r);
        return true;
    }
    return rt_error_at(in, pos, "bad operand type for unary %s: '%s'", op == UNARY_NEG ? "-" : "+",
                       value_type_name(a));
}

/* ---- truth, equality, ordering ---- */

bool value_truthy(Interp *in, Value v, bool *out)
{
    switch (v.kind) {
    case VAL_NONE:
    case VAL_UNSET:
        *out = false;
        return true;
    case VAL_BOOL:
        *out = v.as.b;
        return true;
    case VAL_INT:
        *out = v.as.i != 0;
        return true;
    case VAL_FLOAT:
        *out = v.as.f != 0.0;
        return true;
    case VAL_OBJ:
        break;
    }
    switch (v.as.obj->kind) {
    case OBJ_STR:
        *out = AS_STR(v)->len > 0;
        return true;
    case OBJ_LIST:
        *out = AS_LIST(v)->count > 0;
        return true;
    case OBJ_TUPLE:
        *out = AS_TUPLE(v)->count > 0;
        return true;
    case OBJ_TENSOR: {
        Tensor *t = val_as_tensor(v);
        int64_t n = tensor_numel(t);
        if (n != 1) {
            if (AS_TENSOR(v)->is_numpy)
                return rt_error(in, "The truth value of an array with more than one element is "
                                    "ambiguous. Use a.any() or a.all()");
            return rt_error(in, "Boolean value of Tensor with %s is ambiguous",
                            n == 0 ? "no values" : "more than one value");
        }
        *out = tensor_get_flat(t, 0) != 0.0f;
        return true;
    }
    default:
        break;
    }
    int64_t len;
    if (val_is(v, OBJ_RANGE)) {
        if (!value_length(in, v, &len))
            return false;
        *out = len > 0;
        return true;
    }
    /* objects with a length (a Sequential, a DataLoader) are true when not
     * empty; objects whose length hook declines (a Linear) are simply true */
    TypeOps *ops = &in->types[v.as.obj->kind];
    if (ops->len) {
        Diag saved;
        diag_init(&saved);
        diag_move(&saved, &in->diag);
        bool has_len = ops->len(in, v, &len);
        diag_clear(&in->diag);
        diag_move(&in->diag, &saved);
        if (has_len) {
            *out = len > 0;
            return true;
        }
    }
    *out = true;
    return true;
}

/* Comparing nested lists and tuples recurses once per level: deeper than
 * this is an error (as Python's RecursionError), not a C stack overflow.
 * repr() stops at the same depth (printer.c). */
#define MAX_COMPARE_DEPTH 100

static bool compare_too_deep(Interp *in)
{
    return rt_error(in, "maximum recursion depth exceeded in comparison");
}

static bool equal_at_depth(Interp *in, Value a, Value b, int depth, bool *out);

static bool same_object(Value a, Value b)
{
    return a.kind == VAL_OBJ && b.kind == VAL_OBJ && a.as.obj == b.as.obj;
}

static bool seq_equal(Interp *in, Value a, Value b, int depth, bool *out)
{
    const Value *ia, *ib;
    int64_t na, nb;
    seq_view(a, &ia, &na);
    seq_view(b, &ib, &nb);
    if (na != nb) {
        *out = false;
        return true;
    }
    for (int64_t i = 0; i < na; i++) {
        bool eq;
        /* items that are the same object are equal, as in Python: a list
         * that contains itself compares without endless recursion */
        if (same_object(ia[i], ib[i]))
            continue;
        if (!equal_at_depth(in, ia[i], ib[i], depth + 1, &eq))
            return false;
        if (!eq) {
            *out = false;
            return true;
        }
    }
    *out = true;
    return true;
}

bool value_equal(Interp *in, Value a, Value b, bool *out)
{
    return equal_at_depth(in, a, b, 0, out);
}

static bool equal_at_depth(Interp *in, Value a, Value b, int depth, bool *out)
{
    if (depth > MAX_COMPARE_DEPTH)
        return compare_too_deep(in);
    if (val_is_number(a) && val_is_number(b)) {
        if (is_int_like(a) && is_int_like(b))
            *out = int_of(a) == int_of(b);
        else
            *out = number_double(a).as.f == number_double(b).as.f;
        return true;
    }
    if (a.kind == VAL_NONE || b.kind == VAL_NONE) {
        *out = a.kind == b.kind;
        return true;
    }
    if (a.kind != VAL_OBJ || b.kind != VAL_OBJ) {
        *out = false;
        return true;
    }
    if (val_is(a, OBJ_STR) && val_is(b, OBJ_STR)) {
        *out = str_equal(AS_STR(a), AS_STR(b));
        return true;
    }
    bool sa = val_is(a, OBJ_LIST) || val_is(a, OBJ_TUPLE), sb = val_is(b, OBJ_LIST) || val_is(b, OBJ_TUPLE);
    if (sa && sb) {
        if (a.as.obj->kind != b.as.obj->kind) {
            *out = false;
            return true;
        }
        return seq_equal(in, a, b, depth, out);
    }
    if (val_is(a, OBJ_DTYPE) && val_is(b, OBJ_DTYPE)) {
        *out = ((ObjDtype *)a.as.obj)->dtype == ((ObjDtype *)b.as.obj)->dtype;
        return true;
    }
    *out = a.as.obj == b.as.obj;
    return true;
}

static bool value_is(Value a, Value b)
{
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case VAL_NONE:
    case VAL_UNSET:
        return true;
    case VAL_BOOL:
        return a.as.b == b.as.b;
    case VAL_INT:
        return a.as.i == b.as.i;
    case VAL_FLOAT:
        return a.as.f == b.as.f;
    case VAL_OBJ:
        if (val_is(a, OBJ_TENSOR) && val_is(b, OBJ_TENSOR))
            return AS_TENSOR(a)->t == AS_TENSOR(b)->t;
        return a.as.obj == b.as.obj;
    }
    return false;
}

/* -1, 0, 1 for ordered values; false + error when they cannot be ordered. */
static bool value_order(Interp *in, Value a, Value b, const char *op, SrcPos pos, int depth,
                        int *cmp)
{
    if (depth > MAX_COMPARE_DEPTH)
        return compare_too_deep(in);
    if (val_is_number(a) && val_is_number(b)) {
        if (is_int_like(a) && is_int_like(b)) {
            int64_t x = int_of(a), y = int_of(b);
            *cmp = x < y ? -1 : x > y;
        } else {
            double x = number_double(a).as.f, y = number_double(b).as.f;
            *cmp = x < y ? -1 : x > y ? 1 : x == y ? 0 : 2; /* 2: unordered (nan) */
        }
        return true;
    }
    if (val_is(a, OBJ_STR) && val_is(b, OBJ_STR)) {
        size_t n = AS_STR(a)->len < AS_STR(b)->len ? AS_STR(a)->len : AS_STR(b)->len;
        int c = memcmp(AS_STR(a)->data, AS_STR(b)->data, n);
        *cmp = c < 0 ? -1 : c > 0 ? 1 : AS_STR(a)->len < AS_STR(b)->len ? -1 : AS_STR(a)->len > AS_STR(b)->len;
        return true;
    }
    bool sa = val_is(a, OBJ_LIST) || val_is(a, OBJ_TUPLE), sb = val_is(b, OBJ_LIST) || val_is(b, OBJ_TUPLE);
    if (sa && sb && a.as.obj->kind == b.as.obj->kind) {
        const Value *ia, *ib;
        int64_t na, nb;
        seq_view(a, &ia, &na);
        seq_view(b, &ib, &nb);
        for (int64_t i = 0; i < na && i < nb; i++) {
            bool eq;
            if (same_object(ia[i], ib[i]))
                continue;
            if (!equal_at_depth(in, ia[i], ib[i], depth + 1, &eq))
                return false;
            if (!eq)
                return value_order(in, ia[i], ib[i], op, pos, depth + 1, cmp);
        }
        *cmp = na < nb ? -1 : na > nb;
        return true;
    }
    return rt_error_at(in, pos, "'%s' not supported between instances of '%s' and '%s'", op,
                       value_type_name(a), value_type_name(b));
}

bool value_contains(Interp *in, Value container, Value item, bool *out)
{
    if (val_is(container, OBJ_STR)) {
        if (!val_is(item, OBJ_STR))
            return rt_error(in, "'in <string>' requires string as left operand, not %s",
                            value_type_name(item));
        *out = strstr(AS_STR(container)->data, AS_STR(item)->data) != NULL;
        return true;
    }
    if (val_is(container, OBJ_TENSOR)) {
        Tensor *t = val_as_tensor(container);
        double x;
        if (!arg_double(in, item, "the value looked for", &x))
            return false;
        *out = false;
        for (int64_t i = 0; i < tensor_numel(t) && !*out; i++)
            *out = tensor_get_flat(t, i) == (float)x;
        return true;
    }
    ObjIter *it;
    if (!value_iter(in, container, &it))
        return false;
    *out = false;
    bool ok = true;
    while (!*out) {
        Value x;
        IterStep st = iter_next(in, it, &x);
        if (st != ITER_VALUE) {
            ok = st == ITER_DONE;
            break;
        }
        ok = value_equal(in, x, item, out);
        value_release(x);
        if (!ok)
            break;
    }
    value_release(val_obj(&it->h));
    return ok;
}

static bool tensor_compare_values(Interp *in, CmpOp op, Value a, Value b, SrcPos pos, Value *out)
{
    static const CompareOp map[] = {
        [CMPOP_EQ] = CMP_EQ, [CMPOP_NE] = CMP_NE, [CMPOP_LT] = CMP_LT,
        [CMPOP_LE] = CMP_LE, [CMPOP_GT] = CMP_GT, [CMPOP_GE] = CMP_GE,
    };
    Tensor *ta, *tb;
    if (!arg_tensor(in, a, "comparison operand", &ta))
        return false;
    if (!arg_tensor(in, b, "comparison operand", &tb)) {
        tensor_release(ta);
        return false;
    }
    Tensor *r = tensor_compare(&in->eng, map[op], ta, tb);
    tensor_release(ta);
    tensor_release(tb);
    if (!r)
        return rt_engine_error_at(in, pos);
    *out = result_is_numpy(a, b) ? val_numpy(in, r) : val_tensor(in, r);
    return true;
}

bool compare_op(Interp *in, CmpOp op, Value a, Value b, SrcPos pos, Value *out)
{
    bool r;
    switch (op) {
    case CMPOP_IS:
    case CMPOP_IS_NOT:
        r = value_is(a, b);
        *out = val_bool(op == CMPOP_IS ? r : !r);
        return true;
    case CMPOP_IN:
    case CMPOP_NOT_IN:
        if (!value_contains(in, b, a, &r))
            return false;
        *out = val_bool(op == CMPOP_IN ? r : !r);
        return true;
    default:
        break;
    }
    bool ta = val_is(a, OBJ_TENSOR), tb = val_is(b, OBJ_TENSOR);
    if ((ta && (tb || val_is_number(b))) || (tb && val_is_number(a)))
        return tensor_compare_values(in, op, a, b, pos, out);
    if (op == CMPOP_EQ || op == CMPOP_NE) {
        if (!value_equal(in, a, b, &r))
            return false;
        *out = val_bool(op == CMPOP_EQ ? r : !r);
        return true;
    }
    int c;
    if (!value_order(in, a, b, cmpop_symbol(op), pos, 0, &c))
        return false;
    switch (op) {
    case CMPOP_LT: r = c == -1; break;
    case CMPOP_LE: r = c == -1 || c == 0; break;
    case CMPOP_GT: r = c == 1; break;
    default: r = c == 1 || c == 0; break;
    }
    *out = val_bool(r);
    return true;
}

/* ---- length ---- */

static int64_t range_length(const ObjRange *r)
{
    if (r->step > 0 && r->start < r->stop)
        return (r->stop - r->start + r->step - 1) / r->step;
    if (r->step < 0 && r->start > r->stop)
        return (r->start - r->stop - r->step - 1) / (-r->step);
    return 0;
}

static int64_t utf8_length(const char *s, size_t len)
{
    int64_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

bool value_length(Interp *in, Value v, int64_t *out)
{
    if (v.kind == VAL_OBJ) {
        switch (v.as.obj->kind) {
        case OBJ_STR:
            *out = utf8_length(AS_STR(v)->data, AS_STR(v)->len);
            return true;
        case OBJ_LIST:
            *out = AS_LIST(v)->count;
            return true;
        case OBJ_TUPLE:
            *out = AS_TUPLE(v)->count;
            return true;
        case OBJ_RANGE:
            *out = range_length((const ObjRange *)v.as.obj);
            return true;
        case OBJ_TENSOR: {
            Tensor *t = val_as_tensor(v);
            if (t->ndim == 0)
                return rt_error(in, AS_TENSOR(v)->is_numpy ? "len() of unsized object"
                                                           : "len() of a 0-d tensor");
            *out = t->shape[0];
            return true;
        }
        case OBJ_INSTANCE: {
            Value m;
            if (class_lookup(AS_INSTANCE(v)->cls, intern(in, "__len__"), &m)) {
                value_release(m);
                Value r;
                ObjStr *name = intern(in, "__len__");
                Value bound;
                if (!get_attribute(in, v, name, &bound))
                    return false;
                CallArgs none = {0};
                bool ok = call_value(in, bound, &none, &r);
                value_release(bound);
                if (!ok)
                    return false;
                ok = arg_int(in, r, "__len__() result", out);
                value_release(r);
                return ok;
            }
            break;
        }
        default: {
            TypeOps *ops = &in->types[v.as.obj->kind];
            if (ops->len)
                return ops->len(in, v, out);
            break;
        }
        }
    }
    return rt_error(in, "object of type '%s' has no len()", value_type_name(v));
}

/* ---- indexing of Python sequences ---- */

/* Python's slice.indices(): clamp start/stop for a sequence of length n. */
bool slice_indices(Interp *in, const ObjSlice *s, int64_t n, int64_t *start, int64_t *stop,
                   int64_t *step)
{
    *step = 1;
    if (s->step.kind != VAL_NONE && !arg_int(in, s->step, "slice step", step))
        return false;
    if (*step == 0)
        return rt_error(in, "slice step cannot be zero");
    int64_t lo = *step < 0 ? -1 : 0, hi = *step < 0 ? n - 1 : n;
    if (s->start.kind == VAL_NONE) {
        *start = *step < 0 ? hi : lo;
    } else {
        if (!arg_int(in, s->start, "slice index", start))
            return false;
        if (*start < 0)
            *start = *start + n < lo ? lo : *start + n;
        else if (*start > hi)
            *start = hi;
    }
    if (s->stop.kind == VAL_NONE) {
        *stop = *step < 0 ? lo : hi;
    } else {
        if (!arg_int(in, s->stop, "slice index", stop))
            return false;
        if (*stop < 0)
            *stop = *stop + n < lo ? lo : *stop + n;
        else if (*stop > hi)
            *stop = hi;
    }
    return true;
}

static int64_t slice_count(int64_t start, int64_t stop, int64_t step)
{
    if (step > 0)
        return start < stop ? (stop - start + step - 1) / step : 0;
    return start > stop ? (start - stop - step - 1) / (-step) : 0;
}

static bool normalize_index(Interp *in, Value index, int64_t n, const char *what, int64_t *out)
{
    int64_t i;
    if (!is_int_like(index) && !(val_as_tensor(index) && tensor_numel(val_as_tensor(index)) == 1 &&
                                 dtype_is_integral(val_as_tensor(index)->dtype)))
        return rt_error(in, "%s indices must be integers or slices, not %s", what, value_type_name(index));
    if (!arg_int(in, index, "index", &i))
        return false;
    if (i < 0)
        i += n;
    if (i < 0 || i >= n)
        return rt_error(in, "%s index out of range", what);
    *out = i;
    return true;
}

/* The byte offset of the code point at index `cp` of a UTF-8 string. */
static size_t utf8_offset(const char *s, size_t len, int64_t cp)
{
    size_t i = 0;
    for (int64_t k = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (k == cp)
                return i;
            k++;
        }
    }
    return len;
}

static bool str_getitem(Interp *in, Value v, Value index, Value *out)
{
    const ObjStr *s = AS_STR(v);
    int64_t n = utf8_length(s->data, s->len);
    if (val_is(index, OBJ_SLICE)) {
        int64_t start, stop, step;
        if (!slice_indices(in, (const ObjSlice *)index.as.obj, n, &start, &stop, &step))
            return false;
        StrBuf sb = STRBUF_INIT;
        int64_t count = slice_count(start, stop, step);
        for (int64_t k = 0, i = start; k < count; k++, i += step) {
            size_t a = utf8_offset(s->data, s->len, i), b = utf8_offset(s->data, s->len, i + 1);
            sb_append_n(&sb, s->data + a, b - a);
        }
        *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
        sb_free(&sb);
        return true;
    }
    int64_t i;
    if (!normalize_index(in, index, n, "string", &i))
        return false;
    size_t a = utf8_offset(s->data, s->len, i), b = utf8_offset(s->data, s->len, i + 1);
    *out = val_str_n(&in->heap, s->data + a, b - a);
    return true;
}

static bool seq_getitem(Interp *in, Value v, Value index, Value *out)
{
    const Value *items;
    int64_t n;
    seq_view(v, &items, &n);
    bool is_list = val_is(v, OBJ_LIST);
    const char *what = is_list ? "list" : "tuple";
    if (val_is(index, OBJ_SLICE)) {
        int64_t start, stop, step;
        if (!slice_indices(in, (const ObjSlice *)index.as.obj, n, &start, &stop, &step))
            return false;
        int64_t count = slice_count(start, stop, step);
        Value *dst;
        *out = seq_new(in, is_list, count, &dst);
        for (int64_t k = 0, i = start; k < count; k++, i += step)
            dst[k] = value_retain(items[i]);
        if (!is_list && AS_TUPLE(v)->is_size)
            AS_TUPLE(*out)->is_size = true;
        return true;
    }
    int64_t i;
    if (!normalize_index(in, index, n, what, &i))
        return false;
    *out = value_retain(items[i]);
    return true;
}

static bool range_getitem(Interp *in, Value v, Value index, Value *out)
{
    const ObjRange *r = (const ObjRange *)v.as.obj;
    int64_t i;
    if (!normalize_index(in, index, range_length(r), "range object", &i))
        return false;
    *out = val_int(r->start + i * r->step);
    return true;
}

/* ---- indexing tensors ---- */


static bool index_list_values(Interp *in, Value index, int64_t **out, int64_t *n)
{
    const Value *items;
    seq_view(index, &items, n);
    *out = malloc((size_t)(*n ? *n : 1) * sizeof(int64_t));
    if (!*out)
        abort();
    for (int64_t i = 0; i < *n; i++)
        if (!arg_int(in, items[i], "tensor index", &(*out)[i])) {
            free(*out);
            return false;
        }
    return true;
}

/* Apply one index item at dimension *dim of *t (replacing *t); `orig_dim`
 * is the dimension of the tensor being indexed that the item refers to
 * (for messages: x[0, 5] names dimension 1 as PyTorch does). */
static bool tensor_index_one(Interp *in, Tensor **t, Value item, int *dim, int orig_dim)
{
    Engine *eng = &in->eng;
    Tensor *r = NULL;
    if (is_int_like(item) || (val_as_tensor(item) && val_as_tensor(item)->ndim == 0 &&
                              dtype_is_integral(val_as_tensor(item)->dtype) &&
                              val_as_tensor(item)->dtype != DTYPE_BOOL)) {
        int64_t i;
        if (!arg_int(in, item, "index", &i))
            return false;
        if (*dim >= (*t)->ndim)
            return rt_error(in, "too many indices for tensor of dimension %d", (*t)->ndim);
        int64_t size = (*t)->shape[*dim];
        if (i < -size || i >= size)
            return rt_error(in, "index %lld is out of bounds for dimension %d with size %lld",
                            (long long)i, orig_dim, (long long)size);
        r = tensor_select(eng, *t, *dim, i);
    } else if (val_is(item, OBJ_SLICE)) {
        const ObjSlice *s = (const ObjSlice *)item.as.obj;
        SliceSpec spec = {false, false, 0, 0, 1};
        if (*dim >= (*t)->ndim)
            return rt_error(in, "too many indices for tensor of dimension %d", (*t)->ndim);
        if (s->start.kind != VAL_NONE && !(spec.has_start = arg_int(in, s->start, "slice index", &spec.start)))
            return false;
        if (s->stop.kind != VAL_NONE && !(spec.has_stop = arg_int(in, s->stop, "slice index", &spec.stop)))
            return false;
        if (s->step.kind != VAL_NONE && !arg_int(in, s->step, "slice step", &spec.step))
            return false;
        r = tensor_slice(eng, *t, *dim, spec);
        (*dim)++;
    } else if (item.kind == VAL_NONE) {
        r = tensor_unsqueeze(eng, *t, *dim);
        (*dim)++;
    } else if (val_is(item, OBJ_LIST) || val_is(item, OBJ_TUPLE)) {
        int64_t *idx, n;
        if (!index_list_values(in, item, &idx, &n))
            return false;
        if (*dim >= (*t)->ndim) {
            free(idx);
            return rt_error(in, "too many indices for tensor of dimension %d", (*t)->ndim);
        }
        r = tensor_index_select(eng, *t, *dim, idx, n);
        free(idx);
        (*dim)++;
    } else if (val_as_tensor(item) && val_as_tensor(item)->dtype == DTYPE_BOOL) {
        if (*dim != 0)
            return rt_error(in, "a boolean mask must be the only index");
        r = tensor_masked_select(eng, *t, val_as_tensor(item));
        *dim = 1;
    } else if (val_as_tensor(item) && val_as_tensor(item)->ndim == 1) {
        Tensor *it = val_as_tensor(item);
        int64_t n = tensor_numel(it);
        int64_t *idx = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
        if (!idx)
            abort();
        for (int64_t i = 0; i < n; i++)
            idx[i] = (int64_t)tensor_get_flat(it, i);
        r = dtype_is_integral(it->dtype) ? tensor_index_select(eng, *t, *dim, idx, n) : NULL;
        free(idx);
        if (!dtype_is_integral(it->dtype))
            return rt_error(in, "tensors used as indices must be long, int, byte or bool tensors");
        (*dim)++;
    } else {
        return rt_error(in, "only integers, slices, None, lists of integers and tensors are valid "
                            "indices (got %s)", value_type_name(item));
    }
    if (!r)
        return rt_engine_error(in);
    tensor_release(*t);
    *t = r;
    return true;
}

/* t[index] as a new tensor (a view where PyTorch gives one). */
static bool tensor_apply_index(Interp *in, Tensor *base, Value index, Tensor **out)
{
    Tensor *t = tensor_retain(base);
    int dim = 0;
    if (val_is(index, OBJ_TUPLE) && !AS_TUPLE(index)->is_size) {
        int lists = 0;
        for (int64_t k = 0; k < AS_TUPLE(index)->count; k++)
            lists += val_is(AS_TUPLE(index)->items[k], OBJ_LIST);
        if (lists > 1) {
            tensor_release(t);
            return rt_error(in, "indexing with more than one list at once is not part of nnl");
        }
        int orig_dim = 0;
        for (int64_t k = 0; k < AS_TUPLE(index)->count; k++) {
            Value item = AS_TUPLE(index)->items[k];
            if (!tensor_index_one(in, &t, item, &dim, orig_dim)) {
                tensor_release(t);
                return false;
            }
            orig_dim += item.kind != VAL_NONE;
        }
    } else if (!tensor_index_one(in, &t, index, &dim, 0)) {
        tensor_release(t);
        return false;
    }
    *out = t;
    return true;
}

static bool tensor_getitem(Interp *in, Value v, Value index, Value *out)
{
    Tensor *r;
    if (!tensor_apply_index(in, val_as_tensor(v), index, &r))
        return false;
    if (AS_TENSOR(v)->is_numpy && r->ndim == 0) {
        *out = numpy_element_value(r);
        tensor_release(r);
        return true;
    }
    *out = AS_TENSOR(v)->is_numpy ? val_numpy(in, r) : val_tensor(in, r);
    return true;
}

bool value_getitem(Interp *in, Value obj, Value index, Value *out)
{
    if (obj.kind == VAL_OBJ) {
        switch (obj.as.obj->kind) {
        case OBJ_STR:
            return str_getitem(in, obj, index, out);
        case OBJ_LIST:
        case OBJ_TUPLE:
            return seq_getitem(in, obj, index, out);
        case OBJ_RANGE:
            return range_getitem(in, obj, index, out);
        case OBJ_TENSOR:
            return tensor_getitem(in, obj, index, out);
        case OBJ_INSTANCE: {
            Value m;
            if (!class_lookup(AS_INSTANCE(obj)->cls, intern(in, "__getitem__"), &m))
                break;
            value_release(m);
            Value bound;
            if (!get_attribute(in, obj, intern(in, "__getitem__"), &bound))
                return false;
            CallArgs a = {&index, 1, NULL, NULL, 0};
            bool ok = call_value(in, bound, &a, out);
            value_release(bound);
            return ok;
        }
        default: {
            TypeOps *ops = &in->types[obj.as.obj->kind];
            if (ops->getitem)
                return ops->getitem(in, obj, index, out);
            break;
        }
        }
    }
    return rt_error(in, "'%s' object is not subscriptable", value_type_name(obj));
}

/* ---- item assignment ---- */

/* t[mask] = v for a bool mask */
static bool tensor_masked_assign(Interp *in, Tensor *t, Tensor *mask, Value v)
{
    if (!tensor_same_shape(t, mask))
        return rt_error(in, "the shape of the mask does not match the shape of the indexed tensor");
    Tensor *src;
    if (!arg_tensor(in, v, "assigned value", &src))
        return false;
    int64_t n = tensor_numel(t), k = 0, ns = tensor_numel(src);
    int64_t selected = 0;
    for (int64_t i = 0; i < n; i++)
        selected += tensor_get_flat(mask, i) != 0.0f;
    bool ok = ns == 1 || ns == selected;
    if (ok) {
        for (int64_t i = 0; i < n; i++)
            if (tensor_get_flat(mask, i) != 0.0f) {
                float x = tensor_get_flat(src, ns == 1 ? 0 : k++);
                tensor_set_flat(t, i, t->dtype == DTYPE_FLOAT32 ? x : t->dtype == DTYPE_BOOL ? (x != 0.0f) : truncf(x));
            }
    } else {
        rt_error(in, "shape mismatch: value tensor of %lld elements cannot be broadcast to %lld "
                     "selected elements", (long long)ns, (long long)selected);
    }
    tensor_release(src);
    return ok;
}

static bool tensor_setitem(Interp *in, Value obj, Value index, Value v)
{
    Tensor *t = val_as_tensor(obj);
    if (t->requires_grad && in->eng.grad_enabled)
        return rt_error(in, "assigning into a tensor that requires grad is not supported; do it "
                            "inside `with torch.no_grad():`");
    Tensor *mask = val_as_tensor(index);
    if (mask && mask->dtype == DTYPE_BOOL)
        return tensor_masked_assign(in, t, mask, v);
    bool has_list = val_is(index, OBJ_LIST) || (mask && mask->ndim == 1);
    if (val_is(index, OBJ_TUPLE))
        for (int64_t k = 0; k < AS_TUPLE(index)->count; k++)
            has_list |= val_is(AS_TUPLE(index)->items[k], OBJ_LIST);
    if (has_list && !val_is(index, OBJ_LIST))
        return rt_error(in, "assignment through a list index inside a tuple index is not part of nnl");
    if (has_list) {
        /* t[[i, j]] = v: assign each row in turn */
        const Value *items;
        int64_t n;
        if (mask) {
            Value lst;
            ObjList *l = list_new(&in->heap, tensor_numel(mask));
            for (int64_t i = 0; i < tensor_numel(mask); i++)
                list_append(l, val_int((int64_t)tensor_get_flat(mask, i)));
            lst = val_obj(&l->h);
            bool ok = tensor_setitem(in, obj, lst, v);
            value_release(lst);
            return ok;
        }
        seq_view(index, &items, &n);
        for (int64_t i = 0; i < n; i++)
            if (!tensor_setitem(in, obj, items[i], v))
                return false;
        return true;
    }
    Tensor *view, *src;
    if (!tensor_apply_index(in, t, index, &view))
        return false;
    if (!arg_tensor(in, v, "assigned value", &src)) {
        tensor_release(view);
        return false;
    }
    bool ok = tensor_copy_(&in->eng, view, src) || rt_engine_error(in);
    tensor_release(view);
    tensor_release(src);
    return ok;
}

bool setitem(Interp *in, Value obj, Value index, Value v, SrcPos pos)
{
    (void)pos;
    if (val_is(obj, OBJ_LIST)) {
        if (val_is(index, OBJ_SLICE))
            return rt_error(in, "assignment to a slice of a list is not part of nnl");
        int64_t i;
        if (!normalize_index(in, index, AS_LIST(obj)->count, "list assignment", &i))
            return false;
        Value old = AS_LIST(obj)->items[i];
        AS_LIST(obj)->items[i] = value_retain(v);
        value_release(old);
        return true;
    }
    if (val_is(obj, OBJ_TENSOR))
        return tensor_setitem(in, obj, index, v);
    if (val_is(obj, OBJ_TUPLE) || val_is(obj, OBJ_STR))
        return rt_error(in, "'%s' object does not support item assignment", value_type_name(obj));
    return rt_error(in, "'%s' object does not support item assignment", value_type_name(obj));
}
