#include "panes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bars.h"
#include "console.h"
#include "strbuf.h"

/* ---- small drawing helpers ---- */

static const char *ellipsis(bool unicode)
{
    return unicode ? "\xe2\x80\xa6" : "...";   /* … */
}

/* Text in at most w columns; nothing when w <= 0 (grid_text would take a
 * negative width as "to the right edge"). */
static int put_text(Grid *g, int x, int y, const char *s, GridAttr attr, int w)
{
    return w > 0 ? grid_text(g, x, y, s, attr, w) : 0;
}

/* Text clipped to `w` columns; when it does not fit, it ends in an ellipsis. */
static int text_fit(Grid *g, int x, int y, int w, const char *s, GridAttr attr, bool unicode)
{
    if (w <= 0)
        return 0;
    int tw = grid_text_width(s);
    if (tw <= w)
        return put_text(g, x, y, s, attr, w);
    const char *ell = ellipsis(unicode);
    int ew = grid_text_width(ell);
    if (w <= ew)
        return put_text(g, x, y, s, attr, w);
    put_text(g, x, y, s, attr, w - ew);
    /* a wide character that did not fit leaves a gap: put the ellipsis after
     * what was drawn */
    int drawn = 0;
    const char *p = s;
    while (*p) {
        const char *q = p;
        uint32_t cp = grid_utf8_next(&q);
        int cw = grid_char_width(cp);
        if (cw < 0)
            cw = 1;
        if (drawn + cw > w - ew)
            break;
        drawn += cw;
        p = q;
    }
    put_text(g, x + drawn, y, ell, attr, ew);
    return drawn + ew;
}

void pane_frame(Grid *g, Rect r, const char *title, const char *note, bool unicode)
{
    if (r.w <= 0 || r.h <= 0)
        return;
    grid_fill(g, r.x, r.y, r.w, r.h, ' ', 0);
    grid_box(g, r.x, r.y, r.w, r.h, GRID_ROLE_AXIS, unicode);
    /* "┌ Title ───── note ┐" */
    int room = r.w - 4;
    if (room <= 0 || !title)
        return;
    int x = r.x + 1;
    grid_put(g, x, r.y, ' ', 0);
    int tw = text_fit(g, x + 1, r.y, room - 1, title, GRID_ROLE_TITLE | GRID_BOLD, unicode);
    grid_put(g, x + 1 + tw, r.y, ' ', 0);
    int used = tw + 3;
    if (!note || !*note)
        return;
    int nroom = r.w - 2 - used - 3;
    if (nroom < 4)
        return;
    int nw = grid_text_width(note);
    if (nw > nroom)
        nw = nroom;
    int nx = r.x + r.w - 2 - nw - 1;
    grid_put(g, nx - 1, r.y, ' ', 0);
    text_fit(g, nx, r.y, nw, note, GRID_ROLE_HIGHLIGHT, unicode);
    grid_put(g, nx + nw, r.y, ' ', 0);
}

void pane_draw_message(Grid *g, Rect r, const char *text)
{
    if (r.w <= 0 || r.h <= 0)
        return;
    grid_fill(g, r.x, r.y, r.w, r.h, ' ', 0);
    int tw = grid_text_width(text);
    int x = r.x + (tw < r.w ? (r.w - tw) / 2 : 0);
    put_text(g, x, r.y + r.h / 2, text, GRID_ROLE_TITLE | GRID_BOLD, r.w);
}

/* ---- tensor snapshots and numbers ---- */

static float bits_float(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* A float's bits read in place (GCC and Clang allow this alias). */
typedef uint32_t __attribute__((may_alias)) FloatBits;

/* Everything the panes need to know about all the values, once per
 * snapshot (a large model's weights are scanned at every frame). The bit
 * patterns do the comparisons so the loop vectorises: a float's magnitude
 * orders like its bits without the sign, and flipping the bits of negative
 * numbers (the sign bit of the others) orders all floats as unsigned
 * integers. NaNs take no part in min, max and max_abs. */
void tensor_snap_restat(TensorSnap *s)
{
    const FloatBits *bits = (const FloatBits *)s->data;
    const int64_t n = s->numel;
    uint32_t signs = 0, nonfinite = 0, max_abs = 0, lo = UINT32_MAX, hi = 0;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t b = bits[i];
        uint32_t a = b & 0x7fffffffu;
        signs |= b;
        nonfinite |= a >= 0x7f800000u ? 1u : 0u;
        uint32_t finite_a = a < 0x7f800000u ? a : 0;
        max_abs = finite_a > max_abs ? finite_a : max_abs;
        uint32_t key = b ^ ((0u - (b >> 31)) | 0x80000000u);
        uint32_t key_lo = a > 0x7f800000u ? UINT32_MAX : key;
        uint32_t key_hi = a > 0x7f800000u ? 0 : key;
        lo = key_lo < lo ? key_lo : lo;
        hi = key_hi > hi ? key_hi : hi;
    }
    const float *data = s->data;
    /* four sums side by side: no wait for each addition */
    double part[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++)
            part[k] += data[i + k];
    for (; i < n; i++)
        part[0] += data[i];
    sum = (part[0] + part[1]) + (part[2] + part[3]);
    bool any = hi != 0 || lo != UINT32_MAX;
    s->min = any ? bits_float((lo & 0x80000000u) ? (lo & 0x7fffffffu) : ~lo) : NAN;
    s->max = any ? bits_float((hi & 0x80000000u) ? (hi & 0x7fffffffu) : ~hi) : NAN;
    s->mean = s->numel ? sum / (double)s->numel : 0;
    s->max_abs = bits_float(max_abs);
    s->negative = (signs & 0x80000000u) != 0;
    s->nonfinite = nonfinite != 0;
}

bool tensor_snap_set(TensorSnap *s, int ndim, const int64_t *shape, const float *data, bool integral)
{
    tensor_snap_free(s);
    if (ndim < 0 || ndim > SNAP_MAX_DIMS)
        return false;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && n > INT64_MAX / 4 / shape[i]))
            return false;
        n *= shape[i];
    }
    if (n > 0) {
        s->data = malloc((size_t)n * sizeof *s->data);
        if (!s->data)
            return false;
        memcpy(s->data, data, (size_t)n * sizeof *s->data);
    }
    s->present = true;
    s->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        s->shape[i] = shape[i];
    s->numel = n;
    s->integral = integral;
    tensor_snap_restat(s);
    return true;
}

TensorSnap tensor_snap_borrow(const TensorSnap *s)
{
    TensorSnap b = *s;
    b.borrowed = true;
    return b;
}

void tensor_snap_free(TensorSnap *s)
{
    if (!s)
        return;
    if (!s->borrowed)
        free(s->data);
    memset(s, 0, sizeof *s);
}

