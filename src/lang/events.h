/*
 * events.h - how the evaluator talks to a front-end (batch, plain REPL, TUI,
 * exam grader).
 *
 * The evaluator never writes to the terminal. Whatever a program makes
 * visible — printed text, a loss value handed to backward(), an optimizer
 * step, a plot, an error — becomes an Event passed to the front-end's
 * on_event callback, synchronously, at the moment it happens. A front-end
 * may do anything inside the callback, including pausing: the TUI implements
 * stepping by running its own key loop inside EVENT_STEP and evaluating the
 * student's input in the paused scope (interp_eval_paused).
 */
#ifndef NNREPL_EVENTS_H
#define NNREPL_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "tensor.h"

typedef enum EventKind {
    EVENT_CELL_START,   /* a lesson cell begins: cell index, its line range */
    EVENT_PRINT,        /* text to show (print(), echoed values), no trailing newline added */
    EVENT_BACKWARD,     /* backward() on a one-element tensor: loss value */
    EVENT_STEP,         /* an update of parameters: optimizer.step(), `w.data = ...`,
                           `w -= ...` under no_grad; before/after snapshots */
    EVENT_PLOT,         /* plt.show(): the figure */
    EVENT_OUTPUT,       /* a softmax/sigmoid result worth showing (Outputs pane) */
    EVENT_WATCH,        /* watch(...) changed what the panes show */
    EVENT_PAUSE,        /* pause(note) reached */
    EVENT_ERROR,        /* an error ended the current run (the Diag) */
    EVENT_TICK,         /* periodic while running: keeps a UI alive, checks keys */
    EVENT_CHECK,        /* check()/check_close() result (exams) */
} EventKind;

/* One parameter's update, for the Weights and Gradients panes. */
typedef struct StepParam {
    const char *name;   /* "linear.weight", "model[0].bias", "w" */
    const Tensor *before, *grad, *after;   /* borrowed for the callback's duration */
} StepParam;

/* A matplotlib figure at plt.show(). */
typedef struct PlotSeries {
    const double *x, *y;        /* n points */
    int n;
    const char *fmt;            /* "r-o", "b-s", "" */
    const char *label;          /* legend label or NULL */
} PlotSeries;

typedef struct Figure {
    const PlotSeries *series;
    int n_series;
    const char *title, *xlabel, *ylabel;   /* NULL when not set */
    bool legend;
} Figure;

typedef struct Event {
    EventKind kind;
    int line;                   /* source line being run (0 if unknown) */
    const char *text;           /* PRINT: the text; PAUSE: the note; CHECK: the message */
    size_t text_len;
    double value;               /* BACKWARD: loss; STEP: learning rate (NaN if none) */
    long step_count;            /* STEP/BACKWARD: how many so far in this session */
    const StepParam *params;    /* STEP */
    int n_params;
    const Tensor *tensor;       /* OUTPUT: probabilities (borrowed) */
    const char *label;          /* OUTPUT: "softmax" / "sigmoid" */
    const Diag *diag;           /* ERROR */
    const Figure *figure;       /* PLOT */
    int cell;                   /* CELL_START: 0-based index */
    bool passed;                /* CHECK */
    const char *detail;         /* CHECK failed: "got 0.5, expected 1.02" (NULL otherwise) */
} Event;

typedef struct Frontend {
    void *ctx;
    void (*on_event)(void *ctx, const Event *event);
    /* ask(prompt): read one line of input into *out (malloc'd); false at end
     * of input. May be NULL (then ask() is an error). */
    bool (*read_line)(void *ctx, const char *prompt, char **out);
} Frontend;

#endif
