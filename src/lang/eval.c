/*
 * eval.c - the tree-walking evaluator: statements, expressions, calls,
 * names, attributes and assignment.
 *
 * Every eval function returns false (or EXEC_ERROR) after filling in->diag;
 * callers release what they hold and pass the failure up (diag.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval_internal.h"
#include "pyformat.h"

/* ---- frames and errors ---- */

Frame *current_frame(Interp *in)
{
    return &in->frames[in->depth - 1];
}

void set_call_site(Interp *in, SrcPos pos)
{
    in->call_source = current_frame(in)->source;
    in->call_pos = pos;
}

static void vset_error(Interp *in, DiagKind kind, Source *src, SrcPos pos, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    diag_set(&in->diag, kind, src, pos.line, pos.col, "%s", msg);
}

bool rt_error_at(Interp *in, SrcPos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_error(in, DIAG_RUNTIME, current_frame(in)->source, pos, fmt, ap);
    va_end(ap);
    return false;
}

bool rt_error(Interp *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_error(in, DIAG_RUNTIME, in->call_source ? in->call_source : current_frame(in)->source,
               in->call_pos, fmt, ap);
    va_end(ap);
    return false;
}

static DiagKind engine_error_kind(const Interp *in)
{
    const char *msg = engine_error(&in->eng);
    return strstr(msg, "memory limit") || strstr(msg, "too large") ? DIAG_LIMIT : DIAG_RUNTIME;
}

bool rt_engine_error_at(Interp *in, SrcPos pos)
{
    diag_set(&in->diag, engine_error_kind(in), current_frame(in)->source, pos.line, pos.col, "%s",
             engine_error(&in->eng));
    return false;
}

bool rt_engine_error(Interp *in)
{
    diag_set(&in->diag, engine_error_kind(in),
             in->call_source ? in->call_source : current_frame(in)->source, in->call_pos.line,
             in->call_pos.col, "%s", engine_error(&in->eng));
    return false;
}

/* ---- names ---- */

static ObjStr *expr_name(Interp *in, const Expr *e)
{
    /* Interned once per node: lookups then compare pointers. */
    if (!e->sym)
        ((Expr *)e)->sym = intern(in, e->kind == EXPR_NAME ? e->u.name : e->u.attr.name);
    return (ObjStr *)e->sym;
}

static bool lookup_name(Interp *in, const Expr *e, Value *out)
{
    ObjStr *name = expr_name(in, e);
    Frame *f = current_frame(in);
    for (Scope *s = f->scope; s; s = s->parent) {
        Value *v = table_get(&s->vars, name);
        if (v) {
            *out = value_retain(*v);
            return true;
        }
    }
    if (f->function && table_get(&f->function->local_names, name))
        return rt_error_at(in, e->pos,
                           "cannot access local variable '%s' where it is not associated with a value",
                           name->data);
    Value *v = table_get(&in->globals, name);
    if (!v)
        v = table_get(&in->builtins, name);
    if (!v)
        return rt_error_at(in, e->pos, "name '%s' is not defined", name->data);
    *out = value_retain(*v);
    return true;
}

static void store_name(Interp *in, ObjStr *name, Value v)
{
    Frame *f = current_frame(in);
    table_set(f->scope ? &f->scope->vars : &in->globals, name, v);
}

/* ---- limits ---- */

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool interp_safe_point(Interp *in)
{
    if (in->interrupt && *in->interrupt) {
        *in->interrupt = 0;
        diag_set(&in->diag, DIAG_INTERRUPT, current_frame(in)->source, in->current_pos.line,
                 in->current_pos.col, "interrupted (Ctrl-C): the program stopped here; "
                 "its variables are kept");
        return false;
    }
    /* With a time limit the clock is read at every safe point (a vDSO call
     * of some 20 ns): one iteration may be slow (a big matmul). */
    bool tick = (++in->safe_points & 1023) == 0;
    if (in->deadline > 0 || tick) {
        double now = monotonic_seconds();
        if (in->deadline > 0 && now > in->deadline) {
            diag_set(&in->diag, DIAG_LIMIT, current_frame(in)->source, in->current_pos.line,
                     in->current_pos.col, "time limit of %g s exceeded (--timeout)",
                     in->opt.timeout_seconds);
            return false;
        }
    }
    if (tick) {
        Event ev = {.kind = EVENT_TICK};
        interp_emit(in, &ev);
    }
    return true;
}

/* ---- calls ---- */

typedef struct ArgBuffer {
    Value pos_small[8];
    const char *kw_names_small[8];
    Value kw_small[8];
    CallArgs args;
} ArgBuffer;

static void args_release(ArgBuffer *b)
{
    for (int i = 0; i < b->args.n_pos; i++)
        value_release(b->args.pos[i]);
    for (int i = 0; i < b->args.n_kw; i++)
        value_release(b->args.kw_values[i]);
    if (b->args.pos != b->pos_small)
        free(b->args.pos);
    if (b->args.kw_values != b->kw_small) {
        free(b->args.kw_values);
        free((void *)b->args.kw_names);
    }
}

static bool eval_call_args(Interp *in, const Expr *call, ArgBuffer *b)
{
    int np = call->u.call.n_args, nk = call->u.call.n_kwargs;
    b->args.pos = np <= 8 ? b->pos_small : malloc((size_t)np * sizeof(Value));
    b->args.kw_values = nk <= 8 ? b->kw_small : malloc((size_t)nk * sizeof(Value));
    b->args.kw_names = nk <= 8 ? b->kw_names_small : malloc((size_t)nk * sizeof(char *));
    if (!b->args.pos || !b->args.kw_values || !b->args.kw_names)
        abort();
    b->args.n_pos = 0;
    b->args.n_kw = 0;
    for (int i = 0; i < np; i++) {
        if (!eval_expr(in, call->u.call.args[i], &b->args.pos[i]))
            return false;
        b->args.n_pos++;
    }
    for (int i = 0; i < nk; i++) {
        for (int j = 0; j < i; j++)
            if (strcmp(call->u.call.kwargs[j].name, call->u.call.kwargs[i].name) == 0)
                return rt_error_at(in, call->u.call.kwargs[i].pos, "keyword argument repeated: %s",
                                   call->u.call.kwargs[i].name);
        if (!eval_expr(in, call->u.call.kwargs[i].value, &b->args.kw_values[i]))
            return false;
        b->args.kw_names[i] = call->u.call.kwargs[i].name;
        b->args.n_kw++;
    }
    return true;
}

