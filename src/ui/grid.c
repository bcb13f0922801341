#include "grid.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "utf8_codec.h"

struct Grid {
    int width, height;
    GridCell *cells;    /* (height, width), row-major */
};

static const GridCell blank_cell = {' ', 0};

/* ---- roles ---------------------------------------------------------------- */

GridColour grid_role_colour(GridRole role)
{
    static const GridColour colours[GRID_ROLE_COUNT] = {
        [GRID_ROLE_NORMAL] = GRID_COLOUR_DEFAULT,
        [GRID_ROLE_POSITIVE] = GRID_COLOUR_GREEN,
        [GRID_ROLE_NEGATIVE] = GRID_COLOUR_RED,
        [GRID_ROLE_AXIS] = GRID_COLOUR_DEFAULT,
        [GRID_ROLE_SERIES_1] = GRID_COLOUR_BLUE,
        [GRID_ROLE_SERIES_2] = GRID_COLOUR_RED,
        [GRID_ROLE_SERIES_3] = GRID_COLOUR_GREEN,
        [GRID_ROLE_SERIES_4] = GRID_COLOUR_YELLOW,
        [GRID_ROLE_SERIES_5] = GRID_COLOUR_MAGENTA,
        [GRID_ROLE_SERIES_6] = GRID_COLOUR_CYAN,
        [GRID_ROLE_HIGHLIGHT] = GRID_COLOUR_YELLOW,
        [GRID_ROLE_TITLE] = GRID_COLOUR_DEFAULT,
        [GRID_ROLE_ERROR] = GRID_COLOUR_RED,
    };
    return (unsigned)role < GRID_ROLE_COUNT ? colours[role] : GRID_COLOUR_DEFAULT;
}

GridAttr grid_role_colour_style(GridRole role)
{
    switch (role) {
    case GRID_ROLE_AXIS: return GRID_DIM;
    case GRID_ROLE_HIGHLIGHT:
    case GRID_ROLE_TITLE:
    case GRID_ROLE_ERROR: return GRID_BOLD;
    default: return 0;
    }
}

GridAttr grid_role_mono_style(GridRole role)
{
    /* Series alternate plain/bold so two curves stay apart; their markers
     * differ anyway when the lesson asks for it. */
    switch (role) {
    case GRID_ROLE_NEGATIVE: return GRID_UNDERLINE;
    case GRID_ROLE_POSITIVE: return GRID_BOLD;
    case GRID_ROLE_AXIS: return GRID_DIM;
    case GRID_ROLE_SERIES_2:
    case GRID_ROLE_SERIES_4:
    case GRID_ROLE_SERIES_6: return GRID_BOLD;
    case GRID_ROLE_HIGHLIGHT: return GRID_REVERSE;
    case GRID_ROLE_TITLE:
    case GRID_ROLE_ERROR: return GRID_BOLD;
    default: return 0;
    }
}

/* ---- UTF-8 and display width ---------------------------------------------- */

uint32_t grid_utf8_next(const char **s)
{
    if (**s == '\0')
        return 0;
    uint32_t cp;
    int len = utf8_decode(*s, strnlen(*s, 4), &cp);
    *s += len ? len : 1;
    return len ? cp : 0xfffd;
}

typedef struct Range {
    uint32_t lo, hi;
} Range;

static bool in_ranges(uint32_t cp, const Range *r, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].lo)
            hi = mid;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/* The common zero-width characters: combining marks of the scripts a lesson
 * might contain, zero-width spaces and joiners, variation selectors. */
static const Range zero_width[] = {
    {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x05bf, 0x05bf},
    {0x05c1, 0x05c2}, {0x05c4, 0x05c5}, {0x05c7, 0x05c7}, {0x0610, 0x061a},
    {0x064b, 0x065f}, {0x0670, 0x0670}, {0x06d6, 0x06dc}, {0x06df, 0x06e4},
    {0x0900, 0x0902}, {0x093c, 0x093c}, {0x0941, 0x0948}, {0x094d, 0x094d},
    {0x0e31, 0x0e31}, {0x0e34, 0x0e3a}, {0x0e47, 0x0e4e}, {0x1ab0, 0x1aff},
    {0x1dc0, 0x1dff}, {0x200b, 0x200f}, {0x202a, 0x202e}, {0x2060, 0x2064},
    {0x20d0, 0x20ff}, {0x302a, 0x302d}, {0x3099, 0x309a}, {0xfe00, 0xfe0f},
    {0xfe20, 0xfe2f}, {0xfeff, 0xfeff}, {0xe0100, 0xe01ef},
};

