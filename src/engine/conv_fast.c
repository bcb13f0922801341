/*
 * conv_fast.c - the AVX-512 kernels of conv_fast.h.
 *
 * Register blocking:
 *   correlate     up to 8 outputs × 32 columns (16 accumulators): per tap,
 *                 two loads of the input row and one broadcast weight per
 *                 output feed 16 fused multiply-adds.
 *   weight_grad   up to 6 outputs × 4 taps (24 accumulators): per 16 columns,
 *                 six gradient loads and four input loads feed 24 multiply-adds.
 * Column tails use masked loads and stores, which never touch the memory of
 * masked-off lanes.
 */
#include "conv_fast.h"

#if defined(__GNUC__) && defined(__x86_64__)

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f")))
#define INLINE_TARGET static inline __attribute__((always_inline, target("avx512f")))

enum { LANES = 16, CO_MAX = 8, WG_OUT = 6, WG_TAPS = 4 };

bool conv_fast_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

/* Lanes [0, remaining) of a 16-lane vector. */
INLINE_TARGET __mmask16 lanes_mask(int64_t remaining)
{
    if (remaining >= LANES)
        return (__mmask16)0xFFFF;
    return remaining <= 0 ? (__mmask16)0 : (__mmask16)((1u << remaining) - 1u);
}

/* out[o][j0 .. j0+32) for the CO outputs of wt (weights `ws` apart per tap). */
INLINE_TARGET void correlate_block(const float *in, const int64_t *off, int64_t taps,
                                   const float *wt, int64_t ws, float *out, int64_t ldo,
                                   int64_t j0, int64_t n, bool accumulate, const int CO)
{
    __mmask16 m0 = lanes_mask(n - j0), m1 = lanes_mask(n - j0 - LANES);
    __m512 acc[CO_MAX][2];
#pragma GCC unroll 8
    for (int o = 0; o < CO; o++) {
        acc[o][0] = accumulate ? _mm512_maskz_loadu_ps(m0, out + o * ldo + j0) : _mm512_setzero_ps();
        acc[o][1] = accumulate ? _mm512_maskz_loadu_ps(m1, out + o * ldo + j0 + LANES)
                               : _mm512_setzero_ps();
    }
    for (int64_t t = 0; t < taps; t++) {
        const float *p = in + off[t] + j0;
        __m512 x0 = _mm512_maskz_loadu_ps(m0, p);
        __m512 x1 = _mm512_maskz_loadu_ps(m1, p + LANES);
        const float *w = wt + t * ws;
#pragma GCC unroll 8
        for (int o = 0; o < CO; o++) {
            __m512 wv = _mm512_set1_ps(w[o]);
            acc[o][0] = _mm512_fmadd_ps(wv, x0, acc[o][0]);
            acc[o][1] = _mm512_fmadd_ps(wv, x1, acc[o][1]);
        }
    }
#pragma GCC unroll 8
    for (int o = 0; o < CO; o++) {
        _mm512_mask_storeu_ps(out + o * ldo + j0, m0, acc[o][0]);
        _mm512_mask_storeu_ps(out + o * ldo + j0 + LANES, m1, acc[o][1]);
    }
}

INLINE_TARGET void correlate_outputs(const float *in, const int64_t *off, int64_t taps,
                                     const float *wt, int64_t ws, float *out, int64_t ldo,
                                     int64_t n, bool accumulate, const int CO)
{
    for (int64_t j0 = 0; j0 < n; j0 += 2 * LANES)
        correlate_block(in, off, taps, wt, ws, out, ldo, j0, n, accumulate, CO);
}

/* One instantiation per block height, so that the accumulators stay in registers. */
#define CORRELATE_CASE(CO)                                                                   \
    case CO:                                                                                 \
        correlate_outputs(in, off, taps, wt + o0, n_out, out + o0 * ldo, ldo, n, accumulate, CO); \
        break

TARGET void conv_fast_correlate(const float *in, const int64_t *off, int64_t taps, const float *wt,
                                int64_t n_out, float *out, int64_t ldo, int64_t n, bool accumulate)
{
    /* blocks of equal height (6 outputs: one block of 6, not 4 + 2) */
    int64_t blocks = (n_out + CO_MAX - 1) / CO_MAX;
    int64_t height = blocks > 0 ? (n_out + blocks - 1) / blocks : 0;
    for (int64_t o0 = 0; o0 < n_out; o0 += height) {
        int64_t co = n_out - o0 < height ? n_out - o0 : height;
        switch (co) {
            CORRELATE_CASE(1);
            CORRELATE_CASE(2);
            CORRELATE_CASE(3);
            CORRELATE_CASE(4);
            CORRELATE_CASE(5);
            CORRELATE_CASE(6);
            CORRELATE_CASE(7);
            CORRELATE_CASE(8);
        }
    }
}