/* Bind arguments to a def's parameters in a new scope. */
static bool bind_parameters(Interp *in, const ObjFunction *fn, Value self, const CallArgs *a,
                            Scope *scope)
{
    const Stmt *def = fn->def;
    int np = def->u.def.n_params;
    const char *fname = fn->qualname->data;
    int given = a->n_pos + (self.kind != VAL_UNSET ? 1 : 0);
    if (given > np) {
        int shown_np = np - (self.kind != VAL_UNSET ? 1 : 0);
        int shown_given = a->n_pos;
        return rt_error(in, "%s() takes %d positional argument%s but %d %s given", fname,
                        shown_np, shown_np == 1 ? "" : "s", shown_given,
                        shown_given == 1 ? "was" : "were");
    }
    Value *slots = calloc((size_t)(np ? np : 1), sizeof(Value));
    if (!slots)
        abort();
    for (int i = 0; i < np; i++)
        slots[i].kind = VAL_UNSET;
    int k = 0;
    if (self.kind != VAL_UNSET)
        slots[k++] = self;
    for (int i = 0; i < a->n_pos; i++)
        slots[k++] = a->pos[i];
    bool ok = true;
    for (int i = 0; i < a->n_kw && ok; i++) {
        int p = 0;
        while (p < np && strcmp(def->u.def.params[p].name, a->kw_names[i]) != 0)
            p++;
        if (p == np)
            ok = rt_error(in, "%s() got an unexpected keyword argument '%s'", fname, a->kw_names[i]);
        else if (slots[p].kind != VAL_UNSET)
            ok = rt_error(in, "%s() got multiple values for argument '%s'", fname, a->kw_names[i]);
        else
            slots[p] = a->kw_values[i];
    }
    for (int p = 0; p < np && ok; p++) {
        if (slots[p].kind == VAL_UNSET) {
            if (def->u.def.params[p].default_value) {
                slots[p] = fn->defaults[p];
            } else {
                int missing = 0;
                for (int q = p; q < np; q++)
                    missing += slots[q].kind == VAL_UNSET && !def->u.def.params[q].default_value;
                ok = rt_error(in, "%s() missing %d required positional argument%s: '%s'", fname,
                              missing, missing == 1 ? "" : "s", def->u.def.params[p].name);
                break;
            }
        }
        table_set(&scope->vars, intern(in, def->u.def.params[p].name), slots[p]);
    }
    free(slots);
    return ok;
}

static bool push_frame(Interp *in, const ObjFunction *fn, Scope *scope)
{
    if (in->depth >= in->opt.max_recursion + 1 || in->depth >= INTERP_MAX_FRAMES) {
        diag_set(&in->diag, DIAG_LIMIT, in->call_source, in->call_pos.line, in->call_pos.col,
                 "maximum recursion depth exceeded (nnl allows %d nested calls)",
                 in->opt.max_recursion);
        return false;
    }
    Frame *f = &in->frames[in->depth++];
    f->function = fn;
    f->scope = scope;
    f->source = fn->source;
    f->name = fn->qualname->data;
    return true;
}

/* After a failed call: record the callee and the call site in the chain. */
static void add_call_frames(Interp *in, const char *callee, Source *caller_src, SrcPos call_pos,
                            const char *caller)
{
    Diag *d = &in->diag;
    if (d->kind == DIAG_SYNTAX)
        return;
    if (d->n_frames == 0 && d->frames_omitted == 0)
        diag_push_frame(d, d->source, d->line, d->col, callee);
    diag_push_frame(d, caller_src, call_pos.line, call_pos.col, caller);
}

/* Call a def (self is VAL_UNSET for plain functions). */
static bool call_function(Interp *in, const ObjFunction *fn, Value self, const CallArgs *a, Value *out)
{
    if (!interp_safe_point(in))
        return false;
    Source *caller_src = in->call_source;
    SrcPos call_pos = in->call_pos;
    const char *caller = current_frame(in)->name;
    Scope *scope = scope_new(fn->closure);
    if (!bind_parameters(in, fn, self, a, scope) || !push_frame(in, fn, scope)) {
        scope_release(scope);
        return false;
    }
    ExecStatus st = exec_block(in, &fn->def->u.def.body);
    in->depth--;
    scope_release(scope);
    in->call_source = caller_src;
    in->call_pos = call_pos;
    if (st == EXEC_ERROR) {
        add_call_frames(in, fn->qualname->data, caller_src, call_pos, caller);
        return false;
    }
    if (st == EXEC_RETURN) {
        *out = in->return_value;
        in->return_value = val_none();
    } else {
        *out = val_none();
    }
    return true;
}

static bool instantiate(Interp *in, ObjClass *cls, const CallArgs *a, Value *out)
{
    ObjInstance *inst = (ObjInstance *)obj_alloc(&in->heap, OBJ_INSTANCE, sizeof(ObjInstance));
    inst->cls = cls;
    cls->h.refcount++;
    table_init(&inst->attrs);
    inst->training = true;
    Value self = val_obj(&inst->h);
    Value init;
    if (class_lookup(cls, intern(in, "__init__"), &init)) {
        Value result;
        bool ok = val_is(init, OBJ_FUNCTION)
                      ? call_function(in, (ObjFunction *)init.as.obj, self, a, &result)
                  : val_is(init, OBJ_NATIVE) ? ((ObjNative *)init.as.obj)->fn(in, self, a, &result)
                                             : call_value(in, init, a, &result);
        value_release(init);
        if (!ok) {
            value_release(self);
            return false;
        }
        if (result.kind != VAL_NONE) {
            value_release(result);
            value_release(self);
            return rt_error(in, "__init__() should return None, not '%s'", value_type_name(result));
        }
    } else if (a->n_pos || a->n_kw) {
        value_release(self);
        return rt_error(in, "%s() takes no arguments", cls->name->data);
    }
    if (cls->base == BASE_MODULE && !in->in_class_body) {
        value_release(in->last_model);
        in->last_model = value_retain(self);
    }
    *out = self;
    return true;
}

