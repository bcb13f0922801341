/* The classroom's panes drawn into a grid, compared with the expected text. */
#include "text_assert.h"

#include <math.h>
#include <stdlib.h>

#include "chart.h"
#include "console.h"
#include "panes.h"

static Grid *frame_grid(int w, int h, Rect *r)
{
    *r = (Rect){0, 0, w, h};
    Grid *g = grid_new(w, h);
    assert_non_null(g);
    return g;
}

static void set(TensorSnap *s, int ndim, const int64_t *shape, const float *data)
{
    assert_true(tensor_snap_set(s, ndim, shape, data, false));
}

static const GridCell *find_text(const Grid *g, const char *text, int *x, int *y)
{
    StrBuf sb = STRBUF_INIT;
    grid_to_text(g, &sb, true);
    const char *all = sb_str(&sb);
    const char *hit = strstr(all, text);
    assert_non_null(hit);
    int row = 0;
    const char *line = all;
    for (const char *p = all; p < hit; p++)
        if (*p == '\n') {
            row++;
            line = p + 1;
        }
    char *prefix = strndup(line, (size_t)(hit - line));
    *x = grid_text_width(prefix);
    *y = row;
    free(prefix);
    sb_free(&sb);
    return grid_cell(g, *x, *y);
}

/* ---- numbers ---- */

static void test_number_formats(void **state)
{
    (void)state;
    char buf[64];
    const float a[] = {0.3f, -0.2f};
    NumFormat f = num_format_for(a, 2, false);
    num_format(&f, 0.3f, buf, sizeof buf);
    assert_string_equal(buf, " 0.3000");     /* width 7: room for the minus sign */
    num_format(&f, -0.2f, buf, sizeof buf);
    assert_string_equal(buf, "-0.2000");
    /* small values keep three significant digits */
    const float d[] = {0.000872f, -0.0013f};
    f = num_format_for(d, 2, false);
    num_format(&f, d[0], buf, sizeof buf);
    assert_string_equal(buf, " 0.00087");   /* 0.00130 has the three digits */
    num_format(&f, d[1], buf, sizeof buf);
    assert_string_equal(buf, "-0.00130");
    /* tiny and huge go scientific */
    const float tiny[] = {1.5e-7f};
    f = num_format_for(tiny, 1, false);
    num_format(&f, tiny[0], buf, sizeof buf);
    assert_string_equal(buf, "1.50e-07");
    const float huge[] = {123456.0f, 2.0f};
    f = num_format_for(huge, 2, false);
    num_format(&f, 2.0, buf, sizeof buf);
    assert_string_equal(buf, "2.00e+00");
    /* integer digits as the largest needs; integers without decimals */
    const float mid[] = {12.5f, 3.25f};
    f = num_format_for(mid, 2, false);
    num_format(&f, 3.25, buf, sizeof buf);
    assert_string_equal(buf, " 3.2500");
    const float ints[] = {7, -12};
    f = num_format_for(ints, 2, true);
    num_format(&f, 7, buf, sizeof buf);
    assert_string_equal(buf, "  7");
    /* rounding that adds a digit widens the format: 9.99996 prints 10.0000 */
    const float nine[] = {9.99996f};
    f = num_format_for(nine, 1, false);
    num_format(&f, nine[0], buf, sizeof buf);
    assert_string_equal(buf, "10.0000");
    const float odd[] = {NAN, -INFINITY, 0.5f};
    f = num_format_for(odd, 3, false);
    num_format(&f, odd[0], buf, sizeof buf);
    assert_string_equal(buf, "    nan");
    num_format(&f, odd[1], buf, sizeof buf);
    assert_string_equal(buf, "   -inf");
    const float zeros[] = {0, 0};
    f = num_format_for(zeros, 2, false);
    num_format(&f, 0, buf, sizeof buf);
    assert_string_equal(buf, "0.0000");
}

/* The statistics a snapshot keeps: NaN takes no part in min, max and the
 * largest magnitude; infinities do in min and max. */
static void test_snapshot_statistics(void **state)
{
    (void)state;
    static const int64_t s5[1] = {5};
    const float v[5] = {-0.0f, 2.5f, -7.25f, 1.0f, 0.5f};
    TensorSnap s = {0};
    set(&s, 1, s5, v);
    assert_true(s.min == -7.25 && s.max == 2.5);
    assert_true(s.max_abs == 7.25);
    assert_true(fabs(s.mean - (-3.25 / 5)) < 1e-12);
    assert_true(s.negative);
    assert_false(s.nonfinite);
    const float odd[5] = {NAN, 1.0f, INFINITY, -3.0f, -NAN};
    set(&s, 1, s5, odd);
    assert_true(s.min == -3.0 && isinf(s.max) && s.max > 0);
    assert_true(s.max_abs == 3.0);
    assert_true(isnan(s.mean));
    assert_true(s.nonfinite);
    const float nans[2] = {NAN, NAN};
    static const int64_t s2[1] = {2};
    set(&s, 1, s2, nans);
    assert_true(isnan(s.min) && isnan(s.max));
    assert_true(s.max_abs == 0);
    const float pos[2] = {0.0f, 3.0f};
    set(&s, 1, s2, pos);
    assert_false(s.negative);
    assert_true(s.min == 0.0 && s.max == 3.0);
    /* a borrowed view shares the values and frees nothing */
    TensorSnap b = tensor_snap_borrow(&s);
    assert_ptr_equal(b.data, s.data);
    tensor_snap_free(&b);
    assert_float_equal(s.data[1], 3.0f, 0);
    tensor_snap_free(&s);
    assert_null(s.data);
}

