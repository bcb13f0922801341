/*
 * blas.h - the engine's one matrix-multiply entry point.
 *
 * C (M×N) = alpha · op(A) · op(B) + beta · C, row-major, op = transpose when
 * the flag is set: A is M×K (K×M if trans_a), B is K×N (N×K if trans_b).
 * Below SGEMM_SMALL_WORK multiply-adds a plain loop runs (cblas_sgemm costs
 * tens of nanoseconds a call whatever the size); above it, OpenBLAS.
 */
#ifndef NNREPL_BLAS_H
#define NNREPL_BLAS_H

#include <stdbool.h>
#include <stdint.h>

/* M*N*K below which the plain loop is used (measured: docs/performance.md). */
#define SGEMM_SMALL_WORK 64

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
           float *C, int64_t ldc);
/* The two paths, exposed so tests can check they agree. */
void sgemm_small(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                 float *C, int64_t ldc);
void sgemm_blas(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                float *C, int64_t ldc);

#endif
