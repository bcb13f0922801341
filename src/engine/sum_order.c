/*
 * sum_order.c - float32 sums in the order PyTorch's CPU kernels add.
 *
 * nnrepl promises to print what PyTorch prints, and a sum rounded
 * differently can print differently (`tensor(1.)` where PyTorch shows
 * `tensor(1.0000)` for a row of softmax probabilities). So sums are
 * accumulated in float32 in PyTorch 1.13's order rather than more
 * accurately:
 *
 *  - A row is summed with four interleaved accumulators (elements i, i+4,
 *    i+8 ... go to accumulator i % 4), each accumulator itself a cascade of
 *    four levels that flushes every 16 additions (so long rows keep their
 *    precision); the elements left over after the last full group of four
 *    go into the first accumulator; then the four are added in order.
 *  - A contiguous row of at least 8 elements is read as vectors of 8
 *    lanes: each lane is a row of its own (every 8th element) summed as
 *    above; the elements after the last full vector are added first, then
 *    the eight lane sums in order.
 *  - Reducing an outer dimension (column sums) treats each column as a
 *    row with the column's stride, except that columns in full blocks of 32
 *    (of 4 when there are fewer than 8 columns) are summed by a single
 *    cascaded accumulator each.
 */
#include "kernels.h"

#define ILP 4          /* interleaved accumulators */
#define LEVELS 4       /* cascade levels */
#define LANES 8        /* float32 lanes of an AVX2 vector */

static int ceil_log2(int64_t x)
{
    if (x <= 2)
        return 1;
    int bits = 0;
    uint64_t v = (uint64_t)(x - 1);
    while (v) {
        bits++;
        v >>= 1;
    }
    return bits;
}

/* `nrows` accumulators over `size` groups: accumulator k adds
 * x[i*row_stride + k*col_stride] for every group i, cascaded. */
static void cascade_columns(const float *x, int64_t row_stride, int64_t col_stride,
                            int64_t size, int nrows, float *out)
{
    int power = ceil_log2(size) / LEVELS;
    if (power < 4)
        power = 4;
    const int64_t step = (int64_t)1 << power, mask = step - 1;
    float acc[LEVELS][ILP] = {{0}};
    int64_t i = 0;
    while (i + step <= size) {
        for (int64_t j = 0; j < step; j++, i++)
            for (int k = 0; k < nrows; k++)
                acc[0][k] += x[i * row_stride + k * col_stride];
        for (int level = 1; level < LEVELS; level++) {
            for (int k = 0; k < nrows; k++) {
                acc[level][k] += acc[level - 1][k];
                acc[level - 1][k] = 0.0f;
            }
            if ((i & (mask << (level * power))) != 0)
                break;
        }
    }
    for (; i < size; i++)
        for (int k = 0; k < nrows; k++)
            acc[0][k] += x[i * row_stride + k * col_stride];
    for (int level = 1; level < LEVELS; level++)
        for (int k = 0; k < nrows; k++)
            acc[0][k] += acc[level][k];
    for (int k = 0; k < nrows; k++)
        out[k] = acc[0][k];
}

/* One row of n elements `stride` apart: four interleaved accumulators. */
static float row_sum(const float *x, int64_t stride, int64_t n)
{
    float partial[ILP];
    int64_t groups = n / ILP;
    cascade_columns(x, stride * ILP, stride, groups, ILP, partial);
    for (int64_t i = groups * ILP; i < n; i++)
        partial[0] += x[i * stride];
    for (int k = 1; k < ILP; k++)
        partial[0] += partial[k];
    return partial[0];
}

float sum_contiguous_row(const float *x, int64_t n)
{
    if (n < LANES)
        return row_sum(x, 1, n);
    int64_t vectors = n / LANES;
    float total = 0.0f;
    for (int64_t i = vectors * LANES; i < n; i++)
        total += x[i];
    for (int lane = 0; lane < LANES; lane++)
        total += row_sum(x + lane, LANES, vectors);
    return total;
}

void sum_columns(const float *x, int64_t rows, int64_t cols, float *out)
{
    /* the blocks summed column by column: 4 vectors of columns, or 4 columns
     * when there are too few for a vector */
    int64_t block = cols >= LANES ? ILP * LANES : ILP;
    int64_t blocked = cols / block * block;
    for (int64_t c = 0; c < blocked; c++)
        cascade_columns(x + c, cols, 1, rows, 1, &out[c]);
    for (int64_t c = blocked; c < cols; c++)
        out[c] = row_sum(x + c, cols, rows);
}
