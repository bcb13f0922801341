/*
 * lib_nn.c - the `torch.nn` module (pre-imported as `nn`): nn.Module, the
 * base class of the program's models; nn.Parameter; the built-in layers and
 * losses (engine Modules wrapped as OBJ_LAYER values); and what models have
 * in common: parameters(), named_parameters(), zero_grad(), train(), eval().
 *
 * Which tensors are a user module's parameters: its attributes that are leaf
 * tensors with requires_grad (nn.Parameter makes such tensors), in attribute
 * order, then the parameters of its submodules (built-in layers, user module
 * instances, and lists/tuples of modules) in attribute order, recursively;
 * a tensor shared by several modules counts once. This is PyTorch's order;
 * unlike PyTorch, a plain tensor with requires_grad counts too, and a plain
 * list of modules acts as an nn.ModuleList.
 *
 * The parameters get PyTorch's dotted names ("linear.weight", "seq.0.bias")
 * for the panes; a name with more dots (from the enclosing model) is kept
 * over a shorter one.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "lib_nn.h"

#define NN_MAX_MODULE_DEPTH 100

/* ---- helpers shared with the other nn files ---- */

bool nn_reduction_arg(Interp *in, Value reduction, Value size_average, Value reduce, int *out)
{
    bool legacy_given = (arg_given(size_average) && size_average.kind != VAL_NONE) ||
                        (arg_given(reduce) && reduce.kind != VAL_NONE);
    if (legacy_given) {
        /* PyTorch's _Reduction.legacy_get_string: None counts as True */
        bool avg = true, red = true;
        if (arg_given(size_average) && size_average.kind != VAL_NONE &&
            !value_truthy(in, size_average, &avg))
            return false;
        if (arg_given(reduce) && reduce.kind != VAL_NONE && !value_truthy(in, reduce, &red))
            return false;
        *out = !red ? REDUCTION_NONE : avg ? REDUCTION_MEAN : REDUCTION_SUM;
        return true;
    }
    *out = REDUCTION_MEAN;
    if (!arg_given(reduction))
        return true;
    if (!val_is(reduction, OBJ_STR)) {
        StrBuf sb = STRBUF_INIT;
        bool ok = value_str(in, reduction, &sb);
        if (ok)
            rt_error(in, "%s is not a valid value for reduction", sb_str(&sb));
        sb_free(&sb);
        return false;
    }
    const char *r = AS_STR(reduction)->data;
    if (strcmp(r, "mean") == 0)
        *out = REDUCTION_MEAN;
    else if (strcmp(r, "sum") == 0)
        *out = REDUCTION_SUM;
    else if (strcmp(r, "none") == 0)
        *out = REDUCTION_NONE;
    else
        return rt_error(in, "%s is not a valid value for reduction", r);
    return true;
}

bool nn_tensor_arg(Interp *in, Value v, const char *fname, const char *arg, int position, Tensor **out)
{
    if (val_is(v, OBJ_TENSOR) && !AS_TENSOR(v)->is_numpy) {
        *out = AS_TENSOR(v)->t;
        return true;
    }
    return rt_error(in, "%s(): argument '%s' (position %d) must be Tensor, not %s", fname, arg, position,
                    value_type_name(v));
}

bool nn_reject_option(Interp *in, Value v, const char *what)
{
    if (!arg_given(v) || v.kind == VAL_NONE)
        return true;
    bool on;
    if (v.kind == VAL_BOOL || v.kind == VAL_INT) {
        if (!value_truthy(in, v, &on))
            return false;
        if (!on)
            return true;
    }
    return rt_error(in, "%s is not part of nnl", what);
}

void nn_emit_output(Interp *in, const char *label, const Tensor *t)
{
    Event ev = {.kind = EVENT_OUTPUT, .tensor = t, .label = label};
    interp_emit(in, &ev);
}

/* A layer value. A Sequential cut from another (model[1:3]) keeps its
 * children's names ("1", "2"), as PyTorch's does: child i is named
 * key_start + i * key_step. The extra fields are plain data: the evaluator
 * frees the value as the ObjLayer it begins with. */
typedef struct LayerValue {
    ObjLayer base;
    int64_t key_start, key_step;
} LayerValue;

static Value keyed_layer_value(Interp *in, Module *m, int64_t key_start, int64_t key_step)
{
    LayerValue *l = (LayerValue *)obj_alloc(&in->heap, OBJ_LAYER, sizeof(LayerValue));
    l->base.m = m;
    l->key_start = key_start;
    l->key_step = key_step;
    return val_obj(&l->base.h);
}

Value nn_layer_value(Interp *in, Module *m)
{
    return keyed_layer_value(in, m, 0, 1);
}

static bool has_own_keys(Value layer)
{
    const LayerValue *l = (const LayerValue *)layer.as.obj;
    return l->key_start != 0 || l->key_step != 1;
}

static int64_t child_key(Value layer, int i)
{
    const LayerValue *l = (const LayerValue *)layer.as.obj;
    return l->key_start + i * l->key_step;
}

static int count_dots(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '.';
    return n;
}

/* Name a parameter for the panes unless it already has a more qualified
 * name (one from the enclosing model). */
static void name_parameter(Interp *in, const Tensor *t, const char *name)
{
    const char *old = interp_param_name(in, t);
    if (!old || count_dots(name) >= count_dots(old))
        interp_name_param(in, t, name);
}

/* ---- walking a model: parameters and train()/eval() ---- */

typedef struct ParamEntry {
    char *name;              /* malloc'd dotted name */
    Tensor *t;               /* borrowed: the model holds it during the walk */
    bool placeholder;        /* "param3": a loose tensor's stand-in name, not recorded */
} ParamEntry;

typedef struct ModuleWalk {
    Interp *in;
    ParamEntry *params;
    int n_params, cap_params;
    const Obj **seen;        /* instances and lists already walked (cycles) */
    int n_seen, cap_seen;
    int set_training;        /* 0 or 1: train()/eval() on the way; -1: leave it */
} ModuleWalk;

static void *grow(void *p, int *cap, size_t item)
{
    *cap = *cap ? *cap * 2 : 16;
    p = realloc(p, (size_t)*cap * item);
    if (!p)
        abort();
    return p;
}

static void walk_free(ModuleWalk *w)
{
    for (int i = 0; i < w->n_params; i++)
        free(w->params[i].name);
    free(w->params);
    free(w->seen);
}

/* True the first time an object is met. */
static bool walk_first_visit(ModuleWalk *w, const Obj *o)
{
    for (int i = 0; i < w->n_seen; i++)
        if (w->seen[i] == o)
            return false;
    if (w->n_seen == w->cap_seen)
        w->seen = grow(w->seen, &w->cap_seen, sizeof *w->seen);
    w->seen[w->n_seen++] = o;
    return true;
}

