#include "chart.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Series {
    double *xs, *ys;       /* (n) each */
    size_t n, cap;
    ChartStyle style;      /* role resolved when the series is added */
    char *label;           /* NULL: not in the legend */
} Series;

struct Chart {
    Series *series;
    size_t n_series, cap_series;
    int cycle;             /* series that took a colour from the cycle */
    char *title, *xlabel, *ylabel;
    char *notes[3];        /* the note, then shorter forms of it (or NULL) */
    bool legend;
};

/* ---- numbers ---------------------------------------------------------------- */

static void trim_fraction_zeros(char *s)
{
    char *dot = strchr(s, '.');
    if (!dot)
        return;
    char *end = s + strlen(s);
    while (end > dot + 1 && end[-1] == '0')
        end--;
    if (end == dot + 1)
        end = dot;
    *end = '\0';
}

void chart_format_number(double v, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    if (isnan(v)) {
        snprintf(buf, size, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, size, v > 0 ? "inf" : "-inf");
        return;
    }
    if (v == 0) {
        snprintf(buf, size, "0");
        return;
    }
    if (fabs(v) < 1e6 && v == floor(v)) {
        snprintf(buf, size, "%.0f", v);
        return;
    }
    /* The exponent after rounding to 4 significant digits. */
    char sci[40];
    snprintf(sci, sizeof sci, "%.3e", v);
    char *e = strchr(sci, 'e');
    int exponent = e ? atoi(e + 1) : 0;
    if (exponent >= -3 && exponent <= 5) {
        char fixed[40];
        snprintf(fixed, sizeof fixed, "%.*f", 3 - exponent > 0 ? 3 - exponent : 0, v);
        trim_fraction_zeros(fixed);
        snprintf(buf, size, "%s", fixed);
        return;
    }
    if (e) {
        char mantissa[40];
        size_t n = (size_t)(e - sci);
        memcpy(mantissa, sci, n);
        mantissa[n] = '\0';
        trim_fraction_zeros(mantissa);
        snprintf(buf, size, "%s%s", mantissa, e);
    } else {
        snprintf(buf, size, "%s", sci);
    }
}

/* ---- styles ------------------------------------------------------------------- */

ChartStyle chart_style_default(void)
{
    return (ChartStyle){false, GRID_ROLE_NORMAL, CHART_LINE_SOLID, 0};
}

static const char marker_letters[] = ".,ov^<>12348spP*hH+xXDd|_";

static bool colour_letter_role(char c, GridRole *out)
{
    switch (c) {
    case 'b': *out = GRID_ROLE_SERIES_1; return true;
    case 'r': *out = GRID_ROLE_SERIES_2; return true;
    case 'g': *out = GRID_ROLE_SERIES_3; return true;
    case 'y': *out = GRID_ROLE_SERIES_4; return true;
    case 'm': *out = GRID_ROLE_SERIES_5; return true;
    case 'c': *out = GRID_ROLE_SERIES_6; return true;
    case 'k':
    case 'w': *out = GRID_ROLE_NORMAL; return true;   /* the terminal's own colour */
    default: return false;
    }
}

bool chart_colour_role(const char *name, GridRole *out)
{
    static const struct {
        const char *name;
        char letter;
    } names[] = {
        {"blue", 'b'}, {"red", 'r'}, {"green", 'g'}, {"yellow", 'y'},
        {"magenta", 'm'}, {"cyan", 'c'}, {"black", 'k'}, {"white", 'w'},
        {"tab:blue", 'b'}, {"tab:orange", 'y'}, {"tab:green", 'g'}, {"tab:red", 'r'},
        {"tab:purple", 'm'}, {"tab:cyan", 'c'}, {"orange", 'y'}, {"purple", 'm'},
        {"gray", 'k'}, {"grey", 'k'},
    };
    GridRole role;
    if (!name || !out)
        return false;
    if (name[0] && !name[1] && colour_letter_role(name[0], &role)) {
        *out = role;
        return true;
    }
    if (name[0] == 'C' && name[1] >= '0' && name[1] <= '9' && !name[2]) {
        *out = (GridRole)(GRID_ROLE_SERIES_1 + (name[1] - '0') % GRID_SERIES_ROLES);
        return true;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            colour_letter_role(names[i].letter, out);
            return true;
        }
    }
    return false;
}

static void set_error(char *err, size_t size, const char *fmt, const char *a, char c)
{
    if (err && size)
        snprintf(err, size, fmt, a, c);
}

/* fmt: ( marker | line | colour )*  where line is '-' '--' '-.' ':' and each
 * of the three appears at most once. */
bool chart_style_parse(const char *fmt, ChartStyle *out, char *err, size_t err_size)
{
    ChartStyle s = {false, GRID_ROLE_NORMAL, CHART_LINE_NONE, 0};
    bool have_line = false;
    if (!fmt || !out) {
        set_error(err, err_size, "%s%cformat string missing", "", 0);
        return false;
    }
    if (chart_colour_role(fmt, &s.role) && strlen(fmt) > 2) {
        /* a whole colour name such as "red" */
        s.has_role = true;
        s.line = CHART_LINE_SOLID;
        *out = s;
        return true;
    }
    for (const char *p = fmt; *p; p++) {
        ChartLine line = CHART_LINE_NONE;
        if (p[0] == '-' && p[1] == '-')
            line = CHART_LINE_DASHED, p++;
        else if (p[0] == '-' && p[1] == '.')
            line = CHART_LINE_DASHDOT, p++;
        else if (p[0] == '-')
            line = CHART_LINE_SOLID;
        else if (p[0] == ':')
            line = CHART_LINE_DOTTED;
        if (line != CHART_LINE_NONE) {
            if (have_line) {
                set_error(err, err_size, "Illegal format string \"%s\"; two linestyle symbols%c",
                          fmt, 0);
                return false;
            }
            have_line = true;
            s.line = line;
        } else if (strchr(marker_letters, *p)) {
            if (s.marker) {
                set_error(err, err_size, "Illegal format string \"%s\"; two marker symbols%c",
                          fmt, 0);
                return false;
            }
            s.marker = *p;
        } else if (colour_letter_role(*p, &s.role) ||
                   (*p == 'C' && p[1] >= '0' && p[1] <= '9')) {
            if (s.has_role) {
                set_error(err, err_size, "Illegal format string \"%s\"; two color symbols%c",
                          fmt, 0);
                return false;
            }
            if (*p == 'C') {
                s.role = (GridRole)(GRID_ROLE_SERIES_1 + (p[1] - '0') % GRID_SERIES_ROLES);
                p++;
            }
            s.has_role = true;
        } else {
            set_error(err, err_size, "Unrecognized character %2$c in format string '%1$s'",
                      fmt, *p);
            return false;
        }
    }
    if (!have_line && !s.marker)
        s.line = CHART_LINE_SOLID;
    *out = s;
    return true;
}

