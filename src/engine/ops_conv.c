/*
 * ops_conv.c - conv2d, forward and backward, by three algorithms:
 *
 *   direct   stride 1 on CPUs with AVX2 or AVX-512: the vectorised kernels of
 *            conv_fast.h read the input rows in place (no im2col);
 *   wide     im2col + sgemm, one contiguous copy per patch row (stride 1);
 *   rows     the textbook im2col + sgemm (any stride).
 *
 * Shapes in comments: N batch, (H, W) an image plane, (OH, OW) the output
 * plane, P = OH·OW, K = Cin·k·k a convolution's patch.
 */
#include <string.h>

#include "blas.h"
#include "conv_fast.h"
#include "op_impl.h"
#include "ops_nn_common.h"

/* The geometry of one convolution. */
typedef struct ConvGeom {
    int64_t batch, cin, h, w;   /* input (N, Cin, H, W) */
    int64_t cout, k;            /* weight (Cout, Cin, k, k) */
    int64_t stride, pad;
    int64_t oh, ow;             /* output (N, Cout, OH, OW) */
    int64_t patch;              /* K = Cin·k·k */
    int64_t plane;              /* P = OH·OW */
} ConvGeom;

static bool conv_geometry(Engine *eng, const Tensor *x, const Tensor *w, const Tensor *b,
                          int stride, int pad, ConvGeom *g)
{
    char fx[96], fw[96];
    if (x->ndim != 3 && x->ndim != 4) {
        sizes_format(fx, sizeof fx, x->ndim, x->shape);
        return engine_fail(eng, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
                           "input of size: %s", fx);
    }
    if (w->ndim != 4) {
        sizes_format(fw, sizeof fw, w->ndim, w->shape);
        return engine_fail(eng, "conv2d: expected a weight of 4 dimensions (out_channels, "
                           "in_channels, kH, kW), got size %s", fw);
    }
    if (w->shape[2] != w->shape[3]) {
        sizes_format(fw, sizeof fw, w->ndim, w->shape);
        return engine_fail(eng, "conv2d: only square kernels are supported, got weight of size %s", fw);
    }
    if (x->dtype != w->dtype || (b && b->dtype != w->dtype))
        return engine_fail(eng, "expected scalar type %s but found %s", scalar_type_name(x->dtype),
                           scalar_type_name(x->dtype != w->dtype ? w->dtype : b->dtype));
    if (x->dtype != DTYPE_FLOAT32)
        return engine_fail(eng, "\"conv2d\" not implemented for '%s'", scalar_type_name(x->dtype));
    if (stride <= 0)
        return engine_fail(eng, "non-positive stride is not supported");
    if (pad < 0)
        return engine_fail(eng, "negative padding is not supported");
    int o = x->ndim - 3; /* 1 for a batch */
    g->batch = o ? x->shape[0] : 1;
    g->cin = x->shape[o];
    g->h = x->shape[o + 1];
    g->w = x->shape[o + 2];
    g->cout = w->shape[0];
    g->k = w->shape[2];
    g->stride = stride;
    g->pad = pad;
    if (g->cin != w->shape[1]) {
        int64_t xs[4] = {g->batch, g->cin, g->h, g->w};
        sizes_format(fw, sizeof fw, 4, w->shape);
        sizes_format(fx, sizeof fx, 4, xs);
        return engine_fail(eng, "Given groups=1, weight of size %s, expected input%s to have %lld "
                           "channels, but got %lld channels instead", fw, fx,
                           (long long)w->shape[1], (long long)g->cin);
    }
    if (b && (b->ndim != 1 || b->shape[0] != g->cout)) {
        char fb[96];
        sizes_format(fw, sizeof fw, 4, w->shape);
        sizes_format(fb, sizeof fb, b->ndim, b->shape);
        return engine_fail(eng, "Given weight of size %s, expected bias to be 1-dimensional with "
                           "%lld elements, but got bias of size %s instead", fw,
                           (long long)g->cout, fb);
    }
    int64_t ph = g->h + 2 * pad, pw = g->w + 2 * pad;
    if (ph < g->k || pw < g->k)
        return engine_fail(eng, "Calculated padded input size per channel: (%lld x %lld). Kernel "
                           "size: (%lld x %lld). Kernel size can't be greater than actual input size",
                           (long long)ph, (long long)pw, (long long)g->k, (long long)g->k);
    g->oh = (ph - g->k) / stride + 1;
    g->ow = (pw - g->k) / stride + 1;
    g->patch = g->cin * g->k * g->k;
    g->plane = g->oh * g->ow;
    return true;
}

