/*
 * printer.c - repr(), str() and format() of values, as Python and PyTorch
 * print them (the number and tensor layouts themselves are in pyformat.c).
 */
#include <stdio.h>
#include <string.h>

#include "eval_internal.h"
#include "pyformat.h"

#define MAX_REPR_DEPTH 100

/* Python's repr of a string: single quotes unless the text has a single
 * quote and no double quote; escapes for quotes, backslash and control
 * characters; printable non-ASCII text kept as it is. */
static void str_repr(const char *s, size_t len, StrBuf *out)
{
    bool has_single = memchr(s, '\'', len) != NULL, has_double = memchr(s, '"', len) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    sb_append_char(out, quote);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)quote || c == '\\') {
            sb_append_char(out, '\\');
            sb_append_char(out, (char)c);
        } else if (c == '\n') {
            sb_append(out, "\\n");
        } else if (c == '\t') {
            sb_append(out, "\\t");
        } else if (c == '\r') {
            sb_append(out, "\\r");
        } else if (c < 0x20 || c == 0x7f) {
            sb_printf(out, "\\x%02x", c);
        } else {
            sb_append_char(out, (char)c);
        }
    }
    sb_append_char(out, quote);
}

static bool seq_repr(Interp *in, const Value *items, int64_t n, const char *open, const char *close,
                     bool one_tuple, StrBuf *out, int depth)
{
    sb_append(out, open);
    for (int64_t i = 0; i < n; i++) {
        if (i)
            sb_append(out, ", ");
        if (!repr_into(in, items[i], out, depth + 1))
            return false;
    }
    if (one_tuple && n == 1)
        sb_append_char(out, ',');
    sb_append(out, close);
    return true;
}

static void tensor_repr(const ObjTensor *o, bool as_str, StrBuf *out)
{
    if (o->is_numpy) {
        if (as_str)
            numpy_format_array_str(out, o->t);
        else
            numpy_format_array_repr(out, o->t);
        return;
    }
    if (o->t->is_parameter)
        sb_append(out, "Parameter containing:\n");
    torch_format_tensor(out, o->t, tensor_grad_fn_name(o->t));
}

/* PyTorch's repr of a user nn.Module: its module-valued attributes, one per
 * line, indented. */
static bool module_instance_repr(Interp *in, const ObjInstance *inst, StrBuf *out, int depth)
{
    sb_append(out, inst->cls->name->data);
    sb_append_char(out, '(');
    bool any = false;
    for (int i = 0; i < inst->attrs.count; i++) {
        Value v = inst->attrs.entries[i].value;
        if (!val_is(v, OBJ_LAYER) && !instance_is_module(v))
            continue;
        StrBuf child = STRBUF_INIT;
        if (!repr_into(in, v, &child, depth + 1)) {
            sb_free(&child);
            return false;
        }
        sb_printf(out, "\n  (%s): ", inst->attrs.entries[i].key->data);
        /* indent the child's continuation lines by two spaces */
        for (const char *p = sb_str(&child); *p; p++) {
            sb_append_char(out, *p);
            if (*p == '\n')
                sb_append(out, "  ");
        }
        sb_free(&child);
        any = true;
    }
    sb_append(out, any ? "\n)" : ")");
    return true;
}