uint32_t chart_marker_glyph(char marker, bool unicode)
{
    static const struct {
        char marker;
        char ascii;
        uint32_t unicode;
    } glyphs[] = {
        {'o', 'o', 0x25cf}, {'.', '.', 0x2022}, {',', '.', 0x00b7}, {'s', '#', 0x25a0},
        {'D', '@', 0x25c6}, {'d', '@', 0x25c6}, {'^', '^', 0x25b2}, {'v', 'v', 0x25bc},
        {'<', '<', 0x25c4}, {'>', '>', 0x25ba}, {'x', 'x', 0x00d7}, {'X', 'x', 0x00d7},
        {'+', '+', '+'}, {'P', '+', '+'}, {'*', '*', '*'}, {'p', 'O', 0x25cf},
        {'h', 'O', 0x25cf}, {'H', 'O', 0x25cf}, {'8', 'O', 0x25cf}, {'1', 'Y', 'Y'},
        {'2', 'Y', 'Y'}, {'3', 'Y', 'Y'}, {'4', 'Y', 'Y'}, {'|', '|', 0x2502},
        {'_', '_', '_'},
    };
    for (size_t i = 0; i < sizeof glyphs / sizeof glyphs[0]; i++)
        if (glyphs[i].marker == marker)
            return unicode ? glyphs[i].unicode : (uint32_t)glyphs[i].ascii;
    return 0;
}

/* ---- the chart object ----------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    if (!s || !*s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void replace_text(char **slot, const char *s)
{
    free(*slot);
    *slot = dup_or_null(s);
}

Chart *chart_new(void)
{
    return calloc(1, sizeof(Chart));
}

static void series_free(Series *s)
{
    free(s->xs);
    free(s->ys);
    free(s->label);
}

void chart_clear(Chart *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_series; i++)
        series_free(&c->series[i]);
    free(c->series);
    free(c->title);
    free(c->xlabel);
    free(c->ylabel);
    for (int i = 0; i < 3; i++)
        free(c->notes[i]);
    memset(c, 0, sizeof *c);
}

void chart_free(Chart *c)
{
    chart_clear(c);
    free(c);
}

static bool series_reserve(Series *s, size_t need)
{
    if (need <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap : 16;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof(double))
            return false;
        cap *= 2;
    }
    double *xs = realloc(s->xs, cap * sizeof *xs);
    if (!xs)
        return false;
    s->xs = xs;
    double *ys = realloc(s->ys, cap * sizeof *ys);
    if (!ys)
        return false;
    s->ys = ys;
    s->cap = cap;
    return true;
}

int chart_add_series(Chart *c, const double *xs, const double *ys, size_t n,
                     const ChartStyle *style, const char *label)
{
    if (!c || (n && !ys) || c->n_series >= INT_MAX)
        return -1;
    if (c->n_series == c->cap_series) {
        size_t cap = c->cap_series ? c->cap_series * 2 : 4;
        Series *grown = realloc(c->series, cap * sizeof *grown);
        if (!grown)
            return -1;
        c->series = grown;
        c->cap_series = cap;
    }
    Series s = {0};
    s.style = style ? *style : chart_style_default();
    if (!s.style.has_role) {
        s.style.role = (GridRole)(GRID_ROLE_SERIES_1 + c->cycle++ % GRID_SERIES_ROLES);
        s.style.has_role = true;
    }
    if (!series_reserve(&s, n)) {
        series_free(&s);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        s.xs[i] = xs ? xs[i] : (double)i;
        s.ys[i] = ys[i];
    }
    s.n = n;
    s.label = dup_or_null(label);
    c->series[c->n_series] = s;
    return (int)c->n_series++;
}

static Series *series_at(const Chart *c, int series)
{
    if (!c || series < 0 || (size_t)series >= c->n_series)
        return NULL;
    return &c->series[series];
}

bool chart_append(Chart *c, int series, double x, double y)
{
    Series *s = series_at(c, series);
    if (!s || !series_reserve(s, s->n + 1))
        return false;
    s->xs[s->n] = x;
    s->ys[s->n] = y;
    s->n++;
    return true;
}

void chart_series_reset(Chart *c, int series)
{
    Series *s = series_at(c, series);
    if (s)
        s->n = 0;
}

size_t chart_series_count(const Chart *c)
{
    return c ? c->n_series : 0;
}

size_t chart_series_length(const Chart *c, int series)
{
    Series *s = series_at(c, series);
    return s ? s->n : 0;
}

void chart_set_title(Chart *c, const char *title)
{
    if (c)
        replace_text(&c->title, title);
}

void chart_set_xlabel(Chart *c, const char *label)
{
    if (c)
        replace_text(&c->xlabel, label);
}

void chart_set_ylabel(Chart *c, const char *label)
{
    if (c)
        replace_text(&c->ylabel, label);
}

void chart_set_legend(Chart *c, bool show)
{
    if (c)
        c->legend = show;
}

void chart_set_note(Chart *c, const char *note)
{
    if (!c)
        return;
    replace_text(&c->notes[0], note);
    replace_text(&c->notes[1], NULL);
    replace_text(&c->notes[2], NULL);
}

void chart_set_current(Chart *c, const char *name, double value, long step)
{
    char num[32];
    chart_format_number(value, num, sizeof num);
    StrBuf sb = STRBUF_INIT;
    sb_printf(&sb, "%s%s%s  step %ld", name ? name : "", name && *name ? " " : "", num, step);
    chart_set_note(c, sb_str(&sb));
    if (c) {
        /* where the whole note does not fit: "loss 0.0234", then "0.0234" */
        sb_clear(&sb);
        sb_printf(&sb, "%s%s%s", name ? name : "", name && *name ? " " : "", num);
        replace_text(&c->notes[1], sb_str(&sb));
        replace_text(&c->notes[2], num);
    }
    sb_free(&sb);
}

