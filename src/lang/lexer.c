/*
 * lexer.c - nnl source text to tokens (see lexer.h).
 */
#include "lexer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* ------------------------------------------------------------- reading */

static bool at_end(const Lexer *lx)
{
    return lx->p >= lx->end;
}

/* The byte k ahead of the current one, or '\0' past the end (the text has
 * no NUL bytes: they are refused before lexing). */
static char peek_at(const Lexer *lx, size_t k)
{
    return (size_t)(lx->end - lx->p) > k ? lx->p[k] : '\0';
}

/* Move one byte; the column counts code points, so continuation bytes of a
 * UTF-8 sequence do not move it. */
static void step(Lexer *lx)
{
    unsigned char c = (unsigned char)*lx->p++;
    if (c == '\n') {
        lx->line++;
        lx->col = 1;
    } else if ((c & 0xc0) != 0x80) {
        lx->col++;
    }
}

static void step_n(Lexer *lx, int n)
{
    while (n-- > 0)
        step(lx);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || is_digit(c);
}

static bool is_non_ascii(char c)
{
    return (unsigned char)c >= 0x80;
}

/* -------------------------------------------------------------- errors */

static Token make_token(const Lexer *lx, TokenType type, const char *start, int line, int col)
{
    Token t = {type, start, (size_t)(lx->p - start), line, col};
    return t;
}

static Token fail_at(Lexer *lx, int line, int col, bool incomplete, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static Token fail_at(Lexer *lx, int line, int col, bool incomplete, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->error, sizeof lx->error, fmt, ap);
    va_end(ap);
    lx->failed = true;
    lx->error_incomplete = incomplete && !lx->fragment;
    Token t = {TOK_ERROR, lx->p, 0, line, col};
    lx->error_token = t;
    return t;
}

static Token fail_too_deep(Lexer *lx, int line, int col)
{
    Token t = fail_at(lx, line, col, false, "too deeply nested (more than %d levels)",
                      lx->max_depth);
    lx->error_limit = true;
    return t;
}

/* Grow *items (of *cap elements of `size` bytes) to hold one more. */
static void grow(void **items, int *cap, int n, size_t size)
{
    if (n < *cap)
        return;
    int new_cap = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, (size_t)new_cap * size);
    if (!p)
        abort();
    *items = p;
    *cap = new_cap;
}

/* ---------------------------------------------------------------- setup */

/* The whole text must be UTF-8 without NUL bytes; the first offence is
 * reported before any token, as Python decodes a file before parsing it. */
static void check_encoding(Lexer *lx)
{
    const char *q = lx->p;
    const char *line_start = q;
    int line = lx->line;
    while (q < lx->end) {
        unsigned char c = (unsigned char)*q;
        if (c == '\n') {
            line++;
            line_start = ++q;
            continue;
        }
        if (c != 0 && c < 0x80) {
            q++;
            continue;
        }
        uint32_t cp;
        int n = c ? utf8_decode(q, (size_t)(lx->end - q), &cp) : 0;
        if (n) {
            q += n;
            continue;
        }
        int col = 1 + (int)utf8_count(line_start, (size_t)(q - line_start));
        if (c == 0)
            fail_at(lx, line, col, false, "invalid character U+0000 (a NUL byte)");
        else
            fail_at(lx, line, col, false, "invalid UTF-8 byte 0x%02x", c);
        return;
    }
}

void lexer_init(Lexer *lx, const Source *src, int max_depth)
{
    memset(lx, 0, sizeof *lx);
    lx->p = src->text;
    lx->end = src->text + src->len;
    lx->line = src->first_line;
    lx->col = 1;
    lx->max_depth = max_depth > 0 ? max_depth : 1;
    lx->at_line_start = true;
    grow((void **)&lx->indents, &lx->cap_indents, 0, sizeof *lx->indents);
    lx->indents[0] = 0;
    lx->n_indents = 1;
    if (src->len >= 3 && memcmp(src->text, "\xef\xbb\xbf", 3) == 0)
        lx->p += 3;   /* a byte order mark is not part of the text */
    check_encoding(lx);
}

void lexer_init_fragment(Lexer *lx, const char *start, const char *end, int line, int col,
                         int max_depth)
{
    memset(lx, 0, sizeof *lx);
    lx->p = start;
    lx->end = end;
    lx->line = line;
    lx->col = col;
    lx->fragment = true;
    lx->max_depth = max_depth > 0 ? max_depth : 1;
}

void lexer_free(Lexer *lx)
{
    free(lx->indents);
    free(lx->brackets);
    lx->indents = NULL;
    lx->brackets = NULL;
}

