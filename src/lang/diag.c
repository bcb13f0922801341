/*
 * diag.c - sources, diagnostics and their standard text (see diag.h).
 */
#include "diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static char *dup_string(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (!d)
        abort();
    memcpy(d, s, n + 1);
    return d;
}

/* --------------------------------------------------------------- Source */

Source *source_new(const char *name, const char *text, size_t len, int first_line)
{
    Source *s = calloc(1, sizeof *s);
    if (!s || len == SIZE_MAX)
        abort();
    s->refcount = 1;
    s->name = dup_string(name ? name : "<input>");
    s->text = malloc(len + 1);
    if (!s->text)
        abort();
    if (len)
        memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    s->first_line = first_line > 0 ? first_line : 1;
    return s;
}

Source *source_retain(Source *s)
{
    if (s)
        s->refcount++;
    return s;
}

void source_release(Source *s)
{
    if (!s || --s->refcount > 0)
        return;
    free(s->name);
    free(s->text);
    free(s);
}

const char *source_line(const Source *s, int line, size_t *len)
{
    *len = 0;
    if (!s || line < s->first_line)
        return NULL;
    size_t pos = 0;
    for (int i = s->first_line; i < line; i++) {
        const char *nl = memchr(s->text + pos, '\n', s->len - pos);
        if (!nl)
            return NULL;
        pos = (size_t)(nl - s->text) + 1;
    }
    /* the empty "line" after a final newline is not a line of the text */
    if (pos == s->len && pos > 0)
        return NULL;
    const char *start = s->text + pos;
    const char *nl = memchr(start, '\n', s->len - pos);
    size_t n = nl ? (size_t)(nl - start) : s->len - pos;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    *len = n;
    return start;
}

/* ----------------------------------------------------------------- Diag */

void diag_init(Diag *d)
{
    memset(d, 0, sizeof *d);
}

static void frame_free(DiagFrame *f)
{
    source_release(f->source);
    free(f->function);
}

void diag_clear(Diag *d)
{
    free(d->message);
    source_release(d->source);
    for (int i = 0; i < d->n_frames; i++)
        frame_free(&d->frames[i]);
    diag_init(d);
}

void diag_set(Diag *d, DiagKind kind, Source *src, int line, int col, const char *fmt, ...)
{
    diag_clear(d);
    StrBuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    d->set = true;
    d->kind = kind;
    d->message = sb_take(&sb);
    d->source = source_retain(src);
    d->line = line;
    d->col = col;
}

void diag_push_frame(Diag *d, Source *src, int line, int col, const char *function)
{
    DiagFrame f = {
        .source = source_retain(src),
        .line = line,
        .col = col,
        .function = dup_string(function ? function : "<module>"),
    };
    if (d->n_frames < DIAG_MAX_FRAMES) {
        memmove(&d->frames[1], &d->frames[0], (size_t)d->n_frames * sizeof f);
        d->frames[0] = f;
        d->n_frames++;
        return;
    }
    /* Full: frames[half..] (the innermost, pushed first) stay; the outer
     * half slides inwards and the frame next to the gap is left out. */
    const int half = DIAG_MAX_FRAMES / 2;
    frame_free(&d->frames[half - 1]);
    memmove(&d->frames[1], &d->frames[0], (size_t)(half - 1) * sizeof f);
    d->frames[0] = f;
    d->frames_omitted++;
}

void diag_move(Diag *dst, Diag *src)
{
    if (dst == src)
        return;
    diag_clear(dst);
    *dst = *src;
    diag_init(src);
}

/* "name:line:col: " (or less when not known) */
static void format_location(StrBuf *out, const Source *src, int line, int col)
{
    if (src)
        sb_printf(out, "%s:", src->name);
    if (line > 0) {
        sb_printf(out, "%d:", line);
        if (col > 0)
            sb_printf(out, "%d:", col);
    }
    if (src || line > 0)
        sb_append_char(out, ' ');
}

void diag_format_short(const Diag *d, StrBuf *out)
{
    format_location(out, d->source, d->line, d->col);
    sb_printf(out, "error: %s", d->message ? d->message : "unknown error");
}

