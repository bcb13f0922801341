/*
 * ops_elementwise.c - arithmetic with broadcasting, and the unary functions.
 * Each differentiable op: forward and backward side by side.
 */
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "op_impl.h"

/* ---- the broadcasting binary kernel ---- */

DType promote_types(const Tensor *a, const Tensor *b)
{
    if (a->dtype == DTYPE_FLOAT32 || b->dtype == DTYPE_FLOAT32)
        return DTYPE_FLOAT32;
    if (a->dtype == DTYPE_INT64 || b->dtype == DTYPE_INT64)
        return DTYPE_INT64;
    return DTYPE_BOOL;
}

static float floor_div(float x, float y)
{
    return floorf(x / y);
}

static float python_remainder(float x, float y)
{
    float r = fmodf(x, y);
    if (r != 0.0f && ((r < 0.0f) != (y < 0.0f)))
        r += y;
    return r;
}

/* One row: n elements, a and b read with strides sa, sb (0 = broadcast). The
 * common stride patterns get their own loops so the compiler vectorises them. */
#define ROW_LOOP(EXPR)                                                        \
    do {                                                                      \
        if (sa == 1 && sb == 1) {                                             \
            for (int64_t i = 0; i < n; i++) {                                 \
                float x = a[i], y = b[i];                                     \
                out[i] = (EXPR);                                              \
            }                                                                 \
        } else if (sa == 1 && sb == 0) {                                      \
            float y = b[0];                                                   \
            for (int64_t i = 0; i < n; i++) {                                 \
                float x = a[i];                                               \
                out[i] = (EXPR);                                              \
            }                                                                 \
        } else if (sa == 0 && sb == 1) {                                      \
            float x = a[0];                                                   \
            for (int64_t i = 0; i < n; i++) {                                 \
                float y = b[i];                                               \
                out[i] = (EXPR);                                              \
            }                                                                 \
        } else {                                                              \
            for (int64_t i = 0; i < n; i++) {                                 \
                float x = a[i * sa], y = b[i * sb];                           \
                out[i] = (EXPR);                                              \
            }                                                                 \
        }                                                                     \
    } while (0)

static void binary_row(BinaryKernel k, float *out, const float *a, int64_t sa,
                       const float *b, int64_t sb, int64_t n)
{
    switch (k) {
    case BK_ADD: ROW_LOOP(x + y); break;
    case BK_SUB: ROW_LOOP(x - y); break;
    case BK_MUL: ROW_LOOP(x * y); break;
    case BK_DIV: ROW_LOOP(x / y); break;
    case BK_POW: ROW_LOOP(y == 2.0f ? x * x : powf(x, y)); break;
    case BK_FLOOR_DIV: ROW_LOOP(floor_div(x, y)); break;
    case BK_REMAINDER: ROW_LOOP(python_remainder(x, y)); break;
    case BK_EQ: ROW_LOOP((float)(x == y)); break;
    case BK_NE: ROW_LOOP((float)(x != y)); break;
    case BK_LT: ROW_LOOP((float)(x < y)); break;
    case BK_LE: ROW_LOOP((float)(x <= y)); break;
    case BK_GT: ROW_LOOP((float)(x > y)); break;
    case BK_GE: ROW_LOOP((float)(x >= y)); break;
    }
}

/* Pad a broadcast plan to four dims (leading dims of size 1). */
static void pad4(int ndim, const int64_t *shape, const int64_t *sa, const int64_t *sb,
                 int64_t shape4[4], int64_t sa4[4], int64_t sb4[4])
{
    for (int i = 0; i < 4; i++) {
        int j = ndim - 4 + i;
        shape4[i] = j >= 0 ? shape[j] : 1;
        sa4[i] = j >= 0 ? sa[j] : 0;
        sb4[i] = j >= 0 ? sb[j] : 0;
    }
}

