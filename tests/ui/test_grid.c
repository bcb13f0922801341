/* The character grid: cells, text and width rules, boxes, text output. */
#include "text_assert.h"

#include <limits.h>
#include <stdlib.h>

#include "grid.h"
#include "utf8_codec.h"

static void test_new_sizes_and_clamps(void **state)
{
    (void)state;
    Grid *g = grid_new(5, 3);
    assert_non_null(g);
    assert_int_equal(grid_width(g), 5);
    assert_int_equal(grid_height(g), 3);
    expect_grid(g, true, "\n\n\n");
    grid_free(g);

    g = grid_new(-4, 2);
    assert_non_null(g);
    assert_int_equal(grid_width(g), 0);
    assert_int_equal(grid_height(g), 2);
    assert_int_equal(grid_put(g, 0, 0, 'x', 0), 0);
    expect_grid(g, true, "\n\n");
    grid_free(g);

    g = grid_new(INT_MAX, 1);
    assert_non_null(g);
    assert_int_equal(grid_width(g), GRID_MAX_SIDE);
    grid_free(g);

    /* NULL is accepted everywhere */
    grid_free(NULL);
    grid_clear(NULL);
    assert_int_equal(grid_width(NULL), 0);
    assert_int_equal(grid_put(NULL, 0, 0, 'x', 0), 0);
    assert_int_equal(grid_text(NULL, 0, 0, "x", 0, -1), 0);
    assert_null(grid_cell(NULL, 0, 0));
    assert_false(grid_resize(NULL, 3, 3));
}

static void test_put_and_cell(void **state)
{
    (void)state;
    Grid *g = grid_new(4, 2);
    assert_int_equal(grid_put(g, 1, 0, 'a', GRID_ROLE_AXIS | GRID_BOLD), 1);
    const GridCell *c = grid_cell(g, 1, 0);
    assert_non_null(c);
    assert_int_equal(c->cp, 'a');
    assert_int_equal(grid_attr_role(c->attr), GRID_ROLE_AXIS);
    assert_int_equal(c->attr & GRID_STYLE_MASK, GRID_BOLD);
    assert_int_equal(grid_put(g, 4, 0, 'b', 0), 0);
    assert_int_equal(grid_put(g, -1, 0, 'b', 0), 0);
    assert_int_equal(grid_put(g, 0, 2, 'b', 0), 0);
    assert_null(grid_cell(g, 4, 0));
    assert_null(grid_cell(g, 0, -1));
    /* a control character is drawn as a space */
    grid_put(g, 2, 1, '\t', 0);
    assert_int_equal(grid_cell(g, 2, 1)->cp, ' ');
    /* an unknown role reads as normal */
    assert_int_equal(grid_attr_role(0xff), GRID_ROLE_NORMAL);
    expect_grid(g, true, " a\n\n");
    grid_clear(g);
    expect_grid(g, true, "\n\n");
    assert_int_equal(grid_cell(g, 1, 0)->attr, 0);
    grid_free(g);
}

static void test_text_clips_and_counts_columns(void **state)
{
    (void)state;
    Grid *g = grid_new(8, 3);
    assert_int_equal(grid_text(g, 0, 0, "hello", 0, -1), 5);
    assert_int_equal(grid_text(g, 5, 0, "world", 0, -1), 3);     /* clipped at the edge */
    assert_int_equal(grid_text(g, 0, 1, "abcdef", 0, 2), 2);     /* clipped by max_width */
    assert_int_equal(grid_text(g, -2, 2, "xyz!", 0, -1), 4);     /* left part not drawn */
    assert_int_equal(grid_text(g, 0, 2, "", 0, -1), 0);
    assert_int_equal(grid_text(g, 0, 2, "q", 0, 0), 0);
    expect_grid(g, true, "hellowor\nab\nz!\n");
    grid_free(g);
}

