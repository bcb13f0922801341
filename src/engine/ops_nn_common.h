/*
 * ops_nn_common.h - small helpers shared by ops_nn.c and ops_conv.c
 * (internal to the engine).
 */
#ifndef NNREPL_OPS_NN_COMMON_H
#define NNREPL_OPS_NN_COMMON_H

#include "kernels.h"

/* PyTorch's names of the dtypes, as its kernel messages print them. */
static inline const char *scalar_type_name(DType d)
{
    switch (d) {
    case DTYPE_INT64: return "Long";
    case DTYPE_BOOL: return "Bool";
    default: return "Float";
    }
}

/* "[64, 1, 32, 32]": PyTorch's way of printing sizes inside messages. */
static inline void sizes_format(char *buf, size_t size, int ndim, const int64_t *shape)
{
    dims_format(buf, size, ndim, shape, '[', ']');
}

static inline bool interrupted(const Engine *eng)
{
    return eng->interrupt_flag && *eng->interrupt_flag;
}

/* Scratch memory counted against the engine's limit. */
static inline float *scratch_alloc(Engine *eng, int64_t count, const char *what)
{
    return engine_alloc(eng, (size_t)count * sizeof(float), what);
}

static inline void scratch_free(Engine *eng, float *p, int64_t count)
{
    engine_free_accounted(eng, p, (size_t)count * sizeof(float));
}

#endif
