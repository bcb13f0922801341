/*
 * interp.c - the interpreter's life cycle, running programs, and the helpers
 * the built-in library uses (names, namespaces, argument parsing, tensor
 * conversion, events).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval_internal.h"
#include "pyformat.h"

/* ---- scopes ---- */

Scope *scope_new(Scope *parent)
{
    Scope *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->refcount = 1;
    table_init(&s->vars);
    s->parent = parent;
    if (parent)
        parent->refcount++;
    return s;
}

void scope_release(Scope *s)
{
    while (s && --s->refcount == 0) {
        Scope *parent = s->parent;
        table_free(&s->vars);
        free(s);
        s = parent;
    }
}

/* ---- life cycle ---- */

/* Freed tensor memory kept for reuse (engine_enable_buffer_cache): enough
 * for the working set of one training step of the course's CNNs. */
#define INTERP_BUFFER_CACHE_BYTES ((size_t)32 * 1024 * 1024)

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

Interp *interp_new(const InterpOptions *opt, Frontend fe)
{
    Interp *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    engine_init(&in->eng);
    rng_seed(&in->eng.rng, opt->seed);
    if (opt->max_bytes)
        engine_set_max_bytes(&in->eng, opt->max_bytes);
    engine_enable_buffer_cache(&in->eng, INTERP_BUFFER_CACHE_BYTES);
    heap_init(&in->heap);
    in->fe = fe;
    in->opt = *opt;
    if (in->opt.max_recursion <= 0)
        in->opt.max_recursion = INTERP_DEFAULT_MAX_RECURSION;
    if (in->opt.max_nesting <= 0)
        in->opt.max_nesting = INTERP_DEFAULT_MAX_NESTING;
    diag_init(&in->diag);
    table_init(&in->interned);
    table_init(&in->globals);
    table_init(&in->builtins);
    table_init(&in->modules);
    for (int k = 0; k < OBJ_KIND_COUNT; k++)
        table_init(&in->types[k].methods);
    in->watched = val_none();
    in->last_model = val_none();
    in->return_value = val_none();
    in->depth = 1;
    in->frames[0].name = "<module>";
    lib_builtins_init(in);
    lib_torch_init(in);
    lib_nn_init(in);
    lib_extra_init(in);
    table_set(&in->globals, intern(in, "__name__"), val_obj(&str_new(&in->heap, "__main__", 8)->h));
    /* the value just stored holds the only reference */
    value_release(*table_get(&in->globals, intern(in, "__name__")));
    return in;
}

void interp_free(Interp *in)
{
    if (!in)
        return;
    value_release(in->watched);
    value_release(in->last_model);
    value_release(in->return_value);
    table_free(&in->globals);
    table_free(&in->builtins);
    table_free(&in->modules);
    for (int k = 0; k < OBJ_KIND_COUNT; k++)
        table_free(&in->types[k].methods);
    /* Interned names are still referenced from syntax trees and from any
     * objects left in cycles: the heap frees them all at once, then the
     * table's own arrays go. */
    heap_free(&in->heap);
    free(in->interned.entries);
    free(in->interned.slots);
    for (int i = 0; i < in->n_programs; i++) {
        ast_program_free(in->programs[i]);
        free(in->programs[i]);
    }
    free(in->programs);
    for (int i = 0; i < in->n_param_names; i++)
        free(in->param_names[i].name);
    free(in->param_names);
    plot_state_clear(&in->plot);
    source_release(in->frames[0].source);
    diag_clear(&in->diag);
    engine_release_buffers(&in->eng);
    free(in);
}

/* ---- running ---- */

static void keep_program(Interp *in, Program *p)
{
    if (in->n_programs == in->cap_programs) {
        in->cap_programs = in->cap_programs ? in->cap_programs * 2 : 8;
        in->programs = realloc(in->programs, (size_t)in->cap_programs * sizeof *in->programs);
        if (!in->programs)
            abort();
    }
    in->programs[in->n_programs++] = p;
}

static void emit_error(Interp *in)
{
    Event ev = {.kind = EVENT_ERROR, .diag = &in->diag};
    interp_emit(in, &ev);
}