/* ---- scales ------------------------------------------------------------------------- */

/* Maps data values on one axis to a continuous position in pixels (a pixel
 * is a cell in ASCII, a braille dot in Unicode): lo to the middle of the
 * first pixel, hi to the middle of the last. */
typedef struct Scale {
    double lo, hi;
    bool any;      /* some finite data */
    bool flat;     /* lo == hi: everything in the middle cell */
    int cells;     /* cells along the axis */
    int res;       /* pixels per cell */
    bool flip;     /* y: larger values towards row 0 */
} Scale;

static double scale_fraction(const Scale *s, double v)
{
    /* Halves first: hi - lo may overflow where hi/2 - lo/2 cannot. */
    double t = (v * 0.5 - s->lo * 0.5) / (s->hi * 0.5 - s->lo * 0.5);
    if (!(t >= 0))
        t = 0;
    if (t > 1)
        t = 1;
    return s->flip ? 1 - t : t;
}

static double scale_pos(const Scale *s, double v)
{
    if (s->flat)
        return ((s->cells - 1) / 2) * s->res + s->res / 2 + 0.5;
    int pixels = s->cells * s->res;
    return scale_fraction(s, v) * (pixels - 1) + 0.5;
}

static void data_ranges(const Chart *c, Scale *xs, Scale *ys)
{
    *xs = *ys = (Scale){0};
    for (size_t i = 0; i < c->n_series; i++) {
        const Series *s = &c->series[i];
        for (size_t j = 0; j < s->n; j++) {
            double x = s->xs[j], y = s->ys[j];
            if (!isfinite(x) || !isfinite(y))
                continue;
            if (!xs->any) {
                xs->lo = xs->hi = x;
                ys->lo = ys->hi = y;
                xs->any = ys->any = true;
                continue;
            }
            xs->lo = fmin(xs->lo, x);
            xs->hi = fmax(xs->hi, x);
            ys->lo = fmin(ys->lo, y);
            ys->hi = fmax(ys->hi, y);
        }
    }
    xs->flat = xs->lo == xs->hi;
    ys->flat = ys->lo == ys->hi;
}

/* ---- ticks --------------------------------------------------------------------------- */

#define MAX_TICKS 24

typedef struct Tick {
    int cell;
    int width;
    char text[40];
} Tick;

/* A round step (1, 2 or 5 times a power of ten) near range / intervals;
 * 0 when there is none. */
static double nice_step(const Scale *s, int intervals)
{
    double raw = (s->hi * 0.5 - s->lo * 0.5) * (2.0 / intervals);
    if (!(raw > 0) || !isfinite(raw))
        return 0;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    return isfinite(step) && step > 0 ? step : 0;
}

static void tick_set(Tick *t, int cell, double value)
{
    t->cell = cell;
    chart_format_number(value, t->text, sizeof t->text);
    t->width = (int)strlen(t->text);
}

/* Ticks in cell order: the data's ends at the first and last cells (their
 * exact values), and between them round values (about `intervals` steps'
 * worth) at the cells they fall in, at least min_gap cells apart. */
static int make_ticks(const Scale *s, int intervals, int min_gap, Tick *out)
{
    if (!s->any || s->cells <= 0)
        return 0;
    if (s->flat || s->cells == 1) {
        tick_set(&out[0], s->flat ? (s->cells - 1) / 2 : 0,
                 s->flat ? s->lo : s->flip ? s->hi : s->lo);
        return 1;
    }
    int n = 0;
    tick_set(&out[n++], 0, s->flip ? s->hi : s->lo);
    double step = intervals > 1 ? nice_step(s, intervals) : 0;
    if (step > 0) {
        double first = ceil(s->lo / step);
        for (int k = 0; k < 50 && n < MAX_TICKS - 1; k++) {
            double v = (first + k) * step;
            if (v >= s->hi)
                break;
            if (v <= s->lo)
                continue;
            int cell = (int)floor(scale_pos(s, v)) / s->res;
            bool clear = true;
            for (int i = 0; i < n; i++)
                clear = clear && abs(out[i].cell - cell) >= min_gap;
            if (clear && s->cells - 1 - cell >= min_gap)
                tick_set(&out[n++], cell, fabs(v) < step * 1e-9 ? 0 : v);
        }
    }
    tick_set(&out[n++], s->cells - 1, s->flip ? s->lo : s->hi);
    /* on a flipped (y) axis the round values came bottom-up: sort by cell */
    for (int i = 1; i < n; i++) {
        Tick t = out[i];
        int j = i;
        for (; j > 0 && out[j - 1].cell > t.cell; j--)
            out[j] = out[j - 1];
        out[j] = t;
    }
    return n;
}

/* How many steps of round values to ask for on a y axis of `rows` rows:
 * a label every four to six rows. */
