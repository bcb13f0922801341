/*
 * layout.h - where each pane of the classroom goes, from the terminal size.
 *
 * Pure arithmetic: no terminal, no drawing. The front-end recomputes the
 * layout whenever the terminal changes size and draws each shown pane in
 * its rectangle (the rectangle includes the pane's frame).
 *
 *   80x24 and larger   every pane: Lesson and Console on the left; Weights,
 *                      Gradients, Outputs and Loss stacked on the right, or
 *                      two by two when the right side is 100 columns or more
 *   60x16 .. 80x24     Lesson above Console
 *   40x10 .. 60x16     Console only
 *   below 40x10        one message ("nnrepl needs at least 40x10") and the
 *                      prompt on the last row
 *
 * The prompt is the last row inside the Console frame; the status bar is the
 * terminal's last row.
 */
#ifndef NNREPL_UI_LAYOUT_H
#define NNREPL_UI_LAYOUT_H

#include <stdbool.h>

typedef enum PaneId {
    PANE_LESSON,
    PANE_WEIGHTS,
    PANE_GRADIENTS,
    PANE_OUTPUTS,
    PANE_LOSS,
    PANE_CONSOLE,
    PANE_COUNT
} PaneId;

typedef struct Rect {
    int x, y, w, h;
} Rect;

typedef enum LayoutKind {
    LAYOUT_FULL,            /* every pane */
    LAYOUT_LESSON_CONSOLE,  /* Lesson and Console */
    LAYOUT_CONSOLE,         /* Console only */
    LAYOUT_TOO_SMALL,       /* the message and the prompt */
} LayoutKind;

#define LAYOUT_MIN_COLS 40
#define LAYOUT_MIN_LINES 10
#define LAYOUT_FULL_COLS 80
#define LAYOUT_FULL_LINES 24
#define LAYOUT_LESSON_COLS 60
#define LAYOUT_LESSON_LINES 16
/* From this width of the right side on, its panes go two by two. */
#define LAYOUT_WIDE_RIGHT 100

typedef struct Layout {
    LayoutKind kind;
    int cols, lines;
    Rect pane[PANE_COUNT];   /* {0,0,0,0} when the pane is not shown */
    Rect prompt;             /* one row */
    Rect status;             /* one row; empty in LAYOUT_TOO_SMALL */
    Rect message;            /* LAYOUT_TOO_SMALL: where the message goes */
} Layout;

/* Any sizes (negative ones count as 0). */
void layout_compute(Layout *out, int cols, int lines);
bool layout_shows(const Layout *l, PaneId pane);
/* The pane's title: "Lesson", "Weights", ... */
const char *layout_pane_title(PaneId pane);
/* The inside of a framed rectangle (one cell less on every side). */
Rect rect_inner(Rect r);

#endif