static char *join_name(const char *prefix, const char *name)
{
    StrBuf sb = STRBUF_INIT;
    if (prefix && prefix[0])
        sb_printf(&sb, "%s.%s", prefix, name);
    else
        sb_append(&sb, name);
    return sb_take(&sb);
}

static void walk_add_param(ModuleWalk *w, const char *prefix, const char *name, Tensor *t)
{
    for (int i = 0; i < w->n_params; i++)
        if (w->params[i].t == t)
            return;
    if (w->n_params == w->cap_params)
        w->params = grow(w->params, &w->cap_params, sizeof *w->params);
    w->params[w->n_params].name = join_name(prefix, name);
    w->params[w->n_params].t = t;
    w->params[w->n_params].placeholder = false;
    w->n_params++;
}

static void walk_layer_param(const char *name, Tensor *param, void *ctx)
{
    walk_add_param(ctx, NULL, name, param);
}

static bool is_param_tensor(Value v)
{
    Tensor *t = val_as_tensor(v);
    return t && t->requires_grad && tensor_is_leaf(t);
}

static bool is_submodule(Value v)
{
    return val_is(v, OBJ_LAYER) || instance_is_module(v) || val_is(v, OBJ_LIST) || val_is(v, OBJ_TUPLE);
}

static bool walk_value(ModuleWalk *w, Value v, const char *prefix, int depth);

static bool walk_child(ModuleWalk *w, Value child, const char *prefix, const char *name, int depth)
{
    char *full = join_name(prefix, name);
    bool ok = walk_value(w, child, full, depth + 1);
    free(full);
    return ok;
}

/* A user module: training flag, own parameters, then submodules. */
static bool walk_instance(ModuleWalk *w, Value v, const char *prefix, int depth)
{
    ObjInstance *inst = AS_INSTANCE(v);
    if (!walk_first_visit(w, &inst->h))
        return true;
    if (w->set_training >= 0) {
        inst->training = w->set_training;
        /* a program that assigned self.training itself sees the change too */
        Value *attr = table_get(&inst->attrs, intern(w->in, "training"));
        if (attr)
            table_set(&inst->attrs, intern(w->in, "training"), val_bool(w->set_training));
    }
    for (int i = 0; i < inst->attrs.count; i++)
        if (is_param_tensor(inst->attrs.entries[i].value))
            walk_add_param(w, prefix, inst->attrs.entries[i].key->data,
                           val_as_tensor(inst->attrs.entries[i].value));
    for (int i = 0; i < inst->attrs.count; i++) {
        Value child = inst->attrs.entries[i].value;
        if (is_submodule(child) && !walk_child(w, child, prefix, inst->attrs.entries[i].key->data, depth))
            return false;
    }
    return true;
}

/* A list or tuple attribute: its modules, named by index (as nn.ModuleList). */
static bool walk_sequence(ModuleWalk *w, Value v, const char *prefix, int depth)
{
    if (!walk_first_visit(w, v.as.obj))
        return true;
    const Value *items = val_is(v, OBJ_LIST) ? AS_LIST(v)->items : AS_TUPLE(v)->items;
    int64_t n = val_is(v, OBJ_LIST) ? AS_LIST(v)->count : AS_TUPLE(v)->count;
    for (int64_t i = 0; i < n; i++) {
        if (val_is(items[i], OBJ_LIST) || val_is(items[i], OBJ_TUPLE) || !is_submodule(items[i]))
            continue;
        char index[32];
        snprintf(index, sizeof index, "%lld", (long long)i);
        if (!walk_child(w, items[i], prefix, index, depth))
            return false;
    }
    return true;
}

static bool walk_value(ModuleWalk *w, Value v, const char *prefix, int depth)
{
    if (depth > NN_MAX_MODULE_DEPTH)
        return rt_error(w->in, "modules nest too deeply (more than %d levels)", NN_MAX_MODULE_DEPTH);
    if (val_is(v, OBJ_LAYER)) {
        Module *m = AS_LAYER(v)->m;
        if (w->set_training >= 0)
            module_set_training(m, w->set_training);
        if (!has_own_keys(v)) {
            module_visit_parameters(m, prefix, walk_layer_param, w);
            return true;
        }
        for (int i = 0; i < m->n_children; i++) {
            char key[32];
            snprintf(key, sizeof key, "%lld", (long long)child_key(v, i));
            char *full = join_name(prefix, key);
            module_visit_parameters(m->children[i], full, walk_layer_param, w);
            free(full);
        }
        return true;
    }
    if (instance_is_module(v))
        return walk_instance(w, v, prefix, depth);
    if (val_is(v, OBJ_LIST) || val_is(v, OBJ_TUPLE))
        return walk_sequence(w, v, prefix, depth);
    return true;
}

/* Collect a model's parameters (and name them for the panes). */
static bool collect_parameters(Interp *in, Value model, ModuleWalk *w)
{
    memset(w, 0, sizeof *w);
    w->in = in;
    w->set_training = -1;
    if (!walk_value(w, model, "", 0)) {
        walk_free(w);
        return false;
    }
    for (int i = 0; i < w->n_params; i++)
        name_parameter(in, w->params[i].t, w->params[i].name);
    return true;
}

/* A top-level list given to nn_named_parameters: tensors by their known
 * names (or index), models by their parameters' names. */
static void add_loose_tensor(Interp *in, ModuleWalk *w, Tensor *t, int64_t index)
{
    const char *known = interp_param_name(in, t);
    char fallback[32];
    snprintf(fallback, sizeof fallback, "param%lld", (long long)index);
    int before = w->n_params;
    walk_add_param(w, NULL, known ? known : fallback, t);
    if (w->n_params > before && !known)
        w->params[before].placeholder = true;
}