bool call_value(Interp *in, Value callee, const CallArgs *a, Value *out)
{
    if (callee.kind != VAL_OBJ)
        return rt_error(in, "'%s' object is not callable", value_type_name(callee));
    Obj *o = callee.as.obj;
    switch (o->kind) {
    case OBJ_NATIVE: {
        ObjNative *n = (ObjNative *)o;
        return n->fn(in, n->self, a, out);
    }
    case OBJ_FUNCTION: {
        Value unset = {.kind = VAL_UNSET};
        return call_function(in, (ObjFunction *)o, unset, a, out);
    }
    case OBJ_BOUND: {
        ObjBound *b = (ObjBound *)o;
        if (val_is(b->func, OBJ_FUNCTION))
            return call_function(in, (ObjFunction *)b->func.as.obj, b->self, a, out);
        return call_value(in, b->func, a, out);
    }
    case OBJ_CLASS:
        return instantiate(in, (ObjClass *)o, a, out);
    case OBJ_INSTANCE: {
        ObjInstance *inst = (ObjInstance *)o;
        Value fwd;
        if (inst->cls->base == BASE_MODULE && class_lookup(inst->cls, intern(in, "forward"), &fwd)) {
            bool ok = val_is(fwd, OBJ_FUNCTION)
                          ? call_function(in, (ObjFunction *)fwd.as.obj, callee, a, out)
                          : rt_error(in, "forward must be a method");
            value_release(fwd);
            return ok;
        }
        if (inst->cls->base == BASE_MODULE)
            return rt_error(in, "%s has no forward() method to call", inst->cls->name->data);
        return rt_error(in, "'%s' object is not callable", inst->cls->name->data);
    }
    default:
        break;
    }
    /* built-in callable objects (layers, ...) register a "__call__" method */
    Value *m = table_get(&in->types[o->kind].methods, intern(in, "__call__"));
    if (m && val_is(*m, OBJ_NATIVE))
        return ((ObjNative *)m->as.obj)->fn(in, callee, a, out);
    return rt_error(in, "'%s' object is not callable", value_type_name(callee));
}

/* ---- attributes ---- */

static Value bind_method(Interp *in, Value self, Value func)
{
    if (val_is(func, OBJ_FUNCTION)) {
        ObjBound *b = (ObjBound *)obj_alloc(&in->heap, OBJ_BOUND, sizeof(ObjBound));
        b->self = value_retain(self);
        b->func = value_retain(func);
        return val_obj(&b->h);
    }
    if (val_is(func, OBJ_NATIVE))
        return native_new(in, ((ObjNative *)func.as.obj)->name, ((ObjNative *)func.as.obj)->fn, self);
    return value_retain(func);
}

/* The method table of a value's type (NULL for types without one). */
static TypeOps *type_ops(Interp *in, Value v)
{
    return v.kind == VAL_OBJ ? &in->types[v.as.obj->kind] : NULL;
}

bool get_attribute(Interp *in, Value obj, ObjStr *name, Value *out)
{
    if (obj.kind == VAL_OBJ) {
        Obj *o = obj.as.obj;
        switch (o->kind) {
        case OBJ_INSTANCE: {
            ObjInstance *inst = (ObjInstance *)o;
            Value *v = table_get(&inst->attrs, name);
            if (v) {
                *out = value_retain(*v);
                return true;
            }
            Value m;
            if (class_lookup(inst->cls, name, &m)) {
                *out = bind_method(in, obj, m);
                value_release(m);
                return true;
            }
            break;
        }
        case OBJ_CLASS: {
            Value m;
            if (class_lookup((ObjClass *)o, name, &m)) {
                *out = m;
                return true;
            }
            if (strcmp(name->data, "__name__") == 0) {
                *out = value_retain(val_obj(&((ObjClass *)o)->name->h));
                return true;
            }
            return rt_error(in, "type object '%s' has no attribute '%s'", ((ObjClass *)o)->name->data,
                            name->data);
        }
        case OBJ_NAMESPACE: {
            ObjNamespace *ns = (ObjNamespace *)o;
            Value *v = table_get(&ns->attrs, name);
            if (v) {
                *out = value_retain(*v);
                return true;
            }
            return rt_error(in, "module '%s' has no attribute '%s' (not part of nnl)", ns->name,
                            name->data);
        }
        case OBJ_SUPER: {
            ObjSuper *sp = (ObjSuper *)o;
            Value m;
            if (sp->start && class_lookup(sp->start, name, &m)) {
                *out = bind_method(in, sp->self, m);
                value_release(m);
                return true;
            }
            break;
        }
        default:
            break;
        }
        TypeOps *ops = type_ops(in, obj);
        if (ops->get_property) {
            bool found = false;
            if (!ops->get_property(in, obj, name, out, &found))
                return false;
            if (found)
                return true;
        }
        Value *m = table_get(&ops->methods, name);
        if (m) {
            *out = bind_method(in, obj, *m);
            return true;
        }
    }
    return rt_error(in, "'%s' object has no attribute '%s'", value_type_name(obj), name->data);
}

static bool set_attribute(Interp *in, Value obj, ObjStr *name, Value v)
{
    if (val_is(obj, OBJ_INSTANCE)) {
        table_set(&AS_INSTANCE(obj)->attrs, name, v);
        return true;
    }
    if (val_is(obj, OBJ_CLASS)) {
        table_set(&AS_CLASS(obj)->attrs, name, v);
        return true;
    }
    if (val_is(obj, OBJ_NAMESPACE))
        return rt_error(in, "cannot change attribute '%s' of module '%s'", name->data,
                        ((ObjNamespace *)obj.as.obj)->name);
    TypeOps *ops = type_ops(in, obj);
    if (ops && ops->set_property) {
        bool found = false;
        if (!ops->set_property(in, obj, name, v, &found))
            return false;
        if (found)
            return true;
    }
    return rt_error(in, "cannot set attribute '%s' of a '%s' object", name->data, value_type_name(obj));
}

/* The dotted source text of a target such as `model.linear.weight`, for
 * naming parameters in step events; "" when it is not a plain path. */
static void expr_path(const Expr *e, StrBuf *out)
{
    if (e->kind == EXPR_NAME) {
        sb_append(out, e->u.name);
    } else if (e->kind == EXPR_ATTR) {
        expr_path(e->u.attr.object, out);
        sb_append_char(out, '.');
        sb_append(out, e->u.attr.name);
    } else if (e->kind == EXPR_INDEX && e->u.index.index->kind == EXPR_INT) {
        expr_path(e->u.index.object, out);
        sb_printf(out, "[%lld]", (long long)e->u.index.index->u.int_value);
    }
}

/* A manual update of a parameter (`w.data = ...`, `w -= ...` under no_grad):
 * report it as a step with its before/after values. */
static void emit_manual_step(Interp *in, const Expr *target, const Tensor *param, Tensor *before)
{
    StrBuf name = STRBUF_INIT;
    expr_path(target, &name);
    const char *known = interp_param_name(in, param);
    StepParam sp = {known ? known : sb_str(&name), before, param->grad, param};
    in->step_count++;
    Event ev = {.kind = EVENT_STEP, .params = &sp, .n_params = 1, .value = NAN,
                .step_count = in->step_count};
    interp_emit(in, &ev);
    sb_free(&name);
}

/* ---- assignment ---- */

static bool assign_to(Interp *in, const Expr *target, Value v);