void tensor_snap_shape_str(const TensorSnap *s, char *buf, size_t size)
{
    if (size == 0)
        return;
    size_t len = 0;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, size - len, "(");
    for (int i = 0; i < s->ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? ", " : "", (long long)s->shape[i]);
    if (len < size)
        snprintf(buf + len, size - len, s->ndim == 1 ? ",)" : ")");
}

void param_view_free(ParamView *p)
{
    if (!p)
        return;
    free(p->name);
    tensor_snap_free(&p->value);
    tensor_snap_free(&p->grad);
    tensor_snap_free(&p->before);
    tensor_snap_free(&p->delta);
    memset(p, 0, sizeof *p);
}

static double max_abs_of(const float *v, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double a = fabs((double)v[i]);
        if (isfinite(a) && a > m)
            m = a;
    }
    return m;
}

static NumFormat format_from(double max_abs, bool negative, bool nonfinite, bool integral)
{
    NumFormat f = {false, integral, integral ? 0 : 4, 1};
    if (!integral && max_abs != 0 && (max_abs >= 1e5 || max_abs < 1e-4)) {
        f.sci = true;
        f.decimals = 2;
    } else if (!integral && max_abs != 0 && max_abs < 1e-2) {
        /* small values keep three significant digits: 0.000872 */
        f.decimals = 2 - (int)floor(log10(max_abs));
    }
    char buf[64];
    if (f.sci)
        snprintf(buf, sizeof buf, "%.*e", f.decimals, max_abs);
    else
        snprintf(buf, sizeof buf, "%.*f", f.decimals, max_abs);
    f.width = (int)strlen(buf) + (negative ? 1 : 0);
    if (nonfinite && f.width < 4)
        f.width = 4;
    return f;
}

NumFormat num_format_for(const float *values, int64_t n, bool integral)
{
    bool negative = false, nonfinite = false;
    for (int64_t i = 0; i < n; i++) {
        if (signbit(values[i]))
            negative = true;
        if (!isfinite(values[i]))
            nonfinite = true;
    }
    return format_from(max_abs_of(values, n), negative, nonfinite, integral);
}

static NumFormat snap_format(const TensorSnap *s)
{
    return format_from(s->max_abs, s->negative, s->nonfinite, s->integral);
}

void num_format(const NumFormat *fmt, double v, char *buf, size_t size)
{
    char tmp[64];
    if (isnan(v))
        snprintf(tmp, sizeof tmp, "nan");
    else if (isinf(v))
        snprintf(tmp, sizeof tmp, v < 0 ? "-inf" : "inf");
    else if (fmt->sci)
        snprintf(tmp, sizeof tmp, "%.*e", fmt->decimals, v);
    else
        snprintf(tmp, sizeof tmp, "%.*f", fmt->decimals, v);
    snprintf(buf, size, "%*s", fmt->width, tmp);
}

GridAttr value_attr(double v, double max_abs)
{
    GridAttr attr = v > 0 ? GRID_ROLE_POSITIVE : v < 0 ? GRID_ROLE_NEGATIVE : GRID_ROLE_NORMAL;
    if (!isfinite(v) || max_abs <= 0)
        return attr;
    double rel = fabs(v) / max_abs;
    if (rel >= 0.5)
        attr |= GRID_BOLD;
    else if (rel < 0.1)
        attr |= GRID_DIM;
    return attr;
}

/* ---- value blocks ---- */

typedef struct BlockCtx {
    Grid *g;              /* NULL: measure only */
    int x, y, w, h;
    bool unicode;
    const TensorSnap *s;
    NumFormat fmt;
    double max_abs;
} BlockCtx;

static void put_value(BlockCtx *b, int x, int y, double v)
{
    char buf[64];
    num_format(&b->fmt, v, buf, sizeof buf);
    put_text(b->g, x, y, buf, value_attr(v, b->max_abs), b->x + b->w - x);
}

/* "min -0.5234  max 0.6123  mean 0.01234" */
static void draw_stats(BlockCtx *b, int y)
{
    char buf[128];
    snprintf(buf, sizeof buf, "min %.4g  max %.4g  mean %.4g", b->s->min, b->s->max, b->s->mean);
    text_fit(b->g, b->x, y, b->w, buf, GRID_ROLE_AXIS, b->unicode);
}

/* How many of `n` values of width cw fit in w columns, keeping room for an
 * ellipsis when not all of them fit. At least 1. */
static int64_t values_that_fit(int64_t n, int cw, int w, bool unicode)
{
    int ew = grid_text_width(ellipsis(unicode));
    int64_t k = (w + 1) / (cw + 1);
    if (k >= n)
        return n;
    while (k > 1 && k * (cw + 1) + ew > w)
        k--;
    return k < 1 ? 1 : k;
}

/* Values v[0..count) on one row, then an ellipsis when `more`. */
static void draw_value_row(BlockCtx *b, int y, const float *v, int64_t count, bool more)
{
    int x = b->x;
    for (int64_t i = 0; i < count; i++) {
        put_value(b, x, y, v[i]);
        x += b->fmt.width + 1;
    }
    if (more)
        put_text(b->g, x, y, ellipsis(b->unicode), GRID_ROLE_AXIS, b->x + b->w - x);
}

/* A vector (or a single row) wrapped over the rows available. */
static int draw_vector(BlockCtx *b, int y0, int rows)
{
    int64_t n = b->s->numel;
    int64_t per_row = (b->w + 1) / (b->fmt.width + 1);
    if (per_row < 1)
        per_row = 1;
    int64_t need = (n + per_row - 1) / per_row;
    bool truncated = need > rows;
    int used = 0;
    if (truncated && rows >= 3 && n > per_row) {
        draw_stats(b, y0);
        used = 1;
        rows--;
        need = (n + per_row - 1) / per_row;
        truncated = need > rows;
    }
    int64_t shown_rows = truncated ? rows : need;
    for (int64_t r = 0; r < shown_rows; r++) {
        int64_t start = r * per_row;
        int64_t count = n - start < per_row ? n - start : per_row;
        bool last = r == shown_rows - 1;
        if (last && truncated)
            count = values_that_fit(n - start, b->fmt.width, b->w, b->unicode);
        draw_value_row(b, y0 + used + (int)r, b->s->data + start, count, last && truncated);
    }
    return used + (int)shown_rows;
}

static void more_rows_note(BlockCtx *b, int y, int64_t more)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s %lld more row%s", b->unicode ? "\xe2\x8b\xae" : ":",  /* ⋮ */
             (long long)more, more == 1 ? "" : "s");
    text_fit(b->g, b->x, y, b->w, buf, GRID_ROLE_AXIS, b->unicode);
}

