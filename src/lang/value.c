#include "value.h"

#include <stdlib.h>
#include <string.h>

#include "interp.h"

/* ---- heap ---- */

void heap_init(Heap *heap)
{
    heap->first = NULL;
    heap->live = 0;
    memset(&heap->blocks, 0, sizeof heap->blocks);
    small_blocks_enable(&heap->blocks);
}

static void *checked_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort(); /* small bookkeeping; tensor data has its own accounted path */
    return p;
}

static void *checked_realloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        abort();
    return q;
}

/* Each object is preceded by a pointer to its Heap, so an object being freed
 * can unlink itself from its heap's list without being told which heap, and
 * by its size, so that its block goes back to the heap's free lists. */
typedef struct ObjHeader {
    Heap *heap;
    size_t bytes; /* header included */
} ObjHeader;

Obj *obj_alloc(Heap *heap, ObjKind kind, size_t size)
{
    size_t bytes = sizeof(ObjHeader) + size;
    ObjHeader *hdr = small_blocks_alloc(&heap->blocks, bytes);
    if (!hdr)
        abort(); /* small bookkeeping; tensor data has its own accounted path */
    Obj *o = (Obj *)(hdr + 1);
    hdr->heap = heap;
    hdr->bytes = bytes;
    o->kind = kind;
    o->refcount = 1;
    o->heap_prev = NULL;
    o->heap_next = heap->first;
    if (heap->first)
        heap->first->heap_prev = o;
    heap->first = o;
    heap->live++;
    return o;
}

static void obj_unlink_and_free(Obj *o)
{
    ObjHeader *hdr = (ObjHeader *)o - 1;
    Heap *heap = hdr->heap;
    if (o->heap_prev)
        o->heap_prev->heap_next = o->heap_next;
    else
        heap->first = o->heap_next;
    if (o->heap_next)
        o->heap_next->heap_prev = o->heap_prev;
    heap->live--;
    small_blocks_free(&heap->blocks, hdr, hdr->bytes);
}

/* Objects whose count reached zero, freed without recursion (a list nested a
 * million deep must not overflow the C stack). */
typedef struct FreeList {
    Obj **items;
    size_t n, cap;
    Obj *first_items[32]; /* most frees need no more: no malloc for them */
} FreeList;

static void free_list_init(FreeList *fl)
{
    fl->items = fl->first_items;
    fl->n = 0;
    fl->cap = sizeof fl->first_items / sizeof fl->first_items[0];
}

static void free_list_done(FreeList *fl)
{
    if (fl->items != fl->first_items)
        free(fl->items);
}

static void drop(FreeList *fl, Value v)
{
    if (v.kind != VAL_OBJ || --v.as.obj->refcount > 0)
        return;
    if (fl->n == fl->cap) {
        Obj **items = checked_realloc(fl->items == fl->first_items ? NULL : fl->items,
                                      2 * fl->cap * sizeof *items);
        if (fl->items == fl->first_items)
            memcpy(items, fl->first_items, sizeof fl->first_items);
        fl->items = items;
        fl->cap *= 2;
    }
    fl->items[fl->n++] = v.as.obj;
}

static void drop_obj(FreeList *fl, Obj *o)
{
    if (o)
        drop(fl, val_obj(o));
}

static void table_drop(FreeList *fl, Table *t)
{
    for (int i = 0; i < t->count; i++) {
        drop_obj(fl, &t->entries[i].key->h);
        drop(fl, t->entries[i].value);
    }
    free(t->entries);
    free(t->slots);
    table_init(t);
}

