/* Probability bars and grayscale images drawn into a grid. */
#include "text_assert.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "bars.h"

static const char *const digits[] = {"0", "1", "2", "3"};

static void test_bars_unicode(void **state)
{
    (void)state;
    const double p[] = {0.1, 0.25, 0.6123, 0.0375};
    Grid *g = grid_new(30, 4);
    bars_draw(g, 0, 0, 30, 4, digits, p, 4, true);
    /* 21 columns of bar: 0.6123 * 21 = 12 7/8 cells, 0.0375 * 21 = 6/8 */
    expect_grid(g, true,
                "0 ██▏                   0.1000\n"
                "1 █████▎                0.2500\n"
                "2 ████████████▉         0.6123\n"
                "3 ▊                     0.0375\n");
    /* the largest value is highlighted, bar and number */
    assert_int_equal(grid_attr_role(grid_cell(g, 2, 2)->attr), GRID_ROLE_HIGHLIGHT);
    assert_int_equal(grid_attr_role(grid_cell(g, 29, 2)->attr), GRID_ROLE_HIGHLIGHT);
    assert_int_equal(grid_attr_role(grid_cell(g, 2, 1)->attr), GRID_ROLE_SERIES_1);
    assert_int_equal(grid_attr_role(grid_cell(g, 29, 1)->attr), GRID_ROLE_NORMAL);
    grid_free(g);
}

static void test_bars_ascii_and_default_labels(void **state)
{
    (void)state;
    const double p[] = {0.1, 0.25, 0.6123, 0.0375, 1.0};
    Grid *g = grid_new(24, 4);
    bars_draw(g, 0, 0, 24, 4, NULL, p, 5, false);      /* 4 rows of 5 values */
    /* 15 columns of bar: 0.1 -> 2, 0.25 -> 4, 0.6123 -> 9, 0.0375 -> 1 */
    expect_grid(g, false,
                "0 ##              0.1000\n"
                "1 ####            0.2500\n"
                "2 #########       0.6123\n"
                "3 #               0.0375\n");
    grid_free(g);
}

static void test_bars_odd_values(void **state)
{
    (void)state;
    const char *const labels[] = {"cat", "dog", "bird", "fish"};
    const double p[] = {NAN, 1.5, -0.2, INFINITY};
    Grid *g = grid_new(20, 5);
    bars_draw(g, 1, 1, 19, 4, labels, p, 4, false);
    /* bars are clamped to [0, 1]; the numbers are printed as they are */
    expect_grid(g, false,
                "\n"
                "  cat            nan\n"
                "  dog ######  1.5000\n"
                " bird        -0.2000\n"
                " fish ######     inf\n");
    grid_free(g);
}

static void test_bars_narrow(void **state)
{
    (void)state;
    const double p[] = {0.5, 1.0};
    Grid *g = grid_new(10, 2);
    bars_draw(g, 0, 0, 10, 2, digits, p, 2, true);     /* no room for the numbers */
    expect_grid(g, true, "0 ████\n1 ████████\n");
    grid_clear(g);
    bars_draw(g, 0, 0, 2, 2, digits, p, 2, false);     /* nor for the labels */
    expect_grid(g, false, "#\n##\n");
    grid_clear(g);
    bars_draw(g, 0, 0, 1, 1, digits, p, 2, false);
    bars_draw(g, 0, 0, 0, 5, digits, p, 2, false);
    bars_draw(g, 5, 1, INT_MAX, INT_MAX, digits, p, 2, false);
    bars_draw(g, INT_MIN, INT_MIN, INT_MAX, INT_MAX, digits, p, 2, true);
    bars_draw(g, 0, 0, 10, 2, digits, NULL, 2, true);
    bars_draw(g, 0, 0, 10, 2, digits, p, -1, true);
    bars_draw(NULL, 0, 0, 10, 2, digits, p, 2, true);
    grid_free(g);
}

static void test_image_ascii_ramp(void **state)
{
    (void)state;
    float px[2 * 10];
    for (int c = 0; c < 10; c++)
        px[c] = px[10 + c] = (float)c;     /* 0..9 across, normalised to 0..1 */
    Grid *g = grid_new(10, 1);
    image_draw(g, 0, 0, 10, 1, px, 2, 10, false);
    expect_grid(g, false, " .:-=+*#%@\n");
    grid_free(g);
}

static void test_image_half_blocks_and_shades(void **state)
{
    (void)state;
    const float px[] = {
        1, 0, 1, 0.5f, 0.3f,
        0, 1, 1, 0.5f, 0,
    };
    Grid *g = grid_new(5, 1);
    image_draw(g, 0, 0, 5, 1, px, 2, 5, true);
    /* strong contrast in a pair: half blocks; else the shade of the mean */
    expect_grid(g, true, "\u2580\u2584\u2588\u2592\n");
    expect_grid(g, false, "\"_#:\n");
    grid_free(g);
}