static bool assign_unpack(Interp *in, const Expr *target, Value v)
{
    int n = target->u.seq.n;
    Value *items = calloc((size_t)(n ? n : 1), sizeof(Value));
    if (!items)
        abort();
    ObjIter *it = NULL;
    bool ok = value_iter(in, v, &it);
    int got = 0;
    while (ok) {
        Value x;
        IterStep st = iter_next(in, it, &x);
        if (st == ITER_ERROR) {
            ok = false;
            break;
        }
        if (st == ITER_DONE)
            break;
        if (got == n) {
            value_release(x);
            ok = rt_error_at(in, target->pos, "too many values to unpack (expected %d)", n);
            break;
        }
        items[got++] = x;
    }
    if (ok && got < n)
        ok = rt_error_at(in, target->pos, "not enough values to unpack (expected %d, got %d)", n, got);
    for (int i = 0; i < n && ok; i++)
        ok = assign_to(in, target->u.seq.items[i], items[i]);
    for (int i = 0; i < got; i++)
        value_release(items[i]);
    free(items);
    if (it)
        value_release(val_obj(&it->h));
    return ok;
}

/* `x.data = v` on a parameter is a step the panes show. */
static bool assign_tensor_data(Interp *in, const Expr *target, Value obj, Value v)
{
    Tensor *t = val_as_tensor(obj);
    Tensor *before = NULL;
    if (t->requires_grad && tensor_is_leaf(t))
        before = tensor_copy_data(&in->eng, t);
    bool ok = set_attribute(in, obj, expr_name(in, target), v);
    if (ok && before)
        emit_manual_step(in, target->u.attr.object, t, before);
    tensor_release(before);
    return ok;
}

static bool assign_to(Interp *in, const Expr *target, Value v)
{
    switch (target->kind) {
    case EXPR_NAME:
        store_name(in, expr_name(in, target), v);
        return true;
    case EXPR_ATTR: {
        Value obj;
        if (!eval_expr(in, target->u.attr.object, &obj))
            return false;
        set_call_site(in, target->u.attr.name_pos);
        bool ok;
        if (val_is(obj, OBJ_TENSOR) && strcmp(target->u.attr.name, "data") == 0)
            ok = assign_tensor_data(in, target, obj, v);
        else
            ok = set_attribute(in, obj, expr_name(in, target), v);
        value_release(obj);
        return ok;
    }
    case EXPR_INDEX: {
        Value obj;
        if (!eval_expr(in, target->u.index.object, &obj))
            return false;
        Value index;
        bool ok = eval_expr(in, target->u.index.index, &index);
        if (ok) {
            set_call_site(in, target->pos);
            ok = setitem(in, obj, index, v, target->pos);
            value_release(index);
        }
        value_release(obj);
        return ok;
    }
    case EXPR_TUPLE:
    case EXPR_LIST:
        return assign_unpack(in, target, v);
    default:
        return rt_error_at(in, target->pos, "cannot assign to this expression");
    }
}

/* Two operands, left to right; on an error neither is held. */
static bool eval_operands(Interp *in, const Expr *first, const Expr *second, Value *a, Value *b)
{
    if (!eval_expr(in, first, a))
        return false;
    if (!eval_expr(in, second, b)) {
        value_release(*a);
        return false;
    }
    return true;
}

/* target op= value. Tensors are updated in place as in PyTorch (so that a
 * parameter stays the same object); other values are rebound. */
static bool exec_augassign(Interp *in, const Stmt *s)
{
    const Expr *target = s->u.augassign.target;
    Value cur, rhs, result;
    if (!eval_operands(in, target, s->u.augassign.value, &cur, &rhs))
        return false;
    Tensor *t = val_as_tensor(cur);
    bool ok;
    if (t && t->requires_grad && tensor_is_leaf(t) && in->eng.grad_enabled) {
        ok = rt_error_at(in, s->u.augassign.op_pos,
                         "a leaf tensor that requires grad is being used in an in-place operation "
                         "(update parameters inside `with torch.no_grad():`)");
    } else if (t && tensor_is_leaf(t)) {
        Tensor *before = t->requires_grad ? tensor_copy_data(&in->eng, t) : NULL;
        ok = binary_op(in, s->u.augassign.op, cur, rhs, s->u.augassign.op_pos, &result);
        if (ok) {
            Tensor *r = val_as_tensor(result);
            if (r && dtype_is_integral(t->dtype) && r->dtype == DTYPE_FLOAT32)
                ok = rt_error_at(in, s->u.augassign.op_pos,
                                 "result type Float can't be cast to the desired output type %s",
                                 t->dtype == DTYPE_BOOL ? "Bool" : "Long");
            else if (r && !tensor_copy_(&in->eng, t, r))
                ok = rt_engine_error_at(in, s->u.augassign.op_pos);
            else if (!r)
                ok = assign_to(in, target, result);
            value_release(result);
        }
        if (ok && before)
            emit_manual_step(in, target, t, before);
        tensor_release(before);
    } else if (val_is(cur, OBJ_LIST) && s->u.augassign.op == BIN_ADD) {
        /* list += iterable extends in place */
        ObjIter *it = NULL;   /* stays NULL when rhs is not iterable */
        set_call_site(in, s->u.augassign.op_pos);
        ok = value_iter(in, rhs, &it);
        while (ok) {
            Value x;
            IterStep st = iter_next(in, it, &x);
            if (st != ITER_VALUE) {
                ok = st == ITER_DONE;
                break;
            }
            list_append(AS_LIST(cur), x);
        }
        if (it)
            value_release(val_obj(&it->h));
    } else {
        ok = binary_op(in, s->u.augassign.op, cur, rhs, s->u.augassign.op_pos, &result);
        if (ok) {
            ok = assign_to(in, target, result);
            value_release(result);
        }
    }
    value_release(cur);
    value_release(rhs);
    return ok;
}

/* ---- expressions ---- */

static bool eval_fstring(Interp *in, const Expr *e, Value *out)
{
    StrBuf sb = STRBUF_INIT;
    for (int i = 0; i < e->u.fstring.n_parts; i++) {
        const FStringPart *p = &e->u.fstring.parts[i];
        if (!p->is_field) {
            sb_append_n(&sb, p->literal.data, p->literal.len);
            continue;
        }
        Value v;
        if (!eval_expr(in, p->expr, &v)) {
            sb_free(&sb);
            return false;
        }
        if (p->self_doc)
            sb_append(&sb, p->self_doc);
        set_call_site(in, p->expr->pos);
        bool ok;
        char conversion = p->conversion;
        if (p->self_doc && !conversion && !p->spec[0])
            conversion = 'r';
        if (conversion == 'r' || conversion == 's') {
            StrBuf tmp = STRBUF_INIT;
            ok = conversion == 'r' ? value_repr(in, v, &tmp) : value_str(in, v, &tmp);
            if (ok) {
                Value s = val_str_n(&in->heap, sb_str(&tmp), tmp.len);
                ok = value_format(in, s, p->spec, &sb);
                value_release(s);
            }
            sb_free(&tmp);
        } else {
            ok = value_format(in, v, p->spec, &sb);
        }
        value_release(v);
        if (!ok) {
            sb_free(&sb);
            return false;
        }
    }
    *out = val_str_n(&in->heap, sb_str(&sb), sb.len);
    sb_free(&sb);
    return true;
}