static int draw_matrix(BlockCtx *b, int y0, int rows)
{
    int64_t r = b->s->shape[0], c = b->s->shape[1];
    int64_t cols = values_that_fit(c, b->fmt.width, b->w, b->unicode);
    bool truncated = cols < c || r > rows;
    int used = 0;
    if (truncated && rows >= 3) {
        draw_stats(b, y0);
        used = 1;
        rows--;
    }
    int64_t shown = r <= rows ? r : rows >= 2 ? rows - 1 : rows;
    if (shown < 0)
        shown = 0;
    for (int64_t i = 0; i < shown; i++)
        draw_value_row(b, y0 + used + (int)i, b->s->data + i * c, cols, cols < c);
    used += (int)shown;
    if (shown < r && rows > shown) {
        more_rows_note(b, y0 + used, r - shown);
        used++;
    }
    return used;
}

/* 3-D (C, H, W) and 4-D (O, I, H, W) tensors: each H x W map as a small
 * grid with its index above it, side by side. */
static int draw_kernels(BlockCtx *b, int y0, int rows)
{
    const TensorSnap *s = b->s;
    int64_t kh = s->shape[s->ndim - 2], kw = s->shape[s->ndim - 1];
    int64_t maps = s->numel / (kh * kw > 0 ? kh * kw : 1);
    int64_t inner = s->ndim == 4 ? s->shape[1] : 1;
    /* fewer decimals while a map is wider than the pane */
    while (!b->fmt.sci && !b->fmt.integral && b->fmt.decimals > 2 &&
           kw * (b->fmt.width + 1) - 1 > b->w) {
        b->fmt.decimals--;
        b->fmt.width--;
    }
    int map_w = (int)(kw * (b->fmt.width + 1) - 1);
    int used = 0;
    if (rows >= 3) {
        draw_stats(b, y0);
        used = 1;
    }
    int per_band = (b->w + 2) / (map_w + 2);
    if (per_band < 1)
        per_band = 1;
    int64_t shown = 0;
    int label_y = -1, label_end = 0; /* the last band's label row, and where its labels end */
    while (shown < maps && used < rows) {
        int band_rows = (int)kh + 1;
        if (used + band_rows > rows && shown > 0)
            break;
        for (int k = 0; k < per_band && shown < maps; k++, shown++) {
            int x = b->x + k * (map_w + 2);
            char label[48];
            if (s->ndim == 4)
                snprintf(label, sizeof label, "[%lld,%lld]", (long long)(shown / inner),
                         (long long)(shown % inner));
            else
                snprintf(label, sizeof label, "[%lld]", (long long)shown);
            put_text(b->g, x, y0 + used, label, GRID_ROLE_AXIS, b->x + b->w - x);
            label_y = y0 + used;
            label_end = x + grid_text_width(label);
            BlockCtx sub = *b;
            sub.x = x;
            sub.w = b->x + b->w - x < map_w ? b->x + b->w - x : map_w;
            for (int64_t i = 0; i < kh && used + 1 + i < rows; i++)
                draw_value_row(&sub, y0 + used + 1 + (int)i, s->data + shown * kh * kw + i * kw, kw, false);
        }
        used += band_rows < rows - used ? band_rows : rows - used;
    }
    if (shown < maps) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s %lld more", ellipsis(b->unicode), (long long)(maps - shown));
        /* no row left: beside the last labels rather than over a map's numbers */
        int beside = label_end + 2;
        if (used >= rows && label_y >= 0 && beside + grid_text_width(buf) <= b->x + b->w) {
            put_text(b->g, beside, label_y, buf, GRID_ROLE_AXIS, b->x + b->w - beside);
            return used;
        }
        int y = used < rows ? y0 + used : y0 + rows - 1;
        if (used >= rows)
            grid_fill(b->g, b->x, y, b->w, 1, ' ', 0);
        text_fit(b->g, b->x, y, b->w, buf, GRID_ROLE_AXIS, b->unicode);
        if (used < rows)
            used++;
    }
    return used;
}

/* Draw a block: an optional label row, then the values. Returns the rows
 * used (at most h). g may be NULL to measure. */
static int block_draw(Grid *g, int x, int y, int w, int h, const char *label, const TensorSnap *s,
                      bool unicode)
{
    if (h <= 0 || w <= 0)
        return 0;
    int used = 0;
    if (label) {
        text_fit(g, x, y, w, label, GRID_ROLE_AXIS | GRID_BOLD, unicode);
        used++;
        if (used >= h)
            return used;
    }
    if (!s || !s->present) {
        put_text(g, x, y + used, "None", GRID_ROLE_AXIS, w);
        return used + 1;
    }
    if (s->numel == 0) {
        put_text(g, x, y + used, "(empty)", GRID_ROLE_AXIS, w);
        return used + 1;
    }
    BlockCtx b = {g, x, y, w, h, unicode, s, snap_format(s), s->max_abs};
    int rows = h - used;
    if (s->numel == 1) {
        put_value(&b, x, y + used, s->data[0]);
        return used + 1;
    }
    bool row_like = s->ndim <= 1 || (s->ndim == 2 && s->shape[0] == 1);
    if (row_like)
        return used + draw_vector(&b, y + used, rows);
    if (s->ndim == 2)
        return used + draw_matrix(&b, y + used, rows);
    return used + draw_kernels(&b, y + used, rows);
}

/* Columns a block takes when nothing is cut. */
static int block_natural_width(const char *label, const TensorSnap *s)
{
    int w = label ? grid_text_width(label) : 0;
    int vw = 4;
    if (s && s->present && s->numel > 0) {
        NumFormat f = snap_format(s);
        int64_t count = s->numel == 1 ? 1 : s->ndim <= 1 ? s->numel : s->shape[s->ndim - 1];
        if (s->ndim == 2 && s->shape[0] == 1)
            count = s->shape[1];
        int64_t cols = count * (f.width + 1) - 1;
        vw = cols > 10000 ? 10000 : (int)cols;
    }
    return w > vw ? w : vw;
}

/* ---- Weights and Gradients ---- */

typedef struct Entry {
    const char *name;
    const char *suffix;           /* ".grad" or "" */
    const TensorSnap *shape_of;
    const char *labels[2];
    const TensorSnap *blocks[2];
    int n_blocks;
    int primary;                  /* the block kept when only one fits */
} Entry;

static void entry_header(Grid *g, int x, int y, int w, const Entry *e, bool unicode)
{
    StrBuf sb = STRBUF_INIT;
    sb_append(&sb, e->name);
    sb_append(&sb, e->suffix);
    int nw = text_fit(g, x, y, w, sb_str(&sb), GRID_ROLE_TITLE | GRID_BOLD, unicode);
    char shape[96];
    tensor_snap_shape_str(e->shape_of, shape, sizeof shape);
    if (e->shape_of->present && nw + 2 + (int)strlen(shape) <= w)
        put_text(g, x + nw + 2, y, shape, GRID_ROLE_AXIS, w - nw - 2);
    sb_free(&sb);
}