bool nn_named_parameters(Interp *in, Value model, Value *out)
{
    ModuleWalk w;
    memset(&w, 0, sizeof w);
    w.in = in;
    w.set_training = -1;
    bool ok = true;
    if (val_is(model, OBJ_OPTIMIZER)) {
        Optimizer *o = ((ObjOptimizer *)model.as.obj)->o;
        for (int i = 0; i < o->n_params; i++)
            add_loose_tensor(in, &w, o->params[i], i);
    } else if (val_is(model, OBJ_LIST) || val_is(model, OBJ_TUPLE)) {
        const Value *items = val_is(model, OBJ_LIST) ? AS_LIST(model)->items : AS_TUPLE(model)->items;
        int64_t n = val_is(model, OBJ_LIST) ? AS_LIST(model)->count : AS_TUPLE(model)->count;
        for (int64_t i = 0; i < n && ok; i++) {
            if (val_is(items[i], OBJ_TENSOR))
                add_loose_tensor(in, &w, val_as_tensor(items[i]), i);
            else if (val_is(items[i], OBJ_LAYER) || instance_is_module(items[i]))
                ok = walk_value(&w, items[i], "", 1);
        }
    } else if (val_is(model, OBJ_TENSOR)) {
        add_loose_tensor(in, &w, val_as_tensor(model), 0);
    } else {
        ok = walk_value(&w, model, "", 0);
    }
    if (!ok) {
        walk_free(&w);
        return false;
    }
    ObjList *l = list_new(&in->heap, w.n_params);
    for (int i = 0; i < w.n_params; i++) {
        if (!w.params[i].placeholder)
            name_parameter(in, w.params[i].t, w.params[i].name);
        ObjTuple *pair = tuple_new(&in->heap, 2);
        pair->items[0] = val_str(&in->heap, w.params[i].name);
        pair->items[1] = val_tensor(in, tensor_retain(w.params[i].t));
        list_append(l, val_obj(&pair->h));
    }
    walk_free(&w);
    *out = val_obj(&l->h);
    return true;
}

/* ---- what every model has (nn.Module methods and layer methods) ---- */

/* The receiver of a model method: the bound self, or the first argument of
 * an unbound call such as nn.Module.__init__(self). */
static bool model_receiver(Interp *in, Value self, const CallArgs *a, const char *fname, Value *recv,
                           CallArgs *rest)
{
    *rest = *a;
    if (self.kind == VAL_NONE) {
        if (a->n_pos == 0)
            return rt_error(in, "%s() missing 1 required positional argument: 'self'", fname);
        self = a->pos[0];
        rest->pos = a->pos + 1;
        rest->n_pos = a->n_pos - 1;
    }
    if (!val_is(self, OBJ_LAYER) && !instance_is_module(self))
        return rt_error(in, "%s() needs an nn.Module, not %s", fname, value_type_name(self));
    *recv = self;
    return true;
}

static bool no_more_arguments(Interp *in, const CallArgs *a, const char *fname)
{
    if (a->n_kw)
        return rt_error(in, "%s() got an unexpected keyword argument '%s'", fname, a->kw_names[0]);
    if (a->n_pos)
        return rt_error(in, "%s() takes 1 positional argument but %d were given", fname, a->n_pos + 1);
    return true;
}

/* Module.__init__(self): nothing to set up. Called bound (super().__init__()),
 * unbound (nn.Module.__init__(self)), or without the instance when a class
 * that defines no __init__ is instantiated. */
static bool module_init(Interp *in, Value self, const CallArgs *a, Value *out)
{
    int extra = a->n_pos;
    if (self.kind == VAL_NONE && a->n_pos > 0 && instance_is_module(a->pos[0]))
        extra--;
    if (a->n_kw)
        return rt_error(in, "Module.__init__() got an unexpected keyword argument '%s'", a->kw_names[0]);
    if (extra > 0)
        return rt_error(in, "Module.__init__() takes 1 positional argument but %d were given", extra + 1);
    *out = val_none();
    return true;
}

static bool model_parameters(Interp *in, Value self, const CallArgs *a, Value *out)
{
    Value recv;
    CallArgs rest;
    ModuleWalk w;
    if (!model_receiver(in, self, a, "parameters", &recv, &rest) ||
        !no_more_arguments(in, &rest, "parameters") || !collect_parameters(in, recv, &w))
        return false;
    ObjList *l = list_new(&in->heap, w.n_params);
    for (int i = 0; i < w.n_params; i++)
        list_append(l, val_tensor(in, tensor_retain(w.params[i].t)));
    walk_free(&w);
    *out = val_obj(&l->h);
    return true;
}

static bool model_named_parameters(Interp *in, Value self, const CallArgs *a, Value *out)
{
    Value recv;
    CallArgs rest;
    if (!model_receiver(in, self, a, "named_parameters", &recv, &rest) ||
        !no_more_arguments(in, &rest, "named_parameters"))
        return false;
    return nn_named_parameters(in, recv, out);
}

/* zero_grad(set_to_none=False): PyTorch 1.13 zeroes the gradients in place. */
static bool model_zero_grad(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"set_to_none", NULL};
    Value recv, v[1];
    CallArgs rest;
    bool to_none = false;
    ModuleWalk w;
    if (!model_receiver(in, self, a, "zero_grad", &recv, &rest) ||
        !args_parse(in, &rest, "zero_grad", names, 0, v) ||
        (arg_given(v[0]) && !arg_bool(in, v[0], "set_to_none", &to_none)) ||
        !collect_parameters(in, recv, &w))
        return false;
    for (int i = 0; i < w.n_params; i++) {
        Tensor *t = w.params[i].t;
        if (!t->grad)
            continue;
        if (to_none) {
            tensor_release(t->grad);
            t->grad = NULL;
        } else {
            tensor_fill_(t->grad, 0.0);
        }
    }
    walk_free(&w);
    *out = val_none();
    return true;
}

static bool set_training(Interp *in, Value model, bool mode)
{
    ModuleWalk w;
    memset(&w, 0, sizeof w);
    w.in = in;
    w.set_training = mode;
    bool ok = walk_value(&w, model, "", 0);
    walk_free(&w);
    return ok;
}

static bool model_train(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"mode", NULL};
    Value recv, v[1];
    CallArgs rest;
    if (!model_receiver(in, self, a, "train", &recv, &rest) || !args_parse(in, &rest, "train", names, 0, v))
        return false;
    bool mode = true;
    if (arg_given(v[0])) {
        if (v[0].kind != VAL_BOOL)
            return rt_error(in, "training mode is expected to be boolean");
        mode = v[0].as.b;
    }
    if (!set_training(in, recv, mode))
        return false;
    *out = value_retain(recv);
    return true;
}

static bool model_eval(Interp *in, Value self, const CallArgs *a, Value *out)
{
    Value recv;
    CallArgs rest;
    if (!model_receiver(in, self, a, "eval", &recv, &rest) || !no_more_arguments(in, &rest, "eval") ||
        !set_training(in, recv, false))
        return false;
    *out = value_retain(recv);
    return true;
}

/* `model.training` of a user module (an attribute the program did not set). */
static bool instance_property(Interp *in, Value self, const ObjStr *name, Value *out, bool *found)
{
    (void)in;
    if (instance_is_module(self) && strcmp(name->data, "training") == 0) {
        *out = val_bool(AS_INSTANCE(self)->training);
        *found = true;
    }
    return true;
}

