/*
 * test_lexer.c - tokens, indentation, literals' extents and the lexer's
 * errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lexer.h"

/* Each token of text, space separated: names, numbers and strings as
 * NAME:x INT:1 STR:'a', layout tokens as NL > < EOF, others as their text;
 * an error as ERR@line:col:message (and the lexing stops there). With
 * positions, each token gets @line:col. */
static char *lex_text(const char *text, size_t len, int first_line, bool positions)
{
    Source *src = source_new("<test>", text, len, first_line);
    Lexer lx;
    lexer_init(&lx, src, 100);
    StrBuf out = STRBUF_INIT;
    for (int guard = 0; guard < 10000; guard++) {
        Token t = lexer_next_token(&lx);
        if (out.len)
            sb_append_char(&out, ' ');
        switch (t.type) {
        case TOK_NAME: sb_printf(&out, "NAME:%.*s", (int)t.length, t.start); break;
        case TOK_INT: sb_printf(&out, "INT:%.*s", (int)t.length, t.start); break;
        case TOK_FLOAT: sb_printf(&out, "FLOAT:%.*s", (int)t.length, t.start); break;
        case TOK_STRING: sb_printf(&out, "STR:%.*s", (int)t.length, t.start); break;
        case TOK_NEWLINE: sb_append(&out, "NL"); break;
        case TOK_INDENT: sb_append(&out, ">"); break;
        case TOK_DEDENT: sb_append(&out, "<"); break;
        case TOK_EOF: sb_append(&out, "EOF"); break;
        case TOK_ERROR:
            sb_printf(&out, "ERR@%d:%d:%s%s", t.line, t.col, lexer_error(&lx),
                      lexer_error_incomplete(&lx) ? " (incomplete)" : "");
            break;
        default: sb_printf(&out, "%.*s", (int)t.length, t.start); break;
        }
        if (positions && t.type != TOK_ERROR)
            sb_printf(&out, "@%d:%d", t.line, t.col);
        if (t.type == TOK_EOF || t.type == TOK_ERROR)
            break;
    }
    lexer_free(&lx);
    source_release(src);
    return sb_take(&out);
}

static void assert_tokens(const char *text, const char *expected)
{
    char *got = lex_text(text, strlen(text), 1, false);
    assert_string_equal(got, expected);
    free(got);
}

static void assert_positions(const char *text, int first_line, const char *expected)
{
    char *got = lex_text(text, strlen(text), first_line, true);
    assert_string_equal(got, expected);
    free(got);
}

/* ------------------------------------------------------------- layout */

static void test_simple_line(void **state)
{
    (void)state;
    assert_tokens("x = 1", "NAME:x = INT:1 NL EOF");
    assert_tokens("x = 1\n", "NAME:x = INT:1 NL EOF");
    assert_tokens("", "EOF");
    assert_tokens("\n\n   \n# only a comment\n", "EOF");
    assert_tokens("a.b(c)[d]", "NAME:a . NAME:b ( NAME:c ) [ NAME:d ] NL EOF");
}

static void test_indentation(void **state)
{
    (void)state;
    assert_tokens("if a:\n    b\n    c\nd\n",
                  "if NAME:a : NL > NAME:b NL NAME:c NL < NAME:d NL EOF");
    /* two blocks closed at once, and at the end of the text */
    assert_tokens("if a:\n  if b:\n      c\nd\nif e:\n  f",
                  "if NAME:a : NL > if NAME:b : NL > NAME:c NL < < NAME:d NL "
                  "if NAME:e : NL > NAME:f NL < EOF");
    /* blank lines, comment lines at any indentation, trailing spaces */
    assert_tokens("if a:\n\n    b\n# c\n        # d\n   \n    e\n",
                  "if NAME:a : NL > NAME:b NL NAME:e NL < EOF");
    /* a comment after code ends the line */
    assert_tokens("x = 1  # one\ny", "NAME:x = INT:1 NL NAME:y NL EOF");
}

static void test_indentation_errors(void **state)
{
    (void)state;
    assert_tokens("if a:\n        b\n    c\n",
                  "if NAME:a : NL > NAME:b NL "
                  "ERR@3:5:unindent does not match any outer indentation level");
    assert_tokens("if a:\n\tb\n",
                  "if NAME:a : NL ERR@2:1:tab in indentation: nnl indents with spaces");
    assert_tokens("if a:\n    \tb\n",
                  "if NAME:a : NL ERR@2:5:tab in indentation: nnl indents with spaces");
    /* a tab between tokens or in a blank line is fine */
    assert_tokens("x\t=\t1\n\t\n", "NAME:x = INT:1 NL EOF");
}

