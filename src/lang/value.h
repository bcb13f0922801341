/*
 * value.h - the values of nnl programs.
 *
 * A Value is a small tagged union: None, bool, int (64-bit), float (double),
 * or a pointer to a heap object (Obj). Heap objects are reference counted.
 *
 * OWNERSHIP (language side, the same rule as the engine's)
 *   - A function that produces a Value (through an out-parameter or a return)
 *     gives the caller a NEW reference: the caller releases it with
 *     value_release().
 *   - Value arguments are BORROWED; a callee that stores one retains it.
 *   - Containers (lists, tuples, tables, instances) own their elements.
 *   Reference cycles a program makes (a list that contains itself) are not
 *   collected while the interpreter runs; every object is on its Heap's list
 *   and heap_free() releases whatever is left, so nothing outlives the session.
 */
#ifndef NNREPL_VALUE_H
#define NNREPL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"
#include "nn.h"
#include "optim.h"
#include "data.h"

typedef struct Obj Obj;

typedef enum ValKind {
    VAL_NONE, VAL_BOOL, VAL_INT, VAL_FLOAT, VAL_OBJ,
    VAL_UNSET    /* only in argument parsing: "not given"; never a program value */
} ValKind;

typedef struct Value {
    ValKind kind;
    union {
        bool b;
        int64_t i;
        double f;
        Obj *obj;
    } as;
} Value;

typedef enum ObjKind {
    OBJ_STR,
    OBJ_LIST,
    OBJ_TUPLE,       /* also torch.Size (ObjTuple.is_size) */
    OBJ_RANGE,
    OBJ_ITER,        /* iterators: over lists, ranges, zip, enumerate, loaders ... */
    OBJ_FUNCTION,    /* a def */
    OBJ_NATIVE,      /* a built-in function or method */
    OBJ_BOUND,       /* a method bound to its object */
    OBJ_CLASS,
    OBJ_INSTANCE,
    OBJ_SUPER,       /* super(...) proxy */
    OBJ_NAMESPACE,   /* a built-in module: torch, nn, np, plt ... */
    OBJ_TENSOR,
    OBJ_LAYER,       /* an engine nn layer (nn.Linear, nn.Sequential, nn.MSELoss ...) */
    OBJ_OPTIMIZER,
    OBJ_DATASET,     /* TensorDataset */
    OBJ_LOADER,      /* DataLoader */
    OBJ_DTYPE,
    OBJ_CONTEXT,     /* torch.no_grad() */
    OBJ_SLICE,       /* start:stop:step inside an index */
    OBJ_KIND_COUNT
} ObjKind;

struct Obj {
    ObjKind kind;
    int refcount;
    Obj *heap_prev, *heap_next;   /* the Heap's list of live objects */
};

/* Every object of one interpreter; freed together at the end. */
typedef struct Heap {
    Obj *first;
    size_t live;                 /* objects alive */
    SmallBlocks blocks;          /* freed objects kept for the next ones */
} Heap;

typedef struct ObjStr {
    Obj h;
    size_t len;
    uint32_t hash;
    bool interned;
    char data[];                 /* len bytes + NUL */
} ObjStr;

/* An insertion-ordered hash table keyed by interned strings (names):
 * globals, scopes, attributes, module namespaces, class bodies. */
typedef struct TableEntry {
    ObjStr *key;                 /* owned reference */
    Value value;                 /* owned reference */
} TableEntry;

typedef struct Table {
    TableEntry *entries;         /* in insertion order */
    int count, capacity;
    int *slots;                  /* open addressing: index into entries, -1 empty */
    int slot_capacity;           /* power of two */
} Table;

typedef struct ObjList {
    Obj h;
    Value *items;
    int64_t count, capacity;
} ObjList;

typedef struct ObjTuple {
    Obj h;
    bool is_size;                /* a torch.Size */
    const char *struct_name;     /* a named result ("torch.return_types.max", static
                                    string): printed by types[OBJ_TUPLE].repr; NULL
                                    for plain tuples */
    int64_t count;
    Value items[];
} ObjTuple;

