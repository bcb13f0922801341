/*
 * ops_linalg.c - matmul (torch.matmul, mm, @) and linear (nn.Linear).
 *
 * Every product goes through sgemm() (blas.h), which reads row-major
 * matrices with a leading dimension and a transpose flag. A tensor operand
 * is handed to sgemm in place whenever one of its two matrix dims has
 * stride 1 (a transposed tensor is read with the transpose flag, never
 * copied); only layouts sgemm cannot describe (a sliced-with-step or
 * expanded matrix) are copied first.
 *
 * matmul of a (..., n, k) and b (..., k, m), PyTorch's rules:
 *   1-D a is a row (1, k) and its dim is dropped from the result; 1-D b is
 *   a column (k, 1), likewise; the batch dims (...) broadcast. Each batch
 *   is one sgemm call; a contiguous batched a times an unbatched b is folded
 *   into one (B·n, k) @ (k, m) call. Gradients are written straight into
 *   the zero-filled gradient buffers with beta = 1, so a batch operand that
 *   was broadcast collects the sum over the batches that read it.
 */
#include <string.h>

#include "blas.h"
#include "op_impl.h"

/* ---- sgemm operands ---- */

/* How sgemm reads a rows×cols matrix stored with strides (rs, cs): element
 * (i, j) at i·ld + j (trans false) or at j·ld + i (trans true). */
typedef struct GemmLayout {
    bool trans;
    int64_t ld;
} GemmLayout;

/* False when no (trans, ld) reads the layout (then the caller copies). */
static bool gemm_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, GemmLayout *g)
{
    if (rows == 0 || cols == 0 || (rows == 1 && cols == 1)) {
        *g = (GemmLayout){false, cols > 1 ? cols : 1};
        return true;
    }
    if (rows == 1) { /* one row: only the column stride matters */
        *g = cs == 1 ? (GemmLayout){false, cols} : (GemmLayout){true, cs};
        return cs >= 1;
    }
    if (cols == 1) { /* one column: only the row stride matters */
        *g = rs == 1 ? (GemmLayout){true, rows} : (GemmLayout){false, rs};
        return rs >= 1;
    }
    if (cs == 1 && rs >= cols) {
        *g = (GemmLayout){false, rs};
        return true;
    }
    if (rs == 1 && cs >= rows) {
        *g = (GemmLayout){true, cs};
        return true;
    }
    return false;
}

/* The matrix dims of operand t: a 1-D left operand is a row, a 1-D right
 * operand a column. */
static void matrix_dims(const Tensor *t, bool left, int64_t *rows, int64_t *cols, int64_t *rs,
                        int64_t *cs)
{
    if (t->ndim == 1) {
        int64_t len = t->shape[0], st = t->stride[0];
        *rows = left ? 1 : len;
        *cols = left ? len : 1;
        *rs = left ? len * st : st;
        *cs = left ? st : 1;
        return;
    }
    *rows = t->shape[t->ndim - 2];
    *cols = t->shape[t->ndim - 1];
    *rs = t->stride[t->ndim - 2];
    *cs = t->stride[t->ndim - 1];
}

static bool operand_layout(const Tensor *t, bool left, GemmLayout *g)
{
    int64_t rows, cols, rs, cs;
    matrix_dims(t, left, &rows, &cols, &rs, &cs);
    return gemm_layout(rows, cols, rs, cs, g);
}

/* t itself (retained) when sgemm can read its matrices in place, else a
 * contiguous copy; *g says how to read it. */
static Tensor *gemm_operand(Engine *eng, Tensor *t, bool left, GemmLayout *g)
{
    if (operand_layout(t, left, g))
        return tensor_retain(t);
    Tensor *c = tensor_copy_data(eng, t);
    if (c)
        operand_layout(c, left, g);
    return c;
}

/* ---- matmul ---- */

/* Shapes of one matmul: (n×k) @ (k×m) repeated over the broadcast batch. */
typedef struct MatmulPlan {
    int64_t n, k, m;
    int batch_ndim;                   /* 0..2 */
    int64_t batch_shape[2];
    int64_t batches;                  /* product of batch_shape */
    int out_ndim;
    int64_t out_shape[TENSOR_MAX_DIMS];
} MatmulPlan;

static bool matmul_mismatch(Engine *eng, const Tensor *a, const Tensor *b)
{
    char fa[96], fb[96];
    tensor_shape_str(a, fa, sizeof fa);
    tensor_shape_str(b, fb, sizeof fb);
    return engine_fail(eng, "matmul shape mismatch: %s @ %s", fa, fb);
}

