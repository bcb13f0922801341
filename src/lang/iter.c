/*
 * iter.c - iteration: `for x in v`, unpacking, list(), zip(), enumerate().
 */
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

ObjIter *iter_new(Interp *in, IterNextFn next, Value source)
{
    ObjIter *it = (ObjIter *)obj_alloc(&in->heap, OBJ_ITER, sizeof(ObjIter));
    it->next = next;
    it->source = value_retain(source);
    it->extra = val_none();
    return it;
}

IterStep iter_next(Interp *in, ObjIter *it, Value *out)
{
    return it->next(in, it, out);
}

static IterStep list_next(Interp *in, ObjIter *it, Value *out)
{
    (void)in;
    const ObjList *l = AS_LIST(it->source);
    if (it->index >= l->count)
        return ITER_DONE;
    *out = value_retain(l->items[it->index++]);
    return ITER_VALUE;
}

static IterStep tuple_next(Interp *in, ObjIter *it, Value *out)
{
    (void)in;
    const ObjTuple *t = AS_TUPLE(it->source);
    if (it->index >= t->count)
        return ITER_DONE;
    *out = value_retain(t->items[it->index++]);
    return ITER_VALUE;
}

static IterStep range_next(Interp *in, ObjIter *it, Value *out)
{
    (void)in;
    if (it->step > 0 ? it->index >= it->limit : it->index <= it->limit)
        return ITER_DONE;
    *out = val_int(it->index);
    it->index += it->step;
    return ITER_VALUE;
}

static IterStep str_next(Interp *in, ObjIter *it, Value *out)
{
    const ObjStr *s = AS_STR(it->source);
    size_t i = (size_t)it->index;
    if (i >= s->len)
        return ITER_DONE;
    size_t j = i + 1;
    while (j < s->len && ((unsigned char)s->data[j] & 0xC0) == 0x80)
        j++;
    *out = val_str_n(&in->heap, s->data + i, j - i);
    it->index = (int64_t)j;
    return ITER_VALUE;
}

/* A tensor iterates over its first dimension (value_getitem does the rest:
 * views for torch, Python numbers for NumPy 1-D arrays). */
static IterStep indexed_next(Interp *in, ObjIter *it, Value *out)
{
    if (it->index >= it->limit)
        return ITER_DONE;
    if (!value_getitem(in, it->source, val_int(it->index), out))
        return ITER_ERROR;
    it->index++;
    return ITER_VALUE;
}

/* A user Dataset (or any object with __getitem__) without __len__ stops at
 * the first index error, as Python's old iteration protocol does; with
 * __len__ it stops at the length. */
static IterStep self_next(Interp *in, ObjIter *it, Value *out)
{
    ObjIter *inner = (ObjIter *)it->source.as.obj;
    return inner->next(in, inner, out);
}

bool value_iter(Interp *in, Value v, ObjIter **out)
{
    if (v.kind == VAL_OBJ) {
        switch (v.as.obj->kind) {
        case OBJ_LIST:
            *out = iter_new(in, list_next, v);
            return true;
        case OBJ_TUPLE:
            *out = iter_new(in, tuple_next, v);
            return true;
        case OBJ_STR:
            *out = iter_new(in, str_next, v);
            return true;
        case OBJ_RANGE: {
            const ObjRange *r = (const ObjRange *)v.as.obj;
            *out = iter_new(in, range_next, val_none());
            (*out)->index = r->start;
            (*out)->limit = r->stop;
            (*out)->step = r->step;
            return true;
        }
        case OBJ_ITER:
            /* an iterator is its own iterator: share its position */
            *out = iter_new(in, self_next, v);
            return true;
        case OBJ_TENSOR: {
            Tensor *t = val_as_tensor(v);
            if (t->ndim == 0)
                return rt_error(in, AS_TENSOR(v)->is_numpy ? "iteration over a 0-d array"
                                                           : "iteration over a 0-d tensor");
            *out = iter_new(in, indexed_next, v);
            (*out)->limit = t->shape[0];
            return true;
        }
        case OBJ_INSTANCE: {
            Value m;
            if (!class_lookup(AS_INSTANCE(v)->cls, intern(in, "__getitem__"), &m))
                break;
            value_release(m);
            int64_t n;
            if (!value_length(in, v, &n))
                return false;
            *out = iter_new(in, indexed_next, v);
            (*out)->limit = n;
            return true;
        }
        default: {
            TypeOps *ops = &in->types[v.as.obj->kind];
            if (ops->iter)
                return ops->iter(in, v, out);
            break;
        }
        }
    }
    return rt_error(in, "'%s' object is not iterable", value_type_name(v));
}

/* ---- zip and enumerate ---- */

typedef struct ZipState {
    int n;
    ObjIter **iters;
} ZipState;

static void zip_free(ObjIter *it)
{
    ZipState *z = it->state;
    for (int i = 0; i < z->n; i++)
        value_release(val_obj(&z->iters[i]->h));
    free(z->iters);
    free(z);
    it->state = NULL;
}

static IterStep zip_next(Interp *in, ObjIter *it, Value *out)
{
    ZipState *z = it->state;
    ObjTuple *t = tuple_new(&in->heap, z->n);
    for (int i = 0; i < z->n; i++) {
        IterStep st = iter_next(in, z->iters[i], &t->items[i]);
        if (st != ITER_VALUE) {
            t->items[i] = val_none();
            value_release(val_obj(&t->h));
            return st;
        }
    }
    *out = val_obj(&t->h);
    return ITER_VALUE;
}

bool make_zip(Interp *in, const Value *sources, int n, Value *out)
{
    ZipState *z = calloc(1, sizeof *z);
    if (!z)
        abort();
    z->iters = calloc((size_t)(n ? n : 1), sizeof *z->iters);
    if (!z->iters)
        abort();
    ObjIter *it = iter_new(in, zip_next, val_none());
    it->state = z;
    it->free_state = zip_free;
    for (int i = 0; i < n; i++) {
        if (!value_iter(in, sources[i], &z->iters[i])) {
            value_release(val_obj(&it->h));
            return false;
        }
        z->n++;
    }
    *out = val_obj(&it->h);
    return true;
}

static IterStep enumerate_next(Interp *in, ObjIter *it, Value *out)
{
    ObjIter *inner = (ObjIter *)it->extra.as.obj;
    Value x;
    IterStep st = iter_next(in, inner, &x);
    if (st != ITER_VALUE)
        return st;
    ObjTuple *t = tuple_new(&in->heap, 2);
    t->items[0] = val_int(it->index++);
    t->items[1] = x;
    *out = val_obj(&t->h);
    return ITER_VALUE;
}

bool make_enumerate(Interp *in, Value source, int64_t start, Value *out)
{
    ObjIter *inner;
    if (!value_iter(in, source, &inner))
        return false;
    ObjIter *it = iter_new(in, enumerate_next, val_none());
    it->extra = val_obj(&inner->h);
    it->index = start;
    *out = val_obj(&it->h);
    return true;
}