/* The outputs o in [*lo, *hi) whose input position o·stride + offset lies
 * in [0, size). */
static void valid_outputs(int64_t offset, int64_t stride, int64_t size, int64_t outputs,
                          int64_t *lo, int64_t *hi)
{
    int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int64_t last = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
    if (last > outputs)
        last = outputs;
    if (first > last)
        first = last;
    *lo = first;
    *hi = last;
}

/*
 * A convolution runs as matrix products over chunks of samples:
 *     Y (Cout, cols) = W (Cout, K) · col (K, cols)
 * where col holds, for each output position, the K input values its kernel
 * window reads (im2col). Two layouts of col:
 *
 *   rows  the textbook one: one column per output position (cols = n·OH·OW).
 *   wide  stride 1 only: one column per position (oy, x) of the (padded)
 *         input width PW, cols = n·OH·PW. Each row of col is then a single
 *         contiguous run of the input plane starting at ki·PW + kj, copied in
 *         one memcpy instead of OH short rows; the PW - OW columns past each
 *         output row are computed and dropped (their output gradients are
 *         zero in backward). Worth it when the input is not much wider than
 *         the output, i.e. for the small kernels of LeNet-style networks.
 *         (An inf or NaN input can reach the weight gradient through those
 *         columns as 0 · inf, where PyTorch's would not hold it; by then the
 *         outputs near it are not finite either.)
 *
 * Chunks are sized so that col stays in the L2 cache while OpenBLAS packs it.
 */
typedef struct ConvPlan {
    ConvGeom g;
    bool wide;
    int64_t ph, pw;        /* wide: the padded input plane */
    int64_t span;          /* columns per sample: OH·PW (wide) or OH·OW */
    int64_t chunk;         /* samples per matrix product */
} ConvPlan;

#define CONV_COL_TARGET_FLOATS (64 * 1024)
/* The wide layout computes PW/OW times the outputs; beyond this it loses. */
#define CONV_WIDE_MAX_WASTE 1.6

static ConvPlan conv_plan(const ConvGeom *g, ConvPath path)
{
    ConvPlan p = {.g = *g};
    p.ph = g->h + 2 * g->pad;
    p.pw = g->w + 2 * g->pad;
    p.wide = g->stride == 1 && (path == CONV_PATH_WIDE ||
                                (path != CONV_PATH_ROWS &&
                                 (double)p.pw <= CONV_WIDE_MAX_WASTE * (double)g->ow));
    p.span = p.wide ? g->oh * p.pw : g->plane;
    int64_t per_sample = g->patch * p.span;
    int64_t chunk = per_sample > 0 ? CONV_COL_TARGET_FLOATS / per_sample : g->batch;
    if (chunk < 1)
        chunk = 1;
    p.chunk = chunk < g->batch ? chunk : g->batch;
    return p;
}

/* rows layout: col (K, cn·OH·OW); row (c, ki, kj), column (s, oy, ox) holds
 * x[s, c, oy·stride + ki - pad, ox·stride + kj - pad], 0 in the padding.
 * x: (cn, Cin, H, W). */
static void im2col_rows(const ConvGeom *g, const float *x, int64_t cn, float *col)
{
    int64_t cols = cn * g->plane, st = g->stride;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++) {
            int64_t ylo, yhi;
            valid_outputs(ki - g->pad, st, g->h, g->oh, &ylo, &yhi);
            for (int64_t kj = 0; kj < g->k; kj++) {
                float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                int64_t xlo, xhi, off = kj - g->pad;
                valid_outputs(off, st, g->w, g->ow, &xlo, &xhi);
                for (int64_t s = 0; s < cn; s++) {
                    const float *src_plane = x + (s * g->cin + c) * g->h * g->w;
                    float *dst = row + s * g->plane;
                    memset(dst, 0, (size_t)(ylo * g->ow) * sizeof(float));
                    for (int64_t oy = ylo; oy < yhi; oy++) {
                        const float *src = src_plane + (oy * st + ki - g->pad) * g->w + off;
                        float *d = dst + oy * g->ow;
                        for (int64_t ox = 0; ox < xlo; ox++)
                            d[ox] = 0.0f;
                        if (st == 1)
                            for (int64_t ox = xlo; ox < xhi; ox++)
                                d[ox] = src[ox];
                        else
                            for (int64_t ox = xlo; ox < xhi; ox++)
                                d[ox] = src[ox * st];
                        for (int64_t ox = xhi; ox < g->ow; ox++)
                            d[ox] = 0.0f;
                    }
                    memset(dst + yhi * g->ow, 0, (size_t)((g->oh - yhi) * g->ow) * sizeof(float));
                }
            }
        }
}

