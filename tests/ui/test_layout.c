/* Pane rectangles from the terminal size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "layout.h"

static void expect_rect(Rect r, int x, int y, int w, int h)
{
    if (r.x != x || r.y != y || r.w != w || r.h != h)
        fail_msg("rect {%d, %d, %d, %d}, expected {%d, %d, %d, %d}", r.x, r.y, r.w, r.h, x, y, w, h);
}

/* 80x24, the smallest full layout: the left side is 44 columns (half the
 * width, but at least 44 so cell code stays readable); 23 rows above the
 * status bar, 11/20 of them for the lesson (13), the rest for the console.
 * On the right, 36 columns: Weights and Gradients 27% of 23 rows each (6),
 * Outputs 21% (5), Loss what is left (6). */
static void test_full_80x24(void **state)
{
    (void)state;
    Layout l;
    layout_compute(&l, 80, 24);
    assert_int_equal(l.kind, LAYOUT_FULL);
    expect_rect(l.pane[PANE_LESSON], 0, 0, 44, 13);
    expect_rect(l.pane[PANE_CONSOLE], 0, 13, 44, 10);
    expect_rect(l.pane[PANE_WEIGHTS], 44, 0, 36, 6);
    expect_rect(l.pane[PANE_GRADIENTS], 44, 6, 36, 6);
    expect_rect(l.pane[PANE_OUTPUTS], 44, 12, 36, 5);
    expect_rect(l.pane[PANE_LOSS], 44, 17, 36, 6);
    expect_rect(l.prompt, 1, 21, 42, 1);   /* the last row inside the console */
    expect_rect(l.status, 0, 23, 80, 1);
}

/* 100x30: half and half; 29 rows: lesson 16, console 13; right panes of
 * 8, 8, 6 and 7 rows. */
static void test_full_100x30(void **state)
{
    (void)state;
    Layout l;
    layout_compute(&l, 100, 30);
    assert_int_equal(l.kind, LAYOUT_FULL);
    expect_rect(l.pane[PANE_LESSON], 0, 0, 50, 16);
    expect_rect(l.pane[PANE_CONSOLE], 0, 16, 50, 13);
    expect_rect(l.pane[PANE_WEIGHTS], 50, 0, 50, 8);
    expect_rect(l.pane[PANE_GRADIENTS], 50, 8, 50, 8);
    expect_rect(l.pane[PANE_OUTPUTS], 50, 16, 50, 6);
    expect_rect(l.pane[PANE_LOSS], 50, 22, 50, 7);
    expect_rect(l.prompt, 1, 27, 48, 1);
    expect_rect(l.status, 0, 29, 100, 1);
}

/* 200x60: the right side (100 columns) goes two by two: Weights and
 * Gradients side by side over half the height, then Outputs (2/5 of the
 * width) beside the Loss. */
static void test_full_200x60(void **state)
{
    (void)state;
    Layout l;
    layout_compute(&l, 200, 60);
    assert_int_equal(l.kind, LAYOUT_FULL);
    expect_rect(l.pane[PANE_LESSON], 0, 0, 100, 32);
    expect_rect(l.pane[PANE_CONSOLE], 0, 32, 100, 27);
    expect_rect(l.pane[PANE_WEIGHTS], 100, 0, 50, 29);
    expect_rect(l.pane[PANE_GRADIENTS], 150, 0, 50, 29);
    expect_rect(l.pane[PANE_OUTPUTS], 100, 29, 40, 30);
    expect_rect(l.pane[PANE_LOSS], 140, 29, 60, 30);
    expect_rect(l.prompt, 1, 57, 98, 1);
    expect_rect(l.status, 0, 59, 200, 1);
    /* more room than at 100x30 for the values */
    Layout small;
    layout_compute(&small, 100, 30);
    assert_true(l.pane[PANE_WEIGHTS].h * l.pane[PANE_WEIGHTS].w >
                small.pane[PANE_WEIGHTS].h * small.pane[PANE_WEIGHTS].w);
}

/* 60x20: not enough for every pane; the lesson over the console. */
static void test_lesson_console_60x20(void **state)
{
    (void)state;
    Layout l;
    layout_compute(&l, 60, 20);
    assert_int_equal(l.kind, LAYOUT_LESSON_CONSOLE);
    expect_rect(l.pane[PANE_LESSON], 0, 0, 60, 10);
    expect_rect(l.pane[PANE_CONSOLE], 0, 10, 60, 9);
    assert_false(layout_shows(&l, PANE_WEIGHTS));
    assert_false(layout_shows(&l, PANE_LOSS));
    expect_rect(l.prompt, 1, 17, 58, 1);
    expect_rect(l.status, 0, 19, 60, 1);
}

/* 30x8 is below 40x10: a message and the prompt on the last row. */
static void test_too_small_30x8(void **state)
{
    (void)state;
    Layout l;
    layout_compute(&l, 30, 8);
    assert_int_equal(l.kind, LAYOUT_TOO_SMALL);
    for (int p = 0; p < PANE_COUNT; p++)
        assert_false(layout_shows(&l, (PaneId)p));
    expect_rect(l.prompt, 0, 7, 30, 1);
    expect_rect(l.message, 0, 0, 30, 7);
    expect_rect(l.status, 0, 0, 0, 0);
}