static bool eval_sequence(Interp *in, const Expr *e, Value *out)
{
    int n = e->u.seq.n;
    if (e->kind == EXPR_LIST) {
        ObjList *l = list_new(&in->heap, n);
        Value lv = val_obj(&l->h);
        for (int i = 0; i < n; i++) {
            Value v;
            if (!eval_expr(in, e->u.seq.items[i], &v)) {
                value_release(lv);
                return false;
            }
            list_append(l, v);
        }
        *out = lv;
        return true;
    }
    ObjTuple *t = tuple_new(&in->heap, n);
    Value tv = val_obj(&t->h);
    for (int i = 0; i < n; i++) {
        if (!eval_expr(in, e->u.seq.items[i], &t->items[i])) {
            value_release(tv);
            return false;
        }
    }
    *out = tv;
    return true;
}

/* The truth of a test's value: of if, elif, while, a conditional
 * expression or a comprehension's if. */
static bool eval_condition(Interp *in, const Expr *test, bool *truth)
{
    Value v;
    if (!eval_expr(in, test, &v))
        return false;
    bool ok = value_truthy(in, v, truth);
    value_release(v);
    return ok;
}

/* [elt for target in iter if cond ...]: the loop variables live in a scope
 * of their own, as in Python 3. */
static bool comprehension_loop(Interp *in, const Expr *e, int level, ObjList *result)
{
    if (level == e->u.comp.n_fors) {
        Value v;
        if (!eval_expr(in, e->u.comp.elt, &v))
            return false;
        list_append(result, v);
        return true;
    }
    const CompFor *cf = &e->u.comp.fors[level];
    Value seq;
    if (!eval_expr(in, cf->iter, &seq))
        return false;
    ObjIter *it = NULL;   /* stays NULL when seq is not iterable */
    set_call_site(in, cf->iter->pos);
    bool ok = value_iter(in, seq, &it);
    value_release(seq);
    while (ok) {
        Value x;
        IterStep st = iter_next(in, it, &x);
        if (st != ITER_VALUE) {
            ok = st == ITER_DONE;
            break;
        }
        ok = assign_to(in, cf->target, x) && interp_safe_point(in);
        value_release(x);
        bool keep = true;
        for (int i = 0; i < cf->n_ifs && ok && keep; i++)
            ok = eval_condition(in, cf->ifs[i], &keep);
        if (ok && keep)
            ok = comprehension_loop(in, e, level + 1, result);
    }
    if (it)
        value_release(val_obj(&it->h));
    return ok;
}

static bool eval_listcomp(Interp *in, const Expr *e, Value *out)
{
    Frame *f = current_frame(in);
    Scope *saved = f->scope;
    Scope *scope = scope_new(saved);
    f->scope = scope;
    ObjList *l = list_new(&in->heap, 0);
    bool ok = comprehension_loop(in, e, 0, l);
    f->scope = saved;
    scope_release(scope);
    if (!ok) {
        value_release(val_obj(&l->h));
        return false;
    }
    *out = val_obj(&l->h);
    return true;
}

/* Call with the method-call fast path: obj.name(args) looks the method up
 * without making a bound-method object. */
static bool eval_call(Interp *in, const Expr *e, Value *out)
{
    const Expr *fe = e->u.call.func;
    Value callee = val_none(), self = {.kind = VAL_UNSET};
    NativeFn native = NULL;
    SrcPos where = e->pos;
    if (fe->kind == EXPR_ATTR) {
        Value obj;
        if (!eval_expr(in, fe->u.attr.object, &obj))
            return false;
        where = fe->u.attr.name_pos;
        set_call_site(in, where);
        TypeOps *ops = type_ops(in, obj);
        Value *m = ops && obj.as.obj->kind != OBJ_INSTANCE && obj.as.obj->kind != OBJ_NAMESPACE &&
                           obj.as.obj->kind != OBJ_CLASS
                       ? table_get(&ops->methods, expr_name(in, fe))
                       : NULL;
        if (m && val_is(*m, OBJ_NATIVE)) {
            native = ((ObjNative *)m->as.obj)->fn;
            self = obj;
        } else {
            bool ok = get_attribute(in, obj, expr_name(in, fe), &callee);
            value_release(obj);
            if (!ok)
                return false;
        }
    } else if (!eval_expr(in, fe, &callee)) {
        return false;
    }
    ArgBuffer b;
    bool ok = eval_call_args(in, e, &b);
    if (ok) {
        set_call_site(in, where);
        in->current_line = where.line;
        ok = native ? native(in, self, &b.args, out) : call_value(in, callee, &b.args, out);
    }
    args_release(&b);
    if (native)
        value_release(self);
    else
        value_release(callee);
    return ok;
}

static bool eval_compare(Interp *in, const Expr *e, Value *out)
{
    Value left;
    if (!eval_expr(in, e->u.compare.left, &left))
        return false;
    for (int i = 0; i < e->u.compare.n; i++) {
        Value right, r;
        if (!eval_expr(in, e->u.compare.comparators[i], &right)) {
            value_release(left);
            return false;
        }
        set_call_site(in, e->u.compare.op_pos[i]);
        bool ok = compare_op(in, e->u.compare.ops[i], left, right, e->u.compare.op_pos[i], &r);
        value_release(left);
        if (!ok) {
            value_release(right);
            return false;
        }
        if (i == e->u.compare.n - 1) {
            value_release(right);
            *out = r;
            return true;
        }
        bool truth;
        ok = value_truthy(in, r, &truth);
        if (!ok || !truth) {
            value_release(right);
            if (!ok) {
                value_release(r);
                return false;
            }
            *out = r;
            return true;
        }
        value_release(r);
        left = right;
    }
    *out = left; /* unreachable: a comparison has at least one operator */
    return true;
}

static bool eval_logic(Interp *in, const Expr *e, Value *out)
{
    Value left;
    if (!eval_expr(in, e->u.logic.left, &left))
        return false;
    bool truth;
    if (!value_truthy(in, left, &truth)) {
        value_release(left);
        return false;
    }
    bool short_circuit = e->kind == EXPR_AND ? !truth : truth;
    if (short_circuit) {
        *out = left;
        return true;
    }
    value_release(left);
    return eval_expr(in, e->u.logic.right, out);
}

