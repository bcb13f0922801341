/*
 * lib_functional.c - `torch.nn.functional` (pre-imported as `F`): the
 * activations, losses, pooling and dropout of torch.nn as plain functions.
 * Softmax and sigmoid results are reported to the Outputs pane.
 */
#include <stdio.h>
#include <string.h>

#include "eval_internal.h"
#include "lib_nn.h"

/* Wrap an engine result (NULL: report the engine's error). */
static bool result(Interp *in, Tensor *r, const char *output_label, Value *out)
{
    if (!r)
        return rt_engine_error(in);
    if (output_label)
        nn_emit_output(in, output_label, r);
    *out = val_tensor(in, r);
    return true;
}

/* ---- activations ---- */

/* F.relu(input, inplace=False), F.sigmoid(input), F.tanh(input) */
static bool activation(Interp *in, const CallArgs *a, const char *name, Tensor *(*op)(Engine *, Tensor *),
                       const char *output_label, Value *out)
{
    static const char *const relu_names[] = {"input", "inplace", NULL};
    static const char *const names[] = {"input", NULL};
    bool relu = strcmp(name, "relu") == 0;
    Value v[2];
    Tensor *x;
    if (!args_parse(in, a, name, relu ? relu_names : names, 1, v) ||
        !nn_tensor_arg(in, v[0], name, "input", 1, &x) ||
        (relu && !nn_reject_option(in, v[1], "F.relu(inplace=True)")))
        return false;
    return result(in, op(&in->eng, x), output_label, out);
}

static bool f_relu(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return activation(in, a, "relu", tensor_relu, NULL, out);
}

static bool f_sigmoid(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return activation(in, a, "sigmoid", tensor_sigmoid, "sigmoid", out);
}

static bool f_tanh(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return activation(in, a, "tanh", tensor_tanh, NULL, out);
}

/* F.softmax(input, dim=None, _stacklevel=3, dtype=None) and F.log_softmax.
 * Without dim, PyTorch's legacy choice: 0 for 0-, 1- and 3-D inputs, else 1. */
static bool softmax_like(Interp *in, const CallArgs *a, bool log, Value *out)
{
    static const char *const names[] = {"input", "dim", "_stacklevel", "dtype", NULL};
    const char *name = log ? "log_softmax" : "softmax";
    Value v[4];
    Tensor *x;
    if (!args_parse(in, a, name, names, 1, v) || !nn_tensor_arg(in, v[0], name, "input", 1, &x))
        return false;
    if (arg_given(v[3]) && v[3].kind != VAL_NONE &&
        !(val_is(v[3], OBJ_DTYPE) && ((ObjDtype *)v[3].as.obj)->dtype == DTYPE_FLOAT32))
        return rt_error(in, "F.%s(dtype=...) is not part of nnl (only torch.float32)", name);
    int64_t dim;
    if (arg_given(v[1]) && v[1].kind != VAL_NONE) {
        if (!arg_int(in, v[1], "dim", &dim))
            return false;
    } else {
        dim = x->ndim == 0 || x->ndim == 1 || x->ndim == 3 ? 0 : 1;
    }
    Tensor *r = log ? tensor_log_softmax(&in->eng, x, dim) : tensor_softmax(&in->eng, x, dim);
    return result(in, r, log ? NULL : "softmax", out);
}

static bool f_softmax(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return softmax_like(in, a, false, out);
}

static bool f_log_softmax(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    return softmax_like(in, a, true, out);
}

/* ---- losses ---- */

typedef Tensor *(*LossFn)(Engine *eng, Tensor *input, Tensor *target, int reduction);

/* names: "input", "target", then the loss's options in PyTorch's order. */
static bool loss(Interp *in, const CallArgs *a, const char *name, const char *const *names, LossFn fn,
                 Value *out)
{
    Value v[8];
    Tensor *input, *target;
    char owner[64];
    snprintf(owner, sizeof owner, "F.%s", name);
    int reduction;
    if (!args_parse(in, a, name, names, 2, v) || !nn_tensor_arg(in, v[0], name, "input", 1, &input) ||
        !nn_tensor_arg(in, v[1], name, "target", 2, &target) ||
        !nn_loss_options(in, owner, names + 2, v + 2, &reduction))
        return false;
    return result(in, fn(&in->eng, input, target, reduction), NULL, out);
}

static bool f_mse_loss(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"input", "target", "size_average", "reduce", "reduction", NULL};
    return loss(in, a, "mse_loss", names, tensor_mse_loss, out);
}