/* Release what `o` holds (children go on the free list) — not o itself. */
static void obj_drop_contents(FreeList *fl, Obj *o)
{
    switch (o->kind) {
    case OBJ_STR:
    case OBJ_RANGE:
    case OBJ_DTYPE:
    case OBJ_CONTEXT:
        break;
    case OBJ_LIST: {
        ObjList *l = (ObjList *)o;
        for (int64_t i = 0; i < l->count; i++)
            drop(fl, l->items[i]);
        free(l->items);
        l->items = NULL;
        l->count = 0;
        break;
    }
    case OBJ_TUPLE: {
        ObjTuple *t = (ObjTuple *)o;
        for (int64_t i = 0; i < t->count; i++)
            drop(fl, t->items[i]);
        t->count = 0;
        break;
    }
    case OBJ_ITER: {
        ObjIter *it = (ObjIter *)o;
        if (it->free_state)
            it->free_state(it);
        it->free_state = NULL;
        drop(fl, it->source);
        drop(fl, it->extra);
        it->source = it->extra = val_none();
        break;
    }
    case OBJ_FUNCTION: {
        ObjFunction *f = (ObjFunction *)o;
        if (f->defaults) {
            for (int i = 0; i < f->def->u.def.n_params; i++)
                drop(fl, f->defaults[i]);
            free(f->defaults);
            f->defaults = NULL;
        }
        source_release(f->source);
        f->source = NULL;
        scope_release(f->closure);
        f->closure = NULL;
        drop_obj(fl, f->qualname ? &f->qualname->h : NULL);
        f->qualname = NULL;
        table_drop(fl, &f->local_names);
        break;
    }
    case OBJ_NATIVE:
        drop(fl, ((ObjNative *)o)->self);
        ((ObjNative *)o)->self = val_none();
        break;
    case OBJ_BOUND:
        drop(fl, ((ObjBound *)o)->self);
        drop(fl, ((ObjBound *)o)->func);
        ((ObjBound *)o)->self = ((ObjBound *)o)->func = val_none();
        break;
    case OBJ_CLASS: {
        ObjClass *c = (ObjClass *)o;
        drop_obj(fl, c->name ? &c->name->h : NULL);
        drop_obj(fl, c->parent ? &c->parent->h : NULL);
        c->name = NULL;
        c->parent = NULL;
        table_drop(fl, &c->attrs);
        break;
    }
    case OBJ_INSTANCE: {
        ObjInstance *inst = (ObjInstance *)o;
        drop_obj(fl, inst->cls ? &inst->cls->h : NULL);
        inst->cls = NULL;
        table_drop(fl, &inst->attrs);
        break;
    }
    case OBJ_SUPER:
        drop(fl, ((ObjSuper *)o)->self);
        ((ObjSuper *)o)->self = val_none();
        break;
    case OBJ_NAMESPACE:
        table_drop(fl, &((ObjNamespace *)o)->attrs);
        break;
    case OBJ_TENSOR:
        tensor_release(((ObjTensor *)o)->t);
        ((ObjTensor *)o)->t = NULL;
        break;
    case OBJ_LAYER:
        module_release(((ObjLayer *)o)->m);
        ((ObjLayer *)o)->m = NULL;
        break;
    case OBJ_OPTIMIZER:
        optim_release(((ObjOptimizer *)o)->o);
        ((ObjOptimizer *)o)->o = NULL;
        break;
    case OBJ_DATASET:
        dataset_release(((ObjDataset *)o)->d);
        ((ObjDataset *)o)->d = NULL;
        break;
    case OBJ_LOADER:
        drop(fl, ((ObjLoader *)o)->dataset);
        ((ObjLoader *)o)->dataset = val_none();
        break;
    case OBJ_SLICE:
        drop(fl, ((ObjSlice *)o)->start);
        drop(fl, ((ObjSlice *)o)->stop);
        drop(fl, ((ObjSlice *)o)->step);
        ((ObjSlice *)o)->start = ((ObjSlice *)o)->stop = ((ObjSlice *)o)->step = val_none();
        break;
    case OBJ_KIND_COUNT:
        break;
    }
}

