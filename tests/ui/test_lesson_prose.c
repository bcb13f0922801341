/*
 * Every cell of every lesson in lessons/, drawn in the Lesson pane at the
 * sizes a classroom uses: the prose is whole at 100x30 and larger (at
 * 80x24 it may be cut, and then its last row ends in an ellipsis), the
 * footer stays on the last row, and the running line is in view.
 */
#include "text_assert.h"

#include <dirent.h>
#include <stdlib.h>

#include "layout.h"
#include "lesson.h"
#include "panes.h"
#include "utf8_codec.h"

#ifndef LESSONS_DIR
#error "LESSONS_DIR names the lessons directory"
#endif

#define ELLIPSIS "\xe2\x80\xa6"
#define RUNNING_MARK "\xe2\x96\xb6"
#define FOOTER "F7: next cell: the footer"

/* Row y of the grid from column x, w columns, as UTF-8 without the
 * trailing spaces. */
static void row_text(const Grid *g, int x, int y, int w, StrBuf *out)
{
    sb_clear(out);
    for (int i = x; i < x + w; i++) {
        const GridCell *c = grid_cell(g, i, y);
        if (!c || c->cp == GRID_WIDE_TAIL)
            continue;
        char buf[4];
        sb_append_n(out, buf, (size_t)utf8_encode(c->cp, buf));
    }
    while (out->len && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
}

/* The number of the code's last line that is not blank. */
static int last_code_line(const Cell *c)
{
    int line = c->code_line, last = 0;
    for (const char *p = c->code->text; *p; line++) {
        size_t len = strcspn(p, "\n");
        if (strspn(p, " \t\r") < len)
            last = line;
        p += len + (p[len] ? 1 : 0);
    }
    return last;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

typedef struct Size {
    int cols, lines;
    bool prose_whole;      /* every prose row must be shown */
} Size;

static const Size SIZES[] = {{80, 24, false}, {100, 30, true}, {120, 36, true}, {200, 60, true}};

/* The cell's Lesson pane at one size, idle (with a footer) or running its
 * last line; the prose rows compared with the prose drawn alone. */
static void check_cell(const char *file, int k, const Cell *c, const Size *size, bool running)
{
    Layout l;
    layout_compute(&l, size->cols, size->lines);
    Rect r = l.pane[PANE_LESSON];
    Rect in = rect_inner(r);
    Grid *pane = grid_new(r.x + r.w, r.y + r.h);
    assert_non_null(pane);
    int running_line = running && c->has_code ? last_code_line(c) : 0;
    LessonView v = {"cell", c->prose, c->has_code ? c->code->text : NULL, c->code_line,
                    running_line, 0, running ? NULL : FOOTER};
    pane_draw_lesson(pane, r, &v, true);

    int rows = prose_draw(NULL, 0, 0, in.w, 1 << 20, c->prose, true);
    Grid *alone = grid_new(in.w, rows > 0 ? rows : 1);
    assert_non_null(alone);
    prose_draw(alone, 0, 0, in.w, rows, c->prose, true);

    StrBuf got = STRBUF_INIT, want = STRBUF_INIT;
    bool cut = false;
    for (int i = 0; i < rows && !cut; i++) {
        row_text(pane, in.x, in.y + i, in.w, &got);
        row_text(alone, 0, i, in.w, &want);
        if (strcmp(sb_str(&got), sb_str(&want)) == 0)
            continue;
        /* a cut prose row: what is shown of it, then the ellipsis */
        if (size->prose_whole || !ends_with(sb_str(&got), ELLIPSIS))
            fail_msg("%s cell %d at %dx%d%s: prose row %d is '%s', expected '%s'", file, k + 1,
                     size->cols, size->lines, running ? " (running)" : "", i, sb_str(&got),
                     sb_str(&want));
        size_t keep = got.len - strlen(ELLIPSIS);
        if (strncmp(sb_str(&got), sb_str(&want), keep) != 0 && keep > 0) {
            /* the ellipsis may stand in for the row's last characters */
            while (keep > 0 && strncmp(sb_str(&got), sb_str(&want), keep) != 0)
                keep--;
            if (got.len - strlen(ELLIPSIS) - keep > 3)
                fail_msg("%s cell %d at %dx%d: cut prose row %d is '%s', from '%s'", file, k + 1,
                         size->cols, size->lines, i, sb_str(&got), sb_str(&want));
        }
        cut = true;
    }
    /* the footer on the last row; the running line in view */
    if (!running) {
        row_text(pane, in.x, in.y + in.h - 1, in.w, &got);
        /* the footer, and at its right maybe the count of code lines below */
        if (strncmp(sb_str(&got), FOOTER, strlen(FOOTER)) != 0 ||
            (got.len > strlen(FOOTER) && !strstr(sb_str(&got), " more line")))
            fail_msg("%s cell %d at %dx%d: the last row is '%s', not the footer", file, k + 1,
                     size->cols, size->lines, sb_str(&got));
    } else if (c->has_code) {
        char number[32];
        snprintf(number, sizeof number, "%d" RUNNING_MARK, running_line);
        bool seen = false;
        for (int y = in.y; y < in.y + in.h && !seen; y++) {
            row_text(pane, in.x, y, in.w, &got);
            seen = strstr(sb_str(&got), number) != NULL;
        }
        if (!seen) {
            StrBuf all = STRBUF_INIT;
            grid_to_text(pane, &all, true);
            print_framed("the pane", sb_str(&all));
            sb_free(&all);
            fail_msg("%s cell %d at %dx%d: the running line %d is not in view", file, k + 1,
                     size->cols, size->lines, running_line);
        }
    }
    sb_free(&got);
    sb_free(&want);
    grid_free(alone);
    grid_free(pane);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_every_lesson_cell(void **state)
{
    (void)state;
    DIR *d = opendir(LESSONS_DIR);
    assert_non_null(d);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".nnl") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    assert_true(n >= 7);
    int cells = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", LESSONS_DIR, names[i]);
        Lesson l;
        assert_true(lesson_load(&l, path));
        assert_true(l.n_cells > 0);
        for (int k = 0; k < l.n_cells; k++, cells++)
            for (size_t s = 0; s < sizeof SIZES / sizeof SIZES[0]; s++) {
                check_cell(names[i], k, &l.cells[k], &SIZES[s], false);
                check_cell(names[i], k, &l.cells[k], &SIZES[s], true);
            }
        lesson_free(&l);
        free(names[i]);
    }
    assert_true(cells >= 70);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_lesson_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
