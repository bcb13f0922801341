/*
 * bars.h - probability bars and grayscale images drawn into a Grid.
 *
 * For the Outputs pane: a softmax/sigmoid output as labelled bars, and
 * input images (8x8 digits, 28x28 Fashion-MNIST) in block characters.
 */
#ifndef NNREPL_UI_BARS_H
#define NNREPL_UI_BARS_H

#include <stdbool.h>

#include "grid.h"

/* One row per value, from row y down, at most h rows:
 *     "3 ████████▌      0.6123"
 * labels right-aligned (labels may be NULL: rows numbered 0, 1, ...), a bar
 * whose full width is 1.0 (values are clamped to [0, 1] for the bar; NaN
 * draws none), and the value with four decimals. Unicode bars are drawn in
 * eighth blocks ▏▎▍▌▋▊▉█, ASCII bars in '#'. The largest value's bar and
 * number are in the highlight role, the others in SERIES_1. Parts are left
 * out when w is too small: first the numbers, then the labels. */
/* Both draw in the part of the rectangle inside the grid. */
void bars_draw(Grid *g, int x, int y, int w, int h, const char *const labels[],
               const double values[], int n, bool unicode);

/* The cells an image of rows x cols pixels takes in a w x h rectangle: each
 * cell shows one pixel column and two pixel rows (square pixels). An image
 * at least twice smaller than the rectangle grows by an even factor (each
 * pixel then fills whole cells); one larger than the rectangle shrinks by
 * area averaging; the aspect ratio is kept. */
void image_fit_size(int rows, int cols, int w, int h, int *cells_w, int *cells_h);

/* A grayscale image (pixels row-major, (rows, cols)), normalised to its own
 * min..max (a constant image is drawn blank; NaN/inf pixels count as the
 * minimum), drawn from the top-left corner of the rectangle.
 *
 * Unicode: each cell covers a pair of pixels, one above the other. When the
 * two differ by half the range or more the cell gets the half block of the
 * brighter one (▀ or ▄), so edges stay sharp; otherwise the shade ramp
 * ' ░▒▓█' of their mean, so gray areas keep their tone.
 * ASCII: the ramp " .:-=+*#%@" of the pair's mean. */
void image_draw(Grid *g, int x, int y, int w, int h, const float *pixels, int rows, int cols,
                bool unicode);

#endif