static void test_thresholds(void **state)
{
    (void)state;
    Layout l;
    layout_compute(&l, 79, 24);
    assert_int_equal(l.kind, LAYOUT_LESSON_CONSOLE);
    layout_compute(&l, 80, 23);
    assert_int_equal(l.kind, LAYOUT_LESSON_CONSOLE);
    layout_compute(&l, 59, 30);
    assert_int_equal(l.kind, LAYOUT_CONSOLE);
    layout_compute(&l, 45, 12);
    assert_int_equal(l.kind, LAYOUT_CONSOLE);
    expect_rect(l.pane[PANE_CONSOLE], 0, 0, 45, 11);
    layout_compute(&l, 40, 10);
    assert_int_equal(l.kind, LAYOUT_CONSOLE);
    layout_compute(&l, 39, 10);
    assert_int_equal(l.kind, LAYOUT_TOO_SMALL);
    layout_compute(&l, 40, 9);
    assert_int_equal(l.kind, LAYOUT_TOO_SMALL);
    /* nothing at all, or nonsense */
    layout_compute(&l, 0, 0);
    assert_int_equal(l.kind, LAYOUT_TOO_SMALL);
    assert_int_equal(l.prompt.h, 0);
    layout_compute(&l, -5, -7);
    assert_int_equal(l.cols, 0);
    layout_compute(&l, 10, 1);
    expect_rect(l.prompt, 0, 0, 10, 1);
    expect_rect(l.message, 0, 0, 10, 0);
}

static bool inside(Rect r, int cols, int lines)
{
    return r.x >= 0 && r.y >= 0 && r.x + r.w <= cols && r.y + r.h <= lines;
}

static bool overlap(Rect a, Rect b)
{
    return a.w > 0 && a.h > 0 && b.w > 0 && b.h > 0 && a.x < b.x + b.w && b.x < a.x + a.w &&
           a.y < b.y + b.h && b.y < a.y + a.h;
}

/* Every size: the panes fit, none overlaps another or the status bar, each
 * has room inside its frame, and the prompt is inside the console. */
static void test_every_size(void **state)
{
    (void)state;
    for (int cols = 0; cols <= 260; cols++)
        for (int lines = 0; lines <= 90; lines++) {
            Layout l;
            layout_compute(&l, cols, lines);
            assert_true(inside(l.prompt, cols, lines));
            if (l.kind == LAYOUT_TOO_SMALL)
                continue;
            assert_true(inside(l.status, cols, lines));
            assert_true(layout_shows(&l, PANE_CONSOLE));
            Rect console = l.pane[PANE_CONSOLE];
            assert_true(l.prompt.w > 0 && l.prompt.h == 1);
            assert_true(l.prompt.y > console.y && l.prompt.y < console.y + console.h - 1);
            assert_true(rect_inner(console).h >= 2);   /* output and the prompt */
            for (int p = 0; p < PANE_COUNT; p++) {
                if (!layout_shows(&l, (PaneId)p))
                    continue;
                Rect r = l.pane[p];
                if (!inside(r, cols, lines) || overlap(r, l.status) || r.w < 12 || r.h < 3)
                    fail_msg("%dx%d: pane %s at {%d, %d, %d, %d}", cols, lines,
                             layout_pane_title((PaneId)p), r.x, r.y, r.w, r.h);
                for (int q = p + 1; q < PANE_COUNT; q++)
                    if (layout_shows(&l, (PaneId)q) && overlap(r, l.pane[q]))
                        fail_msg("%dx%d: %s and %s overlap", cols, lines,
                                 layout_pane_title((PaneId)p), layout_pane_title((PaneId)q));
            }
            /* the panes and the status bar cover the screen */
            int covered = l.status.w * l.status.h;
            for (int p = 0; p < PANE_COUNT; p++)
                covered += l.pane[p].w * l.pane[p].h;
            assert_int_equal(covered, cols * lines);
        }
}

static void test_titles(void **state)
{
    (void)state;
    assert_string_equal(layout_pane_title(PANE_LESSON), "Lesson");
    assert_string_equal(layout_pane_title(PANE_WEIGHTS), "Weights");
    assert_string_equal(layout_pane_title(PANE_GRADIENTS), "Gradients");
    assert_string_equal(layout_pane_title(PANE_OUTPUTS), "Outputs");
    assert_string_equal(layout_pane_title(PANE_LOSS), "Loss");
    assert_string_equal(layout_pane_title(PANE_CONSOLE), "Console");
    assert_string_equal(layout_pane_title(PANE_COUNT), "");
    Rect in = rect_inner((Rect){3, 4, 10, 5});
    expect_rect(in, 4, 5, 8, 3);
    in = rect_inner((Rect){3, 4, 1, 5});
    assert_int_equal(in.w, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_80x24),
        cmocka_unit_test(test_full_100x30),
        cmocka_unit_test(test_full_200x60),
        cmocka_unit_test(test_lesson_console_60x20),
        cmocka_unit_test(test_too_small_30x8),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_every_size),
        cmocka_unit_test(test_titles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