static bool eval_index(Interp *in, const Expr *e, Value *out)
{
    Value obj, index;
    if (!eval_operands(in, e->u.index.object, e->u.index.index, &obj, &index))
        return false;
    set_call_site(in, e->pos);
    bool ok = value_getitem(in, obj, index, out);
    value_release(obj);
    value_release(index);
    return ok;
}

/* start:stop:step inside an index */
static bool eval_slice(Interp *in, const Expr *e, Value *out)
{
    const Expr *parts[3] = {e->u.slice.start, e->u.slice.stop, e->u.slice.step};
    ObjSlice *sl = (ObjSlice *)obj_alloc(&in->heap, OBJ_SLICE, sizeof(ObjSlice));
    Value *fields[3] = {&sl->start, &sl->stop, &sl->step};
    Value sv = val_obj(&sl->h);
    for (int i = 0; i < 3; i++) {
        *fields[i] = val_none();
        if (parts[i] && !eval_expr(in, parts[i], fields[i])) {
            *fields[i] = val_none();
            value_release(sv);
            return false;
        }
    }
    *out = sv;
    return true;
}

bool eval_expr(Interp *in, const Expr *e, Value *out)
{
    switch (e->kind) {
    case EXPR_INT:
        *out = val_int(e->u.int_value);
        return true;
    case EXPR_FLOAT:
        *out = val_float(e->u.float_value);
        return true;
    case EXPR_BOOL:
        *out = val_bool(e->u.bool_value);
        return true;
    case EXPR_NONE:
        *out = val_none();
        return true;
    case EXPR_STR:
        if (!e->sym)
            ((Expr *)e)->sym = str_new(&in->heap, e->u.str.data, e->u.str.len);
        *out = value_retain(val_obj((Obj *)e->sym));
        return true;
    case EXPR_FSTRING:
        return eval_fstring(in, e, out);
    case EXPR_NAME:
        return lookup_name(in, e, out);
    case EXPR_ATTR: {
        Value obj;
        if (!eval_expr(in, e->u.attr.object, &obj))
            return false;
        set_call_site(in, e->u.attr.name_pos);
        bool ok = get_attribute(in, obj, expr_name(in, e), out);
        value_release(obj);
        return ok;
    }
    case EXPR_INDEX:
        return eval_index(in, e, out);
    case EXPR_SLICE:
        return eval_slice(in, e, out);
    case EXPR_CALL:
        return eval_call(in, e, out);
    case EXPR_UNARY: {
        Value v;
        if (!eval_expr(in, e->u.unary.operand, &v))
            return false;
        set_call_site(in, e->pos);
        bool ok = unary_op(in, e->u.unary.op, v, e->pos, out);
        value_release(v);
        return ok;
    }
    case EXPR_BINARY: {
        Value a, b;
        if (!eval_operands(in, e->u.binary.left, e->u.binary.right, &a, &b))
            return false;
        set_call_site(in, e->pos);
        bool ok = binary_op(in, e->u.binary.op, a, b, e->pos, out);
        value_release(a);
        value_release(b);
        return ok;
    }
    case EXPR_COMPARE:
        return eval_compare(in, e, out);
    case EXPR_AND:
    case EXPR_OR:
        return eval_logic(in, e, out);
    case EXPR_COND: {
        bool truth;
        if (!eval_condition(in, e->u.cond.test, &truth))
            return false;
        return eval_expr(in, truth ? e->u.cond.body : e->u.cond.orelse, out);
    }
    case EXPR_LIST:
    case EXPR_TUPLE:
        return eval_sequence(in, e, out);
    case EXPR_LISTCOMP:
        return eval_listcomp(in, e, out);
    }
    return rt_error_at(in, e->pos, "unknown expression");
}

/* ---- classes ---- */

bool class_lookup(const ObjClass *cls, const ObjStr *name, Value *out)
{
    for (const ObjClass *c = cls; c; c = c->parent) {
        Value *v = table_get(&c->attrs, name);
        if (v) {
            *out = value_retain(*v);
            return true;
        }
    }
    return false;
}

bool instance_is_module(Value v)
{
    return val_is(v, OBJ_INSTANCE) && AS_INSTANCE(v)->cls->base == BASE_MODULE;
}

/* ---- statements ---- */

/* Names a def's body assigns (Python makes them local to the call). */
static void collect_target_names(Interp *in, const Expr *t, Table *names)
{
    if (t->kind == EXPR_NAME)
        table_set(names, intern(in, t->u.name), val_none());
    else if (t->kind == EXPR_TUPLE || t->kind == EXPR_LIST)
        for (int i = 0; i < t->u.seq.n; i++)
            collect_target_names(in, t->u.seq.items[i], names);
}

static void collect_local_names(Interp *in, const Block *b, Table *names)
{
    for (int i = 0; i < b->n; i++) {
        const Stmt *s = b->stmts[i];
        switch (s->kind) {
        case STMT_ASSIGN:
            for (int k = 0; k < s->u.assign.n_targets; k++)
                collect_target_names(in, s->u.assign.targets[k], names);
            break;
        case STMT_AUGASSIGN:
            collect_target_names(in, s->u.augassign.target, names);
            break;
        case STMT_FOR:
            collect_target_names(in, s->u.for_.target, names);
            collect_local_names(in, &s->u.for_.body, names);
            break;
        case STMT_IF:
            collect_local_names(in, &s->u.if_.body, names);
            collect_local_names(in, &s->u.if_.orelse, names);
            break;
        case STMT_WHILE:
            collect_local_names(in, &s->u.while_.body, names);
            break;
        case STMT_WITH:
            if (s->u.with.target)
                collect_target_names(in, s->u.with.target, names);
            collect_local_names(in, &s->u.with.body, names);
            break;
        case STMT_DEF:
            table_set(names, intern(in, s->u.def.name), val_none());
            break;
        case STMT_CLASS:
            table_set(names, intern(in, s->u.class_.name), val_none());
            break;
        case STMT_IMPORT: {
            const ImportName *im = &s->u.import;
            const char *bound = im->alias ? im->alias : im->name;
            char top[128];
            size_t k = 0;
            while (bound[k] && bound[k] != '.' && k + 1 < sizeof top) {
                top[k] = bound[k];
                k++;
            }
            top[k] = '\0';
            table_set(names, intern(in, top), val_none());
            break;
        }
        case STMT_FROM_IMPORT:
            for (int k = 0; k < s->u.from_import.n_names; k++) {
                const ImportName *im = &s->u.from_import.names[k];
                table_set(names, intern(in, im->alias ? im->alias : im->name), val_none());
            }
            break;
        default:
            break;
        }
    }
}

