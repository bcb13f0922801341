/* Sums agree bit for bit with PyTorch 1.13's float32 summation order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernels.h"
#include "sum_order_reference.h"

static float *values(int64_t n)
{
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((double)((i * 7919) % 1000 - 500) / 37.0);
    return x;
}

static uint32_t bits_of(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static void test_row_sums_match_pytorch(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof ROW_SUMS / sizeof ROW_SUMS[0]; k++) {
        float *x = values(ROW_SUMS[k].n);
        uint32_t got = bits_of(sum_contiguous_row(x, ROW_SUMS[k].n));
        if (got != ROW_SUMS[k].bits)
            print_error("n = %lld: got 0x%08x, expected 0x%08x\n", (long long)ROW_SUMS[k].n, got,
                        ROW_SUMS[k].bits);
        assert_int_equal(got, ROW_SUMS[k].bits);
        free(x);
    }
}

static void test_column_sums_match_pytorch(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof COLUMN_SUMS / sizeof COLUMN_SUMS[0]; k++) {
        int64_t r = COLUMN_SUMS[k].rows, c = COLUMN_SUMS[k].cols;
        float *x = values(r * c), *out = malloc((size_t)c * sizeof *out);
        sum_columns(x, r, c, out);
        for (int64_t j = 0; j < c; j++) {
            if (bits_of(out[j]) != COLUMN_SUMS[k].bits[j])
                print_error("%lldx%lld column %lld differs\n", (long long)r, (long long)c, (long long)j);
            assert_int_equal(bits_of(out[j]), COLUMN_SUMS[k].bits[j]);
        }
        free(x);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_sums_match_pytorch),
        cmocka_unit_test(test_column_sums_match_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
