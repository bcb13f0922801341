#include "watch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib_nn.h"

/* One parameter's last update. */
typedef struct StepMemo {
    const Tensor *param;          /* identity only */
    TensorSnap before, after, delta;
    bool stats_ready;             /* before and delta have their statistics */
} StepMemo;

typedef struct TensorName {
    const Tensor *t;              /* identity only */
    char *name;
} TensorName;

struct Watch {
    StepMemo *memos;
    int n_memos, cap_memos;
    TensorName *names;
    int n_names, cap_names;
};

Watch *watch_new(void)
{
    return calloc(1, sizeof(Watch));
}

static void memo_free(StepMemo *m)
{
    tensor_snap_free(&m->before);
    tensor_snap_free(&m->after);
    tensor_snap_free(&m->delta);
}

void watch_forget_steps(Watch *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n_memos; i++)
        memo_free(&w->memos[i]);
    w->n_memos = 0;
}

void watch_reset(Watch *w)
{
    if (!w)
        return;
    watch_forget_steps(w);
    for (int i = 0; i < w->n_names; i++)
        free(w->names[i].name);
    w->n_names = 0;
}

void watch_free(Watch *w)
{
    if (!w)
        return;
    watch_reset(w);
    free(w->memos);
    free(w->names);
    free(w);
}

static bool flat_storage(const Tensor *t)
{
    return tensor_is_contiguous(t) && t->storage && t->storage->data;
}

/* Copy into s, reusing its buffer when the size is the same (a step of a
 * large model then costs no allocation). */
bool tensor_snap_from(TensorSnap *s, const Tensor *t)
{
    if (!t) {
        tensor_snap_free(s);
        return true;
    }
    int64_t n = tensor_numel(t);
    if (s->borrowed || !s->present || s->numel != n || !s->data) {
        tensor_snap_free(s);
        if (n > 0) {
            s->data = malloc((size_t)n * sizeof *s->data);
            if (!s->data)
                return false;
        }
    }
    if (flat_storage(t))
        memcpy(s->data, t->storage->data + t->offset, (size_t)n * sizeof *s->data);
    else
        for (int64_t i = 0; i < n; i++)
            s->data[i] = tensor_get_flat(t, i);
    s->present = true;
    s->ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++)
        s->shape[i] = t->shape[i];
    s->numel = n;
    s->integral = dtype_is_integral(t->dtype);
    return true;
}

/* The values of t for one frame: its own storage when it has one flat
 * run of floats (nothing is copied), else a copy. */
static bool snap_view(TensorSnap *s, const Tensor *t)
{
    if (!flat_storage(t)) {
        if (!tensor_snap_from(s, t))
            return false;
        tensor_snap_restat(s);
        return true;
    }
    tensor_snap_free(s);
    s->present = true;
    s->borrowed = true;
    s->ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++)
        s->shape[i] = t->shape[i];
    s->numel = tensor_numel(t);
    s->integral = dtype_is_integral(t->dtype);
    s->data = s->numel ? t->storage->data + t->offset : NULL;
    tensor_snap_restat(s);
    return true;
}