#define BLOCK_GAP 3

/* Rows used (at most h, at least 1 when h > 0). */
static int entry_draw(Grid *g, int x, int y, int w, int h, const Entry *e, bool unicode)
{
    if (h <= 0)
        return 0;
    entry_header(g, x, y, w, e, unicode);
    int rows = h - 1;
    if (rows <= 0)
        return 1;
    if (e->n_blocks == 1)
        return 1 + block_draw(g, x, y + 1, w, rows, e->labels[0], e->blocks[0], unicode);
    if (rows == 1) {
        /* one row: "before 0.3000   after 0.3009", each label before its
         * block's first values */
        int half = (w - BLOCK_GAP) / 2;
        for (int b = 0; b < 2; b++) {
            int bx = b == 0 ? x : x + half + BLOCK_GAP;
            int bw = b == 0 ? half : w - half - BLOCK_GAP;
            int lw = text_fit(g, bx, y + 1, bw, e->labels[b], GRID_ROLE_AXIS | GRID_BOLD, unicode);
            block_draw(g, bx + lw + 1, y + 1, bw - lw - 1, 1, NULL, e->blocks[b], unicode);
        }
        return 2;
    }
    int w0 = block_natural_width(e->labels[0], e->blocks[0]);
    int w1 = block_natural_width(e->labels[1], e->blocks[1]);
    if (w0 + BLOCK_GAP + w1 <= w) {
        int r0 = block_draw(g, x, y + 1, w0, rows, e->labels[0], e->blocks[0], unicode);
        int r1 = block_draw(g, x + w0 + BLOCK_GAP, y + 1, w - w0 - BLOCK_GAP, rows, e->labels[1],
                            e->blocks[1], unicode);
        return 1 + (r0 > r1 ? r0 : r1);
    }
    int need0 = block_draw(NULL, x, y + 1, w, 1 << 20, e->labels[0], e->blocks[0], unicode);
    int need1 = block_draw(NULL, x, y + 1, w, 1 << 20, e->labels[1], e->blocks[1], unicode);
    if (need0 + need1 <= rows || (need0 + 2 <= rows && rows >= 6)) {
        int r0 = block_draw(g, x, y + 1, w, need0 < rows - 2 ? need0 : rows - 2, e->labels[0],
                            e->blocks[0], unicode);
        int r1 = block_draw(g, x, y + 1 + r0, w, rows - r0, e->labels[1], e->blocks[1], unicode);
        return 1 + r0 + r1;
    }
    /* side by side, each in half the width, when that shows them whole;
     * else only the block that matters most here */
    int half = (w - BLOCK_GAP) / 2;
    if (w0 <= half && w1 <= w - half - BLOCK_GAP) {
        int r0 = block_draw(g, x, y + 1, half, rows, e->labels[0], e->blocks[0], unicode);
        int r1 = block_draw(g, x + half + BLOCK_GAP, y + 1, w - half - BLOCK_GAP, rows, e->labels[1],
                            e->blocks[1], unicode);
        return 1 + (r0 > r1 ? r0 : r1);
    }
    int p = e->primary;
    return 1 + block_draw(g, x, y + 1, w, rows, e->labels[p], e->blocks[p], unicode);
}

/* Entries one below the other; each leaves two rows for every entry after
 * it; what does not fit is counted in a last "+ N more" row. */
static void entries_draw(Grid *g, Rect in, const Entry *entries, int n, const char *empty, bool unicode)
{
    if (in.w <= 0 || in.h <= 0)
        return;
    if (n == 0) {
        text_fit(g, in.x, in.y, in.w, empty, GRID_ROLE_AXIS, unicode);
        return;
    }
    int y = in.y, avail = in.h;
    for (int i = 0; i < n; i++) {
        int after = n - i - 1;
        int budget = avail - 2 * after;
        if (budget < 2 && after > 0)
            budget = avail - 1;       /* the last row says how many are left out */
        if (budget < 1 || (budget < 2 && after > 0)) {
            char buf[48];
            snprintf(buf, sizeof buf, "+ %d more", n - i);
            if (avail <= 0) {
                y--;
                grid_fill(g, in.x, y, in.w, 1, ' ', 0);
            }
            text_fit(g, in.x, y, in.w, buf, GRID_ROLE_AXIS, unicode);
            return;
        }
        int used = entry_draw(g, in.x, y, in.w, budget, &entries[i], unicode);
        y += used;
        avail -= used;
        /* a blank row between entries when there is room to spare */
        if (after > 0 && avail - 1 >= 2 * after + 1) {
            y++;
            avail--;
        }
    }
}

static bool any_stepped(const ParamView *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i].before.present)
            return true;
    return false;
}

void pane_draw_weights(Grid *g, Rect r, const ParamView *params, int n, bool unicode)
{
    pane_frame(g, r, "Weights", any_stepped(params, n) ? "after a step" : NULL, unicode);
    Entry *e = calloc((size_t)(n > 0 ? n : 1), sizeof *e);
    if (!e)
        return;
    for (int i = 0; i < n; i++) {
        e[i].name = params[i].name ? params[i].name : "?";
        e[i].suffix = "";
        e[i].shape_of = &params[i].value;
        if (params[i].before.present) {
            e[i].labels[0] = "before";
            e[i].blocks[0] = &params[i].before;
            e[i].labels[1] = "after";
            e[i].blocks[1] = &params[i].value;
            e[i].n_blocks = 2;
            e[i].primary = 1;
        } else {
            e[i].blocks[0] = &params[i].value;
            e[i].n_blocks = 1;
        }
    }
    entries_draw(g, rect_inner(r), e, n, "nothing watched yet: watch(model)", unicode);
    free(e);
}

void pane_draw_gradients(Grid *g, Rect r, const ParamView *params, int n, bool unicode)
{
    const char *delta = unicode ? "\xce\x94w" : "dw";   /* Δw */
    char note[64];
    snprintf(note, sizeof note, "%s = after %s before", delta, unicode ? "\xe2\x88\x92" : "-");  /* − */
    bool stepped = false;
    for (int i = 0; i < n; i++)
        stepped |= params[i].delta.present;
    pane_frame(g, r, "Gradients", stepped ? note : NULL, unicode);
    Entry *e = calloc((size_t)(n > 0 ? n : 1), sizeof *e);
    if (!e)
        return;
    for (int i = 0; i < n; i++) {
        e[i].name = params[i].name ? params[i].name : "?";
        e[i].suffix = ".grad";
        e[i].shape_of = &params[i].grad;
        e[i].blocks[0] = &params[i].grad;
        e[i].n_blocks = 1;
        if (params[i].delta.present) {
            e[i].labels[0] = "grad";
            e[i].labels[1] = delta;
            e[i].blocks[1] = &params[i].delta;
            e[i].n_blocks = 2;
        }
    }
    entries_draw(g, rect_inner(r), e, n, "no gradients yet: loss.backward()", unicode);
    free(e);
}

