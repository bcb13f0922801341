#include "screen.h"

#include <stdlib.h>
#include <string.h>

#include "term.h"

typedef struct RowCopy {
    WINDOW *win;
    bool unicode;
    char *ascii;      /* scratch for the ASCII version of a run */
    size_t cap;
} RowCopy;

/* Without Unicode, anything outside ASCII becomes '?' (as many as the
 * columns the grid counted for it). */
static const char *as_ascii(RowCopy *rc, const char *utf8, int columns)
{
    size_t need = (size_t)(columns > 0 ? columns : 0) + 1;
    if (need > rc->cap) {
        char *bigger = realloc(rc->ascii, need * 2);
        if (!bigger)
            return "";
        rc->ascii = bigger;
        rc->cap = need * 2;
    }
    size_t n = 0;
    const char *p = utf8;
    uint32_t cp;
    while ((cp = grid_utf8_next(&p)) != 0) {
        int w = grid_char_width(cp);
        char c = cp < 0x80 && cp >= 0x20 ? (char)cp : '?';
        for (int i = 0; i < (w > 1 ? w : 1) && n + 1 < need; i++)
            rc->ascii[n++] = c;
    }
    rc->ascii[n] = '\0';
    return rc->ascii;
}

static void put_run(void *ctx, int x, int y, const char *utf8, int columns, GridAttr attr)
{
    RowCopy *rc = ctx;
    short pair;
    attr_t a = term_attr(attr, &pair);
    wattr_set(rc->win, a, pair, NULL);
    const char *text = rc->unicode ? utf8 : as_ascii(rc, utf8, columns);
    mvwaddstr(rc->win, y, x, text);
}

void screen_copy_rows(const Grid *g, int y0, int y1)
{
    WINDOW *win = term_window();
    if (!g || !win)
        return;
    int rows = getmaxy(win), cols = getmaxx(win);
    if (y1 > rows)
        y1 = rows;
    if (y1 > grid_height(g))
        y1 = grid_height(g);
    RowCopy rc = {win, term_unicode(), NULL, 0};
    for (int y = y0 < 0 ? 0 : y0; y < y1; y++) {
        wattr_set(win, A_NORMAL, 0, NULL);
        wmove(win, y, 0);
        wclrtoeol(win);
        if (grid_width(g) <= cols)
            grid_row_runs(g, y, put_run, &rc);
    }
    free(rc.ascii);
    wattr_set(win, A_NORMAL, 0, NULL);
}

void screen_present(int cursor_x, int cursor_y)
{
    WINDOW *win = term_window();
    if (cursor_x >= 0 && cursor_y >= 0) {
        curs_set(1);
        wmove(win, cursor_y, cursor_x);
    } else {
        curs_set(0);
    }
    wnoutrefresh(win);
    doupdate();
}

void screen_force_repaint(void)
{
    clearok(curscr, TRUE);
}