static StepMemo *memo_for(Watch *w, const Tensor *param)
{
    for (int i = 0; i < w->n_memos; i++)
        if (w->memos[i].param == param)
            return &w->memos[i];
    if (w->n_memos == w->cap_memos) {
        int cap = w->cap_memos ? w->cap_memos * 2 : 8;
        StepMemo *bigger = realloc(w->memos, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return NULL;
        w->memos = bigger;
        w->cap_memos = cap;
    }
    StepMemo *m = &w->memos[w->n_memos++];
    memset(m, 0, sizeof *m);
    m->param = param;
    return m;
}

void watch_record_step(Watch *w, const Event *ev)
{
    if (!w || ev->kind != EVENT_STEP)
        return;
    for (int i = 0; i < ev->n_params; i++) {
        const StepParam *sp = &ev->params[i];
        if (!sp->before || !sp->after || !tensor_same_shape(sp->before, sp->after))
            continue;
        StepMemo *m = memo_for(w, sp->after);
        if (!m)
            return;
        if (!tensor_snap_from(&m->before, sp->before) || !tensor_snap_from(&m->after, sp->after) ||
            !tensor_snap_from(&m->delta, sp->after)) {
            memo_free(m);
            continue;
        }
        /* Δw in float32, as w_after - w_before computes it */
        m->delta.integral = false;
        for (int64_t k = 0; k < m->delta.numel; k++)
            m->delta.data[k] = m->after.data[k] - m->before.data[k];
        /* statistics when a frame shows it: most steps are never drawn */
        m->stats_ready = false;
    }
}

void watch_name_tensor(Watch *w, const Tensor *t, const char *name)
{
    if (!w || !t || !name)
        return;
    for (int i = 0; i < w->n_names; i++)
        if (w->names[i].t == t) {
            char *copy = strdup(name);
            if (copy) {
                free(w->names[i].name);
                w->names[i].name = copy;
            }
            return;
        }
    if (w->n_names == w->cap_names) {
        int cap = w->cap_names ? w->cap_names * 2 : 8;
        TensorName *bigger = realloc(w->names, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return;
        w->names = bigger;
        w->cap_names = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return;
    w->names[w->n_names++] = (TensorName){t, copy};
}

static const char *given_name(const Watch *w, const Tensor *t)
{
    for (int i = 0; i < w->n_names; i++)
        if (w->names[i].t == t)
            return w->names[i].name;
    return NULL;
}

static bool is_module_instance(Value v)
{
    return val_is(v, OBJ_INSTANCE) && AS_INSTANCE(v)->cls->base == BASE_MODULE;
}

bool watch_add_value(Interp *in, Value v)
{
    if (!val_is(v, OBJ_TENSOR) && !val_is(v, OBJ_LAYER) && !val_is(v, OBJ_OPTIMIZER) &&
        !is_module_instance(v))
        return false;
    if (!val_is(in->watched, OBJ_LIST)) {
        ObjList *l = list_new(&in->heap, 4);
        value_release(in->watched);
        in->watched = val_obj(&l->h);
    }
    ObjList *l = AS_LIST(in->watched);
    for (int64_t i = 0; i < l->count; i++)
        if (l->items[i].kind == VAL_OBJ && l->items[i].as.obj == v.as.obj)
            return true;
    list_append(l, value_retain(v));
    return true;
}

static const char *name_in_table(const Table *t, const Tensor *x)
{
    for (int i = 0; i < t->count; i++) {
        Value v = t->entries[i].value;
        if (val_as_tensor(v) == x && t->entries[i].key->data[0] != '_')
            return t->entries[i].key->data;
    }
    return NULL;
}

const char *watch_variable_name(Interp *in, const Tensor *t)
{
    const Frame *f = &in->frames[in->depth > 0 ? in->depth - 1 : 0];
    for (const Scope *s = f->scope; s; s = s->parent) {
        const char *n = name_in_table(&s->vars, t);
        if (n)
            return n;
    }
    return name_in_table(&in->globals, t);
}

/* "param3": the name an optimizer gives a tensor nobody named. */
static bool placeholder_name(const char *name)
{
    if (strncmp(name, "param", 5) != 0 || !name[5])
        return false;
    for (const char *p = name + 5; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return true;
}

/* ---- collecting ---- */

typedef struct Collect {
    Watch *w;
    Interp *in;
    ParamView *views;
    int n;
    TensorSnap *image;
    char **image_name;
} Collect;

static bool already_listed(const Collect *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->views[i].name, name) == 0)
            return true;
    return false;
}

static bool image_like(const Tensor *t)
{
    if (t->requires_grad)
        return false;
    if (t->ndim == 1) {
        int64_t n = t->shape[0];
        return n == 64 || n == 784;
    }
    return outputs_is_image_shape(t->ndim, t->shape);
}

static bool take_image(Collect *c, const char *name, const Tensor *t)
{
    if (c->image->present)
        return true;
    TensorSnap all = {0};
    if (!snap_view(&all, t))
        return false;
    int64_t side = t->ndim == 1 ? (t->shape[0] == 64 ? 8 : 28) : 0;
    int64_t shape[2] = {side, side};
    if (t->ndim >= 2) {
        shape[0] = t->shape[t->ndim - 2];
        shape[1] = t->shape[t->ndim - 1];
    }
    /* the first image of a batch */
    tensor_snap_set(c->image, 2, shape, all.data, all.integral);
    tensor_snap_free(&all);
    free(*c->image_name);
    *c->image_name = strdup(name);
    return true;
}

/* Does the memo still describe the parameter's value? */
static bool memo_current(const StepMemo *m, const TensorSnap *now)
{
    if (!m->after.present || m->after.numel != now->numel || m->after.ndim != now->ndim)
        return false;
    return memcmp(m->after.data, now->data, (size_t)now->numel * sizeof *now->data) == 0;
}

static void add_tensor(Collect *c, const char *name, const Tensor *t)
{
    if (c->n >= WATCH_MAX_PARAMS || !t || already_listed(c, name))
        return;
    if (image_like(t)) {
        take_image(c, name, t);
        return;
    }
    ParamView *v = &c->views[c->n];
    memset(v, 0, sizeof *v);
    v->name = strdup(name);
    /* the frame is drawn before the program runs on: the views may show
     * the tensors' own storage */
    if (!v->name || !snap_view(&v->value, t)) {
        param_view_free(v);
        return;
    }
    if (t->grad)
        snap_view(&v->grad, t->grad);
    for (int i = 0; i < c->w->n_memos; i++) {
        StepMemo *m = &c->w->memos[i];
        if (m->param == t && memo_current(m, &v->value)) {
            if (!m->stats_ready) {
                tensor_snap_restat(&m->before);
                tensor_snap_restat(&m->delta);
                m->stats_ready = true;
            }
            /* the views live for one frame, the memos longer */
            v->before = tensor_snap_borrow(&m->before);
            v->delta = tensor_snap_borrow(&m->delta);
        }
    }
    c->n++;
}

static const char *tensor_display_name(Collect *c, const Tensor *t, const char *fallback)
{
    const char *given = given_name(c->w, t);
    if (given)
        return given;
    const char *param = interp_param_name(c->in, t);
    if (param && !placeholder_name(param))
        return param;
    const char *var = watch_variable_name(c->in, t);
    if (var)
        return var;
    return param ? param : fallback;
}

/* A model, layer or optimizer: its parameters by their dotted names. */
static void add_model(Collect *c, Value model)
{
    if (val_is(model, OBJ_OPTIMIZER)) {
        Optimizer *o = ((ObjOptimizer *)model.as.obj)->o;
        for (int i = 0; i < o->n_params; i++) {
            char fallback[32];
            snprintf(fallback, sizeof fallback, "param%d", i);
            add_tensor(c, tensor_display_name(c, o->params[i], fallback), o->params[i]);
        }
        return;
    }
    bool had_error = c->in->diag.set;
    Value list;
    if (!nn_named_parameters(c->in, model, &list)) {
        if (!had_error)
            diag_clear(&c->in->diag);
        return;
    }
    ObjList *l = AS_LIST(list);
    for (int64_t i = 0; i < l->count; i++) {
        ObjTuple *pair = AS_TUPLE(l->items[i]);
        add_tensor(c, AS_STR(pair->items[0])->data, val_as_tensor(pair->items[1]));
    }
    value_release(list);
}

static void add_value(Collect *c, Value v, int index)
{
    if (val_is(v, OBJ_TENSOR)) {
        /* a tensor no variable holds (watch(x[0].view(8, 8))) */
        const Tensor *t = val_as_tensor(v);
        char fallback[32];
        if (image_like(t))
            snprintf(fallback, sizeof fallback, "image");
        else
            snprintf(fallback, sizeof fallback, "tensor %d", index + 1);
        add_tensor(c, tensor_display_name(c, t, fallback), t);
    } else if (val_is(v, OBJ_LAYER) || val_is(v, OBJ_OPTIMIZER) || is_module_instance(v)) {
        add_model(c, v);
    }
}

/* No watch() and no model yet: the global leaves that require a gradient. */
static void add_global_leaves(Collect *c)
{
    const Table *g = &c->in->globals;
    for (int i = 0; i < g->count; i++) {
        const Tensor *t = val_as_tensor(g->entries[i].value);
        if (t && t->requires_grad && tensor_is_leaf(t) && g->entries[i].key->data[0] != '_')
            add_tensor(c, g->entries[i].key->data, t);
    }
}

int watch_collect(Watch *w, Interp *in, ParamView **out, TensorSnap *image, char **image_name)
{
    *out = NULL;
    tensor_snap_free(image);
    Collect c = {w, in, calloc(WATCH_MAX_PARAMS, sizeof(ParamView)), 0, image, image_name};
    if (!c.views)
        return 0;
    if (val_is(in->watched, OBJ_LIST)) {
        ObjList *l = AS_LIST(in->watched);
        for (int64_t i = 0; i < l->count; i++)
            add_value(&c, l->items[i], (int)i);
    } else if (in->last_model.kind != VAL_NONE) {
        add_model(&c, in->last_model);
    } else {
        add_global_leaves(&c);
    }
    *out = c.views;
    return c.n;
}

void watch_views_free(ParamView *views, int n)
{
    if (!views)
        return;
    for (int i = 0; i < n; i++)
        param_view_free(&views[i]);
    free(views);
}