static void test_value_shading(void **state)
{
    (void)state;
    assert_int_equal(value_attr(0.9, 1.0), GRID_ROLE_POSITIVE | GRID_BOLD);
    assert_int_equal(value_attr(-0.5, 1.0), GRID_ROLE_NEGATIVE | GRID_BOLD);
    assert_int_equal(value_attr(-0.3, 1.0), GRID_ROLE_NEGATIVE);
    assert_int_equal(value_attr(0.05, 1.0), GRID_ROLE_POSITIVE | GRID_DIM);
    assert_int_equal(value_attr(0.0, 1.0), GRID_ROLE_NORMAL | GRID_DIM);
    assert_int_equal(value_attr(NAN, 1.0), GRID_ROLE_NORMAL);
    assert_int_equal(value_attr(2.0, 0.0), GRID_ROLE_POSITIVE);
}

/* ---- Weights and Gradients ---- */

/* nn.Linear(1, 1) with w = 0.3, b = -0.2, before and after one SGD step
 * with lr = 0.01: grad w = -0.0872, grad b = 0.1307. */
typedef struct Linear11 {
    ParamView p[2];
} Linear11;

static void linear11(Linear11 *l, bool stepped)
{
    static const int64_t s11[2] = {1, 1}, s1[1] = {1};
    memset(l, 0, sizeof *l);
    l->p[0].name = strdup("linear.weight");
    l->p[1].name = strdup("linear.bias");
    const float w0 = 0.3f, b0 = -0.2f, gw = -0.0872f, gb = 0.1307f;
    const float w1 = w0 - 0.01f * gw, b1 = b0 - 0.01f * gb;
    set(&l->p[0].grad, 2, s11, &gw);
    set(&l->p[1].grad, 1, s1, &gb);
    if (!stepped) {
        set(&l->p[0].value, 2, s11, &w0);
        set(&l->p[1].value, 1, s1, &b0);
        return;
    }
    const float dw = w1 - w0, db = b1 - b0;
    set(&l->p[0].value, 2, s11, &w1);
    set(&l->p[1].value, 1, s1, &b1);
    set(&l->p[0].before, 2, s11, &w0);
    set(&l->p[1].before, 1, s1, &b0);
    set(&l->p[0].delta, 2, s11, &dw);
    set(&l->p[1].delta, 1, s1, &db);
}

static void linear11_free(Linear11 *l)
{
    param_view_free(&l->p[0]);
    param_view_free(&l->p[1]);
}

static void test_weights_linear_1x1(void **state)
{
    (void)state;
    Linear11 l;
    linear11(&l, false);
    Rect r;
    Grid *g = frame_grid(36, 8, &r);
    pane_draw_weights(g, r, l.p, 2, true);
    expect_grid(g, true,
                "┌ Weights ─────────────────────────┐\n"
                "│linear.weight  (1, 1)             │\n"
                "│0.3000                            │\n"
                "│                                  │\n"
                "│linear.bias  (1,)                 │\n"
                "│-0.2000                           │\n"
                "│                                  │\n"
                "└──────────────────────────────────┘\n");
    int x, y;
    const GridCell *c = find_text(g, "-0.2000", &x, &y);
    assert_int_equal(grid_attr_role(c->attr), GRID_ROLE_NEGATIVE);
    assert_true(c->attr & GRID_BOLD);
    c = find_text(g, "linear.weight", &x, &y);
    assert_int_equal(grid_attr_role(c->attr), GRID_ROLE_TITLE);
    pane_draw_gradients(g, r, l.p, 2, true);
    expect_grid(g, true,
                "┌ Gradients ───────────────────────┐\n"
                "│linear.weight.grad  (1, 1)        │\n"
                "│-0.0872                           │\n"
                "│                                  │\n"
                "│linear.bias.grad  (1,)            │\n"
                "│0.1307                            │\n"
                "│                                  │\n"
                "└──────────────────────────────────┘\n");
    grid_free(g);
    linear11_free(&l);
}

/* After the step: w_after = 0.3 + 0.000872 = 0.300872, shown with four
 * decimals; Δw keeps three significant digits. */
