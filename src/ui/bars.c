#include "bars.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- bars ------------------------------------------------------------------- */

#define LABEL_MAX 32

static void bar_label(const char *const labels[], int i, char *buf, size_t size)
{
    if (labels && labels[i])
        snprintf(buf, size, "%s", labels[i]);
    else
        snprintf(buf, size, "%d", i);
}

static void bar_value_text(double v, char *buf, size_t size)
{
    if (isnan(v))
        snprintf(buf, size, "nan");
    else if (isinf(v))
        snprintf(buf, size, v > 0 ? "inf" : "-inf");
    else if (fabs(v) >= 1e5)
        snprintf(buf, size, "%.3e", v);
    else
        snprintf(buf, size, "%.4f", v);
}

static void draw_bar(Grid *g, int x, int y, int width, double v, GridAttr attr, bool unicode)
{
    if (!(v > 0))
        return;           /* also NaN */
    if (v > 1)
        v = 1;
    if (!unicode) {
        long n = lround(v * width);
        grid_fill(g, x, y, (int)n, 1, '#', attr);
        return;
    }
    long eighths = lround(v * width * 8);
    int full = (int)(eighths / 8), part = (int)(eighths % 8);
    grid_fill(g, x, y, full, 1, 0x2588, attr);
    if (part)
        grid_put(g, x + full, y, 0x2590u - (uint32_t)part, attr);   /* ▏ (1/8) .. ▉ (7/8) */
}

void bars_draw(Grid *g, int x, int y, int w, int h, const char *const labels[],
               const double values[], int n, bool unicode)
{
    if (!values || n <= 0 || !grid_clip_rect(g, &x, &y, &w, &h))
        return;
    int rows = n < h ? n : h;
    int label_w = 0, value_w = 0, best = -1;
    char text[LABEL_MAX * 4 + 1];
    for (int i = 0; i < n; i++) {
        if (!isnan(values[i]) && (best < 0 || values[i] > values[best]))
            best = i;
    }
    for (int i = 0; i < rows; i++) {
        bar_label(labels, i, text, sizeof text);
        int lw = grid_text_width(text);
        label_w = lw > label_w ? lw : label_w;
        bar_value_text(values[i], text, sizeof text);
        int vw = grid_text_width(text);
        value_w = vw > value_w ? vw : value_w;
    }
    if (label_w > w / 3)
        label_w = w / 3;
    /* [label][space][bar][space][value] */
    bool show_value = w - label_w - value_w - 2 >= 4;
    bool show_label = label_w > 0 && w - label_w - 1 - (show_value ? value_w + 1 : 0) >= 2;
    int bar_x = x + (show_label ? label_w + 1 : 0);
    int bar_w = x + w - bar_x - (show_value ? value_w + 1 : 0);

    for (int i = 0; i < rows; i++) {
        GridAttr attr = i == best ? GRID_ROLE_HIGHLIGHT : GRID_ROLE_SERIES_1;
        grid_fill(g, x, y + i, w, 1, ' ', 0);
        if (show_label) {
            bar_label(labels, i, text, sizeof text);
            int lw = grid_text_width(text);
            int start = lw < label_w ? x + label_w - lw : x;
            grid_text(g, start, y + i, text, GRID_ROLE_NORMAL, label_w);
        }
        draw_bar(g, bar_x, y + i, bar_w, values[i], attr, unicode);
        if (show_value) {
            bar_value_text(values[i], text, sizeof text);
            int vw = grid_text_width(text);
            grid_text(g, x + w - vw, y + i, text,
                      i == best ? GRID_ROLE_HIGHLIGHT : GRID_ROLE_NORMAL, vw);
        }
    }
}

/* ---- images ------------------------------------------------------------------- */

/* The resampled size in pixels (each cell is one pixel wide, two high). */
static void image_pixels(int rows, int cols, int w, int h, int *out_rows, int *out_cols)
{
    *out_rows = *out_cols = 0;
    if (rows <= 0 || cols <= 0 || w <= 0 || h <= 0)
        return;
    double avail_w = w, avail_h = 2.0 * h;
    double scale = fmin(avail_w / cols, avail_h / rows);
    /* Growing: by an even factor, so that every pixel covers whole cells
     * (and reads as one solid shade), or not at all. */
    if (scale >= 2)
        scale = floor(scale / 2) * 2;
    else if (scale >= 1)
        scale = 1;
    int r = (int)floor(rows * scale), c = (int)floor(cols * scale);
    *out_rows = r < 1 ? 1 : r > 2 * h ? 2 * h : r;
    *out_cols = c < 1 ? 1 : c > w ? w : c;
}