static bool f_binary_cross_entropy(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"input", "target", "weight", "size_average", "reduce", "reduction",
                                        NULL};
    return loss(in, a, "binary_cross_entropy", names, tensor_bce_loss, out);
}

static bool f_nll_loss(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"input", "target", "weight", "size_average", "ignore_index",
                                        "reduce", "reduction", NULL};
    return loss(in, a, "nll_loss", names, tensor_nll_loss, out);
}

static bool f_cross_entropy(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"input", "target", "weight", "size_average", "ignore_index",
                                        "reduce", "reduction", "label_smoothing", NULL};
    return loss(in, a, "cross_entropy", names, tensor_cross_entropy, out);
}

/* ---- pooling and dropout ---- */

/* F.max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1,
 * ceil_mode=False, return_indices=False) */
static bool f_max_pool2d(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"input", "kernel_size", "stride", "padding", "dilation",
                                        "ceil_mode", "return_indices", NULL};
    Value v[7];
    Tensor *x;
    int64_t kernel, stride = 0, padding = 0, dilation = 1;
    bool has_stride;
    if (!args_parse(in, a, "max_pool2d", names, 2, v) || !nn_tensor_arg(in, v[0], "max_pool2d", "input", 1, &x) ||
        !nn_square_arg(in, v[1], "max_pool2d", "kernel_size", &kernel))
        return false;
    has_stride = arg_given(v[2]) && v[2].kind != VAL_NONE;
    if ((has_stride && !nn_square_arg(in, v[2], "max_pool2d", "stride", &stride)) ||
        (arg_given(v[3]) && !nn_square_arg(in, v[3], "max_pool2d", "padding", &padding)) ||
        (arg_given(v[4]) && !nn_square_arg(in, v[4], "max_pool2d", "dilation", &dilation)) ||
        !nn_reject_option(in, v[5], "F.max_pool2d(ceil_mode=True)") ||
        !nn_reject_option(in, v[6], "F.max_pool2d(return_indices=True)"))
        return false;
    if (padding != 0)
        return rt_error(in, "F.max_pool2d(padding=%lld) is not part of nnl", (long long)padding);
    if (dilation != 1)
        return rt_error(in, "F.max_pool2d(dilation=%lld) is not part of nnl", (long long)dilation);
    if (has_stride && stride == 0)
        return rt_error(in, "stride should be greater than zero, but got dH: 0 dW: 0");
    return result(in, tensor_max_pool2d(&in->eng, x, (int)kernel, (int)stride), NULL, out);
}

/* F.dropout(input, p=0.5, training=True, inplace=False) */
static bool f_dropout(Interp *in, Value self, const CallArgs *a, Value *out)
{
    (void)self;
    static const char *const names[] = {"input", "p", "training", "inplace", NULL};
    Value v[4];
    Tensor *x;
    double p = 0.5;
    bool training = true;
    if (!args_parse(in, a, "dropout", names, 1, v) || !nn_tensor_arg(in, v[0], "dropout", "input", 1, &x) ||
        (arg_given(v[1]) && !arg_double(in, v[1], "p", &p)) ||
        (arg_given(v[2]) && !value_truthy(in, v[2], &training)) ||
        !nn_reject_option(in, v[3], "F.dropout(inplace=True)"))
        return false;
    if (!(p >= 0.0 && p <= 1.0))
        return rt_error(in, "dropout probability has to be between 0 and 1, but got %g", p);
    return result(in, tensor_dropout(&in->eng, x, p, training), NULL, out);
}

ObjNamespace *lib_functional_init(Interp *in)
{
    ObjNamespace *f = namespace_new(in, "torch.nn.functional");
    namespace_add_native(in, f, "relu", f_relu);
    namespace_add_native(in, f, "sigmoid", f_sigmoid);
    namespace_add_native(in, f, "tanh", f_tanh);
    namespace_add_native(in, f, "softmax", f_softmax);
    namespace_add_native(in, f, "log_softmax", f_log_softmax);
    namespace_add_native(in, f, "mse_loss", f_mse_loss);
    namespace_add_native(in, f, "binary_cross_entropy", f_binary_cross_entropy);
    namespace_add_native(in, f, "cross_entropy", f_cross_entropy);
    namespace_add_native(in, f, "nll_loss", f_nll_loss);
    namespace_add_native(in, f, "max_pool2d", f_max_pool2d);
    namespace_add_native(in, f, "dropout", f_dropout);
    return f;
}
