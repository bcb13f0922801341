/*
 * nn.c - layers and loss modules (torch.nn): construction with PyTorch's
 * default initialisation, forward, parameters, train/eval and PyTorch's repr.
 */
#include "nn.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const KIND_NAMES[MOD_KIND_COUNT] = {
    [MOD_LINEAR] = "Linear",
    [MOD_CONV2D] = "Conv2d",
    [MOD_MAX_POOL2D] = "MaxPool2d",
    [MOD_RELU] = "ReLU",
    [MOD_SIGMOID] = "Sigmoid",
    [MOD_TANH] = "Tanh",
    [MOD_SOFTMAX] = "Softmax",
    [MOD_LOG_SOFTMAX] = "LogSoftmax",
    [MOD_FLATTEN] = "Flatten",
    [MOD_DROPOUT] = "Dropout",
    [MOD_SEQUENTIAL] = "Sequential",
    [MOD_MSE_LOSS] = "MSELoss",
    [MOD_BCE_LOSS] = "BCELoss",
    [MOD_CROSS_ENTROPY_LOSS] = "CrossEntropyLoss",
    [MOD_NLL_LOSS] = "NLLLoss",
};

const char *module_kind_name(ModuleKind kind)
{
    return kind >= 0 && kind < MOD_KIND_COUNT ? KIND_NAMES[kind] : "Module";
}

bool module_is_loss(const Module *m)
{
    return m->kind == MOD_MSE_LOSS || m->kind == MOD_BCE_LOSS ||
           m->kind == MOD_CROSS_ENTROPY_LOSS || m->kind == MOD_NLL_LOSS;
}

/* ---- construction ---- */

static Module *module_new(Engine *eng, ModuleKind kind)
{
    Module *m = calloc(1, sizeof *m);
    if (!m) {
        engine_fail(eng, "out of memory");
        return NULL;
    }
    m->refcount = 1;
    m->kind = kind;
    m->training = true;
    m->dim = MODULE_DIM_NONE;
    m->start_dim = 1;
    m->end_dim = -1;
    m->reduction = REDUCTION_MEAN;
    return m;
}

/* A parameter of the given shape drawn from U(-bound, bound), row-major, from
 * the engine's generator. */
static Tensor *uniform_parameter(Engine *eng, int ndim, const int64_t *shape, double bound)
{
    Tensor *t = tensor_empty(eng, DTYPE_FLOAT32, ndim, shape);
    if (!t)
        return NULL;
    float *d = tensor_data(t);
    int64_t n = tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)((2.0 * rng_uniform(&eng->rng) - 1.0) * bound);
    t->requires_grad = true;
    t->is_parameter = true;
    return t;
}

/* PyTorch's default: kaiming_uniform(a=√5) for the weight, which is
 * U(±1/√fan_in), and the same bound for the bias (0 when fan_in is 0). */
static bool init_weight_and_bias(Engine *eng, Module *m, int ndim, const int64_t *wshape,
                                 int64_t fan_in, bool bias)
{
    double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0;
    m->weight = uniform_parameter(eng, ndim, wshape, bound);
    if (!m->weight)
        return false;
    if (bias) {
        m->bias = uniform_parameter(eng, 1, wshape, bound);
        if (!m->bias)
            return false;
    }
    return true;
}

static bool check_size(Engine *eng, const char *what, int64_t v)
{
    if (v >= 0)
        return true;
    return engine_fail(eng, "%s must not be negative (got %lld)", what, (long long)v);
}

Module *module_linear(Engine *eng, int64_t in, int64_t out, bool bias)
{
    if (!check_size(eng, "Linear: in_features", in) || !check_size(eng, "Linear: out_features", out))
        return NULL;
    Module *m = module_new(eng, MOD_LINEAR);
    if (!m)
        return NULL;
    m->in_features = in;
    m->out_features = out;
    int64_t shape[2] = {out, in};
    if (!init_weight_and_bias(eng, m, 2, shape, in, bias)) {
        module_release(m);
        return NULL;
    }
    return m;
}

