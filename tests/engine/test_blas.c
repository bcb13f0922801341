/* sgemm: the small-matrix loop and the OpenBLAS path agree with each other
 * and with a double-precision reference, for every transpose combination,
 * odd sizes, padded leading dimensions, alpha and beta; and sgemm() picks
 * either path correctly around SGEMM_SMALL_WORK.
 *
 * Tolerance: a float32 dot product of K terms carries a rounding error of at
 * most about K·u·Σ|a_k·b_k| (u = 2^-24, Higham's γ_K bound, linear in K with
 * any summation order). Both paths obey it against the exact value, so they
 * differ from each other by at most twice that; the check uses
 * 2·(K + 2)·u·(|alpha|·Σ|a·b| + |beta·c|), the +2 covering the scaling by
 * alpha and the beta term. Blocked or FMA-using summation in OpenBLAS is
 * well inside this bound, and a wrong index or transpose is far outside it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "fixture.h"
#include "gradcheck.h"

typedef struct GemmCase {
    bool ta, tb;
    int64_t M, N, K;
    int64_t pad;          /* extra columns in every leading dimension */
    float alpha, beta;
} GemmCase;

typedef struct GemmData {
    int64_t lda, ldb, ldc;
    float *A, *B, *C0;    /* C0: C before the call */
} GemmData;

static float *random_floats(Engine *eng, int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(2.0 * rng_uniform(&eng->rng) - 1.0);
    return p;
}

static GemmData make_data(Engine *eng, const GemmCase *c)
{
    GemmData d;
    int64_t a_rows = c->ta ? c->K : c->M, a_cols = c->ta ? c->M : c->K;
    int64_t b_rows = c->tb ? c->N : c->K, b_cols = c->tb ? c->K : c->N;
    d.lda = a_cols + c->pad;
    d.ldb = b_cols + c->pad;
    d.ldc = c->N + c->pad;
    d.A = random_floats(eng, a_rows * d.lda);
    d.B = random_floats(eng, b_rows * d.ldb);
    d.C0 = random_floats(eng, c->M * d.ldc);
    return d;
}

static void free_data(GemmData *d)
{
    free(d->A);
    free(d->B);
    free(d->C0);
}

typedef void (*SgemmFn)(bool, bool, int64_t, int64_t, int64_t, float, const float *, int64_t,
                        const float *, int64_t, float, float *, int64_t);

static float *run(SgemmFn fn, const GemmCase *c, const GemmData *d)
{
    float *C = malloc((size_t)(c->M * d->ldc > 0 ? c->M * d->ldc : 1) * sizeof *C);
    assert_non_null(C);
    memcpy(C, d->C0, (size_t)(c->M * d->ldc) * sizeof *C);
    fn(c->ta, c->tb, c->M, c->N, c->K, c->alpha, d->A, d->lda, d->B, d->ldb, c->beta, C, d->ldc);
    return C;
}

#define OP_AT(X, trans, i, j, ld) ((trans) ? (X)[(j) * (ld) + (i)] : (X)[(i) * (ld) + (j)])

/* Checks C1 and C2 against the double reference and each other; the
 * padding columns of C must be untouched. */
static void check_results(const GemmCase *c, const GemmData *d, const float *C1, const float *C2)
{
    const double u = ldexp(1.0, -24);
    for (int64_t i = 0; i < c->M; i++)
        for (int64_t j = 0; j < d->ldc; j++) {
            int64_t at = i * d->ldc + j;
            if (j >= c->N) {
                assert_true(C1[at] == d->C0[at] && C2[at] == d->C0[at]);
                continue;
            }
            double exact = 0.0, magnitude = 0.0;
            for (int64_t k = 0; k < c->K; k++) {
                double p = (double)OP_AT(d->A, c->ta, i, k, d->lda) * OP_AT(d->B, c->tb, k, j, d->ldb);
                exact += p;
                magnitude += fabs(p);
            }
            double cbeta = c->beta == 0.0f ? 0.0 : (double)c->beta * d->C0[at];
            exact = c->alpha * exact + cbeta;
            double bound = (double)(c->K + 2) * u * (fabs(c->alpha) * magnitude + fabs(cbeta)) + 1e-30;
            if (!(fabs(C1[at] - exact) <= bound && fabs(C2[at] - exact) <= bound &&
                  fabs(C1[at] - C2[at]) <= 2.0 * bound)) {
                print_error("%s%s %lldx%lldx%lld C[%lld, %lld]: small %.9g blas %.9g exact %.9g bound %.3g\n",
                            c->ta ? "T" : "N", c->tb ? "T" : "N", (long long)c->M, (long long)c->N,
                            (long long)c->K, (long long)i, (long long)j, C1[at], C2[at], exact, bound);
                fail();
            }
        }
}