/* ---- nn.Parameter ---- */

static bool nn_parameter(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"data", "requires_grad", NULL};
    Value v[2];
    bool requires_grad = true;
    if (!args_parse(in, a, "Parameter", names, 0, v) ||
        (arg_given(v[1]) && !arg_bool(in, v[1], "requires_grad", &requires_grad)))
        return false;
    Tensor *p;
    if (!arg_given(v[0]) || v[0].kind == VAL_NONE) {
        int64_t zero = 0;
        p = tensor_empty(&in->eng, DTYPE_FLOAT32, 1, &zero);
    } else {
        Tensor *data;
        if (!nn_tensor_arg(in, v[0], "Parameter", "data", 1, &data))
            return false;
        if (requires_grad && dtype_is_integral(data->dtype))
            return rt_error(in, "Only Tensors of floating point and complex dtype can require gradients");
        /* a new leaf sharing the data, as PyTorch's Parameter(t) */
        p = tensor_alias(&in->eng, data);
    }
    if (!p)
        return rt_engine_error(in);
    p->requires_grad = requires_grad;
    p->is_parameter = true;
    *out = val_tensor(in, p);
    return true;
}

/* ---- building layers ---- */

static void name_new_param(const char *name, Tensor *param, void *ctx)
{
    name_parameter(ctx, param, name);
}

/* Wrap a new engine layer (NULL: report the engine's error). A layer with
 * parameters becomes the model the panes show, like a user model. */
static bool layer_made(Interp *in, Module *m, Value *out)
{
    if (!m)
        return rt_engine_error(in);
    module_visit_parameters(m, NULL, name_new_param, in);
    *out = nn_layer_value(in, m);
    bool has_params = m->weight != NULL;
    for (int i = 0; i < m->n_children && !has_params; i++)
        has_params = m->children[i]->weight != NULL || m->children[i]->n_children > 0;
    if (has_params && !in->in_class_body) {
        value_release(in->last_model);
        in->last_model = value_retain(*out);
    }
    return true;
}

/* A layer size: a non-negative int that keeps weight sizes in range. */
static bool size_arg(Interp *in, Value v, const char *what, int64_t limit, int64_t *out)
{
    if (v.kind == VAL_FLOAT)
        return rt_error(in, "%s must be an int, not float", what);
    if (!arg_int(in, v, what, out))
        return false;
    if (*out < 0)
        return rt_error(in, "%s must not be negative (got %lld)", what, (long long)*out);
    if (*out > limit)
        return rt_error(in, "%s is too large (%lld; at most %lld in nnl)", what, (long long)*out,
                        (long long)limit);
    return true;
}

/* kernel_size, stride, padding: an int or a pair of equal ints (nnl's
 * convolutions and poolings are square). */
bool nn_square_arg(Interp *in, Value v, const char *layer, const char *what, int64_t *out)
{
    if (val_is(v, OBJ_TUPLE) || val_is(v, OBJ_LIST)) {
        const Value *items = val_is(v, OBJ_TUPLE) ? AS_TUPLE(v)->items : AS_LIST(v)->items;
        int64_t n = val_is(v, OBJ_TUPLE) ? AS_TUPLE(v)->count : AS_LIST(v)->count;
        int64_t a, b;
        if (n != 2)
            return rt_error(in, "%s: %s must be an int or a pair of ints, got %lld values", layer, what,
                            (long long)n);
        if (!size_arg(in, items[0], what, 1 << 16, &a) || !size_arg(in, items[1], what, 1 << 16, &b))
            return false;
        if (a != b)
            return rt_error(in, "%s: %s=(%lld, %lld) is not supported: nnl's %s are square", layer, what,
                            (long long)a, (long long)b,
                            strcmp(what, "kernel_size") == 0 ? "kernels" : "strides and paddings");
        *out = a;
        return true;
    }
    return size_arg(in, v, what, 1 << 16, out);
}

static bool nn_linear(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"in_features", "out_features", "bias", NULL};
    Value v[3];
    int64_t n_in, n_out;
    bool bias = true;
    if (!args_parse(in, a, "Linear", names, 2, v) ||
        !size_arg(in, v[0], "in_features", INT32_MAX, &n_in) ||
        !size_arg(in, v[1], "out_features", INT32_MAX, &n_out) ||
        (arg_given(v[2]) && !arg_bool(in, v[2], "bias", &bias)))
        return false;
    return layer_made(in, module_linear(&in->eng, n_in, n_out, bias), out);
}

static bool nn_conv2d(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"in_channels", "out_channels", "kernel_size", "stride", "padding",
                                        "dilation", "groups", "bias", "padding_mode", NULL};
    Value v[9];
    int64_t n_in, n_out, kernel, stride = 1, padding = 0, dilation = 1, groups = 1;
    bool bias = true;
    if (!args_parse(in, a, "Conv2d", names, 3, v))
        return false;
    if (val_is(v[4], OBJ_STR))
        return rt_error(in, "nn.Conv2d(padding='%s') is not part of nnl: give the padding as a number",
                        AS_STR(v[4])->data);
    if (!size_arg(in, v[0], "in_channels", 1 << 20, &n_in) ||
        !size_arg(in, v[1], "out_channels", 1 << 20, &n_out) ||
        !nn_square_arg(in, v[2], "Conv2d", "kernel_size", &kernel) ||
        (arg_given(v[3]) && !nn_square_arg(in, v[3], "Conv2d", "stride", &stride)) ||
        (arg_given(v[4]) && !nn_square_arg(in, v[4], "Conv2d", "padding", &padding)) ||
        (arg_given(v[5]) && !nn_square_arg(in, v[5], "Conv2d", "dilation", &dilation)) ||
        (arg_given(v[6]) && !size_arg(in, v[6], "groups", 1 << 20, &groups)) ||
        (arg_given(v[7]) && !arg_bool(in, v[7], "bias", &bias)))
        return false;
    if (dilation != 1)
        return rt_error(in, "nn.Conv2d(dilation=%lld) is not part of nnl", (long long)dilation);
    if (groups != 1)
        return rt_error(in, "nn.Conv2d(groups=%lld) is not part of nnl", (long long)groups);
    if (arg_given(v[8]) && !(val_is(v[8], OBJ_STR) && strcmp(AS_STR(v[8])->data, "zeros") == 0))
        return rt_error(in, "nn.Conv2d(padding_mode=...) is not part of nnl (only 'zeros')");
    return layer_made(in, module_conv2d(&in->eng, n_in, n_out, (int)kernel, (int)stride, (int)padding, bias),
                      out);
}

