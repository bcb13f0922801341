/*
 * op_table.c - every differentiable operation of the engine, one row each:
 * its name for messages, the grad_fn name PyTorch prints, and its forward and
 * backward functions (defined side by side in the ops_*.c files).
 */
#include "op_impl.h"

#define OP(kind, name, grad_fn, fn) [kind] = {name, grad_fn, op_##fn##_forward, op_##fn##_backward}

const OpDef op_table[OP_COUNT] = {
    /* elementwise (ops_elementwise.c) */
    OP(OP_ADD, "add", "AddBackward0", add),
    OP(OP_SUB, "sub", "SubBackward0", sub),
    OP(OP_MUL, "mul", "MulBackward0", mul),
    OP(OP_DIV, "div", "DivBackward0", div),
    OP(OP_REMAINDER, "remainder", "RemainderBackward0", remainder),
    OP(OP_POW, "pow", "PowBackward0", pow),
    OP(OP_NEG, "neg", "NegBackward0", neg),
    OP(OP_EXP, "exp", "ExpBackward0", exp),
    OP(OP_LOG, "log", "LogBackward0", log),
    OP(OP_SQRT, "sqrt", "SqrtBackward0", sqrt),
    OP(OP_ABS, "abs", "AbsBackward0", abs),
    OP(OP_TANH, "tanh", "TanhBackward0", tanh),
    OP(OP_SIGMOID, "sigmoid", "SigmoidBackward0", sigmoid),
    OP(OP_RELU, "relu", "ReluBackward0", relu),
    OP(OP_CLAMP, "clamp", "ClampBackward1", clamp),
    /* reductions (ops_reduce.c) */
    OP(OP_SUM, "sum", "SumBackward0", sum),
    OP(OP_MEAN, "mean", "MeanBackward0", mean),
    OP(OP_MAX_DIM, "max", "MaxBackward0", max_dim),
    OP(OP_MIN_DIM, "min", "MinBackward0", min_dim),
    OP(OP_MAX_ALL, "max", "MaxBackward1", max_all),
    OP(OP_MIN_ALL, "min", "MinBackward1", min_all),
    /* linear algebra (ops_linalg.c); the wrappers name matmul's and
     * linear's many PyTorch variants */
    OP(OP_MATMUL, "matmul", "MmBackward0", matmul),
    OP(OP_LINEAR, "linear", "AddmmBackward0", linear),
    /* shape and indexing (ops_shape.c) */
    OP(OP_VIEW, "view", "ViewBackward0", view),
    OP(OP_TRANSPOSE, "transpose", "TransposeBackward0", transpose),
    OP(OP_EXPAND, "expand", "ExpandBackward0", expand),
    OP(OP_SLICE, "slice", "SliceBackward0", slice),
    OP(OP_SELECT, "select", "SelectBackward0", select),
    OP(OP_INDEX_SELECT, "index", "IndexBackward0", index_select),
    OP(OP_CAT, "cat", "CatBackward0", cat),
    OP(OP_STACK, "stack", "StackBackward0", stack),
    OP(OP_CLONE, "clone", "CloneBackward0", clone),
    OP(OP_TO_FLOAT, "float", "ToCopyBackward0", to_float),
    /* neural network (ops_nn.c; conv2d: ops_conv.c) */
    OP(OP_SOFTMAX, "softmax", "SoftmaxBackward0", softmax),
    OP(OP_LOG_SOFTMAX, "log_softmax", "LogSoftmaxBackward0", log_softmax),
    OP(OP_MSE_LOSS, "mse_loss", "MseLossBackward0", mse_loss),
    OP(OP_BCE_LOSS, "binary_cross_entropy", "BinaryCrossEntropyBackward0", bce_loss),
    OP(OP_NLL_LOSS, "nll_loss", "NllLossBackward0", nll_loss),
    /* cross_entropy is log_softmax + nll_loss: PyTorch prints the last */
    OP(OP_CROSS_ENTROPY, "cross_entropy", "NllLossBackward0", cross_entropy),
    OP(OP_CONV2D, "conv2d", "ConvolutionBackward0", conv2d),
    OP(OP_MAX_POOL2D, "max_pool2d", "MaxPool2DWithIndicesBackward0", max_pool2d),
    /* training-mode dropout is input * mask in PyTorch */
    OP(OP_DROPOUT, "dropout", "MulBackward0", dropout),
};