/* ------------------------------------------------------- the source quote */

/* A quoted line longer than this (in code points) is shown as a window
 * around the caret, so that a huge one-line input gives a short message. */
#define QUOTE_MAX_CHARS 100

typedef struct QuoteChar {
    const char *bytes;   /* what to print */
    int n_bytes;
    int width;           /* terminal cells; a tab is printed as a tab on both lines */
    bool tab;
} QuoteChar;

/* The character at s[*i], made safe to print (control characters and
 * invalid bytes become '?'); advances *i. */
static QuoteChar quote_char_at(const char *s, size_t n, size_t *i)
{
    uint32_t cp;
    int len = utf8_decode(s + *i, n - *i, &cp);
    QuoteChar q = {s + *i, len, 1, false};
    if (len == 0) {
        q.bytes = "?";
        q.n_bytes = 1;
        *i += 1;
        return q;
    }
    *i += (size_t)len;
    if (cp == '\t') {
        q.tab = true;
    } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
        q.bytes = "?";
        q.n_bytes = 1;
    } else {
        q.width = utf8_display_width(cp);
    }
    return q;
}

/* Byte offset of the code point with index `index` (or n). */
static size_t offset_of_char(const char *s, size_t n, size_t index)
{
    size_t i = 0;
    for (size_t k = 0; k < index && i < n; k++)
        (void)quote_char_at(s, n, &i);
    return i;
}

static bool is_blank_char(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

/*
 *     <the line, leading blanks dropped>
 *     <spaces>^
 * The caret stands under code point `col` of the line; wide characters
 * before it count two cells, tabs are repeated as tabs.
 */
static void format_quote(StrBuf *out, const char *line, size_t len, int col)
{
    size_t n_chars = utf8_count(line, len);
    size_t caret = col > 1 ? (size_t)col - 1 : 0;   /* code points before the caret */
    if (caret > n_chars)
        caret = n_chars;
    size_t first = 0;   /* first code point shown */
    while (first < caret && is_blank_char(line[first]))
        first++;
    bool cut_left = false, cut_right = false;
    size_t last = n_chars;   /* one past the last code point shown */
    if (last - first > QUOTE_MAX_CHARS) {
        if (caret > first + QUOTE_MAX_CHARS / 2) {
            first = caret - QUOTE_MAX_CHARS / 2;
            cut_left = true;
        }
        if (last > first + QUOTE_MAX_CHARS) {
            last = first + QUOTE_MAX_CHARS;
            cut_right = true;
        }
    }
    StrBuf marks = STRBUF_INIT;
    sb_append(out, "    ");
    sb_append(&marks, "    ");
    if (cut_left) {
        sb_append(out, "...");
        sb_append(&marks, "   ");
    }
    size_t i = offset_of_char(line, len, first);
    for (size_t k = first; k < last; k++) {
        QuoteChar q = quote_char_at(line, len, &i);
        sb_append_n(out, q.bytes, (size_t)q.n_bytes);
        if (k < caret) {
            if (q.tab)
                sb_append_char(&marks, '\t');
            else
                sb_repeat(&marks, ' ', (size_t)q.width);
        }
    }
    if (cut_right)
        sb_append(out, "...");
    sb_append_char(out, '\n');
    sb_append(out, sb_str(&marks));
    sb_append(out, "^\n");
    sb_free(&marks);
}

void diag_format(const Diag *d, StrBuf *out)
{
    diag_format_short(d, out);
    sb_append_char(out, '\n');
    size_t len;
    const char *line = source_line(d->source, d->line, &len);
    if (line)
        format_quote(out, line, len, d->col);
    if (d->n_frames == 0)
        return;
    sb_append(out, "  call chain (innermost last):\n");
    for (int i = 0; i < d->n_frames; i++) {
        if (d->frames_omitted > 0 && i == DIAG_MAX_FRAMES / 2)
            sb_printf(out, "    ... %d more ...\n", d->frames_omitted);
        const DiagFrame *f = &d->frames[i];
        sb_append(out, "    ");
        format_location(out, f->source, f->line, f->col);
        sb_printf(out, "in %s\n", f->function);
    }
}
