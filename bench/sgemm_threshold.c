/*
 * sgemm_threshold - where should sgemm() switch from its plain loop to
 * OpenBLAS? Times both paths on square and on the course's shapes and prints
 * a Markdown table (ns per call, best of several runs).
 *
 *   OPENBLAS_NUM_THREADS=1 ./sgemm_threshold
 *   OPENBLAS_NUM_THREADS=2 ./sgemm_threshold
 *
 * The "small wins" column says which path was faster; SGEMM_SMALL_WORK in
 * src/engine/blas.h is set from where that flips (docs/performance.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas.h"

typedef void (*SgemmFn)(bool, bool, int64_t, int64_t, int64_t, float, const float *, int64_t,
                        const float *, int64_t, float, float *, int64_t);

typedef struct Shape {
    int64_t M, N, K;
    bool trans_a, trans_b;
    const char *what;
} Shape;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Best-of-7 average time of one call, each run long enough (>= 2 ms) to
 * swamp the clock's resolution. */
static double time_call(SgemmFn fn, const Shape *s, const float *A, const float *B, float *C)
{
    int64_t lda = s->trans_a ? s->M : s->K, ldb = s->trans_b ? s->K : s->N;
    int64_t reps = 1;
    for (;;) {
        double t0 = now_ns();
        for (int64_t r = 0; r < reps; r++)
            fn(s->trans_a, s->trans_b, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
        if (now_ns() - t0 >= 2e6)
            break;
        reps *= 2;
    }
    double best = 1e300;
    for (int run = 0; run < 7; run++) {
        double t0 = now_ns();
        for (int64_t r = 0; r < reps; r++)
            fn(s->trans_a, s->trans_b, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
        double per = (now_ns() - t0) / (double)reps;
        if (per < best)
            best = per;
    }
    return best;
}

static float *random_floats(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return p;
}

static void run(const Shape *s)
{
    float *A = random_floats(s->M * s->K), *B = random_floats(s->K * s->N);
    float *C = random_floats(s->M * s->N);
    double small = time_call(sgemm_small, s, A, B, C);
    double blas = time_call(sgemm_blas, s, A, B, C);
    printf("| %lld×%lld×%lld %s%s | %lld | %.0f | %.0f | %s | %s |\n", (long long)s->M,
           (long long)s->N, (long long)s->K, s->trans_a ? "Aᵀ" : "A", s->trans_b ? "·Bᵀ" : "·B",
           (long long)(s->M * s->N * s->K), small, blas, small < blas ? "loop" : "BLAS", s->what);
    free(A);
    free(B);
    free(C);
}

int main(int argc, char **argv)
{
    (void)argv;
    bool quick = argc > 1; /* any argument: only a few sizes (a smoke test) */
    static const Shape cubes[] = {
        {1, 1, 1, 0, 0, ""}, {2, 2, 2, 0, 0, ""}, {3, 3, 3, 0, 0, ""}, {4, 4, 4, 0, 0, ""},
        {5, 5, 5, 0, 0, ""}, {6, 6, 6, 0, 0, ""}, {8, 8, 8, 0, 0, ""}, {12, 12, 12, 0, 0, ""},
        {16, 16, 16, 0, 0, ""}, {32, 32, 32, 0, 0, ""}, {64, 64, 64, 0, 0, ""},
        {128, 128, 128, 0, 0, ""},
        {4, 4, 4, 0, 1, ""}, {4, 4, 4, 1, 0, ""}, {6, 6, 6, 0, 1, ""}, {6, 6, 6, 1, 0, ""},
        {16, 16, 16, 0, 1, ""}, {16, 16, 16, 1, 0, ""},
        /* skinny shapes of about the same work */
        {1, 1, 64, 0, 0, ""}, {1, 64, 1, 0, 0, ""}, {64, 1, 1, 0, 0, ""},
        {1, 1, 128, 0, 1, ""}, {128, 1, 1, 0, 1, ""}, {2, 8, 8, 0, 1, ""}, {8, 8, 2, 0, 0, ""},
        {1, 8, 16, 0, 1, ""}, {16, 8, 1, 0, 1, ""},
    };
    static const Shape course[] = {
        /* the diabetes MLP, 8 -> 6 -> 4 -> 1 on the 759 training rows */
        {759, 6, 8, 0, 1, "MLP layer 1 forward"},
        {759, 4, 6, 0, 1, "MLP layer 2 forward"},
        {759, 1, 4, 0, 1, "MLP layer 3 forward"},
        {759, 8, 6, 0, 0, "MLP layer 1 dX"},
        {6, 8, 759, 1, 0, "MLP layer 1 dW"},
        {4, 6, 759, 1, 0, "MLP layer 2 dW"},
        /* one sample through the same layers */
        {1, 6, 8, 0, 1, "MLP one row"},
        /* the digits MLP 64 -> 32 -> 10, batch 32 */
        {32, 32, 64, 0, 1, "digits layer 1"},
        {32, 10, 32, 0, 1, "digits layer 2"},
        /* the CNN's fully connected layers, batch 64 */
        {64, 120, 400, 0, 1, "CNN fc1 forward"},
        {64, 84, 120, 0, 1, "CNN fc2 forward"},
        {64, 10, 84, 0, 1, "CNN fc3 forward"},
        {120, 400, 64, 1, 0, "CNN fc1 dW"},
        /* a 5×5 convolution by im2col: 6 filters over 24×24 positions */
        {6, 576, 25, 0, 0, "conv1 as GEMM"},
    };
    printf("| M×N×K | multiply-adds | loop ns | BLAS ns | faster | use |\n");
    printf("|---|---:|---:|---:|---|---|\n");
    size_t n_cubes = quick ? 4 : sizeof cubes / sizeof cubes[0];
    for (size_t i = 0; i < n_cubes; i++)
        run(&cubes[i]);
    size_t n_course = quick ? 1 : sizeof course / sizeof course[0];
    for (size_t i = 0; i < n_course; i++)
        run(&course[i]);
    return 0;
}
