#include "console.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

typedef struct ConsoleLine {
    char *text;
    GridAttr attr;
} ConsoleLine;

/* Lines live in a ring: lines[(first + i) % cap] is line i. */
struct Console {
    ConsoleLine *lines;
    int first, n, cap;
    StrBuf partial;          /* the unfinished last line */
    GridAttr partial_attr;
    bool has_partial;
    int scroll;
};

Console *console_new(int max_lines)
{
    Console *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cap = max_lines > 0 ? max_lines : CONSOLE_DEFAULT_LINES;
    c->lines = calloc((size_t)c->cap, sizeof *c->lines);
    if (!c->lines) {
        free(c);
        return NULL;
    }
    sb_init(&c->partial);
    return c;
}

void console_clear(Console *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++)
        free(c->lines[(c->first + i) % c->cap].text);
    c->first = c->n = 0;
    sb_clear(&c->partial);
    c->has_partial = false;
    c->scroll = 0;
}

void console_free(Console *c)
{
    if (!c)
        return;
    console_clear(c);
    sb_free(&c->partial);
    free(c->lines);
    free(c);
}

static void push_line(Console *c, char *text, GridAttr attr)
{
    if (c->n == c->cap) {
        free(c->lines[c->first].text);
        c->first = (c->first + 1) % c->cap;
        c->n--;
    }
    ConsoleLine *l = &c->lines[(c->first + c->n) % c->cap];
    l->text = text;
    l->attr = attr;
    c->n++;
}

void console_end_line(Console *c)
{
    if (!c || !c->has_partial)
        return;
    push_line(c, sb_take(&c->partial), c->partial_attr);
    c->has_partial = false;
}

/* Columns of the unfinished line so far (for tab stops). */
static int partial_width(const Console *c)
{
    return grid_text_width(sb_str(&c->partial));
}

/* Does s end with a whole UTF-8 sequence (or a byte that is no sequence)? */
static bool utf8_ends_whole(const char *s, size_t len)
{
    size_t start = len;
    while (start > 0 && len - start < 4 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
        start--;
    if (start == 0)
        return true;
    unsigned char lead = (unsigned char)s[start - 1];
    size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    return len - (start - 1) >= want;
}

void console_write(Console *c, const char *text, size_t len, GridAttr attr)
{
    if (!c || !text)
        return;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == '\n') {
            if (!c->has_partial)
                c->partial_attr = attr;
            c->has_partial = true;
            console_end_line(c);
            continue;
        }
        if (!c->has_partial) {
            c->has_partial = true;
            c->partial_attr = attr;
            sb_clear(&c->partial);
        }
        if (ch == '\r') {
            sb_clear(&c->partial);
        } else if (ch == '\t') {
            int col = partial_width(c);
            sb_repeat(&c->partial, ' ', (size_t)(8 - col % 8));
        } else if (ch == '\0') {
            sb_append_char(&c->partial, ' ');
        } else {
            sb_append_char(&c->partial, ch);
        }
        /* a program that prints without ever ending the line still gets
         * lines (each is wrapped again at every frame) */
        if (c->partial.len >= CONSOLE_MAX_LINE_BYTES && utf8_ends_whole(sb_str(&c->partial), c->partial.len))
            console_end_line(c);
    }
}

void console_puts(Console *c, const char *text, GridAttr attr)
{
    if (text)
        console_write(c, text, strlen(text), attr);
}

int console_line_count(const Console *c)
{
    return c ? c->n + (c->has_partial ? 1 : 0) : 0;
}

const char *console_line(const Console *c, int i, GridAttr *attr)
{
    if (!c || i < 0 || i >= console_line_count(c))
        return NULL;
    if (i == c->n) {
        if (attr)
            *attr = c->partial_attr;
        return sb_str(&c->partial);
    }
    const ConsoleLine *l = &c->lines[(c->first + i) % c->cap];
    if (attr)
        *attr = l->attr;
    return l->text;
}

/* ---- wrapping ---- */

static int char_columns(uint32_t cp)
{
    int w = grid_char_width(cp);
    return w < 0 ? 1 : w;
}

static int columns_between(const char *from, const char *to)
{
    int cols = 0;
    while (from < to) {
        uint32_t cp = grid_utf8_next(&from);
        if (!cp)
            break;
        cols += char_columns(cp);
    }
    return cols;
}

int text_wrap(const char *text, int width, WrapRowFn fn, void *ctx)
{
    if (width < 1)
        width = 1;
    int rows = 0;
    const char *row_start = text, *p = text, *last_break = NULL;
    int col = 0;
    while (*p) {
        const char *q = p;
        uint32_t cp = grid_utf8_next(&q);
        int w = char_columns(cp);
        if (col + w > width && col > 0) {
            /* break at the space that does not fit, else after the last
             * space of the row, else inside the word */
            const char *end = cp == ' ' ? p : last_break && last_break > row_start ? last_break : p;
            if (fn)
                fn(ctx, rows, row_start, (size_t)(end - row_start));
            rows++;
            row_start = end;
            while (*row_start == ' ')
                row_start++;
            if (p < row_start)
                p = row_start;
            col = columns_between(row_start, p);
            last_break = NULL;
            continue;
        }
        col += w;
        p = q;
        if (cp == ' ')
            last_break = p;
    }
    if (rows == 0 || row_start < p) {
        if (fn)
            fn(ctx, rows, row_start, (size_t)(p - row_start));
        rows++;
    }
    return rows;
}

/* ---- scrolling and drawing ---- */

static int total_rows(const Console *c, int width)
{
    int rows = 0;
    int n = console_line_count(c);
    for (int i = 0; i < n; i++)
        rows += text_wrap(console_line(c, i, NULL), width, NULL, NULL);
    return rows;
}

static int clamp_scroll(const Console *c, int scroll, int width, int height)
{
    if (scroll <= 0)
        return 0;
    int max = total_rows(c, width) - height;
    if (max < 0)
        max = 0;
    return scroll < max ? scroll : max;
}

void console_scroll(Console *c, int rows, int width, int height)
{
    if (!c)
        return;
    c->scroll = clamp_scroll(c, c->scroll + rows, width, height);
}

void console_scroll_to_end(Console *c)
{
    if (c)
        c->scroll = 0;
}

int console_scroll_offset(const Console *c)
{
    return c ? c->scroll : 0;
}

typedef struct DrawRows {
    Grid *g;
    Rect area;
    GridAttr attr;
    int bottom;       /* the area row the line's first row goes to, from the top */
} DrawRows;

static void draw_row(void *ctx, int row, const char *start, size_t len)
{
    DrawRows *d = ctx;
    int y = d->bottom + row;
    if (y < 0 || y >= d->area.h)
        return;
    grid_text_n(d->g, d->area.x, d->area.y + y, start, len, d->attr, d->area.w);
}

void console_draw(const Console *c, Grid *g, Rect area)
{
    if (!c || area.w <= 0 || area.h <= 0)
        return;
    grid_fill(g, area.x, area.y, area.w, area.h, ' ', 0);
    int skip = clamp_scroll(c, c->scroll, area.w, area.h);
    /* Walk lines from the newest up; `bottom` is the row just below what is
     * left to fill. */
    int bottom = area.h + skip;
    for (int i = console_line_count(c) - 1; i >= 0 && bottom > 0; i--) {
        GridAttr attr;
        const char *text = console_line(c, i, &attr);
        int rows = text_wrap(text, area.w, NULL, NULL);
        bottom -= rows;
        if (bottom >= area.h)
            continue;
        DrawRows d = {g, area, attr, bottom};
        text_wrap(text, area.w, draw_row, &d);
    }
}