const char *lexer_error(const Lexer *lx)
{
    return lx->error;
}

bool lexer_error_incomplete(const Lexer *lx)
{
    return lx->error_incomplete;
}

bool lexer_error_is_limit(const Lexer *lx)
{
    return lx->error_limit;
}

bool lexer_open_bracket(const Lexer *lx, LexBracket *out)
{
    if (lx->n_brackets == 0)
        return false;
    *out = lx->brackets[lx->n_brackets - 1];
    return true;
}

bool lexer_ended_in_block(const Lexer *lx)
{
    return lx->ended_in_block;
}

/* ---------------------------------------------------------- indentation */

static bool blank_line_ahead(const Lexer *lx)
{
    char c = peek_at(lx, 0);
    /* `%matplotlib inline` and other IPython magics do nothing in nnl */
    return c == '\n' || c == '#' || c == '%' || (c == '\r' && peek_at(lx, 1) == '\n');
}

/* At the start of a line outside brackets: skip lines with nothing to run,
 * then compare the indentation with the open blocks. Returns true with an
 * INDENT, a DEDENT or an error in *out; false when the level is unchanged. */
static bool measure_indentation(Lexer *lx, Token *out)
{
    int width;
    int tab_line, tab_col;
    for (;;) {
        width = 0;
        tab_line = tab_col = 0;
        while (!at_end(lx)) {
            char c = *lx->p;
            if (c == ' ') {
                width++;
            } else if (c == '\t') {
                if (!tab_line) {
                    tab_line = lx->line;
                    tab_col = lx->col;
                }
                width++;
            } else if (c == '\f') {
                width = 0;   /* as Python: a form feed resets the count */
            } else {
                break;
            }
            step(lx);
        }
        if (at_end(lx) || !blank_line_ahead(lx))
            break;
        while (!at_end(lx) && *lx->p != '\n')
            step(lx);
        if (!at_end(lx))
            step(lx);
    }
    lx->at_line_start = false;
    if (at_end(lx))
        return false;   /* end_of_input closes the blocks */
    if (tab_line) {
        *out = fail_at(lx, tab_line, tab_col, false,
                       "tab in indentation: nnl indents with spaces");
        return true;
    }
    int current = lx->indents[lx->n_indents - 1];
    if (width > current) {
        if (lx->n_indents > lx->max_depth) {
            *out = fail_too_deep(lx, lx->line, lx->col);
            return true;
        }
        grow((void **)&lx->indents, &lx->cap_indents, lx->n_indents, sizeof *lx->indents);
        lx->indents[lx->n_indents++] = width;
        *out = make_token(lx, TOK_INDENT, lx->p, lx->line, lx->col);
        return true;
    }
    if (width < current) {
        int k = lx->n_indents - 1;
        while (k > 0 && lx->indents[k] > width)
            k--;
        if (lx->indents[k] != width) {
            *out = fail_at(lx, lx->line, lx->col, false,
                           "unindent does not match any outer indentation level");
            return true;
        }
        lx->pending_dedents = lx->n_indents - 1 - k - 1;
        lx->n_indents = k + 1;
        *out = make_token(lx, TOK_DEDENT, lx->p, lx->line, lx->col);
        return true;
    }
    return false;
}

static Token end_of_input(Lexer *lx)
{
    if (lx->n_brackets > 0) {
        const LexBracket *b = &lx->brackets[lx->n_brackets - 1];
        return fail_at(lx, b->line, b->col, true, "'%c' was never closed", b->ch);
    }
    if (lx->fragment)
        return make_token(lx, TOK_EOF, lx->p, lx->line, lx->col);
    if (lx->line_has_tokens) {
        lx->line_has_tokens = false;
        if (lx->comment_line)
            return make_token(lx, TOK_NEWLINE, lx->p, lx->comment_line, lx->comment_col);
        return make_token(lx, TOK_NEWLINE, lx->p, lx->line, lx->col);
    }
    if (lx->n_indents > 1) {
        lx->ended_in_block = true;
        lx->pending_dedents = lx->n_indents - 2;
        lx->n_indents = 1;
        return make_token(lx, TOK_DEDENT, lx->p, lx->line, lx->col);
    }
    return make_token(lx, TOK_EOF, lx->p, lx->line, lx->col);
}

/* '\' at the end of a line joins the next line to it. Returns false with
 * an error in *err. */
static bool line_continuation(Lexer *lx, Token *err)
{
    int line = lx->line, col = lx->col;
    step(lx);
    if (peek_at(lx, 0) == '\r' && peek_at(lx, 1) == '\n')
        step(lx);
    if (!at_end(lx) && *lx->p != '\n') {
        *err = fail_at(lx, line, col, false,
                       "unexpected character after line continuation character");
        return false;
    }
    if (!at_end(lx))
        step(lx);
    if (at_end(lx)) {
        *err = fail_at(lx, line, col, true, "unexpected end of input after '\\'");
        return false;
    }
    return true;
}