static void test_implicit_and_explicit_joining(void **state)
{
    (void)state;
    assert_tokens("f(1,\n      2)\n[3,\n# c\n 4]\n",
                  "NAME:f ( INT:1 , INT:2 ) NL [ INT:3 , INT:4 ] NL EOF");
    assert_tokens("x = 1 + \\\n        2\ny", "NAME:x = INT:1 + INT:2 NL NAME:y NL EOF");
    assert_tokens("x = 1 + \\\r\n2\r\n", "NAME:x = INT:1 + INT:2 NL EOF");
    assert_tokens("x = \\ 1", "NAME:x = ERR@1:5:unexpected character after line continuation "
                              "character");
    assert_tokens("x = 1 + \\",
                  "NAME:x = INT:1 + ERR@1:9:unexpected end of input after '\\' (incomplete)");
    assert_tokens("x = 1 + \\\n",
                  "NAME:x = INT:1 + ERR@1:9:unexpected end of input after '\\' (incomplete)");
}

static void test_brackets(void **state)
{
    (void)state;
    assert_tokens("(]", "( ERR@1:2:closing parenthesis ']' does not match opening "
                        "parenthesis '('");
    assert_tokens("(\n\n]", "( ERR@3:1:closing parenthesis ']' does not match opening "
                            "parenthesis '(' on line 1");
    assert_tokens("x)", "NAME:x ERR@1:2:unmatched ')'");
    assert_tokens("f(a, [b,\n", "NAME:f ( NAME:a , [ NAME:b , "
                                "ERR@1:6:'[' was never closed (incomplete)");
    assert_tokens("{}", "{ } NL EOF");
}

static void test_positions(void **state)
{
    (void)state;
    assert_positions("ab = 'é€' + cd\n  \n", 1,
                     "NAME:ab@1:1 =@1:4 STR:'é€'@1:6 +@1:11 NAME:cd@1:13 NL@1:15 EOF@3:1");
    /* a cell that starts at line 40 of its file */
    assert_positions("x\nif y:\n    z\n", 40,
                     "NAME:x@40:1 NL@40:2 if@41:1 NAME:y@41:4 :@41:5 NL@41:6 >@42:5 "
                     "NAME:z@42:5 NL@42:6 <@43:1 EOF@43:1");
    /* after a triple-quoted string over two lines */
    assert_positions("s = '''a\nbc''' + t", 1,
                     "NAME:s@1:1 =@1:3 STR:'''a\nbc'''@1:5 +@2:7 NAME:t@2:9 NL@2:10 EOF@2:10");
    /* NEWLINE sits where a trailing comment starts */
    assert_positions("x  # c\n", 1, "NAME:x@1:1 NL@1:4 EOF@2:1");
}

static void test_magic_and_shell_lines(void **state)
{
    (void)state;
    assert_tokens("%matplotlib inline\nimport x\n", "import NAME:x NL EOF");
    assert_tokens("if a:\n    %time b\n    c\n", "if NAME:a : NL > NAME:c NL < EOF");
    assert_tokens("x = 5 % 2", "NAME:x = INT:5 % INT:2 NL EOF");
    assert_tokens("!pip install torch", "ERR@1:1:shell commands ('!...') are not part of nnl");
    assert_tokens("a ! b", "NAME:a ERR@1:3:invalid syntax");
}

static void test_crlf_and_bom(void **state)
{
    (void)state;
    assert_tokens("\xef\xbb\xbfx = 1\r\nif x:\r\n    y\r\n", "NAME:x = INT:1 NL if NAME:x : NL > NAME:y NL < EOF");
    assert_positions("\xef\xbb\xbfx", 1, "NAME:x@1:1 NL@1:2 EOF@1:2");
    assert_tokens("x = 1\ry", "NAME:x = INT:1 ERR@1:6:invalid character U+000D (not printable)");
}

/* ------------------------------------------------------------ numbers */