/* The adjoint of im2col_rows: dx[s, c, iy, ix] += every col entry read from
 * it. dx: (cn, Cin, H, W). */
static void col2im_rows(const ConvGeom *g, const float *col, int64_t cn, float *dx)
{
    int64_t cols = cn * g->plane, st = g->stride;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++) {
            int64_t ylo, yhi;
            valid_outputs(ki - g->pad, st, g->h, g->oh, &ylo, &yhi);
            for (int64_t kj = 0; kj < g->k; kj++) {
                const float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                int64_t xlo, xhi, off = kj - g->pad;
                valid_outputs(off, st, g->w, g->ow, &xlo, &xhi);
                for (int64_t s = 0; s < cn; s++) {
                    float *dst_plane = dx + (s * g->cin + c) * g->h * g->w;
                    const float *src = row + s * g->plane;
                    for (int64_t oy = ylo; oy < yhi; oy++) {
                        float *d = dst_plane + (oy * st + ki - g->pad) * g->w + off;
                        const float *v = src + oy * g->ow;
                        if (st == 1)
                            for (int64_t ox = xlo; ox < xhi; ox++)
                                d[ox] += v[ox];
                        else
                            for (int64_t ox = xlo; ox < xhi; ox++)
                                d[ox * st] += v[ox];
                    }
                }
            }
        }
}

/* The run of the padded plane that row (ki, kj) of a wide col copies:
 * from ki·PW + kj, span elements, fewer at the plane's end. */
static int64_t wide_run(const ConvPlan *p, int64_t ki, int64_t kj, int64_t *start)
{
    *start = ki * p->pw + kj;
    int64_t avail = p->ph * p->pw - *start;
    return avail < p->span ? avail : p->span;
}

/* wide layout: col[(c, ki, kj)][s·span + j] = xp[s, c][ki·PW + kj + j].
 * xp: (cn, Cin, PH, PW), the padded input. */
static void im2col_wide(const ConvPlan *p, const float *xp, int64_t cn, float *col)
{
    const ConvGeom *g = &p->g;
    int64_t cols = cn * p->span, plane = p->ph * p->pw;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++)
            for (int64_t kj = 0; kj < g->k; kj++) {
                float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                int64_t start, n = wide_run(p, ki, kj, &start);
                for (int64_t s = 0; s < cn; s++) {
                    float *dst = row + s * p->span;
                    memcpy(dst, xp + (s * g->cin + c) * plane + start, (size_t)n * sizeof(float));
                    memset(dst + n, 0, (size_t)(p->span - n) * sizeof(float));
                }
            }
}

/* The adjoint of im2col_wide. dxp: (cn, Cin, PH, PW). */
static void col2im_wide(const ConvPlan *p, const float *col, int64_t cn, float *dxp)
{
    const ConvGeom *g = &p->g;
    int64_t cols = cn * p->span, plane = p->ph * p->pw;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++)
            for (int64_t kj = 0; kj < g->k; kj++) {
                const float *row = col + ((c * g->k + ki) * g->k + kj) * cols;
                int64_t start, n = wide_run(p, ki, kj, &start);
                for (int64_t s = 0; s < cn; s++) {
                    float *d = dxp + (s * g->cin + c) * plane + start;
                    const float *v = row + s * p->span;
                    for (int64_t j = 0; j < n; j++)
                        d[j] += v[j];
                }
            }
}

/* xp (cn, Cin, PH, PW) = x (cn, Cin, H, W) framed by `pad` zeros. */
static void pad_planes(const ConvGeom *g, int64_t ph, int64_t pw, const float *x, int64_t cn,
                       float *xp)
{
    int64_t pad = g->pad;
    memset(xp, 0, (size_t)(cn * g->cin * ph * pw) * sizeof(float));
    for (int64_t i = 0; i < cn * g->cin; i++)
        for (int64_t y = 0; y < g->h; y++)
            memcpy(xp + (i * ph + y + pad) * pw + pad, x + (i * g->h + y) * g->w,
                   (size_t)g->w * sizeof(float));
}

/* dx (cn, Cin, H, W) += dxp (cn, Cin, rows, pw) where row y of dx is row
 * y + row0 of dxp, from column `pad` on. */
static void unpad_planes_add(const ConvGeom *g, int64_t rows, int64_t row0, int64_t pw,
                             const float *dxp, int64_t cn, float *dx)
{
    for (int64_t i = 0; i < cn * g->cin; i++)
        for (int64_t y = 0; y < g->h; y++) {
            const float *src = dxp + (i * rows + y + row0) * pw + g->pad;
            float *dst = dx + (i * g->h + y) * g->w;
            for (int64_t x = 0; x < g->w; x++)
                dst[x] += src[x];
        }
}