static ExecStatus exec_def(Interp *in, const Stmt *s)
{
    const Stmt *def = s;
    int np = def->u.def.n_params;
    Value *defaults = calloc((size_t)(np ? np : 1), sizeof(Value));
    if (!defaults)
        abort();
    for (int i = 0; i < np; i++) {
        defaults[i] = val_none();
        const Expr *d = def->u.def.params[i].default_value;
        if (d && !eval_expr(in, d, &defaults[i])) {
            for (int k = 0; k < i; k++)
                value_release(defaults[k]);
            free(defaults);
            return EXEC_ERROR;
        }
    }
    Frame *f = current_frame(in);
    ObjFunction *fn = (ObjFunction *)obj_alloc(&in->heap, OBJ_FUNCTION, sizeof(ObjFunction));
    fn->def = def;
    fn->source = source_retain(f->source);
    fn->defaults = defaults;
    /* a method sees the scope around its class, not the class body */
    Scope *closure = in->in_class_body ? (f->scope ? f->scope->parent : NULL) : f->scope;
    fn->closure = closure;
    if (closure)
        closure->refcount++;
    fn->qualname = str_new(&in->heap, def->u.def.name, strlen(def->u.def.name));
    table_init(&fn->local_names);
    for (int i = 0; i < np; i++)
        table_set(&fn->local_names, intern(in, def->u.def.params[i].name), val_none());
    collect_local_names(in, &def->u.def.body, &fn->local_names);
    Value v = val_obj(&fn->h);
    store_name(in, intern(in, def->u.def.name), v);
    value_release(v);
    return EXEC_NORMAL;
}

static bool class_base(Interp *in, const Stmt *s, ObjClass **parent)
{
    *parent = NULL;
    if (s->u.class_.n_bases > 1)
        return rt_error_at(in, s->u.class_.bases[1]->pos,
                           "classes in nnl have at most one base class");
    if (s->u.class_.n_bases == 0)
        return true;
    Value b;
    if (!eval_expr(in, s->u.class_.bases[0], &b))
        return false;
    if (!val_is(b, OBJ_CLASS)) {
        StrBuf sb = STRBUF_INIT;
        value_repr(in, b, &sb);
        rt_error_at(in, s->u.class_.bases[0]->pos,
                    "classes may not inherit from %s (nnl classes derive from nn.Module, "
                    "Dataset or another class of the program)", sb_str(&sb));
        sb_free(&sb);
        value_release(b);
        return false;
    }
    *parent = AS_CLASS(b);
    return true;
}

static ExecStatus exec_class(Interp *in, const Stmt *s)
{
    ObjClass *parent;
    if (!class_base(in, s, &parent))
        return EXEC_ERROR;
    ObjClass *cls = (ObjClass *)obj_alloc(&in->heap, OBJ_CLASS, sizeof(ObjClass));
    cls->name = str_new(&in->heap, s->u.class_.name, strlen(s->u.class_.name));
    cls->parent = parent; /* the reference from class_base */
    cls->base = parent ? parent->base : BASE_OBJECT;
    table_init(&cls->attrs);

    Frame *f = current_frame(in);
    Scope *saved = f->scope;
    Scope *body_scope = scope_new(saved);
    bool was_class_body = in->in_class_body;
    f->scope = body_scope;
    in->in_class_body = true;
    ExecStatus st = exec_block(in, &s->u.class_.body);
    in->in_class_body = was_class_body;
    f->scope = saved;
    if (st == EXEC_ERROR) {
        scope_release(body_scope);
        value_release(val_obj(&cls->h));
        return EXEC_ERROR;
    }
    for (int i = 0; i < body_scope->vars.count; i++) {
        TableEntry *e = &body_scope->vars.entries[i];
        if (val_is(e->value, OBJ_FUNCTION)) {
            ObjFunction *fn = (ObjFunction *)e->value.as.obj;
            StrBuf q = STRBUF_INIT;
            sb_printf(&q, "%s.%s", cls->name->data, fn->qualname->data);
            value_release(val_obj(&fn->qualname->h));
            fn->qualname = str_new(&in->heap, sb_str(&q), q.len);
            fn->owner = cls;
            sb_free(&q);
        }
        table_set(&cls->attrs, e->key, e->value);
    }
    scope_release(body_scope);
    Value v = val_obj(&cls->h);
    store_name(in, intern(in, s->u.class_.name), v);
    value_release(v);
    return EXEC_NORMAL;
}

static const char *const IMPORTABLE =
    "nnl can import torch (with torch.nn, torch.nn.functional, torch.optim, torch.utils.data), "
    "numpy, matplotlib.pyplot, seaborn and time";

static bool find_module(Interp *in, const char *name, SrcPos pos, Value *out)
{
    Value *m = table_get(&in->modules, intern(in, name));
    if (!m)
        return rt_error_at(in, pos, "No module named '%s' (%s)", name, IMPORTABLE);
    *out = value_retain(*m);
    return true;
}

static ExecStatus exec_import(Interp *in, const Stmt *s)
{
    const ImportName *im = &s->u.import;
    Value mod;
    if (!find_module(in, im->name, im->pos, &mod))
        return EXEC_ERROR;
    if (im->alias) {
        store_name(in, intern(in, im->alias), mod);
    } else {
        /* `import torch.nn` binds `torch` */
        char top[128];
        size_t k = 0;
        while (im->name[k] && im->name[k] != '.' && k + 1 < sizeof top) {
            top[k] = im->name[k];
            k++;
        }
        top[k] = '\0';
        Value topmod;
        if (!find_module(in, top, im->pos, &topmod)) {
            value_release(mod);
            return EXEC_ERROR;
        }
        store_name(in, intern(in, top), topmod);
        value_release(topmod);
    }
    value_release(mod);
    return EXEC_NORMAL;
}

static ExecStatus exec_from_import(Interp *in, const Stmt *s)
{
    Value mod;
    if (!find_module(in, s->u.from_import.module, s->pos, &mod))
        return EXEC_ERROR;
    bool ok = true;
    for (int i = 0; i < s->u.from_import.n_names && ok; i++) {
        const ImportName *im = &s->u.from_import.names[i];
        Value *v = val_is(mod, OBJ_NAMESPACE)
                       ? table_get(&((ObjNamespace *)mod.as.obj)->attrs, intern(in, im->name))
                       : NULL;
        if (!v) {
            StrBuf full = STRBUF_INIT;
            sb_printf(&full, "%s.%s", s->u.from_import.module, im->name);
            v = table_get(&in->modules, intern(in, sb_str(&full)));
            sb_free(&full);
        }
        if (!v) {
            ok = rt_error_at(in, im->pos, "cannot import name '%s' from '%s' (not part of nnl)",
                             im->name, s->u.from_import.module);
            break;
        }
        store_name(in, intern(in, im->alias ? im->alias : im->name), *v);
    }
    value_release(mod);
    return ok ? EXEC_NORMAL : EXEC_ERROR;
}