/* East Asian Wide and Fullwidth blocks, and the emoji blocks terminals draw
 * two columns wide. */
static const Range wide[] = {
    {0x1100, 0x115f}, {0x231a, 0x231b}, {0x2329, 0x232a}, {0x23e9, 0x23ec},
    {0x23f0, 0x23f0}, {0x23f3, 0x23f3}, {0x25fd, 0x25fe}, {0x2614, 0x2615},
    {0x2648, 0x2653}, {0x267f, 0x267f}, {0x2693, 0x2693}, {0x26a1, 0x26a1},
    {0x26aa, 0x26ab}, {0x26bd, 0x26be}, {0x26c4, 0x26c5}, {0x26ce, 0x26ce},
    {0x26d4, 0x26d4}, {0x26ea, 0x26ea}, {0x26f2, 0x26f3}, {0x26f5, 0x26f5},
    {0x26fa, 0x26fa}, {0x26fd, 0x26fd}, {0x2705, 0x2705}, {0x270a, 0x270b},
    {0x2728, 0x2728}, {0x274c, 0x274c}, {0x274e, 0x274e}, {0x2753, 0x2755},
    {0x2757, 0x2757}, {0x2795, 0x2797}, {0x27b0, 0x27b0}, {0x27bf, 0x27bf},
    {0x2b1b, 0x2b1c}, {0x2b50, 0x2b50}, {0x2b55, 0x2b55}, {0x2e80, 0x303e},
    {0x3041, 0x3247}, {0x3250, 0x4dbf}, {0x4e00, 0xa4cf}, {0xa960, 0xa97f},
    {0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe10, 0xfe19}, {0xfe30, 0xfe6f},
    {0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x16fe0, 0x16fe4}, {0x17000, 0x18cff},
    {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf}, {0x1f18e, 0x1f18e},
    {0x1f191, 0x1f19a}, {0x1f200, 0x1f251}, {0x1f300, 0x1f320}, {0x1f32d, 0x1f335},
    {0x1f337, 0x1f37c}, {0x1f37e, 0x1f393}, {0x1f3a0, 0x1f3ca}, {0x1f3cf, 0x1f3d3},
    {0x1f3e0, 0x1f3f0}, {0x1f3f4, 0x1f3f4}, {0x1f3f8, 0x1f43e}, {0x1f440, 0x1f440},
    {0x1f442, 0x1f4fc}, {0x1f4ff, 0x1f53d}, {0x1f54b, 0x1f54e}, {0x1f550, 0x1f567},
    {0x1f57a, 0x1f57a}, {0x1f595, 0x1f596}, {0x1f5a4, 0x1f5a4}, {0x1f5fb, 0x1f64f},
    {0x1f680, 0x1f6c5}, {0x1f6cc, 0x1f6cc}, {0x1f6d0, 0x1f6d2}, {0x1f6d5, 0x1f6d7},
    {0x1f6eb, 0x1f6ec}, {0x1f6f4, 0x1f6fc}, {0x1f7e0, 0x1f7eb}, {0x1f90c, 0x1f93a},
    {0x1f93c, 0x1f945}, {0x1f947, 0x1f9ff}, {0x1fa70, 0x1faff}, {0x20000, 0x2fffd},
    {0x30000, 0x3fffd},
};

int grid_char_width(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
        return -1;
    if (cp < 0x300)
        return 1;
    if (in_ranges(cp, zero_width, sizeof zero_width / sizeof zero_width[0]))
        return 0;
    if (in_ranges(cp, wide, sizeof wide / sizeof wide[0]))
        return 2;
    return 1;
}

/* How grid_text() draws a code point: controls become a space. */
static int text_char_width(uint32_t *cp)
{
    int w = grid_char_width(*cp);
    if (w < 0) {
        *cp = ' ';
        return 1;
    }
    return w;
}

