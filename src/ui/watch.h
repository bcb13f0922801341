/*
 * watch.h - what the Weights, Gradients and Outputs panes show, read from
 * an interpreter.
 *
 * What is watched: the values given to watch(...) (and :watch EXPR), else
 * the parameters of the model or optimizer made last, else the global
 * tensors that require a gradient. Each parameter is copied into a
 * ParamView with its name (the model's dotted name, the :watch expression,
 * or the global variable that holds it), its value and its gradient.
 *
 * Steps: every EVENT_STEP is remembered per parameter (the values before
 * and the update Δw = w_after - w_before, in float32 as the tensors hold
 * them) until the same parameter is updated again, the memory is cleared,
 * or its value changes some other way.
 *
 * A watched tensor that is an image (8x8, 28x28, 1xHxW, Nx1xHxW, or a
 * vector of 64 or 784 values) goes to the Outputs pane instead.
 */
#ifndef NNREPL_UI_WATCH_H
#define NNREPL_UI_WATCH_H

#include "interp.h"
#include "panes.h"

typedef struct Watch Watch;

/* NULL only when memory runs out. */
Watch *watch_new(void);
void watch_free(Watch *w);

/* Remember a step's before/after values (EVENT_STEP). */
void watch_record_step(Watch *w, const Event *ev);
void watch_forget_steps(Watch *w);

/* The name a :watch expression gives a tensor (copied). */
void watch_name_tensor(Watch *w, const Tensor *t, const char *name);
/* Forget names and steps (a fresh interpreter). */
void watch_reset(Watch *w);

/* Add v to in->watched (a tensor, module or optimizer; false otherwise). */
bool watch_add_value(Interp *in, Value v);

/* The parameters to show: *out is a malloc'd array (free with
 * watch_views_free); returns the count. The image, when a watched tensor
 * is one, is copied into *image (not present otherwise) with its name. */
#define WATCH_MAX_PARAMS 64
int watch_collect(Watch *w, Interp *in, ParamView **out, TensorSnap *image, char **image_name);
/* The views may show the tensors' own memory: use them before the program
 * runs on, and free them with watch_views_free. */
void watch_views_free(ParamView *views, int n);

/* Copy a tensor's values (any layout) into s, reusing s's buffer when the
 * size is the same. The statistics are left for tensor_snap_restat(),
 * needed before the snapshot is drawn as values. */
bool tensor_snap_from(TensorSnap *s, const Tensor *t);

/* The name a global or a local of the innermost frame has for t, or NULL. */
const char *watch_variable_name(Interp *in, const Tensor *t);

#endif
