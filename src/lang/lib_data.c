/*
 * lib_data.c - `torch.utils.data`: the Dataset base class for the program's
 * datasets, TensorDataset (the engine's, data.h) and DataLoader.
 *
 * A DataLoader batches any dataset that has a length and items by index: a
 * TensorDataset (rows gathered by the engine in one go), a user Dataset
 * (its __getitem__ called per index), or a list. Each `for` over a loader is
 * an epoch with a fresh order from the engine's generator when shuffling.
 * Items are combined as PyTorch's default_collate does: tensors stacked,
 * numbers made tensors (Python floats give float32 here, float64 in
 * PyTorch), tuples and lists of items transposed into a list of batches,
 * strings kept as a sequence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "lib_nn.h"

#define COLLATE_MAX_DEPTH 32

/* A DataLoader value with the options ObjLoader has no room for. The extra
 * field is plain data: the evaluator frees it as the ObjLoader it begins with. */
typedef struct LoaderValue {
    ObjLoader base;
    bool drop_last;
} LoaderValue;

/* ---- Dataset (the base class) ---- */

static bool dataset_init(Interp *in, Value self, const CallArgs *a, Value *out)
{
    /* bound (super().__init__()), unbound (Dataset.__init__(self)), or
     * without the instance when a class with no __init__ is instantiated */
    int extra = a->n_pos;
    if (self.kind == VAL_NONE && a->n_pos > 0 && val_is(a->pos[0], OBJ_INSTANCE))
        extra--;
    if (a->n_kw || extra > 0)
        return rt_error(in, "Dataset.__init__() takes 1 positional argument but %d were given",
                        extra + a->n_kw + 1);
    *out = val_none();
    return true;
}

static Value make_dataset_class(Interp *in)
{
    ObjClass *cls = (ObjClass *)obj_alloc(&in->heap, OBJ_CLASS, sizeof(ObjClass));
    cls->name = str_new(&in->heap, "Dataset", 7);
    cls->parent = NULL;
    cls->base = BASE_DATASET;
    table_init(&cls->attrs);
    Value f = native_new(in, "__init__", dataset_init, val_none());
    table_set(&cls->attrs, intern(in, "__init__"), f);
    value_release(f);
    return val_obj(&cls->h);
}

/* ---- TensorDataset ---- */

static TensorDataset *self_dataset(Value v)
{
    return ((ObjDataset *)v.as.obj)->d;
}

static bool tensor_dataset_new(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (a->n_kw)
        return rt_error(in, "TensorDataset() got an unexpected keyword argument '%s'", a->kw_names[0]);
    Tensor **ts = malloc((size_t)(a->n_pos ? a->n_pos : 1) * sizeof *ts);
    if (!ts)
        abort();
    for (int i = 0; i < a->n_pos; i++) {
        ts[i] = val_as_tensor(a->pos[i]);
        if (!ts[i]) {
            free(ts);
            return rt_error(in, "'%s' object has no attribute 'size'", value_type_name(a->pos[i]));
        }
    }
    TensorDataset *d = dataset_new(&in->eng, a->n_pos, ts);
    free(ts);
    if (!d)
        return rt_engine_error(in);
    ObjDataset *o = (ObjDataset *)obj_alloc(&in->heap, OBJ_DATASET, sizeof(ObjDataset));
    o->d = d;
    *out = val_obj(&o->h);
    return true;
}

/* dataset[i]: one row of each tensor, as a tuple (slices and lists of
 * indices index every tensor the same way, as in PyTorch). */
static bool dataset_getitem(Interp *in, Value self, Value index, Value *out)
{
    TensorDataset *d = self_dataset(self);
    if (index.kind == VAL_INT && (index.as.i < -d->length || index.as.i >= d->length))
        return rt_error(in, "index %lld is out of bounds for dimension 0 with size %lld",
                        (long long)index.as.i, (long long)d->length);
    ObjTuple *t = tuple_new(&in->heap, d->n_tensors);
    for (int j = 0; j < d->n_tensors; j++) {
        Value whole = val_tensor(in, tensor_retain(d->tensors[j]));
        bool ok = value_getitem(in, whole, index, &t->items[j]);
        value_release(whole);
        if (!ok) {
            value_release(val_obj(&t->h));
            return false;
        }
    }
    *out = val_obj(&t->h);
    return true;
}

static bool dataset_len(Interp *in, Value self, int64_t *out)
{
    (void)in;
    *out = self_dataset(self)->length;
    return true;
}

static IterStep dataset_next(Interp *in, ObjIter *it, Value *out)
{
    if (it->index >= self_dataset(it->source)->length)
        return ITER_DONE;
    if (!dataset_getitem(in, it->source, val_int(it->index), out))
        return ITER_ERROR;
    it->index++;
    return ITER_VALUE;
}