/* Parse src; the program is kept for the interpreter's lifetime. */
static RunResult parse_source(Interp *in, Source *src, bool allow_incomplete, Program **out)
{
    diag_clear(&in->diag);
    Program *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    ParseLimits limits = {in->opt.max_nesting};
    ParseResult r = parse_program(src, &limits, p, &in->diag);
    if (!r.ok) {
        free(p);
        if (r.incomplete && allow_incomplete) {
            diag_clear(&in->diag);
            return RUN_INCOMPLETE;
        }
        emit_error(in);
        return RUN_ERROR;
    }
    keep_program(in, p);
    *out = p;
    return RUN_OK;
}

static void start_limits(Interp *in)
{
    in->deadline = in->opt.timeout_seconds > 0 ? monotonic_now() + in->opt.timeout_seconds : 0;
}

static void release_pending_return(Interp *in)
{
    value_release(in->return_value);
    in->return_value = val_none();
}

Program *interp_parse(Interp *in, Source *src)
{
    Program *p;
    return parse_source(in, src, false, &p) == RUN_OK ? p : NULL;
}

/* Run a block at module level with fresh limits. */
static RunResult run_top_level(Interp *in, Source *src, const Block *body)
{
    Frame *f = &in->frames[0];
    source_release(f->source);
    f->source = source_retain(src);
    f->scope = NULL;
    f->function = NULL;
    in->depth = 1;
    in->in_class_body = false;
    in->eng.grad_enabled = true;
    in->call_source = src;
    diag_clear(&in->diag);
    start_limits(in);
    ExecStatus st = exec_block(in, body);
    release_pending_return(in);
    in->depth = 1;
    in->eng.grad_enabled = true;
    if (st == EXEC_ERROR) {
        emit_error(in);
        return RUN_ERROR;
    }
    return RUN_OK;
}

RunResult interp_run(Interp *in, Source *src, bool allow_incomplete)
{
    Program *p;
    RunResult r = parse_source(in, src, allow_incomplete, &p);
    if (r != RUN_OK)
        return r;
    return run_top_level(in, src, &p->body);
}

RunResult interp_run_statement(Interp *in, Source *src, const Stmt *s)
{
    Stmt *one[1] = {(Stmt *)s};
    Block b = {one, 1};
    return run_top_level(in, src, &b);
}

RunResult interp_run_paused(Interp *in, Source *src)
{
    Program *p;
    RunResult r = parse_source(in, src, true, &p);
    if (r != RUN_OK)
        return r;
    Frame *f = current_frame(in);
    Source *saved_source = f->source;
    Source *saved_call_source = in->call_source;
    SrcPos saved_pos = in->call_pos;
    int saved_line = in->current_line;
    bool saved_echo = in->opt.echo_expressions;
    int saved_depth = in->depth;
    f->source = src;
    /* echo values as at the top level, whatever frame we are paused in */
    in->opt.echo_expressions = true;
    Frame saved_top = in->frames[0];
    bool nested = in->depth > 1;
    if (nested) {
        /* make the paused frame look like the top level for echoing */
        in->frames[0] = *f;
        in->depth = 1;
    }
    ExecStatus st = exec_block(in, &p->body);
    if (nested) {
        *f = in->frames[0];
        in->frames[0] = saved_top;
    }
    in->depth = saved_depth;
    release_pending_return(in);
    f->source = saved_source;
    in->call_source = saved_call_source;
    in->call_pos = saved_pos;
    in->current_line = saved_line;
    in->opt.echo_expressions = saved_echo;
    if (st == EXEC_ERROR) {
        emit_error(in);
        return RUN_ERROR;
    }
    return RUN_OK;
}

