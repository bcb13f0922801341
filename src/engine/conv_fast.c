/*
 * conv_fast.c - the kernels of conv_fast.h for AVX-512 and for AVX2 + FMA,
 * both instantiated from conv_fast_template.h.
 *
 * Register blocking (AVX-512 has 32 vector registers, AVX2 16):
 *   correlate     CO_MAX outputs × 2 vectors of columns: per tap, two loads
 *                 of the input row and one broadcast weight per output feed
 *                 2·CO_MAX fused multiply-adds (12 × 2 and 6 × 2 accumulators).
 *   weight_grad   WG_OUT outputs × 4 taps: per vector of columns, WG_OUT
 *                 gradient loads and four input loads feed 4·WG_OUT
 *                 multiply-adds (24 and 12 accumulators).
 * Column tails use masked loads and stores, which never touch the memory of
 * masked-off lanes.
 */
#include "conv_fast.h"

#if defined(__GNUC__) && defined(__x86_64__)

#include <immintrin.h>

/* ---- AVX-512 ---- */

#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f")))

AVX512_INLINE __mmask16 avx512_lanes(int64_t remaining)
{
    if (remaining >= 16)
        return (__mmask16)0xFFFF;
    return remaining <= 0 ? (__mmask16)0 : (__mmask16)((1u << remaining) - 1u);
}

#define ISA avx512
#define ISA_TARGET "avx512f"
#define VL 16
#define CO_MAX 12
#define WG_OUT 6
#define VEC __m512
#define MASK __mmask16
#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(x) _mm512_set1_ps(x)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_STOREU(p, v) _mm512_storeu_ps(p, v)
#define V_LOAD(m, p) _mm512_maskz_loadu_ps(m, p)
#define V_STORE(m, p, v) _mm512_mask_storeu_ps(p, m, v)
#define V_REDUCE(v) _mm512_reduce_add_ps(v)
#define M_LANES(r) avx512_lanes(r)
#include "conv_fast_template.h"

/* ---- AVX2 + FMA ---- */

#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

/* Lane masks are vectors here: lanes [0, r) all ones, read from a ramp. */
AVX2_INLINE __m256i avx2_lanes(int64_t remaining)
{
    static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    int64_t k = remaining < 0 ? 0 : remaining > 8 ? 8 : remaining;
    return _mm256_loadu_si256((const __m256i *)(ramp + 8 - k));
}

AVX2_INLINE float avx2_reduce(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

#define ISA avx2
#define ISA_TARGET "avx2,fma"
#define VL 8
#define CO_MAX 6
#define WG_OUT 3
#define VEC __m256
#define MASK __m256i
#define V_ZERO() _mm256_setzero_ps()
#define V_SET1(x) _mm256_set1_ps(x)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_LOAD(m, p) _mm256_maskload_ps(p, m)
#define V_STORE(m, p, v) _mm256_maskstore_ps(p, m, v)
#define V_REDUCE(v) avx2_reduce(v)
#define M_LANES(r) avx2_lanes(r)
#include "conv_fast_template.h"

bool conv_fast_kernels(bool avx2_only, ConvKernels *out)
{
    __builtin_cpu_init();
    if (!avx2_only && __builtin_cpu_supports("avx512f")) {
        *out = (ConvKernels){correlate_avx512, weight_grad_avx512};
        return true;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *out = (ConvKernels){correlate_avx2, weight_grad_avx2};
        return true;
    }
    return false;
}

#else /* not x86-64 GCC: ops_nn.c uses its sgemm path */

bool conv_fast_kernels(bool avx2_only, ConvKernels *out)
{
    (void)avx2_only;
    (void)out;
    return false;
}

#endif
