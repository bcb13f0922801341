#include "lesson.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "strbuf.h"

typedef struct LineView {
    const char *start;
    size_t len;
} LineView;

static bool is_prose(LineView l)
{
    return l.len >= 2 && l.start[0] == '#' && l.start[1] == '#';
}

static bool is_code(LineView l)
{
    size_t i = 0;
    while (i < l.len && isspace((unsigned char)l.start[i]))
        i++;
    return i < l.len && l.start[i] != '#';
}

/* "## text" -> "text" (one space after the hashes is dropped). */
static void append_prose_line(StrBuf *sb, LineView l)
{
    size_t i = 2;
    if (i < l.len && l.start[i] == ' ')
        i++;
    if (sb->len)
        sb_append_char(sb, '\n');
    sb_append_n(sb, l.start + i, l.len - i);
}

static LineView *split_lines(const char *text, size_t len, int *n_out)
{
    int n = 0, cap = 64;
    LineView *lines = malloc((size_t)cap * sizeof *lines);
    size_t start = 0;
    for (size_t i = 0; lines && i <= len; i++) {
        if (i == len || text[i] == '\n') {
            if (i == len && i == start)
                break;
            if (n == cap) {
                cap *= 2;
                LineView *bigger = realloc(lines, (size_t)cap * sizeof *lines);
                if (!bigger)
                    abort();
                lines = bigger;
            }
            size_t end = i;
            if (end > start && text[end - 1] == '\r')
                end--;
            lines[n].start = text + start;
            lines[n].len = end - start;
            n++;
            start = i + 1;
        }
    }
    if (!lines)
        abort();
    *n_out = n;
    return lines;
}

static void add_cell(Lesson *out, const char *name, StrBuf *prose, int prose_line,
                     const LineView *lines, int code_from, int code_to)
{
    Cell *cells = realloc(out->cells, (size_t)(out->n_cells + 1) * sizeof *cells);
    if (!cells)
        abort();
    out->cells = cells;
    Cell *c = &out->cells[out->n_cells++];
    memset(c, 0, sizeof *c);
    c->prose = prose->len ? strdup(sb_str(prose)) : NULL;
    c->prose_line = prose->len ? prose_line : 0;
    StrBuf code = STRBUF_INIT;
    for (int i = code_from; i < code_to; i++) {
        sb_append_n(&code, lines[i].start, lines[i].len);
        sb_append_char(&code, '\n');
        c->has_code |= is_code(lines[i]);
    }
    c->code_line = code_from + 1;
    c->last_line = code_to > code_from ? code_to : code_from;
    c->code = source_new(name, sb_str(&code), code.len, c->code_line);
    sb_free(&code);
}

/* "# Title" or "Title" from the first prose line. */
static char *title_from(const char *prose)
{
    const char *p = prose;
    while (*p == '#' || *p == ' ')
        p++;
    const char *nl = strchr(p, '\n');
    return strndup(p, nl ? (size_t)(nl - p) : strlen(p));
}

void lesson_split(Lesson *out, const char *name, const char *text, size_t len)
{
    memset(out, 0, sizeof *out);
    out->path = strdup(name);
    out->source = source_new(name, text, len, 1);
    int n;
    LineView *lines = split_lines(text, len, &n);
    int i = 0;
    /* code before the first prose run */
    while (i < n && !is_prose(lines[i]))
        i++;
    bool leading_code = false;
    for (int k = 0; k < i; k++)
        leading_code |= is_code(lines[k]);
    StrBuf prose = STRBUF_INIT;
    if (leading_code)
        add_cell(out, name, &prose, 0, lines, 0, i);
    while (i < n) {
        int prose_line = i + 1;
        sb_clear(&prose);
        while (i < n && is_prose(lines[i]))
            append_prose_line(&prose, lines[i++]);
        if (!out->title && prose.len)
            out->title = title_from(sb_str(&prose));
        int code_from = i;
        while (i < n && !is_prose(lines[i]))
            i++;
        add_cell(out, name, &prose, prose_line, lines, code_from, i);
    }
    sb_free(&prose);
    free(lines);
    if (!out->title) {
        const char *slash = strrchr(name, '/');
        out->title = strdup(slash ? slash + 1 : name);
    }
}

bool lesson_load(Lesson *out, const char *path)
{
    size_t len;
    char *text = app_read_file(path, &len);
    if (!text)
        return false;
    lesson_split(out, path, text, len);
    free(text);
    return true;
}

void lesson_free(Lesson *l)
{
    for (int i = 0; i < l->n_cells; i++) {
        free(l->cells[i].prose);
        source_release(l->cells[i].code);
    }
    free(l->cells);
    free(l->path);
    free(l->title);
    source_release(l->source);
    memset(l, 0, sizeof *l);
}