static bool matmul_plan(Engine *eng, const Tensor *a, const Tensor *b, MatmulPlan *p)
{
    if (a->ndim == 0 || b->ndim == 0)
        return engine_fail(eng, "both arguments to matmul need to be at least 1-D, but they are "
                           "%d-D and %d-D", a->ndim, b->ndim);
    int64_t rows, cols, rs, cs;
    matrix_dims(a, true, &rows, &cols, &rs, &cs);
    p->n = rows;
    p->k = cols;
    matrix_dims(b, false, &rows, &cols, &rs, &cs);
    p->m = cols;
    if (rows != p->k)
        return matmul_mismatch(eng, a, b);
    int nba = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0;
    p->batch_ndim = nba > nbb ? nba : nbb;
    p->batches = 1;
    for (int i = 0; i < p->batch_ndim; i++) {
        int ia = nba - p->batch_ndim + i, ib = nbb - p->batch_ndim + i;
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return matmul_mismatch(eng, a, b);
        p->batch_shape[i] = da == 1 ? db : da;
        p->batches *= p->batch_shape[i];
    }
    p->out_ndim = 0;
    for (int i = 0; i < p->batch_ndim; i++)
        p->out_shape[p->out_ndim++] = p->batch_shape[i];
    if (a->ndim >= 2)
        p->out_shape[p->out_ndim++] = p->n;
    if (b->ndim >= 2)
        p->out_shape[p->out_ndim++] = p->m;
    return true;
}

/* Element strides of t's batch dims as broadcast to the plan's batch
 * (0 where t has size 1 or lacks the dim). */
static void batch_strides(const Tensor *t, const MatmulPlan *p, int64_t bs[2])
{
    int nbt = t->ndim > 2 ? t->ndim - 2 : 0;
    for (int i = 0; i < 2; i++)
        bs[i] = 0;
    for (int i = 0; i < p->batch_ndim; i++) {
        int it = nbt - p->batch_ndim + i;
        if (it >= 0 && t->shape[it] != 1)
            bs[i] = t->stride[it];
    }
}

static int64_t batch_offset(const MatmulPlan *p, int64_t batch, const int64_t bs[2])
{
    if (p->batch_ndim == 2)
        return (batch / p->batch_shape[1]) * bs[0] + (batch % p->batch_shape[1]) * bs[1];
    return p->batch_ndim == 1 ? batch * bs[0] : 0;
}

/* One (B·n, k) @ (k, m) product instead of B batches: a is batched and
 * contiguous, b has no batch dims. */
static bool matmul_folds(const Tensor *a, const Tensor *b)
{
    return a->ndim >= 3 && b->ndim <= 2 && tensor_is_contiguous(a);
}

static DType matmul_dtype(Engine *eng, const Tensor *a, const Tensor *b, bool *ok)
{
    *ok = false;
    if (a->dtype == DTYPE_BOOL || b->dtype == DTYPE_BOOL) {
        engine_fail(eng, "matmul is not implemented for bool tensors");
        return DTYPE_FLOAT32;
    }
    if (a->dtype != b->dtype) {
        engine_fail(eng, "matmul: expected both tensors to have the same dtype, but got %s @ %s",
                    dtype_name(a->dtype), dtype_name(b->dtype));
        return DTYPE_FLOAT32;
    }
    *ok = true;
    return a->dtype; /* int64 products are exact while they stay below 2^24 */
}

Tensor *op_matmul_forward(Engine *eng, Node *node)
{
    Tensor *a = node->inputs[0], *b = node->inputs[1];
    MatmulPlan p;
    bool dtype_ok;
    DType dtype = matmul_dtype(eng, a, b, &dtype_ok);
    if (!dtype_ok || !matmul_plan(eng, a, b, &p))
        return NULL;
    Tensor *out = tensor_empty(eng, dtype, p.out_ndim, p.out_shape);
    GemmLayout ga, gb;
    Tensor *A = out ? gemm_operand(eng, a, true, &ga) : NULL;
    Tensor *B = A ? gemm_operand(eng, b, false, &gb) : NULL;
    if (!B) {
        tensor_release(out);
        tensor_release(A);
        return NULL;
    }
    float *C = tensor_data(out);
    if (matmul_folds(A, B)) {
        /* C (B·n × m) = A (B·n × k) · op(B) (k × m) */
        sgemm(false, gb.trans, p.batches * p.n, p.m, p.k, 1.0f, tensor_data(A), p.k,
              tensor_data(B), gb.ld, 0.0f, C, p.m);
    } else {
        int64_t sa[2], sb[2];
        batch_strides(A, &p, sa);
        batch_strides(B, &p, sb);
        for (int64_t i = 0; i < p.batches; i++)
            /* C[i] (n × m) = op(A[i]) (n × k) · op(B[i]) (k × m) */
            sgemm(ga.trans, gb.trans, p.n, p.m, p.k, 1.0f, tensor_data(A) + batch_offset(&p, i, sa),
                  ga.ld, tensor_data(B) + batch_offset(&p, i, sb), gb.ld, 0.0f, C + i * p.n * p.m, p.m);
    }
    tensor_release(A);
    tensor_release(B);
    return out;
}

