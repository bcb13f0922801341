/*
 * lib_optim.c - `torch.optim` (pre-imported as `optim`): SGD and Adam over
 * the engine's optimizers (optim.h), with zero_grad(), step(), PyTorch 1.13's
 * repr, and nnl's settable `optimizer.lr`.
 *
 * step() reports one EVENT_STEP with every updated parameter's value before
 * and after the update and its gradient: the TUI's `:step` pauses inside it.
 * Creating an optimizer makes its parameters the ones the panes show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "lib_nn.h"
#include "pyformat.h"

/* The hyperparameters PyTorch prints, and how they were given: repr prints
 * `lr: 1` for an int and `lr: 1.0` for a float, as Python does. */
enum { HP_LR, HP_MOMENTUM, HP_WEIGHT_DECAY, HP_EPS, HP_BETA1, HP_BETA2, HP_COUNT };

/* An optimizer value with what its repr needs. The extra fields are plain
 * data: the evaluator frees it as the ObjOptimizer it begins with. */
typedef struct OptimizerValue {
    ObjOptimizer base;
    unsigned int_given;      /* bit HP_*: the value was a Python int */
} OptimizerValue;

static Optimizer *self_optimizer(Value self)
{
    return ((ObjOptimizer *)self.as.obj)->o;
}

/* ---- arguments ---- */

/* A hyperparameter: a number, its Python repr for messages, int or not. */
typedef struct Hyper {
    double value;
    bool is_int;
    char text[64];
} Hyper;

static bool hyper_arg(Interp *in, Value v, const char *what, double fallback, bool fallback_int, Hyper *out)
{
    out->value = fallback;
    out->is_int = fallback_int;
    if (arg_given(v)) {
        if (!arg_double(in, v, what, &out->value))
            return false;
        out->is_int = v.kind == VAL_INT || v.kind == VAL_BOOL;
    }
    StrBuf sb = STRBUF_INIT;
    if (out->is_int)
        py_format_int(&sb, (int64_t)out->value);
    else
        py_format_float_repr(&sb, out->value);
    snprintf(out->text, sizeof out->text, "%s", sb_str(&sb));
    sb_free(&sb);
    return true;
}

/* PyTorch's TypeError text for what torch.typename() calls a value. */
static const char *torch_type_name(Value v)
{
    Tensor *t = val_as_tensor(v);
    if (t && !AS_TENSOR(v)->is_numpy)
        return t->dtype == DTYPE_FLOAT32 ? "torch.FloatTensor"
               : t->dtype == DTYPE_INT64 ? "torch.LongTensor"
                                         : "torch.BoolTensor";
    return value_type_name(v);
}

/* The tensors of `params` (any iterable of tensors); *out malloc'd. */
static bool collect_params(Interp *in, Value params, Tensor ***out, int *n)
{
    if (val_is(params, OBJ_TENSOR))
        return rt_error(in, "params argument given to the optimizer should be an iterable of Tensors or "
                            "dicts, but got %s", torch_type_name(params));
    ObjIter *it;
    if (!value_iter(in, params, &it))
        return false;
    ObjList *items = list_new(&in->heap, 0);
    bool ok = true;
    for (;;) {
        Value x;
        IterStep st = iter_next(in, it, &x);
        if (st == ITER_DONE)
            break;
        if (st == ITER_ERROR) {
            ok = false;
            break;
        }
        list_append(items, x);
        if (!interp_safe_point(in)) {
            ok = false;
            break;
        }
        if (items->count > INT32_MAX / 2) {
            ok = rt_error(in, "an optimizer takes at most %d parameters", INT32_MAX / 2);
            break;
        }
    }
    value_release(val_obj(&it->h));
    if (ok && items->count == 0)
        ok = rt_error(in, "optimizer got an empty parameter list");
    for (int64_t i = 0; ok && i < items->count; i++) {
        Tensor *t = val_as_tensor(items->items[i]);
        if (!t || AS_TENSOR(items->items[i])->is_numpy)
            ok = rt_error(in, "optimizer can only optimize Tensors, but one of the params is %s",
                          torch_type_name(items->items[i]));
        else if (!tensor_is_leaf(t))
            ok = rt_error(in, "can't optimize a non-leaf Tensor");
    }
    if (ok) {
        *n = (int)items->count;
        *out = malloc((size_t)*n * sizeof **out);
        if (!*out)
            abort();
        for (int i = 0; i < *n; i++)
            (*out)[i] = val_as_tensor(items->items[i]);
    }
    /* the tensors stay alive: the caller's `params` value or the optimizer holds them */
    value_release(val_obj(&items->h));
    return ok;
}