bool interp_eval_expression(Interp *in, const char *text, Value *out)
{
    Source *src = source_new("<answer>", text, strlen(text), 1);
    Program *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    Diag parse_diag;
    diag_init(&parse_diag);
    ParseLimits limits = {in->opt.max_nesting};
    ParseResult r = parse_program(src, &limits, p, &parse_diag);
    diag_clear(&parse_diag);
    if (!r.ok || p->body.n != 1 || p->body.stmts[0]->kind != STMT_EXPR) {
        if (r.ok)
            ast_program_free(p);
        free(p);
        source_release(src);
        *out = val_str(&in->heap, text);
        return true;
    }
    keep_program(in, p);
    /* evaluate in the running frame, with positions in the answer's text */
    Frame *f = current_frame(in);
    Source *saved_source = f->source;
    Source *saved_call_source = in->call_source;
    SrcPos saved_pos = in->call_pos;
    f->source = src;
    bool ok = eval_expr(in, p->body.stmts[0]->u.expr, out);
    f->source = saved_source;
    in->call_source = saved_call_source;
    in->call_pos = saved_pos;
    source_release(src);
    return ok;
}

/* ---- events ---- */

void interp_emit(Interp *in, Event *ev)
{
    if (!ev->line)
        ev->line = in->current_line;
    if (in->fe.on_event)
        in->fe.on_event(in->fe.ctx, ev);
}

void interp_print(Interp *in, const char *text, size_t len)
{
    Event ev = {.kind = EVENT_PRINT, .text = text, .text_len = len};
    interp_emit(in, &ev);
}

void interp_name_param(Interp *in, const Tensor *t, const char *name)
{
    for (int i = 0; i < in->n_param_names; i++)
        if (in->param_names[i].tensor == t) {
            if (strcmp(in->param_names[i].name, name) != 0) {
                free(in->param_names[i].name);
                in->param_names[i].name = strdup(name);
            }
            return;
        }
    if (in->n_param_names == in->cap_param_names) {
        in->cap_param_names = in->cap_param_names ? in->cap_param_names * 2 : 16;
        in->param_names = realloc(in->param_names, (size_t)in->cap_param_names * sizeof *in->param_names);
        if (!in->param_names)
            abort();
    }
    in->param_names[in->n_param_names].tensor = t;
    in->param_names[in->n_param_names].name = strdup(name);
    in->n_param_names++;
}

const char *interp_param_name(Interp *in, const Tensor *t)
{
    for (int i = 0; i < in->n_param_names; i++)
        if (in->param_names[i].tensor == t)
            return in->param_names[i].name;
    return NULL;
}

/* ---- names and objects ---- */

ObjStr *intern(Interp *in, const char *name)
{
    size_t len = strlen(name);
    uint32_t hash = str_hash(name, len);
    Value *v = table_get_chars(&in->interned, name, len, hash);
    if (v)
        return AS_STR(*v);
    ObjStr *s = str_new(&in->heap, name, len);
    s->interned = true;
    table_set(&in->interned, s, val_obj(&s->h));
    value_release(val_obj(&s->h)); /* the table holds it (as key and value) */
    return s;
}

ObjNamespace *namespace_new(Interp *in, const char *name)
{
    ObjNamespace *ns = (ObjNamespace *)obj_alloc(&in->heap, OBJ_NAMESPACE, sizeof(ObjNamespace));
    ns->name = name;
    table_init(&ns->attrs);
    return ns;
}

Value native_new(Interp *in, const char *name, NativeFn fn, Value self)
{
    ObjNative *n = (ObjNative *)obj_alloc(&in->heap, OBJ_NATIVE, sizeof(ObjNative));
    n->name = name;
    n->fn = fn;
    n->self = value_retain(self);
    return val_obj(&n->h);
}

void namespace_add_value(Interp *in, ObjNamespace *ns, const char *name, Value v)
{
    table_set(&ns->attrs, intern(in, name), v);
}

void namespace_add_native(Interp *in, ObjNamespace *ns, const char *name, NativeFn fn)
{
    Value f = native_new(in, name, fn, val_none());
    namespace_add_value(in, ns, name, f);
    value_release(f);
}

void type_add_method(Interp *in, int slot, const char *name, NativeFn fn)
{
    Value f = native_new(in, name, fn, val_none());
    table_set(&in->types[slot].methods, intern(in, name), f);
    value_release(f);
}

void builtins_add_native(Interp *in, const char *name, NativeFn fn)
{
    Value f = native_new(in, name, fn, val_none());
    table_set(&in->builtins, intern(in, name), f);
    value_release(f);
}