/* -------------------------------------------------------------- numbers */

static Token bad_character(Lexer *lx, int line, int col);

int lexer_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_digit_in_base(char c, int base)
{
    int d = lexer_digit_value(c);
    return d >= 0 && d < base;
}

/* digits: digit ('_'? digit)*, at a digit. False on a '_' not followed by a
 * digit. */
static bool scan_digits(Lexer *lx, int base)
{
    for (;;) {
        while (is_digit_in_base(peek_at(lx, 0), base))
            step(lx);
        if (peek_at(lx, 0) != '_')
            return true;
        if (!is_digit_in_base(peek_at(lx, 1), base))
            return false;
        step(lx);
    }
}

static int int_prefix_base(const char *s, size_t len)
{
    if (len < 2 || s[0] != '0')
        return 10;
    switch (s[1]) {
    case 'x': case 'X': return 16;
    case 'o': case 'O': return 8;
    case 'b': case 'B': return 2;
    default: return 10;
    }
}

bool token_int_value(const Token *t, int64_t *out)
{
    const char *s = t->start, *end = t->start + t->length;
    int base = int_prefix_base(s, t->length);
    if (base != 10)
        s += 2;
    uint64_t v = 0;
    for (; s < end; s++) {
        if (*s == '_')
            continue;
        int d = lexer_digit_value(*s);
        if (d < 0 || d >= base)
            return false;
        if (v > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = (int64_t)v;
    return true;
}

static Token finish_int(Lexer *lx, const char *start, int line, int col)
{
    Token t = make_token(lx, TOK_INT, start, line, col);
    int64_t v;
    if (!token_int_value(&t, &v))
        return fail_at(lx, line, col, false,
                       "integer literal too large (nnl integers are 64-bit)");
    return t;
}

/* hex, octal or binary: '0' [xob] ('_'? digit)+ */
static Token scan_prefixed_int(Lexer *lx, const char *start, int line, int col)
{
    int base = int_prefix_base(start, 2);
    const char *kind = base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary";
    step_n(lx, 2);
    if (peek_at(lx, 0) == '_')
        step(lx);
    if (!is_digit_in_base(peek_at(lx, 0), base) || !scan_digits(lx, base)) {
        if (is_digit(peek_at(lx, 0)))
            return fail_at(lx, lx->line, lx->col, false, "invalid digit '%c' in %s literal",
                           peek_at(lx, 0), kind);
        return fail_at(lx, line, col, false, "invalid %s literal", kind);
    }
    char next = peek_at(lx, 0);
    if (is_digit(next))
        return fail_at(lx, lx->line, lx->col, false, "invalid digit '%c' in %s literal", next,
                       kind);
    if (is_non_ascii(next))
        return bad_character(lx, lx->line, lx->col);
    if (is_ident_char(next))
        return fail_at(lx, line, col, false, "invalid %s literal", kind);
    return finish_int(lx, start, line, col);
}

/* number: digits ['.' [digits]] [exponent] | '.' digits [exponent]
 *         | digits exponent | hex/octal/binary int
 * exponent: ('e' | 'E') ['+' | '-'] digits */
static Token scan_number(Lexer *lx, const char *start, int line, int col)
{
    if (int_prefix_base(lx->p, (size_t)(lx->end - lx->p)) != 10)
        return scan_prefixed_int(lx, start, line, col);
    bool is_float = false;
    if (*lx->p != '.' && !scan_digits(lx, 10))
        return fail_at(lx, line, col, false, "invalid decimal literal");
    if (peek_at(lx, 0) == '.') {
        is_float = true;
        step(lx);
        if (is_digit(peek_at(lx, 0)) && !scan_digits(lx, 10))
            return fail_at(lx, line, col, false, "invalid decimal literal");
    }
    char c = peek_at(lx, 0);
    if (c == 'e' || c == 'E') {
        char sign = peek_at(lx, 1);
        int skip = (sign == '+' || sign == '-') ? 2 : 1;
        if (!is_digit(peek_at(lx, (size_t)skip)))
            return fail_at(lx, line, col, false, "invalid decimal literal");
        step_n(lx, skip);
        if (!scan_digits(lx, 10))
            return fail_at(lx, line, col, false, "invalid decimal literal");
        is_float = true;
    }
    c = peek_at(lx, 0);
    if (c == 'j' || c == 'J')
        return fail_at(lx, line, col, false, "complex numbers are not part of nnl");
    if (is_non_ascii(c))   /* 1，2 typed with a Chinese input method */
        return bad_character(lx, lx->line, lx->col);
    if (is_ident_char(c))
        return fail_at(lx, line, col, false, "invalid decimal literal");
    if (is_float)
        return make_token(lx, TOK_FLOAT, start, line, col);
    for (const char *q = start; q < lx->p; q++) {
        if (start[0] == '0' && *q != '0' && *q != '_')
            return fail_at(lx, line, col, false,
                           "leading zeros in decimal integer literals are not permitted; "
                           "use an 0o prefix for octal integers");
    }
    return finish_int(lx, start, line, col);
}

/* -------------------------------------------------------------- strings */

enum { PREFIX_RAW = 1, PREFIX_F = 2, PREFIX_BYTES = 4, PREFIX_U = 8 };

/* The prefix letters before a quote (r, u, f, b, rf, fr, rb, br in any
 * case) as PREFIX_ flags, or -1 when the name is not a string prefix. */
static int string_prefix(const char *s, size_t len)
{
    if (len == 0 || len > 2)
        return -1;
    int flags = 0;
    for (size_t i = 0; i < len; i++) {
        int f;
        switch (s[i]) {
        case 'r': case 'R': f = PREFIX_RAW; break;
        case 'f': case 'F': f = PREFIX_F; break;
        case 'b': case 'B': f = PREFIX_BYTES; break;
        case 'u': case 'U': f = PREFIX_U; break;
        default: return -1;
        }
        if (flags & f)
            return -1;
        flags |= f;
    }
    if (len == 2 && (!(flags & PREFIX_RAW) || (flags & PREFIX_U)))
        return -1;   /* only rf, fr, rb, br */
    return flags;
}

/* string: prefix? (quote body quote | triple-quote body triple-quote); the
 * body is decoded by the parser. Here: find the end, honouring backslashes. */
static Token scan_string(Lexer *lx, const char *start, int line, int col)
{
    char quote = *lx->p;
    bool triple = peek_at(lx, 1) == quote && peek_at(lx, 2) == quote;
    step_n(lx, triple ? 3 : 1);
    bool after_escaped_newline = false;
    for (;;) {
        if (at_end(lx)) {
            if (triple)
                return fail_at(lx, line, col, true,
                               "unterminated triple-quoted string literal (detected at line %d)",
                               lx->line);
            return fail_at(lx, line, col, after_escaped_newline,
                           "unterminated string literal (detected at line %d)", lx->line);
        }
        char c = *lx->p;
        if (c == '\\') {
            step(lx);
            if (peek_at(lx, 0) == '\r' && peek_at(lx, 1) == '\n')
                step(lx);
            after_escaped_newline = peek_at(lx, 0) == '\n';
            if (!at_end(lx))
                step(lx);
            continue;
        }
        after_escaped_newline = false;
        if (c == '\n' && !triple)
            return fail_at(lx, line, col, false,
                           "unterminated string literal (detected at line %d)", lx->line);
        if (c == quote) {
            if (!triple) {
                step(lx);
                break;
            }
            if (peek_at(lx, 1) == quote && peek_at(lx, 2) == quote) {
                step_n(lx, 3);
                break;
            }
        }
        step(lx);
    }
    return make_token(lx, TOK_STRING, start, line, col);
}

void lexer_string_info(const Token *t, StringInfo *out)
{
    const char *s = t->start;
    size_t i = 0;
    out->raw = out->fstring = false;
    while (i < t->length && s[i] != '\'' && s[i] != '"') {
        if (s[i] == 'r' || s[i] == 'R')
            out->raw = true;
        if (s[i] == 'f' || s[i] == 'F')
            out->fstring = true;
        i++;
    }
    /* a triple-quoted token is at least 6 long; '' is an empty string */
    size_t rest = t->length - i;
    out->quote_len = (rest >= 6 && s[i + 1] == s[i] && s[i + 2] == s[i]) ? 3 : 1;
    out->body = s + i + out->quote_len;
    out->body_len = rest - 2 * (size_t)out->quote_len;
    out->body_line = t->line;
    out->body_col = t->col + (int)i + out->quote_len;
}

/* ------------------------------------------------------ names, keywords */

static const struct {
    const char *word;
    TokenType type;
} keywords[] = {
    {"True", TOK_TRUE}, {"False", TOK_FALSE}, {"None", TOK_NONE}, {"and", TOK_AND},
    {"or", TOK_OR}, {"not", TOK_NOT}, {"in", TOK_IN}, {"is", TOK_IS}, {"if", TOK_IF},
    {"elif", TOK_ELIF}, {"else", TOK_ELSE}, {"for", TOK_FOR}, {"while", TOK_WHILE},
    {"break", TOK_BREAK}, {"continue", TOK_CONTINUE}, {"pass", TOK_PASS}, {"def", TOK_DEF},
    {"return", TOK_RETURN}, {"class", TOK_CLASS}, {"with", TOK_WITH}, {"as", TOK_AS},
    {"import", TOK_IMPORT}, {"from", TOK_FROM},
};

/* Python's keywords that nnl lacks: using one is always an error. */
static const struct {
    const char *word;
    const char *message;
} missing_keywords[] = {
    {"lambda", "'lambda' is not part of nnl; define a function with 'def'"},
    {"try", "'try' is not part of nnl: an error always stops the program"},
    {"except", "'except' is not part of nnl: an error always stops the program"},
    {"finally", "'finally' is not part of nnl"},
    {"raise", "'raise' is not part of nnl"},
    {"assert", "'assert' is not part of nnl; use check(condition, message)"},
    {"global", "'global' is not part of nnl; pass the value in and return the result"},
    {"nonlocal", "'nonlocal' is not part of nnl; pass the value in and return the result"},
    {"del", "'del' is not part of nnl"},
    {"yield", "'yield' is not part of nnl; build a list and return it"},
    {"async", "'async' is not part of nnl"},
    {"await", "'await' is not part of nnl"},
};

static bool word_is(const char *s, size_t len, const char *word)
{
    return word[0] == s[0] && strncmp(word, s, len) == 0 && word[len] == '\0';
}

/* name: [A-Za-z_][A-Za-z0-9_]*, unless it is a keyword or a string prefix */
static Token scan_name(Lexer *lx, const char *start, int line, int col)
{
    while (is_ident_char(peek_at(lx, 0)))
        step(lx);
    size_t len = (size_t)(lx->p - start);
    char next = peek_at(lx, 0);
    if (next == '\'' || next == '"') {
        int prefix = string_prefix(start, len);
        if (prefix >= 0) {
            if (prefix & PREFIX_BYTES)
                return fail_at(lx, line, col, false, "bytes literals are not part of nnl");
            return scan_string(lx, start, line, col);
        }
    }
    if (is_non_ascii(next))
        return bad_character(lx, lx->line, lx->col);
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (word_is(start, len, keywords[i].word))
            return make_token(lx, keywords[i].type, start, line, col);
    for (size_t i = 0; i < sizeof missing_keywords / sizeof missing_keywords[0]; i++)
        if (word_is(start, len, missing_keywords[i].word))
            return fail_at(lx, line, col, false, "%s", missing_keywords[i].message);
    return make_token(lx, TOK_NAME, start, line, col);
}

/* ------------------------------------------------ characters nnl refuses */

/* Characters that look like ASCII punctuation and come from an input method
 * or a word processor: the message suggests the ASCII one. */
static const char *ascii_lookalike(uint32_t cp, char buf[2])
{
    if (cp >= 0xff01 && cp <= 0xff5e) {   /* full-width ASCII */
        buf[0] = (char)(cp - 0xfee0);
        buf[1] = '\0';
        return buf;
    }
    switch (cp) {
    case 0x2018: case 0x2019: case 0x201a: case 0x2032: return "'";
    case 0x201c: case 0x201d: case 0x201e: case 0x2033: return "\"";
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2212: return "-";
    case 0x00d7: return "*";
    case 0x00f7: return "/";
    case 0x3001: return ",";
    case 0x3002: return ".";
    case 0x300c: case 0x300d: case 0x300e: case 0x300f: return "\"";
    case 0x3010: return "[";
    case 0x3011: return "]";
    default: return NULL;
    }
}

static bool is_invisible(uint32_t cp)
{
    return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff || cp == 0x00ad;
}

static bool is_space_like(uint32_t cp)
{
    return cp == 0x00a0 || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f ||
           cp == 0x205f;
}

static bool is_letter_like(uint32_t cp)
{
    return (cp >= 0x00c0 && cp <= 0x024f && cp != 0xd7 && cp != 0xf7) ||
           (cp >= 0x0370 && cp <= 0x052f) || (cp >= 0x3040 && cp <= 0x30ff) ||
           (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7a3);
}

/* invalid character '€' (U+20AC), with a hint where one helps */
static Token bad_character(Lexer *lx, int line, int col)
{
    uint32_t cp;
    int n = utf8_decode(lx->p, (size_t)(lx->end - lx->p), &cp);
    if (n == 0)   /* cannot happen after check_encoding; stay safe */
        return fail_at(lx, line, col, false, "invalid UTF-8 byte 0x%02x",
                       (unsigned char)*lx->p);
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
        return fail_at(lx, line, col, false, "invalid character U+%04X (not printable)",
                       (unsigned)cp);
    if (is_invisible(cp))
        return fail_at(lx, line, col, false, "invalid character U+%04X (invisible)",
                       (unsigned)cp);
    const char *text = lx->p;
    char buf[2];
    const char *ascii = ascii_lookalike(cp, buf);
    if (ascii)
        return fail_at(lx, line, col, false, "invalid character '%.*s' (U+%04X); did you mean '%s'?",
                       n, text, (unsigned)cp, ascii);
    if (is_space_like(cp))
        return fail_at(lx, line, col, false,
                       "invalid character '%.*s' (U+%04X); did you mean a space?", n, text,
                       (unsigned)cp);
    if (is_letter_like(cp))
        return fail_at(lx, line, col, false,
                       "invalid character '%.*s' (U+%04X); names in nnl use ASCII letters, "
                       "digits and '_'", n, text, (unsigned)cp);
    return fail_at(lx, line, col, false, "invalid character '%.*s' (U+%04X)", n, text,
                   (unsigned)cp);
}

/* ------------------------------------------------------------ operators */

static Token open_bracket(Lexer *lx, TokenType type, char ch, const char *start, int line,
                          int col)
{
    if (lx->n_brackets >= lx->max_depth)
        return fail_too_deep(lx, line, col);
    grow((void **)&lx->brackets, &lx->cap_brackets, lx->n_brackets, sizeof *lx->brackets);
    LexBracket b = {ch, line, col, lx->logical_line_col, 0};
    lx->brackets[lx->n_brackets++] = b;
    return make_token(lx, type, start, line, col);
}

static char closing_of(char open)
{
    return open == '(' ? ')' : open == '[' ? ']' : '}';
}

static Token close_bracket(Lexer *lx, TokenType type, char ch, const char *start, int line,
                           int col)
{
    if (lx->n_brackets == 0)
        return fail_at(lx, line, col, false, "unmatched '%c'", ch);
    const LexBracket *b = &lx->brackets[lx->n_brackets - 1];
    if (closing_of(b->ch) != ch) {
        if (b->line != line)
            return fail_at(lx, line, col, false,
                           "closing parenthesis '%c' does not match opening parenthesis '%c' "
                           "on line %d", ch, b->ch, b->line);
        return fail_at(lx, line, col, false,
                       "closing parenthesis '%c' does not match opening parenthesis '%c'", ch,
                       b->ch);
    }
    lx->n_brackets--;
    return make_token(lx, type, start, line, col);
}

/* An operator of Python that nnl lacks, `len` bytes long, at the current
 * position. */
static Token missing_operator(Lexer *lx, int len, int line, int col)
{
    char op[4] = {0};
    memcpy(op, lx->p, (size_t)len);
    if (op[len - 1] == '=' && len > 1)
        return fail_at(lx, line, col, false,
                       "'%s' is not part of nnl (augmented assignment is += -= *= /=)", op);
    return fail_at(lx, line, col, false, "bitwise operator '%s' is not part of nnl", op);
}

/* The length of op if the text continues with it, else 0. */
static int operator_ahead(const Lexer *lx, const char *op)
{
    int i = 0;
    for (; op[i]; i++)
        if (peek_at(lx, (size_t)i) != op[i])
            return 0;
    return i;
}

typedef struct OperatorToken {
    const char *text;
    TokenType type;   /* TOK_ERROR: an operator nnl lacks */
} OperatorToken;

/* Longest first within each first character. */
static const OperatorToken operators[] = {
    {"**=", TOK_ERROR}, {"**", TOK_DSTAR}, {"*=", TOK_STAR_ASSIGN}, {"*", TOK_STAR},
    {"//=", TOK_ERROR}, {"//", TOK_DSLASH}, {"/=", TOK_SLASH_ASSIGN}, {"/", TOK_SLASH},
    {"+=", TOK_PLUS_ASSIGN}, {"+", TOK_PLUS},
    {"-=", TOK_MINUS_ASSIGN}, {"-", TOK_MINUS},
    {"%=", TOK_ERROR}, {"%", TOK_PERCENT},
    {"@=", TOK_ERROR}, {"@", TOK_AT},
    {"==", TOK_EQ}, {"=", TOK_ASSIGN},
    {"!=", TOK_NE},
    {"<<=", TOK_ERROR}, {"<<", TOK_ERROR}, {"<=", TOK_LE}, {"<", TOK_LT},
    {">>=", TOK_ERROR}, {">>", TOK_ERROR}, {">=", TOK_GE}, {">", TOK_GT},
    {"|=", TOK_ERROR}, {"|", TOK_ERROR}, {"&=", TOK_ERROR}, {"&", TOK_ERROR},
    {"^=", TOK_ERROR}, {"^", TOK_ERROR}, {"~", TOK_ERROR},
    {",", TOK_COMMA}, {";", TOK_SEMICOLON},
};

static Token scan_operator(Lexer *lx, const char *start, int line, int col, bool first_on_line)
{
    char c = *lx->p;
    switch (c) {
    case '(': step(lx); return open_bracket(lx, TOK_LPAREN, c, start, line, col);
    case '[': step(lx); return open_bracket(lx, TOK_LBRACKET, c, start, line, col);
    case '{': step(lx); return open_bracket(lx, TOK_LBRACE, c, start, line, col);
    case ')': step(lx); return close_bracket(lx, TOK_RPAREN, c, start, line, col);
    case ']': step(lx); return close_bracket(lx, TOK_RBRACKET, c, start, line, col);
    case '}': step(lx); return close_bracket(lx, TOK_RBRACE, c, start, line, col);
    case ':':
        if (peek_at(lx, 1) == '=')
            return fail_at(lx, line, col, false, "the walrus operator ':=' is not part of nnl");
        step(lx);
        return make_token(lx, TOK_COLON, start, line, col);
    case '.':
        if (peek_at(lx, 1) == '.' && peek_at(lx, 2) == '.')
            return fail_at(lx, line, col, false, "'...' (Ellipsis) is not part of nnl");
        step(lx);
        return make_token(lx, TOK_DOT, start, line, col);
    case '-':
        if (peek_at(lx, 1) == '>')
            return fail_at(lx, line, col, false, "return annotations ('->') are not part of nnl");
        break;
    case '!':
        if (peek_at(lx, 1) == '=')
            break;
        if (first_on_line)
            return fail_at(lx, line, col, false, "shell commands ('!...') are not part of nnl");
        return fail_at(lx, line, col, false, "invalid syntax");
    default:
        break;
    }
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++) {
        int len = operators[i].text[0] == c ? operator_ahead(lx, operators[i].text) : 0;
        if (!len)
            continue;
        if (operators[i].type == TOK_ERROR)
            return missing_operator(lx, len, line, col);
        step_n(lx, len);
        return make_token(lx, operators[i].type, start, line, col);
    }
    return bad_character(lx, line, col);
}

/* ----------------------------------------------------------- the tokens */

static Token scan_token(Lexer *lx, bool first_on_line)
{
    const char *start = lx->p;
    int line = lx->line, col = lx->col;
    char c = *lx->p;
    if (is_ident_start(c))
        return scan_name(lx, start, line, col);
    if (is_digit(c) || (c == '.' && is_digit(peek_at(lx, 1))))
        return scan_number(lx, start, line, col);
    if (c == '\'' || c == '"')
        return scan_string(lx, start, line, col);
    if (is_non_ascii(c) || (unsigned char)c < 0x20 || c == 0x7f)
        return bad_character(lx, line, col);
    return scan_operator(lx, start, line, col, first_on_line);
}

static bool begins_statement(TokenType type)
{
    switch (type) {
    case TOK_IF: case TOK_ELIF: case TOK_ELSE: case TOK_FOR: case TOK_WHILE: case TOK_DEF:
    case TOK_CLASS: case TOK_WITH: case TOK_IMPORT: case TOK_FROM: case TOK_RETURN:
    case TOK_PASS: case TOK_BREAK: case TOK_CONTINUE:
        return true;
    default:
        return false;
    }
}

/* Inside brackets, a line that starts like a statement, at or left of the
 * indentation of the line the bracket opened on, is remembered on it. */
static void note_statement_keyword(Lexer *lx, const Token *t)
{
    if (lx->n_brackets == 0 || t->line <= lx->last_token_line || !begins_statement(t->type))
        return;
    LexBracket *b = &lx->brackets[lx->n_brackets - 1];
    if (!b->statement_line && t->col <= b->indent_col)
        b->statement_line = t->line;
}

static void skip_blanks(Lexer *lx)
{
    while (!at_end(lx)) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\f' || (c == '\r' && peek_at(lx, 1) == '\n'))
            step(lx);
        else
            break;
    }
}