typedef struct ObjRange {
    Obj h;
    int64_t start, stop, step;
} ObjRange;

typedef struct Interp Interp;

/* A native iterator: next() gives a new reference or reports exhaustion. */
typedef enum IterStep { ITER_VALUE, ITER_DONE, ITER_ERROR } IterStep;
typedef struct ObjIter ObjIter;
typedef IterStep (*IterNextFn)(Interp *in, ObjIter *it, Value *out);
struct ObjIter {
    Obj h;
    IterNextFn next;
    void (*free_state)(ObjIter *it);   /* releases what the state holds */
    Value source;                      /* what is iterated (owned) */
    Value extra;                       /* a second source (zip), owned */
    int64_t index, limit, step;
    void *state;                       /* iterator-specific, freed by free_state */
};

/* A call's arguments: positional values and keyword (name, value) pairs. */
typedef struct CallArgs {
    Value *pos;
    int n_pos;
    const char **kw_names;
    Value *kw_values;
    int n_kw;
} CallArgs;

/* A built-in: `self` is the bound object (VAL_NONE for plain functions). */
typedef bool (*NativeFn)(Interp *in, Value self, const CallArgs *args, Value *out);

typedef struct ObjNative {
    Obj h;
    const char *name;            /* static string: "torch.tensor", "append" */
    NativeFn fn;
    Value self;                  /* bound receiver or VAL_NONE (owned) */
} ObjNative;

typedef struct Scope Scope;      /* interp.h */

typedef struct ObjFunction {
    Obj h;
    const Stmt *def;             /* STMT_DEF in an AST the interpreter keeps alive */
    Source *source;              /* owned reference */
    Value *defaults;             /* one per parameter (VAL_NONE slot when none), owned */
    Scope *closure;              /* enclosing function scope, or NULL (owned) */
    ObjStr *qualname;            /* "forward" or "Model.forward" for messages */
    Table local_names;           /* every name the body assigns: local, by Python's rule */
    struct ObjClass *owner;      /* class a method belongs to (borrowed) or NULL */
} ObjFunction;

typedef struct ObjBound {
    Obj h;
    Value self;                  /* owned */
    Value func;                  /* ObjFunction (owned) */
} ObjBound;

/* What a user class derives from. */
typedef enum ClassBase { BASE_OBJECT, BASE_MODULE, BASE_DATASET } ClassBase;

typedef struct ObjClass {
    Obj h;
    ObjStr *name;
    struct ObjClass *parent;     /* a user base class (owned) or NULL */
    ClassBase base;              /* the built-in root: nn.Module, Dataset, object */
    Table attrs;                 /* methods and class attributes */
    bool native;                 /* a class of the library (a grad_fn's): printed without __main__. */
} ObjClass;

typedef struct ObjInstance {
    Obj h;
    ObjClass *cls;               /* owned */
    Table attrs;                 /* in assignment order (parameters() relies on it) */
    bool training;               /* nn.Module instances */
} ObjInstance;

typedef struct ObjSuper {
    Obj h;
    ObjClass *start;             /* look methods up after this class (borrowed via self) */
    Value self;                  /* owned */
} ObjSuper;

typedef struct ObjNamespace {
    Obj h;
    const char *name;            /* "torch", "torch.nn", "numpy" ... */
    Table attrs;
} ObjNamespace;

typedef struct ObjTensor {
    Obj h;
    Tensor *t;                   /* owned engine reference */
    bool is_numpy;               /* made by np.*: prints and iterates like an ndarray */
} ObjTensor;

typedef struct ObjLayer {
    Obj h;
    Module *m;                   /* owned engine reference */
} ObjLayer;

typedef struct ObjOptimizer {
    Obj h;
    Optimizer *o;                /* owned engine reference */
} ObjOptimizer;

typedef struct ObjDataset {
    Obj h;
    TensorDataset *d;            /* owned engine reference */
} ObjDataset;