Tensor *binary_map(Engine *eng, const char *op, BinaryKernel k, const Tensor *a,
                   const Tensor *b, DType dtype)
{
    int nd;
    int64_t shape[TENSOR_MAX_DIMS];
    if (!broadcast_tensors_shape(eng, op, a, b, &nd, shape))
        return NULL;
    Tensor *out = tensor_empty(eng, dtype, nd, shape);
    if (!out)
        return NULL;
    float *o = tensor_data(out);
    const float *pa = tensor_data(a), *pb = tensor_data(b);
    int64_t n = tensor_numel(out);
    bool a_flat = tensor_is_contiguous(a), b_flat = tensor_is_contiguous(b);
    /* Fast paths: same-shape contiguous operands, or one single element. */
    if (a_flat && b_flat && tensor_numel(a) == n && tensor_numel(b) == n) {
        binary_row(k, o, pa, 1, pb, 1, n);
        return out;
    }
    if (a_flat && tensor_numel(a) == n && tensor_numel(b) == 1) {
        binary_row(k, o, pa, 1, pb, 0, n);
        return out;
    }
    if (b_flat && tensor_numel(b) == n && tensor_numel(a) == 1) {
        binary_row(k, o, pa, 0, pb, 1, n);
        return out;
    }
    int64_t sa[TENSOR_MAX_DIMS], sb[TENSOR_MAX_DIMS];
    broadcast_to_strides(eng, a, nd, shape, sa);
    broadcast_to_strides(eng, b, nd, shape, sb);
    int64_t s4[4], a4[4], b4[4];
    pad4(nd, shape, sa, sb, s4, a4, b4);
    for (int64_t i0 = 0; i0 < s4[0]; i0++)
        for (int64_t i1 = 0; i1 < s4[1]; i1++)
            for (int64_t i2 = 0; i2 < s4[2]; i2++) {
                const float *ra = pa + i0 * a4[0] + i1 * a4[1] + i2 * a4[2];
                const float *rb = pb + i0 * b4[0] + i1 * b4[1] + i2 * b4[2];
                binary_row(k, o, ra, a4[3], rb, b4[3], s4[3]);
                o += s4[3];
            }
    return out;
}

bool grad_accumulate_scaled(Engine *eng, Tensor *target, const Tensor *g, float alpha)
{
    if (alpha == 1.0f)
        return grad_accumulate_reduced(eng, target, g);
    Tensor *scale = tensor_scalar(eng, DTYPE_FLOAT32, alpha);
    if (!scale)
        return false;
    Tensor *scaled = binary_map(eng, "grad", BK_MUL, g, scale, DTYPE_FLOAT32);
    tensor_release(scale);
    if (!scaled)
        return false;
    bool ok = grad_accumulate_reduced(eng, target, scaled);
    tensor_release(scaled);
    return ok;
}

/* target += reduce(x (op) y) */
static bool accumulate_product(Engine *eng, Tensor *target, BinaryKernel k, const Tensor *x,
                               const Tensor *y)
{
    Tensor *p = binary_map(eng, "grad", k, x, y, DTYPE_FLOAT32);
    if (!p)
        return false;
    bool ok = grad_accumulate_reduced(eng, target, p);
    tensor_release(p);
    return ok;
}

/* The output as a separate alias (no grad_fn), for backward functions. */
static bool save_output(Engine *eng, Node *n, int slot, Tensor *out)
{
    n->saved[slot] = tensor_alias(eng, out);
    return n->saved[slot] != NULL;
}

static Tensor *finish_with_saved_output(Engine *eng, Node *n, Tensor *out)
{
    if (out && !save_output(eng, n, 0, out)) {
        tensor_release(out);
        return NULL;
    }
    return out;
}

static DType arithmetic_dtype(const Tensor *a, const Tensor *b)
{
    DType d = promote_types(a, b);
    return d == DTYPE_BOOL ? DTYPE_BOOL : d;
}

/* ---- add: out = a + b ---- */

Tensor *op_add_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0], *b = n->inputs[1];
    return binary_map(eng, "add", BK_ADD, a, b, arithmetic_dtype(a, b));
}

bool op_add_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)n;
    if (gin[0] && !grad_accumulate_reduced(eng, gin[0], gout))
        return false;
    return !gin[1] || grad_accumulate_reduced(eng, gin[1], gout);
}

/* ---- sub: out = a - b ---- */

Tensor *op_sub_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0], *b = n->inputs[1];
    if (a->dtype == DTYPE_BOOL && b->dtype == DTYPE_BOOL) {
        engine_fail(eng, "subtraction of two bool tensors is not supported; use logical_xor or ~ instead");
        return NULL;
    }
    return binary_map(eng, "sub", BK_SUB, a, b, arithmetic_dtype(a, b));
}

bool op_sub_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)n;
    if (gin[0] && !grad_accumulate_reduced(eng, gin[0], gout))
        return false;
    return !gin[1] || grad_accumulate_scaled(eng, gin[1], gout, -1.0f);
}