static void test_text_utf8_and_wide_characters(void **state)
{
    (void)state;
    Grid *g = grid_new(7, 3);
    /* box drawing and braille are one column; CJK is two */
    assert_int_equal(grid_text(g, 0, 0, "\u250c\u2500\u28ff", 0, -1), 3);
    assert_int_equal(grid_text(g, 0, 1, "\u635f\u5931 ok", 0, -1), 7);
    /* a wide character that would straddle the limit is left out */
    assert_int_equal(grid_text(g, 0, 2, "ab\u635f", 0, 3), 2);
    expect_grid(g, true, "\u250c\u2500\u28ff\n\u635f\u5931 ok\nab\n");
    assert_int_equal(grid_cell(g, 1, 1)->cp, GRID_WIDE_TAIL);

    /* overwriting either half of a wide character blanks the other half */
    grid_put(g, 1, 1, 'X', 0);
    assert_int_equal(grid_cell(g, 0, 1)->cp, ' ');
    grid_put(g, 2, 1, 'Y', 0);
    assert_int_equal(grid_cell(g, 3, 1)->cp, ' ');
    expect_grid(g, true, "\u250c\u2500\u28ff\n XY  ok\nab\n");

    /* no room for a wide character in the last column */
    assert_int_equal(grid_put(g, 6, 2, 0x635f, 0), 0);
    grid_free(g);
}

static void test_text_odd_input(void **state)
{
    (void)state;
    Grid *g = grid_new(10, 1);
    /* controls become spaces; a combining mark is dropped; bad bytes are U+FFFD */
    int used = grid_text(g, 0, 0, "a\tb\ne\xcc\x81\xff\xc3", 0, -1);
    assert_int_equal(used, 7);
    expect_grid(g, true, "a b e\ufffd\ufffd\n");
    expect_grid(g, false, "a b e??\n");
    grid_free(g);
}

static void test_char_width(void **state)
{
    (void)state;
    assert_int_equal(grid_char_width('a'), 1);
    assert_int_equal(grid_char_width('\n'), -1);
    assert_int_equal(grid_char_width(0x7f), -1);
    assert_int_equal(grid_char_width(0x0301), 0);   /* combining acute */
    assert_int_equal(grid_char_width(0x200b), 0);   /* zero-width space */
    assert_int_equal(grid_char_width(0xfe0f), 0);   /* variation selector */
    assert_int_equal(grid_char_width(0x2500), 1);   /* ─ */
    assert_int_equal(grid_char_width(0x2588), 1);   /* █ */
    assert_int_equal(grid_char_width(0x28ff), 1);   /* braille */
    assert_int_equal(grid_char_width(0x25cf), 1);   /* ● */
    assert_int_equal(grid_char_width(0x00e9), 1);   /* é */
    assert_int_equal(grid_char_width(0x4e2d), 2);   /* 中 */
    assert_int_equal(grid_char_width(0xac00), 2);   /* 가 */
    assert_int_equal(grid_char_width(0xff21), 2);   /* fullwidth A */
    assert_int_equal(grid_char_width(0x1f600), 2);  /* 😀 */
    assert_int_equal(grid_text_width("w=2.0 \u635f\u5931"), 10);
    assert_int_equal(grid_text_width("e\xcc\x81"), 1);
    assert_int_equal(grid_text_width(NULL), 0);
}

static void test_utf8_round_trip(void **state)
{
    (void)state;
    const uint32_t cps[] = {'A', 0xe9, 0x2500, 0x28ff, 0x635f, 0x1f600, 0x10ffff};
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        char buf[5] = {0};
        int n = utf8_encode(cps[i], buf);
        assert_true(n >= 1 && n <= 4);
        const char *p = buf;
        assert_int_equal(grid_utf8_next(&p), cps[i]);
        assert_ptr_equal(p, buf + n);
    }
    /* overlong "/", a surrogate, a truncated sequence: U+FFFD, one byte each */
    const char *bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x94"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = bad[i];
        assert_int_equal(grid_utf8_next(&p), 0xfffd);
        assert_ptr_equal(p, bad[i] + 1);
    }
    const char *end = "";
    assert_int_equal(grid_utf8_next(&end), 0);
    char buf[4];
    assert_int_equal(utf8_encode(0xd800, buf), 3);   /* encodes U+FFFD */
}

