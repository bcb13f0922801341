/*
 * conv_fast_template.h - the kernels of conv_fast.h for one instruction set.
 * conv_fast.c includes this file once per set, after defining:
 *
 *   ISA              name suffix (avx512, avx2)
 *   ISA_TARGET       the target attribute string
 *   VL               floats per vector
 *   CO_MAX, WG_OUT   register blocking (see conv_fast.c)
 *   VEC, MASK        vector and lane-mask types
 *   V_ZERO() V_SET1(x) V_FMA(a, b, c)   c + a·b
 *   V_LOADU(p) V_STOREU(p, v)           whole vectors
 *   V_LOAD(m, p) V_STORE(m, p, v)       masked: lanes outside m are 0 / untouched
 *   V_REDUCE(v)      sum of the lanes
 *   M_LANES(r)       lanes [0, r) (all for r >= VL, none for r <= 0)
 *
 * and undefines them all at its end, ready for the next set.
 *
 * No include guard: it is meant to be included more than once.
 */

#define CF_CAT2(a, b) a##_##b
#define CF_CAT(a, b) CF_CAT2(a, b)
#define CF_NAME(name) CF_CAT(name, ISA)
#define CF_INLINE static inline __attribute__((always_inline, target(ISA_TARGET)))
#define CF_FUNC static __attribute__((target(ISA_TARGET)))

enum { CF_NAME(WG_TAPS) = 4 };

/* The height of the blocks that split n rows evenly, none over `max`
 * (6 rows under a maximum of 4: blocks of 3 + 3, not 4 + 2). */
CF_INLINE int64_t CF_NAME(block_height)(int64_t n, int64_t max)
{
    int64_t blocks = (n + max - 1) / max;
    return blocks > 0 ? (n + blocks - 1) / blocks : 1;
}

/* out[o][j0 .. j0 + 2·VL) for CO outputs (weights `ws` apart per tap).
 * FULL: all 2·VL columns exist, so no masks take registers or time. */
CF_INLINE void CF_NAME(correlate_block)(const float *in, const int64_t *off, int64_t taps,
                                        const float *wt, int64_t ws, float *out, int64_t ldo,
                                        int64_t j0, int64_t n, bool accumulate, const int CO,
                                        const bool FULL)
{
    MASK m0 = M_LANES(n - j0), m1 = M_LANES(n - j0 - VL);
    VEC acc[CO_MAX][2];
#pragma GCC unroll 12
    for (int o = 0; o < CO; o++) {
        float *q = out + o * ldo + j0;
        acc[o][0] = !accumulate ? V_ZERO() : FULL ? V_LOADU(q) : V_LOAD(m0, q);
        acc[o][1] = !accumulate ? V_ZERO() : FULL ? V_LOADU(q + VL) : V_LOAD(m1, q + VL);
    }
    for (int64_t t = 0; t < taps; t++) {
        const float *p = in + off[t] + j0;
        VEC x0 = FULL ? V_LOADU(p) : V_LOAD(m0, p);
        VEC x1 = FULL ? V_LOADU(p + VL) : V_LOAD(m1, p + VL);
        const float *w = wt + t * ws;
#pragma GCC unroll 12
        for (int o = 0; o < CO; o++) {
            VEC wv = V_SET1(w[o]);
            acc[o][0] = V_FMA(wv, x0, acc[o][0]);
            acc[o][1] = V_FMA(wv, x1, acc[o][1]);
        }
    }
#pragma GCC unroll 12
    for (int o = 0; o < CO; o++) {
        float *q = out + o * ldo + j0;
        if (FULL) {
            V_STOREU(q, acc[o][0]);
            V_STOREU(q + VL, acc[o][1]);
        } else {
            V_STORE(m0, q, acc[o][0]);
            V_STORE(m1, q + VL, acc[o][1]);
        }
    }
}

CF_INLINE void CF_NAME(correlate_rows)(const float *in, const int64_t *off, int64_t taps,
                                       const float *wt, int64_t ws, float *out, int64_t ldo,
                                       int64_t n, bool accumulate, const int CO)
{
    int64_t j0 = 0;
    for (; j0 + 2 * VL <= n; j0 += 2 * VL)
        CF_NAME(correlate_block)(in, off, taps, wt, ws, out, ldo, j0, n, accumulate, CO, true);
    if (j0 < n)
        CF_NAME(correlate_block)(in, off, taps, wt, ws, out, ldo, j0, n, accumulate, CO, false);
}

/* One instantiation per block height keeps the accumulators in registers. */
#define CF_CORRELATE_CASE(CO)                                                                \
    case CO:                                                                                 \
        CF_NAME(correlate_rows)(in, off, taps, wt + o0, n_out, out + o0 * ldo, ldo, n,       \
                                accumulate, CO);                                             \
        break

CF_FUNC void CF_NAME(correlate)(const float *in, const int64_t *off, int64_t taps, const float *wt,
                                int64_t n_out, float *out, int64_t ldo, int64_t n, bool accumulate)
{
    int64_t height = CF_NAME(block_height)(n_out, CO_MAX);
    for (int64_t o0 = 0; o0 < n_out; o0 += height) {
        int64_t co = n_out - o0 < height ? n_out - o0 : height;
        switch (co) {
            CF_CORRELATE_CASE(1);
            CF_CORRELATE_CASE(2);
            CF_CORRELATE_CASE(3);
            CF_CORRELATE_CASE(4);
            CF_CORRELATE_CASE(5);
            CF_CORRELATE_CASE(6);
#if CO_MAX > 6
            CF_CORRELATE_CASE(7);
            CF_CORRELATE_CASE(8);
            CF_CORRELATE_CASE(9);
            CF_CORRELATE_CASE(10);
            CF_CORRELATE_CASE(11);
            CF_CORRELATE_CASE(12);
#endif
        }
    }
}