/* ---- mul: out = a * b ---- */

Tensor *op_mul_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0], *b = n->inputs[1];
    return binary_map(eng, "mul", BK_MUL, a, b, arithmetic_dtype(a, b));
}

bool op_mul_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *a = n->inputs[0], *b = n->inputs[1];
    if (gin[0] && !accumulate_product(eng, gin[0], BK_MUL, gout, b))   /* da += g·b */
        return false;
    return !gin[1] || accumulate_product(eng, gin[1], BK_MUL, gout, a); /* db += g·a */
}

/* ---- div: out = a / b (always float) ---- */

Tensor *op_div_forward(Engine *eng, Node *n)
{
    Tensor *out = binary_map(eng, "div", BK_DIV, n->inputs[0], n->inputs[1], DTYPE_FLOAT32);
    return finish_with_saved_output(eng, n, out);
}

bool op_div_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *b = n->inputs[1], *out = n->saved[0];
    if (gin[0] && !accumulate_product(eng, gin[0], BK_DIV, gout, b))    /* da += g / b */
        return false;
    if (!gin[1])
        return true;
    /* db += -g · a / b² = -g · out / b */
    Tensor *t = binary_map(eng, "div", BK_MUL, gout, out, DTYPE_FLOAT32);
    if (!t)
        return false;
    Tensor *u = binary_map(eng, "div", BK_DIV, t, b, DTYPE_FLOAT32);
    tensor_release(t);
    if (!u)
        return false;
    bool ok = grad_accumulate_scaled(eng, gin[1], u, -1.0f);
    tensor_release(u);
    return ok;
}

/* ---- remainder: out = a - floor(a / b) · b (Python's sign rule) ---- */

Tensor *op_remainder_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0], *b = n->inputs[1];
    DType d = promote_types(a, b);
    return binary_map(eng, "remainder", BK_REMAINDER, a, b, d == DTYPE_BOOL ? DTYPE_INT64 : d);
}

bool op_remainder_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *a = n->inputs[0], *b = n->inputs[1];
    if (gin[0] && !grad_accumulate_reduced(eng, gin[0], gout))   /* da += g */
        return false;
    if (!gin[1])
        return true;
    /* db += -g · floor(a / b) */
    Tensor *q = binary_map(eng, "remainder", BK_FLOOR_DIV, a, b, DTYPE_FLOAT32);
    Tensor *t = q ? binary_map(eng, "remainder", BK_MUL, gout, q, DTYPE_FLOAT32) : NULL;
    bool ok = t && grad_accumulate_scaled(eng, gin[1], t, -1.0f);
    tensor_release(q);
    tensor_release(t);
    return ok;
}

/* ---- pow: out = a ** b (tensor exponent), a ** p (args.a), base ** a ---- */

enum { POW_TENSOR_TENSOR, POW_TENSOR_SCALAR, POW_SCALAR_TENSOR };

Tensor *op_pow_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    Tensor *out;
    int mode = n->args.dim;
    if (mode == POW_TENSOR_TENSOR) {
        Tensor *b = n->inputs[1];
        out = binary_map(eng, "pow", BK_POW, a, b, arithmetic_dtype(a, b));
    } else {
        Tensor *s = tensor_scalar(eng, DTYPE_FLOAT32, n->args.a);
        if (!s)
            return NULL;
        bool int_result = a->dtype != DTYPE_FLOAT32 && n->args.a == floor(n->args.a);
        if (int_result && mode == POW_TENSOR_SCALAR && n->args.a < 0) {
            tensor_release(s);
            engine_fail(eng, "integers to negative integer powers are not allowed");
            return NULL;
        }
        DType d = int_result ? DTYPE_INT64 : DTYPE_FLOAT32;
        out = mode == POW_TENSOR_SCALAR ? binary_map(eng, "pow", BK_POW, a, s, d)
                                        : binary_map(eng, "pow", BK_POW, s, a, d);
        tensor_release(s);
    }
    return finish_with_saved_output(eng, n, out);
}