void module_register(Interp *in, const char *dotted_name, Value module)
{
    table_set(&in->modules, intern(in, dotted_name), module);
}

Value val_tensor(Interp *in, Tensor *t)
{
    ObjTensor *o = (ObjTensor *)obj_alloc(&in->heap, OBJ_TENSOR, sizeof(ObjTensor));
    o->t = t;
    return val_obj(&o->h);
}

Value val_numpy(Interp *in, Tensor *t)
{
    Value v = val_tensor(in, t);
    AS_TENSOR(v)->is_numpy = true;
    return v;
}

/* ---- arguments ---- */

bool args_parse(Interp *in, const CallArgs *a, const char *fname, const char *const *names,
                int n_required, Value *out)
{
    int n = 0;
    while (names[n])
        n++;
    for (int i = 0; i < n; i++)
        out[i].kind = VAL_UNSET;
    if (a->n_pos > n)
        return rt_error(in, "%s() takes %s%d positional argument%s but %d %s given", fname,
                        n_required < n ? "at most " : "", n, n == 1 ? "" : "s", a->n_pos,
                        a->n_pos == 1 ? "was" : "were");
    for (int i = 0; i < a->n_pos; i++)
        out[i] = a->pos[i];
    for (int k = 0; k < a->n_kw; k++) {
        int i = 0;
        while (i < n && strcmp(names[i], a->kw_names[k]) != 0)
            i++;
        if (i == n)
            return rt_error(in, "%s() got an unexpected keyword argument '%s'", fname, a->kw_names[k]);
        if (out[i].kind != VAL_UNSET)
            return rt_error(in, "%s() got multiple values for argument '%s'", fname, a->kw_names[k]);
        out[i] = a->kw_values[k];
    }
    for (int i = 0; i < n_required; i++)
        if (out[i].kind == VAL_UNSET)
            return rt_error(in, "%s() missing required argument: '%s'", fname, names[i]);
    return true;
}

bool arg_int(Interp *in, Value v, const char *what, int64_t *out)
{
    if (v.kind == VAL_INT) {
        *out = v.as.i;
        return true;
    }
    if (v.kind == VAL_BOOL) {
        *out = v.as.b;
        return true;
    }
    Tensor *t = val_as_tensor(v);
    if (t && tensor_numel(t) == 1 && dtype_is_integral(t->dtype)) {
        *out = (int64_t)tensor_get_flat(t, 0);
        return true;
    }
    return rt_error(in, "%s must be an int, not %s", what, value_type_name(v));
}

bool arg_double(Interp *in, Value v, const char *what, double *out)
{
    switch (v.kind) {
    case VAL_INT:
        *out = (double)v.as.i;
        return true;
    case VAL_FLOAT:
        *out = v.as.f;
        return true;
    case VAL_BOOL:
        *out = v.as.b;
        return true;
    default:
        break;
    }
    Tensor *t = val_as_tensor(v);
    if (t && tensor_numel(t) == 1) {
        *out = tensor_get_flat(t, 0);
        return true;
    }
    return rt_error(in, "%s must be a number, not %s", what, value_type_name(v));
}

bool arg_bool(Interp *in, Value v, const char *what, bool *out)
{
    if (v.kind == VAL_BOOL) {
        *out = v.as.b;
        return true;
    }
    if (v.kind == VAL_INT) {
        *out = v.as.i != 0;
        return true;
    }
    return rt_error(in, "%s must be True or False, not %s", what, value_type_name(v));
}

bool arg_str(Interp *in, Value v, const char *what, const char **out)
{
    if (val_is(v, OBJ_STR)) {
        *out = AS_STR(v)->data;
        return true;
    }
    return rt_error(in, "%s must be a string, not %s", what, value_type_name(v));
}

