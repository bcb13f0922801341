/*
 * test_datasets.c - the files shipped in datasets/, read through the engine's
 * loaders.
 *
 * The directory comes from NNREPL_DATASETS (set by meson to the source
 * tree's datasets/). Every expected number below was counted from the files
 * once with other tools (zcat and awk for the CSV files, Python's gzip module
 * for the IDX files) and agrees with datasets/README.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"

#define FULL_FASHION_MNIST "/usr/share/datasets/fashion-mnist"

static const char *dataset_path(const char *name)
{
    static char buf[4096];
    const char *dir = getenv("NNREPL_DATASETS");
    if (!dir)
        fail_msg("NNREPL_DATASETS is not set (meson sets it to the source tree's datasets/)");
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static Tensor *must(Engine *eng, Tensor *t)
{
    if (!t)
        fail_msg("%s", engine_error(eng));
    return t;
}

static Tensor *load_idx(Engine *eng, const char *path)
{
    return must(eng, data_load_idx(eng, path, true));
}

/* Count the values 0..9 of a column `col` of a (rows, cols) tensor (col < 0:
 * a 1-D tensor), failing on anything else. */
static void count_labels(const Tensor *t, int64_t rows, int64_t cols, int64_t col, int64_t *counts)
{
    memset(counts, 0, 10 * sizeof *counts);
    for (int64_t r = 0; r < rows; r++) {
        float v = tensor_get_flat(t, col < 0 ? r : r * cols + col);
        assert_true(v >= 0 && v <= 9 && v == floorf(v));
        counts[(int)v]++;
    }
}

static void test_diabetes(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    const char *path = dataset_path("diabetes.csv.gz");
    Tensor *t = must(&eng, data_load_csv(&eng, path, ',', DTYPE_FLOAT32, 0));
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 768);
    assert_int_equal(t->shape[1], 9);
    assert_int_equal(t->dtype, DTYPE_FLOAT32);
    const float *d = tensor_data(t);
    /* every feature column spans exactly [-1, 1] */
    double feature_sum = 0;
    for (int c = 0; c < 8; c++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int r = 0; r < 768; r++) {
            float v = d[r * 9 + c];
            lo = fminf(lo, v);
            hi = fmaxf(hi, v);
            feature_sum += v;
        }
        assert_true(lo == -1.0f);
        assert_true(hi == 1.0f);
    }
    assert_true(fabs(feature_sum - -2225.853961) < 1e-3);
    int64_t counts[10];
    count_labels(t, 768, 9, 8, counts);
    assert_int_equal(counts[0], 500);
    assert_int_equal(counts[1], 268);
    for (int k = 2; k < 10; k++)
        assert_int_equal(counts[k], 0);
    static const float first_row[9] = {-0.294118f, 0.487437f, 0.180328f, -0.292929f, -1.0f,
                                       0.00149031f, -0.53117f, -0.0333333f, 1.0f};
    for (int c = 0; c < 9; c++)
        assert_true(d[c] == first_row[c]);
    static const float last_row[9] = {-0.882353f, -0.0653266f, 0.147541f, -0.373737f, -1.0f,
                                      -0.0938897f, -0.797609f, -0.933333f, 0.0f};
    for (int c = 0; c < 9; c++)
        assert_true(d[767 * 9 + c] == last_row[c]);
    tensor_release(t);
    /* the features are not integers */
    assert_null(data_load_csv(&eng, dataset_path("diabetes.csv.gz"), ',', DTYPE_INT64, 0));
    char want[4200];
    snprintf(want, sizeof want, "%s:1: could not convert '-0.294118' to int",
             dataset_path("diabetes.csv.gz"));
    assert_string_equal(engine_error(&eng), want);
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_digits(void **state)
{
    (void)state;
    static const int64_t class_counts[10] = {178, 182, 177, 183, 181, 182, 181, 179, 174, 180};
    Engine eng;
    engine_init(&eng);
    for (int as_int = 0; as_int < 2; as_int++) {
        DType dtype = as_int ? DTYPE_INT64 : DTYPE_FLOAT32;
        Tensor *t = must(&eng, data_load_csv(&eng, dataset_path("digits.csv.gz"), ',', dtype, 0));
        assert_int_equal(t->ndim, 2);
        assert_int_equal(t->shape[0], 1797);
        assert_int_equal(t->shape[1], 65);
        assert_int_equal(t->dtype, dtype);
        const float *d = tensor_data(t);
        double pixel_sum = 0;
        float hi = 0;
        for (int r = 0; r < 1797; r++) {
            for (int c = 0; c < 64; c++) {
                float v = d[r * 65 + c];
                assert_true(v >= 0 && v <= 16 && v == floorf(v));
                hi = fmaxf(hi, v);
                pixel_sum += v;
            }
        }
        assert_true(hi == 16.0f);
        assert_true(pixel_sum == 561718.0);
        int64_t counts[10];
        count_labels(t, 1797, 65, 64, counts);
        assert_memory_equal(counts, class_counts, sizeof counts);
        /* the first image is a 0, the last an 8 */
        assert_true(d[64] == 0.0f);
        assert_true(d[1796 * 65 + 64] == 8.0f);
        assert_true(d[2] == 5.0f && d[3] == 13.0f);
        tensor_release(t);
    }
    assert_int_equal(eng.bytes_in_use, 0);
}

typedef struct ImageSet {
    const char *images, *labels;
    int64_t n;
    int64_t pixel_sum;            /* of the raw bytes */
    int64_t first_sum, last_sum;  /* raw bytes of the first and last image */
    int64_t counts[10];
} ImageSet;