static void test_box_fill_and_lines(void **state)
{
    (void)state;
    Grid *g = grid_new(9, 4);
    grid_box(g, 0, 0, 5, 4, GRID_ROLE_AXIS, true);
    grid_fill(g, 1, 1, 3, 2, '.', 0);
    grid_box(g, 5, 0, 4, 3, 0, false);
    grid_hline(g, 6, 3, 3, 0, true);
    expect_grid(g, true,
                "\u250c\u2500\u2500\u2500\u2510+--+\n"
                "\u2502...\u2502|  |\n"
                "\u2502...\u2502+--+\n"
                "\u2514\u2500\u2500\u2500\u2518 \u2500\u2500\u2500\n");
    /* the same grid for a terminal without Unicode */
    expect_grid(g, false,
                "+---++--+\n"
                "|...||  |\n"
                "|...|+--+\n"
                "+---+ ---\n");
    assert_int_equal(grid_attr_role(grid_cell(g, 0, 0)->attr), GRID_ROLE_AXIS);

    /* degenerate and far-away boxes draw what fits */
    grid_clear(g);
    grid_box(g, 0, 0, 1, 1, 0, false);
    grid_box(g, 2, 0, 1, 3, 0, false);
    grid_box(g, 7, 2, 100, 100, 0, true);
    grid_box(g, INT_MIN, INT_MIN, INT_MAX, INT_MAX, 0, true);
    grid_box(g, INT_MAX, 0, INT_MAX, 1, 0, true);
    grid_fill(g, INT_MAX - 1, 0, INT_MAX, 1, 'z', 0);
    grid_fill(g, -5, 3, INT_MAX, 1, 'z', 0);
    expect_grid(g, false,
                "+ +\n"
                "  |\n"
                "  +    +-\n"
                "zzzzzzzzz\n");
    grid_free(g);
}

static void test_to_text_fallbacks_and_trimming(void **state)
{
    (void)state;
    Grid *g = grid_new(12, 2);
    /* braille: top dots, bottom dots, both; blocks; a marker; a wide char */
    grid_text(g, 0, 0, "\u2809\u28c0\u28ff\u2800\u2588\u2591\u25cf\u00d7\u635f  ", 0, -1);
    grid_put(g, 11, 1, ' ', GRID_ROLE_HIGHLIGHT);   /* trailing spaces are trimmed */
    expect_grid(g, false, "'.: #.ox??\n\n");
    expect_grid(g, true, "\u2809\u28c0\u28ff\u2800\u2588\u2591\u25cf\u00d7\u635f\n\n");
    StrBuf sb = STRBUF_INIT;
    sb_append(&sb, "before\n");
    grid_to_text(g, &sb, false);          /* appends */
    expect_text(sb_str(&sb), "before\n'.: #.ox??\n\n");
    sb_free(&sb);
    grid_free(g);
}

static void test_resize_keeps_content(void **state)
{
    (void)state;
    Grid *g = grid_new(6, 2);
    grid_text(g, 0, 0, "abc\u635f", 0, -1);
    grid_text(g, 0, 1, "xyz", 0, -1);
    assert_true(grid_resize(g, 4, 3));     /* cuts the wide character in half */
    assert_int_equal(grid_width(g), 4);
    assert_int_equal(grid_height(g), 3);
    expect_grid(g, true, "abc\nxyz\n\n");
    assert_true(grid_resize(g, 8, 1));
    expect_grid(g, true, "abc\n");
    assert_true(grid_resize(g, 0, 0));
    expect_grid(g, true, "");
    assert_true(grid_resize(g, 2, 2));
    grid_put(g, 1, 1, 'k', 0);
    expect_grid(g, true, "\n k\n");
    grid_free(g);
}

typedef struct Runs {
    StrBuf text;
} Runs;

static void collect_run(void *ctx, int x, int y, const char *utf8, int columns, GridAttr attr)
{
    Runs *r = ctx;
    sb_printf(&r->text, "[%d,%d %d r%d s%x \"%s\"]", x, y, columns, (int)grid_attr_role(attr),
              (unsigned)(attr & GRID_STYLE_MASK), utf8);
}

