/* Line charts: numbers, format strings, layouts at many sizes, odd data. */
#include "text_assert.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "chart.h"

/* ---- helpers ----------------------------------------------------------------- */

static void expect_chart(const Chart *c, int w, int h, bool unicode, const char *expected)
{
    StrBuf sb = STRBUF_INIT;
    chart_render_text(c, w, h, unicode, &sb);
    sb_append(&sb, "");
    expect_text(sb_str(&sb), expected);
    expect_text_fits(sb_str(&sb), w, h);
    sb_free(&sb);
}

static ChartStyle style(const char *fmt)
{
    ChartStyle s;
    assert_true(chart_style_parse(fmt, &s, NULL, 0));
    return s;
}

/* The course's first plot: MSE of y = x * w on x = 1, 2, 3, y = 2, 4, 6
 * for w = 0.0, 0.1, ..., 4.0. */
static Chart *loss_landscape(void)
{
    double w[41], mse[41];
    for (int i = 0; i <= 40; i++) {
        w[i] = i * 0.1;
        double sum = 0;
        for (int x = 1; x <= 3; x++) {
            double err = x * w[i] - 2.0 * x;
            sum += err * err;
        }
        mse[i] = sum / 3;
    }
    Chart *c = chart_new();
    chart_add_series(c, w, mse, 41, NULL, NULL);
    chart_set_xlabel(c, "w");
    chart_set_ylabel(c, "Loss");
    return c;
}

/* A training run as the Loss pane shows it. */
static Chart *loss_curve(int steps)
{
    Chart *c = chart_new();
    int s = chart_add_series(c, NULL, NULL, 0, NULL, NULL);
    double last = 0;
    for (int i = 1; i <= steps; i++) {
        last = 0.05 + 2.25 * exp(-i / (steps / 6.0));
        assert_true(chart_append(c, s, i, last));
    }
    chart_set_current(c, "loss", last, steps);
    chart_set_xlabel(c, "step");
    return c;
}

/* Chapter 7's fitted line: data as red dots, the model as a blue line
 * with squares, and a legend. */
static Chart *fitted_line(void)
{
    const double x[] = {1, 2, 3}, y[] = {2, 4, 6}, pred[] = {2.3, 4.1, 5.9};
    ChartStyle data = style("ro"), line = style("b-s");
    Chart *c = chart_new();
    chart_add_series(c, x, y, 3, &data, "Original data");
    chart_add_series(c, x, pred, 3, &line, "Fitting Line");
    chart_set_xlabel(c, "X");
    chart_set_ylabel(c, "y");
    chart_set_legend(c, true);
    return c;
}

/* ---- numbers ------------------------------------------------------------------- */

static void test_format_number(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0, "0"}, {-0.0, "0"}, {18.666666666666668, "18.67"}, {0.0001234, "1.234e-04"},
        {1500, "1500"}, {-0.5, "-0.5"}, {0.001234, "0.001234"}, {2.5e7, "2.5e+07"},
        {123456.7, "123457"}, {999999.7, "1e+06"}, {1e6, "1e+06"}, {9.99996, "10"},
        {1e-300, "1e-300"}, {0.30000000000000004, "0.3"}, {1.0 / 3, "0.3333"},
        {-1234.5678, "-1235"}, {DBL_MAX, "1.798e+308"}, {-DBL_MIN, "-2.225e-308"},
        {0.0234, "0.0234"}, {99999, "99999"}, {NAN, "nan"}, {INFINITY, "inf"},
        {-INFINITY, "-inf"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        chart_format_number(cases[i].v, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
    }
    char small[4];
    chart_format_number(18.67, small, sizeof small);
    assert_string_equal(small, "18.");
    chart_format_number(1, NULL, 10);
    chart_format_number(1, small, 0);
}

/* ---- format strings -------------------------------------------------------------- */