bool op_pow_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *a = n->inputs[0], *out = n->saved[0];
    int mode = n->args.dim;
    const float *g = tensor_data(gout), *o = tensor_data(out);
    int64_t count = tensor_numel(out);
    if (mode == POW_TENSOR_SCALAR) {
        /* da += g · p · a^(p-1); exponent 0 gives 0, as in PyTorch */
        float p = (float)n->args.a;
        float *da = tensor_data(gin[0]);
        for (int64_t i = 0; i < count; i++) {
            float x = tensor_get_flat(a, i);
            float d = p == 0.0f ? 0.0f : p == 2.0f ? 2.0f * x : p * powf(x, p - 1.0f);
            da[i] += g[i] * d;
        }
        return true;
    }
    if (mode == POW_SCALAR_TENSOR) {
        /* da += g · out · ln(base) */
        float lnb = logf((float)n->args.a);
        float *da = tensor_data(gin[0]);
        for (int64_t i = 0; i < count; i++)
            da[i] += g[i] * o[i] * lnb;
        return true;
    }
    Tensor *b = n->inputs[1];
    if (gin[0]) {
        /* da += g · b · a^(b-1) */
        Tensor *one = tensor_scalar(eng, DTYPE_FLOAT32, 1.0);
        Tensor *bm1 = one ? binary_map(eng, "pow", BK_SUB, b, one, DTYPE_FLOAT32) : NULL;
        Tensor *apow = bm1 ? binary_map(eng, "pow", BK_POW, a, bm1, DTYPE_FLOAT32) : NULL;
        Tensor *t = apow ? binary_map(eng, "pow", BK_MUL, apow, b, DTYPE_FLOAT32) : NULL;
        bool ok = t && accumulate_product(eng, gin[0], BK_MUL, gout, t);
        tensor_release(one);
        tensor_release(bm1);
        tensor_release(apow);
        tensor_release(t);
        if (!ok)
            return false;
    }
    if (gin[1]) {
        /* db += g · out · ln(a) */
        Tensor *la = tensor_empty(eng, DTYPE_FLOAT32, a->ndim, a->shape);
        if (!la)
            return false;
        float *l = tensor_data(la);
        for (int64_t i = 0; i < tensor_numel(a); i++)
            l[i] = logf(tensor_get_flat(a, i));
        Tensor *t = binary_map(eng, "pow", BK_MUL, out, la, DTYPE_FLOAT32);
        tensor_release(la);
        bool ok = t && accumulate_product(eng, gin[1], BK_MUL, gout, t);
        tensor_release(t);
        if (!ok)
            return false;
    }
    return true;
}

/* ---- unary functions ---- */

/* The unary kernels (no autograd): out = f(a), contiguous, of dtype d. */
typedef enum UnaryKernel {
    UK_NEG, UK_EXP, UK_LOG, UK_SQRT, UK_ABS, UK_TANH, UK_SIGMOID, UK_RELU, UK_CLAMP, UK_NOT
} UnaryKernel;

/* e^t for sigmoid only, in straight-line code the compiler vectorises (a
 * call to expf per element was a third of the diabetes MLP's time).
 * t = n·ln 2 + r with |r| ≤ ln 2 / 2; e^r from a degree-7 polynomial (the
 * classic Cephes expf coefficients); 2^n built in the exponent bits, in two
 * factors so that n = 128 still gives a finite or infinite product as
 * it should. Arguments below -20 are treated as -20: 1 + e^t is 1 in float32
 * there anyway. Within 1 ulp of expf over [-20, 88.7]; +inf above. */
static inline float sigmoid_exp(float t)
{
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f; /* ln 2 = hi + lo */
    const float round_magic = 12582912.0f;                        /* 1.5 · 2^23 */
    float tc = t > -20.0f ? t : -20.0f;                           /* also NaN -> -20 */
    tc = tc < 89.0f ? tc : 89.0f;
    float n = (tc * log2e + round_magic) - round_magic;            /* round to nearest */
    float r = tc - n * ln2_hi;
    r = r - n * ln2_lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 126) << 23; /* 2^(n-1), n in [-29, 128] */
    float half_scale;
    memcpy(&half_scale, &bits, sizeof half_scale);
    float e = p * half_scale * 2.0f;
    return t > 89.0f ? INFINITY : e;
}

/* sigmoid(x) = 1 / (1 + e^-x), the formula PyTorch's CPU kernel uses (with
 * its vectorised exp, this agrees bit for bit with PyTorch 1.13 on >99% of
 * float32 inputs, against ~77% for 1 / (1 + expf(-x)) with glibc's expf). */
static inline float sigmoidf(float x)
{
    float y = 1.0f / (1.0f + sigmoid_exp(-x));
    return x != x ? x : y;
}