static void test_weights_after_step(void **state)
{
    (void)state;
    Linear11 l;
    linear11(&l, true);
    Rect r;
    Grid *g = frame_grid(36, 8, &r);
    pane_draw_weights(g, r, l.p, 2, true);
    expect_grid(g, true,
                "┌ Weights ────────── after a step ─┐\n"
                "│linear.weight  (1, 1)             │\n"
                "│before   after                    │\n"
                "│0.3000   0.3009                   │\n"
                "│linear.bias  (1,)                 │\n"
                "│before    after                   │\n"
                "│-0.2000   -0.2013                 │\n"
                "└──────────────────────────────────┘\n");
    pane_draw_gradients(g, r, l.p, 2, true);
    expect_grid(g, true,
                "┌ Gradients ─ Δw = after − before ─┐\n"
                "│linear.weight.grad  (1, 1)        │\n"
                "│grad      Δw                      │\n"
                "│-0.0872   0.000872                │\n"
                "│linear.bias.grad  (1,)            │\n"
                "│grad     Δw                       │\n"
                "│0.1307   -0.00131                 │\n"
                "└──────────────────────────────────┘\n");
    /* one row for the values of each parameter: the labels go in front */
    Rect lr;
    Grid *low = frame_grid(40, 6, &lr);
    pane_draw_gradients(low, lr, l.p, 2, true);
    expect_grid(low, true,
                "┌ Gradients ───── Δw = after − before ─┐\n"
                "│linear.weight.grad  (1, 1)            │\n"
                "│grad -0.0872        Δw 0.000872       │\n"
                "│linear.bias.grad  (1,)                │\n"
                "│grad 0.1307         Δw -0.00131       │\n"
                "└──────────────────────────────────────┘\n");
    grid_free(low);
    /* the same without Unicode */
    pane_draw_gradients(g, r, l.p, 2, false);
    expect_grid(g, false,
                "+ Gradients - dw = after - before -+\n"
                "|linear.weight.grad  (1, 1)        |\n"
                "|grad      dw                      |\n"
                "|-0.0872   0.000872                |\n"
                "|linear.bias.grad  (1,)            |\n"
                "|grad     dw                       |\n"
                "|0.1307   -0.00131                 |\n"
                "+----------------------------------+\n");
    grid_free(g);
    linear11_free(&l);
}

static void test_weights_2x3(void **state)
{
    (void)state;
    static const int64_t s23[2] = {2, 3};
    const float w[] = {0.5f, -1.25f, 0.0f, 2.5f, -0.001f, 0.75f};
    const float gr[] = {0.1f, 0.2f, -0.3f, 0.0f, 1.0f, -2.0f};
    ParamView p;
    memset(&p, 0, sizeof p);
    p.name = strdup("w");
    set(&p.value, 2, s23, w);
    set(&p.grad, 2, s23, gr);
    Rect r;
    Grid *g = frame_grid(30, 6, &r);
    pane_draw_weights(g, r, &p, 1, true);
    expect_grid(g, true,
                "┌ Weights ───────────────────┐\n"
                "│w  (2, 3)                   │\n"
                "│ 0.5000 -1.2500  0.0000     │\n"
                "│ 2.5000 -0.0010  0.7500     │\n"
                "│                            │\n"
                "└────────────────────────────┘\n");
    /* 0.0 is neither sign; -0.001 is a tenth of a tenth of the largest: dim */
    int x, y;
    const GridCell *c = find_text(g, "-0.0010", &x, &y);
    assert_int_equal(c->attr, GRID_ROLE_NEGATIVE | GRID_DIM);
    c = find_text(g, "2.5000", &x, &y);
    assert_int_equal(c->attr, GRID_ROLE_POSITIVE | GRID_BOLD);
    /* after a step of lr = 0.1: w - 0.1 * grad, Δw = -0.1 * grad */
    float after[6], delta[6];
    for (int i = 0; i < 6; i++) {
        after[i] = w[i] - 0.1f * gr[i];
        delta[i] = after[i] - w[i];
    }
    set(&p.before, 2, s23, w);
    set(&p.value, 2, s23, after);
    set(&p.delta, 2, s23, delta);
    Grid *wide = frame_grid(52, 6, &r);
    pane_draw_gradients(wide, r, &p, 1, true);
    expect_grid(wide, true,
                "┌ Gradients ───────────────── Δw = after − before ─┐\n"
                "│w.grad  (2, 3)                                    │\n"
                "│grad                      Δw                      │\n"
                "│ 0.1000  0.2000 -0.3000   -0.0100 -0.0200  0.0300 │\n"
                "│ 0.0000  1.0000 -2.0000    0.0000 -0.1000  0.2000 │\n"
                "└──────────────────────────────────────────────────┘\n");
    /* too narrow to put them side by side: one above the other */
    Grid *tall = frame_grid(30, 10, &r);
    pane_draw_weights(tall, r, &p, 1, true);
    expect_grid(tall, true,
                "┌ Weights ──── after a step ─┐\n"
                "│w  (2, 3)                   │\n"
                "│before                      │\n"
                "│ 0.5000 -1.2500  0.0000     │\n"
                "│ 2.5000 -0.0010  0.7500     │\n"
                "│after                       │\n"
                "│ 0.4900 -1.2700  0.0300     │\n"
                "│ 2.5000 -0.1010  0.9500     │\n"
                "│                            │\n"
                "└────────────────────────────┘\n");
    grid_free(g);
    grid_free(wide);
    grid_free(tall);
    param_view_free(&p);
}