static bool object_repr(Interp *in, Value v, StrBuf *out, int depth, bool as_str)
{
    Obj *o = v.as.obj;
    switch (o->kind) {
    case OBJ_STR:
        if (as_str)
            sb_append_n(out, AS_STR(v)->data, AS_STR(v)->len);
        else
            str_repr(AS_STR(v)->data, AS_STR(v)->len, out);
        return true;
    case OBJ_LIST:
        return seq_repr(in, AS_LIST(v)->items, AS_LIST(v)->count, "[", "]", false, out, depth);
    case OBJ_TUPLE: {
        const ObjTuple *t = AS_TUPLE(v);
        if (t->struct_name && in->types[OBJ_TUPLE].repr)
            return in->types[OBJ_TUPLE].repr(in, v, out);
        if (t->is_size) {
            int64_t shape[TENSOR_MAX_DIMS + 4];
            int n = (int)(t->count < TENSOR_MAX_DIMS + 4 ? t->count : TENSOR_MAX_DIMS + 4);
            for (int i = 0; i < n; i++)
                shape[i] = t->items[i].kind == VAL_INT ? t->items[i].as.i : 0;
            torch_format_size(out, n, shape);
            return true;
        }
        return seq_repr(in, t->items, t->count, "(", ")", true, out, depth);
    }
    case OBJ_RANGE: {
        const ObjRange *r = (const ObjRange *)o;
        if (r->step == 1)
            sb_printf(out, "range(%lld, %lld)", (long long)r->start, (long long)r->stop);
        else
            sb_printf(out, "range(%lld, %lld, %lld)", (long long)r->start, (long long)r->stop,
                      (long long)r->step);
        return true;
    }
    case OBJ_FUNCTION:
        sb_printf(out, "<function %s>", ((ObjFunction *)o)->qualname->data);
        return true;
    case OBJ_NATIVE:
        sb_printf(out, "<built-in function %s>", ((ObjNative *)o)->name);
        return true;
    case OBJ_BOUND: {
        const ObjBound *b = (const ObjBound *)o;
        sb_printf(out, "<bound method %s of ", val_is(b->func, OBJ_FUNCTION)
                                                   ? ((ObjFunction *)b->func.as.obj)->qualname->data
                                                   : "method");
        if (!repr_into(in, b->self, out, depth + 1))
            return false;
        sb_append_char(out, '>');
        return true;
    }
    case OBJ_CLASS: {
        const ObjClass *cls = (const ObjClass *)o;
        sb_printf(out, "<class '%s%s'>", cls->native ? "" : "__main__.", cls->name->data);
        return true;
    }
    case OBJ_INSTANCE: {
        const ObjInstance *inst = (const ObjInstance *)o;
        if (inst->cls->base == BASE_MODULE)
            return module_instance_repr(in, inst, out, depth);
        sb_printf(out, "<%s%s object>", inst->cls->native ? "" : "__main__.", inst->cls->name->data);
        return true;
    }
    case OBJ_NAMESPACE:
        sb_printf(out, "<module '%s'>", ((ObjNamespace *)o)->name);
        return true;
    case OBJ_TENSOR:
        tensor_repr((const ObjTensor *)o, as_str, out);
        return true;
    case OBJ_SLICE: {
        const ObjSlice *s = (const ObjSlice *)o;
        sb_append(out, "slice(");
        if (!repr_into(in, s->start, out, depth + 1))
            return false;
        sb_append(out, ", ");
        if (!repr_into(in, s->stop, out, depth + 1))
            return false;
        sb_append(out, ", ");
        if (!repr_into(in, s->step, out, depth + 1))
            return false;
        sb_append_char(out, ')');
        return true;
    }
    default:
        break;
    }
    TypeOps *ops = &in->types[o->kind];
    if (ops->repr)
        return ops->repr(in, v, out);
    sb_printf(out, "<%s object>", value_type_name(v));
    return true;
}

bool repr_into(Interp *in, Value v, StrBuf *out, int depth)
{
    if (depth > MAX_REPR_DEPTH)
        return rt_error(in, "maximum recursion depth exceeded while getting the repr of an object");
    switch (v.kind) {
    case VAL_NONE:
    case VAL_UNSET:
        sb_append(out, "None");
        return true;
    case VAL_BOOL:
        sb_append(out, v.as.b ? "True" : "False");
        return true;
    case VAL_INT:
        py_format_int(out, v.as.i);
        return true;
    case VAL_FLOAT:
        py_format_float_repr(out, v.as.f);
        return true;
    case VAL_OBJ:
        break;
    }
    return object_repr(in, v, out, depth, false);
}

bool value_repr(Interp *in, Value v, StrBuf *out)
{
    return repr_into(in, v, out, 0);
}

bool value_str(Interp *in, Value v, StrBuf *out)
{
    if (v.kind == VAL_OBJ && (v.as.obj->kind == OBJ_STR || v.as.obj->kind == OBJ_TENSOR))
        return object_repr(in, v, out, 0, true);
    return repr_into(in, v, out, 0);
}

bool value_format(Interp *in, Value v, const char *spec, StrBuf *out)
{
    char err[256] = "";
    bool ok;
    Tensor *t = val_as_tensor(v);
    if (t && t->ndim == 0 && spec[0]) {
        /* PyTorch formats a 0-d tensor as its item() */
        float x = tensor_get_flat(t, 0);
        if (t->dtype == DTYPE_FLOAT32)
            ok = py_format_float_with(out, (double)x, spec, err, sizeof err);
        else if (t->dtype == DTYPE_INT64)
            ok = py_format_int_with(out, (int64_t)x, spec, err, sizeof err);
        else
            ok = py_format_bool_with(out, x != 0.0f, spec, err, sizeof err);
        return ok || rt_error(in, "%s", err);
    }
    switch (v.kind) {
    case VAL_INT:
        ok = py_format_int_with(out, v.as.i, spec, err, sizeof err);
        break;
    case VAL_FLOAT:
        ok = py_format_float_with(out, v.as.f, spec, err, sizeof err);
        break;
    case VAL_BOOL:
        ok = py_format_bool_with(out, v.as.b, spec, err, sizeof err);
        break;
    default:
        if (val_is(v, OBJ_STR)) {
            ok = py_format_str_with(out, AS_STR(v)->data, spec, err, sizeof err);
            break;
        }
        if (spec[0])
            return rt_error(in, "unsupported format string passed to %s.__format__",
                            value_type_name(v));
        return value_str(in, v, out);
    }
    return ok || rt_error(in, "%s", err);
}
