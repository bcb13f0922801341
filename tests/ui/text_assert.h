/*
 * text_assert.h - comparing drawn text with the expected text in UI tests.
 *
 * On a mismatch both texts are printed with the lines framed by '|', and
 * the actual one also as a C string literal, so that a change, once looked
 * at and found right, can be pasted back into the test.
 */
#ifndef NNREPL_TESTS_UI_TEXT_ASSERT_H
#define NNREPL_TESTS_UI_TEXT_ASSERT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grid.h"
#include "strbuf.h"

static inline void print_framed(const char *title, const char *s)
{
    fprintf(stderr, "%s:\n", title);
    while (*s) {
        const char *end = strchr(s, '\n');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        fprintf(stderr, "|%.*s|\n", (int)n, s);
        s += n + (end ? 1 : 0);
    }
}

static inline void print_as_c_literal(const char *s)
{
    fputs("as C:\n    \"", stderr);
    for (const char *p = s; *p; p++) {
        if (*p == '\n')
            fputs(p[1] ? "\\n\"\n    \"" : "\\n\"", stderr);
        else if (*p == '"' || *p == '\\')
            fprintf(stderr, "\\%c", *p);
        else
            fputc(*p, stderr);
    }
    fputs(";\n", stderr);
}

static inline void expect_text(const char *actual, const char *expected)
{
    if (strcmp(actual, expected) == 0)
        return;
    print_framed("expected", expected);
    print_framed("actual", actual);
    print_as_c_literal(actual);
    fail_msg("drawn text differs from the expected text");
}

/* The grid as text, compared with expected. */
static inline void expect_grid(const Grid *g, bool unicode, const char *expected)
{
    StrBuf sb = STRBUF_INIT;
    grid_to_text(g, &sb, unicode);
    sb_append(&sb, "");
    expect_text(sb_str(&sb), expected);
    sb_free(&sb);
}

/* Every line of text is at most width columns and there are height lines. */
static inline void expect_text_fits(const char *text, int width, int height)
{
    int lines = 0;
    StrBuf line = STRBUF_INIT;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        assert_non_null(end);
        sb_clear(&line);
        sb_append_n(&line, p, (size_t)(end - p));
        int w = grid_text_width(sb_str(&line));
        if (w > width)
            fail_msg("line %d is %d columns wide, more than %d: %s", lines, w, width,
                     sb_str(&line));
        lines++;
        p = end + 1;
    }
    sb_free(&line);
    assert_int_equal(lines, height);
}

#endif