/* Scratch for one chunked pass. */
typedef struct ConvScratch {
    float *col;    /* (K, chunk·span) */
    float *mat;    /* (Cout, chunk·span): a chunk's outputs or output gradients */
    float *pad;    /* (chunk, Cin, PH, PW): padded inputs or their gradients */
    int64_t col_n, mat_n, pad_n;
} ConvScratch;

static bool conv_scratch_init(Engine *eng, const ConvPlan *p, ConvScratch *s)
{
    const ConvGeom *g = &p->g;
    memset(s, 0, sizeof *s);
    s->col_n = g->patch * p->chunk * p->span;
    s->mat_n = g->cout * p->chunk * p->span;
    s->pad_n = p->wide && g->pad > 0 ? p->chunk * g->cin * p->ph * p->pw : 0;
    s->col = scratch_alloc(eng, s->col_n, "conv2d buffer");
    s->mat = s->col ? scratch_alloc(eng, s->mat_n, "conv2d buffer") : NULL;
    s->pad = s->mat && s->pad_n ? scratch_alloc(eng, s->pad_n, "conv2d buffer") : NULL;
    if (s->mat && (s->pad || !s->pad_n))
        return true;
    scratch_free(eng, s->col, s->col ? s->col_n : 0);
    scratch_free(eng, s->mat, s->mat ? s->mat_n : 0);
    return false;
}

static void conv_scratch_free(Engine *eng, ConvScratch *s)
{
    scratch_free(eng, s->col, s->col_n);
    scratch_free(eng, s->mat, s->mat_n);
    scratch_free(eng, s->pad, s->pad_n);
}

/* col for samples x[0..cn) (x: (cn, Cin, H, W)) in the plan's layout. */
static void conv_im2col(const ConvPlan *p, ConvScratch *s, const float *x, int64_t cn)
{
    if (!p->wide) {
        im2col_rows(&p->g, x, cn, s->col);
        return;
    }
    const float *xp = x;
    if (p->g.pad > 0) {
        pad_planes(&p->g, p->ph, p->pw, x, cn, s->pad);
        xp = s->pad;
    }
    im2col_wide(p, xp, cn, s->col);
}

/* dx (cn, Cin, H, W) += the adjoint of conv_im2col applied to s->col. */
static void conv_col2im(const ConvPlan *p, ConvScratch *s, int64_t cn, float *dx)
{
    if (!p->wide) {
        col2im_rows(&p->g, s->col, cn, dx);
    } else if (p->g.pad == 0) {
        col2im_wide(p, s->col, cn, dx);
    } else {
        memset(s->pad, 0, (size_t)(cn * p->g.cin * p->ph * p->pw) * sizeof(float));
        col2im_wide(p, s->col, cn, s->pad);
        unpad_planes_add(&p->g, p->ph, p->g.pad, p->pw, s->pad, cn, dx);
    }
}

/* The output position (oy, ox) of a sample sits at column oy·PW + ox (wide)
 * or oy·OW + ox (rows) of its span. */
static int64_t span_row_stride(const ConvPlan *p)
{
    return p->wide ? p->pw : p->g.ow;
}

/* y[s, co, oy, ox] = mat[co, s·span + oy·stride + ox] + bias[co]
 * (y: the chunk's (cn, Cout, OH, OW) outputs). */
static void scatter_outputs(const ConvPlan *p, const float *mat, int64_t cn, const float *bias,
                            float *y)
{
    const ConvGeom *g = &p->g;
    int64_t cols = cn * p->span, rs = span_row_stride(p);
    for (int64_t s = 0; s < cn; s++)
        for (int64_t co = 0; co < g->cout; co++) {
            float b = bias ? bias[co] : 0.0f;
            const float *src = mat + co * cols + s * p->span;
            float *dst = y + (s * g->cout + co) * g->plane;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++)
                    dst[oy * g->ow + ox] = src[oy * rs + ox] + b;
        }
}

/* mat (Cout, cn·span) = the chunk's output gradients gy (cn, Cout, OH, OW),
 * zero in the wide layout's dropped columns. */
static void gather_output_grads(const ConvPlan *p, const float *gy, int64_t cn, float *mat)
{
    const ConvGeom *g = &p->g;
    int64_t cols = cn * p->span, rs = span_row_stride(p);
    for (int64_t s = 0; s < cn; s++)
        for (int64_t co = 0; co < g->cout; co++) {
            const float *src = gy + (s * g->cout + co) * g->plane;
            float *dst = mat + co * cols + s * p->span;
            for (int64_t oy = 0; oy < g->oh; oy++) {
                for (int64_t ox = 0; ox < g->ow; ox++)
                    dst[oy * rs + ox] = src[oy * g->ow + ox];
                for (int64_t ox = g->ow; ox < rs; ox++)
                    dst[oy * rs + ox] = 0.0f;
            }
        }
}