bool arg_tensor(Interp *in, Value v, const char *what, Tensor **out)
{
    Tensor *t = val_as_tensor(v);
    if (t) {
        *out = tensor_retain(t);
        return true;
    }
    if (val_is_number(v)) {
        DType d = v.kind == VAL_FLOAT ? DTYPE_FLOAT32 : v.kind == VAL_INT ? DTYPE_INT64 : DTYPE_BOOL;
        double x = v.kind == VAL_FLOAT ? v.as.f : v.kind == VAL_INT ? (double)v.as.i : v.as.b;
        if (d == DTYPE_INT64 && fabs(x) > TENSOR_MAX_EXACT_INT)
            d = DTYPE_FLOAT32; /* a huge Python int behaves as a float scalar */
        *out = tensor_scalar(&in->eng, d, x);
        if (!*out)
            return rt_engine_error(in);
        (*out)->is_wrapped_number = true;
        return true;
    }
    if (val_is(v, OBJ_LIST) || val_is(v, OBJ_TUPLE))
        return tensor_from_value(in, v, false, DTYPE_FLOAT32, out);
    return rt_error(in, "%s must be a tensor or a number, not %s", what, value_type_name(v));
}

bool arg_shape(Interp *in, const Value *vals, int n, const char *what, int *ndim, int64_t *shape)
{
    if (n == 1 && (val_is(vals[0], OBJ_TUPLE) || val_is(vals[0], OBJ_LIST))) {
        const Value *items;
        int64_t count;
        if (val_is(vals[0], OBJ_TUPLE)) {
            items = AS_TUPLE(vals[0])->items;
            count = AS_TUPLE(vals[0])->count;
        } else {
            items = AS_LIST(vals[0])->items;
            count = AS_LIST(vals[0])->count;
        }
        return arg_shape(in, items, (int)(count > TENSOR_MAX_DIMS + 1 ? TENSOR_MAX_DIMS + 1 : count),
                         what, ndim, shape);
    }
    if (n > TENSOR_MAX_DIMS)
        return rt_error(in, "%s: tensors have at most %d dimensions (got %d)", what, TENSOR_MAX_DIMS, n);
    for (int i = 0; i < n; i++) {
        if (vals[i].kind != VAL_INT && !(val_as_tensor(vals[i]) && tensor_numel(val_as_tensor(vals[i])) == 1))
            return rt_error(in, "%s: a size must be an int, not %s", what, value_type_name(vals[i]));
        if (!arg_int(in, vals[i], what, &shape[i]))
            return false;
    }
    *ndim = n;
    return true;
}

/* A NumPy element as Python sees it: np.float32 values read back as their
 * shortest float32 decimal (0.1, not 0.10000000149011612); int64 and bool
 * as int and bool. */
Value numpy_element_value(const Tensor *t)
{
    float x = tensor_get_flat(t, 0);
    if (t->dtype == DTYPE_BOOL)
        return val_bool(x != 0.0f);
    if (t->dtype == DTYPE_INT64)
        return val_int((int64_t)x);
    StrBuf sb = STRBUF_INIT;
    numpy_format_float32_scalar(&sb, x);
    double d = strtod(sb_str(&sb), NULL);
    sb_free(&sb);
    return val_float(d);
}

/* ---- nested lists -> tensors (torch.tensor, np.array) ---- */

typedef struct NestedShape {
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    int leaf_depth;                /* where the numbers are; -1 until one is seen */
    bool any_float, any_int, any_bool;
} NestedShape;

static bool sequence_items(Value v, const Value **items, int64_t *count)
{
    if (val_is(v, OBJ_LIST)) {
        *items = AS_LIST(v)->items;
        *count = AS_LIST(v)->count;
        return true;
    }
    if (val_is(v, OBJ_TUPLE)) {
        *items = AS_TUPLE(v)->items;
        *count = AS_TUPLE(v)->count;
        return true;
    }
    return false;
}

/* Find the shape of nested lists (and tensors inside them) and the kinds of
 * numbers; every sub-list at a depth must have the same length. */
/* Every number must sit at the same depth: [1, [2]] is not a tensor. */
static bool nested_leaf_at(Interp *in, int depth, NestedShape *ns)
{
    if (ns->leaf_depth < 0)
        ns->leaf_depth = depth;
    if (ns->leaf_depth != depth)
        return rt_error(in, "expected a sequence of the same depth at every position "
                            "(found numbers at depth %d and %d)", ns->leaf_depth, depth);
    return true;
}