/* A contiguous gradient buffer g of an operand: its batch strides
 * (broadcast dims 0) and its leading dimension. */
static void grad_operand(const Tensor *g, bool left, const MatmulPlan *p, int64_t bs[2], int64_t *ld)
{
    batch_strides(g, p, bs);
    if (g->ndim == 1)
        *ld = left ? g->shape[0] : 1; /* a row (1 × k) or a column (k × 1) */
    else
        *ld = g->shape[g->ndim - 1];
    if (*ld < 1)
        *ld = 1;
}

bool op_matmul_backward(Engine *eng, Node *node, const Tensor *gout, Tensor **gin)
{
    Tensor *a = node->inputs[0], *b = node->inputs[1];
    MatmulPlan p;
    if (!matmul_plan(eng, a, b, &p))
        return false;
    GemmLayout ga, gb;
    /* dA needs B and dB needs A */
    Tensor *A = gin[1] ? gemm_operand(eng, a, true, &ga) : NULL;
    Tensor *B = gin[0] ? gemm_operand(eng, b, false, &gb) : NULL;
    if ((gin[1] && !A) || (gin[0] && !B)) {
        tensor_release(A);
        tensor_release(B);
        return false;
    }
    const float *G = tensor_data(gout);
    if (matmul_folds(a, b)) {
        int64_t rows = p.batches * p.n;
        if (gin[0]) /* dA (B·n × k) += dC (B·n × m) · op(B)ᵀ (m × k) */
            sgemm(false, !gb.trans, rows, p.k, p.m, 1.0f, G, p.m, tensor_data(B), gb.ld, 1.0f,
                  tensor_data(gin[0]), p.k);
        if (gin[1]) { /* dB (k × m) += Aᵀ (k × B·n) · dC (B·n × m) */
            int64_t bs[2], ldb;
            grad_operand(gin[1], false, &p, bs, &ldb);
            sgemm(true, false, p.k, p.m, rows, 1.0f, tensor_data(A), p.k, G, p.m, 1.0f,
                  tensor_data(gin[1]), ldb);
        }
    } else {
        int64_t sa[2] = {0, 0}, sb[2] = {0, 0}, da[2] = {0, 0}, db[2] = {0, 0};
        int64_t lda = 1, ldb = 1;
        if (A)
            batch_strides(A, &p, sa);
        if (B)
            batch_strides(B, &p, sb);
        if (gin[0])
            grad_operand(gin[0], true, &p, da, &lda);
        if (gin[1])
            grad_operand(gin[1], false, &p, db, &ldb);
        for (int64_t i = 0; i < p.batches; i++) {
            const float *Gi = G + i * p.n * p.m;
            if (gin[0]) /* dA[i] (n × k) += dC[i] (n × m) · op(B[i])ᵀ (m × k) */
                sgemm(false, !gb.trans, p.n, p.k, p.m, 1.0f, Gi, p.m,
                      tensor_data(B) + batch_offset(&p, i, sb), gb.ld, 1.0f,
                      tensor_data(gin[0]) + batch_offset(&p, i, da), lda);
            if (gin[1]) /* dB[i] (k × m) += op(A[i])ᵀ (k × n) · dC[i] (n × m) */
                sgemm(!ga.trans, false, p.k, p.m, p.n, 1.0f,
                      tensor_data(A) + batch_offset(&p, i, sa), ga.ld, Gi, p.m, 1.0f,
                      tensor_data(gin[1]) + batch_offset(&p, i, db), ldb);
        }
    }
    tensor_release(A);
    tensor_release(B);
    return true;
}

/* ---- linear: y = x·Wᵀ + b, one op ---- */

/* x (..., in) seen as an N×in matrix: N is the product of the leading dims. */
static int64_t linear_rows(const Tensor *x)
{
    int64_t rows = 1;
    for (int i = 0; i < x->ndim - 1; i++)
        rows *= x->shape[i];
    return rows;
}

/* x as sgemm reads it: in place when a 1-D or 2-D layout allows, or when it
 * is contiguous; else a contiguous copy. */