/* A 100x100 tensor: its statistics and the corner that fits. */
static void test_weights_large_summary(void **state)
{
    (void)state;
    static const int64_t shape[2] = {100, 100};
    float *v = malloc(10000 * sizeof *v);
    assert_non_null(v);
    /* v[i][j] = (i - j) / 1000: min -0.099, max 0.099, mean 0 */
    for (int i = 0; i < 100; i++)
        for (int j = 0; j < 100; j++)
            v[i * 100 + j] = (float)(i - j) / 1000.0f;
    ParamView p;
    memset(&p, 0, sizeof p);
    p.name = strdup("fc.weight");
    set(&p.value, 2, shape, v);
    Rect r;
    Grid *g = frame_grid(40, 8, &r);
    pane_draw_weights(g, r, &p, 1, true);
    expect_grid(g, true,
                "┌ Weights ─────────────────────────────┐\n"
                "│fc.weight  (100, 100)                 │\n"
                "│min -0.099  max 0.099  mean 0         │\n"
                "│ 0.0000 -0.0010 -0.0020 -0.0030 …     │\n"
                "│ 0.0010  0.0000 -0.0010 -0.0020 …     │\n"
                "│ 0.0020  0.0010  0.0000 -0.0010 …     │\n"
                "│⋮ 97 more rows                        │\n"
                "└──────────────────────────────────────┘\n");
    pane_draw_weights(g, r, &p, 1, false);
    expect_grid(g, false,
                "+ Weights -----------------------------+\n"
                "|fc.weight  (100, 100)                 |\n"
                "|min -0.099  max 0.099  mean 0         |\n"
                "| 0.0000 -0.0010 -0.0020 -0.0030 ...   |\n"
                "| 0.0010  0.0000 -0.0010 -0.0020 ...   |\n"
                "| 0.0020  0.0010  0.0000 -0.0010 ...   |\n"
                "|: 97 more rows                        |\n"
                "+--------------------------------------+\n");
    grid_free(g);
    param_view_free(&p);
    free(v);
}

/* A vector longer than a row wraps; more than fits ends in an ellipsis. */
static void test_weights_vector(void **state)
{
    (void)state;
    static const int64_t shape[1] = {10};
    const float v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    ParamView p;
    memset(&p, 0, sizeof p);
    p.name = strdup("b");
    set(&p.value, 1, shape, v);
    Rect r;
    /* four rows are needed, three are there: the statistics, then what fits */
    Grid *g = frame_grid(30, 6, &r);
    pane_draw_weights(g, r, &p, 1, true);
    expect_grid(g, true,
                "┌ Weights ───────────────────┐\n"
                "│b  (10,)                    │\n"
                "│min 1  max 10  mean 5.5     │\n"
                "│ 1.0000  2.0000  3.0000     │\n"
                "│ 4.0000  5.0000  6.0000 …   │\n"
                "└────────────────────────────┘\n");
    grid_free(g);
    g = frame_grid(30, 7, &r);
    pane_draw_weights(g, r, &p, 1, true);
    expect_grid(g, true,
                "┌ Weights ───────────────────┐\n"
                "│b  (10,)                    │\n"
                "│ 1.0000  2.0000  3.0000     │\n"
                "│ 4.0000  5.0000  6.0000     │\n"
                "│ 7.0000  8.0000  9.0000     │\n"
                "│10.0000                     │\n"
                "└────────────────────────────┘\n");
    grid_free(g);
    param_view_free(&p);
}

/* conv1.weight of Conv2d(1, 2, 5): two 5x5 kernels, values -0.3 .. 0.3. */
static void conv_kernels_view(ParamView *p)
{
    static const int64_t shape[4] = {2, 1, 5, 5};
    float v[50];
    for (int i = 0; i < 50; i++)
        v[i] = (float)((i % 7) - 3) / 10.0f;
    memset(p, 0, sizeof *p);
    p->name = strdup("conv1.weight");
    set(&p->value, 4, shape, v);
}

/* A 5x5 convolution kernel, Conv2d(1, 2, 5): each kernel a small grid. */
static void test_weights_conv_kernel(void **state)
{
    (void)state;
    ParamView p;
    conv_kernels_view(&p);
    /* four decimals would make a kernel 39 columns wide: it gets three */
    Rect r;
    Grid *g = frame_grid(40, 16, &r);
    pane_draw_weights(g, r, &p, 1, true);
    expect_grid(g, true,
                "┌ Weights ─────────────────────────────┐\n"
                "│conv1.weight  (2, 1, 5, 5)            │\n"
                "│min -0.3  max 0.3  mean -0.006        │\n"
                "│[0,0]                                 │\n"
                "│-0.300 -0.200 -0.100  0.000  0.100    │\n"
                "│ 0.200  0.300 -0.300 -0.200 -0.100    │\n"
                "│ 0.000  0.100  0.200  0.300 -0.300    │\n"
                "│-0.200 -0.100  0.000  0.100  0.200    │\n"
                "│ 0.300 -0.300 -0.200 -0.100  0.000    │\n"
                "│[1,0]                                 │\n"
                "│ 0.100  0.200  0.300 -0.300 -0.200    │\n"
                "│-0.100  0.000  0.100  0.200  0.300    │\n"
                "│-0.300 -0.200 -0.100  0.000  0.100    │\n"
                "│ 0.200  0.300 -0.300 -0.200 -0.100    │\n"
                "│ 0.000  0.100  0.200  0.300 -0.300    │\n"
                "└──────────────────────────────────────┘\n");
    grid_free(g);
    param_view_free(&p);
}

/* The same kernels in a pane too short for one whole kernel: the count of
 * the kernels left out goes beside the label, not over the numbers. */
