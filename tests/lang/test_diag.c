/*
 * test_diag.c - sources, diagnostics and their standard text; UTF-8 helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "utf8.h"

static Source *text_source(const char *name, const char *text, int first_line)
{
    return source_new(name, text, strlen(text), first_line);
}

/* diag_format of d, as a malloc'd string */
static char *formatted(const Diag *d)
{
    StrBuf sb = STRBUF_INIT;
    diag_format(d, &sb);
    return sb_take(&sb);
}

static void assert_formatted(const Diag *d, const char *expected)
{
    char *text = formatted(d);
    assert_string_equal(text, expected);
    free(text);
}

/* ------------------------------------------------------------- Source */

static void test_source_copies_and_counts(void **state)
{
    (void)state;
    char text[] = "a = 1\nb = 2\n";
    Source *s = source_new("x.nnl", text, strlen(text), 1);
    text[0] = 'z';
    assert_string_equal(s->text, "a = 1\nb = 2\n");
    assert_string_equal(s->name, "x.nnl");
    assert_int_equal(s->len, 12);
    assert_int_equal(s->refcount, 1);
    assert_ptr_equal(source_retain(s), s);
    assert_int_equal(s->refcount, 2);
    source_release(s);
    assert_int_equal(s->refcount, 1);
    source_release(s);
    source_release(NULL);
}