static int64_t chunk_size(const ConvPlan *p, int64_t s0)
{
    return p->g.batch - s0 < p->chunk ? p->g.batch - s0 : p->chunk;
}

/* y (N, Cout, OH, OW) = conv(x, w) + bias, chunk by chunk. */
static bool gemm_conv_forward(Engine *eng, const ConvGeom *g, ConvPath path, const float *x,
                              const float *w, const float *bias, float *y)
{
    ConvPlan p = conv_plan(g, path);
    ConvScratch s;
    if (!conv_scratch_init(eng, &p, &s))
        return false;
    int64_t in_size = g->cin * g->h * g->w, out_size = g->cout * g->plane;
    bool ok = true;
    for (int64_t s0 = 0; s0 < g->batch && ok; s0 += p.chunk) {
        int64_t cn = chunk_size(&p, s0), cols = cn * p.span;
        conv_im2col(&p, &s, x + s0 * in_size, cn);
        /* Y (Cout, cols) = W (Cout, K) · col (K, cols) */
        sgemm(false, false, g->cout, cols, g->patch, 1.0f, w, g->patch, s.col, cols, 0.0f, s.mat, cols);
        scatter_outputs(&p, s.mat, cn, bias, y + s0 * out_size);
        ok = !interrupted(eng) || engine_fail(eng, "interrupted");
    }
    conv_scratch_free(eng, &s);
    return ok;
}

/* db[co] += Σ over samples and positions of gy[s, co, :] */
/* Σ x[0..n) with 16 running partial sums: one running sum would wait on
 * each addition, and the compiler may not reorder float additions itself. */
static float sum_floats(const float *x, int64_t n)
{
    enum { PARTS = 16 };
    float part[PARTS] = {0};
    int64_t i = 0;
    for (; i + PARTS <= n; i += PARTS)
        for (int l = 0; l < PARTS; l++)
            part[l] += x[i + l];
    float total = 0.0f;
    for (int l = 0; l < PARTS; l++)
        total += part[l];
    for (; i < n; i++)
        total += x[i];
    return total;
}

static void conv_bias_grad(const ConvGeom *g, const float *gy, float *db)
{
    for (int64_t s = 0; s < g->batch; s++)
        for (int64_t co = 0; co < g->cout; co++)
            db[co] += sum_floats(gy + (s * g->cout + co) * g->plane, g->plane);
}

/* dW += dY · colᵀ and dX += col2im(Wᵀ · dY), chunk by chunk. */
static bool gemm_conv_backward(Engine *eng, const ConvGeom *g, ConvPath path, const float *x,
                               const float *w, const float *gy, float *dx, float *dw)
{
    ConvPlan p = conv_plan(g, path);
    ConvScratch s;
    if (!conv_scratch_init(eng, &p, &s))
        return false;
    int64_t in_size = g->cin * g->h * g->w, out_size = g->cout * g->plane;
    bool ok = true;
    for (int64_t s0 = 0; s0 < g->batch && ok; s0 += p.chunk) {
        int64_t cn = chunk_size(&p, s0), cols = cn * p.span;
        gather_output_grads(&p, gy + s0 * out_size, cn, s.mat);
        if (dw) {
            conv_im2col(&p, &s, x + s0 * in_size, cn);
            /* dW (Cout, K) += dY (Cout, cols) · colᵀ (cols, K) */
            sgemm(false, true, g->cout, g->patch, cols, 1.0f, s.mat, cols, s.col, cols, 1.0f, dw, g->patch);
        }
        if (dx) {
            /* dcol (K, cols) = Wᵀ (K, Cout) · dY (Cout, cols) */
            sgemm(true, false, g->patch, cols, g->cout, 1.0f, w, g->patch, s.mat, cols, 0.0f, s.col, cols);
            conv_col2im(&p, &s, cn, dx + s0 * in_size);
        }
        ok = !interrupted(eng) || engine_fail(eng, "interrupted");
    }
    conv_scratch_free(eng, &s);
    return ok;
}

/* ---- the direct path: stride 1, vectorised kernels (conv_fast.h) ---- */