Module *module_conv2d(Engine *eng, int64_t in_ch, int64_t out_ch, int kernel, int stride,
                      int padding, bool bias)
{
    if (!check_size(eng, "Conv2d: in_channels", in_ch) ||
        !check_size(eng, "Conv2d: out_channels", out_ch))
        return NULL;
    if (kernel <= 0) {
        engine_fail(eng, "Conv2d: kernel_size must be positive (got %d)", kernel);
        return NULL;
    }
    if (stride <= 0) {
        engine_fail(eng, "non-positive stride is not supported");
        return NULL;
    }
    if (padding < 0) {
        engine_fail(eng, "negative padding is not supported");
        return NULL;
    }
    Module *m = module_new(eng, MOD_CONV2D);
    if (!m)
        return NULL;
    m->in_features = in_ch;
    m->out_features = out_ch;
    m->kernel = kernel;
    m->stride = stride;
    m->padding = padding;
    int64_t shape[4] = {out_ch, in_ch, kernel, kernel};
    if (!init_weight_and_bias(eng, m, 4, shape, in_ch * kernel * kernel, bias)) {
        module_release(m);
        return NULL;
    }
    return m;
}

Module *module_max_pool2d(Engine *eng, int kernel, int stride)
{
    if (kernel <= 0) {
        engine_fail(eng, "kernel size should be greater than zero, but got kH: %d kW: %d", kernel, kernel);
        return NULL;
    }
    if (stride < 0) {
        engine_fail(eng, "stride should be greater than zero, but got dH: %d dW: %d", stride, stride);
        return NULL;
    }
    Module *m = module_new(eng, MOD_MAX_POOL2D);
    if (m) {
        m->kernel = kernel;
        m->stride = stride > 0 ? stride : kernel; /* stride=None means the kernel size */
    }
    return m;
}

Module *module_simple(Engine *eng, ModuleKind kind)
{
    switch (kind) {
    case MOD_RELU: case MOD_SIGMOID: case MOD_TANH: case MOD_FLATTEN:
    case MOD_MSE_LOSS: case MOD_BCE_LOSS: case MOD_CROSS_ENTROPY_LOSS: case MOD_NLL_LOSS:
        return module_new(eng, kind);
    default:
        engine_fail(eng, "%s needs arguments", module_kind_name(kind));
        return NULL;
    }
}

Module *module_softmax(Engine *eng, ModuleKind kind, int64_t dim)
{
    if (kind != MOD_SOFTMAX && kind != MOD_LOG_SOFTMAX) {
        engine_fail(eng, "module_softmax: %s is not Softmax or LogSoftmax", module_kind_name(kind));
        return NULL;
    }
    Module *m = module_new(eng, kind);
    if (m)
        m->dim = dim;
    return m;
}

Module *module_flatten(Engine *eng, int64_t start_dim, int64_t end_dim)
{
    Module *m = module_new(eng, MOD_FLATTEN);
    if (m) {
        m->start_dim = start_dim;
        m->end_dim = end_dim;
    }
    return m;
}

Module *module_dropout(Engine *eng, double p)
{
    if (!(p >= 0.0 && p <= 1.0)) {
        engine_fail(eng, "dropout probability has to be between 0 and 1, but got %g", p);
        return NULL;
    }
    Module *m = module_new(eng, MOD_DROPOUT);
    if (m)
        m->p = p;
    return m;
}

Module *module_loss(Engine *eng, ModuleKind kind, int reduction)
{
    if (reduction != REDUCTION_NONE && reduction != REDUCTION_MEAN && reduction != REDUCTION_SUM) {
        engine_fail(eng, "%d is not a valid value for reduction", reduction);
        return NULL;
    }
    Module *m = module_simple(eng, kind);
    if (m && !module_is_loss(m)) {
        engine_fail(eng, "module_loss: %s is not a loss", module_kind_name(kind));
        module_release(m);
        return NULL;
    }
    if (m)
        m->reduction = reduction;
    return m;
}

Module *module_sequential(Engine *eng, int n, Module *const *children)
{
    if (n < 0) {
        engine_fail(eng, "Sequential: negative number of modules");
        return NULL;
    }
    Module *m = module_new(eng, MOD_SEQUENTIAL);
    if (!m)
        return NULL;
    if (n > 0) {
        m->children = calloc((size_t)n, sizeof *m->children);
        if (!m->children) {
            free(m);
            engine_fail(eng, "out of memory");
            return NULL;
        }
    }
    m->n_children = n;
    for (int i = 0; i < n; i++)
        m->children[i] = module_retain(children[i]);
    return m;
}

