/*
 * bench_engine_mlp.c - the course's diabetes MLP through the engine's C
 * interface alone, no interpreter: 8-6-4-1 with a sigmoid after each layer,
 * BCE loss, SGD (lr 0.1), the full batch of 759 rows, 2,000 epochs.
 *
 *     OPENBLAS_NUM_THREADS=1 build/bench/bench_engine_mlp
 *
 * The inputs and targets are random (the time does not depend on the
 * values; bench/nnl/diabetes_mlp.nnl trains on the real file). Prints the
 * seconds of the 2,000 epochs: the fastest and the median of several timed
 * repetitions, and the fastest process CPU time. Compare with benchmark 2
 * of bench/run.sh (the same training as nnl, and in PyTorch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_util.h"
#include "nn.h"
#include "optim.h"

enum { ROWS = 759, FEATURES = 8, EPOCHS = 2000, REPEATS = 5 };

typedef struct Mlp {
    Module *l1, *l2, *l3; /* 8 -> 6 -> 4 -> 1 */
} Mlp;

static void die(Engine *eng, const char *what)
{
    fprintf(stderr, "bench_engine_mlp: %s: %s\n", what, engine_error(eng));
    exit(1);
}

/* sigmoid(layer(x)), releasing x. */
static Tensor *layer_sigmoid(Engine *eng, Module *layer, Tensor *x)
{
    Tensor *z = module_forward(eng, layer, x);
    tensor_release(x);
    if (!z)
        die(eng, "forward");
    Tensor *y = tensor_sigmoid(eng, z);
    tensor_release(z);
    if (!y)
        die(eng, "sigmoid");
    return y;
}

/* One epoch: x (759, 8), y (759, 1). */
static void epoch(Engine *eng, const Mlp *m, Optimizer *opt, Tensor *x, Tensor *y)
{
    optim_zero_grad(opt);
    Tensor *h = layer_sigmoid(eng, m->l1, tensor_retain(x)); /* (759, 6) */
    h = layer_sigmoid(eng, m->l2, h);                        /* (759, 4) */
    h = layer_sigmoid(eng, m->l3, h);                        /* (759, 1) */
    Tensor *loss = tensor_bce_loss(eng, h, y, REDUCTION_MEAN);
    if (!loss || !autograd_backward(eng, loss, false) || !optim_step(eng, opt))
        die(eng, "step");
    tensor_release(loss);
    tensor_release(h);
}

int main(void)
{
    Engine eng;
    engine_init(&eng);
    engine_enable_buffer_cache(&eng, (size_t)32 << 20); /* as the interpreter does */
    Mlp m = {module_linear(&eng, FEATURES, 6, true), module_linear(&eng, 6, 4, true),
             module_linear(&eng, 4, 1, true)};
    Tensor *x = tensor_rand(&eng, 2, (const int64_t[]){ROWS, FEATURES});
    Tensor *y = tensor_rand(&eng, 2, (const int64_t[]){ROWS, 1});
    if (!m.l1 || !m.l2 || !m.l3 || !x || !y)
        die(&eng, "setup");
    BenchParams params = {0};
    Module *layers[3] = {m.l1, m.l2, m.l3};
    for (int i = 0; i < 3; i++)
        module_visit_parameters(layers[i], NULL, bench_collect, &params);
    Optimizer *opt = optim_sgd(&eng, params.n, params.items, 0.1, 0.0, 0.0);
    if (!opt)
        die(&eng, "optimizer");

    double wall[REPEATS], cpu[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        double t0 = bench_seconds(CLOCK_MONOTONIC), c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
        for (int e = 0; e < EPOCHS; e++)
            epoch(&eng, &m, opt, x, y);
        wall[r] = bench_seconds(CLOCK_MONOTONIC) - t0;
        cpu[r] = bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    qsort(wall, REPEATS, sizeof wall[0], bench_compare_doubles);
    qsort(cpu, REPEATS, sizeof cpu[0], bench_compare_doubles);
    const char *threads = getenv("OPENBLAS_NUM_THREADS");
    printf("nnrepl threads=%s mlp_2000_epochs_s min=%.4f median=%.4f cpu_min=%.4f\n",
           threads ? threads : "default", wall[0], wall[REPEATS / 2], cpu[0]);

    optim_release(opt);
    tensor_release(x);
    tensor_release(y);
    for (int i = 0; i < 3; i++)
        module_release(layers[i]);
    engine_release_buffers(&eng);
    return 0;
}