void obj_free(Obj *o)
{
    FreeList fl;
    free_list_init(&fl);
    fl.items[fl.n++] = o;
    while (fl.n > 0) {
        Obj *next = fl.items[--fl.n];
        obj_drop_contents(&fl, next);
        obj_unlink_and_free(next);
    }
    free_list_done(&fl);
}

void heap_free(Heap *heap)
{
    /* What is left is held only by cycles (or by nothing at all after the
     * interpreter dropped its roots). Empty every object first without
     * freeing any, then free them all. */
    FreeList fl;
    free_list_init(&fl);
    for (Obj *o = heap->first; o; o = o->heap_next) {
        o->refcount = 1 << 30; /* children dropped below must not be freed yet */
        obj_drop_contents(&fl, o);
    }
    free_list_done(&fl);
    while (heap->first)
        obj_unlink_and_free(heap->first);
    small_blocks_drain(&heap->blocks);
}

/* ---- strings ---- */

uint32_t str_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

ObjStr *str_new(Heap *heap, const char *s, size_t len)
{
    ObjStr *str = (ObjStr *)obj_alloc(heap, OBJ_STR, sizeof(ObjStr) + len + 1);
    str->len = len;
    memcpy(str->data, s, len);
    str->data[len] = '\0';
    str->hash = str_hash(s, len);
    return str;
}

Value val_str_n(Heap *heap, const char *s, size_t len)
{
    return val_obj(&str_new(heap, s, len)->h);
}

Value val_str(Heap *heap, const char *s)
{
    return val_str_n(heap, s, strlen(s));
}

bool str_equal(const ObjStr *a, const ObjStr *b)
{
    return a == b || (a->len == b->len && a->hash == b->hash && memcmp(a->data, b->data, a->len) == 0);
}

/* ---- lists and tuples ---- */

ObjList *list_new(Heap *heap, int64_t capacity)
{
    ObjList *l = (ObjList *)obj_alloc(heap, OBJ_LIST, sizeof(ObjList));
    if (capacity > 0) {
        l->items = checked_calloc((size_t)capacity, sizeof(Value));
        l->capacity = capacity;
    }
    return l;
}

void list_append(ObjList *l, Value v)
{
    if (l->count == l->capacity) {
        l->capacity = l->capacity ? l->capacity * 2 : 4;
        l->items = checked_realloc(l->items, (size_t)l->capacity * sizeof(Value));
    }
    l->items[l->count++] = v;
}

ObjTuple *tuple_new(Heap *heap, int64_t count)
{
    ObjTuple *t = (ObjTuple *)obj_alloc(heap, OBJ_TUPLE, sizeof(ObjTuple) + (size_t)count * sizeof(Value));
    t->count = count;
    for (int64_t i = 0; i < count; i++)
        t->items[i] = val_none();
    return t;
}

/* ---- tables ---- */

void table_init(Table *t)
{
    memset(t, 0, sizeof *t);
}

void table_free(Table *t)
{
    for (int i = 0; i < t->count; i++) {
        value_release(val_obj(&t->entries[i].key->h));
        value_release(t->entries[i].value);
    }
    free(t->entries);
    free(t->slots);
    table_init(t);
}

static bool key_matches(const ObjStr *k, const char *s, size_t len, uint32_t hash)
{
    return k->len == len && k->hash == hash && memcmp(k->data, s, len) == 0;
}

static int find_slot_chars(const Table *t, const char *s, size_t len, uint32_t hash)
{
    int mask = t->slot_capacity - 1;
    int i = (int)(hash & (uint32_t)mask);
    for (;;) {
        int e = t->slots[i];
        if (e < 0 || key_matches(t->entries[e].key, s, len, hash))
            return i;
        i = (i + 1) & mask;
    }
}

static int table_find_slot(const Table *t, const ObjStr *key)
{
    return find_slot_chars(t, key->data, key->len, key->hash);
}