/* Images (n, 1, 28, 28) in [0, 1] holding exactly k / 255, and labels. */
static void check_image_set(Engine *eng, const char *dir, const ImageSet *s)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, s->images);
    Tensor *x = must(eng, data_load_idx(eng, path, true));
    snprintf(path, sizeof path, "%s/%s", dir, s->labels);
    Tensor *y = must(eng, data_load_idx(eng, path, true));
    assert_int_equal(x->ndim, 4);
    assert_int_equal(x->shape[0], s->n);
    assert_int_equal(x->shape[1], 1);
    assert_int_equal(x->shape[2], 28);
    assert_int_equal(x->shape[3], 28);
    assert_int_equal(x->dtype, DTYPE_FLOAT32);
    const float *px = tensor_data(x);
    int64_t sum = 0, first = 0, last = 0, n = s->n * 784;
    for (int64_t i = 0; i < n; i++) {
        float v = px[i];
        assert_true(v >= 0.0f && v <= 1.0f);
        int k = (int)lrintf(v * 255.0f);
        assert_true(v == (float)k / 255.0f);
        sum += k;
        if (i < 784)
            first += k;
        if (i >= n - 784)
            last += k;
    }
    assert_int_equal(sum, s->pixel_sum);
    assert_int_equal(first, s->first_sum);
    assert_int_equal(last, s->last_sum);
    assert_int_equal(y->ndim, 1);
    assert_int_equal(y->shape[0], s->n);
    assert_int_equal(y->dtype, DTYPE_INT64);
    int64_t counts[10];
    count_labels(y, s->n, 1, -1, counts);
    assert_memory_equal(counts, s->counts, sizeof counts);
    /* the pair makes a dataset whose batches have the expected shapes */
    TensorDataset *d = dataset_new(eng, 2, (Tensor *const[]){x, y});
    assert_non_null(d);
    BatchOrder b;
    assert_true(batch_order_init(eng, &b, d->length, 64, true));
    batch_order_new_epoch(eng, &b);
    int64_t count;
    const int64_t *idx = batch_order_batch(&b, batch_order_num_batches(&b) - 1, &count);
    assert_int_equal(count, s->n % 64 ? s->n % 64 : 64);
    Tensor *batch[2];
    assert_true(dataset_gather(eng, d, idx, count, batch));
    assert_int_equal(batch[0]->ndim, 4);
    assert_int_equal(batch[0]->shape[0], count);
    assert_int_equal(batch[0]->shape[2], 28);
    assert_int_equal(batch[1]->ndim, 1);
    assert_int_equal(batch[1]->shape[0], count);
    assert_int_equal(batch[1]->dtype, DTYPE_INT64);
    for (int64_t r = 0; r < count; r++)
        assert_true(tensor_get_flat(batch[1], r) == tensor_get_flat(y, idx[r]));
    tensor_release(batch[0]);
    tensor_release(batch[1]);
    batch_order_free(&b);
    dataset_release(d);
    tensor_release(x);
    tensor_release(y);
}

static void test_fashion_mnist_subset(void **state)
{
    (void)state;
    static const ImageSet train = {
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 6000,
        342670278, 76247, 77039,
        {560, 643, 608, 612, 584, 594, 590, 617, 590, 602},
    };
    static const ImageSet test = {
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 1000,
        58034149, 33456, 28316,
        {107, 105, 111, 93, 115, 87, 97, 95, 95, 95},
    };
    Engine eng;
    engine_init(&eng);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", dataset_path("fashion-mnist"));
    check_image_set(&eng, dir, &train);
    check_image_set(&eng, dir, &test);
    assert_int_equal(eng.bytes_in_use, 0);
}

/* With the Debian package installed: the whole set, of which the shipped
 * files are the first 6,000 and 1,000 images. */
static void test_fashion_mnist_full(void **state)
{
    (void)state;
    if (access(FULL_FASHION_MNIST "/train-images-idx3-ubyte.gz", R_OK) != 0)
        skip();
    Engine eng;
    engine_init(&eng);
    Tensor *full = load_idx(&eng, FULL_FASHION_MNIST "/train-images-idx3-ubyte.gz");
    Tensor *labels = load_idx(&eng, FULL_FASHION_MNIST "/train-labels-idx1-ubyte.gz");
    assert_int_equal(full->ndim, 4);
    assert_int_equal(full->shape[0], 60000);
    int64_t counts[10];
    count_labels(labels, 60000, 1, -1, counts);
    for (int k = 0; k < 10; k++)
        assert_int_equal(counts[k], 6000);
    Tensor *subset = load_idx(&eng, dataset_path("fashion-mnist/train-images-idx3-ubyte.gz"));
    assert_memory_equal(tensor_data(subset), tensor_data(full), (size_t)6000 * 784 * sizeof(float));
    tensor_release(subset);
    tensor_release(full);
    tensor_release(labels);
    Tensor *test_labels = load_idx(&eng, FULL_FASHION_MNIST "/t10k-labels-idx1-ubyte.gz");
    assert_int_equal(test_labels->shape[0], 10000);
    count_labels(test_labels, 10000, 1, -1, counts);
    for (int k = 0; k < 10; k++)
        assert_int_equal(counts[k], 1000);
    tensor_release(test_labels);
    assert_int_equal(eng.bytes_in_use, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diabetes),
        cmocka_unit_test(test_digits),
        cmocka_unit_test(test_fashion_mnist_subset),
        cmocka_unit_test(test_fashion_mnist_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