static void test_numbers(void **state)
{
    (void)state;
    assert_tokens("0 7 1_000 0x1F 0XfF 0o17 0b1010 0b_1 00 0_0",
                  "INT:0 INT:7 INT:1_000 INT:0x1F INT:0XfF INT:0o17 INT:0b1010 INT:0b_1 "
                  "INT:00 INT:0_0 NL EOF");
    assert_tokens("1.0 1e-3 .5 1. 1_0.5 2E+10 0.0001 1.5e3 09.5 0e0",
                  "FLOAT:1.0 FLOAT:1e-3 FLOAT:.5 FLOAT:1. FLOAT:1_0.5 FLOAT:2E+10 "
                  "FLOAT:0.0001 FLOAT:1.5e3 FLOAT:09.5 FLOAT:0e0 NL EOF");
    assert_tokens("x[1:2] a.b 1 .real", "NAME:x [ INT:1 : INT:2 ] NAME:a . NAME:b INT:1 . "
                                        "NAME:real NL EOF");
}

static void test_int_values(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t value;
    } cases[] = {
        {"0", 0}, {"42", 42}, {"1_000_000", 1000000}, {"0xff", 255}, {"0o777", 511},
        {"0b1010", 10}, {"9223372036854775807", INT64_MAX},
        {"0x7fff_ffff_ffff_ffff", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Token t = {TOK_INT, cases[i].text, strlen(cases[i].text), 1, 1};
        int64_t v = -1;
        assert_true(token_int_value(&t, &v));
        assert_int_equal(v, cases[i].value);
    }
    Token big = {TOK_INT, "9223372036854775808", 19, 1, 1};
    int64_t v;
    assert_false(token_int_value(&big, &v));
}

static void test_number_errors(void **state)
{
    (void)state;
    assert_tokens("012", "ERR@1:1:leading zeros in decimal integer literals are not "
                         "permitted; use an 0o prefix for octal integers");
    assert_tokens("1__0", "ERR@1:1:invalid decimal literal");
    assert_tokens("1_", "ERR@1:1:invalid decimal literal");
    assert_tokens("1abc", "ERR@1:1:invalid decimal literal");
    assert_tokens("1.e", "ERR@1:1:invalid decimal literal");
    assert_tokens("1e+", "ERR@1:1:invalid decimal literal");
    assert_tokens("1._5", "ERR@1:1:invalid decimal literal");
    assert_tokens("x = 0x", "NAME:x = ERR@1:5:invalid hexadecimal literal");
    assert_tokens("0xfg", "ERR@1:1:invalid hexadecimal literal");
    assert_tokens("0o8", "ERR@1:3:invalid digit '8' in octal literal");
    assert_tokens("0b102", "ERR@1:5:invalid digit '2' in binary literal");
    assert_tokens("0b1__1", "ERR@1:1:invalid binary literal");
    assert_tokens("3j", "ERR@1:1:complex numbers are not part of nnl");
    assert_tokens("n = 9223372036854775808",
                  "NAME:n = ERR@1:5:integer literal too large (nnl integers are 64-bit)");
    assert_tokens("n = 0x1_0000_0000_0000_0000",
                  "NAME:n = ERR@1:5:integer literal too large (nnl integers are 64-bit)");
}

/* ------------------------------------------------------------ strings */

static void test_strings(void **state)
{
    (void)state;
    assert_tokens("'a' \"b\" '' \"\" 'it\\'s' \"q\\\"\" '\\\\'",
                  "STR:'a' STR:\"b\" STR:'' STR:\"\" STR:'it\\'s' STR:\"q\\\"\" STR:'\\\\' NL EOF");
    assert_tokens("'''a\n'b'\n''' \"\"\"x\"\"\" ''''''",
                  "STR:'''a\n'b'\n''' STR:\"\"\"x\"\"\" STR:'''''' NL EOF");
    assert_tokens("r'\\d' R\"x\" f'{a}' F'b' rf'c' fR'd' u'e' Rb", "STR:r'\\d' STR:R\"x\" "
                  "STR:f'{a}' STR:F'b' STR:rf'c' STR:fR'd' STR:u'e' NAME:Rb NL EOF");
    /* a backslash-newline inside a string continues it */
    assert_tokens("'a\\\nb'", "STR:'a\\\nb' NL EOF");
    /* names that are not prefixes */
    assert_tokens("ab'x'", "NAME:ab STR:'x' NL EOF");
}

static void test_string_errors(void **state)
{
    (void)state;
    assert_tokens("x = 'abc\ny'", "NAME:x = ERR@1:5:unterminated string literal (detected at "
                                  "line 1)");
    assert_tokens("x = 'abc", "NAME:x = ERR@1:5:unterminated string literal (detected at "
                              "line 1)");
    assert_tokens("x = '''abc\n\n", "NAME:x = ERR@1:5:unterminated triple-quoted string "
                                    "literal (detected at line 3) (incomplete)");
    assert_tokens("x = 'abc\\\n", "NAME:x = ERR@1:5:unterminated string literal (detected at "
                                  "line 2) (incomplete)");
    assert_tokens("b'x'", "ERR@1:1:bytes literals are not part of nnl");
    assert_tokens("x = Rb'x'", "NAME:x = ERR@1:5:bytes literals are not part of nnl");
}