static void test_weights_conv_kernel_short(void **state)
{
    (void)state;
    ParamView p;
    conv_kernels_view(&p);
    Rect r;
    Grid *g = frame_grid(40, 7, &r);
    pane_draw_weights(g, r, &p, 1, true);
    expect_grid(g, true,
                "┌ Weights ─────────────────────────────┐\n"
                "│conv1.weight  (2, 1, 5, 5)            │\n"
                "│min -0.3  max 0.3  mean -0.006        │\n"
                "│[0,0]  … 1 more                       │\n"
                "│-0.300 -0.200 -0.100  0.000  0.100    │\n"
                "│ 0.200  0.300 -0.300 -0.200 -0.100    │\n"
                "└──────────────────────────────────────┘\n");
    grid_free(g);
    param_view_free(&p);
}

static void test_weights_many_and_empty(void **state)
{
    (void)state;
    static const int64_t s1[1] = {1};
    ParamView p[5];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        p[i].name = strdup(name);
        float v = (float)i;
        set(&p[i].value, 1, s1, &v);
    }
    Rect r;
    Grid *g = frame_grid(24, 7, &r);
    pane_draw_weights(g, r, p, 5, true);
    expect_grid(g, true,
                "┌ Weights ─────────────┐\n"
                "│p0  (1,)              │\n"
                "│0.0000                │\n"
                "│p1  (1,)              │\n"
                "│1.0000                │\n"
                "│+ 3 more              │\n"
                "└──────────────────────┘\n");
    pane_draw_weights(g, r, NULL, 0, true);
    expect_grid(g, true,
                "┌ Weights ─────────────┐\n"
                "│nothing watched yet: …│\n"
                "│                      │\n"
                "│                      │\n"
                "│                      │\n"
                "│                      │\n"
                "└──────────────────────┘\n");
    pane_draw_gradients(g, r, p, 1, true);
    expect_grid(g, true,
                "┌ Gradients ───────────┐\n"
                "│p0.grad               │\n"
                "│None                  │\n"
                "│                      │\n"
                "│                      │\n"
                "│                      │\n"
                "└──────────────────────┘\n");
    for (int i = 0; i < 5; i++)
        param_view_free(&p[i]);
    grid_free(g);
}

/* ---- Outputs ---- */

static void test_outputs_softmax_bars(void **state)
{
    (void)state;
    static const int64_t shape[2] = {2, 3};
    const float pr[] = {0.1f, 0.7f, 0.2f, 0.25f, 0.25f, 0.5f};
    TensorSnap probs = {0};
    set(&probs, 2, shape, pr);
    OutputsView v = {"softmax", &probs, NULL, NULL};
    Rect r;
    Grid *g = frame_grid(34, 10, &r);
    /* 23 columns of bar: 0.7 * 23 = 16 1/8 cells */
    pane_draw_outputs(g, r, &v, true);
    expect_grid(g, true,
                "┌ Outputs ───────────────────────┐\n"
                "│softmax (2, 3)  sample 0        │\n"
                "│0 ██▎                     0.1000│\n"
                "│1 ████████████████▏       0.7000│\n"
                "│2 ████▋                   0.2000│\n"
                "│softmax (2, 3)  sample 1        │\n"
                "│0 █████▊                  0.2500│\n"
                "│1 █████▊                  0.2500│\n"
                "│2 ███████████▌            0.5000│\n"
                "└────────────────────────────────┘\n");
    /* fewer rows than classes: one row per sample, its most likely class */
    Grid *low = frame_grid(34, 5, &r);
    pane_draw_outputs(low, r, &v, false);
    expect_grid(low, false,
                "+ Outputs -----------------------+\n"
                "|softmax (2, 3)  sample -> class |\n"
                "|0>1 ###############       0.7000|\n"
                "|1>2 ###########           0.5000|\n"
                "+--------------------------------+\n");
    tensor_snap_free(&probs);
    grid_free(g);
    grid_free(low);
}

static void test_outputs_sigmoid_bars(void **state)
{
    (void)state;
    static const int64_t shape[2] = {4, 1};
    const float pr[] = {0.525f, 0.5987f, 0.6682f, 0.7311f};
    TensorSnap probs = {0};
    set(&probs, 2, shape, pr);
    OutputsView v = {"sigmoid", &probs, NULL, NULL};
    Rect r;
    Grid *g = frame_grid(40, 7, &r);
    pane_draw_outputs(g, r, &v, true);
    expect_grid(g, true,
                "┌ Outputs ─────────────────────────────┐\n"
                "│sigmoid (4, 1)  P(y=1) per sample     │\n"
                "│0 ███████████████▎              0.5250│\n"
                "│1 █████████████████▍            0.5987│\n"
                "│2 ███████████████████▍          0.6682│\n"
                "│3 █████████████████████▎        0.7311│\n"
                "└──────────────────────────────────────┘\n");
    Grid *low = frame_grid(40, 5, &r);
    pane_draw_outputs(low, r, &v, true);
    expect_grid(low, true,
                "┌ Outputs ─────────────────────────────┐\n"
                "│sigmoid (4, 1)  P(y=1) per sample     │\n"
                "│0 ███████████████▎              0.5250│\n"
                "│… 3 more                              │\n"
                "└──────────────────────────────────────┘\n");
    tensor_snap_free(&probs);
    grid_free(g);
    grid_free(low);
}