static int y_intervals(int rows)
{
    int k = 1;
    if (rows >= 5)
        k = 2;
    if (rows >= 13)
        k = 4;
    if (rows >= 41)
        k = 8;
    return k;
}

/* ---- layout ----------------------------------------------------------------------------- */

typedef struct Layout {
    int x, y, w, h;             /* the whole rectangle */
    int header_row;             /* -1: none */
    int plot_x, plot_y, plot_w, plot_h;
    int axis_col;               /* -1: no y axis */
    int axis_row;               /* -1: no x axis */
    int ylabel_w;               /* width of the y tick label column, 0: none */
    int ticks_row;              /* -1: no x tick labels */
    int xlabel_row;             /* -1: the x label shares ticks_row (or is not shown) */
} Layout;

static bool has_text(const char *s)
{
    return s && *s;
}

static void layout_rows(const Chart *c, Layout *L)
{
    bool header = has_text(c->title) || has_text(c->ylabel) || has_text(c->notes[0]);
    bool axis = true, ticks = true, xlabel_row = has_text(c->xlabel);
    int plot_h = L->h - header - axis - ticks - xlabel_row;
    if (plot_h < 6 && xlabel_row)
        xlabel_row = false, plot_h++;
    if (plot_h < 3 && ticks)
        ticks = false, plot_h++;
    if (plot_h < 2 && header)
        header = false, plot_h++;
    if (plot_h < 2 && axis)
        axis = false, plot_h++;
    if (plot_h < 0)
        plot_h = 0;
    int row = L->y;
    L->header_row = header ? row++ : -1;
    L->plot_y = row;
    L->plot_h = plot_h;
    row += plot_h;
    L->axis_row = axis ? row++ : -1;
    L->ticks_row = ticks ? row++ : -1;
    L->xlabel_row = xlabel_row ? row++ : -1;
}

/* Columns: [tick labels][space][axis][gap][plot]. The gap keeps a line that
 * starts at the first x value apart from the axis. */
static void layout_columns(Layout *L, int label_w)
{
    int gap = L->w >= 20 ? 1 : 0;
    int plot_w = L->w - label_w - 2 - gap;
    int min_plot = L->w / 3 > 4 ? L->w / 3 : 4;
    if (label_w == 0 || plot_w < min_plot) {
        label_w = 0;
        plot_w = L->w - 1 - gap;
    }
    if (plot_w < 3 || L->axis_row < 0) {
        /* too narrow (or too low) for axes: the plot alone */
        L->ylabel_w = 0;
        L->axis_col = -1;
        L->plot_x = L->x;
        L->plot_w = L->w;
        return;
    }
    L->ylabel_w = label_w;
    L->axis_col = L->x + (label_w ? label_w + 1 : 0);
    L->plot_x = L->axis_col + 1 + gap;
    L->plot_w = L->x + L->w - L->plot_x;
}

/* ---- drawing helpers ------------------------------------------------------------------- */

typedef struct Plot {
    Grid *g;
    int x, y, w, h;            /* the plot area */
    bool unicode;
} Plot;

static void plot_put(const Plot *p, int col, int row, uint32_t cp, GridAttr attr)
{
    if (col >= 0 && row >= 0 && col < p->w && row < p->h)
        grid_put(p->g, p->x + col, p->y + row, cp, attr);
}

/* Where text `width` columns wide starts when centred on column `centre`
 * and kept inside [lo, hi); INT_MIN when it is wider than that. */
static int place_centered(int width, int centre, int lo, int hi)
{
    if (width > hi - lo)
        return INT_MIN;
    int start = centre - width / 2;
    if (start + width > hi)
        start = hi - width;
    if (start < lo)
        start = lo;
    return start;
}

/* Text in at most max_w columns; when it is cut, its last column shows an
 * ellipsis ('~' in ASCII) so a clipped title does not pass for a whole one. */
static void text_fitted(Grid *g, int x, int y, const char *text, GridAttr attr, int max_w,
                        bool unicode)
{
    if (max_w <= 0)
        return;
    if (grid_text_width(text) <= max_w) {
        grid_text(g, x, y, text, attr, max_w);
        return;
    }
    int used = grid_text(g, x, y, text, attr, max_w - 1);
    grid_put(g, x + used, y, unicode ? 0x2026 : '~', attr);
}

/* ---- series geometry ------------------------------------------------------------------ */

typedef struct Pt {
    double x, y;     /* continuous pixel position in the plot */
    bool gap;        /* the line is broken before this point */
} Pt;

typedef struct PtList {
    Pt *pts;
    size_t n;
} PtList;

/* Map a series to pixel positions. When there are many more points than
 * pixel columns, each run of consecutive points in one pixel column is cut
 * to its first, lowest, highest and last point: the same pixels get drawn
 * (exactly so for braille, where such a run is one vertical stroke). */
static bool series_points(const Series *s, const Scale *sx, const Scale *sy, PtList *out)
{
    out->n = 0;
    out->pts = malloc((s->n ? s->n : 1) * sizeof *out->pts);
    if (!out->pts)
        return false;
    bool decimate = s->n > (size_t)sx->cells * (size_t)sx->res * 4;
    bool gap = true;
    size_t i = 0;
    while (i < s->n) {
        if (!isfinite(s->xs[i]) || !isfinite(s->ys[i])) {
            gap = true;
            i++;
            continue;
        }
        Pt first = {scale_pos(sx, s->xs[i]), scale_pos(sy, s->ys[i]), gap};
        gap = false;
        out->pts[out->n++] = first;
        if (!decimate) {
            i++;
            continue;
        }
        double col = floor(first.x);
        Pt lo = first, hi = first, last = first;
        size_t i_lo = i, i_hi = i, i_last = i, j = i + 1;
        for (; j < s->n && isfinite(s->xs[j]) && isfinite(s->ys[j]); j++) {
            Pt q = {scale_pos(sx, s->xs[j]), scale_pos(sy, s->ys[j]), false};
            if (floor(q.x) != col)
                break;
            if (q.y < lo.y)
                lo = q, i_lo = j;
            if (q.y > hi.y)
                hi = q, i_hi = j;
            last = q, i_last = j;
        }
        /* the extremes strictly inside the run, in their order */
        Pt a = i_lo < i_hi ? lo : hi, b = i_lo < i_hi ? hi : lo;
        size_t i_a = i_lo < i_hi ? i_lo : i_hi, i_b = i_lo < i_hi ? i_hi : i_lo;
        if (i_a > i && i_a < i_last)
            out->pts[out->n++] = a;
        if (i_b > i && i_b < i_last && i_b != i_a)
            out->pts[out->n++] = b;
        if (i_last != i)
            out->pts[out->n++] = last;
        i = j;
    }
    return true;
}