static void test_style_parse(void **state)
{
    (void)state;
    static const struct {
        const char *fmt;
        bool has_role;
        GridRole role;
        ChartLine line;
        char marker;
    } cases[] = {
        {"r-o", true, GRID_ROLE_SERIES_2, CHART_LINE_SOLID, 'o'},
        {"ro", true, GRID_ROLE_SERIES_2, CHART_LINE_NONE, 'o'},
        {"b-s", true, GRID_ROLE_SERIES_1, CHART_LINE_SOLID, 's'},
        {"r.", true, GRID_ROLE_SERIES_2, CHART_LINE_NONE, '.'},
        {"-", false, GRID_ROLE_NORMAL, CHART_LINE_SOLID, 0},
        {"o", false, GRID_ROLE_NORMAL, CHART_LINE_NONE, 'o'},
        {"x", false, GRID_ROLE_NORMAL, CHART_LINE_NONE, 'x'},
        {"--", false, GRID_ROLE_NORMAL, CHART_LINE_DASHED, 0},
        {"g:", true, GRID_ROLE_SERIES_3, CHART_LINE_DOTTED, 0},
        {"-.", false, GRID_ROLE_NORMAL, CHART_LINE_DASHDOT, 0},
        {"k--", true, GRID_ROLE_NORMAL, CHART_LINE_DASHED, 0},
        {"o-r", true, GRID_ROLE_SERIES_2, CHART_LINE_SOLID, 'o'},
        {"C3^", true, GRID_ROLE_SERIES_4, CHART_LINE_NONE, '^'},
        {"", false, GRID_ROLE_NORMAL, CHART_LINE_SOLID, 0},
        {"red", true, GRID_ROLE_SERIES_2, CHART_LINE_SOLID, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ChartStyle s;
        char err[100] = "";
        assert_true(chart_style_parse(cases[i].fmt, &s, err, sizeof err));
        assert_int_equal(s.has_role, cases[i].has_role);
        if (s.has_role)
            assert_int_equal(s.role, cases[i].role);
        assert_int_equal(s.line, cases[i].line);
        assert_int_equal(s.marker, cases[i].marker);
        assert_string_equal(err, "");
    }
}

static void test_style_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *fmt;
        const char *message;
    } cases[] = {
        {"zz", "Unrecognized character z in format string 'zz'"},
        {"r-b", "Illegal format string \"r-b\"; two color symbols"},
        {"o.", "Illegal format string \"o.\"; two marker symbols"},
        {"--:", "Illegal format string \"--:\"; two linestyle symbols"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ChartStyle s = chart_style_default();
        char err[100];
        assert_false(chart_style_parse(cases[i].fmt, &s, err, sizeof err));
        assert_string_equal(err, cases[i].message);
        assert_false(chart_style_parse(cases[i].fmt, &s, NULL, 0));
    }
    ChartStyle s;
    assert_false(chart_style_parse(NULL, &s, NULL, 0));
    assert_false(chart_style_parse("-", NULL, NULL, 0));
}

static void test_colours_and_markers(void **state)
{
    (void)state;
    GridRole role;
    assert_true(chart_colour_role("r", &role));
    assert_int_equal(role, GRID_ROLE_SERIES_2);
    assert_true(chart_colour_role("blue", &role));
    assert_int_equal(role, GRID_ROLE_SERIES_1);
    assert_true(chart_colour_role("C1", &role));
    assert_int_equal(role, GRID_ROLE_SERIES_2);
    assert_true(chart_colour_role("tab:orange", &role));
    assert_int_equal(role, GRID_ROLE_SERIES_4);
    assert_false(chart_colour_role("chartreuse", &role));
    assert_false(chart_colour_role("", &role));
    assert_false(chart_colour_role(NULL, &role));

    assert_int_equal(chart_marker_glyph('o', true), 0x25cf);
    assert_int_equal(chart_marker_glyph('o', false), 'o');
    assert_int_equal(chart_marker_glyph('s', false), '#');
    assert_int_equal(chart_marker_glyph('x', false), 'x');
    assert_int_equal(chart_marker_glyph('Q', true), 0);
    assert_int_equal(chart_marker_glyph(0, true), 0);
}

/* ---- the chart object ------------------------------------------------------------- */