/*
 * The input planes are read in place (or from a padded copy) as rows of
 * width PW; output column j = oy·PW + ox, as in the wide layout, so tap
 * (c, ki, kj) is the offset c·PH·PW + ki·PW + kj. The input gradient is the
 * same kind of sum over the output gradient with the kernel flipped: each
 * gradient row is stored after `lead` = (k-1)·PW + (k-1) zeros so that the
 * flipped taps never read before it.
 */
typedef struct DirectConv {
    ConvGeom g;
    int64_t ph, pw, plane;   /* the padded input plane */
    int64_t cols;            /* (OH-1)·PW + OW: up to the last output */
    int64_t lead, grad_row;  /* zeros before a gradient row; its length lead + plane */
} DirectConv;

static DirectConv direct_plan(const ConvGeom *g)
{
    DirectConv d = {.g = *g};
    d.ph = g->h + 2 * g->pad;
    d.pw = g->w + 2 * g->pad;
    d.plane = d.ph * d.pw;
    d.cols = (g->oh - 1) * d.pw + g->ow;
    d.lead = (g->k - 1) * d.pw + (g->k - 1);
    d.grad_row = d.lead + d.plane;
    return d;
}

/* Scratch of the direct path, one allocation. */
typedef struct DirectScratch {
    void *block;
    size_t bytes;
    int64_t *off;      /* (K) input taps */
    int64_t *off_t;    /* (Cout·k·k) flipped taps over the gradient rows */
    float *wt;         /* (K, Cout) weights by tap */
    float *wflip;      /* (Cout·k·k, Cin) flipped weights by tap */
    float *xp;         /* (Cin, PH, PW) a padded sample */
    float *rows;       /* forward: (Cout, cols) outputs; backward: (Cout, grad_row) gradients */
    float *dxp;        /* (Cin, H, PW) a padded sample's input gradient */
} DirectScratch;

static bool direct_scratch_init(Engine *eng, const DirectConv *d, bool backward, bool need_dx,
                                DirectScratch *s)
{
    const ConvGeom *g = &d->g;
    int64_t kk = g->k * g->k, flipped = need_dx ? g->cout * kk : 0;
    int64_t xp_n = g->pad > 0 ? g->cin * d->plane : 0;
    int64_t rows_n = backward ? g->cout * d->grad_row : g->cout * d->cols;
    int64_t dxp_n = need_dx && g->pad > 0 ? g->cin * g->h * d->pw : 0;
    int64_t floats = g->patch * g->cout + flipped * g->cin + xp_n + rows_n + dxp_n;
    int64_t ints = g->patch + flipped;
    memset(s, 0, sizeof *s);
    s->bytes = (size_t)ints * sizeof(int64_t) + (size_t)floats * sizeof(float);
    s->block = engine_alloc(eng, s->bytes, "conv2d buffer");
    if (!s->block)
        return false;
    s->off = s->block;
    s->off_t = s->off + g->patch;
    s->wt = (float *)(s->off_t + flipped);
    s->wflip = s->wt + g->patch * g->cout;
    s->xp = s->wflip + flipped * g->cin;
    s->rows = s->xp + xp_n;
    s->dxp = s->rows + rows_n;
    return true;
}

static void direct_scratch_free(Engine *eng, DirectScratch *s)
{
    engine_free_accounted(eng, s->block, s->bytes);
}

/* off[(c·k + ki)·k + kj] = c·PH·PW + ki·PW + kj */
static void direct_input_taps(const DirectConv *d, DirectScratch *s)
{
    const ConvGeom *g = &d->g;
    for (int64_t c = 0; c < g->cin; c++)
        for (int64_t ki = 0; ki < g->k; ki++)
            for (int64_t kj = 0; kj < g->k; kj++)
                s->off[(c * g->k + ki) * g->k + kj] = c * d->plane + ki * d->pw + kj;
}

/* wt[t][co] = w[co][t] */
static void direct_weights_by_tap(const DirectConv *d, const float *w, DirectScratch *s)
{
    const ConvGeom *g = &d->g;
    for (int64_t t = 0; t < g->patch; t++)
        for (int64_t co = 0; co < g->cout; co++)
            s->wt[t * g->cout + co] = w[co * g->patch + t];
}

/* Flipped taps (co, ki', kj') over the gradient rows and their weights
 * wflip[(co, ki', kj')][c] = w[co][c][k-1-ki'][k-1-kj']. */
static void direct_flipped_taps(const DirectConv *d, const float *w, DirectScratch *s)
{
    const ConvGeom *g = &d->g;
    int64_t k = g->k;
    for (int64_t co = 0; co < g->cout; co++)
        for (int64_t ki = 0; ki < k; ki++)
            for (int64_t kj = 0; kj < k; kj++) {
                int64_t t = (co * k + ki) * k + kj;
                s->off_t[t] = co * d->grad_row + ki * d->pw + kj;
                for (int64_t c = 0; c < g->cin; c++)
                    s->wflip[t * g->cin + c] = w[((co * g->cin + c) * k + (k - 1 - ki)) * k + (k - 1 - kj)];
            }
}

