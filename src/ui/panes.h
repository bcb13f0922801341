/*
 * panes.h - the classroom's panes drawn into a Grid: no terminal, no
 * interpreter.
 *
 * Each pane_draw_* function takes the pane's whole rectangle (frame
 * included), draws the frame with its title and then the content inside;
 * what it shows comes in plain structs that the front-end fills from the
 * interpreter (watch.h) and from events. Unit tests fill them by hand and
 * compare grid_to_text() with expected text.
 *
 * Numbers: every value is printed from the float it is, rounded once by
 * printf. A tensor's values share one format (PyTorch's habit): four
 * decimals, with as many integer digits as the largest magnitude needs, and
 * more decimals when the largest magnitude is below 0.01 so that it keeps
 * three significant digits (0.000872); scientific notation with three
 * significant digits when the largest magnitude is 1e5 or more or below
 * 1e-4; integers for int64/bool tensors.
 */
#ifndef NNREPL_UI_PANES_H
#define NNREPL_UI_PANES_H

#include <stdbool.h>
#include <stdint.h>

#include "chart.h"
#include "grid.h"
#include "layout.h"

/* ---- values ---- */

#define SNAP_MAX_DIMS 4

/* A copy of a tensor's values, row-major. */
typedef struct TensorSnap {
    bool present;                 /* false: None (no gradient yet) */
    int ndim;
    int64_t shape[SNAP_MAX_DIMS];
    int64_t numel;
    bool integral;                /* int64/bool: printed without decimals */
    float *data;                  /* numel values (malloc'd), NULL when numel is 0 */
    bool borrowed;                /* data belongs to another snap: not freed */
    /* of all the values, computed once: */
    double min, max, mean;        /* NaN-aware as C comparisons are */
    double max_abs;               /* of the finite values */
    bool negative, nonfinite;     /* any value with a minus sign; any NaN/inf */
} TensorSnap;

/* Copy `data` (the element count follows from the shape). False when
 * memory runs out or the shape is invalid; the snap is then empty. */
bool tensor_snap_set(TensorSnap *s, int ndim, const int64_t *shape, const float *data,
                     bool integral);
/* After changing s->data in place: compute the statistics again. */
void tensor_snap_restat(TensorSnap *s);
/* A view of s's values that s keeps owning (valid while s lives). */
TensorSnap tensor_snap_borrow(const TensorSnap *s);
void tensor_snap_free(TensorSnap *s);
/* "(2, 3)", "(3,)" or "()" into buf. */
void tensor_snap_shape_str(const TensorSnap *s, char *buf, size_t size);

/* How one tensor's numbers are printed. */
typedef struct NumFormat {
    bool sci, integral;
    int decimals;
    int width;       /* columns of the widest value */
} NumFormat;

NumFormat num_format_for(const float *values, int64_t n, bool integral);
/* One value, right-aligned in fmt->width columns (wider when needed). */
void num_format(const NumFormat *fmt, double v, char *buf, size_t size);
/* The attributes of a value: its sign's role; bold when it is at least half
 * the largest magnitude, dim below a tenth of it. */
GridAttr value_attr(double v, double max_abs);

/* One watched parameter. */
typedef struct ParamView {
    char *name;            /* "linear.weight" (malloc'd) */
    TensorSnap value;      /* now: after the last step when there was one */
    TensorSnap grad;       /* .grad, or not present */
    TensorSnap before;     /* present right after a step that changed it */
    TensorSnap delta;      /* after - before, present with `before` */
} ParamView;

void param_view_free(ParamView *p);

/* ---- panes ---- */

/* A frame with a title at the top left and an optional note at the top
 * right; both are cut to fit. */
void pane_frame(Grid *g, Rect r, const char *title, const char *note, bool unicode);

/* Weights: each parameter's name, shape and values; after a step, the
 * values before and after it side by side (or one above the other). */
void pane_draw_weights(Grid *g, Rect r, const ParamView *params, int n, bool unicode);
/* Gradients: each parameter's .grad and, after a step, Δw beside it. */
void pane_draw_gradients(Grid *g, Rect r, const ParamView *params, int n, bool unicode);

/* Outputs: the latest softmax/sigmoid result as probability bars, and an
 * image when one is watched. Either may be NULL or absent. */
typedef struct OutputsView {
    const char *label;            /* "softmax", "sigmoid" */
    const TensorSnap *probs;
    const char *image_name;
    const TensorSnap *image;      /* (H, W), (1, H, W) or (N, 1, H, W): the first image */
} OutputsView;
void pane_draw_outputs(Grid *g, Rect r, const OutputsView *v, bool unicode);
/* True when a tensor of this shape is drawn as an image. */
bool outputs_is_image_shape(int ndim, const int64_t *shape);

/* Loss (or a plt.plot figure): a frame titled `title` around the chart. */
void pane_draw_chart(Grid *g, Rect r, const char *title, const Chart *chart, bool unicode);

/* Lesson: the cell's prose (Markdown-lite) and its code with line numbers. */
typedef struct LessonView {
    const char *note;         /* frame note: "cell 2/5" */
    const char *prose;        /* may be NULL */
    const char *code;         /* the cell's code, may be NULL */
    int first_line;           /* the number of the code's first line */
    int running_line;         /* highlighted (0: none) */
    int error_line;           /* marked as the error's line (0: none) */
    const char *footer;       /* a dim last row ("next: ..."), may be NULL */
} LessonView;
void pane_draw_lesson(Grid *g, Rect r, const LessonView *v, bool unicode);

/* The status bar: one row in reverse video. */
typedef struct StatusView {
    const char *title;        /* the lesson's title, or NULL */
    int cell, n_cells;        /* cell k of n (k = 0: none run yet); n = 0: no lesson */
    long steps;
    double lr;                /* NaN when unknown */
    const char *mode;         /* "idle", "running", "paused", "stepping" */
    const char *detail;       /* "epoch 3 of 100 · i 2", may be NULL */
    double elapsed;           /* seconds of the current run; < 0: not shown */
    const char *keys;         /* key hints, shown when there is room */
} StatusView;
void pane_draw_status(Grid *g, Rect r, const StatusView *v, bool unicode);

/* A message centred in a rectangle (the terminal is too small). */
void pane_draw_message(Grid *g, Rect r, const char *text);

/* Markdown-lite prose (for tests and the lesson pane): rows drawn in
 * `width` columns; returns the number of rows. g may be NULL to measure. */
int prose_draw(Grid *g, int x, int y, int width, int max_rows, const char *prose, bool unicode);

#endif