static void test_series_bookkeeping(void **state)
{
    (void)state;
    const double y[] = {1, 2, 3};
    Chart *c = chart_new();
    assert_int_equal(chart_add_series(c, NULL, y, 3, NULL, "a"), 0);
    assert_int_equal(chart_add_series(c, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(chart_add_series(c, NULL, NULL, 2, NULL, NULL), -1);   /* no data */
    assert_int_equal(chart_series_count(c), 2);
    assert_int_equal(chart_series_length(c, 0), 3);
    for (int i = 0; i < 1000; i++)
        assert_true(chart_append(c, 1, i, i * i));
    assert_int_equal(chart_series_length(c, 1), 1000);
    assert_false(chart_append(c, 2, 0, 0));
    assert_false(chart_append(c, -1, 0, 0));
    chart_series_reset(c, 1);
    assert_int_equal(chart_series_length(c, 1), 0);
    assert_int_equal(chart_series_length(c, 7), 0);
    chart_clear(c);
    assert_int_equal(chart_series_count(c), 0);
    expect_chart(c, 12, 3, false, "|\n|\n+-----------\n");    /* empty axes */
    chart_free(c);

    /* NULL is accepted everywhere */
    chart_free(NULL);
    chart_clear(NULL);
    assert_int_equal(chart_add_series(NULL, NULL, y, 3, NULL, NULL), -1);
    chart_set_title(NULL, "t");
    chart_set_current(NULL, "loss", 1, 1);
    assert_int_equal(chart_series_count(NULL), 0);
    Grid *g = grid_new(5, 5);
    chart_draw(NULL, g, 0, 0, 5, 5, true);
    grid_free(g);
}

/* The series roles: colours from the format string, else the next colour
 * of the cycle, which explicit colours do not advance (as in matplotlib). */
static void test_colour_cycle(void **state)
{
    (void)state;
    const double y[] = {1, 2};
    ChartStyle red = style("r");
    Chart *c = chart_new();
    chart_add_series(c, NULL, y, 2, NULL, "first");
    chart_add_series(c, NULL, y, 2, &red, "red");
    chart_add_series(c, NULL, y, 2, NULL, "second");
    chart_set_legend(c, true);
    Grid *g = grid_new(60, 20);
    chart_draw(c, g, 0, 0, 60, 20, true);
    const char *labels[] = {"first", "red", "second"};
    GridRole roles[] = {GRID_ROLE_SERIES_1, GRID_ROLE_SERIES_2, GRID_ROLE_SERIES_2};
    for (int i = 0; i < 3; i++) {
        /* find the label; its sample ends two columns before it */
        bool found = false;
        for (int y0 = 0; y0 < 20 && !found; y0++) {
            for (int x0 = 4; x0 < 60 && !found; x0++) {
                bool match = true;
                for (int k = 0; labels[i][k]; k++)
                    match = match && grid_cell(g, x0 + k, y0)->cp == (uint32_t)labels[i][k];
                match = match && grid_cell(g, x0 + (int)strlen(labels[i]), y0)->cp == ' ';
                if (match) {
                    found = true;
                    assert_int_equal(grid_attr_role(grid_cell(g, x0 - 2, y0)->attr), roles[i]);
                }
            }
        }
        assert_true(found);
    }
    grid_free(g);
    chart_free(c);
}

/* ---- pictures ------------------------------------------------------------------------ */

static void test_loss_landscape_ascii(void **state)
{
    (void)state;
    Chart *c = loss_landscape();
    expect_chart(c, CHART_TEXT_WIDTH, CHART_TEXT_HEIGHT, false,
                "Loss\n"
                "18.67 + \\                                                              /\n"
                "      |  \\                                                            /\n"
                "      |   \\                                                          /\n"
                "   15 +    \\\\                                                      //\n"
                "      |     \\\\                                                    //\n"
                "      |       \\                                                  /\n"
                "      |        -                                                -\n"
                "   10 +         '.                                            .'\n"
                "      |           -                                          -\n"
                "      |            '.                                      .'\n"
                "      |              '.                                  .'\n"
                "    5 +                -.                              .-\n"
                "      |                  '.                          .'\n"
                "      |                    '-.                    .-'\n"
                "      |                       '--.            .--'\n"
                "    0 +                           '''------'''\n"
                "      +-+---------------+---------------+--------------+---------------+\n"
                "        0               1               2              3               4\n"
                "                                        w\n");
    chart_free(c);
}

static void test_loss_landscape_unicode(void **state)
{
    (void)state;
    Chart *c = loss_landscape();
    expect_chart(c, CHART_TEXT_WIDTH, CHART_TEXT_HEIGHT, true,
                "Loss\n"
                "18.67 ┤ ⠱⡀                                                             ⡜\n"
                "      │  ⠱⡀                                                           ⡜\n"
                "      │   ⠱⡀                                                         ⡜\n"
                "   15 ┤    ⠑⡄                                                      ⢠⠊\n"
                "      │     ⠈⢢                                                    ⡰⠁\n"
                "      │       ⢣                                                  ⡰⠁\n"
                "      │        ⢣                                                ⡜\n"
                "   10 ┤         ⠑⡄                                            ⢀⠎\n"
                "      │          ⠈⢢                                          ⡰⠁\n"
                "      │            ⠑⡄                                      ⢀⠎\n"
                "      │             ⠈⠢⡀                                  ⢀⠔⠁\n"
                "    5 ┤               ⠈⠢⡀                              ⢀⠔⠁\n"
                "      │                 ⠈⠢⡀                          ⢀⠔⠁\n"
                "      │                   ⠈⠢⢄                      ⡠⠔⠁\n"
                "      │                      ⠉⠢⢄⣀              ⣀⠤⠒⠉\n"
                "    0 ┤                          ⠉⠒⠤⠤⢄⣀⣀⣀⣀⡠⠤⠤⠒⠉\n"
                "      └─┬───────────────┬───────────────┬──────────────┬───────────────┬\n"
                "        0               1               2              3               4\n"
                "                                        w\n");
    chart_free(c);
}

static void test_loss_curve_pane(void **state)
{
    (void)state;
    Chart *c = loss_curve(1500);
    expect_chart(c, 44, 12, false,
                "                     loss 0.05558  step 1500\n"
                "  2.291 + \\\n"
                "        |  \\\n"
                "        |   \\\n"
                "        |    -\n"
                "      1 +     '.\n"
                "        |       '-.\n"
                "        |          '--...\n"
                "0.05558 +                ''''''-------------\n"
                "        +-+---------------------+----------+\n"
                "          1                   1000      1500\n"
                "                         step\n");
    expect_chart(c, 44, 12, true,
                "                     loss 0.05558  step 1500\n"
                "  2.291 ┤ ⢳\n"
                "        │ ⠈⢧\n"
                "        │  ⠈⢧\n"
                "        │   ⠈⢧⡀\n"
                "      1 ┤     ⠳⣄\n"
                "        │      ⠈⠳⣄⡀\n"
                "        │         ⠙⠲⢤⣀⡀\n"
                "0.05558 ┤             ⠉⠉⠓⠒⠲⠤⠤⠤⠤⠤⢤⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀\n"
                "        └─┬─────────────────────┬──────────┬\n"
                "          1                   1000      1500\n"
                "                         step\n");
    chart_free(c);
}

static void test_two_series_with_legend(void **state)
{
    (void)state;
    Chart *c = fitted_line();
    expect_chart(c, 50, 14, false,
                "y\n"
                "6 + +-------------------+                       .#\n"
                "  | |  o  Original data |                 ..--''\n"
                "  | | -#- Fitting Line  |            ..--'\n"
                "  | +-------------------+      ..--''\n"
                "  |                       .#-''\n"
                "4 +                 ..--'' o\n"
                "  |            .--''\n"
                "  |      ..--''\n"
                "  | #--''\n"
                "2 + o\n"
                "  +-+----------+-----------+----------+----------+\n"
                "    1         1.5          2         2.5         3\n"
                "                           X\n");
    expect_chart(c, 50, 14, true,
                "y\n"
                "6 ┤ ┌───────────────────┐                     ⢀⣀⠤■\n"
                "  │ │  ●  Original data │                ⢀⣀⠤⠒⠊⠁\n"
                "  │ │ ─■─ Fitting Line  │           ⢀⣀⠤⠒⠊⠁\n"
                "  │ └───────────────────┘      ⢀⣀⠤⠒⠊⠁\n"
                "  │                       ⢀■⠤⠒⠊⠁\n"
                "4 ┤                  ⣀⡠⠤⠒⠉⠁●\n"
                "  │            ⢀⣀⠤⠔⠒⠉\n"
                "  │       ⢀⡠⠤⠒⠊⠁\n"
                "  │  ⣀⡠⠔⠒⠉⠁\n"
                "2 ┤ ■\n"
                "  └─┬──────────┬───────────┬──────────┬──────────┬\n"
                "    1         1.5          2         2.5         3\n"
                "                           X\n");
    /* without plt.legend() there is none */
    chart_set_legend(c, false);
    expect_chart(c, 50, 14, false,
                "y\n"
                "6 +                                             .#\n"
                "  |                                       ..--''\n"
                "  |                                  ..--'\n"
                "  |                            ..--''\n"
                "  |                       .#-''\n"
                "4 +                 ..--'' o\n"
                "  |            .--''\n"
                "  |      ..--''\n"
                "  | #--''\n"
                "2 + o\n"
                "  +-+----------+-----------+----------+----------+\n"
                "    1         1.5          2         2.5         3\n"
                "                           X\n");
    chart_free(c);
}

static void test_title_and_dashes(void **state)
{
    (void)state;
    double x[30], a[30], b[30];
    for (int i = 0; i < 30; i++) {
        x[i] = i / 29.0 * 6.283185307179586;
        a[i] = sin(x[i]);
        b[i] = 0.5 * cos(x[i]);
    }
    ChartStyle dashed = style("--"), crosses = style("gx");
    Chart *c = chart_new();
    chart_add_series(c, x, a, 30, NULL, "sin");
    chart_add_series(c, x, b, 30, &dashed, "cos/2");
    chart_add_series(c, x, b, 30, &crosses, NULL);
    chart_set_title(c, "Two waves");
    chart_set_legend(c, true);
    expect_chart(c, 56, 16, false,
                "                             Two waves\n"
                " 0.9985 +          .---..\n"
                "        |        -'      '.\n"
                "        |      -'          -.\n"
                "    0.5 + x-xx.              .                      xx x\n"
                "        |   // xx.            \\                  xx\n"
                "        |  /      xx.          \\\\             xx\n"
                "      0 + /          xx         \\\\         xx          /\n"
                "        |              'x.       \\\\     .x            /\n"
                "        |                 xx.      \\ .xx            //\n"
                "   -0.5 + +-----------+      xx-xx-xx              -/\n"
                "        | | --- sin   |              '-          .-\n"
                "        | | - - cos/2 |                '.      .-\n"
                "-0.9985 + +-----------+                  ''---'\n"
                "        +-+-------------+--------------+---------------+\n"
                "          0             2              4           6.283\n");
    expect_chart(c, 56, 16, true,
                "                             Two waves\n"
                " 0.9985 ┤         ⡠⠔⠊⠉⠉⠒⢄⡀\n"
                "        │       ⡠⠊       ⠈⠢⡀\n"
                "        │     ⡠⠊           ⠈⢢\n"
                "    0.5 ┤ ×× ××              ⠱⡀                   ⢀××⠔××\n"
                "        │   ⡜   ×⢄            ⠑⡄                ⡀×⠁\n"
                "        │  ⡜      ××⡀          ⠘⡄             ××\n"
                "      0 ┤ ⠜         ⠈×          ⠘⡄         ⢀×⠁         ⡠\n"
                "        │             ×⠒×        ⠈⢆      ×⠂×          ⡰⠁\n"
                "        │                ×⠤×      ⠈⢆ ⢀×⠄×            ⡜\n"
                "   -0.5 ┤ ┌───────────┐     ⠈××⠠××⠠××              ⢀⠎\n"
                "        │ │ ─── sin   │              ⠱⡀           ⡠⠊\n"
                "        │ │ ╌╌╌ cos/2 │               ⠈⠢⡀       ⡠⠊\n"
                "-0.9985 ┤ └───────────┘                 ⠈⠑⠤⣀⣀⡠⠔⠊\n"
                "        └─┬─────────────┬──────────────┬───────────────┬\n"
                "          0             2              4           6.283\n");
    chart_free(c);
}

static void test_flat_series(void **state)
{
    (void)state;
    const double y[] = {0.25, 0.25, 0.25, 0.25, 0.25};
    Chart *c = chart_new();
    chart_add_series(c, NULL, y, 5, NULL, NULL);
    expect_chart(c, 30, 8, false,
                "     |\n"
                "     |\n"
                "0.25 + -----------------------\n"
                "     |\n"
                "     |\n"
                "     |\n"
                "     +-+---------------------+\n"
                "       0                     4\n");
    expect_chart(c, 30, 8, true,
                "     │\n"
                "     │\n"
                "0.25 ┤ ⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤\n"
                "     │\n"
                "     │\n"
                "     │\n"
                "     └─┬─────────────────────┬\n"
                "       0                     4\n");
    chart_free(c);
}

static void test_single_point(void **state)
{
    (void)state;
    const double x[] = {3}, y[] = {7};
    Chart *c = chart_new();
    chart_add_series(c, x, y, 1, NULL, NULL);
    expect_chart(c, 30, 7, false,
                "  |\n"
                "  |\n"
                "7 +             -\n"
                "  |\n"
                "  |\n"
                "  +-------------+-------------\n"
                "                3\n");
    expect_chart(c, 30, 7, true,
                "  │\n"
                "  │\n"
                "7 ┤             ⣤\n"
                "  │\n"
                "  │\n"
                "  └─────────────┬─────────────\n"
                "                3\n");
    chart_free(c);
}

static void test_nan_and_inf_break_the_line(void **state)
{
    (void)state;
    const double y[] = {1, 2, NAN, 4, 5, INFINITY, 3, 2, -INFINITY, 1};
    Chart *c = chart_new();
    chart_add_series(c, NULL, y, 10, NULL, NULL);
    expect_chart(c, 36, 10, false,
                "5 +              .-\n"
                "  |            .-\n"
                "4 +           '\n"
                "  |\n"
                "  |                      '.\n"
                "2 +    .                   '-\n"
                "  |  .-\n"
                "1 + -                              -\n"
                "  +-+----------------+-------------+\n"
                "    0                5             9\n");
    chart_free(c);
}

static void test_unsorted_x_in_given_order(void **state)
{
    (void)state;
    /* a triangle: out along the bottom, up, and back down */
    const double x[] = {0, 4, 2, 0}, y[] = {0, 0, 2, 0};
    ChartStyle s = style("-o");
    Chart *c = chart_new();
    chart_add_series(c, x, y, 4, &s, NULL);
    expect_chart(c, 32, 10, false,
                "2 +              .o\n"
                "  |            .'  '.\n"
                "  |          .'      '.\n"
                "  |        .-          -.\n"
                "1 +      .-              -.\n"
                "  |    .-                  -.\n"
                "  |  .-                      -.\n"
                "0 + o--------------------------o\n"
                "  +-+-------------+------------+\n"
                "    0             2            4\n");
    chart_free(c);
}

static void test_tiny_rectangles(void **state)
{
    (void)state;
    Chart *c = loss_curve(200);
    expect_chart(c, 10, 4, false,
                "   0.05558\n"
                "|-.\n"
                "|  '------\n"
                "+---------\n");
    expect_chart(c, 10, 4, true,
                "   0.05558\n"
                "│⢳⡀\n"
                "│ ⠙⠦⢤⣀⣀⣀⣀⣀\n"
                "└─────────\n");
    expect_chart(c, 24, 5, false,
                "  loss 0.05558  step 200\n"
                "  2.234 + \\\n"
                "        |  '..\n"
                "0.05558 +     ''--------\n"
                "        +---------------\n");
    chart_free(c);
    c = loss_landscape();
    expect_chart(c, 10, 4, false,
                "Loss\n"
                "|-.     .-\n"
                "|  '---'\n"
                "+---------\n");
    chart_free(c);
}

static void test_header_priorities(void **state)
{
    (void)state;
    Chart *c = loss_curve(100);
    chart_set_title(c, "Training");
    chart_set_ylabel(c, "loss");
    /* wide: all three; narrower: the y label goes, then the note shortens */
    StrBuf sb = STRBUF_INIT;
    chart_render_text(c, 60, 10, false, &sb);
    expect_text(strtok(sb.data, "\n"), "loss                        Training  loss 0.05558  step 100");
    sb_clear(&sb);
    chart_render_text(c, 36, 10, false, &sb);
    expect_text(strtok(sb.data, "\n"), "    Training  loss 0.05558  step 100");
    sb_clear(&sb);
    chart_render_text(c, 20, 10, false, &sb);
    expect_text(strtok(sb.data, "\n"), "Train~  loss 0.05558");
    sb_free(&sb);
    chart_free(c);
}

static void test_draw_into_part_of_a_grid(void **state)
{
    (void)state;
    const double y[] = {3, 1, 2};
    Chart *c = chart_new();
    chart_add_series(c, NULL, y, 3, NULL, NULL);
    Grid *g = grid_new(24, 8);
    grid_fill(g, 0, 0, 24, 8, '#', 0);
    chart_draw(c, g, 2, 1, 20, 6, false);
    expect_grid(g, false,
                "########################\n"
                "##3 + -.              ##\n"
                "##  |   '.            ##\n"
                "##  |     '-.    .--''##\n"
                "##1 +        '-''     ##\n"
                "##  +-+--------------+##\n"
                "##    0              2##\n"
                "########################\n");
    /* a rectangle partly outside the grid is drawn in the part inside */
    chart_draw(c, g, 16, 4, 100, 100, false);
    chart_draw(c, g, INT_MIN, INT_MIN, INT_MAX, INT_MAX, true);
    chart_draw(c, g, INT_MAX, INT_MAX, INT_MAX, INT_MAX, true);
    grid_free(g);
    chart_free(c);
}

/* ---- robustness ------------------------------------------------------------------------ */

static Chart *odd_chart(int which)
{
    static const double huge[] = {DBL_MAX, -DBL_MAX, 1e-308, 0, DBL_MAX, NAN, -1e300};
    static const double xs_huge[] = {-DBL_MAX, DBL_MAX, 0, 1e-300, 5, 6, DBL_MAX};
    static const double nans[] = {NAN, NAN, INFINITY, -INFINITY};
    static const double tiny[] = {1e-310, 2e-310, 1.5e-310};
    static const double close[] = {1e16, 1e16 + 2, 1e16 + 4};
    ChartStyle marks = style("r-o");
    Chart *c = chart_new();
    switch (which) {
    case 0: chart_add_series(c, NULL, huge, 7, &marks, "huge"); break;
    case 1: chart_add_series(c, xs_huge, huge, 7, NULL, NULL); break;
    case 2: chart_add_series(c, NULL, nans, 4, &marks, "nothing"); break;
    case 3: chart_add_series(c, NULL, tiny, 3, &marks, NULL); break;
    case 4: chart_add_series(c, close, close, 3, NULL, NULL); break;
    default: {
        Chart *l = loss_landscape();
        chart_free(c);
        chart_set_title(l, "a title that is much longer than any chart here is wide");
        chart_set_note(l, "\u635f\u5931 a note with wide characters");
        chart_set_legend(l, true);
        chart_add_series(l, NULL, huge, 7, &marks, "a label as long as a sentence in a book");
        return l;
    }
    }
    chart_set_xlabel(c, "x");
    chart_set_ylabel(c, "y");
    chart_set_legend(c, true);
    return c;
}

/* Every size from nothing to a small pane, in both renderers: the text has
 * exactly the asked-for lines, none wider than asked. */
static void test_every_size_fits(void **state)
{
    (void)state;
    for (int which = 0; which < 6; which++) {
        Chart *c = odd_chart(which);
        for (int w = 0; w <= 40; w++) {
            for (int h = 0; h <= 14; h++) {
                for (int u = 0; u < 2; u++) {
                    StrBuf sb = STRBUF_INIT;
                    chart_render_text(c, w, h, u, &sb);
                    sb_append(&sb, "");
                    expect_text_fits(sb_str(&sb), w, h);
                    sb_free(&sb);
                }
            }
        }
        chart_free(c);
    }
}

static void test_huge_values_labels(void **state)
{
    (void)state;
    Chart *c = odd_chart(0);
    StrBuf sb = STRBUF_INIT;
    chart_render_text(c, 60, 12, false, &sb);
    /* the extremes of the data are the y labels, without overflow */
    assert_non_null(strstr(sb_str(&sb), "1.798e+308 +"));
    assert_non_null(strstr(sb_str(&sb), "-1.798e+308 +"));
    assert_null(strstr(sb_str(&sb), "inf"));
    assert_null(strstr(sb_str(&sb), "nan"));
    sb_free(&sb);
    chart_free(c);
}

/* 100,000 points: every column of the plot gets ink and the labels show
 * the exact ends of the data. */
static void test_hundred_thousand_points(void **state)
{
    (void)state;
    enum { N = 100000 };
    double *y = malloc(N * sizeof *y);
    assert_non_null(y);
    for (int i = 0; i < N; i++)
        y[i] = 1.0 / (1 + i * 0.001) + 0.05 * sin(i * 0.37);
    Chart *c = chart_new();
    chart_add_series(c, NULL, y, N, NULL, NULL);
    for (int u = 0; u < 2; u++) {
        Grid *g = grid_new(200, 60);
        chart_draw(c, g, 0, 0, 200, 60, u);
        /* the x axis is the row with the most horizontal lines; the plot
         * is above it and right of its corner */
        int axis_row = -1, axis_col = -1, most = 0;
        for (int row = 0; row < 60; row++) {
            int count = 0;
            for (int x = 0; x < 200; x++)
                count += grid_cell(g, x, row)->cp == (u ? 0x2500u : '-');
            if (count > most)
                most = count, axis_row = row;
        }
        assert_true(axis_row > 50);
        for (int x = 0; x < 200 && axis_col < 0; x++)
            if (grid_cell(g, x, axis_row)->cp == (u ? 0x2514u : '+'))
                axis_col = x;
        assert_true(axis_col > 0);
        for (int x = axis_col + 2; x < 200; x++) {
            bool ink = false;
            for (int row = 0; row < axis_row; row++) {
                uint32_t cp = grid_cell(g, x, row)->cp;
                ink = ink || (cp != ' ' && cp != 0x2800);
            }
            if (!ink)
                fail_msg("column %d has no ink", x);
        }
        StrBuf sb = STRBUF_INIT;
        grid_to_text(g, &sb, u);
        assert_non_null(strstr(sb_str(&sb), "99999"));
        sb_free(&sb);
        grid_free(g);
    }
    free(y);
    chart_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_number),
        cmocka_unit_test(test_style_parse),
        cmocka_unit_test(test_style_parse_errors),
        cmocka_unit_test(test_colours_and_markers),
        cmocka_unit_test(test_series_bookkeeping),
        cmocka_unit_test(test_colour_cycle),
        cmocka_unit_test(test_loss_landscape_ascii),
        cmocka_unit_test(test_loss_landscape_unicode),
        cmocka_unit_test(test_loss_curve_pane),
        cmocka_unit_test(test_two_series_with_legend),
        cmocka_unit_test(test_title_and_dashes),
        cmocka_unit_test(test_flat_series),
        cmocka_unit_test(test_single_point),
        cmocka_unit_test(test_nan_and_inf_break_the_line),
        cmocka_unit_test(test_unsorted_x_in_given_order),
        cmocka_unit_test(test_tiny_rectangles),
        cmocka_unit_test(test_header_priorities),
        cmocka_unit_test(test_draw_into_part_of_a_grid),
        cmocka_unit_test(test_every_size_fits),
        cmocka_unit_test(test_huge_values_labels),
        cmocka_unit_test(test_hundred_thousand_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