#define MAP_LOOP(EXPR)                                                        \
    do {                                                                      \
        for (int64_t i = 0; i < n; i++) {                                     \
            float x = in[i];                                                  \
            out[i] = (EXPR);                                                  \
        }                                                                     \
    } while (0)

/* Cloned for AVX-512 and AVX2 (picked when the program loads): the
 * vectorised loops then take 16 or 8 floats at a time instead of SSE2's 4.
 * No FMA contraction in ISO C mode, so every clone computes the same bits. */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define ELEMENTWISE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef ELEMENTWISE_CLONES
#define ELEMENTWISE_CLONES
#endif

ELEMENTWISE_CLONES
static void unary_row(UnaryKernel k, float *out, const float *in, int64_t n, float lo, float hi)
{
    switch (k) {
    case UK_NEG: MAP_LOOP(-x); break;
    case UK_EXP: MAP_LOOP(expf(x)); break;
    case UK_LOG: MAP_LOOP(logf(x)); break;
    case UK_SQRT: MAP_LOOP(sqrtf(x)); break;
    case UK_ABS: MAP_LOOP(fabsf(x)); break;
    case UK_TANH: MAP_LOOP(tanhf(x)); break;
    case UK_SIGMOID: MAP_LOOP(sigmoidf(x)); break;
    case UK_RELU: MAP_LOOP(x > 0.0f ? x : 0.0f); break;
    case UK_CLAMP: MAP_LOOP(x < lo ? lo : (x > hi ? hi : x)); break;
    case UK_NOT: MAP_LOOP(x == 0.0f ? 1.0f : 0.0f); break;
    }
}

static Tensor *unary_map(Engine *eng, UnaryKernel k, Tensor *a, DType d, float lo, float hi)
{
    Tensor *out = tensor_empty(eng, d, a->ndim, a->shape);
    if (!out)
        return NULL;
    Tensor *src = tensor_contiguous(eng, a);
    if (!src) {
        tensor_release(out);
        return NULL;
    }
    unary_row(k, tensor_data(out), tensor_data(src), tensor_numel(a), lo, hi);
    tensor_release(src);
    return out;
}

/* gin += g · f(x, y) where x is the input element and y the output element.
 * The common case (a contiguous input) gets loops without branches inside,
 * which the compiler vectorises. */
#define UNARY_GRAD_LOOP(X, Y, EXPR)                                           \
    for (int64_t i_ = 0; i_ < n_; i_++) {                                     \
        float x = (X);                                                        \
        float y = (Y);                                                        \
        (void)x;                                                              \
        (void)y;                                                              \
        d_[i_] += g_[i_] * (EXPR);                                            \
    }

#define UNARY_GRAD(n, gout, gin, EXPR)                                        \
    do {                                                                      \
        const Tensor *in_ = (n)->inputs[0];                                   \
        const float *g_ = tensor_data(gout);                                  \
        const float *y_ = (n)->saved[0] ? tensor_data((n)->saved[0]) : NULL;  \
        float *d_ = tensor_data(gin[0]);                                      \
        int64_t n_ = tensor_numel(in_);                                       \
        const float *x_ = tensor_data(in_);                                   \
        if (!tensor_is_contiguous(in_))                                       \
            UNARY_GRAD_LOOP(tensor_get_flat(in_, i_), y_ ? y_[i_] : 0.0f, EXPR) \
        else if (y_)                                                          \
            UNARY_GRAD_LOOP(x_[i_], y_[i_], EXPR)                             \
        else                                                                  \
            UNARY_GRAD_LOOP(x_[i_], 0.0f, EXPR)                               \
    } while (0)

static DType same_or_int(const Tensor *a)
{
    return a->dtype == DTYPE_BOOL ? DTYPE_INT64 : a->dtype;
}

Tensor *op_neg_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    if (a->dtype == DTYPE_BOOL) {
        engine_fail(eng, "negation, the `-` operator, on a bool tensor is not supported");
        return NULL;
    }
    return unary_map(eng, UK_NEG, a, a->dtype, 0, 0);
}

bool op_neg_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    UNARY_GRAD(n, gout, gin, -1.0f);
    return true;
}

Tensor *op_exp_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    return finish_with_saved_output(eng, n, unary_map(eng, UK_EXP, a, DTYPE_FLOAT32, 0, 0));
}

bool op_exp_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    UNARY_GRAD(n, gout, gin, y);          /* d exp(x) = exp(x) */
    return true;
}