int grid_text_width(const char *utf8)
{
    if (!utf8)
        return 0;
    int width = 0;
    uint32_t cp;
    while ((cp = grid_utf8_next(&utf8)) != 0)
        width += text_char_width(&cp);
    return width;
}

/* ---- the grid --------------------------------------------------------------- */

static int clamp_side(int n)
{
    return n < 0 ? 0 : n > GRID_MAX_SIDE ? GRID_MAX_SIDE : n;
}

static GridCell *cells_new(int width, int height)
{
    size_t n = (size_t)width * (size_t)height;
    GridCell *cells = malloc(n ? n * sizeof *cells : 1);
    if (cells)
        for (size_t i = 0; i < n; i++)
            cells[i] = blank_cell;
    return cells;
}

Grid *grid_new(int width, int height)
{
    Grid *g = malloc(sizeof *g);
    if (!g)
        return NULL;
    g->width = clamp_side(width);
    g->height = clamp_side(height);
    g->cells = cells_new(g->width, g->height);
    if (!g->cells) {
        free(g);
        return NULL;
    }
    return g;
}

void grid_free(Grid *g)
{
    if (!g)
        return;
    free(g->cells);
    free(g);
}

static GridCell *cell_at(const Grid *g, int x, int y)
{
    return &g->cells[(size_t)y * (size_t)g->width + (size_t)x];
}

/* A wide character cut off by a resize leaves no orphan half. */
static void repair_right_edge(Grid *g)
{
    for (int y = 0; y < g->height && g->width > 0; y++) {
        GridCell *last = cell_at(g, g->width - 1, y);
        if (last->cp != GRID_WIDE_TAIL && grid_char_width(last->cp) == 2)
            *last = blank_cell;
    }
}

bool grid_resize(Grid *g, int width, int height)
{
    if (!g)
        return false;
    width = clamp_side(width);
    height = clamp_side(height);
    GridCell *cells = cells_new(width, height);
    if (!cells)
        return false;
    int keep_w = width < g->width ? width : g->width;
    int keep_h = height < g->height ? height : g->height;
    for (int y = 0; y < keep_h; y++)
        memcpy(&cells[(size_t)y * (size_t)width], cell_at(g, 0, y),
               (size_t)keep_w * sizeof *cells);
    free(g->cells);
    g->cells = cells;
    g->width = width;
    g->height = height;
    repair_right_edge(g);
    return true;
}

int grid_width(const Grid *g)
{
    return g ? g->width : 0;
}

int grid_height(const Grid *g)
{
    return g ? g->height : 0;
}

void grid_clear(Grid *g)
{
    if (!g)
        return;
    size_t n = (size_t)g->width * (size_t)g->height;
    for (size_t i = 0; i < n; i++)
        g->cells[i] = blank_cell;
}

static bool inside(const Grid *g, int x, int y)
{
    return g && x >= 0 && y >= 0 && x < g->width && y < g->height;
}

const GridCell *grid_cell(const Grid *g, int x, int y)
{
    return inside(g, x, y) ? cell_at(g, x, y) : NULL;
}

bool grid_clip_rect(const Grid *g, int *x, int *y, int *w, int *h)
{
    if (!g || *w <= 0 || *h <= 0)
        return false;
    long long x0 = *x, y0 = *y, x1 = x0 + *w, y1 = y0 + *h;
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 > g->width)
        x1 = g->width;
    if (y1 > g->height)
        y1 = g->height;
    if (x0 >= x1 || y0 >= y1)
        return false;
    *x = (int)x0, *y = (int)y0, *w = (int)(x1 - x0), *h = (int)(y1 - y0);
    return true;
}

/* Before a cell is overwritten: if it is half of a wide character, blank
 * the other half. */
static void detach_wide(Grid *g, int x, int y)
{
    GridCell *c = cell_at(g, x, y);
    if (c->cp == GRID_WIDE_TAIL) {
        if (x > 0)
            *cell_at(g, x - 1, y) = blank_cell;
    } else if (x + 1 < g->width && cell_at(g, x + 1, y)->cp == GRID_WIDE_TAIL) {
        *cell_at(g, x + 1, y) = blank_cell;
    }
}