/* sums[o][t] = Σ_j dy_o[j] · in[off_t + j] for RO rows × 4 taps; taps
 * beyond n_taps read nothing (mask 0) and are ignored. */
INLINE_TARGET void weight_grad_block(const float *in, const int64_t *off, int n_taps,
                                     const float *dy, int64_t lddy, int64_t n,
                                     float sums[WG_OUT][WG_TAPS], const int RO)
{
    const float *xs[WG_TAPS];
    __mmask16 tap_on[WG_TAPS];
#pragma GCC unroll 4
    for (int t = 0; t < WG_TAPS; t++) {
        xs[t] = in + off[t < n_taps ? t : 0];
        tap_on[t] = t < n_taps ? (__mmask16)0xFFFF : (__mmask16)0;
    }
    __m512 acc[WG_OUT][WG_TAPS];
#pragma GCC unroll 6
    for (int o = 0; o < RO; o++)
#pragma GCC unroll 4
        for (int t = 0; t < WG_TAPS; t++)
            acc[o][t] = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j += LANES) {
        __mmask16 m = lanes_mask(n - j);
        __m512 d[WG_OUT];
#pragma GCC unroll 6
        for (int o = 0; o < RO; o++)
            d[o] = _mm512_maskz_loadu_ps(m, dy + o * lddy + j);
#pragma GCC unroll 4
        for (int t = 0; t < WG_TAPS; t++) {
            __m512 x = _mm512_maskz_loadu_ps(m & tap_on[t], xs[t] + j);
#pragma GCC unroll 6
            for (int o = 0; o < RO; o++)
                acc[o][t] = _mm512_fmadd_ps(d[o], x, acc[o][t]);
        }
    }
#pragma GCC unroll 6
    for (int o = 0; o < RO; o++)
#pragma GCC unroll 4
        for (int t = 0; t < WG_TAPS; t++)
            sums[o][t] = _mm512_reduce_add_ps(acc[o][t]);
}

INLINE_TARGET void weight_grad_rows(const float *in, const int64_t *off, int64_t taps,
                                    const float *dy, int64_t lddy, float *dw, int64_t n,
                                    const int RO)
{
    for (int64_t t0 = 0; t0 < taps; t0 += WG_TAPS) {
        int nt = taps - t0 < WG_TAPS ? (int)(taps - t0) : WG_TAPS;
        float sums[WG_OUT][WG_TAPS];
        weight_grad_block(in, off + t0, nt, dy, lddy, n, sums, RO);
        for (int o = 0; o < RO; o++)
            for (int t = 0; t < nt; t++)
                dw[o * taps + t0 + t] += sums[o][t];
    }
}

#define WEIGHT_GRAD_CASE(RO)                                                                 \
    case RO:                                                                                 \
        weight_grad_rows(in, off, taps, dy + o0 * lddy, lddy, dw + o0 * taps, n, RO);        \
        break

TARGET void conv_fast_weight_grad(const float *in, const int64_t *off, int64_t taps, const float *dy,
                                  int64_t lddy, int64_t n_out, float *dw, int64_t n)
{
    int64_t blocks = (n_out + WG_OUT - 1) / WG_OUT;
    int64_t height = blocks > 0 ? (n_out + blocks - 1) / blocks : 0;
    for (int64_t o0 = 0; o0 < n_out; o0 += height) {
        int64_t rows = n_out - o0 < height ? n_out - o0 : height;
        switch (rows) {
            WEIGHT_GRAD_CASE(1);
            WEIGHT_GRAD_CASE(2);
            WEIGHT_GRAD_CASE(3);
            WEIGHT_GRAD_CASE(4);
            WEIGHT_GRAD_CASE(5);
            WEIGHT_GRAD_CASE(6);
        }
    }
}

#else /* no x86-64 GCC: the kernels are never chosen */

bool conv_fast_available(void)
{
    return false;
}

void conv_fast_correlate(const float *in, const int64_t *off, int64_t taps, const float *wt,
                         int64_t n_out, float *out, int64_t ldo, int64_t n, bool accumulate)
{
    (void)in, (void)off, (void)taps, (void)wt, (void)n_out, (void)out, (void)ldo, (void)n;
    (void)accumulate;
}

void conv_fast_weight_grad(const float *in, const int64_t *off, int64_t taps, const float *dy,
                           int64_t lddy, int64_t n_out, float *dw, int64_t n)
{
    (void)in, (void)off, (void)taps, (void)dy, (void)lddy, (void)n_out, (void)dw, (void)n;
}

#endif