/* The sample's input as PH×PW planes: in place, or a padded copy. */
static const float *direct_input(const DirectConv *d, const float *x, DirectScratch *s)
{
    if (d->g.pad == 0)
        return x;
    pad_planes(&d->g, d->ph, d->pw, x, 1, s->xp);
    return s->xp;
}

static bool direct_conv_forward(Engine *eng, const ConvKernels *kern, const ConvGeom *g,
                                const float *x, const float *w, const float *bias, float *y)
{
    DirectConv d = direct_plan(g);
    DirectScratch s;
    if (!direct_scratch_init(eng, &d, false, false, &s))
        return false;
    direct_input_taps(&d, &s);
    direct_weights_by_tap(&d, w, &s);
    int64_t in_size = g->cin * g->h * g->w, out_size = g->cout * g->plane;
    bool ok = true;
    for (int64_t n = 0; n < g->batch && ok; n++) {
        const float *in = direct_input(&d, x + n * in_size, &s);
        /* rows (Cout, cols) = Σ_t wt[t] ⊗ in[off[t] ...] */
        kern->correlate(in, s.off, g->patch, s.wt, g->cout, s.rows, d.cols, d.cols, false);
        float *out = y + n * out_size;
        for (int64_t co = 0; co < g->cout; co++) {
            float b = bias ? bias[co] : 0.0f;
            const float *src = s.rows + co * d.cols;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++)
                    out[(co * g->oh + oy) * g->ow + ox] = src[oy * d.pw + ox] + b;
        }
        ok = (n & 15) != 15 || !interrupted(eng) || engine_fail(eng, "interrupted");
    }
    direct_scratch_free(eng, &s);
    return ok;
}

static bool direct_conv_backward(Engine *eng, const ConvKernels *kern, const ConvGeom *g,
                                 const float *x, const float *w, const float *gy, float *dx,
                                 float *dw)
{
    DirectConv d = direct_plan(g);
    DirectScratch s;
    if (!direct_scratch_init(eng, &d, true, dx != NULL, &s))
        return false;
    direct_input_taps(&d, &s);
    if (dx)
        direct_flipped_taps(&d, w, &s);
    /* the gradient rows: zero except at output positions, rewritten per sample */
    memset(s.rows, 0, (size_t)(g->cout * d.grad_row) * sizeof(float));
    int64_t in_size = g->cin * g->h * g->w, out_size = g->cout * g->plane, kk = g->k * g->k;
    bool ok = true;
    for (int64_t n = 0; n < g->batch && ok; n++) {
        const float *gyn = gy + n * out_size;
        for (int64_t co = 0; co < g->cout; co++)
            for (int64_t oy = 0; oy < g->oh; oy++)
                memcpy(s.rows + co * d.grad_row + d.lead + oy * d.pw, gyn + (co * g->oh + oy) * g->ow,
                       (size_t)g->ow * sizeof(float));
        if (dw) {
            /* dW[co][t] += Σ_j dY[co][j] · in[off[t] + j] */
            const float *in = direct_input(&d, x + n * in_size, &s);
            kern->weight_grad(in, s.off, g->patch, s.rows + d.lead, d.grad_row, g->cout, dw, d.cols);
        }
        if (dx && g->pad == 0) {
            /* dX[c][p] += Σ_t wflip[t][c] · rows[off_t[t] + p] over the whole plane */
            kern->correlate(s.rows, s.off_t, g->cout * kk, s.wflip, g->cin, dx + n * in_size,
                            d.plane, d.plane, true);
        } else if (dx) {
            /* only the rows of the padded plane that are not padding */
            int64_t n_cols = g->h * d.pw;
            kern->correlate(s.rows + g->pad * d.pw, s.off_t, g->cout * kk, s.wflip, g->cin,
                            s.dxp, n_cols, n_cols, false);
            unpad_planes_add(g, g->h, 0, d.pw, s.dxp, 1, dx + n * in_size);
        }
        ok = (n & 15) != 15 || !interrupted(eng) || engine_fail(eng, "interrupted");
    }
    direct_scratch_free(eng, &s);
    return ok;
}

/* ---- choosing a path ---- */

/* The direct kernels when the path allows them, the stride is 1 and the
 * CPU has them. */