static void test_row_runs(void **state)
{
    (void)state;
    Grid *g = grid_new(12, 2);
    grid_text(g, 0, 0, "ab", GRID_ROLE_AXIS, -1);
    grid_text(g, 2, 0, "\u635f\u2500", GRID_ROLE_TITLE | GRID_BOLD, -1);
    grid_text(g, 6, 0, "z", 0, -1);
    grid_put(g, 8, 0, ' ', GRID_ROLE_HIGHLIGHT | GRID_REVERSE);
    Runs r = {STRBUF_INIT};
    grid_row_runs(g, 0, collect_run, &r);
    expect_text(sb_str(&r.text), "[0,0 2 r3 s0 \"ab\"]"
                                 "[2,0 3 r11 s100 \"\u635f\u2500\"]"
                                 "[5,0 3 r0 s0 \" z \"]"
                                 "[8,0 1 r10 s200 \" \"]");
    sb_clear(&r.text);
    grid_row_runs(g, 1, collect_run, &r);       /* a blank row reports nothing */
    grid_row_runs(g, 2, collect_run, &r);       /* nor a row outside */
    grid_row_runs(g, -1, collect_run, &r);
    expect_text(sb_str(&r.text), "");
    sb_free(&r.text);
    grid_free(g);
}

static void test_clip_rect(void **state)
{
    (void)state;
    Grid *g = grid_new(10, 5);
    int x = -3, y = 2, w = 5, h = 100;
    assert_true(grid_clip_rect(g, &x, &y, &w, &h));
    assert_int_equal(x, 0);
    assert_int_equal(y, 2);
    assert_int_equal(w, 2);
    assert_int_equal(h, 3);
    x = INT_MAX, y = 0, w = INT_MAX, h = 1;
    assert_false(grid_clip_rect(g, &x, &y, &w, &h));
    x = INT_MIN, y = INT_MIN, w = INT_MAX, h = INT_MAX;
    assert_false(grid_clip_rect(g, &x, &y, &w, &h));
    x = 0, y = 0, w = 0, h = 3;
    assert_false(grid_clip_rect(g, &x, &y, &w, &h));
    grid_free(g);
}

static void test_roles(void **state)
{
    (void)state;
    /* the six series roles stand for six different colours */
    for (int a = GRID_ROLE_SERIES_1; a <= GRID_ROLE_SERIES_6; a++) {
        assert_int_not_equal(grid_role_colour((GridRole)a), GRID_COLOUR_DEFAULT);
        for (int b = a + 1; b <= GRID_ROLE_SERIES_6; b++)
            assert_int_not_equal(grid_role_colour((GridRole)a), grid_role_colour((GridRole)b));
    }
    assert_int_equal(grid_role_colour(GRID_ROLE_SERIES_1), GRID_COLOUR_BLUE);
    assert_int_equal(grid_role_colour(GRID_ROLE_SERIES_2), GRID_COLOUR_RED);
    assert_int_equal(grid_role_colour(GRID_ROLE_NORMAL), GRID_COLOUR_DEFAULT);
    assert_int_equal(grid_role_colour(GRID_ROLE_COUNT), GRID_COLOUR_DEFAULT);
    /* without colour, the highlight and neighbouring series still differ */
    assert_int_not_equal(grid_role_mono_style(GRID_ROLE_HIGHLIGHT), 0);
    assert_int_not_equal(grid_role_mono_style(GRID_ROLE_SERIES_1),
                         grid_role_mono_style(GRID_ROLE_SERIES_2));
    assert_int_equal(grid_role_colour_style(GRID_ROLE_TITLE), GRID_BOLD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_sizes_and_clamps),
        cmocka_unit_test(test_put_and_cell),
        cmocka_unit_test(test_text_clips_and_counts_columns),
        cmocka_unit_test(test_text_utf8_and_wide_characters),
        cmocka_unit_test(test_text_odd_input),
        cmocka_unit_test(test_char_width),
        cmocka_unit_test(test_utf8_round_trip),
        cmocka_unit_test(test_box_fill_and_lines),
        cmocka_unit_test(test_to_text_fallbacks_and_trimming),
        cmocka_unit_test(test_resize_keeps_content),
        cmocka_unit_test(test_row_runs),
        cmocka_unit_test(test_clip_rect),
        cmocka_unit_test(test_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