/* ---- Outputs ---- */

bool outputs_is_image_shape(int ndim, const int64_t *shape)
{
    if (ndim < 2 || ndim > 4)
        return false;
    int64_t h = shape[ndim - 2], w = shape[ndim - 1];
    if (h < 5 || w < 5 || h > 256 || w > 256)
        return false;
    if (ndim == 3 && shape[0] != 1)
        return false;
    if (ndim == 4 && shape[1] != 1)
        return false;
    return true;
}

/* Rows of bars: the first samples of a batch. */
static void draw_probs(Grid *g, Rect in, const char *label, const TensorSnap *p, bool unicode)
{
    if (in.w <= 0 || in.h <= 0)
        return;
    int64_t classes = p->ndim >= 2 ? p->shape[p->ndim - 1] : 1;
    int64_t samples = classes > 0 ? p->numel / classes : 0;
    if (samples <= 0)
        return;
    char head[96], shape[64];
    tensor_snap_shape_str(p, shape, sizeof shape);
    const char *labels_small[16];
    char label_buf[16][40];
    int y = in.y, rows = in.h;
    if (classes == 1) {
        /* sigmoid: one probability per sample */
        snprintf(head, sizeof head, "%s %s  P(y=1) per sample", label ? label : "", shape);
        text_fit(g, in.x, y, in.w, head, GRID_ROLE_AXIS, unicode);
        int n = (int)(samples < rows - 1 ? samples : rows - 1);
        bool more = samples > n;
        if (more && n > 0)
            n--;
        double *vals = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
        const char **labels = malloc(sizeof(char *) * (size_t)(n > 0 ? n : 1));
        char (*lb)[24] = malloc(sizeof *lb * (size_t)(n > 0 ? n : 1));
        if (vals && labels && lb) {
            for (int i = 0; i < n; i++) {
                vals[i] = p->data[i];
                snprintf(lb[i], sizeof lb[i], "%d", i);
                labels[i] = lb[i];
            }
            bars_draw(g, in.x, y + 1, in.w, n, labels, vals, n, unicode);
            if (more) {
                snprintf(head, sizeof head, "%s %lld more", ellipsis(unicode), (long long)(samples - n));
                text_fit(g, in.x, y + 1 + n, in.w, head, GRID_ROLE_AXIS, unicode);
            }
        }
        free(vals);
        free(labels);
        free(lb);
        return;
    }
    if (rows - 1 >= classes && classes <= 16) {
        /* whole distributions, one sample after the other */
        for (int64_t s = 0; s < samples && rows - (y - in.y) >= classes + 1; s++) {
            snprintf(head, sizeof head, "%s %s  sample %lld", label ? label : "", shape, (long long)s);
            text_fit(g, in.x, y, in.w, head, GRID_ROLE_AXIS, unicode);
            double vals[16];
            for (int64_t c = 0; c < classes; c++) {
                vals[c] = p->data[s * classes + c];
                snprintf(label_buf[c], sizeof label_buf[c], "%lld", (long long)c);
                labels_small[c] = label_buf[c];
            }
            bars_draw(g, in.x, y + 1, in.w, (int)classes, labels_small, vals, (int)classes, unicode);
            y += (int)classes + 1;
        }
        return;
    }
    /* one row per sample: the most probable class and its probability */
    snprintf(head, sizeof head, "%s %s  sample %s class", label ? label : "", shape,
             unicode ? "\xe2\x86\x92" : "->");   /* → */
    text_fit(g, in.x, y, in.w, head, GRID_ROLE_AXIS, unicode);
    int n = (int)(samples < rows - 1 ? samples : rows - 1);
    if (n > 16)
        n = 16;
    double vals[16];
    for (int i = 0; i < n; i++) {
        int64_t best = 0;
        for (int64_t c = 1; c < classes; c++)
            if (p->data[i * classes + c] > p->data[i * classes + best])
                best = c;
        vals[i] = p->data[i * classes + best];
        snprintf(label_buf[i], sizeof label_buf[i], "%d%s%lld", i, unicode ? "\xe2\x86\x92" : ">",
                 (long long)best);
        labels_small[i] = label_buf[i];
    }
    bars_draw(g, in.x, y + 1, in.w, n, labels_small, vals, n, unicode);
}

static void draw_image(Grid *g, Rect in, const char *name, const TensorSnap *img, bool unicode)
{
    if (in.w <= 0 || in.h <= 1)
        return;
    int64_t h = img->shape[img->ndim - 2], w = img->shape[img->ndim - 1];
    char head[96], shape[64];
    tensor_snap_shape_str(img, shape, sizeof shape);
    snprintf(head, sizeof head, "%s %s", name ? name : "image", shape);
    text_fit(g, in.x, in.y, in.w, head, GRID_ROLE_AXIS, unicode);
    image_draw(g, in.x, in.y + 1, in.w, in.h - 1, img->data, (int)h, (int)w, unicode);
}

void pane_draw_outputs(Grid *g, Rect r, const OutputsView *v, bool unicode)
{
    pane_frame(g, r, "Outputs", NULL, unicode);
    Rect in = rect_inner(r);
    bool probs = v && v->probs && v->probs->present && v->probs->numel > 0;
    bool image = v && v->image && v->image->present && v->image->numel > 0 &&
                 outputs_is_image_shape(v->image->ndim, v->image->shape);
    if (!probs && !image) {
        text_fit(g, in.x, in.y, in.w, "softmax/sigmoid outputs show here", GRID_ROLE_AXIS, unicode);
        return;
    }
    if (probs && image) {
        int64_t ih = v->image->shape[v->image->ndim - 2], iw = v->image->shape[v->image->ndim - 1];
        int cw, ch;
        image_fit_size((int)ih, (int)iw, in.w / 2, in.h - 1, &cw, &ch);
        int name_w = grid_text_width(v->image_name ? v->image_name : "image") + 8;
        int left = cw > name_w ? cw : name_w;
        if (left > in.w / 2)
            left = in.w / 2;
        Rect ir = {in.x, in.y, left, in.h};
        Rect pr = {in.x + left + 2, in.y, in.w - left - 2, in.h};
        draw_image(g, ir, v->image_name, v->image, unicode);
        draw_probs(g, pr, v->label, v->probs, unicode);
        return;
    }
    if (image)
        draw_image(g, in, v->image_name, v->image, unicode);
    else
        draw_probs(g, in, v->label, v->probs, unicode);
}

