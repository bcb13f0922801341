/*
 * chart.h - line charts drawn into a Grid.
 *
 * One chart type serves the TUI's Loss pane and matplotlib's plt.plot /
 * plt.show in batch mode. A Chart holds copies of its series and the texts
 * around them; chart_draw() lays it out in any rectangle of a Grid, from a
 * 10x4 corner up to a full screen, and chart_render_text() gives the text
 * batch mode prints.
 *
 * Layout, top to bottom: a header row (y-axis label at the left, the title
 * centred, the note -- "loss 0.0234  step 1500" -- at the right), the plot
 * with y tick labels and the y axis at its left, the x axis with ticks, the
 * x tick labels, the x-axis label. When the rectangle is small, parts go
 * in this order: the x-axis label moves onto the tick-label row (between
 * the end labels), then the x tick labels, the header, the axes; y tick
 * labels go when they would leave the plot less than a third of the width.
 * The legend (plt.legend) sits in the plot corner that hides the least,
 * framed when there is room, and is left out when it would cover too much.
 *
 * Tick labels: the data's exact minimum and maximum at the ends of each
 * axis (the top and bottom rows, the first and last columns), and between
 * them round values (1, 2 or 5 times a power of ten) where there is room,
 * each in the row or column it falls in. A flat series has one y label, its
 * value; a single x value one x label. Numbers are formatted by
 * chart_format_number().
 *
 * Two renderers:
 *  - ASCII: a line is drawn with characters that follow its slope, chosen
 *    per column it passes: a gentle stretch uses ' - . for the top, middle
 *    and bottom third of a row, a steeper one / or \, a near-vertical or
 *    noisy one (up and down within the column) |. The axes are | - +.
 *  - Unicode: a line is drawn in braille dots (2x4 per cell) and the axes in
 *    box-drawing characters.
 * Markers (from the matplotlib format string) are drawn over all lines, in
 * series order; the legend over everything.
 *
 * Data: values that are NaN or infinite are skipped and break the line, as
 * in matplotlib. Points are joined in the order given (x need not be
 * sorted). A flat series is drawn across the middle with its value as the
 * only y label; a single x value is drawn in the middle column. Ranges up to
 * the whole double range work without overflow.
 */
#ifndef NNREPL_UI_CHART_H
#define NNREPL_UI_CHART_H

#include <stdbool.h>
#include <stddef.h>

#include "grid.h"
#include "strbuf.h"

/* How one series is drawn; chart_style_parse() fills it from a matplotlib
 * format string such as "r-o", "b-s", "ro", "r.", "--". */
typedef enum ChartLine {
    CHART_LINE_NONE = 0,
    CHART_LINE_SOLID,     /* '-'  */
    CHART_LINE_DASHED,    /* '--' */
    CHART_LINE_DASHDOT,   /* '-.' */
    CHART_LINE_DOTTED,    /* ':'  */
} ChartLine;

typedef struct ChartStyle {
    bool has_role;     /* false: the next colour of the cycle (blue, red, ...) */
    GridRole role;
    ChartLine line;
    char marker;       /* a matplotlib marker letter ('o', 's', 'x', '.', ...) or 0 */
} ChartStyle;

/* The default style: a solid line, no marker, the next colour. */
ChartStyle chart_style_default(void);

/* Parse a matplotlib format string: [marker][line][colour] in any order,
 * colours b g r c m y k w and C0-C9, or a whole colour name ("red"). A
 * marker without a line style means no line. On error returns false and
 * writes a message like matplotlib's into err (when err is not NULL). */
bool chart_style_parse(const char *fmt, ChartStyle *out, char *err, size_t err_size);

/* The role for a matplotlib colour ("r", "red", "C1", "tab:blue"...) as given
 * to color=. False when it is not a colour nnrepl knows. */
bool chart_colour_role(const char *name, GridRole *out);

/* The character drawn for a marker letter (0 for an unknown letter). */
uint32_t chart_marker_glyph(char marker, bool unicode);

typedef struct Chart Chart;

/* NULL only when memory runs out. */
Chart *chart_new(void);
void chart_free(Chart *c);
/* Remove every series, label, title and note (what plt.show() leaves). */
void chart_clear(Chart *c);

/* Add a series of n points; xs may be NULL for x = 0, 1, ..., n-1. style
 * may be NULL for the default; label may be NULL. The data is copied.
 * Returns the series' index, or -1 when memory runs out. */
int chart_add_series(Chart *c, const double *xs, const double *ys, size_t n,
                     const ChartStyle *style, const char *label);
/* Append one point to a series (the loss history grows this way). */
bool chart_append(Chart *c, int series, double x, double y);
/* Drop a series' points, keeping its style and label. */
void chart_series_reset(Chart *c, int series);
size_t chart_series_count(const Chart *c);
size_t chart_series_length(const Chart *c, int series);

void chart_set_title(Chart *c, const char *title);     /* NULL removes it */
void chart_set_xlabel(Chart *c, const char *label);
void chart_set_ylabel(Chart *c, const char *label);
/* Show the labels of the series that have one (plt.legend()). */
void chart_set_legend(Chart *c, bool show);
/* A short text at the top right, in the highlight role. */
void chart_set_note(Chart *c, const char *note);
/* The Loss pane's note: "loss 0.0234  step 1500" from ("loss", 0.0234, 1500). */
void chart_set_current(Chart *c, const char *name, double value, long step);

/* Draw into the rectangle (x, y, w, h) of g (the part of it inside the
 * grid); cells of the rectangle not drawn on are cleared. */
void chart_draw(const Chart *c, Grid *g, int x, int y, int w, int h, bool unicode);

/* Draw into a fresh width x height grid and append its text (what batch
 * mode's plt.show() prints; 72x20 ASCII by default). */
#define CHART_TEXT_WIDTH 72
#define CHART_TEXT_HEIGHT 20
void chart_render_text(const Chart *c, int width, int height, bool unicode, StrBuf *out);

/* A number in at most ~9 characters, 4 significant digits: "18.67", "0",
 * "1500", "-0.5", "0.001234", "1.234e-04", "2.5e+07", "nan", "inf". */
void chart_format_number(double v, char *buf, size_t size);

#endif