/* Wrap a new engine optimizer; it becomes what the panes watch. */
static bool optimizer_made(Interp *in, Optimizer *o, unsigned int_given, Value *out)
{
    if (!o)
        return rt_engine_error(in);
    OptimizerValue *ov = (OptimizerValue *)obj_alloc(&in->heap, OBJ_OPTIMIZER, sizeof(OptimizerValue));
    ov->base.o = o;
    ov->int_given = int_given;
    *out = val_obj(&ov->base.h);
    value_release(in->last_model);
    in->last_model = value_retain(*out);
    return true;
}

static unsigned int_bits(const Hyper *h, const int *which, int n)
{
    unsigned bits = 0;
    for (int i = 0; i < n; i++)
        if (h[i].is_int)
            bits |= 1u << which[i];
    return bits;
}

/* SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False,
 * maximize=False, foreach=None, differentiable=False) */
static bool optim_sgd_new(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"params", "lr", "momentum", "dampening", "weight_decay", "nesterov",
                                        "maximize", "foreach", "differentiable", NULL};
    Value v[9];
    Hyper h[3]; /* lr, momentum, weight_decay */
    if (!args_parse(in, a, "SGD", names, 1, v) || !hyper_arg(in, v[1], "lr", 0.0, false, &h[0]) ||
        !hyper_arg(in, v[2], "momentum", 0.0, true, &h[1]) ||
        !hyper_arg(in, v[4], "weight_decay", 0.0, true, &h[2]))
        return false;
    if (arg_given(v[1]) && !(h[0].value >= 0.0))
        return rt_error(in, "Invalid learning rate: %s", h[0].text);
    if (!(h[1].value >= 0.0))
        return rt_error(in, "Invalid momentum value: %s", h[1].text);
    if (!(h[2].value >= 0.0))
        return rt_error(in, "Invalid weight_decay value: %s", h[2].text);
    double dampening = 0.0;
    if (arg_given(v[3]) && (!arg_double(in, v[3], "dampening", &dampening) ||
                            (dampening != 0.0 && !rt_error(in, "optim.SGD(dampening=...) is not part of nnl"))))
        return false;
    if (!nn_reject_option(in, v[5], "optim.SGD(nesterov=True)") ||
        !nn_reject_option(in, v[6], "optim.SGD(maximize=True)") ||
        !nn_reject_option(in, v[7], "optim.SGD(foreach=True)") ||
        !nn_reject_option(in, v[8], "optim.SGD(differentiable=True)"))
        return false;
    Tensor **params;
    int n;
    if (!collect_params(in, v[0], &params, &n))
        return false;
    if (!arg_given(v[1])) {
        free(params);
        return rt_error(in, "parameter group didn't specify a value of required optimization parameter lr");
    }
    Optimizer *o = optim_sgd(&in->eng, n, params, h[0].value, h[1].value, h[2].value);
    free(params);
    static const int which[] = {HP_LR, HP_MOMENTUM, HP_WEIGHT_DECAY};
    return optimizer_made(in, o, int_bits(h, which, 3), out);
}

/* The two numbers of betas=(b1, b2). */
static bool betas_arg(Interp *in, Value v, Hyper *b1, Hyper *b2)
{
    Value unset = {.kind = VAL_UNSET};
    if (!arg_given(v))
        return hyper_arg(in, unset, "betas", 0.9, false, b1) && hyper_arg(in, unset, "betas", 0.999, false, b2);
    const Value *items = NULL;
    int64_t n = 0;
    if (val_is(v, OBJ_TUPLE)) {
        items = AS_TUPLE(v)->items;
        n = AS_TUPLE(v)->count;
    } else if (val_is(v, OBJ_LIST)) {
        items = AS_LIST(v)->items;
        n = AS_LIST(v)->count;
    }
    if (n != 2)
        return rt_error(in, "betas must be a pair of numbers such as (0.9, 0.999)");
    return hyper_arg(in, items[0], "betas[0]", 0.0, false, b1) &&
           hyper_arg(in, items[1], "betas[1]", 0.0, false, b2);
}

/* Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0,
 * amsgrad=False, foreach=None, maximize=False, capturable=False,
 * differentiable=False, fused=False) */