/* ---- charts ---- */

void pane_draw_chart(Grid *g, Rect r, const char *title, const Chart *chart, bool unicode)
{
    pane_frame(g, r, title, NULL, unicode);
    Rect in = rect_inner(r);
    if (!chart || chart_series_count(chart) == 0 || chart_series_length(chart, 0) == 0) {
        text_fit(g, in.x, in.y, in.w, "loss.backward() values show here", GRID_ROLE_AXIS,
                 unicode);
        return;
    }
    chart_draw(chart, g, in.x, in.y, in.w, in.h, unicode);
}

/* ---- prose (Markdown-lite) ---- */

/* Text with one attribute per byte. */
typedef struct Styled {
    StrBuf text;
    GridAttr *attr;
    size_t cap;
} Styled;

static void styled_add(Styled *s, const char *p, size_t n, GridAttr attr)
{
    if (s->text.len + n + 1 > s->cap) {
        size_t cap = (s->text.len + n + 1) * 2;
        GridAttr *a = realloc(s->attr, cap * sizeof *a);
        if (!a)
            abort();
        s->attr = a;
        s->cap = cap;
    }
    for (size_t i = 0; i < n; i++)
        s->attr[s->text.len + i] = attr;
    sb_append_n(&s->text, p, n);
}

static void styled_free(Styled *s)
{
    sb_free(&s->text);
    free(s->attr);
    memset(s, 0, sizeof *s);
}

/* **bold** and `code` inside a line; unmatched markers stay as they are. */
static void parse_inline(Styled *s, const char *p, size_t n, GridAttr base)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] == '`') {
            const char *close = memchr(p + i + 1, '`', n - i - 1);
            if (close) {
                size_t len = (size_t)(close - (p + i + 1));
                styled_add(s, p + i + 1, len, GRID_ROLE_SERIES_6 | (base & GRID_STYLE_MASK));
                i += len + 2;
                continue;
            }
        } else if (p[i] == '*' && i + 1 < n && p[i + 1] == '*') {
            const char *close = NULL;
            for (size_t j = i + 2; j + 1 < n; j++)
                if (p[j] == '*' && p[j + 1] == '*') {
                    close = p + j;
                    break;
                }
            if (close && close > p + i + 2) {
                parse_inline(s, p + i + 2, (size_t)(close - (p + i + 2)), base | GRID_BOLD);
                i = (size_t)(close - p) + 2;
                continue;
            }
        }
        styled_add(s, p + i, 1, base);
        i++;
    }
}

typedef enum ParaKind { PARA_TEXT, PARA_HEADING, PARA_BULLET } ParaKind;

typedef struct ProseCtx {
    Grid *g;
    int x, y, width, max_rows;
    bool unicode;
    int rows;               /* rows produced so far */
    bool pending_blank;     /* a blank row before the next paragraph */
    Styled para;
    ParaKind kind;
    bool open;
} ProseCtx;

typedef struct ParaRows {
    ProseCtx *c;
    const Styled *s;
    int indent;
} ParaRows;

static void para_row(void *ctx, int row, const char *start, size_t len)
{
    ParaRows *pr = ctx;
    ProseCtx *c = pr->c;
    int y = c->rows;
    c->rows++;
    if (!c->g || y >= c->max_rows)
        return;
    int x = c->x;
    if (pr->indent) {
        if (row == 0)
            put_text(c->g, x, c->y + y, c->unicode ? "\xe2\x80\xa2" : "-", GRID_ROLE_AXIS, 1);  /* • */
        x += pr->indent;
    }
    const char *p = start, *end = start + len;
    while (p < end) {
        size_t off = (size_t)(p - pr->s->text.data);
        uint32_t cp = grid_utf8_next(&p);
        if (!cp)
            break;
        int w = grid_put(c->g, x, c->y + y, cp, pr->s->attr[off]);
        x += w > 0 ? w : 0;
        if (x >= c->x + c->width)
            break;
    }
}

static void para_flush(ProseCtx *c)
{
    if (!c->open)
        return;
    c->open = false;
    if (c->pending_blank && c->rows > 0)
        c->rows++;
    c->pending_blank = false;
    ParaRows pr = {c, &c->para, c->kind == PARA_BULLET ? 2 : 0};
    if (c->para.text.len == 0)
        sb_append(&c->para.text, "");
    text_wrap(sb_str(&c->para.text), c->width - pr.indent, para_row, &pr);
    sb_clear(&c->para.text);
}

static void para_start(ProseCtx *c, ParaKind kind)
{
    para_flush(c);
    c->open = true;
    c->kind = kind;
    sb_clear(&c->para.text);
}

static const char *skip_spaces(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static void prose_line(ProseCtx *c, const char *line, size_t len)
{
    const char *end = line + len;
    const char *p = skip_spaces(line, end);
    if (p == end) {
        para_flush(c);
        c->pending_blank = true;
        return;
    }
    if (*p == '#') {
        const char *q = p;
        while (q < end && *q == '#')
            q++;
        if (q < end && *q == ' ') {
            para_start(c, PARA_HEADING);
            q = skip_spaces(q, end);
            parse_inline(&c->para, q, (size_t)(end - q), GRID_ROLE_TITLE | GRID_BOLD);
            para_flush(c);
            return;
        }
    }
    if ((*p == '-' || *p == '*') && p + 1 < end && p[1] == ' ') {
        para_start(c, PARA_BULLET);
        p = skip_spaces(p + 2, end);
        parse_inline(&c->para, p, (size_t)(end - p), 0);
        return;
    }
    if (c->open && c->kind != PARA_HEADING) {
        styled_add(&c->para, " ", 1, 0);
    } else {
        para_start(c, PARA_TEXT);
    }
    parse_inline(&c->para, p, (size_t)(end - p), 0);
}

int prose_draw(Grid *g, int x, int y, int width, int max_rows, const char *prose, bool unicode)
{
    if (!prose || width <= 0)
        return 0;
    ProseCtx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.x = x;
    c.y = y;
    c.width = width;
    c.max_rows = max_rows;
    c.unicode = unicode;
    sb_init(&c.para.text);
    const char *p = prose;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        prose_line(&c, p, len);
        p += len + (nl ? 1 : 0);
    }
    para_flush(&c);
    styled_free(&c.para);
    return c.rows;
}

/* ---- Lesson ---- */

typedef struct CodeLine {
    const char *start;
    size_t len;
    int number;
} CodeLine;