int grid_put(Grid *g, int x, int y, uint32_t cp, GridAttr attr)
{
    int w = grid_char_width(cp);
    if (w < 0) {
        cp = ' ';
        w = 1;
    }
    if (w == 0 || !inside(g, x, y) || x + w > g->width)
        return 0;
    for (int i = 0; i < w; i++)
        detach_wide(g, x + i, y);
    *cell_at(g, x, y) = (GridCell){cp, attr};
    if (w == 2)
        *cell_at(g, x + 1, y) = (GridCell){GRID_WIDE_TAIL, attr};
    return w;
}

int grid_text(Grid *g, int x, int y, const char *utf8, GridAttr attr, int max_width)
{
    if (!g || !utf8 || max_width == 0)
        return 0;
    long long room = (long long)g->width - x;
    int limit = room > INT_MAX ? INT_MAX : room < 0 ? 0 : (int)room;
    if (max_width >= 0 && max_width < limit)
        limit = max_width;
    int used = 0;
    uint32_t cp;
    while (used < limit && (cp = grid_utf8_next(&utf8)) != 0) {
        int w = text_char_width(&cp);
        if (w == 0)
            continue;
        if (used + w > limit)
            break;
        if ((long long)x + used >= 0)
            grid_put(g, x + used, y, cp, attr);
        used += w;
    }
    return used;
}

/* grid_text() reads up to a NUL: the bytes are copied, on the stack when short. */
int grid_text_n(Grid *g, int x, int y, const char *utf8, size_t len, GridAttr attr,
                int max_width)
{
    char stack[512];
    char *buf = len < sizeof stack ? stack : malloc(len + 1);
    if (!buf)
        return 0;
    memcpy(buf, utf8, len);
    buf[len] = '\0';
    int used = grid_text(g, x, y, buf, attr, max_width);
    if (buf != stack)
        free(buf);
    return used;
}

void grid_fill(Grid *g, int x, int y, int w, int h, uint32_t cp, GridAttr attr)
{
    if (!grid_clip_rect(g, &x, &y, &w, &h))
        return;
    int cw = grid_char_width(cp) == 2 ? 2 : 1;
    for (int row = y; row < y + h; row++)
        for (int col = x; col + cw <= x + w; col += cw)
            grid_put(g, col, row, cp, attr);
}

void grid_hline(Grid *g, int x, int y, int len, GridAttr attr, bool unicode)
{
    grid_fill(g, x, y, len, 1, unicode ? 0x2500 : '-', attr);
}

void grid_vline(Grid *g, int x, int y, int len, GridAttr attr, bool unicode)
{
    grid_fill(g, x, y, 1, len, unicode ? 0x2502 : '|', attr);
}

void grid_box(Grid *g, int x, int y, int w, int h, GridAttr attr, bool unicode)
{
    if (!g || w <= 0 || h <= 0)
        return;
    /* beyond the grid's edges nothing shows: keep the sums in range */
    if (x < -GRID_MAX_SIDE || y < -GRID_MAX_SIDE || x > GRID_MAX_SIDE || y > GRID_MAX_SIDE)
        return;
    w = w > 3 * GRID_MAX_SIDE ? 3 * GRID_MAX_SIDE : w;
    h = h > 3 * GRID_MAX_SIDE ? 3 * GRID_MAX_SIDE : h;
    int right = x + w - 1, bottom = y + h - 1;
    grid_hline(g, x + 1, y, w - 2, attr, unicode);
    grid_hline(g, x + 1, bottom, w - 2, attr, unicode);
    grid_vline(g, x, y + 1, h - 2, attr, unicode);
    grid_vline(g, right, y + 1, h - 2, attr, unicode);
    grid_put(g, x, y, unicode ? 0x250c : '+', attr);
    grid_put(g, right, y, unicode ? 0x2510 : '+', attr);
    grid_put(g, x, bottom, unicode ? 0x2514 : '+', attr);
    grid_put(g, right, bottom, unicode ? 0x2518 : '+', attr);
}

/* ---- output ----------------------------------------------------------------- */

/* Braille: dots 1-3 and 7 are the left column, 4-6 and 8 the right; bits
 * 0x09 are the top row, 0x12 the second, 0x24 the third, 0xc0 the bottom. */
static char braille_fallback(uint32_t cp)
{
    unsigned bits = cp - 0x2800;
    if (bits == 0)
        return ' ';
    bool top = bits & 0x1b, bottom = bits & 0xe4;
    return top && bottom ? ':' : top ? '\'' : '.';
}