typedef struct ObjLoader {
    Obj h;
    Value dataset;               /* ObjDataset or a user Dataset instance (owned) */
    int64_t batch_size;
    bool shuffle;
} ObjLoader;

typedef struct ObjDtype {
    Obj h;
    DType dtype;
    const char *name;            /* "torch.float32", "torch.int64" ... */
} ObjDtype;

typedef struct ObjContext {
    Obj h;
    int kind;                    /* CONTEXT_NO_GRAD */
} ObjContext;

enum { CONTEXT_NO_GRAD };

typedef struct ObjSlice {
    Obj h;
    Value start, stop, step;     /* VAL_NONE when omitted (owned) */
} ObjSlice;

/* ---- constructors of plain values ---- */

static inline Value val_none(void) { Value v; v.kind = VAL_NONE; v.as.i = 0; return v; }
static inline Value val_bool(bool b) { Value v; v.kind = VAL_BOOL; v.as.b = b; return v; }
static inline Value val_int(int64_t i) { Value v; v.kind = VAL_INT; v.as.i = i; return v; }
static inline Value val_float(double f) { Value v; v.kind = VAL_FLOAT; v.as.f = f; return v; }
static inline Value val_obj(Obj *o) { Value v; v.kind = VAL_OBJ; v.as.obj = o; return v; }

static inline bool val_is(Value v, ObjKind k) { return v.kind == VAL_OBJ && v.as.obj->kind == k; }
static inline bool val_is_number(Value v)
{
    return v.kind == VAL_INT || v.kind == VAL_FLOAT || v.kind == VAL_BOOL;
}

#define AS_STR(v) ((ObjStr *)(v).as.obj)
#define AS_LIST(v) ((ObjList *)(v).as.obj)
#define AS_TUPLE(v) ((ObjTuple *)(v).as.obj)
#define AS_TENSOR(v) ((ObjTensor *)(v).as.obj)
#define AS_INSTANCE(v) ((ObjInstance *)(v).as.obj)
#define AS_CLASS(v) ((ObjClass *)(v).as.obj)
#define AS_LAYER(v) ((ObjLayer *)(v).as.obj)

/* ---- references ---- */

static inline Value value_retain(Value v)
{
    if (v.kind == VAL_OBJ)
        v.as.obj->refcount++;
    return v;
}

void obj_free(Obj *o);

static inline void value_release(Value v)
{
    if (v.kind == VAL_OBJ && --v.as.obj->refcount == 0)
        obj_free(v.as.obj);
}

/* ---- heap ---- */

void heap_init(Heap *heap);
/* Free every object still alive (reference cycles included), and the
 * blocks kept for reuse. */
void heap_free(Heap *heap);
/* A new object of `size` bytes, refcount 1, zeroed past the header. */
Obj *obj_alloc(Heap *heap, ObjKind kind, size_t size);

/* ---- strings ---- */

ObjStr *str_new(Heap *heap, const char *s, size_t len);
Value val_str(Heap *heap, const char *s);          /* new reference */
Value val_str_n(Heap *heap, const char *s, size_t len);
uint32_t str_hash(const char *s, size_t len);
bool str_equal(const ObjStr *a, const ObjStr *b);

/* ---- lists and tuples ---- */

ObjList *list_new(Heap *heap, int64_t capacity);
/* Takes a new reference to v. */
void list_append(ObjList *l, Value v);
ObjTuple *tuple_new(Heap *heap, int64_t count);  /* items VAL_NONE, to be filled */

/* ---- tables ---- */

void table_init(Table *t);
void table_free(Table *t);
/* Borrowed value or NULL. */
Value *table_get(const Table *t, const ObjStr *key);
/* Lookup by the characters of a key (no ObjStr needed). */
Value *table_get_chars(const Table *t, const char *s, size_t len, uint32_t hash);
/* Stores a new reference to value (and to key when new). */
void table_set(Table *t, ObjStr *key, Value value);

/* ---- names of kinds, for messages: "int", "list", "Tensor" ---- */
const char *value_type_name(Value v);

#endif