static void test_source_lines(void **state)
{
    (void)state;
    Source *s = text_source("x.nnl", "first\r\nsecond\n\nfourth", 10);
    size_t len;
    const char *line = source_line(s, 10, &len);
    assert_non_null(line);
    assert_int_equal(len, 5);   /* the \r is not part of the line */
    assert_memory_equal(line, "first", 5);
    line = source_line(s, 11, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(line, "second", 6);
    line = source_line(s, 12, &len);
    assert_non_null(line);
    assert_int_equal(len, 0);
    line = source_line(s, 13, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(line, "fourth", 6);
    assert_null(source_line(s, 14, &len));
    assert_null(source_line(s, 9, &len));
    assert_null(source_line(s, 0, &len));
    source_release(s);

    s = text_source("y.nnl", "only\n", 1);
    assert_non_null(source_line(s, 1, &len));
    assert_null(source_line(s, 2, &len));   /* nothing after the last newline */
    source_release(s);

    s = text_source("empty", "", 1);
    line = source_line(s, 1, &len);
    assert_non_null(line);
    assert_int_equal(len, 0);
    source_release(s);
    assert_null(source_line(NULL, 1, &len));
}

/* ------------------------------------------------------------ format */

static void test_format_with_caret(void **state)
{
    (void)state;
    Source *s = text_source("lessons/x.nnl", "w = 1\ny = x @ w\n", 6);
    Diag d;
    diag_init(&d);
    diag_set(&d, DIAG_RUNTIME, s, 7, 7, "matmul shape mismatch: (%d, %d) @ (%d, %d)", 3, 2, 3, 1);
    source_release(s);   /* the diag keeps its own reference */
    assert_true(d.set);
    assert_int_equal(d.kind, DIAG_RUNTIME);
    assert_formatted(&d, "lessons/x.nnl:7:7: error: matmul shape mismatch: (3, 2) @ (3, 1)\n"
                         "    y = x @ w\n"
                         "          ^\n");
    StrBuf sb = STRBUF_INIT;
    diag_format_short(&d, &sb);
    assert_string_equal(sb_str(&sb),
                        "lessons/x.nnl:7:7: error: matmul shape mismatch: (3, 2) @ (3, 1)");
    sb_free(&sb);
    diag_clear(&d);
    assert_false(d.set);
    assert_null(d.message);
}

static void test_format_strips_indentation(void **state)
{
    (void)state;
    Source *s = text_source("m.nnl", "def f(x):\n        return x @ w\n", 1);
    Diag d;
    diag_init(&d);
    diag_set(&d, DIAG_RUNTIME, s, 2, 18, "boom");
    assert_formatted(&d, "m.nnl:2:18: error: boom\n"
                         "    return x @ w\n"
                         "             ^\n");
    /* a caret inside the indentation keeps it */
    diag_set(&d, DIAG_SYNTAX, s, 2, 3, "unexpected indent");
    assert_formatted(&d, "m.nnl:2:3: error: unexpected indent\n"
                         "          return x @ w\n"
                         "    ^\n");
    diag_clear(&d);
    source_release(s);
}

static void test_format_counts_code_points(void **state)
{
    (void)state;
    /* "é" is one column: the '@' is column 10 */
    Source *s = text_source("u.nnl", "café = x @ \"ü\"\n", 1);
    Diag d;
    diag_init(&d);
    diag_set(&d, DIAG_RUNTIME, s, 1, 10, "bad");
    assert_formatted(&d, "u.nnl:1:10: error: bad\n"
                         "    café = x @ \"ü\"\n"
                         "             ^\n");
    diag_clear(&d);
    source_release(s);

    /* Chinese characters take two terminal cells each */
    s = text_source("c.nnl", "print(\"损失\", x @ w)  # 计算\n", 1);
    diag_init(&d);
    diag_set(&d, DIAG_RUNTIME, s, 1, 15, "bad");
    assert_formatted(&d, "c.nnl:1:15: error: bad\n"
                         "    print(\"损失\", x @ w)  # 计算\n"
                         "                    ^\n");
    diag_clear(&d);
    source_release(s);
}

static void test_format_first_line_offset(void **state)
{
    (void)state;
    /* a cell of a lesson: its text starts at line 40 of the file */
    Source *s = text_source("lessons/03.nnl", "x = 1\nprint(x +)\n", 40);
    Diag d;
    diag_init(&d);
    diag_set(&d, DIAG_SYNTAX, s, 41, 10, "invalid syntax");
    assert_formatted(&d, "lessons/03.nnl:41:10: error: invalid syntax\n"
                         "    print(x +)\n"
                         "             ^\n");
    diag_clear(&d);
    source_release(s);
}

static void test_format_tabs_and_controls(void **state)
{
    (void)state;
    Source *s = text_source("t.nnl", "s = \"a\tb\x01\" + 1\n", 1);
    Diag d;
    diag_init(&d);
    diag_set(&d, DIAG_RUNTIME, s, 1, 12, "bad");
    /* the tab is repeated on the caret line; the control character shows as '?' */
    assert_formatted(&d, "t.nnl:1:12: error: bad\n"
                         "    s = \"a\tb?\" + 1\n"
                         "          \t    ^\n");
    diag_clear(&d);
    source_release(s);

    s = source_new("b.nnl", "x = \"\xff\"\n", 8, 1);
    diag_init(&d);
    diag_set(&d, DIAG_SYNTAX, s, 1, 6, "invalid UTF-8 byte 0xff");
    assert_formatted(&d, "b.nnl:1:6: error: invalid UTF-8 byte 0xff\n"
                         "    x = \"?\"\n"
                         "         ^\n");
    diag_clear(&d);
    source_release(s);
}

static void test_format_long_line_window(void **state)
{
    (void)state;
    StrBuf line = STRBUF_INIT;
    sb_append(&line, "x = ");
    sb_repeat(&line, 'a', 300);
    sb_append(&line, " $ ");
    sb_repeat(&line, 'b', 300);
    Source *s = source_new("long.nnl", line.data, line.len, 1);
    Diag d;
    diag_init(&d);
    diag_set(&d, DIAG_SYNTAX, s, 1, 306, "invalid character '$' (U+0024)");
    char *text = formatted(&d);
    /* 50 characters before the caret and 50 after it, cut with "..." */
    StrBuf expected = STRBUF_INIT;
    sb_append(&expected, "long.nnl:1:306: error: invalid character '$' (U+0024)\n    ...");
    sb_repeat(&expected, 'a', 49);
    sb_append(&expected, " $ ");
    sb_repeat(&expected, 'b', 48);
    sb_append(&expected, "...\n       ");
    sb_repeat(&expected, ' ', 50);
    sb_append(&expected, "^\n");
    assert_string_equal(text, sb_str(&expected));
    free(text);
    sb_free(&expected);
    sb_free(&line);
    diag_clear(&d);
    source_release(s);
}

static void test_format_without_source_line(void **state)
{
    (void)state;
    Diag d;
    diag_init(&d);
    diag_set(&d, DIAG_INTERRUPT, NULL, 0, 0, "interrupted");
    assert_formatted(&d, "error: interrupted\n");
    Source *s = text_source("e.nnl", "x = 1\n", 1);
    diag_set(&d, DIAG_SYNTAX, s, 2, 1, "expected an indented block");
    assert_formatted(&d, "e.nnl:2:1: error: expected an indented block\n");
    diag_set(&d, DIAG_LIMIT, s, 1, 0, "too much");
    assert_formatted(&d, "e.nnl:1: error: too much\n"
                         "    x = 1\n"
                         "    ^\n");
    diag_clear(&d);
    source_release(s);
}

/* ------------------------------------------------------------ frames */

static void test_call_chain(void **state)
{
    (void)state;
    Source *s = text_source("lessons/x.nnl",
                            "def forward(x):\n    return x @ w\n"
                            "model = 1\n"
                            "y = forward(3)\n", 1);
    Diag d;
    diag_init(&d);
    diag_set(&d, DIAG_RUNTIME, s, 2, 14, "matmul shape mismatch: (3, 2) @ (3, 1)");
    /* the error travels outwards: innermost frame first */
    diag_push_frame(&d, s, 2, 14, "forward");
    diag_push_frame(&d, s, 4, 5, "<module>");
    assert_int_equal(d.n_frames, 2);
    assert_string_equal(d.frames[0].function, "<module>");
    assert_formatted(&d, "lessons/x.nnl:2:14: error: matmul shape mismatch: (3, 2) @ (3, 1)\n"
                         "    return x @ w\n"
                         "             ^\n"
                         "  call chain (innermost last):\n"
                         "    lessons/x.nnl:4:5: in <module>\n"
                         "    lessons/x.nnl:2:14: in forward\n");
    /* a new error replaces the old one with its frames */
    diag_set(&d, DIAG_RUNTIME, s, 3, 1, "other");
    assert_int_equal(d.n_frames, 0);
    assert_int_equal(d.frames_omitted, 0);
    diag_clear(&d);
    source_release(s);
}

static void test_call_chain_keeps_both_ends(void **state)
{
    (void)state;
    Source *s = text_source("r.nnl", "def f(n):\n    return f(n - 1)\nf(100)\n", 1);
    Diag d;
    diag_init(&d);
    diag_set(&d, DIAG_LIMIT, s, 2, 12, "recursion too deep");
    const int total = 40;
    for (int i = 0; i < total - 1; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", total - 1 - i);   /* f39 innermost ... f1 */
        diag_push_frame(&d, s, 2, 12, name);
    }
    diag_push_frame(&d, s, 3, 1, NULL);   /* NULL: the module */
    assert_int_equal(d.n_frames, DIAG_MAX_FRAMES);
    assert_int_equal(d.frames_omitted, total - DIAG_MAX_FRAMES);
    assert_string_equal(d.frames[0].function, "<module>");
    assert_string_equal(d.frames[DIAG_MAX_FRAMES / 2 - 1].function, "f7");
    assert_string_equal(d.frames[DIAG_MAX_FRAMES / 2].function, "f32");
    assert_string_equal(d.frames[DIAG_MAX_FRAMES - 1].function, "f39");
    StrBuf expected = STRBUF_INIT;
    sb_append(&expected, "r.nnl:2:12: error: recursion too deep\n"
                         "    return f(n - 1)\n"
                         "           ^\n"
                         "  call chain (innermost last):\n"
                         "    r.nnl:3:1: in <module>\n");
    for (int i = 1; i <= 7; i++)
        sb_printf(&expected, "    r.nnl:2:12: in f%d\n", i);
    sb_append(&expected, "    ... 24 more ...\n");
    for (int i = 32; i <= 39; i++)
        sb_printf(&expected, "    r.nnl:2:12: in f%d\n", i);
    char *text = formatted(&d);
    assert_string_equal(text, sb_str(&expected));
    free(text);
    sb_free(&expected);
    diag_clear(&d);
    assert_int_equal(s->refcount, 1);   /* every frame gave its reference back */
    source_release(s);
}

static void test_move(void **state)
{
    (void)state;
    Source *s = text_source("m.nnl", "x\n", 1);
    Diag a, b;
    diag_init(&a);
    diag_init(&b);
    diag_set(&b, DIAG_RUNTIME, s, 1, 1, "old");
    diag_set(&a, DIAG_SYNTAX, s, 1, 1, "name '%s' is not defined", "x");
    diag_push_frame(&a, s, 1, 1, "<module>");
    diag_move(&b, &a);
    assert_false(a.set);
    assert_int_equal(a.n_frames, 0);
    assert_null(a.message);
    assert_true(b.set);
    assert_string_equal(b.message, "name 'x' is not defined");
    assert_int_equal(b.n_frames, 1);
    diag_move(&b, &b);
    assert_true(b.set);
    diag_clear(&b);
    diag_clear(&a);
    assert_int_equal(s->refcount, 1);
    source_release(s);
}

/* -------------------------------------------------------------- UTF-8 */

static void test_utf8_decode(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(utf8_decode("A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(utf8_decode("\xc3\xa9", 2, &cp), 2);
    assert_int_equal(cp, 0xe9);
    assert_int_equal(utf8_decode("\xe2\x82\xac", 3, &cp), 3);
    assert_int_equal(cp, 0x20ac);
    assert_int_equal(utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1f600);
    /* invalid: stray continuation, overlong, surrogate, too large, truncated */
    assert_int_equal(utf8_decode("\x80", 1, &cp), 0);
    assert_int_equal(cp, 0x80);
    assert_int_equal(utf8_decode("\xc0\xaf", 2, &cp), 0);
    assert_int_equal(utf8_decode("\xe0\x80\xaf", 3, &cp), 0);
    assert_int_equal(utf8_decode("\xed\xa0\x80", 3, &cp), 0);
    assert_int_equal(utf8_decode("\xf4\x90\x80\x80", 4, &cp), 0);
    assert_int_equal(utf8_decode("\xf5\x80\x80\x80", 4, &cp), 0);
    assert_int_equal(utf8_decode("\xe2\x82", 2, &cp), 0);
    assert_int_equal(utf8_decode("\xe2\x82\xac", 2, &cp), 0);   /* cut by n */
    assert_int_equal(utf8_decode("\xe2\x41\xac", 3, &cp), 0);
}

static void test_utf8_encode_round_trip(void **state)
{
    (void)state;
    const uint32_t samples[] = {0, 0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xfffd, 0xffff, 0x10000,
                                0x10ffff};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char buf[4];
        int n = utf8_encode(samples[i], buf);
        uint32_t back;
        assert_int_equal(utf8_decode(buf, (size_t)n, &back), n);
        assert_int_equal(back, samples[i]);
    }
    assert_int_equal(utf8_count("a\xc3\xa9\xe2\x82\xac\xff!", 8), 5);
    assert_int_equal(utf8_count("", 0), 0);
}

static void test_utf8_display_width(void **state)
{
    (void)state;
    assert_int_equal(utf8_display_width('a'), 1);
    assert_int_equal(utf8_display_width(0xe9), 1);      /* é */
    assert_int_equal(utf8_display_width(0x301), 0);     /* combining acute */
    assert_int_equal(utf8_display_width(0x635f), 2);    /* 损 */
    assert_int_equal(utf8_display_width(0xff0c), 2);    /* full-width comma */
    assert_int_equal(utf8_display_width(0xac00), 2);    /* 가 */
    assert_int_equal(utf8_display_width(0x1f600), 2);   /* 😀 */
    assert_int_equal(utf8_display_width(0x20ac), 1);    /* € */
    assert_int_equal(utf8_display_width(0x2192), 1);    /* → */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_copies_and_counts),
        cmocka_unit_test(test_source_lines),
        cmocka_unit_test(test_format_with_caret),
        cmocka_unit_test(test_format_strips_indentation),
        cmocka_unit_test(test_format_counts_code_points),
        cmocka_unit_test(test_format_first_line_offset),
        cmocka_unit_test(test_format_tabs_and_controls),
        cmocka_unit_test(test_format_long_line_window),
        cmocka_unit_test(test_format_without_source_line),
        cmocka_unit_test(test_call_chain),
        cmocka_unit_test(test_call_chain_keeps_both_ends),
        cmocka_unit_test(test_move),
        cmocka_unit_test(test_utf8_decode),
        cmocka_unit_test(test_utf8_encode_round_trip),
        cmocka_unit_test(test_utf8_display_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