Module *module_retain(Module *m)
{
    if (m)
        m->refcount++;
    return m;
}

void module_release(Module *m)
{
    if (!m || --m->refcount > 0)
        return;
    tensor_release(m->weight);
    tensor_release(m->bias);
    for (int i = 0; i < m->n_children; i++)
        module_release(m->children[i]);
    free(m->children);
    free(m);
}

/* ---- forward ---- */

/* Softmax(dim=None): PyTorch's legacy choice of dim, 0 for 0-, 1- and 3-D
 * inputs, else 1. */
static int64_t implicit_softmax_dim(const Tensor *x)
{
    return x->ndim == 0 || x->ndim == 1 || x->ndim == 3 ? 0 : 1;
}

Tensor *module_forward(Engine *eng, Module *m, Tensor *x)
{
    switch (m->kind) {
    case MOD_LINEAR:
        return tensor_linear(eng, x, m->weight, m->bias);
    case MOD_CONV2D:
        return tensor_conv2d(eng, x, m->weight, m->bias, m->stride, m->padding);
    case MOD_MAX_POOL2D:
        return tensor_max_pool2d(eng, x, m->kernel, m->stride);
    case MOD_RELU:
        return tensor_relu(eng, x);
    case MOD_SIGMOID:
        return tensor_sigmoid(eng, x);
    case MOD_TANH:
        return tensor_tanh(eng, x);
    case MOD_SOFTMAX:
    case MOD_LOG_SOFTMAX: {
        int64_t dim = m->dim == MODULE_DIM_NONE ? implicit_softmax_dim(x) : m->dim;
        return m->kind == MOD_SOFTMAX ? tensor_softmax(eng, x, dim) : tensor_log_softmax(eng, x, dim);
    }
    case MOD_FLATTEN:
        return tensor_flatten(eng, x, m->start_dim, m->end_dim);
    case MOD_DROPOUT:
        return tensor_dropout(eng, x, m->p, m->training);
    case MOD_SEQUENTIAL: {
        Tensor *cur = tensor_retain(x);
        for (int i = 0; i < m->n_children && cur; i++) {
            Tensor *next = module_forward(eng, m->children[i], cur);
            tensor_release(cur);
            cur = next;
        }
        return cur;
    }
    default:
        engine_fail(eng, "%s takes two arguments (input, target)", module_kind_name(m->kind));
        return NULL;
    }
}

Tensor *module_loss_forward(Engine *eng, Module *m, Tensor *input, Tensor *target)
{
    switch (m->kind) {
    case MOD_MSE_LOSS:
        return tensor_mse_loss(eng, input, target, m->reduction);
    case MOD_BCE_LOSS:
        return tensor_bce_loss(eng, input, target, m->reduction);
    case MOD_CROSS_ENTROPY_LOSS:
        return tensor_cross_entropy(eng, input, target, m->reduction);
    case MOD_NLL_LOSS:
        return tensor_nll_loss(eng, input, target, m->reduction);
    default:
        engine_fail(eng, "%s is not a loss: it takes one input", module_kind_name(m->kind));
        return NULL;
    }
}

/* ---- parameters and modes ---- */

#define PARAM_NAME_MAX 256

static void visit_named(const char *prefix, const char *name, Tensor *t, ParamVisitor visit,
                        void *ctx)
{
    char full[PARAM_NAME_MAX];
    if (prefix && prefix[0])
        snprintf(full, sizeof full, "%s.%s", prefix, name);
    else
        snprintf(full, sizeof full, "%s", name);
    visit(full, t, ctx);
}

void module_visit_parameters(Module *m, const char *prefix, ParamVisitor visit, void *ctx)
{
    if (m->weight)
        visit_named(prefix, "weight", m->weight, visit, ctx);
    if (m->bias)
        visit_named(prefix, "bias", m->bias, visit, ctx);
    for (int i = 0; i < m->n_children; i++) {
        char child[PARAM_NAME_MAX];
        if (prefix && prefix[0])
            snprintf(child, sizeof child, "%s.%d", prefix, i);
        else
            snprintf(child, sizeof child, "%d", i);
        module_visit_parameters(m->children[i], child, visit, ctx);
    }
}

