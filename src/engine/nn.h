/*
 * nn.h - layers (torch.nn modules) built from the ops in ops.h.
 *
 * A Module owns its parameters (leaf tensors with requires_grad) and, for
 * Sequential, its children. Reference counted like tensors (tensor.h).
 * Initialisation is PyTorch's default, drawn from the Engine's generator:
 * weights kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
#ifndef NNREPL_NN_H
#define NNREPL_NN_H

#include "ops.h"

typedef enum ModuleKind {
    MOD_LINEAR, MOD_CONV2D, MOD_MAX_POOL2D,
    MOD_RELU, MOD_SIGMOID, MOD_TANH, MOD_SOFTMAX, MOD_LOG_SOFTMAX,
    MOD_FLATTEN, MOD_DROPOUT, MOD_SEQUENTIAL,
    MOD_MSE_LOSS, MOD_BCE_LOSS, MOD_CROSS_ENTROPY_LOSS, MOD_NLL_LOSS,
    MOD_KIND_COUNT
} ModuleKind;

/* Softmax(dim=None): the dim is chosen from the input's rank at forward
 * time, as PyTorch's legacy rule does (0 for 0-, 1- and 3-D inputs, else 1). */
#define MODULE_DIM_NONE INT64_MIN

typedef struct Module Module;
struct Module {
    int refcount;
    ModuleKind kind;
    bool training;                 /* train() / eval() */
    Tensor *weight;                /* Linear (out, in); Conv2d (out, in, k, k) */
    Tensor *bias;                  /* (out) or NULL */
    int64_t in_features, out_features; /* Linear; Conv2d: in/out channels */
    int kernel, stride, padding;   /* Conv2d, MaxPool2d (stride 0: = kernel) */
    int64_t dim;                   /* Softmax, LogSoftmax (or MODULE_DIM_NONE) */
    int64_t start_dim, end_dim;    /* Flatten (default 1, -1) */
    double p;                      /* Dropout */
    int reduction;                 /* losses: REDUCTION_* */
    int n_children;                /* Sequential */
    Module **children;             /* owned references */
};

/* Constructors: new reference or NULL + error (bad sizes, memory cap). */
Module *module_linear(Engine *eng, int64_t in, int64_t out, bool bias);
Module *module_conv2d(Engine *eng, int64_t in_ch, int64_t out_ch, int kernel,
                      int stride, int padding, bool bias);
Module *module_max_pool2d(Engine *eng, int kernel, int stride);
/* ReLU, Sigmoid, Tanh, Flatten (dims 1..-1), and the four losses (mean). */
Module *module_simple(Engine *eng, ModuleKind kind);
/* Softmax, LogSoftmax; dim may be MODULE_DIM_NONE. */
Module *module_softmax(Engine *eng, ModuleKind kind, int64_t dim);
Module *module_flatten(Engine *eng, int64_t start_dim, int64_t end_dim);
Module *module_dropout(Engine *eng, double p);
Module *module_loss(Engine *eng, ModuleKind kind, int reduction);
/* Takes its own references to children[0..n). */
Module *module_sequential(Engine *eng, int n, Module *const *children);

Module *module_retain(Module *m);
void module_release(Module *m);

/* "Linear", "Conv2d", ... (PyTorch's class names). */
const char *module_kind_name(ModuleKind kind);
bool module_is_loss(const Module *m);

/* Run a layer (not a loss): new reference or NULL + error. */
Tensor *module_forward(Engine *eng, Module *m, Tensor *x);
/* Run a loss module. */
Tensor *module_loss_forward(Engine *eng, Module *m, Tensor *input, Tensor *target);

/* Parameters in definition order (weight before bias, children in order).
 * Calls visit(name, tensor, ctx) for each; names as PyTorch's
 * named_parameters(): "weight", "0.weight", "2.bias". `prefix` may be NULL. */
typedef void (*ParamVisitor)(const char *name, Tensor *param, void *ctx);
void module_visit_parameters(Module *m, const char *prefix, ParamVisitor visit, void *ctx);
void module_set_training(Module *m, bool training);   /* recursive */
void module_zero_grad(Module *m);                     /* grads to zero, as PyTorch 1.13 */

/* PyTorch's repr: "Linear(in_features=1, out_features=1, bias=True)". */
void module_describe(const Module *m, char *buf, size_t size);

#endif