Tensor *op_log_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    return unary_map(eng, UK_LOG, a, DTYPE_FLOAT32, 0, 0);
}

bool op_log_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    UNARY_GRAD(n, gout, gin, 1.0f / x);   /* d log(x) = 1/x */
    return true;
}

Tensor *op_sqrt_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    return finish_with_saved_output(eng, n, unary_map(eng, UK_SQRT, a, DTYPE_FLOAT32, 0, 0));
}

bool op_sqrt_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    UNARY_GRAD(n, gout, gin, 0.5f / y);   /* d sqrt(x) = 1 / (2 sqrt(x)) */
    return true;
}

Tensor *op_abs_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    return unary_map(eng, UK_ABS, a, a->dtype, 0, 0);
}

bool op_abs_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    UNARY_GRAD(n, gout, gin, x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f);
    return true;
}

Tensor *op_tanh_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    return finish_with_saved_output(eng, n, unary_map(eng, UK_TANH, a, DTYPE_FLOAT32, 0, 0));
}

bool op_tanh_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    UNARY_GRAD(n, gout, gin, 1.0f - y * y);
    return true;
}

Tensor *op_sigmoid_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    return finish_with_saved_output(eng, n, unary_map(eng, UK_SIGMOID, a, DTYPE_FLOAT32, 0, 0));
}

bool op_sigmoid_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    UNARY_GRAD(n, gout, gin, y * (1.0f - y));
    return true;
}

Tensor *op_relu_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    if (a->dtype == DTYPE_BOOL) {
        engine_fail(eng, "relu is not implemented for bool tensors");
        return NULL;
    }
    return unary_map(eng, UK_RELU, a, same_or_int(a), 0, 0);
}

bool op_relu_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    UNARY_GRAD(n, gout, gin, x > 0.0f ? 1.0f : 0.0f);
    return true;
}

/* clamp: args.has_a/a = min, args.has_b/b = max */
Tensor *op_clamp_forward(Engine *eng, Node *n)
{
    Tensor *a = n->inputs[0];
    const OpArgs *p = &n->args;
    if (!p->has_a && !p->has_b) {
        engine_fail(eng, "clamp: at least one of 'min' or 'max' must not be None");
        return NULL;
    }
    float lo = p->has_a ? (float)p->a : -INFINITY, hi = p->has_b ? (float)p->b : INFINITY;
    DType d = a->dtype;
    if (dtype_is_integral(d) && ((p->has_a && p->a != floor(p->a)) || (p->has_b && p->b != floor(p->b))))
        d = DTYPE_FLOAT32;
    return unary_map(eng, UK_CLAMP, a, d, lo, hi);
}

bool op_clamp_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    (void)eng;
    const OpArgs *p = &n->args;
    float lo = p->has_a ? (float)p->a : -INFINITY, hi = p->has_b ? (float)p->b : INFINITY;
    UNARY_GRAD(n, gout, gin, (x >= lo && x <= hi) ? 1.0f : 0.0f);
    return true;
}


/* ---- public wrappers ---- */

static Tensor *apply2(Engine *eng, OpKind k, Tensor *a, Tensor *b, const char *grad_fn_name)
{
    Tensor *in[2] = {a, b};
    OpArgs args = {0};
    args.grad_fn_name = grad_fn_name;
    return op_apply(eng, k, 2, in, &args);
}

static Tensor *apply1(Engine *eng, OpKind k, Tensor *a, const OpArgs *args)
{
    OpArgs none = {0};
    return op_apply(eng, k, 1, &a, args ? args : &none);
}

Tensor *tensor_add(Engine *eng, Tensor *a, Tensor *b)
{
    return apply2(eng, OP_ADD, a, b, NULL);
}

Tensor *tensor_sub(Engine *eng, Tensor *a, Tensor *b)
{
    /* 2 - x is x.__rsub__(2) in PyTorch */
    return apply2(eng, OP_SUB, a, b, a->is_wrapped_number ? "RsubBackward1" : NULL);
}

Tensor *tensor_mul(Engine *eng, Tensor *a, Tensor *b)
{
    return apply2(eng, OP_MUL, a, b, NULL);
}

Tensor *tensor_div(Engine *eng, Tensor *a, Tensor *b)
{
    /* 2 / x is x.reciprocal() * 2 in PyTorch */
    return apply2(eng, OP_DIV, a, b, a->is_wrapped_number ? "MulBackward0" : NULL);
}