/* An 8x8 image: a bright square in the middle of a dark one. */
static void test_outputs_image(void **state)
{
    (void)state;
    static const int64_t shape[2] = {8, 8};
    float px[64];
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            px[i * 8 + j] = (i >= 2 && i < 6 && j >= 2 && j < 6) ? 16.0f : 0.0f;
    TensorSnap img = {0};
    set(&img, 2, shape, px);
    OutputsView v = {NULL, NULL, "x[0]", &img};
    Rect r;
    Grid *g = frame_grid(20, 7, &r);
    pane_draw_outputs(g, r, &v, true);
    expect_grid(g, true,
                "┌ Outputs ─────────┐\n"
                "│x[0] (8, 8)       │\n"
                "│                  │\n"
                "│  ████            │\n"
                "│  ████            │\n"
                "│                  │\n"
                "└──────────────────┘\n");
    assert_true(outputs_is_image_shape(2, shape));
    static const int64_t batch[4] = {64, 1, 28, 28}, rgb[4] = {64, 3, 28, 28}, w23[2] = {2, 3};
    assert_true(outputs_is_image_shape(4, batch));
    assert_false(outputs_is_image_shape(4, rgb));
    assert_false(outputs_is_image_shape(2, w23));
    /* with probabilities: the image on the left, the bars beside it */
    static const int64_t s13[2] = {1, 3};
    const float pr[] = {0.2f, 0.3f, 0.5f};
    TensorSnap probs = {0};
    set(&probs, 2, s13, pr);
    OutputsView both = {"softmax", &probs, "x[0]", &img};
    Grid *wide = frame_grid(44, 7, &r);
    pane_draw_outputs(wide, r, &both, true);
    expect_grid(wide, true,
                "┌ Outputs ─────────────────────────────────┐\n"
                "│x[0] (8, 8)   softmax (1, 3)  sample 0    │\n"
                "│              0 ███▊                0.2000│\n"
                "│  ████        1 █████▊              0.3000│\n"
                "│  ████        2 █████████▌          0.5000│\n"
                "│                                          │\n"
                "└──────────────────────────────────────────┘\n");
    tensor_snap_free(&img);
    tensor_snap_free(&probs);
    grid_free(g);
    grid_free(wide);
}

/* ---- Loss ---- */

static void test_loss_chart(void **state)
{
    (void)state;
    Chart *c = chart_new();
    assert_non_null(c);
    chart_add_series(c, NULL, NULL, 0, NULL, NULL);
    const double losses[] = {0.5935, 0.5, 0.45, 0.43, 0.4251};
    for (int i = 0; i < 5; i++)
        chart_append(c, 0, i + 1, losses[i]);
    chart_set_current(c, "loss", 0.4251, 5);
    Rect r;
    Grid *g = frame_grid(40, 8, &r);
    pane_draw_chart(g, r, "Loss", c, false);
    expect_grid(g, false,
                "+ Loss --------------------------------+\n"
                "|                   loss 0.4251  step 5|\n"
                "|0.5935 + --..                         |\n"
                "|       |     ''--....                 |\n"
                "|0.4251 +             ''''''-----------|\n"
                "|       +-+------+-------------+------+|\n"
                "|         1      2             4      5|\n"
                "+--------------------------------------+\n");
    /* the current value stands out */
    int x, y;
    const GridCell *cell = find_text(g, "loss 0.4251", &x, &y);
    assert_int_equal(grid_attr_role(cell->attr), GRID_ROLE_HIGHLIGHT);
    chart_clear(c);
    pane_draw_chart(g, r, "Loss", c, true);
    expect_grid(g, true,
                "┌ Loss ────────────────────────────────┐\n"
                "│loss.backward() values show here      │\n"
                "│                                      │\n"
                "│                                      │\n"
                "│                                      │\n"
                "│                                      │\n"
                "│                                      │\n"
                "└──────────────────────────────────────┘\n");
    chart_free(c);
    grid_free(g);
}

/* ---- Console ---- */

static void test_console_wrap_and_scroll(void **state)
{
    (void)state;
    Console *c = console_new(0);
    assert_non_null(c);
    console_puts(c, "Epoch 1/1000 | Loss: 0.5932\n", 0);
    console_puts(c, "partial ", 0);
    console_puts(c, "line\n", 0);
    console_puts(c, "<input>:1:5: error: name 'x' is not defined\n", GRID_ROLE_ERROR);
    console_puts(c, "a\tb\n", 0);
    console_puts(c, "12345\r67", 0);
    assert_int_equal(console_line_count(c), 5);
    Grid *g = grid_new(20, 8);
    Rect area = {0, 0, 20, 8};
    console_draw(c, g, area);
    expect_grid(g, true,
                "Epoch 1/1000 | Loss:\n"
                "0.5932\n"
                "partial line\n"
                "<input>:1:5: error:\n"
                "name 'x' is not\n"
                "defined\n"
                "a       b\n"
                "67\n");
    int x, y;
    const GridCell *cell = find_text(g, "name 'x'", &x, &y);
    assert_int_equal(grid_attr_role(cell->attr), GRID_ROLE_ERROR);
    /* three rows high: the newest rows; scrolled back by two, older ones */
    Grid *small = grid_new(20, 3);
    Rect low = {0, 0, 20, 3};
    console_draw(c, small, low);
    expect_grid(small, true, "defined\na       b\n67\n");
    console_scroll(c, 2, 20, 3);
    assert_int_equal(console_scroll_offset(c), 2);
    console_draw(c, small, low);
    expect_grid(small, true, "<input>:1:5: error:\nname 'x' is not\ndefined\n");
    console_scroll(c, 100, 20, 3);       /* never past the first row */
    assert_int_equal(console_scroll_offset(c), 5);
    console_draw(c, small, low);
    expect_grid(small, true, "Epoch 1/1000 | Loss:\n0.5932\npartial line\n");
    console_scroll(c, -100, 20, 3);
    assert_int_equal(console_scroll_offset(c), 0);
    grid_free(g);
    grid_free(small);
    console_free(c);
}