/* sums[o][t] = Σ_j dy_o[j] · in[off[t] + j] for RO rows × NT taps. */
CF_INLINE void CF_NAME(weight_grad_block)(const float *in, const int64_t *off, const float *dy,
                                          int64_t lddy, int64_t n,
                                          float sums[WG_OUT][CF_NAME(WG_TAPS)], const int RO,
                                          const int NT)
{
    enum { TAPS = CF_NAME(WG_TAPS) };
    const float *xs[TAPS];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++)
        xs[t] = in + off[t];
    VEC acc[WG_OUT][TAPS];
#pragma GCC unroll 6
    for (int o = 0; o < RO; o++)
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++)
            acc[o][t] = V_ZERO();
    int64_t j = 0;
    for (; j + VL <= n; j += VL) {
        VEC d[WG_OUT];
#pragma GCC unroll 6
        for (int o = 0; o < RO; o++)
            d[o] = V_LOADU(dy + o * lddy + j);
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++) {
            VEC x = V_LOADU(xs[t] + j);
#pragma GCC unroll 6
            for (int o = 0; o < RO; o++)
                acc[o][t] = V_FMA(d[o], x, acc[o][t]);
        }
    }
    if (j < n) {
        MASK m = M_LANES(n - j);
        VEC d[WG_OUT];
#pragma GCC unroll 6
        for (int o = 0; o < RO; o++)
            d[o] = V_LOAD(m, dy + o * lddy + j);
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++) {
            VEC x = V_LOAD(m, xs[t] + j);
#pragma GCC unroll 6
            for (int o = 0; o < RO; o++)
                acc[o][t] = V_FMA(d[o], x, acc[o][t]);
        }
    }
#pragma GCC unroll 6
    for (int o = 0; o < RO; o++)
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++)
            sums[o][t] = V_REDUCE(acc[o][t]);
}

/* dw rows [0, RO) for all taps, NT taps at a time (NT a constant per call). */
#define CF_TAPS_CASE(NT)                                                                     \
    case NT:                                                                                 \
        CF_NAME(weight_grad_block)(in, off + t0, dy, lddy, n, sums, RO, NT);                 \
        break

CF_INLINE void CF_NAME(weight_grad_rows)(const float *in, const int64_t *off, int64_t taps,
                                         const float *dy, int64_t lddy, float *dw, int64_t n,
                                         const int RO)
{
    enum { TAPS = CF_NAME(WG_TAPS) };
    for (int64_t t0 = 0; t0 < taps; t0 += TAPS) {
        int nt = taps - t0 < TAPS ? (int)(taps - t0) : TAPS;
        float sums[WG_OUT][TAPS];
        switch (nt) {
            CF_TAPS_CASE(1);
            CF_TAPS_CASE(2);
            CF_TAPS_CASE(3);
        default: /* 4 */
            CF_NAME(weight_grad_block)(in, off + t0, dy, lddy, n, sums, RO, TAPS);
        }
        for (int o = 0; o < RO; o++)
            for (int t = 0; t < nt; t++)
                dw[o * taps + t0 + t] += sums[o][t];
    }
}

#define CF_WEIGHT_GRAD_CASE(RO)                                                              \
    case RO:                                                                                 \
        CF_NAME(weight_grad_rows)(in, off, taps, dy + o0 * lddy, lddy, dw + o0 * taps, n, RO); \
        break

CF_FUNC void CF_NAME(weight_grad)(const float *in, const int64_t *off, int64_t taps, const float *dy,
                                  int64_t lddy, int64_t n_out, float *dw, int64_t n)
{
    int64_t height = CF_NAME(block_height)(n_out, WG_OUT);
    for (int64_t o0 = 0; o0 < n_out; o0 += height) {
        int64_t rows = n_out - o0 < height ? n_out - o0 : height;
        switch (rows) {
            CF_WEIGHT_GRAD_CASE(1);
            CF_WEIGHT_GRAD_CASE(2);
            CF_WEIGHT_GRAD_CASE(3);
#if WG_OUT > 3
            CF_WEIGHT_GRAD_CASE(4);
            CF_WEIGHT_GRAD_CASE(5);
            CF_WEIGHT_GRAD_CASE(6);
#endif
        }
    }
}

#undef CF_CORRELATE_CASE
#undef CF_TAPS_CASE
#undef CF_WEIGHT_GRAD_CASE
#undef CF_FUNC
#undef CF_INLINE
#undef CF_NAME
#undef CF_CAT
#undef CF_CAT2

/* the parameters, so that conv_fast.c can define them for the next set */
#undef ISA
#undef ISA_TARGET
#undef VL
#undef CO_MAX
#undef WG_OUT
#undef VEC
#undef MASK
#undef V_ZERO
#undef V_SET1
#undef V_FMA
#undef V_LOADU
#undef V_STOREU
#undef V_LOAD
#undef V_STORE
#undef V_REDUCE
#undef M_LANES