static void test_string_info(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool raw, fstring;
        int quote_len;
        const char *body;
        int body_col;
    } cases[] = {
        {"'abc'", false, false, 1, "abc", 2},
        {"''", false, false, 1, "", 2},
        {"''''''", false, false, 3, "", 4},
        {"\"\"\"a'b\"\"\"", false, false, 3, "a'b", 4},
        {"rf'{x}'", true, true, 1, "{x}", 4},
        {"F\"\"", false, true, 1, "", 3},
        {"Rb'x'", true, false, 1, "x", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Token t = {TOK_STRING, cases[i].text, strlen(cases[i].text), 3, 5};
        StringInfo info;
        lexer_string_info(&t, &info);
        assert_int_equal(info.raw, cases[i].raw);
        assert_int_equal(info.fstring, cases[i].fstring);
        assert_int_equal(info.quote_len, cases[i].quote_len);
        assert_int_equal(info.body_len, strlen(cases[i].body));
        assert_memory_equal(info.body, cases[i].body, info.body_len);
        assert_int_equal(info.body_line, 3);
        assert_int_equal(info.body_col, 4 + cases[i].body_col);
    }
}

/* ------------------------------------------------- operators, keywords */

static void test_operators(void **state)
{
    (void)state;
    assert_tokens("+ - * / // % ** @ = += -= *= /= == != < <= > >= , : ; .",
                  "+ - * / // % ** @ = += -= *= /= == != < <= > >= , : ; . NL EOF");
    assert_tokens("a**-b//c", "NAME:a ** - NAME:b // NAME:c NL EOF");
}

static void test_missing_operators(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"a | b", "bitwise operator '|' is not part of nnl"},
        {"a & b", "bitwise operator '&' is not part of nnl"},
        {"a ^ b", "bitwise operator '^' is not part of nnl"},
        {"a ~ b", "bitwise operator '~' is not part of nnl"},
        {"a << b", "bitwise operator '<<' is not part of nnl"},
        {"a >> b", "bitwise operator '>>' is not part of nnl"},
        {"a //= b", "'//=' is not part of nnl (augmented assignment is += -= *= /=)"},
        {"a %= b", "'%=' is not part of nnl (augmented assignment is += -= *= /=)"},
        {"a **= b", "'**=' is not part of nnl (augmented assignment is += -= *= /=)"},
        {"a @= b", "'@=' is not part of nnl (augmented assignment is += -= *= /=)"},
        {"a |= b", "'|=' is not part of nnl (augmented assignment is += -= *= /=)"},
        {"a >>= b", "'>>=' is not part of nnl (augmented assignment is += -= *= /=)"},
        {"a := b", "the walrus operator ':=' is not part of nnl"},
        {"a -> b", "return annotations ('->') are not part of nnl"},
        {"a ... b", "'...' (Ellipsis) is not part of nnl"},
        {"a $ b", "invalid character '$' (U+0024)"},
        {"a ? b", "invalid character '?' (U+003F)"},
        {"a ` b", "invalid character '`' (U+0060)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char expected[200];
        snprintf(expected, sizeof expected, "NAME:a ERR@1:3:%s", cases[i].message);
        assert_tokens(cases[i].text, expected);
    }
}

static void test_keywords(void **state)
{
    (void)state;
    assert_tokens("True False None and or not in is if elif else for while break continue "
                  "pass def return class with as import from",
                  "True False None and or not in is if elif else for while break continue "
                  "pass def return class with as import from NL EOF");
    char *got = lex_text("if iff _if If", 13, 1, false);
    assert_string_equal(got, "if NAME:iff NAME:_if NAME:If NL EOF");
    free(got);
    Source *src = source_new("k", "while", 5, 1);
    Lexer lx;
    lexer_init(&lx, src, 10);
    assert_int_equal(lexer_next_token(&lx).type, TOK_WHILE);
    lexer_free(&lx);
    source_release(src);
    assert_string_equal(token_type_name(TOK_WHILE), "'while'");
    assert_string_equal(token_type_name(TOK_NAME), "NAME");
}