static void test_small_and_blas_paths_agree(void **state)
{
    Engine *eng = *state;
    const int64_t sizes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {128, 128, 128}, {1, 9, 4}, {6, 1, 5}};
    const float scalars[][2] = {{1.0f, 0.0f}, {0.5f, 2.0f}, {-1.5f, 1.0f}};
    for (int t = 0; t < 4; t++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (size_t k = 0; k < 3; k++) {
                GemmCase c = {t & 1, (t >> 1) & 1, sizes[s][0], sizes[s][1], sizes[s][2],
                              (int64_t)(k == 1 ? 3 : 0), scalars[k][0], scalars[k][1]};
                GemmData d = make_data(eng, &c);
                float *C1 = run(sgemm_small, &c, &d), *C2 = run(sgemm_blas, &c, &d);
                check_results(&c, &d, C1, C2);
                free(C1);
                free(C2);
                free_data(&d);
            }
}

/* sgemm() itself, just below, at and above the switch, and far above. */
static void test_dispatch_around_threshold(void **state)
{
    Engine *eng = *state;
    const int64_t sizes[][3] = {
        {1, 1, SGEMM_SMALL_WORK - 1}, {1, 1, SGEMM_SMALL_WORK}, {1, SGEMM_SMALL_WORK + 1, 1},
        {4, 4, 4}, {3, 3, 7}, {759, 6, 8}, {64, 120, 400},
    };
    for (int t = 0; t < 4; t++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            GemmCase c = {t & 1, (t >> 1) & 1, sizes[s][0], sizes[s][1], sizes[s][2], 1, 1.0f, 0.0f};
            GemmData d = make_data(eng, &c);
            float *C1 = run(sgemm, &c, &d), *C2 = run(sgemm_blas, &c, &d);
            check_results(&c, &d, C1, C2);
            free(C1);
            free(C2);
            free_data(&d);
        }
}

/* beta = 0 means C is not read: NaN or garbage in it must not leak into the
 * result (matmul writes into uninitialised output tensors). */
static void test_beta_zero_ignores_old_c(void **state)
{
    (void)state;
    const float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1};
    SgemmFn fns[] = {sgemm_small, sgemm_blas, sgemm};
    for (int f = 0; f < 3; f++) {
        float C[4] = {NAN, INFINITY, NAN, -INFINITY};
        fns[f](false, false, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
        /* [1 2 3; 4 5 6] · [1 0; 0 1; 1 1] */
        assert_float_equal(C[0], 4, 0);
        assert_float_equal(C[1], 5, 0);
        assert_float_equal(C[2], 10, 0);
        assert_float_equal(C[3], 11, 0);
    }
}

/* K = 0 is an empty sum: C = beta·C; M = 0 or N = 0 touch nothing. */
static void test_degenerate_sizes(void **state)
{
    (void)state;
    const float A[1] = {7}, B[1] = {7};
    float C[4] = {1, 2, 3, 4};
    sgemm(false, false, 2, 2, 0, 1.0f, A, 1, B, 2, 0.5f, C, 2);
    assert_float_equal(C[0], 0.5f, 0);
    assert_float_equal(C[3], 2.0f, 0);
    sgemm(false, false, 0, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
    sgemm(false, false, 2, 0, 3, 1.0f, A, 3, B, 1, 0.0f, C, 1);
    assert_float_equal(C[1], 1.0f, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_and_blas_paths_agree),
        cmocka_unit_test(test_dispatch_around_threshold),
        cmocka_unit_test(test_beta_zero_ignores_old_c),
        cmocka_unit_test(test_degenerate_sizes),
    };
    return cmocka_run_group_tests(tests, engine_setup, NULL);
}