static bool check_integer_divisor(Engine *eng, const Tensor *a, const Tensor *b, const char *what)
{
    if (!dtype_is_integral(a->dtype) || !dtype_is_integral(b->dtype))
        return true;
    int64_t n = tensor_numel(b);
    for (int64_t i = 0; i < n; i++)
        if (tensor_get_flat(b, i) == 0.0f)
            return engine_fail(eng, "integer %s by zero", what);
    return true;
}

Tensor *tensor_floor_div(Engine *eng, Tensor *a, Tensor *b)
{
    if (!check_integer_divisor(eng, a, b, "division"))
        return NULL;
    DType d = promote_types(a, b);
    return binary_map(eng, "floor_divide", BK_FLOOR_DIV, a, b, d == DTYPE_BOOL ? DTYPE_INT64 : d);
}

Tensor *tensor_remainder(Engine *eng, Tensor *a, Tensor *b)
{
    if (!check_integer_divisor(eng, a, b, "modulo"))
        return NULL;
    return apply2(eng, OP_REMAINDER, a, b, NULL);
}

Tensor *tensor_pow(Engine *eng, Tensor *a, Tensor *b)
{
    if (dtype_is_integral(a->dtype) && dtype_is_integral(b->dtype)) {
        int64_t n = tensor_numel(b);
        for (int64_t i = 0; i < n; i++)
            if (tensor_get_flat(b, i) < 0.0f) {
                engine_fail(eng, "integers to negative integer powers are not allowed");
                return NULL;
            }
    }
    Tensor *in[2] = {a, b};
    OpArgs args = {0};
    args.dim = POW_TENSOR_TENSOR;
    args.grad_fn_name = "PowBackward1";
    return op_apply(eng, OP_POW, 2, in, &args);
}

Tensor *tensor_pow_scalar(Engine *eng, Tensor *a, double exponent)
{
    OpArgs args = {0};
    args.dim = POW_TENSOR_SCALAR;
    args.a = exponent;
    return apply1(eng, OP_POW, a, &args);
}

Tensor *tensor_rpow_scalar(Engine *eng, double base, Tensor *a)
{
    OpArgs args = {0};
    args.dim = POW_SCALAR_TENSOR;
    args.a = base;
    args.grad_fn_name = "PowBackward1";
    return apply1(eng, OP_POW, a, &args);
}

Tensor *tensor_neg(Engine *eng, Tensor *a) { return apply1(eng, OP_NEG, a, NULL); }
Tensor *tensor_exp(Engine *eng, Tensor *a) { return apply1(eng, OP_EXP, a, NULL); }
Tensor *tensor_log(Engine *eng, Tensor *a) { return apply1(eng, OP_LOG, a, NULL); }
Tensor *tensor_sqrt(Engine *eng, Tensor *a) { return apply1(eng, OP_SQRT, a, NULL); }
Tensor *tensor_abs(Engine *eng, Tensor *a) { return apply1(eng, OP_ABS, a, NULL); }
Tensor *tensor_tanh(Engine *eng, Tensor *a) { return apply1(eng, OP_TANH, a, NULL); }
Tensor *tensor_sigmoid(Engine *eng, Tensor *a) { return apply1(eng, OP_SIGMOID, a, NULL); }
Tensor *tensor_relu(Engine *eng, Tensor *a) { return apply1(eng, OP_RELU, a, NULL); }

Tensor *tensor_clamp(Engine *eng, Tensor *a, bool has_min, double min, bool has_max, double max)
{
    OpArgs args = {0};
    args.has_a = has_min;
    args.a = min;
    args.has_b = has_max;
    args.b = max;
    return apply1(eng, OP_CLAMP, a, &args);
}

Tensor *tensor_compare(Engine *eng, CompareOp op, Tensor *a, Tensor *b)
{
    static const BinaryKernel kernels[] = {
        [CMP_EQ] = BK_EQ, [CMP_NE] = BK_NE, [CMP_LT] = BK_LT,
        [CMP_LE] = BK_LE, [CMP_GT] = BK_GT, [CMP_GE] = BK_GE,
    };
    return binary_map(eng, "comparison", kernels[op], a, b, DTYPE_BOOL);
}

Tensor *tensor_logical_not(Engine *eng, Tensor *a)
{
    return unary_map(eng, UK_NOT, a, DTYPE_BOOL, 0, 0);
}