static void test_missing_keywords(void **state)
{
    (void)state;
    static const char *const words[] = {"lambda", "try", "except", "finally", "raise",
                                        "assert", "global", "nonlocal", "del", "yield",
                                        "async", "await"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char text[64], prefix[64];
        snprintf(text, sizeof text, "x = %s y", words[i]);
        snprintf(prefix, sizeof prefix, "NAME:x = ERR@1:5:'%s' is not part of nnl", words[i]);
        char *got = lex_text(text, strlen(text), 1, false);
        assert_memory_equal(got, prefix, strlen(prefix));
        free(got);
    }
    assert_tokens("lambda: 0", "ERR@1:1:'lambda' is not part of nnl; define a function with 'def'");
    assert_tokens("assert x", "ERR@1:1:'assert' is not part of nnl; use check(condition, message)");
    assert_tokens("lambdas try_ yielded", "NAME:lambdas NAME:try_ NAME:yielded NL EOF");
}

/* ---------------------------------------------------------- characters */

static void test_invalid_characters(void **state)
{
    (void)state;
    assert_tokens("x = 1 €", "NAME:x = INT:1 ERR@1:7:invalid character '€' (U+20AC)");
    /* a name or number running into such a character is not returned before it */
    assert_tokens("f(a，b)", "NAME:f ( ERR@1:4:invalid character '，' (U+FF0C); "
                            "did you mean ','?");
    assert_tokens("f(1，2)", "NAME:f ( ERR@1:4:invalid character '，' (U+FF0C); "
                            "did you mean ','?");
    assert_tokens("f(0x1，2)", "NAME:f ( ERR@1:6:invalid character '，' (U+FF0C); "
                              "did you mean ','?");
    assert_tokens("f（x）", "ERR@1:2:invalid character '（' (U+FF08); did you mean '('?");
    assert_tokens("s = ‘a’", "NAME:s = ERR@1:5:invalid character '‘' (U+2018); did you mean "
                            "'''?");
    assert_tokens("a\xe3\x80\x80= 1", "ERR@1:2:invalid character '\xe3\x80\x80' "
                                     "(U+3000); did you mean a space?");
    assert_tokens("a\xe2\x80\x8b= 1", "ERR@1:2:invalid character U+200B (invisible)");
    assert_tokens("变量 = 1", "ERR@1:1:invalid character '变' (U+53D8); names in nnl use "
                             "ASCII letters, digits and '_'");
    assert_tokens("naïve = 1", "ERR@1:3:invalid character 'ï' (U+00EF); names in nnl use "
                              "ASCII letters, digits and '_'");
    assert_tokens("x = \x01", "NAME:x = ERR@1:5:invalid character U+0001 (not printable)");
    assert_tokens("x = \x7f", "NAME:x = ERR@1:5:invalid character U+007F (not printable)");
    /* non-ASCII text is fine in strings and comments */
    assert_tokens("s = '损失 €' # 计算 ✓\n", "NAME:s = STR:'损失 €' NL EOF");
    /* control characters are fine inside strings */
    assert_tokens("s = 'a\tb\x01'", "NAME:s = STR:'a\tb\x01' NL EOF");
}

static void test_encoding_errors(void **state)
{
    (void)state;
    /* reported before any token, where the bad byte is, in strings and comments too */
    char *got = lex_text("x = 1\ny = 'ab\xff'\n", 16, 1, false);
    assert_string_equal(got, "ERR@2:8:invalid UTF-8 byte 0xff");
    free(got);
    got = lex_text("# caf\xc3\xa9 \xe2\x82\n", 11, 5, false);
    assert_string_equal(got, "ERR@5:8:invalid UTF-8 byte 0xe2");
    free(got);
    got = lex_text("x = 1\n\x00y", 8, 1, false);
    assert_string_equal(got, "ERR@2:1:invalid character U+0000 (a NUL byte)");
    free(got);
    got = lex_text("'\xc0\x80'", 4, 1, false);   /* overlong NUL */
    assert_string_equal(got, "ERR@1:2:invalid UTF-8 byte 0xc0");
    free(got);
    got = lex_text("'\xed\xa0\x80'", 5, 1, false);   /* a surrogate */
    assert_string_equal(got, "ERR@1:2:invalid UTF-8 byte 0xed");
    free(got);
}

/* ------------------------------------------------------------- limits */