static bool direct_kernels(const ConvGeom *g, ConvPath path, ConvKernels *kern)
{
    bool allowed = path == CONV_PATH_AUTO || path == CONV_PATH_DIRECT || path == CONV_PATH_DIRECT_AVX2;
    return allowed && g->stride == 1 && conv_fast_kernels(path == CONV_PATH_DIRECT_AVX2, kern);
}

static bool conv_forward_compute(Engine *eng, const ConvGeom *g, ConvPath path, const float *x,
                                 const float *w, const float *bias, float *y)
{
    ConvKernels kern;
    if (direct_kernels(g, path, &kern))
        return direct_conv_forward(eng, &kern, g, x, w, bias, y);
    return gemm_conv_forward(eng, g, path, x, w, bias, y);
}

static bool conv_backward_compute(Engine *eng, const ConvGeom *g, ConvPath path, const float *x,
                                  const float *w, const float *gy, float *dx, float *dw)
{
    ConvKernels kern;
    if (direct_kernels(g, path, &kern))
        return direct_conv_backward(eng, &kern, g, x, w, gy, dx, dw);
    return gemm_conv_backward(eng, g, path, x, w, gy, dx, dw);
}

Tensor *op_conv2d_forward(Engine *eng, Node *n)
{
    Tensor *x = n->inputs[0], *w = n->inputs[1];
    Tensor *b = n->n_inputs > 2 ? n->inputs[2] : NULL;
    ConvGeom g;
    if (!conv_geometry(eng, x, w, b, n->args.stride, n->args.padding, &g))
        return NULL;
    int64_t shape[4] = {g.batch, g.cout, g.oh, g.ow};
    Tensor *xc = tensor_contiguous(eng, x);
    Tensor *wc = xc ? tensor_contiguous(eng, w) : NULL;
    Tensor *bc = wc && b ? tensor_contiguous(eng, b) : NULL;
    Tensor *out = wc && (bc || !b) ? (x->ndim == 4 ? tensor_empty(eng, DTYPE_FLOAT32, 4, shape)
                                                   : tensor_empty(eng, DTYPE_FLOAT32, 3, shape + 1))
                                   : NULL;
    if (out && !conv_forward_compute(eng, &g, (ConvPath)n->args.kernel, tensor_data(xc),
                                     tensor_data(wc), bc ? tensor_data(bc) : NULL, tensor_data(out))) {
        tensor_release(out);
        out = NULL;
    }
    tensor_release(xc);
    tensor_release(wc);
    tensor_release(bc);
    return out;
}

bool op_conv2d_backward(Engine *eng, Node *n, const Tensor *gout, Tensor **gin)
{
    Tensor *x = n->inputs[0], *w = n->inputs[1];
    Tensor *b = n->n_inputs > 2 ? n->inputs[2] : NULL;
    ConvGeom g;
    if (!conv_geometry(eng, x, w, b, n->args.stride, n->args.padding, &g))
        return false;
    if (b && gin[2])
        conv_bias_grad(&g, tensor_data(gout), tensor_data(gin[2]));
    if (!gin[0] && !gin[1])
        return true;
    Tensor *xc = gin[1] ? tensor_contiguous(eng, x) : NULL;
    Tensor *wc = gin[0] ? tensor_contiguous(eng, w) : NULL;
    bool ok = (xc || !gin[1]) && (wc || !gin[0]);
    if (ok)
        ok = conv_backward_compute(eng, &g, (ConvPath)n->args.kernel, xc ? tensor_data(xc) : NULL,
                                   wc ? tensor_data(wc) : NULL,
                                   tensor_data(gout), gin[0] ? tensor_data(gin[0]) : NULL,
                                   gin[1] ? tensor_data(gin[1]) : NULL);
    tensor_release(xc);
    tensor_release(wc);
    return ok;
}

/* ---- public wrappers ---- */

Tensor *tensor_conv2d(Engine *eng, Tensor *input, Tensor *weight, Tensor *bias, int stride,
                      int padding)
{
    return tensor_conv2d_path(eng, input, weight, bias, stride, padding, CONV_PATH_AUTO);
}

Tensor *tensor_conv2d_path(Engine *eng, Tensor *input, Tensor *weight, Tensor *bias, int stride,
                           int padding, ConvPath path)
{
    Tensor *in[3] = {input, weight, bias};
    OpArgs args = {0};
    args.stride = stride;
    args.padding = padding;
    args.kernel = (int)path; /* conv2d's use of the field: which algorithm */
    /* PyTorch runs an unbatched input as a batch of one and squeezes it */
    if (input->ndim == 3)
        args.grad_fn_name = "SqueezeBackward1";
    return op_apply(eng, OP_CONV2D, bias ? 3 : 2, in, &args);
}