static bool nested_shape(Interp *in, Value v, int depth, NestedShape *ns)
{
    const Value *items;
    int64_t count;
    Tensor *t = val_as_tensor(v);
    if (t) {
        if (!nested_leaf_at(in, depth + t->ndim, ns))
            return false;
        if (depth + t->ndim > TENSOR_MAX_DIMS)
            return rt_error(in, "tensors have at most %d dimensions", TENSOR_MAX_DIMS);
        for (int i = 0; i < t->ndim; i++) {
            if (depth + i < ns->ndim && ns->shape[depth + i] != t->shape[i])
                return rt_error(in, "expected sequence of length %lld at dim %d (got %lld)",
                                (long long)ns->shape[depth + i], depth + i, (long long)t->shape[i]);
            if (depth + i >= ns->ndim)
                ns->shape[ns->ndim++] = t->shape[i];
        }
        ns->any_float |= t->dtype == DTYPE_FLOAT32;
        ns->any_int |= t->dtype == DTYPE_INT64;
        ns->any_bool |= t->dtype == DTYPE_BOOL;
        return true;
    }
    if (sequence_items(v, &items, &count)) {
        if (depth >= TENSOR_MAX_DIMS)
            return rt_error(in, "tensors have at most %d dimensions", TENSOR_MAX_DIMS);
        if (depth < ns->ndim) {
            if (ns->shape[depth] != count)
                return rt_error(in, "expected sequence of length %lld at dim %d (got %lld)",
                                (long long)ns->shape[depth], depth, (long long)count);
        } else if (depth == ns->ndim) {
            ns->shape[ns->ndim++] = count;
        } else {
            return rt_error(in, "expected a number at dim %d, found a list", depth);
        }
        for (int64_t i = 0; i < count; i++)
            if (!nested_shape(in, items[i], depth + 1, ns))
                return false;
        return true;
    }
    if (!val_is_number(v))
        return rt_error(in, "could not convert %s to a tensor element (numbers and lists of numbers only)",
                        value_type_name(v));
    if (!nested_leaf_at(in, depth, ns))
        return false;
    if (depth < ns->ndim)
        return rt_error(in, "expected a sequence at dim %d, found a number", depth);
    ns->any_float |= v.kind == VAL_FLOAT;
    ns->any_int |= v.kind == VAL_INT;
    ns->any_bool |= v.kind == VAL_BOOL;
    return true;
}

static void nested_fill(Value v, double *out, int64_t *k)
{
    const Value *items;
    int64_t count;
    Tensor *t = val_as_tensor(v);
    if (t) {
        for (int64_t i = 0; i < tensor_numel(t); i++)
            out[(*k)++] = tensor_get_flat(t, i);
    } else if (sequence_items(v, &items, &count)) {
        for (int64_t i = 0; i < count; i++)
            nested_fill(items[i], out, k);
    } else {
        out[(*k)++] = v.kind == VAL_FLOAT ? v.as.f : v.kind == VAL_INT ? (double)v.as.i : v.as.b;
    }
}

bool tensor_from_value(Interp *in, Value v, bool has_dtype, DType dtype, Tensor **out)
{
    NestedShape ns = {0};
    ns.leaf_depth = -1;
    if (!nested_shape(in, v, 0, &ns))
        return false;
    int64_t n = shape_numel(ns.ndim, ns.shape);
    if (n > (int64_t)(in->eng.max_bytes / sizeof(double)))
        return rt_error(in, "tensor too large: %lld elements", (long long)n);
    double *values = malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!values)
        return rt_error(in, "out of memory building a tensor");
    int64_t k = 0;
    nested_fill(v, values, &k);
    if (!has_dtype)
        dtype = ns.any_float ? DTYPE_FLOAT32 : ns.any_int ? DTYPE_INT64 : ns.any_bool ? DTYPE_BOOL
                                                                                      : DTYPE_FLOAT32;
    *out = tensor_from_doubles(&in->eng, dtype, ns.ndim, ns.shape, values, n);
    free(values);
    return *out ? true : rt_engine_error(in);
}