static Tensor *linear_input(Engine *eng, Tensor *x, GemmLayout *g)
{
    int64_t in = x->shape[x->ndim - 1];
    if (x->ndim <= 2 && operand_layout(x, true, g))
        return tensor_retain(x);
    Tensor *c = tensor_contiguous(eng, x);
    *g = (GemmLayout){false, in > 1 ? in : 1};
    return c;
}

static bool linear_check(Engine *eng, const Tensor *x, const Tensor *w, const Tensor *b)
{
    if (x->dtype != DTYPE_FLOAT32 || w->dtype != DTYPE_FLOAT32 || (b && b->dtype != DTYPE_FLOAT32)) {
        const Tensor *bad = x->dtype != DTYPE_FLOAT32 ? x : w->dtype != DTYPE_FLOAT32 ? w : b;
        return engine_fail(eng, "linear: expected float tensors, but the %s is %s (convert it with .float())",
                           bad == x ? "input" : bad == w ? "weight" : "bias", dtype_name(bad->dtype));
    }
    if (x->ndim == 0)
        return engine_fail(eng, "linear: input must have at least 1 dimension, but got a 0-d tensor");
    bool bias_ok = !b || (b->ndim == 1 && w->ndim == 2 && b->shape[0] == w->shape[0]);
    if (w->ndim == 2 && x->shape[x->ndim - 1] == w->shape[1] && bias_ok)
        return true;
    /* the messages name the shapes, formatted only on failure */
    char fx[96], fw[96], fb[96] = "";
    tensor_shape_str(x, fx, sizeof fx);
    tensor_shape_str(w, fw, sizeof fw);
    if (b)
        tensor_shape_str(b, fb, sizeof fb);
    if (w->ndim != 2)
        return engine_fail(eng, "linear: weight must be 2-D (out_features, in_features), but got %s", fw);
    if (x->shape[x->ndim - 1] != w->shape[1]) {
        /* PyTorch's words: the input flattened to rows, times weightᵀ */
        int64_t rows = tensor_numel(x) / (x->shape[x->ndim - 1] ? x->shape[x->ndim - 1] : 1);
        return engine_fail(eng, "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
                           (long long)(x->ndim == 1 ? 1 : rows), (long long)x->shape[x->ndim - 1],
                           (long long)w->shape[1], (long long)w->shape[0]);
    }
    return engine_fail(eng, "linear shape mismatch: bias %s does not match weight %s "
                       "(expected %lld values)", fb, fw, (long long)w->shape[0]);
}

/* sums[j] += Σ over rows of G[r][j] (G: rows × cols), adding the rows in
 * order. Columns go in blocks of a fixed width, whose sums stay in
 * registers; a block is one pass over the rows. */
#define ADD_COLUMN_BLOCK(WIDTH)                                               \
    while (cols - j0 >= (WIDTH)) {                                            \
        float acc[WIDTH];                                                     \
        for (int jj = 0; jj < (WIDTH); jj++)                                  \
            acc[jj] = sums[j0 + jj];                                          \
        for (int64_t r = 0; r < rows; r++)                                    \
            for (int jj = 0; jj < (WIDTH); jj++)                              \
                acc[jj] += G[r * cols + j0 + jj];                             \
        for (int jj = 0; jj < (WIDTH); jj++)                                  \
            sums[j0 + jj] = acc[jj];                                          \
        j0 += (WIDTH);                                                        \
    }

static void add_column_sums(float *sums, const float *G, int64_t rows, int64_t cols)
{
    int64_t j0 = 0;
    ADD_COLUMN_BLOCK(16)
    ADD_COLUMN_BLOCK(8)
    ADD_COLUMN_BLOCK(4)
    ADD_COLUMN_BLOCK(2)
    ADD_COLUMN_BLOCK(1)
}

Tensor *op_linear_forward(Engine *eng, Node *node)
{
    Tensor *x = node->inputs[0], *w = node->inputs[1];
    Tensor *bias = node->n_inputs > 2 ? node->inputs[2] : NULL;
    if (!linear_check(eng, x, w, bias))
        return NULL;
    int64_t rows = linear_rows(x), in = w->shape[1], outf = w->shape[0];
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = outf;
    Tensor *y = tensor_empty(eng, DTYPE_FLOAT32, x->ndim, shape);
    GemmLayout gx, gw;
    Tensor *X = y ? linear_input(eng, x, &gx) : NULL;
    Tensor *W = X ? gemm_operand(eng, w, true, &gw) : NULL;
    if (!W) {
        tensor_release(y);
        tensor_release(X);
        return NULL;
    }
    float *Y = tensor_data(y);
    if (bias) { /* every row of Y starts as the bias */
        const float *bd = tensor_data(bias);
        int64_t bs = bias->stride[0];
        /* element by element: rows are often a few floats long, where a
         * memcpy call per row cost more than the copy */
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < outf; j++)
                Y[r * outf + j] = bd[j * bs];
    }
    /* Y (N × out) = X (N × in) · Wᵀ (in × out) + Y */
    sgemm(gx.trans, !gw.trans, rows, outf, in, 1.0f, tensor_data(X), gx.ld, tensor_data(W), gw.ld,
          bias ? 1.0f : 0.0f, Y, outf);
    tensor_release(X);
    tensor_release(W);
    return y;
}