static ExecStatus exec_with(Interp *in, const Stmt *s)
{
    Value ctx;
    if (!eval_expr(in, s->u.with.context, &ctx))
        return EXEC_ERROR;
    if (!val_is(ctx, OBJ_CONTEXT)) {
        value_release(ctx);
        rt_error_at(in, s->u.with.context->pos,
                    "`with` in nnl works with torch.no_grad() only");
        return EXEC_ERROR;
    }
    if (s->u.with.target && !assign_to(in, s->u.with.target, ctx)) {
        value_release(ctx);
        return EXEC_ERROR;
    }
    value_release(ctx);
    bool saved = in->eng.grad_enabled;
    in->eng.grad_enabled = false;
    ExecStatus st = exec_block(in, &s->u.with.body);
    in->eng.grad_enabled = saved;
    return st;
}

static ExecStatus exec_loop_body(Interp *in, const Block *body, bool *stop)
{
    *stop = true;
    if (!interp_safe_point(in))
        return EXEC_ERROR;
    *stop = false;
    ExecStatus st = exec_block(in, body);
    switch (st) {
    case EXEC_BREAK:
        *stop = true;
        return EXEC_NORMAL;
    case EXEC_CONTINUE:
    case EXEC_NORMAL:
        return EXEC_NORMAL;
    default:
        *stop = true;
        return st;
    }
}

static ExecStatus exec_for(Interp *in, const Stmt *s)
{
    Value seq;
    if (!eval_expr(in, s->u.for_.iter, &seq))
        return EXEC_ERROR;
    ExecStatus result = EXEC_NORMAL;
    bool stop = false;
    if (val_is(seq, OBJ_RANGE)) {
        /* the common `for i in range(n)` without an iterator object */
        const ObjRange *r = (const ObjRange *)seq.as.obj;
        for (int64_t i = r->start; !stop && (r->step > 0 ? i < r->stop : i > r->stop); i += r->step) {
            if (!assign_to(in, s->u.for_.target, val_int(i))) {
                result = EXEC_ERROR;
                break;
            }
            result = exec_loop_body(in, &s->u.for_.body, &stop);
        }
        value_release(seq);
        return result;
    }
    set_call_site(in, s->u.for_.iter->pos);
    ObjIter *it;
    if (!value_iter(in, seq, &it)) {
        value_release(seq);
        return EXEC_ERROR;
    }
    value_release(seq);
    while (!stop) {
        Value x;
        IterStep st = iter_next(in, it, &x);
        if (st == ITER_DONE)
            break;
        if (st == ITER_ERROR) {
            result = EXEC_ERROR;
            break;
        }
        bool ok = assign_to(in, s->u.for_.target, x);
        value_release(x);
        if (!ok) {
            result = EXEC_ERROR;
            break;
        }
        result = exec_loop_body(in, &s->u.for_.body, &stop);
    }
    value_release(val_obj(&it->h));
    return result;
}

static ExecStatus exec_while(Interp *in, const Stmt *s)
{
    for (;;) {
        bool truth;
        if (!eval_condition(in, s->u.while_.test, &truth))
            return EXEC_ERROR;
        if (!truth)
            return EXEC_NORMAL;
        bool stop;
        ExecStatus st = exec_loop_body(in, &s->u.while_.body, &stop);
        if (stop)
            return st;
    }
}

static ExecStatus exec_expr_stmt(Interp *in, const Stmt *s)
{
    Value v;
    if (!eval_expr(in, s->u.expr, &v))
        return EXEC_ERROR;
    if (in->opt.echo_expressions && in->depth == 1 && !in->in_class_body && v.kind != VAL_NONE) {
        StrBuf sb = STRBUF_INIT;
        bool ok = value_repr(in, v, &sb);
        if (ok) {
            sb_append_char(&sb, '\n');
            interp_print(in, sb_str(&sb), sb.len);
        }
        sb_free(&sb);
        if (!ok) {
            value_release(v);
            return EXEC_ERROR;
        }
    }
    value_release(v);
    return EXEC_NORMAL;
}

static ExecStatus exec_stmt(Interp *in, const Stmt *s)
{
    in->current_line = s->pos.line;
    in->current_pos = s->pos;
    switch (s->kind) {
    case STMT_EXPR:
        return exec_expr_stmt(in, s);
    case STMT_ASSIGN: {
        Value v;
        if (!eval_expr(in, s->u.assign.value, &v))
            return EXEC_ERROR;
        bool ok = true;
        for (int i = 0; i < s->u.assign.n_targets && ok; i++)
            ok = assign_to(in, s->u.assign.targets[i], v);
        value_release(v);
        return ok ? EXEC_NORMAL : EXEC_ERROR;
    }
    case STMT_AUGASSIGN:
        return exec_augassign(in, s) ? EXEC_NORMAL : EXEC_ERROR;
    case STMT_IF: {
        bool truth;
        if (!eval_condition(in, s->u.if_.test, &truth))
            return EXEC_ERROR;
        return exec_block(in, truth ? &s->u.if_.body : &s->u.if_.orelse);
    }
    case STMT_FOR:
        return exec_for(in, s);
    case STMT_WHILE:
        return exec_while(in, s);
    case STMT_BREAK:
        return EXEC_BREAK;
    case STMT_CONTINUE:
        return EXEC_CONTINUE;
    case STMT_PASS:
        return EXEC_NORMAL;
    case STMT_RETURN: {
        Value v = val_none();
        if (s->u.ret && !eval_expr(in, s->u.ret, &v))
            return EXEC_ERROR;
        value_release(in->return_value);
        in->return_value = v;
        return EXEC_RETURN;
    }
    case STMT_DEF:
        return exec_def(in, s);
    case STMT_CLASS:
        return exec_class(in, s);
    case STMT_WITH:
        return exec_with(in, s);
    case STMT_IMPORT:
        return exec_import(in, s);
    case STMT_FROM_IMPORT:
        return exec_from_import(in, s);
    }
    rt_error_at(in, s->pos, "unknown statement");
    return EXEC_ERROR;
}

ExecStatus exec_block(Interp *in, const Block *b)
{
    for (int i = 0; i < b->n; i++) {
        ExecStatus st = exec_stmt(in, b->stmts[i]);
        if (st != EXEC_NORMAL)
            return st;
    }
    return EXEC_NORMAL;
}