static void test_nesting_limits(void **state)
{
    (void)state;
    Source *src = source_new("d", "((((x))))", 9, 1);
    Lexer lx;
    lexer_init(&lx, src, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lexer_next_token(&lx).type, TOK_LPAREN);
    LexBracket b;
    assert_true(lexer_open_bracket(&lx, &b));
    assert_int_equal(b.ch, '(');
    assert_int_equal(b.col, 3);
    Token t = lexer_next_token(&lx);
    assert_int_equal(t.type, TOK_ERROR);
    assert_int_equal(t.col, 4);
    assert_string_equal(lexer_error(&lx), "too deeply nested (more than 3 levels)");
    assert_true(lexer_error_is_limit(&lx));
    assert_false(lexer_error_incomplete(&lx));
    /* the error stays */
    assert_int_equal(lexer_next_token(&lx).type, TOK_ERROR);
    lexer_free(&lx);
    source_release(src);

    const char *blocks = "if a:\n if b:\n  if c:\n   d\n";
    src = source_new("b", blocks, strlen(blocks), 1);
    lexer_init(&lx, src, 2);
    int indents = 0;
    for (;;) {
        t = lexer_next_token(&lx);
        if (t.type == TOK_INDENT)
            indents++;
        if (t.type == TOK_ERROR || t.type == TOK_EOF)
            break;
    }
    assert_int_equal(t.type, TOK_ERROR);
    assert_int_equal(indents, 2);
    assert_int_equal(t.line, 4);
    assert_true(lexer_error_is_limit(&lx));
    lexer_free(&lx);
    source_release(src);
}

static void test_ended_in_block(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool in_block;
    } cases[] = {
        {"x = 1\n", false},
        {"for i in x:\n    y\n", true},
        {"for i in x:\n    y\n\n", true},
        {"for i in x:\n    y\nz\n", false},
        {"for i in x: y\n", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Source *src = source_new("e", cases[i].text, strlen(cases[i].text), 1);
        Lexer lx;
        lexer_init(&lx, src, 100);
        while (lexer_next_token(&lx).type != TOK_EOF)
            ;
        assert_int_equal(lexer_ended_in_block(&lx), cases[i].in_block);
        lexer_free(&lx);
        source_release(src);
    }
}

static void test_fragment(void **state)
{
    (void)state;
    const char *text = "f'{a +\n b[1]}'";
    Lexer lx;
    lexer_init_fragment(&lx, text + 3, text + 12, 7, 4, 100);
    static const TokenType expected[] = {TOK_NAME, TOK_PLUS, TOK_NAME, TOK_LBRACKET, TOK_INT,
                                         TOK_RBRACKET, TOK_EOF};
    static const int lines[] = {7, 7, 8, 8, 8, 8, 8};
    static const int cols[] = {4, 6, 2, 3, 4, 5, 6};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        Token t = lexer_next_token(&lx);
        assert_int_equal(t.type, expected[i]);
        assert_int_equal(t.line, lines[i]);
        assert_int_equal(t.col, cols[i]);
    }
    lexer_free(&lx);
}

static void test_token_end(void **state)
{
    (void)state;
    Token t = {TOK_NAME, "abc", 3, 2, 5};
    int line, col;
    token_end(&t, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 8);
    Token s = {TOK_STRING, "'''é\nxy'''", 11, 1, 3};
    token_end(&s, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 6);
}

static void test_binary_garbage_does_not_crash(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ull;
    char buf[512];
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(round % 500) + 1;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* mostly printable ASCII so that the lexer gets past the first byte */
            unsigned v = (unsigned)(x >> 32);
            buf[i] = (char)(v % 8 == 0 ? v >> 8 : 32 + (v >> 8) % 95);
        }
        char *got = lex_text(buf, len, 1, false);
        size_t n = strlen(got);
        assert_true(n >= 3);
        assert_true(strcmp(got + n - 3, "EOF") == 0 || strstr(got, "ERR@") != NULL);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_line),
        cmocka_unit_test(test_indentation),
        cmocka_unit_test(test_indentation_errors),
        cmocka_unit_test(test_implicit_and_explicit_joining),
        cmocka_unit_test(test_brackets),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_magic_and_shell_lines),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_int_values),
        cmocka_unit_test(test_number_errors),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_string_errors),
        cmocka_unit_test(test_string_info),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_missing_operators),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_missing_keywords),
        cmocka_unit_test(test_invalid_characters),
        cmocka_unit_test(test_encoding_errors),
        cmocka_unit_test(test_nesting_limits),
        cmocka_unit_test(test_ended_in_block),
        cmocka_unit_test(test_fragment),
        cmocka_unit_test(test_token_end),
        cmocka_unit_test(test_binary_garbage_does_not_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
