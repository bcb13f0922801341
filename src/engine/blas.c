#include "blas.h"

#include <cblas.h>

/* Element (i, j) of op(X) for a row-major X with leading dimension ld. */
#define AT(X, trans, i, j, ld) ((trans) ? (X)[(j) * (ld) + (i)] : (X)[(i) * (ld) + (j)])

void sgemm_small(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                 float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        for (int64_t j = 0; j < N; j++)
            c[j] = beta == 0.0f ? 0.0f : beta * c[j];
        /* i-k-j order: the inner loop runs along a row of B and C */
        for (int64_t k = 0; k < K; k++) {
            float a = alpha * AT(A, trans_a, i, k, lda);
            if (!trans_b) {
                const float *b = B + k * ldb;
                for (int64_t j = 0; j < N; j++)
                    c[j] += a * b[j];
            } else {
                for (int64_t j = 0; j < N; j++)
                    c[j] += a * B[j * ldb + k];
            }
        }
    }
}

void sgemm_blas(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                float *C, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, alpha,
                A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
           float *C, int64_t ldc)
{
    if (M == 0 || N == 0)
        return;
    if (M * N * K < SGEMM_SMALL_WORK)
        sgemm_small(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        sgemm_blas(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