static bool nn_max_pool2d(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"kernel_size", "stride", "padding", "dilation", "return_indices",
                                        "ceil_mode", NULL};
    Value v[6];
    int64_t kernel, stride = 0, padding = 0, dilation = 1;
    if (!args_parse(in, a, "MaxPool2d", names, 1, v) ||
        !nn_square_arg(in, v[0], "MaxPool2d", "kernel_size", &kernel) ||
        (arg_given(v[1]) && v[1].kind != VAL_NONE && !nn_square_arg(in, v[1], "MaxPool2d", "stride", &stride)) ||
        (arg_given(v[2]) && !nn_square_arg(in, v[2], "MaxPool2d", "padding", &padding)) ||
        (arg_given(v[3]) && !nn_square_arg(in, v[3], "MaxPool2d", "dilation", &dilation)) ||
        !nn_reject_option(in, v[4], "nn.MaxPool2d(return_indices=True)") ||
        !nn_reject_option(in, v[5], "nn.MaxPool2d(ceil_mode=True)"))
        return false;
    if (padding != 0)
        return rt_error(in, "nn.MaxPool2d(padding=%lld) is not part of nnl", (long long)padding);
    if (dilation != 1)
        return rt_error(in, "nn.MaxPool2d(dilation=%lld) is not part of nnl", (long long)dilation);
    if (arg_given(v[1]) && v[1].kind != VAL_NONE && stride == 0)
        return rt_error(in, "stride should be greater than zero, but got dH: 0 dW: 0");
    return layer_made(in, module_max_pool2d(&in->eng, (int)kernel, (int)stride), out);
}

/* ReLU(inplace=False), Sigmoid(), Tanh() */
static bool activation(Interp *in, const CallArgs *a, ModuleKind kind, Value *out)
{
    static const char *const relu_names[] = {"inplace", NULL};
    static const char *const none[] = {NULL};
    Value v[1];
    const char *name = module_kind_name(kind);
    if (!args_parse(in, a, name, kind == MOD_RELU ? relu_names : none, 0, v))
        return false;
    if (kind == MOD_RELU && !nn_reject_option(in, v[0], "nn.ReLU(inplace=True)"))
        return false;
    return layer_made(in, module_simple(&in->eng, kind), out);
}

static bool nn_relu(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return activation(in, a, MOD_RELU, out);
}

static bool nn_sigmoid(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return activation(in, a, MOD_SIGMOID, out);
}

static bool nn_tanh(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return activation(in, a, MOD_TANH, out);
}

static bool softmax_layer(Interp *in, const CallArgs *a, ModuleKind kind, Value *out)
{
    static const char *const names[] = {"dim", NULL};
    Value v[1];
    int64_t dim = MODULE_DIM_NONE;
    if (!args_parse(in, a, module_kind_name(kind), names, 0, v) ||
        (arg_given(v[0]) && v[0].kind != VAL_NONE && !arg_int(in, v[0], "dim", &dim)))
        return false;
    return layer_made(in, module_softmax(&in->eng, kind, dim), out);
}

static bool nn_softmax(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return softmax_layer(in, a, MOD_SOFTMAX, out);
}

static bool nn_log_softmax(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return softmax_layer(in, a, MOD_LOG_SOFTMAX, out);
}

static bool nn_flatten(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"start_dim", "end_dim", NULL};
    Value v[2];
    int64_t start = 1, end = -1;
    if (!args_parse(in, a, "Flatten", names, 0, v) ||
        (arg_given(v[0]) && !arg_int(in, v[0], "start_dim", &start)) ||
        (arg_given(v[1]) && !arg_int(in, v[1], "end_dim", &end)))
        return false;
    return layer_made(in, module_flatten(&in->eng, start, end), out);
}

static bool nn_dropout(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"p", "inplace", NULL};
    Value v[2];
    double p = 0.5;
    if (!args_parse(in, a, "Dropout", names, 0, v) || (arg_given(v[0]) && !arg_double(in, v[0], "p", &p)) ||
        !nn_reject_option(in, v[1], "nn.Dropout(inplace=True)"))
        return false;
    return layer_made(in, module_dropout(&in->eng, p), out);
}

/* The options of a loss (names[i] given as v[i]): the reduction, from
 * reduction= or the legacy size_average=/reduce=; nnl leaves out the others
 * (weight=, a different ignore_index=, label_smoothing=). `owner` names the
 * call in messages: "nn.CrossEntropyLoss", "F.cross_entropy". */
bool nn_loss_options(Interp *in, const char *owner, const char *const *names, const Value *v, int *out)
{
    Value size_average = {.kind = VAL_UNSET}, reduce = size_average, reduction = size_average;
    for (int i = 0; names[i]; i++) {
        char what[96];
        snprintf(what, sizeof what, "%s(%s=...)", owner, names[i]);
        if (strcmp(names[i], "size_average") == 0) {
            size_average = v[i];
        } else if (strcmp(names[i], "reduce") == 0) {
            reduce = v[i];
        } else if (strcmp(names[i], "reduction") == 0) {
            reduction = v[i];
        } else if (strcmp(names[i], "ignore_index") == 0) {
            int64_t ignore;
            if (arg_given(v[i]) && (!arg_int(in, v[i], "ignore_index", &ignore) ||
                                    (ignore != -100 && !rt_error(in, "%s is not part of nnl", what))))
                return false;
        } else if (strcmp(names[i], "label_smoothing") == 0) {
            double ls;
            if (arg_given(v[i]) && (!arg_double(in, v[i], "label_smoothing", &ls) ||
                                    (ls != 0.0 && !rt_error(in, "%s is not part of nnl", what))))
                return false;
        } else if (!nn_reject_option(in, v[i], what)) {
            return false;
        }
    }
    return nn_reduction_arg(in, reduction, size_average, reduce, out);
}

/* The options of each loss, in PyTorch's order. */
static const char *const MSE_OPTIONS[] = {"size_average", "reduce", "reduction", NULL};
static const char *const BCE_OPTIONS[] = {"weight", "size_average", "reduce", "reduction", NULL};
static const char *const NLL_OPTIONS[] = {"weight", "size_average", "ignore_index", "reduce", "reduction", NULL};
static const char *const CE_OPTIONS[] = {"weight", "size_average", "ignore_index", "reduce", "reduction",
                                     "label_smoothing", NULL};