static bool dataset_iter(Interp *in, Value self, ObjIter **out)
{
    *out = iter_new(in, dataset_next, self);
    return true;
}

static bool dataset_get_property(Interp *in, Value self, const ObjStr *name, Value *out, bool *found)
{
    if (strcmp(name->data, "tensors") != 0)
        return true;
    TensorDataset *d = self_dataset(self);
    ObjTuple *t = tuple_new(&in->heap, d->n_tensors);
    for (int j = 0; j < d->n_tensors; j++)
        t->items[j] = val_tensor(in, tensor_retain(d->tensors[j]));
    *out = val_obj(&t->h);
    *found = true;
    return true;
}

static bool dataset_repr(Interp *in, Value self, StrBuf *out)
{
    (void)in;
    (void)self;
    sb_append(out, "<torch.utils.data.dataset.TensorDataset object>");
    return true;
}

/* ---- DataLoader ---- */

static const LoaderValue *self_loader(Value v)
{
    return (const LoaderValue *)v.as.obj;
}

/* DataLoader(dataset, batch_size=1, shuffle=False, sampler=None,
 * batch_sampler=None, num_workers=0, collate_fn=None, pin_memory=False,
 * drop_last=False); num_workers and pin_memory change nothing here. */
static bool data_loader_new(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"dataset", "batch_size", "shuffle", "sampler", "batch_sampler",
                                        "num_workers", "collate_fn", "pin_memory", "drop_last", NULL};
    Value v[9];
    int64_t batch_size = 1, workers = 0;
    bool shuffle = false, drop_last = false;
    if (!args_parse(in, a, "DataLoader", names, 1, v))
        return false;
    if (arg_given(v[1])) {
        if (v[1].kind == VAL_NONE)
            return rt_error(in, "DataLoader(batch_size=None) is not part of nnl");
        if (v[1].kind != VAL_INT || v[1].as.i <= 0) {
            StrBuf sb = STRBUF_INIT;
            bool ok = value_repr(in, v[1], &sb);
            if (ok)
                rt_error(in, "batch_size should be a positive integer value, but got batch_size=%s",
                         sb_str(&sb));
            sb_free(&sb);
            return false;
        }
        batch_size = v[1].as.i;
    }
    if (batch_size > INT32_MAX)
        return rt_error(in, "batch_size=%lld is too large for nnl", (long long)batch_size);
    if ((arg_given(v[2]) && v[2].kind != VAL_NONE && !value_truthy(in, v[2], &shuffle)) ||
        !nn_reject_option(in, v[3], "DataLoader(sampler=...)") ||
        !nn_reject_option(in, v[4], "DataLoader(batch_sampler=...)") ||
        (arg_given(v[5]) && !arg_int(in, v[5], "num_workers", &workers)) ||
        !nn_reject_option(in, v[6], "DataLoader(collate_fn=...)") ||
        (arg_given(v[8]) && !value_truthy(in, v[8], &drop_last)))
        return false;
    if (workers < 0)
        return rt_error(in, "num_workers option should be non-negative; use num_workers=0 to disable "
                            "multiprocessing.");
    LoaderValue *l = (LoaderValue *)obj_alloc(&in->heap, OBJ_LOADER, sizeof(LoaderValue));
    l->base.dataset = value_retain(v[0]);
    l->base.batch_size = batch_size;
    l->base.shuffle = shuffle;
    l->drop_last = drop_last;
    *out = val_obj(&l->base.h);
    return true;
}

static bool dataset_length(Interp *in, Value dataset, int64_t *out)
{
    if (val_is(dataset, OBJ_DATASET)) {
        *out = self_dataset(dataset)->length;
        return true;
    }
    if (!value_length(in, dataset, out))
        return false;
    if (*out < 0)
        return rt_error(in, "__len__() should return >= 0");
    return true;
}

static int64_t batch_count(const LoaderValue *l, int64_t n)
{
    int64_t bs = l->base.batch_size;
    return l->drop_last ? n / bs : (n + bs - 1) / bs;
}

static bool loader_len(Interp *in, Value self, int64_t *out)
{
    const LoaderValue *l = self_loader(self);
    int64_t n;
    if (!dataset_length(in, l->base.dataset, &n))
        return false;
    *out = batch_count(l, n);
    return true;
}

/* ---- collating items into a batch ---- */

static bool collate(Interp *in, const Value *items, int64_t n, bool as_tuple, int depth, Value *out);

static bool collate_tensors(Interp *in, const Value *items, int64_t n, Value *out)
{
    Tensor **ts = malloc((size_t)n * sizeof *ts);
    if (!ts)
        abort();
    for (int64_t i = 0; i < n; i++) {
        ts[i] = val_as_tensor(items[i]);
        if (!ts[i]) {
            free(ts);
            return rt_error(in, "expected Tensor as element %lld in argument 0, but got %s", (long long)i,
                            value_type_name(items[i]));
        }
    }
    Tensor *r = tensor_stack(&in->eng, (int)n, ts, 0);
    free(ts);
    if (!r)
        return rt_engine_error(in);
    *out = val_tensor(in, r);
    return true;
}

