/*
 * bench_cnn_step.c - one training step (zero_grad, forward, loss, backward,
 * SGD step) of the course's two CNNs, timed like bench/torch_cnn_step.py:
 *
 *     OPENBLAS_NUM_THREADS=1 build/bench/bench_cnn_step [lenet|mnist]
 *     OPENBLAS_NUM_THREADS=2 build/bench/bench_cnn_step
 *
 * The engine keeps freed buffers as the interpreter does (32 MB);
 * BENCH_NO_CACHE=1 runs without that cache.
 *
 * Prints milliseconds per step: the fastest and the median wall time of
 * several timed repetitions, and the fastest process CPU time (the better
 * estimate on a busy machine; with one thread it is the work done).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "nn.h"
#include "optim.h"

enum { BATCH = 64, WARMUP = 20, STEPS = 50, REPEATS = 7 };

typedef struct Net {
    Module *conv1, *conv2, *fc1, *fc2, *fc3;
    bool lenet; /* else the MNIST network */
} Net;

static void die(Engine *eng, const char *what)
{
    fprintf(stderr, "bench_cnn_step: %s: %s\n", what, engine_error(eng));
    exit(1);
}

/* Apply f to x, releasing x (a pipeline step). */
static Tensor *then(Engine *eng, Tensor *x, Tensor *y)
{
    tensor_release(x);
    if (!y)
        die(eng, "forward");
    return y;
}

/* LeNet: pool(relu(conv1)) → pool(relu(conv2)) → view(-1, 400) → relu(fc1) → relu(fc2) → fc3
 * MNIST: relu(pool(conv1)) → relu(pool(conv2)) → view(n, 320) → fc → log_softmax */
static Tensor *forward(Engine *eng, const Net *net, Tensor *input)
{
    Tensor *x = tensor_retain(input);
    if (net->lenet) {
        x = then(eng, x, module_forward(eng, net->conv1, x));
        x = then(eng, x, tensor_relu(eng, x));
        x = then(eng, x, tensor_max_pool2d(eng, x, 2, 2));
        x = then(eng, x, module_forward(eng, net->conv2, x));
        x = then(eng, x, tensor_relu(eng, x));
        x = then(eng, x, tensor_max_pool2d(eng, x, 2, 2));
        x = then(eng, x, tensor_view(eng, x, 2, (const int64_t[]){-1, 400}));
        x = then(eng, x, module_forward(eng, net->fc1, x));
        x = then(eng, x, tensor_relu(eng, x));
        x = then(eng, x, module_forward(eng, net->fc2, x));
        x = then(eng, x, tensor_relu(eng, x));
        return then(eng, x, module_forward(eng, net->fc3, x));
    }
    x = then(eng, x, module_forward(eng, net->conv1, x));
    x = then(eng, x, tensor_max_pool2d(eng, x, 2, 2));
    x = then(eng, x, tensor_relu(eng, x));
    x = then(eng, x, module_forward(eng, net->conv2, x));
    x = then(eng, x, tensor_max_pool2d(eng, x, 2, 2));
    x = then(eng, x, tensor_relu(eng, x));
    x = then(eng, x, tensor_view(eng, x, 2, (const int64_t[]){BATCH, -1}));
    x = then(eng, x, module_forward(eng, net->fc1, x));
    return then(eng, x, tensor_log_softmax(eng, x, 1));
}

static void step(Engine *eng, const Net *net, Optimizer *opt, Tensor *x, Tensor *y)
{
    optim_zero_grad(opt);
    Tensor *out = forward(eng, net, x);
    Tensor *loss = net->lenet ? tensor_cross_entropy(eng, out, y, REDUCTION_MEAN)
                              : tensor_nll_loss(eng, out, y, REDUCTION_MEAN);
    if (!loss || !autograd_backward(eng, loss, false) || !optim_step(eng, opt))
        die(eng, "step");
    tensor_release(loss);
    tensor_release(out);
}