static bool optim_adam_new(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"params", "lr", "betas", "eps", "weight_decay", "amsgrad", "foreach",
                                        "maximize", "capturable", "differentiable", "fused", NULL};
    Value v[11];
    Hyper h[5]; /* lr, beta1, beta2, eps, weight_decay */
    if (!args_parse(in, a, "Adam", names, 1, v) || !hyper_arg(in, v[1], "lr", 0.001, false, &h[0]) ||
        !betas_arg(in, v[2], &h[1], &h[2]) || !hyper_arg(in, v[3], "eps", 1e-8, false, &h[3]) ||
        !hyper_arg(in, v[4], "weight_decay", 0.0, true, &h[4]))
        return false;
    if (!(h[0].value >= 0.0))
        return rt_error(in, "Invalid learning rate: %s", h[0].text);
    if (!(h[3].value >= 0.0))
        return rt_error(in, "Invalid epsilon value: %s", h[3].text);
    for (int k = 0; k < 2; k++)
        if (!(h[1 + k].value >= 0.0 && h[1 + k].value < 1.0))
            return rt_error(in, "Invalid beta parameter at index %d: %s", k, h[1 + k].text);
    if (!(h[4].value >= 0.0))
        return rt_error(in, "Invalid weight_decay value: %s", h[4].text);
    static const char *const off[] = {"amsgrad", "foreach", "maximize", "capturable", "differentiable", "fused"};
    for (int k = 0; k < 6; k++) {
        char what[64];
        snprintf(what, sizeof what, "optim.Adam(%s=True)", off[k]);
        if (!nn_reject_option(in, v[5 + k], what))
            return false;
    }
    Tensor **params;
    int n;
    if (!collect_params(in, v[0], &params, &n))
        return false;
    Optimizer *o = optim_adam(&in->eng, n, params, h[0].value, h[1].value, h[2].value, h[3].value, h[4].value);
    free(params);
    static const int which[] = {HP_LR, HP_BETA1, HP_BETA2, HP_EPS, HP_WEIGHT_DECAY};
    return optimizer_made(in, o, int_bits(h, which, 5), out);
}

/* ---- methods ---- */

static bool opt_zero_grad(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"set_to_none", NULL};
    Value v[1];
    bool to_none = false;
    if (!args_parse(in, a, "zero_grad", names, 0, v) ||
        (arg_given(v[0]) && !arg_bool(in, v[0], "set_to_none", &to_none)))
        return false;
    Optimizer *o = self_optimizer(self);
    if (to_none) {
        for (int i = 0; i < o->n_params; i++) {
            tensor_release(o->params[i]->grad);
            o->params[i]->grad = NULL;
        }
    } else {
        optim_zero_grad(o);
    }
    *out = val_none();
    return true;
}

/* What one step changed, kept alive while the front-end looks at it (it may
 * pause and run the student's code inside the event). */
typedef struct StepRecord {
    int n;
    StepParam *params;
    char **names;
    Tensor **before, **grads, **after;
} StepRecord;

static void step_record_free(StepRecord *r)
{
    for (int i = 0; i < r->n; i++) {
        free(r->names[i]);
        tensor_release(r->before[i]);
        tensor_release(r->grads[i]);
        tensor_release(r->after[i]);
    }
    free(r->params);
    free(r->names);
    free(r->before);
    free(r->grads);
    free(r->after);
}

/* Copy every parameter that has a gradient, before the update. */
static bool step_record_before(Interp *in, Optimizer *o, StepRecord *r)
{
    size_t n = (size_t)(o->n_params ? o->n_params : 1);
    memset(r, 0, sizeof *r);
    r->params = calloc(n, sizeof *r->params);
    r->names = calloc(n, sizeof *r->names);
    r->before = calloc(n, sizeof *r->before);
    r->grads = calloc(n, sizeof *r->grads);
    r->after = calloc(n, sizeof *r->after);
    if (!r->params || !r->names || !r->before || !r->grads || !r->after)
        abort();
    for (int i = 0; i < o->n_params; i++) {
        Tensor *p = o->params[i];
        if (!p->grad)
            continue;
        Tensor *copy = tensor_copy_data(&in->eng, p);
        if (!copy)
            return rt_engine_error(in);
        const char *known = interp_param_name(in, p);
        char fallback[32];
        snprintf(fallback, sizeof fallback, "param%d", i);
        r->names[r->n] = strdup(known ? known : fallback);
        if (!r->names[r->n])
            abort();
        r->before[r->n] = copy;
        r->grads[r->n] = tensor_retain(p->grad);
        r->after[r->n] = tensor_retain(p);
        r->n++;
    }
    return true;
}

static bool opt_step(Interp *in, Value self, const CallArgs *a, Value *out)
{
    static const char *const names[] = {"closure", NULL};
    Value v[1];
    if (!args_parse(in, a, "step", names, 0, v) || !nn_reject_option(in, v[0], "optimizer.step(closure)"))
        return false;
    Optimizer *o = self_optimizer(self);
    StepRecord r;
    if (!step_record_before(in, o, &r)) {
        step_record_free(&r);
        return false;
    }
    if (!optim_step(&in->eng, o)) {
        step_record_free(&r);
        return rt_engine_error(in);
    }
    for (int i = 0; i < r.n; i++)
        r.params[i] = (StepParam){r.names[i], r.before[i], r.grads[i], r.after[i]};
    in->step_count++;
    Event ev = {.kind = EVENT_STEP, .params = r.params, .n_params = r.n, .value = o->lr,
                .step_count = in->step_count};
    interp_emit(in, &ev);
    step_record_free(&r);
    *out = val_none();
    return true;
}