Value *table_get_chars(const Table *t, const char *s, size_t len, uint32_t hash)
{
    if (t->count == 0)
        return NULL;
    if (t->count <= 8) {
        for (int i = 0; i < t->count; i++)
            if (key_matches(t->entries[i].key, s, len, hash))
                return &t->entries[i].value;
        return NULL;
    }
    int e = t->slots[find_slot_chars(t, s, len, hash)];
    return e < 0 ? NULL : &t->entries[e].value;
}

Value *table_get(const Table *t, const ObjStr *key)
{
    if (t->count == 0)
        return NULL;
    /* tiny tables: a scan is faster than hashing */
    if (t->count <= 8) {
        for (int i = 0; i < t->count; i++)
            if (t->entries[i].key == key || str_equal(t->entries[i].key, key))
                return &t->entries[i].value;
        return NULL;
    }
    int e = t->slots[table_find_slot(t, key)];
    return e < 0 ? NULL : &t->entries[e].value;
}

static void table_rehash(Table *t, int slot_capacity)
{
    free(t->slots);
    t->slots = checked_calloc((size_t)slot_capacity, sizeof(int));
    t->slot_capacity = slot_capacity;
    for (int i = 0; i < slot_capacity; i++)
        t->slots[i] = -1;
    for (int e = 0; e < t->count; e++)
        t->slots[table_find_slot(t, t->entries[e].key)] = e;
}

void table_set(Table *t, ObjStr *key, Value value)
{
    Value *existing = table_get(t, key);
    if (existing) {
        Value old = *existing;
        *existing = value_retain(value);
        value_release(old);
        return;
    }
    if (t->count == t->capacity) {
        t->capacity = t->capacity ? t->capacity * 2 : 8;
        t->entries = checked_realloc(t->entries, (size_t)t->capacity * sizeof(TableEntry));
    }
    key->h.refcount++;
    t->entries[t->count].key = key;
    t->entries[t->count].value = value_retain(value);
    t->count++;
    if (t->count * 2 > t->slot_capacity)
        table_rehash(t, t->slot_capacity ? t->slot_capacity * 2 : 16);
    else
        t->slots[table_find_slot(t, key)] = t->count - 1;
}

/* ---- type names ---- */

const char *value_type_name(Value v)
{
    switch (v.kind) {
    case VAL_NONE:
        return "NoneType";
    case VAL_BOOL:
        return "bool";
    case VAL_INT:
        return "int";
    case VAL_FLOAT:
        return "float";
    case VAL_OBJ:
    case VAL_UNSET:
        break;
    }
    switch (v.as.obj->kind) {
    case OBJ_STR: return "str";
    case OBJ_LIST: return "list";
    case OBJ_TUPLE: return ((ObjTuple *)v.as.obj)->is_size ? "torch.Size" : "tuple";
    case OBJ_RANGE: return "range";
    case OBJ_ITER: return "iterator";
    case OBJ_FUNCTION: return "function";
    case OBJ_NATIVE: return "builtin_function_or_method";
    case OBJ_BOUND: return "method";
    case OBJ_CLASS: return "type";
    case OBJ_INSTANCE: return ((ObjInstance *)v.as.obj)->cls->name->data;
    case OBJ_SUPER: return "super";
    case OBJ_NAMESPACE: return "module";
    case OBJ_TENSOR: return ((ObjTensor *)v.as.obj)->is_numpy ? "numpy.ndarray" : "Tensor";
    case OBJ_LAYER: return module_kind_name(((ObjLayer *)v.as.obj)->m->kind);
    case OBJ_OPTIMIZER: return ((ObjOptimizer *)v.as.obj)->o->kind == OPTIM_SGD ? "SGD" : "Adam";
    case OBJ_DATASET: return "TensorDataset";
    case OBJ_LOADER: return "DataLoader";
    case OBJ_DTYPE: return "torch.dtype";
    case OBJ_CONTEXT: return "no_grad";
    case OBJ_SLICE: return "slice";
    case OBJ_KIND_COUNT: break;
    }
    return "object";
}