Token lexer_next_token(Lexer *lx)
{
    if (lx->failed)
        return lx->error_token;
    if (lx->pending_dedents > 0) {
        lx->pending_dedents--;
        return make_token(lx, TOK_DEDENT, lx->p, lx->line, lx->col);
    }
    for (;;) {
        if (lx->at_line_start) {
            Token t;
            if (measure_indentation(lx, &t))
                return t;
        }
        skip_blanks(lx);
        if (at_end(lx))
            return end_of_input(lx);
        char c = *lx->p;
        if (c == '#') {
            lx->comment_line = lx->line;
            lx->comment_col = lx->col;
            while (!at_end(lx) && *lx->p != '\n')
                step(lx);
            continue;
        }
        if (c == '\\') {
            Token err;
            if (!line_continuation(lx, &err))
                return err;
            continue;
        }
        if (c == '\n') {
            if (lx->fragment || lx->n_brackets > 0 || !lx->line_has_tokens) {
                step(lx);
                lx->comment_line = 0;
                lx->at_line_start = !lx->fragment && lx->n_brackets == 0;
                continue;
            }
            Token t = lx->comment_line
                          ? make_token(lx, TOK_NEWLINE, lx->p, lx->comment_line, lx->comment_col)
                          : make_token(lx, TOK_NEWLINE, lx->p, lx->line, lx->col);
            step(lx);
            t.length = 1;
            lx->comment_line = 0;
            lx->line_has_tokens = false;
            lx->at_line_start = true;
            return t;
        }
        bool first_on_line = !lx->line_has_tokens;
        if (first_on_line)
            lx->logical_line_col = lx->col;
        lx->line_has_tokens = true;
        lx->comment_line = 0;
        Token t = scan_token(lx, first_on_line);
        note_statement_keyword(lx, &t);
        lx->last_token_line = lx->line;
        return t;
    }
}