static bool loss_layer(Interp *in, const CallArgs *a, ModuleKind kind, Value *out)
{
    const char *const *names = kind == MOD_MSE_LOSS ? MSE_OPTIONS
                               : kind == MOD_BCE_LOSS ? BCE_OPTIONS
                               : kind == MOD_NLL_LOSS ? NLL_OPTIONS
                                                      : CE_OPTIONS;
    const char *name = module_kind_name(kind);
    char owner[64];
    snprintf(owner, sizeof owner, "nn.%s", name);
    Value v[6];
    int r;
    if (!args_parse(in, a, name, names, 0, v) || !nn_loss_options(in, owner, names, v, &r))
        return false;
    return layer_made(in, module_loss(&in->eng, kind, r), out);
}

static bool nn_mse_loss(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return loss_layer(in, a, MOD_MSE_LOSS, out);
}

static bool nn_bce_loss(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return loss_layer(in, a, MOD_BCE_LOSS, out);
}

static bool nn_cross_entropy_loss(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return loss_layer(in, a, MOD_CROSS_ENTROPY_LOSS, out);
}

static bool nn_nll_loss(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return loss_layer(in, a, MOD_NLL_LOSS, out);
}

static bool nn_sequential(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    if (a->n_kw)
        return rt_error(in, "Sequential() got an unexpected keyword argument '%s'", a->kw_names[0]);
    Module **children = malloc((size_t)(a->n_pos ? a->n_pos : 1) * sizeof *children);
    if (!children)
        abort();
    for (int i = 0; i < a->n_pos; i++) {
        Value c = a->pos[i];
        if (!val_is(c, OBJ_LAYER)) {
            free(children);
            if (instance_is_module(c))
                return rt_error(in, "nn.Sequential in nnl holds built-in layers (nn.Linear, nn.ReLU, ...), "
                                    "not a %s: call it from a forward() method instead",
                                value_type_name(c));
            return rt_error(in, "%s is not a Module subclass", value_type_name(c));
        }
        children[i] = AS_LAYER(c)->m;
    }
    Module *m = module_sequential(&in->eng, a->n_pos, children);
    free(children);
    return layer_made(in, m, out);
}

/* ---- running layers ---- */

/* PyTorch's name of the function a layer runs, for argument errors. */
static const char *layer_function_name(const Module *m)
{
    switch (m->kind) {
    case MOD_LINEAR: return "linear";
    case MOD_CONV2D: return "conv2d";
    case MOD_MAX_POOL2D: return "max_pool2d";
    case MOD_RELU: return "relu";
    case MOD_SIGMOID: return "sigmoid";
    case MOD_TANH: return "tanh";
    case MOD_SOFTMAX: return "softmax";
    case MOD_LOG_SOFTMAX: return "log_softmax";
    case MOD_FLATTEN: return "flatten";
    case MOD_DROPOUT: return "dropout";
    case MOD_SEQUENTIAL: return m->n_children ? layer_function_name(m->children[0]) : "Sequential.forward";
    case MOD_MSE_LOSS: return "mse_loss";
    case MOD_BCE_LOSS: return "binary_cross_entropy";
    case MOD_CROSS_ENTROPY_LOSS: return "cross_entropy";
    case MOD_NLL_LOSS: return "nll_loss";
    case MOD_KIND_COUNT: break;
    }
    return "forward";
}

/* "softmax"/"sigmoid" when the layer's output is probabilities to show. */
static const char *layer_output_label(const Module *m)
{
    if (m->kind == MOD_SOFTMAX)
        return "softmax";
    if (m->kind == MOD_SIGMOID)
        return "sigmoid";
    if (m->kind == MOD_SEQUENTIAL && m->n_children)
        return layer_output_label(m->children[m->n_children - 1]);
    return NULL;
}

/* layer(input) or loss(input, target); also layer.forward(...). */
static bool layer_call(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const one[] = {"input", NULL};
    static const char *const two[] = {"input", "target", NULL};
    Module *m = AS_LAYER(self)->m;
    bool loss = module_is_loss(m);
    int need = loss ? 2 : 1;
    char fname[64];
    snprintf(fname, sizeof fname, "%s.forward", module_kind_name(m->kind));
    if (a->n_pos > need)
        return rt_error(in, "%s() takes %d positional arguments but %d were given", fname, need + 1,
                        a->n_pos + 1);
    if (a->n_kw == 0 && a->n_pos < need) {
        if (need - a->n_pos == 2)
            return rt_error(in, "%s() missing 2 required positional arguments: 'input' and 'target'", fname);
        return rt_error(in, "%s() missing 1 required positional argument: '%s'", fname,
                        (loss ? two : one)[a->n_pos]);
    }
    Value v[2];
    Tensor *input, *target = NULL;
    const char *fn = layer_function_name(m);
    if (!args_parse(in, a, fname, loss ? two : one, need, v) || !nn_tensor_arg(in, v[0], fn, "input", 1, &input) ||
        (loss && !nn_tensor_arg(in, v[1], fn, "target", 2, &target)))
        return false;
    Tensor *r = loss ? module_loss_forward(&in->eng, m, input, target) : module_forward(&in->eng, m, input);
    if (!r)
        return rt_engine_error(in);
    const char *label = layer_output_label(m);
    if (label)
        nn_emit_output(in, label, r);
    *out = val_tensor(in, r);
    return true;
}

/* ---- layer attributes ---- */

static Value int_pair(Interp *in, int64_t x)
{
    ObjTuple *t = tuple_new(&in->heap, 2);
    t->items[0] = val_int(x);
    t->items[1] = val_int(x);
    return val_obj(&t->h);
}

static Value optional_param(Interp *in, Tensor *t)
{
    return t ? val_tensor(in, tensor_retain(t)) : val_none();
}

static const char *reduction_name(int r)
{
    return r == REDUCTION_SUM ? "sum" : r == REDUCTION_NONE ? "none" : "mean";
}

static bool has_weights(const Module *m)
{
    return m->kind == MOD_LINEAR || m->kind == MOD_CONV2D;
}

