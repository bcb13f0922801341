/*
 * bench_util.h - what the engine benchmarks share: clocks, sorting of
 * timings, and collecting a model's parameters for an optimizer.
 */
#ifndef NNREPL_BENCH_UTIL_H
#define NNREPL_BENCH_UTIL_H

#include <time.h>

#include "nn.h"

/* Seconds on `clock` (CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID). */
static inline double bench_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* qsort comparator for doubles, ascending. */
static inline int bench_compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define BENCH_MAX_PARAMS 16

/* Parameters gathered with module_visit_parameters(m, NULL, bench_collect, &list). */
typedef struct BenchParams {
    Tensor *items[BENCH_MAX_PARAMS];
    int n;
} BenchParams;

static inline void bench_collect(const char *name, Tensor *p, void *ctx)
{
    (void)name;
    BenchParams *l = ctx;
    if (l->n < BENCH_MAX_PARAMS)
        l->items[l->n++] = p;
}

#endif