/* Python numbers: torch.tensor(batch), float32 when the first is a float. */
static bool collate_numbers(Interp *in, const Value *items, int64_t n, Value *out)
{
    ObjList *l = list_new(&in->heap, n);
    for (int64_t i = 0; i < n; i++)
        list_append(l, value_retain(items[i]));
    Tensor *t;
    bool ok = tensor_from_value(in, val_obj(&l->h), items[0].kind == VAL_FLOAT, DTYPE_FLOAT32, &t);
    value_release(val_obj(&l->h));
    if (!ok)
        return false;
    *out = val_tensor(in, t);
    return true;
}

static bool sequence_view(Value v, const Value **items, int64_t *count)
{
    if (val_is(v, OBJ_TUPLE)) {
        *items = AS_TUPLE(v)->items;
        *count = AS_TUPLE(v)->count;
        return true;
    }
    if (val_is(v, OBJ_LIST)) {
        *items = AS_LIST(v)->items;
        *count = AS_LIST(v)->count;
        return true;
    }
    return false;
}

/* Items that are tuples/lists of m fields: a list of m batches. */
static bool collate_fields(Interp *in, const Value *items, int64_t n, int depth, Value *out)
{
    const Value *first;
    int64_t m;
    sequence_view(items[0], &first, &m);
    for (int64_t i = 1; i < n; i++) {
        const Value *fields;
        int64_t count;
        if (!sequence_view(items[i], &fields, &count))
            return rt_error(in, "object of type '%s' has no len()", value_type_name(items[i]));
        if (count != m)
            return rt_error(in, "each element in list of batch should be of equal size");
    }
    Value *column = malloc((size_t)n * sizeof *column);
    if (!column)
        abort();
    ObjList *result = list_new(&in->heap, m);
    bool ok = true;
    for (int64_t j = 0; ok && j < m; j++) {
        for (int64_t i = 0; i < n; i++) {
            const Value *fields = NULL;
            int64_t count = 0;
            sequence_view(items[i], &fields, &count);
            column[i] = fields[j]; /* every item was checked to have m fields */
        }
        Value batch;
        ok = collate(in, column, n, true, depth + 1, &batch);
        if (ok)
            list_append(result, batch);
    }
    free(column);
    if (!ok) {
        value_release(val_obj(&result->h));
        return false;
    }
    *out = val_obj(&result->h);
    return true;
}

/* Strings stay as they are: the batch's tuple (inside a transposed item) or list. */
static Value collate_as_sequence(Interp *in, const Value *items, int64_t n, bool as_tuple)
{
    if (as_tuple) {
        ObjTuple *t = tuple_new(&in->heap, n);
        for (int64_t i = 0; i < n; i++)
            t->items[i] = value_retain(items[i]);
        return val_obj(&t->h);
    }
    ObjList *l = list_new(&in->heap, n);
    for (int64_t i = 0; i < n; i++)
        list_append(l, value_retain(items[i]));
    return val_obj(&l->h);
}