/* ---- ASCII lines ------------------------------------------------------------------------ */

/* Slopes in rows per column; a cell is about twice as tall as it is wide,
 * so 0.5 looks like 45 degrees. */
#define ASCII_SHALLOW 0.75
#define ASCII_STEEP 1.6

/* Dashes count the characters drawn along a series. */
static bool ascii_dash_on(ChartLine line, unsigned k)
{
    switch (line) {
    case CHART_LINE_DASHED: return k % 3 != 2;
    case CHART_LINE_DOTTED: return k % 2 == 0;
    case CHART_LINE_DASHDOT: return k % 6 != 3 && k % 6 != 5;
    default: return true;
    }
}

/* The state of drawing one series in ASCII. */
typedef struct Visit {
    int col;                  /* -1: none open */
    double x_in, y_in, x_out, y_out;
    double lo, hi;            /* rows covered */
    double x_lo, x_hi;        /* columns covered */
} Visit;

typedef struct AsciiPen {
    const Plot *plot;
    GridAttr attr;
    ChartLine line;
    unsigned dash;            /* characters drawn so far, for dashes */
    Visit v;                  /* see visit_flush() */
} AsciiPen;

static void ascii_mark(AsciiPen *pen, int col, int row, char ch)
{
    if (ascii_dash_on(pen->line, pen->dash++))
        plot_put(pen->plot, col, row, (uint32_t)ch, pen->attr);
}

/* A visit is the stretch of a line from entering a column to leaving it.
 * Its characters are chosen once it is complete, so a noisy curve that
 * wiggles inside one column still gets one clean glyph. */
static void visit_flush(AsciiPen *pen)
{
    Visit *v = &pen->v;
    if (v->col < 0)
        return;
    int col = v->col;
    v->col = -1;
    double extent = v->hi - v->lo, mid = (v->lo + v->hi) / 2;
    double slope = extent / fmax(v->x_hi - v->x_lo, 1e-9);
    if (extent < 0.3 || slope < ASCII_SHALLOW) {
        int row = (int)floor(mid);
        double frac = mid - row;
        ascii_mark(pen, col, row, frac < 1.0 / 3 ? '\'' : frac < 2.0 / 3 ? '-' : '.');
        return;
    }
    double dx = v->x_out - v->x_in, dy = v->y_out - v->y_in;
    /* steep, or a noisy stretch that goes up and down: a bar over the rows
     * it covers; else a slash in the direction it goes */
    bool wiggly = extent >= fabs(dy) + 0.5;
    char ch = slope >= ASCII_STEEP || dx == 0 || wiggly ? '|' : dx * dy > 0 ? '\\' : '/';
    int first = (int)floor(v->lo), last = (int)floor(v->hi);
    if (first < 0)
        first = 0;
    if (last > pen->plot->h - 1)
        last = pen->plot->h - 1;
    bool drawn = false;
    for (int row = first; row <= last; row++) {
        /* rows the line only grazes stay empty */
        if (fmin(v->hi, row + 1.0) - fmax(v->lo, (double)row) >= 0.3) {
            ascii_mark(pen, col, row, ch);
            drawn = true;
        }
    }
    if (!drawn)
        ascii_mark(pen, col, (int)floor(mid), ch);
}

/* Add the piece of a line from (xa, ya) to (xb, yb), inside column col. */
static void visit_add(AsciiPen *pen, int col, double xa, double ya, double xb, double yb)
{
    Visit *v = &pen->v;
    if (v->col != col) {
        visit_flush(pen);
        *v = (Visit){col, xa, ya, xa, ya, ya, ya, xa, xa};
    }
    v->x_out = xb;
    v->y_out = yb;
    v->lo = fmin(v->lo, fmin(ya, yb));
    v->hi = fmax(v->hi, fmax(ya, yb));
    v->x_lo = fmin(v->x_lo, fmin(xa, xb));
    v->x_hi = fmax(v->x_hi, fmax(xa, xb));
}

static int column_of(double x, int width)
{
    int col = (int)floor(x);
    return col < 0 ? 0 : col >= width ? width - 1 : col;
}

/* Walk the segment a -> b column by column, in its own direction. */
static void ascii_segment(AsciiPen *pen, Pt a, Pt b)
{
    int c0 = column_of(a.x, pen->plot->w), c1 = column_of(b.x, pen->plot->w);
    int step = c1 >= c0 ? 1 : -1;
    double dx = b.x - a.x, dy = b.y - a.y;
    for (int col = c0;; col += step) {
        double xa = a.x, xb = b.x;
        if (col != c0)
            xa = step > 0 ? col : col + 1.0;
        if (col != c1)
            xb = step > 0 ? col + 1.0 : col;
        double ya = dx != 0 ? a.y + (xa - a.x) / dx * dy : a.y;
        double yb = dx != 0 ? a.y + (xb - a.x) / dx * dy : b.y;
        visit_add(pen, col, xa, ya, xb, yb);
        if (col == c1)
            break;
    }
}