bool op_linear_backward(Engine *eng, Node *node, const Tensor *gout, Tensor **gin)
{
    Tensor *x = node->inputs[0], *w = node->inputs[1];
    int64_t rows = linear_rows(x), in = w->shape[1], outf = w->shape[0];
    const float *G = tensor_data(gout);
    GemmLayout gx, gw;
    if (gin[0]) {
        Tensor *W = gemm_operand(eng, w, true, &gw);
        if (!W)
            return false;
        /* dX (N × in) += dY (N × out) · W (out × in) */
        sgemm(false, gw.trans, rows, in, outf, 1.0f, G, outf, tensor_data(W), gw.ld, 1.0f,
              tensor_data(gin[0]), in);
        tensor_release(W);
    }
    if (gin[1]) {
        Tensor *X = linear_input(eng, x, &gx);
        if (!X)
            return false;
        /* dW (out × in) += dYᵀ (out × N) · X (N × in) */
        sgemm(true, gx.trans, outf, in, rows, 1.0f, G, outf, tensor_data(X), gx.ld, 1.0f,
              tensor_data(gin[1]), in);
        tensor_release(X);
    }
    if (node->n_inputs > 2 && gin[2])
        add_column_sums(tensor_data(gin[2]), G, rows, outf);
    return true;
}

/* ---- public wrappers ---- */

/* The grad_fn PyTorch 1.13 prints for torch.matmul, which picks a different
 * kernel for each combination of dims. */
static const char *matmul_grad_fn_name(const Tensor *a, const Tensor *b)
{
    if (a->ndim == 1 && b->ndim == 1)
        return "DotBackward0";
    if (a->ndim == 2 && b->ndim == 1)
        return "MvBackward0";
    if (a->ndim == 1 && b->ndim == 2)
        return "SqueezeBackward3";
    if (a->ndim == 2 && b->ndim == 2)
        return "MmBackward0";
    if (a->ndim == 2)
        return "CloneBackward0"; /* 2-D @ batched: computed transposed, then made contiguous */
    return "UnsafeViewBackward0";
}

Tensor *tensor_matmul(Engine *eng, Tensor *a, Tensor *b)
{
    Tensor *in[2] = {a, b};
    OpArgs args = {0};
    args.grad_fn_name = matmul_grad_fn_name(a, b);
    return op_apply(eng, OP_MATMUL, 2, in, &args);
}

Tensor *tensor_mm(Engine *eng, Tensor *a, Tensor *b)
{
    if (a->ndim != 2 || b->ndim != 2) {
        engine_fail(eng, "mm: expected 2-D tensors, got %d-D and %d-D", a->ndim, b->ndim);
        return NULL;
    }
    if (a->shape[1] != b->shape[0]) {
        char fa[96], fb[96];
        tensor_shape_str(a, fa, sizeof fa);
        tensor_shape_str(b, fb, sizeof fb);
        engine_fail(eng, "mm shape mismatch: %s @ %s", fa, fb);
        return NULL;
    }
    return tensor_matmul(eng, a, b);
}

/* What PyTorch 1.13's F.linear prints: addmm for 2-D input with bias, a
 * folded addmm and a view for contiguous 3-D input with bias, otherwise
 * matmul (named as matmul is) followed by a bias add. */
static const char *linear_grad_fn_name(const Tensor *x, bool has_bias)
{
    if (!has_bias)
        return x->ndim == 1 ? "SqueezeBackward3" : x->ndim == 2 ? "MmBackward0" : "UnsafeViewBackward0";
    if (x->ndim == 2)
        return "AddmmBackward0";
    if (x->ndim == 3 && tensor_is_contiguous(x))
        return "ViewBackward0";
    return "AddBackward0";
}

Tensor *tensor_linear(Engine *eng, Tensor *x, Tensor *weight, Tensor *bias)
{
    Tensor *in[3] = {x, weight, bias};
    OpArgs args = {0};
    args.grad_fn_name = linear_grad_fn_name(x, bias != NULL);
    return op_apply(eng, OP_LINEAR, bias ? 3 : 2, in, &args);
}