static char box_fallback(uint32_t cp)
{
    static const uint32_t horizontal[] = {0x2500, 0x2501, 0x2504, 0x2505, 0x2508,
                                          0x2509, 0x254c, 0x254d, 0x2550, 0x2574,
                                          0x2576, 0x2578, 0x257a, 0x257c, 0x257e};
    static const uint32_t vertical[] = {0x2502, 0x2503, 0x2506, 0x2507, 0x250a,
                                        0x250b, 0x254e, 0x254f, 0x2551, 0x2575,
                                        0x2577, 0x2579, 0x257b, 0x257d, 0x257f};
    for (size_t i = 0; i < sizeof horizontal / sizeof horizontal[0]; i++)
        if (cp == horizontal[i])
            return '-';
    for (size_t i = 0; i < sizeof vertical / sizeof vertical[0]; i++)
        if (cp == vertical[i])
            return '|';
    return '+';
}

/* One ASCII character in place of a narrow non-ASCII one. */
static char ascii_fallback(uint32_t cp)
{
    if (cp >= 0x2500 && cp <= 0x257f)
        return box_fallback(cp);
    if (cp >= 0x2800 && cp <= 0x28ff)
        return braille_fallback(cp);
    switch (cp) {
    case 0x2591: return '.';                  /* ░ */
    case 0x2592: return ':';                  /* ▒ */
    case 0x2580: return '"';                  /* ▀ */
    case 0x2584: return '_';                  /* ▄ */
    case 0x25cf: case 0x25cb: return 'o';     /* ● ○ */
    case 0x2022: case 0x00b7: return '.';     /* • · */
    case 0x25a0: case 0x25a1: return '#';     /* ■ □ */
    case 0x25c6: case 0x25c7: return '@';     /* ◆ ◇ */
    case 0x25b2: return '^';
    case 0x25bc: return 'v';
    case 0x25c4: return '<';
    case 0x25ba: return '>';
    case 0x00d7: return 'x';
    case 0x2026: return '~';                  /* … */
    case 0x2013: case 0x2014: case 0x2212: return '-';
    case 0x00a0: return ' ';
    default: break;
    }
    if (cp >= 0x2580 && cp <= 0x259f)
        return '#';                           /* the other blocks and shades */
    return '?';
}

static void append_cell(StrBuf *out, const GridCell *c, bool unicode)
{
    if (c->cp < 0x80) {
        sb_append_char(out, (char)c->cp);
    } else if (unicode) {
        char buf[4];
        sb_append_n(out, buf, (size_t)utf8_encode(c->cp, buf));
    } else if (grid_char_width(c->cp) == 2) {
        sb_append(out, "??");
    } else {
        sb_append_char(out, ascii_fallback(c->cp));
    }
}

void grid_to_text(const Grid *g, StrBuf *out, bool unicode)
{
    if (!g || !out)
        return;
    for (int y = 0; y < g->height; y++) {
        int end = g->width;
        while (end > 0 && cell_at(g, end - 1, y)->cp == ' ')
            end--;
        for (int x = 0; x < end; x++) {
            const GridCell *c = cell_at(g, x, y);
            if (c->cp != GRID_WIDE_TAIL)
                append_cell(out, c, unicode);
        }
        sb_append_char(out, '\n');
    }
}

void grid_row_runs(const Grid *g, int y, GridRunFn fn, void *ctx)
{
    if (!g || !fn || y < 0 || y >= g->height)
        return;
    int end = g->width;
    while (end > 0 && cell_at(g, end - 1, y)->cp == ' ' && cell_at(g, end - 1, y)->attr == 0)
        end--;
    StrBuf run = STRBUF_INIT;
    int x = 0;
    while (x < end) {
        GridAttr attr = cell_at(g, x, y)->attr;
        int start = x;
        sb_clear(&run);
        sb_append(&run, "");
        for (; x < end && cell_at(g, x, y)->attr == attr; x++) {
            const GridCell *c = cell_at(g, x, y);
            if (c->cp != GRID_WIDE_TAIL)
                append_cell(&run, c, true);
        }
        fn(ctx, start, y, sb_str(&run), x - start, attr);
    }
    sb_free(&run);
}