/* PyTorch's default_collate of n >= 1 items. */
static bool collate(Interp *in, const Value *items, int64_t n, bool as_tuple, int depth, Value *out)
{
    if (depth > COLLATE_MAX_DEPTH)
        return rt_error(in, "default_collate: dataset items nest more than %d levels deep", COLLATE_MAX_DEPTH);
    Value first = items[0];
    if (val_is(first, OBJ_TENSOR))
        return collate_tensors(in, items, n, out);
    if (val_is_number(first))
        return collate_numbers(in, items, n, out);
    if (val_is(first, OBJ_STR)) {
        *out = collate_as_sequence(in, items, n, as_tuple);
        return true;
    }
    if (val_is(first, OBJ_TUPLE) || val_is(first, OBJ_LIST))
        return collate_fields(in, items, n, depth, out);
    const char *type = first.kind == VAL_NONE ? "NoneType" : value_type_name(first);
    return rt_error(in, "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                        "found <class '%s'>", type);
}

/* ---- iterating a loader: one epoch ---- */

typedef struct Epoch {
    BatchOrder order;
    int64_t n_batches;
} Epoch;

static void epoch_free(ObjIter *it)
{
    Epoch *e = it->state;
    if (e) {
        batch_order_free(&e->order);
        free(e);
    }
    it->state = NULL;
}

/* The rows of a TensorDataset in one gather: [x_batch, y_batch, ...]. */
static bool gather_batch(Interp *in, TensorDataset *d, const int64_t *idx, int64_t count, Value *out)
{
    Tensor **parts = calloc((size_t)d->n_tensors, sizeof *parts);
    if (!parts)
        abort();
    if (!dataset_gather(&in->eng, d, idx, count, parts)) {
        free(parts);
        return rt_engine_error(in);
    }
    ObjList *l = list_new(&in->heap, d->n_tensors);
    for (int j = 0; j < d->n_tensors; j++)
        list_append(l, val_tensor(in, parts[j]));
    free(parts);
    *out = val_obj(&l->h);
    return true;
}

/* Any other dataset: dataset[i] for each index, then default_collate. */
static bool fetch_batch(Interp *in, Value dataset, const int64_t *idx, int64_t count, Value *out)
{
    Value *items = malloc((size_t)count * sizeof *items);
    if (!items)
        abort();
    int64_t got = 0;
    bool ok = true;
    for (; ok && got < count; got++) {
        ok = interp_safe_point(in) && value_getitem(in, dataset, val_int(idx[got]), &items[got]);
        if (!ok)
            break;
    }
    if (ok)
        ok = collate(in, items, count, false, 0, out);
    for (int64_t i = 0; i < got; i++)
        value_release(items[i]);
    free(items);
    return ok;
}

static IterStep loader_next(Interp *in, ObjIter *it, Value *out)
{
    Epoch *e = it->state;
    if (it->index >= e->n_batches)
        return ITER_DONE;
    int64_t count;
    const int64_t *idx = batch_order_batch(&e->order, it->index, &count);
    Value dataset = self_loader(it->source)->base.dataset;
    bool ok = val_is(dataset, OBJ_DATASET) ? gather_batch(in, self_dataset(dataset), idx, count, out)
                                           : fetch_batch(in, dataset, idx, count, out);
    if (!ok)
        return ITER_ERROR;
    it->index++;
    return ITER_VALUE;
}

static bool loader_iter(Interp *in, Value self, ObjIter **out)
{
    const LoaderValue *l = self_loader(self);
    int64_t n;
    if (!dataset_length(in, l->base.dataset, &n))
        return false;
    Epoch *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    if (n > 0) {
        if (!batch_order_init(&in->eng, &e->order, n, l->base.batch_size, l->base.shuffle)) {
            free(e);
            return rt_engine_error(in);
        }
        batch_order_new_epoch(&in->eng, &e->order);
    }
    e->n_batches = batch_count(l, n);
    ObjIter *it = iter_new(in, loader_next, self);
    it->state = e;
    it->free_state = epoch_free;
    *out = it;
    return true;
}

static bool loader_get_property(Interp *in, Value self, const ObjStr *name, Value *out, bool *found)
{
    (void)in;
    const LoaderValue *l = self_loader(self);
    if (strcmp(name->data, "dataset") == 0)
        *out = value_retain(l->base.dataset);
    else if (strcmp(name->data, "batch_size") == 0)
        *out = val_int(l->base.batch_size);
    else if (strcmp(name->data, "drop_last") == 0)
        *out = val_bool(l->drop_last);
    else
        return true;
    *found = true;
    return true;
}

static bool loader_repr(Interp *in, Value self, StrBuf *out)
{
    (void)in;
    (void)self;
    sb_append(out, "<torch.utils.data.dataloader.DataLoader object>");
    return true;
}

static const char *const DATASET_PROPERTIES[] = {"tensors", NULL};
static const char *const LOADER_PROPERTIES[] = {"dataset", "batch_size", "drop_last", NULL};

void lib_data_init(Interp *in, ObjNamespace *torch)
{
    ObjNamespace *utils = namespace_new(in, "torch.utils");
    ObjNamespace *data = namespace_new(in, "torch.utils.data");
    Value dataset_class = make_dataset_class(in);
    namespace_add_value(in, data, "Dataset", dataset_class);
    value_release(dataset_class);
    namespace_add_native(in, data, "TensorDataset", tensor_dataset_new);
    namespace_add_native(in, data, "DataLoader", data_loader_new);

    Value dv = val_obj(&data->h), uv = val_obj(&utils->h);
    namespace_add_value(in, utils, "data", dv);
    module_register(in, "torch.utils.data", dv);
    module_register(in, "torch.utils", uv);
    if (torch)
        namespace_add_value(in, torch, "utils", uv);
    value_release(dv);
    value_release(uv);

    TypeOps *ds = &in->types[OBJ_DATASET];
    ds->getitem = dataset_getitem;
    ds->len = dataset_len;
    ds->iter = dataset_iter;
    ds->get_property = dataset_get_property;
    ds->repr = dataset_repr;
    ds->property_names = DATASET_PROPERTIES;

    TypeOps *lo = &in->types[OBJ_LOADER];
    lo->len = loader_len;
    lo->iter = loader_iter;
    lo->get_property = loader_get_property;
    lo->repr = loader_repr;
    lo->property_names = LOADER_PROPERTIES;
}