static void test_image_downscale_averages(void **state)
{
    (void)state;
    float board[8 * 8];
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++)
            board[r * 8 + c] = (float)((r + c) % 2);
    Grid *g = grid_new(4, 2);
    image_draw(g, 0, 0, 4, 2, board, 8, 8, true);
    expect_grid(g, true, "\u2592\u2592\u2592\u2592\n\u2592\u2592\u2592\u2592\n");
    image_draw(g, 0, 0, 4, 2, board, 8, 8, false);
    expect_grid(g, false, "++++\n++++\n");
    grid_free(g);
}

static void test_image_upscale_by_even_factor(void **state)
{
    (void)state;
    const float px[] = {1, 0, 0, 1};
    Grid *g = grid_new(9, 5);
    image_draw(g, 0, 0, 9, 5, px, 2, 2, true);   /* factor 4: each pixel 4 x 2 cells */
    expect_grid(g, true,
                "\u2588\u2588\u2588\u2588\n"
                "\u2588\u2588\u2588\u2588\n"
                "    \u2588\u2588\u2588\u2588\n"
                "    \u2588\u2588\u2588\u2588\n"
                "\n");
    grid_free(g);
}

static void test_image_fit_size(void **state)
{
    (void)state;
    int w, h;
    image_fit_size(28, 28, 80, 20, &w, &h);     /* fits as it is: 28 x 14 cells */
    assert_int_equal(w, 28);
    assert_int_equal(h, 14);
    image_fit_size(8, 8, 40, 20, &w, &h);       /* grows by 4 */
    assert_int_equal(w, 32);
    assert_int_equal(h, 16);
    image_fit_size(8, 8, 12, 6, &w, &h);        /* could grow by 1.5: stays */
    assert_int_equal(w, 8);
    assert_int_equal(h, 4);
    image_fit_size(100, 50, 20, 10, &w, &h);    /* shrinks to a fifth */
    assert_int_equal(w, 10);
    assert_int_equal(h, 10);
    image_fit_size(0, 5, 20, 10, &w, &h);
    assert_int_equal(w, 0);
    assert_int_equal(h, 0);
    image_fit_size(28, 28, 20, 10, NULL, NULL);
}

static void test_image_odd_input(void **state)
{
    (void)state;
    const float flat[] = {3, 3, 3, 3};
    const float odd[] = {NAN, 1, -INFINITY, 0, 1e38f, -1e38f};
    Grid *g = grid_new(6, 3);
    image_draw(g, 0, 0, 6, 3, flat, 2, 2, true);     /* constant: blank */
    expect_grid(g, true, "\n\n\n");
    image_draw(g, 0, 0, 6, 3, odd, 2, 3, false);     /* huge range, NaN/inf as the minimum */
    expect_grid(g, false, "  ++\n++@@\n\n");
    image_draw(g, 0, 0, 6, 3, flat, INT_MAX, INT_MAX, true);   /* refused, not read */
    image_draw(g, 0, 0, 6, 3, flat, 1 << 20, 1 << 20, true);
    image_draw(g, 0, 0, 0, 3, flat, 2, 2, true);
    image_draw(g, 5, 2, 1, 1, odd, 2, 3, true);
    image_draw(g, INT_MIN, INT_MIN, INT_MAX, INT_MAX, flat, 2, 2, true);
    image_draw(g, 0, 0, 6, 3, NULL, 2, 2, true);
    image_draw(g, 0, 0, 6, 3, flat, -2, 2, true);
    image_draw(NULL, 0, 0, 6, 3, flat, 2, 2, true);
    grid_free(g);
}

static void test_image_large_shrinks(void **state)
{
    (void)state;
    enum { N = 1000 };
    float *px = malloc(sizeof(float) * N * N);
    assert_non_null(px);
    for (int r = 0; r < N; r++)
        for (int c = 0; c < N; c++)
            px[r * N + c] = c < N / 2 ? 0.0f : 1.0f;
    Grid *g = grid_new(8, 2);
    image_draw(g, 0, 0, 8, 2, px, N, N, false);
    expect_grid(g, false, "  @@\n  @@\n");
    grid_free(g);
    free(px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bars_unicode),
        cmocka_unit_test(test_bars_ascii_and_default_labels),
        cmocka_unit_test(test_bars_odd_values),
        cmocka_unit_test(test_bars_narrow),
        cmocka_unit_test(test_image_ascii_ramp),
        cmocka_unit_test(test_image_half_blocks_and_shades),
        cmocka_unit_test(test_image_downscale_averages),
        cmocka_unit_test(test_image_upscale_by_even_factor),
        cmocka_unit_test(test_image_fit_size),
        cmocka_unit_test(test_image_odd_input),
        cmocka_unit_test(test_image_large_shrinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
