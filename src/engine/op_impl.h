/*
 * op_impl.h - the forward and backward function of every op in op_table
 * (internal to the engine). Each pair is defined side by side in the source
 * file of its family: ops_elementwise.c, ops_reduce.c, ops_linalg.c,
 * ops_shape.c, ops_nn.c.
 */
#ifndef NNREPL_OP_IMPL_H
#define NNREPL_OP_IMPL_H

#include "autograd.h"
#include "kernels.h"
#include "ops.h"

#define DECLARE_OP(name)                                                      \
    Tensor *op_##name##_forward(Engine *eng, Node *node);                     \
    bool op_##name##_backward(Engine *eng, Node *node, const Tensor *gout, Tensor **gin)

/* ops_elementwise.c */
DECLARE_OP(add);
DECLARE_OP(sub);
DECLARE_OP(mul);
DECLARE_OP(div);
DECLARE_OP(remainder);
DECLARE_OP(pow);
DECLARE_OP(neg);
DECLARE_OP(exp);
DECLARE_OP(log);
DECLARE_OP(sqrt);
DECLARE_OP(abs);
DECLARE_OP(tanh);
DECLARE_OP(sigmoid);
DECLARE_OP(relu);
DECLARE_OP(clamp);

/* ops_reduce.c */
DECLARE_OP(sum);
DECLARE_OP(mean);
DECLARE_OP(max_dim);
DECLARE_OP(min_dim);
DECLARE_OP(max_all);
DECLARE_OP(min_all);

/* ops_linalg.c */
DECLARE_OP(matmul);
DECLARE_OP(linear);

/* ops_shape.c */
DECLARE_OP(view);
DECLARE_OP(transpose);
DECLARE_OP(expand);
DECLARE_OP(slice);
DECLARE_OP(select);
DECLARE_OP(index_select);
DECLARE_OP(cat);
DECLARE_OP(stack);
DECLARE_OP(clone);
DECLARE_OP(to_float);

/* ops_nn.c */
DECLARE_OP(softmax);
DECLARE_OP(log_softmax);
DECLARE_OP(mse_loss);
DECLARE_OP(bce_loss);
DECLARE_OP(nll_loss);
DECLARE_OP(cross_entropy);
DECLARE_OP(max_pool2d);
DECLARE_OP(dropout);

/* ops_conv.c */
DECLARE_OP(conv2d);

#endif