/* The value of attribute `n` of layer m, or false when it has none. */
static bool layer_attribute(Interp *in, const Module *m, const char *n, Value *out)
{
    ModuleKind k = m->kind;
    if (strcmp(n, "training") == 0)
        *out = val_bool(m->training);
    else if (has_weights(m) && strcmp(n, "weight") == 0)
        *out = optional_param(in, m->weight);
    else if (has_weights(m) && strcmp(n, "bias") == 0)
        *out = optional_param(in, m->bias);
    else if (k == MOD_LINEAR && strcmp(n, "in_features") == 0)
        *out = val_int(m->in_features);
    else if (k == MOD_LINEAR && strcmp(n, "out_features") == 0)
        *out = val_int(m->out_features);
    else if (k == MOD_CONV2D && strcmp(n, "in_channels") == 0)
        *out = val_int(m->in_features);
    else if (k == MOD_CONV2D && strcmp(n, "out_channels") == 0)
        *out = val_int(m->out_features);
    else if (k == MOD_CONV2D && strcmp(n, "kernel_size") == 0)
        *out = int_pair(in, m->kernel);
    else if (k == MOD_CONV2D && strcmp(n, "stride") == 0)
        *out = int_pair(in, m->stride);
    else if (k == MOD_CONV2D && strcmp(n, "padding") == 0)
        *out = int_pair(in, m->padding);
    else if (k == MOD_MAX_POOL2D && strcmp(n, "kernel_size") == 0)
        *out = val_int(m->kernel);
    else if (k == MOD_MAX_POOL2D && strcmp(n, "stride") == 0)
        *out = val_int(m->stride);
    else if (k == MOD_MAX_POOL2D && strcmp(n, "padding") == 0)
        *out = val_int(0);
    else if (k == MOD_DROPOUT && strcmp(n, "p") == 0)
        *out = val_float(m->p);
    else if ((k == MOD_SOFTMAX || k == MOD_LOG_SOFTMAX) && strcmp(n, "dim") == 0)
        *out = m->dim == MODULE_DIM_NONE ? val_none() : val_int(m->dim);
    else if (k == MOD_FLATTEN && strcmp(n, "start_dim") == 0)
        *out = val_int(m->start_dim);
    else if (k == MOD_FLATTEN && strcmp(n, "end_dim") == 0)
        *out = val_int(m->end_dim);
    else if (module_is_loss(m) && strcmp(n, "reduction") == 0)
        *out = val_str(&in->heap, reduction_name(m->reduction));
    else
        return false;
    return true;
}

static bool layer_get_property(Interp *in, Value self, const ObjStr *name, Value *out, bool *found)
{
    *found = layer_attribute(in, AS_LAYER(self)->m, name->data, out);
    return true;
}

/* layer.weight = nn.Parameter(...), layer.bias = None, layer.training = False. */
static bool set_layer_param(Interp *in, Module *m, const char *name, Value v)
{
    bool is_bias = strcmp(name, "bias") == 0;
    Tensor **slot = is_bias ? &m->bias : &m->weight;
    if (v.kind == VAL_NONE && is_bias) {
        tensor_release(*slot);
        *slot = NULL;
        return true;
    }
    if (v.kind == VAL_NONE)
        return rt_error(in, "cannot assign None as parameter 'weight' in nnl: a %s needs its weight",
                        module_kind_name(m->kind));
    Tensor *t = val_as_tensor(v);
    if (!t || AS_TENSOR(v)->is_numpy || !t->is_parameter) {
        const char *type = !t || AS_TENSOR(v)->is_numpy ? value_type_name(v)
                           : t->dtype == DTYPE_FLOAT32  ? "torch.FloatTensor"
                           : t->dtype == DTYPE_INT64    ? "torch.LongTensor"
                                                        : "torch.BoolTensor";
        return rt_error(in, "cannot assign '%s' as parameter '%s' (torch.nn.Parameter or None expected)", type,
                        name);
    }
    tensor_retain(t);
    tensor_release(*slot);
    *slot = t;
    name_parameter(in, t, name);
    return true;
}

static bool layer_set_property(Interp *in, Value self, const ObjStr *name, Value v, bool *found)
{
    Module *m = AS_LAYER(self)->m;
    const char *n = name->data;
    if (strcmp(n, "training") == 0) {
        *found = true;
        if (v.kind != VAL_BOOL)
            return rt_error(in, "training must be True or False, not %s", value_type_name(v));
        m->training = v.as.b;
        return true;
    }
    if (has_weights(m) && (strcmp(n, "weight") == 0 || strcmp(n, "bias") == 0)) {
        *found = true;
        return set_layer_param(in, m, n, v);
    }
    if (m->kind == MOD_DROPOUT && strcmp(n, "p") == 0) {
        *found = true;
        double p;
        if (!arg_double(in, v, "p", &p))
            return false;
        if (!(p >= 0.0 && p <= 1.0))
            return rt_error(in, "dropout probability has to be between 0 and 1, but got %g", p);
        m->p = p;
        return true;
    }
    return true;
}

/* module_describe's text, whole: it cuts at the buffer's end, so grow the
 * buffer until the text fits (each line indented by `indent` after the first). */
static void describe_module(const Module *m, const char *indent, StrBuf *out)
{
    for (size_t size = 4096;; size *= 2) {
        char *buf = malloc(size);
        if (!buf)
            abort();
        module_describe(m, buf, size);
        size_t len = strlen(buf);
        if (len + 1 < size || size >= ((size_t)1 << 26)) {
            for (const char *p = buf; *p; p++) {
                sb_append_char(out, *p);
                if (*p == '\n')
                    sb_append(out, indent);
            }
            free(buf);
            return;
        }
        free(buf);
    }
}

static bool layer_repr(Interp *in, Value self, StrBuf *out)
{
    (void)in;
    const Module *m = AS_LAYER(self)->m;
    if (!has_own_keys(self) || m->n_children == 0) {
        describe_module(m, "", out);
        return true;
    }
    sb_append(out, "Sequential(\n");
    for (int i = 0; i < m->n_children; i++) {
        sb_printf(out, "  (%lld): ", (long long)child_key(self, i));
        describe_module(m->children[i], "  ", out);
        sb_append_char(out, '\n');
    }
    sb_append_char(out, ')');
    return true;
}

/* ---- Sequential as a sequence ---- */

static bool require_sequential(Interp *in, Value self, const char *what)
{
    if (AS_LAYER(self)->m->kind == MOD_SEQUENTIAL)
        return true;
    if (strcmp(what, "len") == 0)
        return rt_error(in, "object of type '%s' has no len()", value_type_name(self));
    return rt_error(in, "'%s' object is not %s", value_type_name(self), what);
}

static bool layer_len(Interp *in, Value self, int64_t *out)
{
    if (!require_sequential(in, self, "len"))
        return false;
    *out = AS_LAYER(self)->m->n_children;
    return true;
}

static bool sequential_slice(Interp *in, Value self, const ObjSlice *s, Value *out)
{
    Module *m = AS_LAYER(self)->m;
    int64_t start, stop, step;
    if (!slice_indices(in, s, m->n_children, &start, &stop, &step))
        return false;
    Module **picked = malloc((size_t)(m->n_children ? m->n_children : 1) * sizeof *picked);
    if (!picked)
        abort();
    int n = 0;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
        picked[n++] = m->children[i];
    Module *sub = module_sequential(&in->eng, n, picked);
    free(picked);
    if (!sub)
        return rt_engine_error(in);
    *out = keyed_layer_value(in, sub, child_key(self, (int)start), step * ((const LayerValue *)self.as.obj)->key_step);
    return true;
}