/* ---- properties and repr ---- */

static bool opt_get_property(Interp *in, Value self, const ObjStr *name, Value *out, bool *found)
{
    const OptimizerValue *ov = (const OptimizerValue *)self.as.obj;
    if (strcmp(name->data, "lr") == 0) {
        *found = true;
        double lr = ov->base.o->lr;
        *out = ov->int_given & (1u << HP_LR) ? val_int((int64_t)lr) : val_float(lr);
        return true;
    }
    if (strcmp(name->data, "param_groups") == 0 || strcmp(name->data, "state_dict") == 0 ||
        strcmp(name->data, "defaults") == 0)
        return rt_error(in, "optimizer.%s is not part of nnl: read or set optimizer.lr instead", name->data);
    return true;
}

static bool opt_set_property(Interp *in, Value self, const ObjStr *name, Value v, bool *found)
{
    if (strcmp(name->data, "lr") != 0)
        return true;
    *found = true;
    Hyper h;
    if (!hyper_arg(in, v, "lr", 0.0, false, &h))
        return false;
    if (!(h.value >= 0.0))
        return rt_error(in, "Invalid learning rate: %s", h.text);
    OptimizerValue *ov = (OptimizerValue *)self.as.obj;
    ov->base.o->lr = h.value;
    ov->int_given = h.is_int ? ov->int_given | (1u << HP_LR) : ov->int_given & ~(1u << HP_LR);
    return true;
}

static void repr_number(StrBuf *out, const OptimizerValue *ov, int which, double x)
{
    if (ov->int_given & (1u << which))
        py_format_int(out, (int64_t)x);
    else
        py_format_float_repr(out, x);
}

/* PyTorch 1.13's repr: the parameter group's options in sorted order. */
static bool opt_repr(Interp *in, Value self, StrBuf *out)
{
    (void)in;
    const OptimizerValue *ov = (const OptimizerValue *)self.as.obj;
    const Optimizer *o = ov->base.o;
    if (o->kind == OPTIM_SGD) {
        sb_append(out, "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n"
                       "    foreach: None\n    lr: ");
        repr_number(out, ov, HP_LR, o->lr);
        sb_append(out, "\n    maximize: False\n    momentum: ");
        repr_number(out, ov, HP_MOMENTUM, o->momentum);
        sb_append(out, "\n    nesterov: False\n    weight_decay: ");
        repr_number(out, ov, HP_WEIGHT_DECAY, o->weight_decay);
        sb_append(out, "\n)");
        return true;
    }
    sb_append(out, "Adam (\nParameter Group 0\n    amsgrad: False\n    betas: (");
    repr_number(out, ov, HP_BETA1, o->beta1);
    sb_append(out, ", ");
    repr_number(out, ov, HP_BETA2, o->beta2);
    sb_append(out, ")\n    capturable: False\n    differentiable: False\n    eps: ");
    repr_number(out, ov, HP_EPS, o->eps);
    sb_append(out, "\n    foreach: None\n    fused: False\n    lr: ");
    repr_number(out, ov, HP_LR, o->lr);
    sb_append(out, "\n    maximize: False\n    weight_decay: ");
    repr_number(out, ov, HP_WEIGHT_DECAY, o->weight_decay);
    sb_append(out, "\n)");
    return true;
}

static const char *const OPTIMIZER_PROPERTIES[] = {"lr", NULL};

void lib_optim_init(Interp *in, ObjNamespace *torch)
{
    ObjNamespace *optim = namespace_new(in, "torch.optim");
    namespace_add_native(in, optim, "SGD", optim_sgd_new);
    namespace_add_native(in, optim, "Adam", optim_adam_new);
    Value v = val_obj(&optim->h);
    if (torch)
        namespace_add_value(in, torch, "optim", v);
    module_register(in, "torch.optim", v);
    table_set(&in->builtins, intern(in, "optim"), v);
    value_release(v);

    TypeOps *ops = &in->types[OBJ_OPTIMIZER];
    type_add_method(in, OBJ_OPTIMIZER, "zero_grad", opt_zero_grad);
    type_add_method(in, OBJ_OPTIMIZER, "step", opt_step);
    ops->get_property = opt_get_property;
    ops->set_property = opt_set_property;
    ops->repr = opt_repr;
    ops->property_names = OPTIMIZER_PROPERTIES;
}
