/*
 * conv_fast.h - vectorised kernels for stride-1 convolutions (internal to
 * ops_nn.c).
 *
 * Both kernels read their input through a table of tap offsets: tap t of
 * output column j reads in[off[t] + j]. With a convolution's input planes
 * stored row after row (width PW), tap (c, ki, kj) is the offset
 * c·PH·PW + ki·PW + kj, and column j = oy·PW + ox is output (oy, ox): a
 * stride-1 convolution becomes a sum of shifted rows, with no im2col copy.
 *
 * They exist for AVX-512 and for AVX2 with FMA, chosen at run time;
 * ops_nn.c keeps its im2col + sgemm path for other CPUs and strides.
 */
#ifndef NNREPL_CONV_FAST_H
#define NNREPL_CONV_FAST_H

#include <stdbool.h>
#include <stdint.h>

#include "tensor.h"

typedef struct ConvKernels {
    /* out[o·ldo + j] = Σ_t wt[t·n_out + o] · in[off[t] + j]  (or += when
     * `accumulate`), for o < n_out, j < n. wt: (taps, n_out). Reads
     * in[off[t] + j] only for j < n. */
    void (*correlate)(const float *in, const int64_t *off, int64_t taps, const float *wt,
                      int64_t n_out, float *out, int64_t ldo, int64_t n, bool accumulate);
    /* dw[o·taps + t] += Σ_j dy[o·lddy + j] · in[off[t] + j], for o < n_out,
     * j < n. dw: (n_out, taps). */
    void (*weight_grad)(const float *in, const int64_t *off, int64_t taps, const float *dy,
                        int64_t lddy, int64_t n_out, float *dw, int64_t n);
} ConvKernels;

/* The best kernels this CPU runs (AVX-512, else AVX2 + FMA); false when it
 * has neither. `avx2_only` asks for the AVX2 ones (so tests can check them
 * on any CPU that has them). */
bool conv_fast_kernels(bool avx2_only, ConvKernels *out);

/* The algorithms of conv2d. AUTO takes the direct kernels for stride 1 when
 * the CPU has them, else im2col + sgemm with the wide or rows layout
 * (ops_nn.c explains them); the others exist so tests can compare paths. */
typedef enum ConvPath {
    CONV_PATH_AUTO, CONV_PATH_DIRECT, CONV_PATH_DIRECT_AVX2, CONV_PATH_WIDE, CONV_PATH_ROWS
} ConvPath;

/* tensor_conv2d through a chosen path. A DIRECT path the CPU cannot run, or
 * a stride other than 1, falls back to AUTO's choice of sgemm layout. */
Tensor *tensor_conv2d_path(Engine *eng, Tensor *input, Tensor *weight, Tensor *bias, int stride,
                           int padding, ConvPath path);

#endif