static void ascii_series_line(const Plot *p, const PtList *pts, GridAttr attr, ChartLine line)
{
    AsciiPen pen = {p, attr, line, 0, {.col = -1}};
    for (size_t i = 0; i < pts->n; i++) {
        const Pt *pt = &pts->pts[i];
        if (pt->gap)
            visit_flush(&pen);
        if (!pt->gap)
            ascii_segment(&pen, pts->pts[i - 1], *pt);
        else if (i + 1 == pts->n || pts->pts[i + 1].gap)
            ascii_segment(&pen, *pt, *pt);    /* a point on its own */
    }
    visit_flush(&pen);
}

/* ---- braille lines ---------------------------------------------------------------------- */

typedef struct Braille {
    uint8_t *dots;     /* (h, w) dot bits per cell */
    uint8_t *roles;    /* (h, w) role of the series that set a dot last */
    int w, h;          /* cells */
} Braille;

static const uint8_t braille_bit[4][2] = {
    {0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80},
};

static void braille_dot(Braille *b, int px, int py, GridRole role)
{
    if (px < 0 || py < 0 || px >= b->w * 2 || py >= b->h * 4)
        return;
    size_t cell = (size_t)(py / 4) * (size_t)b->w + (size_t)(px / 2);
    b->dots[cell] |= braille_bit[py % 4][px % 2];
    b->roles[cell] = (uint8_t)role;
}

static bool braille_dash_on(ChartLine line, unsigned k)
{
    switch (line) {
    case CHART_LINE_DASHED: return k % 8 < 5;
    case CHART_LINE_DOTTED: return k % 3 == 0;
    case CHART_LINE_DASHDOT: return k % 10 < 5 || k % 10 == 7;
    default: return true;
    }
}

static int pixel_of(double pos, int limit)
{
    double f = floor(pos);
    return f < 0 ? 0 : f > limit - 1 ? limit - 1 : (int)f;
}

/* Bresenham between two dots; k counts dots along the series for dashes. */
static void braille_segment(Braille *b, Pt a, Pt c, GridRole role, ChartLine line, unsigned *k)
{
    int x0 = pixel_of(a.x, b->w * 2), y0 = pixel_of(a.y, b->h * 4);
    int x1 = pixel_of(c.x, b->w * 2), y1 = pixel_of(c.y, b->h * 4);
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        if (braille_dash_on(line, (*k)++))
            braille_dot(b, x0, y0, role);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy)
            err += dy, x0 += sx;
        if (e2 <= dx)
            err += dx, y0 += sy;
    }
}

/* A point with no neighbour to join: a 2x2 block of dots, so it shows. */
static void braille_lone_point(Braille *b, Pt a, GridRole role)
{
    int px = pixel_of(a.x, b->w * 2), py = pixel_of(a.y, b->h * 4);
    int px2 = px ^ 1, py2 = py % 4 == 3 ? py - 1 : py + 1;
    braille_dot(b, px, py, role);
    braille_dot(b, px2, py, role);
    braille_dot(b, px, py2, role);
    braille_dot(b, px2, py2, role);
}

static void braille_series_line(Braille *b, const PtList *pts, GridRole role, ChartLine line)
{
    unsigned k = 0;
    for (size_t i = 0; i < pts->n; i++) {
        bool starts = pts->pts[i].gap;
        bool alone = starts && (i + 1 == pts->n || pts->pts[i + 1].gap);
        if (alone)
            braille_lone_point(b, pts->pts[i], role);
        else if (!starts)
            braille_segment(b, pts->pts[i - 1], pts->pts[i], role, line, &k);
    }
}

static void braille_flush(const Braille *b, const Plot *p)
{
    for (int row = 0; row < b->h; row++) {
        for (int col = 0; col < b->w; col++) {
            size_t cell = (size_t)row * (size_t)b->w + (size_t)col;
            if (b->dots[cell])
                plot_put(p, col, row, 0x2800u + b->dots[cell], b->roles[cell]);
        }
    }
}

/* ---- series, markers, legend -------------------------------------------------------------- */

static void draw_lines(const Chart *c, const Plot *p, const Scale *sx, const Scale *sy)
{
    Braille b = {0};
    if (p->unicode) {
        size_t cells = (size_t)p->w * (size_t)p->h;
        b.dots = calloc(cells ? cells : 1, 1);
        b.roles = calloc(cells ? cells : 1, 1);
        b.w = p->w;
        b.h = p->h;
        if (!b.dots || !b.roles)
            goto done;
    }
    for (size_t i = 0; i < c->n_series; i++) {
        const Series *s = &c->series[i];
        if (s->style.line == CHART_LINE_NONE)
            continue;
        PtList pts;
        if (!series_points(s, sx, sy, &pts))
            break;
        if (p->unicode)
            braille_series_line(&b, &pts, s->style.role, s->style.line);
        else
            ascii_series_line(p, &pts, s->style.role, s->style.line);
        free(pts.pts);
    }
    if (p->unicode)
        braille_flush(&b, p);
done:
    free(b.dots);
    free(b.roles);
}

static void draw_markers(const Chart *c, const Plot *p, const Scale *sx, const Scale *sy)
{
    for (size_t i = 0; i < c->n_series; i++) {
        const Series *s = &c->series[i];
        uint32_t glyph = chart_marker_glyph(s->style.marker, p->unicode);
        if (!glyph)
            continue;
        for (size_t j = 0; j < s->n; j++) {
            if (!isfinite(s->xs[j]) || !isfinite(s->ys[j]))
                continue;
            int col = (int)floor(scale_pos(sx, s->xs[j])) / sx->res;
            int row = (int)floor(scale_pos(sy, s->ys[j])) / sy->res;
            plot_put(p, col, row, glyph, s->style.role);
        }
    }
}