static void test_console_limit(void **state)
{
    (void)state;
    Console *c = console_new(3);
    for (int i = 0; i < 10; i++) {
        char line[16];
        snprintf(line, sizeof line, "line %d\n", i);
        console_puts(c, line, 0);
    }
    assert_int_equal(console_line_count(c), 3);
    assert_string_equal(console_line(c, 0, NULL), "line 7");
    assert_string_equal(console_line(c, 2, NULL), "line 9");
    assert_null(console_line(c, 3, NULL));
    console_clear(c);
    assert_int_equal(console_line_count(c), 0);
    console_free(c);
}

/* Output that never ends its line is cut into lines, never inside a
 * character. */
static void test_console_long_line(void **state)
{
    (void)state;
    Console *c = console_new(0);
    for (int i = 0; i < CONSOLE_MAX_LINE_BYTES; i++)
        console_puts(c, "\xc3\xa9", 0);      /* é, two bytes each */
    assert_int_equal(console_line_count(c), 2);
    GridAttr attr;
    const char *first = console_line(c, 0, &attr);
    assert_int_equal(strlen(first), CONSOLE_MAX_LINE_BYTES);
    assert_int_equal(grid_text_width(first), CONSOLE_MAX_LINE_BYTES / 2);
    assert_int_equal(strlen(console_line(c, 1, &attr)), CONSOLE_MAX_LINE_BYTES);
    console_free(c);
}

typedef struct Rows {
    char rows[8][64];
    int n;
} Rows;

static void collect_row(void *ctx, int row, const char *start, size_t len)
{
    Rows *r = ctx;
    assert_int_equal(row, r->n);
    snprintf(r->rows[r->n++], sizeof r->rows[0], "%.*s", (int)len, start);
}

static void test_text_wrap(void **state)
{
    (void)state;
    Rows r = {0};
    assert_int_equal(text_wrap("the quick brown fox", 10, collect_row, &r), 2);
    assert_string_equal(r.rows[0], "the quick ");
    assert_string_equal(r.rows[1], "brown fox");
    memset(&r, 0, sizeof r);
    assert_int_equal(text_wrap("abcdefghij", 4, collect_row, &r), 3);
    assert_string_equal(r.rows[2], "ij");
    memset(&r, 0, sizeof r);
    assert_int_equal(text_wrap("", 4, collect_row, &r), 1);
    assert_string_equal(r.rows[0], "");
    /* wide characters take two columns */
    memset(&r, 0, sizeof r);
    assert_int_equal(text_wrap("中文字符", 5, collect_row, &r), 2);
    assert_string_equal(r.rows[0], "中文");
    assert_int_equal(text_wrap("x", 0, NULL, NULL), 1);
}

/* ---- Lesson ---- */

static void test_lesson_pane(void **state)
{
    (void)state;
    LessonView v = {
        "cell 2/5",
        "# Logistic regression\n"
        "A **sigmoid** squashes `w*x+b`\n"
        "into (0, 1).\n"
        "- first bullet, long enough to wrap\n"
        "- second",
        "for epoch in range(10):\n"
        "    y_pred = model(x_data)\n"
        "    # the loss\n"
        "    loss = criterion(y_pred, y_data)\n"
        "\n\n",
        27, 29, 0, "F7: next cell: Predictions",
    };
    Rect r;
    Grid *g = frame_grid(40, 14, &r);
    pane_draw_lesson(g, r, &v, true);
    expect_grid(g, true,
                "┌ Lesson ─────────────────── cell 2/5 ─┐\n"
                "│Logistic regression                   │\n"
                "│A sigmoid squashes w*x+b into (0, 1). │\n"
                "│• first bullet, long enough to wrap   │\n"
                "│• second                              │\n"
                "│                                      │\n"
                "│27  for epoch in range(10):           │\n"
                "│28      y_pred = model(x_data)        │\n"
                "│29▶     # the loss                    │\n"
                "│30      loss = criterion(y_pred,      │\n"
                "│    y_data)                           │\n"
                "│                                      │\n"
                "│F7: next cell: Predictions            │\n"
                "└──────────────────────────────────────┘\n");
    int x, y;
    const GridCell *c = find_text(g, "Logistic", &x, &y);
    assert_int_equal(c->attr, GRID_ROLE_TITLE | GRID_BOLD);
    c = find_text(g, "sigmoid", &x, &y);
    assert_true(c->attr & GRID_BOLD);
    c = find_text(g, "w*x+b", &x, &y);
    assert_int_equal(grid_attr_role(c->attr), GRID_ROLE_SERIES_6);
    /* the running line stands out over the whole width */
    c = find_text(g, "# the loss", &x, &y);
    assert_int_equal(grid_attr_role(c->attr), GRID_ROLE_HIGHLIGHT);
    assert_int_equal(grid_attr_role(grid_cell(g, 37, y)->attr), GRID_ROLE_HIGHLIGHT);
    c = find_text(g, "30", &x, &y);
    assert_int_equal(grid_attr_role(c->attr), GRID_ROLE_AXIS);
    /* an error line, in a pane too short for everything: the prose keeps
     * two fifths of the rows (and says it is cut), the code scrolls to the
     * marked line */
    v.running_line = 0;
    v.error_line = 30;
    v.footer = NULL;
    Grid *small = frame_grid(40, 7, &r);
    pane_draw_lesson(small, r, &v, false);
    expect_grid(small, false,
                "+ Lesson ------------------- cell 2/5 -+\n"
                "|Logistic regression                   |\n"
                "|A sigmoid squashes w*x+b into (0, 1...|\n"
                "|                                      |\n"
                "|30!     loss = criterion(y_pred,      |\n"
                "|    y_data)                           |\n"
                "+--------------------------------------+\n");
    c = find_text(small, "loss = criterion", &x, &y);
    assert_int_equal(grid_attr_role(c->attr), GRID_ROLE_ERROR);
    grid_free(g);
    grid_free(small);
}