static bool blank_line(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* The code's lines without leading and trailing blank ones. */
static CodeLine *split_code(const char *code, int first_line, int *n_out)
{
    int cap = 16, n = 0;
    CodeLine *lines = malloc((size_t)cap * sizeof *lines);
    int number = first_line;
    const char *p = code;
    while (lines && p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len && p[len - 1] == '\r')
            len--;
        if (n == cap) {
            cap *= 2;
            CodeLine *bigger = realloc(lines, (size_t)cap * sizeof *lines);
            if (!bigger)
                break;
            lines = bigger;
        }
        if (n > 0 || !blank_line(p, len))
            lines[n++] = (CodeLine){p, len, number};
        number++;
        if (!nl)
            break;
        p = nl + 1;
    }
    while (lines && n > 0 && blank_line(lines[n - 1].start, lines[n - 1].len))
        n--;
    *n_out = lines ? n : 0;
    return lines;
}

typedef struct CodeRows {
    Grid *g;
    int x, y, w;
    int row;               /* next row index (all rows of the code, counted from 0) */
    int first_visible, visible;
    GridAttr attr;
} CodeRows;

static void code_row(void *ctx, int row, const char *start, size_t len)
{
    (void)row;
    CodeRows *c = ctx;
    int r = c->row++ - c->first_visible;
    if (r < 0 || r >= c->visible || c->w <= 0)   /* w <= 0: as put_text, nothing */
        return;
    grid_text_n(c->g, c->x, c->y + r, start, len, c->attr, c->w);
}