/* The legend's sample of a series, three columns wide: "-o-", " o ", "---". */
static void legend_sample(const Series *s, bool unicode, uint32_t out[3])
{
    uint32_t line = ' ';
    switch (s->style.line) {
    case CHART_LINE_SOLID: line = unicode ? 0x2500 : '-'; break;
    case CHART_LINE_DASHED: line = unicode ? 0x254c : '-'; break;
    case CHART_LINE_DASHDOT: line = unicode ? 0x2504 : '-'; break;
    case CHART_LINE_DOTTED: line = unicode ? 0x2508 : '.'; break;
    default: break;
    }
    uint32_t marker = chart_marker_glyph(s->style.marker, unicode);
    out[0] = out[2] = line;
    out[1] = marker ? marker : line;
    if (!unicode && s->style.line == CHART_LINE_DASHED)
        out[1] = marker ? marker : ' ';
}

static int count_ink(const Plot *p, int x0, int y0, int w, int h)
{
    int ink = 0;
    for (int y = y0; y < y0 + h; y++) {
        for (int x = x0; x < x0 + w; x++) {
            const GridCell *cell = grid_cell(p->g, p->x + x, p->y + y);
            if (cell && cell->cp != ' ' && cell->cp != 0x2800)
                ink++;
        }
    }
    return ink;
}

/* Entries "sample label" in the corner of the plot that hides the least
 * ink, trying upper right, upper left, lower left, lower right (matplotlib's
 * "best"). The box has a one-column margin cleared around its text. */
static void draw_legend(const Chart *c, const Plot *p)
{
    int entries = 0, label_w = 0;
    for (size_t i = 0; i < c->n_series; i++) {
        if (!c->series[i].label)
            continue;
        entries++;
        int w = grid_text_width(c->series[i].label);
        label_w = w > label_w ? w : label_w;
    }
    if (!c->legend || entries == 0 || p->w < 6 || p->h < 1)
        return;
    /* " sss label " inside a frame when the plot has room for one; no
     * legend at all when it would hide more than about half the plot */
    int inner_w = 1 + 3 + 1 + label_w + 1;
    if (inner_w > p->w * 3 / 4)
        inner_w = p->w * 3 / 4;
    if (inner_w < 1 + 3 + 1 + 6 || entries * 3 > p->h)
        return;
    bool frame = entries + 2 <= p->h / 2 && inner_w + 2 <= p->w / 2;
    int box_w = inner_w + (frame ? 2 : 0), box_h = entries + (frame ? 2 : 0);
    int xs[4] = {p->w - box_w, 0, 0, p->w - box_w};
    int ys[4] = {0, 0, p->h - box_h, p->h - box_h};
    int best = 0, best_ink = INT_MAX;
    for (int i = 0; i < 4; i++) {
        int ink = count_ink(p, xs[i], ys[i], box_w, box_h);
        if (ink < best_ink)
            best = i, best_ink = ink;
    }
    int bx = p->x + xs[best], by = p->y + ys[best];
    grid_fill(p->g, bx, by, box_w, box_h, ' ', 0);
    if (frame) {
        grid_box(p->g, bx, by, box_w, box_h, GRID_ROLE_AXIS, p->unicode);
        bx++, by++;
    }
    int text_w = inner_w < box_w ? inner_w : box_w;
    int row = 0;
    for (size_t i = 0; i < c->n_series && row < entries && row < p->h; i++) {
        const Series *s = &c->series[i];
        if (!s->label)
            continue;
        uint32_t sample[3];
        legend_sample(s, p->unicode, sample);
        for (int k = 0; k < 3 && 1 + k < text_w; k++)
            grid_put(p->g, bx + 1 + k, by + row, sample[k], s->style.role);
        text_fitted(p->g, bx + 5, by + row, s->label, GRID_ROLE_NORMAL, text_w - 6, p->unicode);
        row++;
    }
}

/* ---- axes and texts ------------------------------------------------------------------------ */

static void draw_header(const Chart *c, Grid *g, const Layout *L, bool unicode)
{
    if (L->header_row < 0)
        return;
    int right = L->x + L->w;
    const char *note = c->notes[0];
    for (int i = 1; i < 3 && has_text(note) && grid_text_width(note) > L->w; i++)
        note = has_text(c->notes[i]) ? c->notes[i] : note;
    if (has_text(note)) {
        int w = grid_text_width(note);
        int start = w > L->w ? L->x : right - w;
        text_fitted(g, start, L->header_row, note, GRID_ROLE_HIGHLIGHT, L->w, unicode);
        right = start - 2;
    }
    int left = L->x;
    int ylabel_w = has_text(c->ylabel) ? grid_text_width(c->ylabel) : 0;
    int title_w = has_text(c->title) ? grid_text_width(c->title) : 0;
    bool ylabel = ylabel_w > 0 && ylabel_w <= right - left;
    if (ylabel && title_w > 0 && ylabel_w + 2 + title_w > right - left)
        ylabel = false;     /* the title matters more */
    if (ylabel) {
        grid_text(g, left, L->header_row, c->ylabel, GRID_ROLE_NORMAL, right - left);
        left += ylabel_w + 2;
    }
    if (title_w > 0 && right > left) {
        int start = place_centered(title_w, L->plot_x + L->plot_w / 2, left, right);
        if (start == INT_MIN)
            start = left;
        text_fitted(g, start, L->header_row, c->title, GRID_ROLE_TITLE, right - start, unicode);
    }
}

static void draw_y_axis(Grid *g, const Layout *L, const Tick *ticks, int n, bool unicode)
{
    if (L->axis_col < 0)
        return;
    grid_vline(g, L->axis_col, L->plot_y, L->plot_h, GRID_ROLE_AXIS, unicode);
    for (int i = 0; i < n; i++) {
        int row = L->plot_y + ticks[i].cell;
        if (!L->ylabel_w)
            continue;        /* no labels, no ticks */
        grid_put(g, L->axis_col, row, unicode ? 0x2524 : '+', GRID_ROLE_AXIS);
        grid_text(g, L->x + L->ylabel_w - ticks[i].width, row, ticks[i].text,
                      GRID_ROLE_NORMAL, ticks[i].width);
    }
}