void module_set_training(Module *m, bool training)
{
    m->training = training;
    for (int i = 0; i < m->n_children; i++)
        module_set_training(m->children[i], training);
}

static void zero_grad_of(const char *name, Tensor *param, void *ctx)
{
    (void)name;
    (void)ctx;
    if (param->grad)
        tensor_fill_(param->grad, 0.0);
}

void module_zero_grad(Module *m)
{
    module_visit_parameters(m, NULL, zero_grad_of, NULL);
}

/* ---- repr ---- */

/* Appends to a fixed buffer, truncating safely. */
typedef struct TextBuf {
    char *buf;
    size_t size, used;
} TextBuf;

static void text_append(TextBuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_append(TextBuf *t, const char *fmt, ...)
{
    if (t->used + 1 >= t->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->used, t->size - t->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->used += (size_t)n < t->size - t->used ? (size_t)n : t->size - t->used - 1;
}

/* A double as Python's repr prints it: the shortest text that reads back
 * the same, with ".0" on whole numbers (0.5, 0.0, 0.25). */
static void python_float(char *out, size_t size, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    if (!strpbrk(out, ".eni"))
        strncat(out, ".0", size - strlen(out) - 1);
}

static void describe_into(const Module *m, TextBuf *t);

/* A child's repr inside Sequential: its later lines indented by two spaces. */
static void describe_child(const Module *child, TextBuf *t)
{
    size_t size = t->size > t->used ? t->size - t->used : 1;
    char *tmp = malloc(size);
    if (!tmp)
        return;
    TextBuf inner = {tmp, size, 0};
    tmp[0] = '\0';
    describe_into(child, &inner);
    for (const char *p = tmp; *p; p++) {
        text_append(t, "%c", *p);
        if (*p == '\n')
            text_append(t, "  ");
    }
    free(tmp);
}

static void describe_into(const Module *m, TextBuf *t)
{
    const char *name = module_kind_name(m->kind);
    switch (m->kind) {
    case MOD_LINEAR:
        text_append(t, "Linear(in_features=%lld, out_features=%lld, bias=%s)",
                    (long long)m->in_features, (long long)m->out_features,
                    m->bias ? "True" : "False");
        break;
    case MOD_CONV2D:
        text_append(t, "Conv2d(%lld, %lld, kernel_size=(%d, %d), stride=(%d, %d)",
                    (long long)m->in_features, (long long)m->out_features, m->kernel, m->kernel,
                    m->stride, m->stride);
        if (m->padding)
            text_append(t, ", padding=(%d, %d)", m->padding, m->padding);
        text_append(t, "%s)", m->bias ? "" : ", bias=False");
        break;
    case MOD_MAX_POOL2D:
        text_append(t, "MaxPool2d(kernel_size=%d, stride=%d, padding=0, dilation=1, ceil_mode=False)",
                    m->kernel, m->stride);
        break;
    case MOD_SOFTMAX:
    case MOD_LOG_SOFTMAX:
        if (m->dim == MODULE_DIM_NONE)
            text_append(t, "%s(dim=None)", name);
        else
            text_append(t, "%s(dim=%lld)", name, (long long)m->dim);
        break;
    case MOD_FLATTEN:
        text_append(t, "Flatten(start_dim=%lld, end_dim=%lld)", (long long)m->start_dim,
                    (long long)m->end_dim);
        break;
    case MOD_DROPOUT: {
        char p[32];
        python_float(p, sizeof p, m->p);
        text_append(t, "Dropout(p=%s, inplace=False)", p);
        break;
    }
    case MOD_SEQUENTIAL:
        if (m->n_children == 0) {
            text_append(t, "Sequential()");
            break;
        }
        text_append(t, "Sequential(\n");
        for (int i = 0; i < m->n_children; i++) {
            text_append(t, "  (%d): ", i);
            describe_child(m->children[i], t);
            text_append(t, "\n");
        }
        text_append(t, ")");
        break;
    default:
        text_append(t, "%s()", name);
        break;
    }
}

void module_describe(const Module *m, char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    TextBuf t = {buf, size, 0};
    describe_into(m, &t);
}