static bool layer_getitem(Interp *in, Value self, Value index, Value *out)
{
    if (!require_sequential(in, self, "subscriptable"))
        return false;
    Module *m = AS_LAYER(self)->m;
    if (val_is(index, OBJ_SLICE))
        return sequential_slice(in, self, (const ObjSlice *)index.as.obj, out);
    if (index.kind != VAL_INT && index.kind != VAL_BOOL)
        return rt_error(in, "'%s' object cannot be interpreted as an integer", value_type_name(index));
    int64_t i = index.kind == VAL_INT ? index.as.i : index.as.b;
    if (i < -(int64_t)m->n_children || i >= m->n_children)
        return rt_error(in, "index %lld is out of range", (long long)i);
    if (i < 0)
        i += m->n_children;
    *out = nn_layer_value(in, module_retain(m->children[i]));
    return true;
}

static IterStep sequential_next(Interp *in, ObjIter *it, Value *out)
{
    Module *m = AS_LAYER(it->source)->m;
    if (it->index >= m->n_children)
        return ITER_DONE;
    *out = nn_layer_value(in, module_retain(m->children[it->index++]));
    return ITER_VALUE;
}

static bool layer_iter(Interp *in, Value self, ObjIter **out)
{
    if (AS_LAYER(self)->m->kind != MOD_SEQUENTIAL)
        return rt_error(in, "'%s' object is not iterable", value_type_name(self));
    *out = iter_new(in, sequential_next, self);
    return true;
}

static const char *const LAYER_PROPERTIES[] = {
    "weight", "bias", "in_features", "out_features", "in_channels", "out_channels", "kernel_size", "stride",
    "padding", "p", "dim", "start_dim", "end_dim", "reduction", "training", NULL,
};

static void register_layer_type(Interp *in)
{
    TypeOps *ops = &in->types[OBJ_LAYER];
    type_add_method(in, OBJ_LAYER, "__call__", layer_call);
    type_add_method(in, OBJ_LAYER, "forward", layer_call);
    type_add_method(in, OBJ_LAYER, "parameters", model_parameters);
    type_add_method(in, OBJ_LAYER, "named_parameters", model_named_parameters);
    type_add_method(in, OBJ_LAYER, "zero_grad", model_zero_grad);
    type_add_method(in, OBJ_LAYER, "train", model_train);
    type_add_method(in, OBJ_LAYER, "eval", model_eval);
    ops->get_property = layer_get_property;
    ops->set_property = layer_set_property;
    ops->repr = layer_repr;
    ops->len = layer_len;
    ops->getitem = layer_getitem;
    ops->iter = layer_iter;
    ops->property_names = LAYER_PROPERTIES;
}

/* ---- the namespace ---- */

static void class_add_native(Interp *in, ObjClass *cls, const char *name, NativeFn fn)
{
    Value f = native_new(in, name, fn, val_none());
    table_set(&cls->attrs, intern(in, name), f);
    value_release(f);
}

/* nn.Module: the root class of the program's models. */
static Value make_module_class(Interp *in)
{
    ObjClass *cls = (ObjClass *)obj_alloc(&in->heap, OBJ_CLASS, sizeof(ObjClass));
    cls->name = str_new(&in->heap, "Module", 6);
    cls->parent = NULL;
    cls->base = BASE_MODULE;
    table_init(&cls->attrs);
    class_add_native(in, cls, "__init__", module_init);
    class_add_native(in, cls, "parameters", model_parameters);
    class_add_native(in, cls, "named_parameters", model_named_parameters);
    class_add_native(in, cls, "zero_grad", model_zero_grad);
    class_add_native(in, cls, "train", model_train);
    class_add_native(in, cls, "eval", model_eval);
    return val_obj(&cls->h);
}

static void publish(Interp *in, ObjNamespace *parent, const char *attr, const char *dotted,
                    const char *builtin, ObjNamespace *ns)
{
    Value v = val_obj(&ns->h);
    if (parent)
        namespace_add_value(in, parent, attr, v);
    module_register(in, dotted, v);
    if (builtin)
        table_set(&in->builtins, intern(in, builtin), v);
}

void lib_nn_init(Interp *in)
{
    Value *torch_value = table_get(&in->modules, intern(in, "torch"));
    ObjNamespace *torch = torch_value && val_is(*torch_value, OBJ_NAMESPACE)
                              ? (ObjNamespace *)torch_value->as.obj
                              : NULL;
    ObjNamespace *nn = namespace_new(in, "torch.nn");
    Value module_class = make_module_class(in);
    namespace_add_value(in, nn, "Module", module_class);
    value_release(module_class);
    namespace_add_native(in, nn, "Parameter", nn_parameter);
    namespace_add_native(in, nn, "Linear", nn_linear);
    namespace_add_native(in, nn, "Conv2d", nn_conv2d);
    namespace_add_native(in, nn, "MaxPool2d", nn_max_pool2d);
    namespace_add_native(in, nn, "ReLU", nn_relu);
    namespace_add_native(in, nn, "Sigmoid", nn_sigmoid);
    namespace_add_native(in, nn, "Tanh", nn_tanh);
    namespace_add_native(in, nn, "Softmax", nn_softmax);
    namespace_add_native(in, nn, "LogSoftmax", nn_log_softmax);
    namespace_add_native(in, nn, "Flatten", nn_flatten);
    namespace_add_native(in, nn, "Dropout", nn_dropout);
    namespace_add_native(in, nn, "Sequential", nn_sequential);
    namespace_add_native(in, nn, "MSELoss", nn_mse_loss);
    namespace_add_native(in, nn, "BCELoss", nn_bce_loss);
    namespace_add_native(in, nn, "CrossEntropyLoss", nn_cross_entropy_loss);
    namespace_add_native(in, nn, "NLLLoss", nn_nll_loss);

    ObjNamespace *functional = lib_functional_init(in);
    publish(in, nn, "functional", "torch.nn.functional", "F", functional);
    value_release(val_obj(&functional->h));
    publish(in, torch, "nn", "torch.nn", "nn", nn);
    value_release(val_obj(&nn->h));

    register_layer_type(in);
    if (!in->types[OBJ_INSTANCE].get_property)
        in->types[OBJ_INSTANCE].get_property = instance_property;

    lib_optim_init(in, torch);
    lib_data_init(in, torch);
}