static void test_prose_markup(void **state)
{
    (void)state;
    Grid *g = grid_new(30, 6);
    int rows = prose_draw(g, 0, 0, 30, 6,
                          "## Heading\n"
                          "text with **bold** and `co de`\n"
                          "\n"
                          "* star bullet\n"
                          "  continued\n"
                          "unclosed **star and `tick",
                          false);
    /* a line right after a bullet continues it (as in Markdown), wrapped
     * under the bullet's text */
    assert_int_equal(rows, 5);
    expect_grid(g, false,
                "Heading\n"
                "text with bold and co de\n"
                "\n"
                "- star bullet continued\n"
                "  unclosed **star and `tick\n"
                "\n");
    assert_int_equal(prose_draw(NULL, 0, 0, 10, 100, NULL, true), 0);
    grid_free(g);
}

/* ---- status bar and message ---- */

static void test_status_bar(void **state)
{
    (void)state;
    StatusView v = {"Lesson 3: logistic regression", 4, 10, 3, 0.01, "stepping",
                    "step 3 · epoch 2 of 100", 0.42, "F5 continue  F6 step  F10 quit"};
    Rect r = {0, 0, 140, 1};
    Grid *g = grid_new(140, 1);
    pane_draw_status(g, r, &v, true);
    expect_grid(g, true,
                " Lesson 3: logistic regression │ cell 4/10 │ step 3 │ lr 0.01 │ 0.4 s │ stepping: "
                "step 3 · epoch 2 of 100    F5 continue  F6 step  F10 quit\n");
    assert_true(grid_cell(g, 139, 0)->attr & GRID_REVERSE);
    /* narrower: the keys go, then the title is cut */
    Grid *mid = grid_new(90, 1);
    r.w = 90;
    v.detail = "step 3, epoch 2 of 100";
    pane_draw_status(mid, r, &v, false);
    expect_grid(mid, false,
                " Lesson 3: l... | cell 4/10 | step 3 | lr 0.01 | 0.4 s | stepping: step 3, epoch 2 of 100\n");
    Grid *narrow = grid_new(50, 1);
    r.w = 50;
    v.lr = NAN;
    v.elapsed = -1;
    v.n_cells = 0;
    pane_draw_status(narrow, r, &v, true);
    expect_grid(narrow, true, " step 3 │ stepping: step 3, epoch 2 of 100\n");
    grid_free(g);
    grid_free(mid);
    grid_free(narrow);
}

static void test_message(void **state)
{
    (void)state;
    Rect r = {0, 0, 30, 5};
    Grid *g = grid_new(30, 5);
    pane_draw_message(g, r, "nnrepl needs at least 40×10");
    expect_grid(g, true, "\n\n nnrepl needs at least 40×10\n\n\n");
    grid_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_formats),
        cmocka_unit_test(test_snapshot_statistics),
        cmocka_unit_test(test_value_shading),
        cmocka_unit_test(test_weights_linear_1x1),
        cmocka_unit_test(test_weights_after_step),
        cmocka_unit_test(test_weights_2x3),
        cmocka_unit_test(test_weights_large_summary),
        cmocka_unit_test(test_weights_vector),
        cmocka_unit_test(test_weights_conv_kernel),
        cmocka_unit_test(test_weights_conv_kernel_short),
        cmocka_unit_test(test_weights_many_and_empty),
        cmocka_unit_test(test_outputs_softmax_bars),
        cmocka_unit_test(test_outputs_sigmoid_bars),
        cmocka_unit_test(test_outputs_image),
        cmocka_unit_test(test_loss_chart),
        cmocka_unit_test(test_console_wrap_and_scroll),
        cmocka_unit_test(test_console_limit),
        cmocka_unit_test(test_console_long_line),
        cmocka_unit_test(test_text_wrap),
        cmocka_unit_test(test_lesson_pane),
        cmocka_unit_test(test_prose_markup),
        cmocka_unit_test(test_status_bar),
        cmocka_unit_test(test_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