static int digits_of(int v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

static GridAttr code_line_attr(const LessonView *v, const CodeLine *l)
{
    if (l->number == v->error_line)
        return GRID_ROLE_ERROR;
    if (l->number == v->running_line)
        return GRID_ROLE_HIGHLIGHT;
    const char *p = skip_spaces(l->start, l->start + l->len);
    if (p < l->start + l->len && *p == '#')
        return GRID_ROLE_AXIS;
    return 0;
}

/* Draw code rows [first, first + visible) of all the code's wrapped rows. */
static void draw_code(Grid *g, Rect area, const LessonView *v, const CodeLine *lines, int n,
                      int first, bool unicode)
{
    int numw = digits_of(lines[n - 1].number);
    int code_x = area.x + numw + 2;
    int code_w = area.w - numw - 2;
    if (code_w < 1)
        return;
    int row = 0;
    for (int i = 0; i < n && row - first < area.h; i++) {
        char *text = strndup(lines[i].start, lines[i].len);
        if (!text)
            return;
        GridAttr attr = code_line_attr(v, &lines[i]);
        int rows = text_wrap(text, code_w, NULL, NULL);
        int r = row - first;
        if (r >= 0 && r < area.h) {
            char num[16];
            snprintf(num, sizeof num, "%*d", numw, lines[i].number);
            bool marked = lines[i].number == v->running_line || lines[i].number == v->error_line;
            put_text(g, area.x, area.y + r, num, marked ? attr : GRID_ROLE_AXIS, numw);
            if (lines[i].number == v->error_line)
                put_text(g, area.x + numw, area.y + r, unicode ? "\xe2\x9c\x97" : "!", attr, 1);  /* ✗ */
            else if (lines[i].number == v->running_line)
                put_text(g, area.x + numw, area.y + r, unicode ? "\xe2\x96\xb6" : ">", attr, 1);  /* ▶ */
        }
        if (attr == GRID_ROLE_HIGHLIGHT || attr == GRID_ROLE_ERROR) {
            /* the marked line stands out over its whole width */
            for (int k = 0; k < rows; k++) {
                int rr = row + k - first;
                if (rr >= 0 && rr < area.h)
                    grid_fill(g, code_x, area.y + rr, code_w, 1, ' ', attr);
            }
        }
        CodeRows cr = {g, code_x, area.y, code_w, row, first, area.h, attr};
        text_wrap(text, code_w, code_row, &cr);
        row += rows;
        free(text);
    }
}

/* The wrapped rows of each line (starts[i] = first row of line i, and
 * starts[n] = the total). NULL when memory runs out. */
static int *code_row_starts(const CodeLine *lines, int n, int width)
{
    int *starts = malloc((size_t)(n + 1) * sizeof *starts);
    if (!starts)
        return NULL;
    int row = 0;
    for (int i = 0; i < n; i++) {
        starts[i] = row;
        char *text = strndup(lines[i].start, lines[i].len);
        row += text ? text_wrap(text, width, NULL, NULL) : 1;
        free(text);
    }
    starts[n] = row;
    return starts;
}

/* The first row to show in `height` rows: the top, or, when the marked
 * line would be below the view, a line start about a third of the view
 * above it, never so far up that the marked line is cut. */
static int code_first_row(const CodeLine *lines, const int *starts, int n, int mark, int height)
{
    int target = -1;
    for (int i = 0; i < n; i++)
        if (lines[i].number == mark)
            target = i;
    if (target < 0 || starts[target + 1] <= height)
        return 0;
    int want = starts[target] - height / 3;
    if (want > starts[n] - height)
        want = starts[n] - height;
    int lowest = starts[target + 1] - height;   /* the marked line whole */
    int first = starts[target];
    for (int i = target; i >= 0 && starts[i] >= lowest; i--) {
        first = starts[i];
        if (starts[i] <= want)
            break;
    }
    return first;
}

/* The last prose row shown ends in an ellipsis, right after its text. */
static void mark_prose_cut(Grid *g, Rect in, int y, bool unicode)
{
    const char *ell = ellipsis(unicode);
    int ew = grid_text_width(ell);
    int end = in.x;
    for (int x = in.x; x < in.x + in.w; x++) {
        const GridCell *c = grid_cell(g, x, y);
        if (c && c->cp != ' ')
            end = x + 1;
    }
    int x = end + ew <= in.x + in.w ? end : in.x + in.w - ew;
    if (x < in.x)
        x = in.x;
    grid_fill(g, x, y, in.x + in.w - x, 1, ' ', 0);
    put_text(g, x, y, ell, GRID_ROLE_AXIS, in.x + in.w - x);
}

/* Is row y of the rectangle blank? */
static bool row_blank(const Grid *g, Rect in, int y)
{
    for (int x = in.x; x < in.x + in.w; x++) {
        const GridCell *c = grid_cell(g, x, y);
        if (c && c->cp != ' ')
            return false;
    }
    return true;
}

/* The rows the code keeps however long the prose is: enough to see the
 * running line with a little of what surrounds it. */
static int code_min_rows(int height)
{
    int rows = height / 4;
    return rows < 2 ? 2 : rows;
}

/* "⋮ 3 more lines" */
static void more_lines_text(char *buf, size_t size, int more, bool unicode)
{
    snprintf(buf, size, "%s %d more line%s", unicode ? "\xe2\x8b\xae" : ":", more,  /* ⋮ */
             more == 1 ? "" : "s");
}

/* The code lines that start at or below row `row`. */
static int lines_from_row(const int *starts, int n, int row)
{
    int more = 0;
    for (int i = 0; i < n; i++)
        more += starts[i] >= row;
    return more;
}

/* The code in `area`, scrolled to keep the marked line in view. When it
 * goes on below the view, the count of the lines left out goes at the
 * right of the footer (when there is one and it has room), else on the
 * last row of the area. Returns the text for the footer, or NULL. */
static const char *draw_code_area(Grid *g, Rect area, const LessonView *v, const CodeLine *lines,
                                  int n, const int *starts, bool footer_room, char *note,
                                  size_t note_size, bool unicode)
{
    int total = starts[n];
    int mark = v->error_line ? v->error_line : v->running_line;
    int first = code_first_row(lines, starts, n, mark, area.h);
    if (total - first <= area.h) {
        draw_code(g, area, v, lines, n, first, unicode);
        return NULL;
    }
    if (footer_room) {
        draw_code(g, area, v, lines, n, first, unicode);
        more_lines_text(note, note_size, lines_from_row(starts, n, first + area.h), unicode);
        return note;
    }
    if (area.h < 3) {
        draw_code(g, area, v, lines, n, first, unicode);
        return NULL;
    }
    Rect shown = {area.x, area.y, area.w, area.h - 1};
    first = code_first_row(lines, starts, n, mark, shown.h);
    draw_code(g, shown, v, lines, n, first, unicode);
    int more = lines_from_row(starts, n, first + shown.h);
    if (more > 0) {
        more_lines_text(note, note_size, more, unicode);
        text_fit(g, area.x, area.y + shown.h, area.w, note, GRID_ROLE_AXIS, unicode);
    }
    return NULL;
}

/* Prose first (it is what the teacher talks about), a blank row, the code
 * in what is left (at least code_min_rows), and the footer pinned to the
 * last row. Prose that does not fit ends in an ellipsis. */
void pane_draw_lesson(Grid *g, Rect r, const LessonView *v, bool unicode)
{
    pane_frame(g, r, "Lesson", v ? v->note : NULL, unicode);
    Rect in = rect_inner(r);
    if (!v || in.w <= 0 || in.h <= 0)
        return;
    int n = 0;
    CodeLine *lines = v->code ? split_code(v->code, v->first_line, &n) : NULL;
    int numw = n ? digits_of(lines[n - 1].number) : 1;
    int *starts = n ? code_row_starts(lines, n, in.w - numw - 2) : NULL;
    if (!starts)
        n = 0;
    int total_code = n ? starts[n] : 0;
    bool footer = v->footer && in.h >= 3;
    int avail = in.h - (footer ? 1 : 0);
    int prose_rows = prose_draw(NULL, 0, 0, in.w, 1 << 20, v->prose, unicode);
    int gap = prose_rows && total_code ? 1 : 0;
    int prose_max = avail;
    if (total_code) {
        int code_min = code_min_rows(in.h);
        prose_max = avail - gap - (code_min < total_code ? code_min : total_code);
        if (prose_max < 1)
            prose_max = avail > 0 ? 1 : 0;
    }
    int prose_shown = prose_rows < prose_max ? prose_rows : prose_max;
    prose_draw(g, in.x, in.y, in.w, prose_shown, v->prose, unicode);
    if (prose_shown < prose_rows && prose_shown > 0) {
        /* not on a paragraph's blank row */
        while (prose_shown > 1 && row_blank(g, in, in.y + prose_shown - 1))
            prose_shown--;
        mark_prose_cut(g, in, in.y + prose_shown - 1, unicode);
    }
    int code_y = in.y + prose_shown + gap;
    int code_h = in.y + avail - code_y;
    char note[64];
    const char *more = NULL;
    int footer_w = footer ? grid_text_width(v->footer) : 0;
    if (n && code_h > 0) {
        Rect area = {in.x, code_y, in.w, code_h};
        more_lines_text(note, sizeof note, 999, unicode);
        bool room = footer && footer_w + 2 + grid_text_width(note) <= in.w;
        more = draw_code_area(g, area, v, lines, n, starts, room, note, sizeof note, unicode);
    }
    if (footer) {
        int y = in.y + in.h - 1;
        text_fit(g, in.x, y, in.w, v->footer, GRID_ROLE_AXIS, unicode);
        if (more) {
            int mw = grid_text_width(more);
            put_text(g, in.x + in.w - mw, y, more, GRID_ROLE_AXIS, mw);
        }
    }
    free(starts);
    free(lines);
}

/* ---- status bar ---- */

/* The parts of the bar in the order they are given up when the bar is too
 * narrow: the key hints first, then the title (cut, then dropped); the
 * mode's detail is last and is cut at the right edge. */
void pane_draw_status(Grid *g, Rect r, const StatusView *v, bool unicode)
{
    if (r.w <= 0 || r.h <= 0 || !v)
        return;
    const GridAttr bar = GRID_REVERSE;
    grid_fill(g, r.x, r.y, r.w, 1, ' ', bar);
    const char *sep = unicode ? " \xe2\x94\x82 " : " | ";   /* │ */
    StrBuf core = STRBUF_INIT;
    if (v->n_cells > 0)
        sb_printf(&core, "cell %d/%d%s", v->cell, v->n_cells, sep);
    sb_printf(&core, "step %ld", v->steps);
    if (!isnan(v->lr))
        sb_printf(&core, "%slr %g", sep, v->lr);
    if (v->elapsed >= 0)
        sb_printf(&core, "%s%.1f s", sep, v->elapsed);
    sb_append(&core, sep);
    sb_append(&core, v->mode ? v->mode : "idle");
    if (v->detail && *v->detail)
        sb_printf(&core, ": %s", v->detail);
    int core_w = grid_text_width(sb_str(&core));
    int sep_w = grid_text_width(sep);
    int title_w = v->title ? grid_text_width(v->title) : 0;
    int keys_w = v->keys ? grid_text_width(v->keys) : 0;
    /* " title │ core " and, at the right, "keys " */
    int room = r.w - 2;
    bool keys = keys_w && title_w + sep_w + core_w + 2 + keys_w + 1 <= room;
    int x = r.x + 1;
    if (title_w) {
        int title_room = room - core_w - sep_w - (keys ? keys_w + 3 : 0);
        if (title_room >= title_w || title_room >= 12) {
            int tw = title_room < title_w ? title_room : title_w;
            x += text_fit(g, x, r.y, tw, v->title, bar | GRID_BOLD, unicode);
            x += put_text(g, x, r.y, sep, bar, sep_w);
        }
    }
    text_fit(g, x, r.y, r.x + r.w - 1 - x, sb_str(&core), bar | GRID_BOLD, unicode);
    if (keys)
        put_text(g, r.x + r.w - 1 - keys_w, r.y, v->keys, bar, keys_w);
    sb_free(&core);
}