/* The x tick labels that fit, each centred under its tick and two columns
 * from its neighbours: the ends first, then the round values between them
 * that still fit. Compacts ticks[] and returns how many were kept. */
static int fit_x_ticks(const Layout *L, Tick *ticks, int n, int starts[])
{
    if (n == 0)
        return 0;
    int lo = L->x, hi = L->x + L->w;
    int first = place_centered(ticks[0].width, L->plot_x + ticks[0].cell, lo, hi);
    if (first == INT_MIN)
        return 0;
    Tick end = ticks[n - 1];
    int last = INT_MIN;
    if (n > 1) {
        last = place_centered(end.width, L->plot_x + end.cell, lo, hi);
        if (last != INT_MIN && last < first + ticks[0].width + 2)
            last = INT_MIN;
    }
    int kept = 1, prev_end = first + ticks[0].width;
    int limit = last != INT_MIN ? last - 2 : hi;
    starts[0] = first;
    for (int i = 1; i < n - 1; i++) {
        int start = place_centered(ticks[i].width, L->plot_x + ticks[i].cell, lo, hi);
        if (start == INT_MIN || start < prev_end + 2 || start + ticks[i].width > limit)
            continue;
        starts[kept] = start;
        ticks[kept++] = ticks[i];
        prev_end = start + ticks[i].width;
    }
    if (last != INT_MIN) {
        starts[kept] = last;
        ticks[kept++] = end;
    }
    return kept;
}

static void draw_x_axis(const Chart *c, Grid *g, const Layout *L, const Scale *sx, bool unicode)
{
    if (L->axis_row < 0)
        return;
    int from = L->axis_col >= 0 ? L->axis_col : L->plot_x;
    grid_hline(g, from, L->axis_row, L->x + L->w - from, GRID_ROLE_AXIS, unicode);
    if (L->axis_col >= 0)
        grid_put(g, L->axis_col, L->axis_row, unicode ? 0x2514 : '+', GRID_ROLE_AXIS);

    Tick ticks[MAX_TICKS];
    int starts[MAX_TICKS];
    int n = 0;
    bool xlabel_inline = has_text(c->xlabel) && L->xlabel_row < 0;
    if (L->ticks_row >= 0) {
        /* about one label per 14 columns; only the ends when the x label
         * shares their row */
        int intervals = xlabel_inline ? 1 : L->plot_w / 14;
        n = fit_x_ticks(L, ticks, make_ticks(sx, intervals, 1, ticks), starts);
    }
    for (int i = 0; i < n; i++) {
        grid_put(g, L->plot_x + ticks[i].cell, L->axis_row, unicode ? 0x252c : '+',
                 GRID_ROLE_AXIS);
        grid_text(g, starts[i], L->ticks_row, ticks[i].text, GRID_ROLE_NORMAL, ticks[i].width);
    }

    if (!has_text(c->xlabel))
        return;
    int w = grid_text_width(c->xlabel);
    int row = L->xlabel_row >= 0 ? L->xlabel_row : L->ticks_row;
    if (row < 0)
        return;
    int lo = L->x, hi = L->x + L->w;
    if (L->xlabel_row < 0 && n > 0) {
        /* between the tick labels of the same row */
        lo = starts[0] + ticks[0].width + 2;
        hi = n > 1 ? starts[n - 1] - 2 : hi;
    }
    int start = place_centered(w, L->plot_x + L->plot_w / 2, lo, hi);
    if (start != INT_MIN)
        grid_text(g, start, row, c->xlabel, GRID_ROLE_NORMAL, w);
    else if (L->xlabel_row >= 0)
        text_fitted(g, L->x, row, c->xlabel, GRID_ROLE_NORMAL, L->w, unicode);
}

/* ---- the whole chart ------------------------------------------------------------------------- */

void chart_draw(const Chart *c, Grid *g, int x, int y, int w, int h, bool unicode)
{
    if (!c || !grid_clip_rect(g, &x, &y, &w, &h))
        return;
    grid_fill(g, x, y, w, h, ' ', 0);
    Layout L = {.x = x, .y = y, .w = w, .h = h};
    layout_rows(c, &L);
    if (L.plot_h <= 0)
        return;

    Scale sx, sy;
    data_ranges(c, &sx, &sy);
    sy.cells = L.plot_h;
    sy.res = unicode ? 4 : 1;
    sy.flip = true;

    Tick yticks[MAX_TICKS];
    int ny = make_ticks(&sy, y_intervals(L.plot_h), 2, yticks);
    int label_w = 0;
    for (int i = 0; i < ny; i++)
        label_w = yticks[i].width > label_w ? yticks[i].width : label_w;
    layout_columns(&L, label_w);
    if (L.plot_w <= 0)
        return;
    sx.cells = L.plot_w;
    sx.res = unicode ? 2 : 1;

    draw_header(c, g, &L, unicode);
    draw_y_axis(g, &L, yticks, ny, unicode);
    draw_x_axis(c, g, &L, &sx, unicode);

    if (!sx.any)
        return;
    Plot p = {g, L.plot_x, L.plot_y, L.plot_w, L.plot_h, unicode};
    draw_lines(c, &p, &sx, &sy);
    draw_markers(c, &p, &sx, &sy);
    draw_legend(c, &p);
}

void chart_render_text(const Chart *c, int width, int height, bool unicode, StrBuf *out)
{
    if (!out)
        return;
    Grid *g = grid_new(width, height);
    if (!g)
        return;
    chart_draw(c, g, 0, 0, grid_width(g), grid_height(g), unicode);
    grid_to_text(g, out, unicode);
    grid_free(g);
}