void image_fit_size(int rows, int cols, int w, int h, int *cells_w, int *cells_h)
{
    int r, c;
    image_pixels(rows, cols, w, h, &r, &c);
    if (cells_w)
        *cells_w = c;
    if (cells_h)
        *cells_h = (r + 1) / 2;
}

/* Overlap of [a0, a1) and [b0, b1). */
static double overlap(double a0, double a1, double b0, double b1)
{
    double lo = fmax(a0, b0), hi = fmin(a1, b1);
    return hi > lo ? hi - lo : 0;
}

/* Area-average src (rows, cols), already normalised to [0, 1], onto dst
 * (drows, dcols): each destination pixel is the mean of the source area it
 * covers, weighted by overlap. Growing by a whole factor repeats pixels. */
static void resample(const float *src, int rows, int cols, float *dst, int drows, int dcols)
{
    double fy = (double)rows / drows, fx = (double)cols / dcols;
    for (int dy = 0; dy < drows; dy++) {
        double y0 = dy * fy, y1 = (dy + 1) * fy;
        for (int dx = 0; dx < dcols; dx++) {
            double x0 = dx * fx, x1 = (dx + 1) * fx;
            double sum = 0, weight = 0;
            for (int sy = (int)floor(y0); sy < rows && sy < y1; sy++) {
                double wy = overlap(y0, y1, sy, sy + 1.0);
                for (int sx = (int)floor(x0); sx < cols && sx < x1; sx++) {
                    double wgt = wy * overlap(x0, x1, sx, sx + 1.0);
                    sum += wgt * src[(size_t)sy * (size_t)cols + (size_t)sx];
                    weight += wgt;
                }
            }
            dst[(size_t)dy * (size_t)dcols + (size_t)dx] = weight > 0 ? (float)(sum / weight) : 0;
        }
    }
}

static float *normalised(const float *pixels, int rows, int cols)
{
    size_t n = (size_t)rows * (size_t)cols;
    float *out = malloc(n * sizeof *out);
    if (!out)
        return NULL;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(pixels[i])) {
            lo = fminf(lo, pixels[i]);
            hi = fmaxf(hi, pixels[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        float v = pixels[i];
        /* halves: hi - lo may overflow a float */
        out[i] = isfinite(v) && hi > lo ? (v * 0.5f - lo * 0.5f) / (hi * 0.5f - lo * 0.5f) : 0;
    }
    return out;
}

static int ramp_index(float v, int levels)
{
    int i = (int)(v * levels);
    return i < 0 ? 0 : i >= levels ? levels - 1 : i;
}

static uint32_t unicode_cell(float top, float bottom)
{
    static const uint32_t shades[] = {' ', 0x2591, 0x2592, 0x2593, 0x2588};
    if (top - bottom >= 0.5f)
        return 0x2580;    /* ▀ */
    if (bottom - top >= 0.5f)
        return 0x2584;    /* ▄ */
    return shades[ramp_index((top + bottom) / 2 * 1.0f, 5)];
}

static uint32_t ascii_cell(float top, float bottom)
{
    static const char ramp[] = " .:-=+*#%@";
    return (uint32_t)ramp[ramp_index((top + bottom) / 2, 10)];
}

void image_draw(Grid *g, int x, int y, int w, int h, const float *pixels, int rows, int cols,
                bool unicode)
{
    if (!pixels || rows <= 0 || cols <= 0 || !grid_clip_rect(g, &x, &y, &w, &h))
        return;
    if ((size_t)rows > ((size_t)1 << 24) / (size_t)cols)
        return;           /* beyond any image a lesson shows */
    int drows, dcols;
    image_pixels(rows, cols, w, h, &drows, &dcols);
    float *norm = normalised(pixels, rows, cols);
    float *img = malloc((size_t)drows * (size_t)dcols * sizeof *img);
    if (norm && img) {
        resample(norm, rows, cols, img, drows, dcols);
        for (int cy = 0; cy * 2 < drows; cy++) {
            for (int cx = 0; cx < dcols; cx++) {
                float top = img[(size_t)(2 * cy) * (size_t)dcols + (size_t)cx];
                float bottom = 2 * cy + 1 < drows
                                   ? img[(size_t)(2 * cy + 1) * (size_t)dcols + (size_t)cx]
                                   : 0;
                uint32_t cp = unicode ? unicode_cell(top, bottom) : ascii_cell(top, bottom);
                grid_put(g, x + cx, y + cy, cp, GRID_ROLE_NORMAL);
            }
        }
    }
    free(norm);
    free(img);
}
