#include "layout.h"

#include <string.h>

static Rect rect(int x, int y, int w, int h)
{
    Rect r = {x, y, w, h};
    return r;
}

Rect rect_inner(Rect r)
{
    if (r.w < 2 || r.h < 2)
        return rect(r.x, r.y, 0, 0);
    return rect(r.x + 1, r.y + 1, r.w - 2, r.h - 2);
}

/* The prompt: the last row inside the console's frame. */
static Rect console_prompt(Rect console)
{
    Rect in = rect_inner(console);
    return rect(in.x, in.y + in.h - 1, in.w, in.h > 0 ? 1 : 0);
}

/* The right-hand side: Weights, Gradients, Outputs, Loss. Stacked, or two
 * by two when wide; the value panes get the most room since they hold the
 * numbers the lesson is about. */
static void place_right(Layout *l, int x, int w, int body)
{
    if (w >= LAYOUT_WIDE_RIGHT) {
        int top = body / 2;
        int half = w / 2;
        l->pane[PANE_WEIGHTS] = rect(x, 0, half, top);
        l->pane[PANE_GRADIENTS] = rect(x + half, 0, w - half, top);
        int outputs = w * 2 / 5;
        l->pane[PANE_OUTPUTS] = rect(x, top, outputs, body - top);
        l->pane[PANE_LOSS] = rect(x + outputs, top, w - outputs, body - top);
        return;
    }
    int weights = (body * 27 + 50) / 100;
    int outputs = (body * 21 + 50) / 100;
    int loss = body - 2 * weights - outputs;
    l->pane[PANE_WEIGHTS] = rect(x, 0, w, weights);
    l->pane[PANE_GRADIENTS] = rect(x, weights, w, weights);
    l->pane[PANE_OUTPUTS] = rect(x, 2 * weights, w, outputs);
    l->pane[PANE_LOSS] = rect(x, 2 * weights + outputs, w, loss);
}

void layout_compute(Layout *out, int cols, int lines)
{
    memset(out, 0, sizeof *out);
    if (cols < 0)
        cols = 0;
    if (lines < 0)
        lines = 0;
    out->cols = cols;
    out->lines = lines;
    if (cols < LAYOUT_MIN_COLS || lines < LAYOUT_MIN_LINES) {
        out->kind = LAYOUT_TOO_SMALL;
        if (lines > 0)
            out->prompt = rect(0, lines - 1, cols, 1);
        out->message = rect(0, 0, cols, lines > 1 ? lines - 1 : 0);
        return;
    }
    int body = lines - 1;
    out->status = rect(0, lines - 1, cols, 1);
    if (cols >= LAYOUT_FULL_COLS && lines >= LAYOUT_FULL_LINES) {
        out->kind = LAYOUT_FULL;
        int left = cols / 2;
        if (left < 44)
            left = 44;
        int lesson = (body * 11 + 10) / 20;
        out->pane[PANE_LESSON] = rect(0, 0, left, lesson);
        out->pane[PANE_CONSOLE] = rect(0, lesson, left, body - lesson);
        place_right(out, left, cols - left, body);
    } else if (cols >= LAYOUT_LESSON_COLS && lines >= LAYOUT_LESSON_LINES) {
        out->kind = LAYOUT_LESSON_CONSOLE;
        int lesson = (body + 1) / 2;
        out->pane[PANE_LESSON] = rect(0, 0, cols, lesson);
        out->pane[PANE_CONSOLE] = rect(0, lesson, cols, body - lesson);
    } else {
        out->kind = LAYOUT_CONSOLE;
        out->pane[PANE_CONSOLE] = rect(0, 0, cols, body);
    }
    out->prompt = console_prompt(out->pane[PANE_CONSOLE]);
}

bool layout_shows(const Layout *l, PaneId pane)
{
    return (unsigned)pane < PANE_COUNT && l->pane[pane].w > 0 && l->pane[pane].h > 0;
}

const char *layout_pane_title(PaneId pane)
{
    static const char *const titles[PANE_COUNT] = {
        [PANE_LESSON] = "Lesson",
        [PANE_WEIGHTS] = "Weights",
        [PANE_GRADIENTS] = "Gradients",
        [PANE_OUTPUTS] = "Outputs",
        [PANE_LOSS] = "Loss",
        [PANE_CONSOLE] = "Console",
    };
    return (unsigned)pane < PANE_COUNT ? titles[pane] : "";
}