typedef struct Timing {
    double min_ms, median_ms, cpu_min_ms;
} Timing;

static Timing time_net(Engine *eng, Net *net, int channels, int side)
{
    Tensor *x = tensor_randn(eng, 4, (const int64_t[]){BATCH, channels, side, side});
    Tensor *y = tensor_randint(eng, 0, 10, 1, (const int64_t[]){BATCH});
    if (!x || !y)
        die(eng, "data");
    BenchParams params = {0};
    Module *layers[5] = {net->conv1, net->conv2, net->fc1, net->fc2, net->fc3};
    for (int i = 0; i < 5; i++)
        if (layers[i])
            module_visit_parameters(layers[i], NULL, bench_collect, &params);
    Optimizer *opt = optim_sgd(eng, params.n, params.items, 0.01, 0.9, 0.0);
    if (!opt)
        die(eng, "optimizer");
    for (int i = 0; i < WARMUP; i++)
        step(eng, net, opt, x, y);
    double per_step[REPEATS], cpu_per_step[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        double t0 = bench_seconds(CLOCK_MONOTONIC), c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
        for (int i = 0; i < STEPS; i++)
            step(eng, net, opt, x, y);
        per_step[r] = (bench_seconds(CLOCK_MONOTONIC) - t0) / STEPS;
        cpu_per_step[r] = (bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / STEPS;
    }
    qsort(per_step, REPEATS, sizeof per_step[0], bench_compare_doubles);
    qsort(cpu_per_step, REPEATS, sizeof cpu_per_step[0], bench_compare_doubles);
    optim_release(opt);
    tensor_release(x);
    tensor_release(y);
    return (Timing){per_step[0] * 1e3, per_step[REPEATS / 2] * 1e3, cpu_per_step[0] * 1e3};
}

static void release_net(Net *net)
{
    module_release(net->conv1);
    module_release(net->conv2);
    module_release(net->fc1);
    module_release(net->fc2);
    module_release(net->fc3);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : "";
    Engine eng;
    engine_init(&eng);
    /* the interpreter's buffer cache; BENCH_NO_CACHE=1 measures without it */
    if (!getenv("BENCH_NO_CACHE"))
        engine_enable_buffer_cache(&eng, (size_t)32 << 20);
    const char *threads = getenv("OPENBLAS_NUM_THREADS");

    Net lenet = {module_conv2d(&eng, 3, 6, 5, 1, 0, true), module_conv2d(&eng, 6, 16, 5, 1, 0, true),
                 module_linear(&eng, 400, 120, true), module_linear(&eng, 120, 84, true),
                 module_linear(&eng, 84, 10, true), true};
    if (!lenet.conv1 || !lenet.conv2 || !lenet.fc1 || !lenet.fc2 || !lenet.fc3)
        die(&eng, "lenet");
    if (strcmp(only, "mnist") != 0) {
        Timing t = time_net(&eng, &lenet, 3, 32);
        printf("nnrepl threads=%s lenet_step_ms min=%.3f median=%.3f cpu_min=%.3f\n",
               threads ? threads : "default", t.min_ms, t.median_ms, t.cpu_min_ms);
    }
    release_net(&lenet);

    Net mnist = {module_conv2d(&eng, 1, 10, 5, 1, 0, true), module_conv2d(&eng, 10, 20, 5, 1, 0, true),
                 module_linear(&eng, 320, 10, true), NULL, NULL, false};
    if (!mnist.conv1 || !mnist.conv2 || !mnist.fc1)
        die(&eng, "mnist");
    if (strcmp(only, "lenet") != 0) {
        Timing t = time_net(&eng, &mnist, 1, 28);
        printf("nnrepl threads=%s mnist_step_ms min=%.3f median=%.3f cpu_min=%.3f\n",
               threads ? threads : "default", t.min_ms, t.median_ms, t.cpu_min_ms);
    }
    release_net(&mnist);
    engine_release_buffers(&eng);
    return 0;
}