/* ------------------------------------------------------------- helpers */

void token_end(const Token *t, int *line, int *col)
{
    int l = t->line, c = t->col;
    for (size_t i = 0; i < t->length; i++) {
        unsigned char ch = (unsigned char)t->start[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

const char *token_type_name(TokenType type)
{
    static const char *const names[TOK_COUNT] = {
        [TOK_EOF] = "EOF", [TOK_ERROR] = "ERROR", [TOK_NEWLINE] = "NEWLINE",
        [TOK_INDENT] = "INDENT", [TOK_DEDENT] = "DEDENT", [TOK_NAME] = "NAME",
        [TOK_INT] = "INT", [TOK_FLOAT] = "FLOAT", [TOK_STRING] = "STRING",
        [TOK_LPAREN] = "'('", [TOK_RPAREN] = "')'", [TOK_LBRACKET] = "'['",
        [TOK_RBRACKET] = "']'", [TOK_LBRACE] = "'{'", [TOK_RBRACE] = "'}'",
        [TOK_COMMA] = "','", [TOK_COLON] = "':'", [TOK_SEMICOLON] = "';'", [TOK_DOT] = "'.'",
        [TOK_ASSIGN] = "'='", [TOK_PLUS] = "'+'", [TOK_MINUS] = "'-'", [TOK_STAR] = "'*'",
        [TOK_SLASH] = "'/'", [TOK_DSLASH] = "'//'", [TOK_PERCENT] = "'%'",
        [TOK_DSTAR] = "'**'", [TOK_AT] = "'@'", [TOK_PLUS_ASSIGN] = "'+='",
        [TOK_MINUS_ASSIGN] = "'-='", [TOK_STAR_ASSIGN] = "'*='", [TOK_SLASH_ASSIGN] = "'/='",
        [TOK_EQ] = "'=='", [TOK_NE] = "'!='", [TOK_LT] = "'<'", [TOK_LE] = "'<='",
        [TOK_GT] = "'>'", [TOK_GE] = "'>='", [TOK_TRUE] = "'True'", [TOK_FALSE] = "'False'",
        [TOK_NONE] = "'None'", [TOK_AND] = "'and'", [TOK_OR] = "'or'", [TOK_NOT] = "'not'",
        [TOK_IN] = "'in'", [TOK_IS] = "'is'", [TOK_IF] = "'if'", [TOK_ELIF] = "'elif'",
        [TOK_ELSE] = "'else'", [TOK_FOR] = "'for'", [TOK_WHILE] = "'while'",
        [TOK_BREAK] = "'break'", [TOK_CONTINUE] = "'continue'", [TOK_PASS] = "'pass'",
        [TOK_DEF] = "'def'", [TOK_RETURN] = "'return'", [TOK_CLASS] = "'class'",
        [TOK_WITH] = "'with'", [TOK_AS] = "'as'", [TOK_IMPORT] = "'import'",
        [TOK_FROM] = "'from'",
    };
    if ((unsigned)type >= TOK_COUNT || !names[type])
        return "?";
    return names[type];
}
