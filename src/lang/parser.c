/*
 * parser.c - recursive descent from tokens to the syntax tree (see parser.h).
 *
 * Error path: every parse function returns NULL (or false) once an error is
 * recorded in the Diag, and its callers return at once; everything built so
 * far lives in the arena, which parse_program frees. Only the first error is
 * recorded (no cascades).
 *
 * Grammar notation in the comments: 'x' a token, [x] optional, x* repeated,
 * (x | y) a choice.
 */
#include "parser.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "utf8.h"

/* Binding strength of the operators, loosest first (Python's order). */
typedef enum Prec {
    PREC_NONE,
    PREC_OR,        /* or */
    PREC_AND,       /* and */
    PREC_NOT,       /* not (prefix) */
    PREC_COMPARE,   /* == != < <= > >= in not-in is is-not (chained) */
    PREC_TERM,      /* + - */
    PREC_FACTOR,    /* * / // % @ */
    PREC_UNARY,     /* - + (prefix) */
    PREC_POWER,     /* ** (right-associative) */
} Prec;

/* The binary operators, by token: how tightly each binds and what it builds. */
typedef struct InfixRule {
    Prec prec;
    BinOp binop;    /* PREC_TERM .. PREC_POWER */
    CmpOp cmpop;    /* PREC_COMPARE */
} InfixRule;

static const InfixRule infix_rules[TOK_COUNT] = {
    [TOK_OR] = {PREC_OR, 0, 0},
    [TOK_AND] = {PREC_AND, 0, 0},
    [TOK_EQ] = {PREC_COMPARE, 0, CMPOP_EQ},
    [TOK_NE] = {PREC_COMPARE, 0, CMPOP_NE},
    [TOK_LT] = {PREC_COMPARE, 0, CMPOP_LT},
    [TOK_LE] = {PREC_COMPARE, 0, CMPOP_LE},
    [TOK_GT] = {PREC_COMPARE, 0, CMPOP_GT},
    [TOK_GE] = {PREC_COMPARE, 0, CMPOP_GE},
    [TOK_IN] = {PREC_COMPARE, 0, CMPOP_IN},
    [TOK_NOT] = {PREC_COMPARE, 0, CMPOP_NOT_IN},   /* only when 'in' follows */
    [TOK_IS] = {PREC_COMPARE, 0, CMPOP_IS},       /* 'is not' when 'not' follows */
    [TOK_PLUS] = {PREC_TERM, BIN_ADD, 0},
    [TOK_MINUS] = {PREC_TERM, BIN_SUB, 0},
    [TOK_STAR] = {PREC_FACTOR, BIN_MUL, 0},
    [TOK_SLASH] = {PREC_FACTOR, BIN_DIV, 0},
    [TOK_DSLASH] = {PREC_FACTOR, BIN_FLOORDIV, 0},
    [TOK_PERCENT] = {PREC_FACTOR, BIN_MOD, 0},
    [TOK_AT] = {PREC_FACTOR, BIN_MATMUL, 0},
    [TOK_DSTAR] = {PREC_POWER, BIN_POW, 0},
};

typedef struct Parser {
    Source *src;
    Arena *arena;
    Diag *diag;
    Lexer *lx;            /* the source's, or an f-string field's */
    Token cur;            /* the token being looked at */
    Token prev;           /* the one before it */
    Token next;           /* one token of lookahead, when has_next */
    bool has_next;
    int max_depth;
    int depth;            /* recursion levels open (brackets, blocks, prefixes, ...) */
    int height;           /* height of the expression parsed last (a leaf is 0) */
    int loop_depth;       /* loops around the statement, inside the current def */
    bool in_function;
    bool failed;
    bool incomplete;
    locale_t c_locale;    /* for strtod, whatever the program's locale */
} Parser;

/* ------------------------------------------------------------- tokens */

static void advance(Parser *p)
{
    p->prev = p->cur;
    if (p->has_next) {
        p->cur = p->next;
        p->has_next = false;
    } else {
        p->cur = lexer_next_token(p->lx);
    }
}

static const Token *peek(Parser *p)
{
    if (!p->has_next) {
        p->next = lexer_next_token(p->lx);
        p->has_next = true;
    }
    return &p->next;
}

static bool check(const Parser *p, TokenType type)
{
    return p->cur.type == type;
}

static bool accept(Parser *p, TokenType type)
{
    if (!check(p, type))
        return false;
    advance(p);
    return true;
}

static SrcPos tok_pos(const Token *t)
{
    SrcPos pos = {t->line, t->col};
    return pos;
}

/* Tokens that can begin an expression (used to tell "a missing comma" from
 * other mistakes, and where an optional expression may follow). */
static bool starts_expression(TokenType type)
{
    switch (type) {
    case TOK_NAME: case TOK_INT: case TOK_FLOAT: case TOK_STRING:
    case TOK_LPAREN: case TOK_LBRACKET: case TOK_LBRACE:
    case TOK_MINUS: case TOK_PLUS: case TOK_NOT: case TOK_STAR:
    case TOK_TRUE: case TOK_FALSE: case TOK_NONE:
        return true;
    default:
        return false;
    }
}

/* Where the previous token ends; the current token's start when there is
 * no previous token on the same logical line. */
static void prev_end(const Parser *p, int *line, int *col)
{
    switch (p->prev.type) {
    case TOK_EOF: case TOK_NEWLINE: case TOK_INDENT: case TOK_DEDENT: case TOK_ERROR:
        *line = p->cur.line;
        *col = p->cur.col;
        return;
    default:
        token_end(&p->prev, line, col);
    }
}

static int prev_end_line(const Parser *p)
{
    int line, col;
    prev_end(p, &line, &col);
    return line;
}

/* ------------------------------------------------------------- errors */

static void *fail_kind_at(Parser *p, DiagKind kind, int line, int col, const char *fmt,
                          va_list ap)
{
    if (p->failed)
        return NULL;
    StrBuf msg = STRBUF_INIT;
    sb_vprintf(&msg, fmt, ap);
    diag_set(p->diag, kind, p->src, line, col, "%s", sb_str(&msg));
    sb_free(&msg);
    p->failed = true;
    return NULL;
}

static void *fail_at(Parser *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void *fail_at(Parser *p, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_kind_at(p, DIAG_SYNTAX, line, col, fmt, ap);
    va_end(ap);
    return NULL;
}

static void *fail_pos(Parser *p, SrcPos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *fail_pos(Parser *p, SrcPos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_kind_at(p, DIAG_SYNTAX, pos.line, pos.col, fmt, ap);
    va_end(ap);
    return NULL;
}

static void *fail_tok(Parser *p, const Token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *fail_tok(Parser *p, const Token *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_kind_at(p, DIAG_SYNTAX, t->line, t->col, fmt, ap);
    va_end(ap);
    return NULL;
}

static void *fail_too_deep(Parser *p, int line, int col)
{
    if (p->failed)
        return NULL;
    fail_at(p, line, col, "too deeply nested (more than %d levels)", p->max_depth);
    p->diag->kind = DIAG_LIMIT;
    return NULL;
}

/* The current token is the lexer's error: report it. */
static void *fail_lexer(Parser *p)
{
    if (p->failed)
        return NULL;
    fail_tok(p, &p->cur, "%s", lexer_error(p->lx));
    if (lexer_error_is_limit(p->lx))
        p->diag->kind = DIAG_LIMIT;
    p->incomplete = lexer_error_incomplete(p->lx);
    return NULL;
}

/* Python's rule for a syntax error inside brackets: read the rest of the
 * text; if a bracket is still open at its end and it opened on a line
 * before the error, the bracket was never closed, and that is the error to
 * show (at the bracket) instead of the confusing one at the later line. */
static bool fail_unclosed_bracket(Parser *p)
{
    int error_line = p->cur.line;
    Token t = p->cur;
    while (t.type != TOK_EOF && t.type != TOK_ERROR)
        t = lexer_next_token(p->lx);
    /* the lexer ends a text with an open bracket in an (incomplete) error */
    bool at_end = t.type == TOK_EOF || lexer_error_incomplete(p->lx);
    LexBracket b;
    if (!at_end || !lexer_open_bracket(p->lx, &b) || b.line >= error_line)
        return false;
    fail_at(p, b.line, b.col, "'%c' was never closed", b.ch);
    return true;
}

/* The current token cannot come here. */
static void *fail_unexpected(Parser *p)
{
    if (check(p, TOK_ERROR))
        return fail_lexer(p);
    if (check(p, TOK_INDENT))
        return fail_tok(p, &p->cur, "unexpected indent");
    if (fail_unclosed_bracket(p))
        return NULL;
    return fail_tok(p, &p->cur, "invalid syntax");
}

/* "expected ':'", just after the previous token (where it is missing). */
static void *fail_expected(Parser *p, const char *what)
{
    if (check(p, TOK_ERROR))
        return fail_lexer(p);
    if (fail_unclosed_bracket(p))
        return NULL;
    int line, col;
    prev_end(p, &line, &col);
    return fail_at(p, line, col, "expected %s", what);
}

/* After an item in brackets, neither ',' nor the closing bracket. */
static void *fail_after_item(Parser *p)
{
    if (!starts_expression(p->cur.type) || check(p, TOK_MINUS) || check(p, TOK_PLUS))
        return fail_unexpected(p);
    Token at = p->cur;
    if (fail_unclosed_bracket(p))
        return NULL;
    return fail_tok(p, &at, "invalid syntax. Perhaps you forgot a comma?");
}

/* After an item of a bracketed list read in a loop that runs until the
 * closer: a comma (read here) or the closer must follow. */
static bool after_item(Parser *p, TokenType closer)
{
    if (accept(p, TOK_COMMA) || check(p, closer))
        return true;
    fail_after_item(p);
    return false;
}

static bool expect_colon(Parser *p)
{
    if (accept(p, TOK_COLON))
        return true;
    fail_expected(p, "':'");
    return false;
}

/* A name for a message: long ones are cut. */
static const char *clipped(Parser *p, const char *name)
{
    const size_t max = 40;
    size_t n = strlen(name);
    if (n <= max)
        return name;
    char *s = arena_alloc(p->arena, max + 4);
    memcpy(s, name, max);
    memcpy(s + max, "...", 4);
    return s;
}

/* ------------------------------------------------------ nesting limits */

/* One more level of recursion, opened at token t. */
static bool enter(Parser *p, const Token *t)
{
    if (p->depth >= p->max_depth) {
        fail_too_deep(p, t->line, t->col);
        return false;
    }
    p->depth++;
    return true;
}

static void leave(Parser *p)
{
    p->depth--;
}

/* e, whose deepest child is `child_height` high (-1: no children). */
static Expr *with_height(Parser *p, Expr *e, int child_height)
{
    int height = child_height + 1;
    if (height > p->max_depth) {
        SrcPos at = e->kind == EXPR_ATTR ? e->u.attr.name_pos : e->pos;
        return fail_too_deep(p, at.line, at.col);
    }
    p->height = height;
    return e;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

/* ------------------------------------------------------ tree building */

/* A growing array in the arena (old copies are simply left there: the
 * total stays within twice the final size). */
typedef struct Vec {
    void *data;
    int n, cap;
} Vec;

static void *vec_push(Parser *p, Vec *v, size_t size)
{
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 4;
        void *data = arena_alloc(p->arena, (size_t)cap * size);
        if (v->n)
            memcpy(data, v->data, (size_t)v->n * size);
        v->data = data;
        v->cap = cap;
    }
    return (char *)v->data + (size_t)v->n++ * size;
}

#define VEC_PUSH(p, v, T) ((T *)vec_push((p), (v), sizeof(T)))

static void push_expr(Parser *p, Vec *v, Expr *e)
{
    *VEC_PUSH(p, v, Expr *) = e;
}

static void push_stmt(Parser *p, Vec *v, Stmt *s)
{
    *VEC_PUSH(p, v, Stmt *) = s;
}

static Expr *new_expr(Parser *p, ExprKind kind, SrcPos pos)
{
    Expr *e = arena_alloc(p->arena, sizeof *e);
    e->kind = kind;
    e->pos = pos;
    return e;
}

/* A list or tuple display of the expressions gathered in items. */
static Expr *new_seq(Parser *p, ExprKind kind, SrcPos pos, const Vec *items)
{
    Expr *e = new_expr(p, kind, pos);
    e->u.seq.items = items->data;
    e->u.seq.n = items->n;
    return e;
}

static Stmt *new_stmt(Parser *p, StmtKind kind, SrcPos pos)
{
    Stmt *s = arena_alloc(p->arena, sizeof *s);
    s->kind = kind;
    s->pos = pos;
    s->end_line = pos.line;
    return s;
}

static const char *token_text(Parser *p, const Token *t)
{
    return arena_strndup(p->arena, t->start, t->length);
}

/* A set of names (parameters, keyword arguments) to find repeats in
 * linear time. */
typedef struct NameSet {
    const char **slots;
    size_t cap, n;
} NameSet;

static size_t hash_name(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void nameset_insert(NameSet *set, const char *name)
{
    size_t i = hash_name(name) & (set->cap - 1);
    while (set->slots[i])
        i = (i + 1) & (set->cap - 1);
    set->slots[i] = name;
    set->n++;
}

/* False when name is already there. */
static bool nameset_add(Parser *p, NameSet *set, const char *name)
{
    if (set->cap) {
        size_t i = hash_name(name) & (set->cap - 1);
        for (; set->slots[i]; i = (i + 1) & (set->cap - 1))
            if (strcmp(set->slots[i], name) == 0)
                return false;
    }
    if ((set->n + 1) * 2 > set->cap) {
        NameSet bigger = {NULL, set->cap ? set->cap * 2 : 16, 0};
        bigger.slots = arena_alloc(p->arena, bigger.cap * sizeof *bigger.slots);
        for (size_t i = 0; i < set->cap; i++)
            if (set->slots[i])
                nameset_insert(&bigger, set->slots[i]);
        *set = bigger;
    }
    nameset_insert(set, name);
    return true;
}

/* ---------------------------------------------------------- expressions */

static Expr *parse_expr(Parser *p);
static Expr *parse_exprlist(Parser *p);
static Expr *parse_binary(Parser *p, Prec min_prec);

/* The value of a float token, read in the C locale (a program that set
 * LC_NUMERIC to a locale with decimal commas must still read "1.5"). */
static double float_value(Parser *p, const Token *t)
{
    char small[64];
    char *buf = t->length < sizeof small ? small : arena_alloc(p->arena, t->length + 1);
    size_t n = 0;
    for (size_t i = 0; i < t->length; i++)
        if (t->start[i] != '_')
            buf[n++] = t->start[i];
    buf[n] = '\0';
    if (!p->c_locale)
        p->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = p->c_locale ? uselocale(p->c_locale) : (locale_t)0;
    double v = strtod(buf, NULL);
    if (p->c_locale)
        uselocale(old);
    return v;
}

/* --- strings --- */

/* A position inside a string token, for decoding it and pointing at the
 * exact character of an error. */
typedef struct Cursor {
    const char *p, *end;
    int line, col;
} Cursor;

static void cursor_step(Cursor *c)
{
    unsigned char ch = (unsigned char)*c->p++;
    if (ch == '\n') {
        c->line++;
        c->col = 1;
    } else if ((ch & 0xc0) != 0x80) {
        c->col++;
    }
}

static char cursor_peek(const Cursor *c, size_t k)
{
    return (size_t)(c->end - c->p) > k ? c->p[k] : '\0';
}

static void append_code_point(StrBuf *out, uint32_t cp)
{
    char buf[4];
    sb_append_n(out, buf, (size_t)utf8_encode(cp, buf));
}

/* escape: '\' (newline | [\\'"abfnrtv] | [0-7]{1,3} | 'x' hh | 'u' hhhh | 'U' hhhhhhhh)
 * At a backslash; appends what it stands for. Any other character after the
 * backslash is kept with it, as Python does. */
static bool decode_escape(Parser *p, Cursor *c, StrBuf *out)
{
    int line = c->line, col = c->col;
    cursor_step(c);
    char e = cursor_peek(c, 0);
    const char *simple = strchr("\\'\"abfnrtv", e);
    if (e && simple) {
        static const char values[] = "\\'\"\a\b\f\n\r\t\v";
        sb_append_char(out, values[simple - "\\'\"abfnrtv"]);
        cursor_step(c);
        return true;
    }
    switch (e) {
    case '\n':
        cursor_step(c);
        return true;
    case '\r':
        cursor_step(c);
        if (cursor_peek(c, 0) == '\n')
            cursor_step(c);
        return true;
    case 'x': case 'u': case 'U': {
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        cursor_step(c);
        uint32_t v = 0;
        for (int i = 0; i < digits; i++) {
            int h = lexer_digit_value(cursor_peek(c, 0));
            if (h < 0) {
                fail_at(p, line, col, "truncated \\%c%.*s escape", e, digits, "XXXXXXXX");
                return false;
            }
            v = v * 16 + (uint32_t)h;
            cursor_step(c);
        }
        if (v > 0x10ffff) {
            fail_at(p, line, col, "illegal Unicode character in \\U escape");
            return false;
        }
        if (v >= 0xd800 && v <= 0xdfff) {
            fail_at(p, line, col, "surrogate code points (U+%04X) are not part of nnl",
                    (unsigned)v);
            return false;
        }
        append_code_point(out, v);
        return true;
    }
    case 'N':
        fail_at(p, line, col, "\\N{...} escapes are not part of nnl");
        return false;
    default:
        break;
    }
    if (e >= '0' && e <= '7') {
        uint32_t v = 0;
        for (int i = 0; i < 3 && cursor_peek(c, 0) >= '0' && cursor_peek(c, 0) <= '7'; i++) {
            v = v * 8 + (uint32_t)(cursor_peek(c, 0) - '0');
            cursor_step(c);
        }
        append_code_point(out, v);
        return true;
    }
    sb_append_char(out, '\\');
    return true;
}

/* One character of a string body that is not an escape or a brace. */
static void decode_plain_char(Cursor *c, StrBuf *out)
{
    if (*c->p == '\r' && cursor_peek(c, 1) == '\n') {   /* \r\n in a file is \n */
        cursor_step(c);
        return;
    }
    sb_append_char(out, *c->p);
    cursor_step(c);
}

static Cursor body_cursor(const StringInfo *info)
{
    Cursor c = {info->body, info->body + info->body_len, info->body_line, info->body_col};
    return c;
}

static bool decode_string(Parser *p, const StringInfo *info, StrBuf *out)
{
    Cursor c = body_cursor(info);
    while (c.p < c.end) {
        if (*c.p == '\\' && !info->raw) {
            if (!decode_escape(p, &c, out))
                return false;
        } else {
            decode_plain_char(&c, out);
        }
    }
    return true;
}

/* The f-string's literal text so far becomes a part. */
static void flush_literal(Parser *p, StrBuf *text, Vec *parts)
{
    if (text->len == 0)
        return;
    FStringPart *part = VEC_PUSH(p, parts, FStringPart);
    part->literal.data = arena_strndup(p->arena, text->data, text->len);
    part->literal.len = text->len;
    sb_clear(text);
}

/* The expression of an f-string field, lexed from the source text itself so
 * that its tokens keep their true positions; as if in parentheses. */
static Expr *parse_field_expr(Parser *p, const Cursor *start, const char *end)
{
    Lexer field;
    lexer_init_fragment(&field, start->p, end, start->line, start->col, p->max_depth);
    Lexer *saved_lx = p->lx;
    Token saved_cur = p->cur, saved_prev = p->prev, saved_next = p->next;
    bool saved_has_next = p->has_next;
    p->lx = &field;
    p->has_next = false;
    p->prev.type = TOK_EOF;
    advance(p);
    Expr *e = NULL;
    Token first = p->cur;
    if (enter(p, &first)) {
        e = parse_exprlist(p);
        if (e && !check(p, TOK_EOF))
            e = fail_unexpected(p);
        if (e)
            leave(p);
    }
    lexer_free(&field);
    p->lx = saved_lx;
    p->cur = saved_cur;
    p->prev = saved_prev;
    p->next = saved_next;
    p->has_next = saved_has_next;
    return e;
}

/* Move c to the end of the field's expression: the first '}', '!', ':' or
 * '=' (not part of ==, !=, <=, >=) outside brackets and nested strings. */
static bool find_field_end(Parser *p, Cursor *c, int open_line, int open_col)
{
    int depth = 0;
    char quote = 0;
    bool triple = false;
    char prev = 0;
    for (;;) {
        if (c->p >= c->end) {
            fail_at(p, open_line, open_col, "f-string: expecting '}'");
            return false;
        }
        char ch = *c->p;
        if (ch == '\\') {
            fail_at(p, c->line, c->col, "f-string expression part cannot include a backslash");
            return false;
        }
        if (quote) {
            int n = !triple ? 1 : (cursor_peek(c, 1) == quote && cursor_peek(c, 2) == quote) ? 3 : 0;
            if (ch == quote && n) {
                for (int i = 0; i < n; i++)
                    cursor_step(c);
                quote = 0;
                prev = ch;
                continue;
            }
            cursor_step(c);
            continue;
        }
        if (ch == '\'' || ch == '"') {
            quote = ch;
            triple = cursor_peek(c, 1) == ch && cursor_peek(c, 2) == ch;
            for (int i = 0; i < (triple ? 3 : 1); i++)
                cursor_step(c);
            continue;
        }
        if (ch == '(' || ch == '[' || ch == '{') {
            depth++;
        } else if (ch == ')' || ch == ']' || ch == '}') {
            if (depth == 0) {
                if (ch == '}')
                    return true;
                fail_at(p, c->line, c->col, "f-string: unmatched '%c'", ch);
                return false;
            }
            depth--;
        } else if (depth == 0) {
            if (ch == '#') {
                fail_at(p, c->line, c->col, "f-string expression part cannot include '#'");
                return false;
            }
            char next = cursor_peek(c, 1);
            if (ch == ':' || (ch == '!' && next != '='))
                return true;
            if (ch == '=' && next != '=' && !strchr("=!<>", prev ? prev : ' '))
                return true;
        }
        prev = ch;
        cursor_step(c);
    }
}

/* The format spec after ':' up to the closing '}' (escapes decoded). */
static const char *parse_format_spec(Parser *p, const StringInfo *info, Cursor *c,
                                     int open_line, int open_col)
{
    StrBuf spec = STRBUF_INIT;
    const char *result = NULL;
    for (;;) {
        if (c->p >= c->end) {
            fail_at(p, open_line, open_col, "f-string: expecting '}'");
            break;
        }
        char ch = *c->p;
        if (ch == '}') {
            result = arena_strndup(p->arena, sb_str(&spec), spec.len);
            break;
        }
        if (ch == '{') {
            fail_at(p, c->line, c->col,
                    "nested format fields ('{' inside a format spec) are not part of nnl");
            break;
        }
        if (ch == '\\' && !info->raw) {
            if (!decode_escape(p, c, &spec))
                break;
        } else {
            decode_plain_char(c, &spec);
        }
    }
    sb_free(&spec);
    return result;
}

/* field: '{' exprlist ['=' blanks] ['!' ('r' | 's')] [':' spec] '}'
 * At the '{'. */
static bool parse_field(Parser *p, const StringInfo *info, Cursor *c, Vec *parts, int *height)
{
    int open_line = c->line, open_col = c->col;
    cursor_step(c);
    Cursor expr_start = *c;
    if (!find_field_end(p, c, open_line, open_col))
        return false;
    const char *expr_end = c->p;
    const char *q = expr_start.p;
    while (q < expr_end && strchr(" \t\n\r\f", *q))
        q++;
    if (q == expr_end) {
        fail_at(p, open_line, open_col, "f-string: empty expression not allowed");
        return false;
    }
    FStringPart field = {.is_field = true, .spec = ""};
    if (*c->p == '=') {   /* f"{x=}": print the text too */
        cursor_step(c);
        while (c->p < c->end && strchr(" \t\n\r\f", *c->p))
            cursor_step(c);
        field.self_doc = arena_strndup(p->arena, expr_start.p, (size_t)(c->p - expr_start.p));
    }
    if (c->p < c->end && *c->p == '!') {
        cursor_step(c);
        char conv = cursor_peek(c, 0);
        if (conv == 'a') {
            fail_at(p, c->line, c->col, "f-string: '!a' conversion is not part of nnl");
            return false;
        }
        if (conv != 'r' && conv != 's') {
            fail_at(p, c->line, c->col,
                    "f-string: invalid conversion character: expected 'r' or 's'");
            return false;
        }
        field.conversion = conv;
        cursor_step(c);
    }
    if (c->p < c->end && *c->p == ':') {
        cursor_step(c);
        field.spec = parse_format_spec(p, info, c, open_line, open_col);
        if (!field.spec)
            return false;
    }
    if (c->p >= c->end || *c->p != '}') {
        fail_at(p, c->line, c->col, "f-string: expecting '}'");
        return false;
    }
    cursor_step(c);
    field.expr = parse_field_expr(p, &expr_start, expr_end);
    if (!field.expr)
        return false;
    *height = max_int(*height, p->height);
    /* Python shows the repr after "x=" unless a conversion or spec says otherwise */
    if (field.self_doc && !field.conversion && !field.spec[0])
        field.conversion = 'r';
    *VEC_PUSH(p, parts, FStringPart) = field;
    return true;
}

/* fstring: the body of an f-string: literal text ({{ and }} stand for
 * braces) and fields. */
static bool parse_fstring(Parser *p, const StringInfo *info, StrBuf *text, Vec *parts,
                          int *height)
{
    Cursor c = body_cursor(info);
    while (c.p < c.end) {
        char ch = *c.p;
        if ((ch == '{' || ch == '}') && cursor_peek(&c, 1) == ch) {
            sb_append_char(text, ch);
            cursor_step(&c);
            cursor_step(&c);
        } else if (ch == '{') {
            flush_literal(p, text, parts);
            if (!parse_field(p, info, &c, parts, height))
                return false;
        } else if (ch == '}') {
            fail_at(p, c.line, c.col, "f-string: single '}' is not allowed");
            return false;
        } else if (ch == '\\' && !info->raw) {
            if (!decode_escape(p, &c, text))
                return false;
        } else {
            decode_plain_char(&c, text);
        }
    }
    return true;
}

/* strings: STRING+ — adjacent literals are joined; with any f-string among
 * them the whole is an f-string. */
static Expr *parse_strings(Parser *p)
{
    SrcPos pos = tok_pos(&p->cur);
    StrBuf text = STRBUF_INIT;
    Vec parts = {0};
    bool is_fstring = false, ok = true;
    int height = 0;
    while (ok && check(p, TOK_STRING)) {
        StringInfo info;
        lexer_string_info(&p->cur, &info);
        if (info.fstring) {
            is_fstring = true;
            ok = parse_fstring(p, &info, &text, &parts, &height);
        } else {
            ok = decode_string(p, &info, &text);
        }
        if (ok)
            advance(p);
    }
    Expr *e = NULL;
    if (ok && is_fstring) {
        flush_literal(p, &text, &parts);
        e = new_expr(p, EXPR_FSTRING, pos);
        e->u.fstring.parts = parts.data;
        e->u.fstring.n_parts = parts.n;
    } else if (ok) {
        e = new_expr(p, EXPR_STR, pos);
        e->u.str.data = arena_strndup(p->arena, sb_str(&text), text.len);
        e->u.str.len = text.len;
    }
    sb_free(&text);
    if (!e)
        return NULL;
    return with_height(p, e, is_fstring ? height : -1);
}

/* --- targets --- */

/* Whether e can be assigned to (augmented: a single target). */
static bool check_target(Parser *p, const Expr *e, bool augmented)
{
    const char *what = NULL;
    switch (e->kind) {
    case EXPR_NAME: case EXPR_ATTR: case EXPR_INDEX:
        return true;
    case EXPR_TUPLE: case EXPR_LIST:
        if (augmented) {
            fail_pos(p, e->pos, "'%s' is an illegal expression for augmented assignment",
                     e->kind == EXPR_TUPLE ? "tuple" : "list");
            return false;
        }
        if (e->u.seq.n == 0) {
            fail_pos(p, e->pos, "cannot assign to %s", e->kind == EXPR_TUPLE ? "()" : "[]");
            return false;
        }
        for (int i = 0; i < e->u.seq.n; i++)
            if (!check_target(p, e->u.seq.items[i], false))
                return false;
        return true;
    case EXPR_CALL: what = "function call"; break;
    case EXPR_INT: case EXPR_FLOAT: case EXPR_STR: what = "literal"; break;
    case EXPR_FSTRING: what = "f-string expression"; break;
    case EXPR_BOOL: what = e->u.bool_value ? "True" : "False"; break;
    case EXPR_NONE: what = "None"; break;
    case EXPR_COMPARE: what = "comparison"; break;
    case EXPR_COND: what = "conditional expression"; break;
    case EXPR_LISTCOMP: what = "list comprehension"; break;
    default: what = "expression"; break;
    }
    fail_pos(p, e->pos, "cannot assign to %s", what);
    return false;
}

/* item (',' item)* [','] without brackets — a tuple when there is a comma;
 * it ends at a token that cannot start an expression. */
static Expr *parse_bare_tuple(Parser *p, Expr *(*parse_item)(Parser *))
{
    SrcPos start = tok_pos(&p->cur);
    Expr *first = parse_item(p);
    if (!first || !check(p, TOK_COMMA))
        return first;
    Vec items = {0};
    push_expr(p, &items, first);
    int height = p->height;
    while (accept(p, TOK_COMMA) && starts_expression(p->cur.type)) {
        Expr *item = parse_item(p);
        if (!item)
            return NULL;
        height = max_int(height, p->height);
        push_expr(p, &items, item);
    }
    return with_height(p, new_seq(p, EXPR_TUPLE, start, &items), height);
}

/* target_item: parsed above the comparisons so that 'in' ends it (for
 * loops, comprehensions) */
static Expr *parse_target_item(Parser *p)
{
    return parse_binary(p, PREC_TERM);
}

/* targets: target_item (',' target_item)* [','] */
static Expr *parse_targets(Parser *p)
{
    Expr *e = parse_bare_tuple(p, parse_target_item);
    return e && check_target(p, e, false) ? e : NULL;
}

/* --- displays --- */

/* The rest of a list or tuple display after its first item:
 * (',' expr)* [','] closer */
static Expr *parse_items(Parser *p, ExprKind kind, SrcPos pos, Expr *first, int height,
                         TokenType closer)
{
    Vec items = {0};
    push_expr(p, &items, first);
    while (accept(p, TOK_COMMA)) {
        if (check(p, closer))
            break;
        Expr *item = parse_expr(p);
        if (!item)
            return NULL;
        height = max_int(height, p->height);
        push_expr(p, &items, item);
    }
    if (!check(p, closer))
        return fail_after_item(p);
    advance(p);
    return with_height(p, new_seq(p, kind, pos, &items), height);
}

static Expr *empty_display(Parser *p, ExprKind kind, SrcPos pos)
{
    advance(p);   /* the closing bracket */
    return with_height(p, new_expr(p, kind, pos), 0);
}

/* listcomp: '[' expr comp_for+ ']'
 * comp_for: 'for' targets 'in' disjunction ('if' disjunction)*
 * At the first 'for'. */
static Expr *parse_listcomp(Parser *p, Expr *elt, int height, SrcPos pos)
{
    Vec fors = {0};
    while (accept(p, TOK_FOR)) {
        CompFor f = {0};
        f.target = parse_targets(p);
        if (!f.target)
            return NULL;
        height = max_int(height, p->height);
        if (!check(p, TOK_IN))
            return fail_expected(p, "'in'");
        advance(p);
        f.iter = parse_binary(p, PREC_OR);
        if (!f.iter)
            return NULL;
        height = max_int(height, p->height);
        Vec ifs = {0};
        while (accept(p, TOK_IF)) {
            Expr *cond = parse_binary(p, PREC_OR);
            if (!cond)
                return NULL;
            height = max_int(height, p->height);
            push_expr(p, &ifs, cond);
        }
        f.ifs = ifs.data;
        f.n_ifs = ifs.n;
        *VEC_PUSH(p, &fors, CompFor) = f;
    }
    if (!check(p, TOK_RBRACKET))
        return fail_unexpected(p);
    advance(p);
    Expr *e = new_expr(p, EXPR_LISTCOMP, pos);
    e->u.comp.elt = elt;
    e->u.comp.fors = fors.data;
    e->u.comp.n_fors = fors.n;
    return with_height(p, e, height);
}

/* The rest of a list display after its first item:
 * comp_for+ ']' | (',' expr)* [','] ']' */
static Expr *parse_list_rest(Parser *p, const Token *open, Expr *first)
{
    if (check(p, TOK_FOR))
        return parse_listcomp(p, first, p->height, tok_pos(open));
    return parse_items(p, EXPR_LIST, tok_pos(open), first, p->height, TOK_RBRACKET);
}

/* The rest of a parenthesised expression or tuple after its first item:
 * ')' | ',' [expr (',' expr)* [',']] ')' */
static Expr *parse_paren_rest(Parser *p, const Token *open, Expr *first)
{
    if (check(p, TOK_FOR))
        return fail_tok(p, open, "generator expressions are not part of nnl; "
                                 "use a list comprehension [...]");
    if (check(p, TOK_COMMA))
        return parse_items(p, EXPR_TUPLE, tok_pos(open), first, p->height, TOK_RPAREN);
    if (check(p, TOK_RPAREN)) {
        advance(p);   /* (x) is x itself, and keeps its height */
        return first;
    }
    return fail_after_item(p);
}

/* list: '[' [expr (comp_for+ | (',' expr)* [','])] ']'
 * paren: '(' ')' | '(' expr ')' | '(' expr ',' [expr (',' expr)* [',']] ')' */
static Expr *parse_list_or_paren(Parser *p)
{
    Token open = p->cur;
    bool list = open.type == TOK_LBRACKET;
    if (!enter(p, &open))
        return NULL;
    advance(p);
    Expr *e;
    if (check(p, list ? TOK_RBRACKET : TOK_RPAREN)) {
        e = empty_display(p, list ? EXPR_LIST : EXPR_TUPLE, tok_pos(&open));
    } else {
        Expr *first = parse_expr(p);
        if (!first)
            return NULL;
        e = list ? parse_list_rest(p, &open, first) : parse_paren_rest(p, &open, first);
    }
    if (e)
        leave(p);
    return e;
}

/* brace: '{' ... '}' — dicts and sets, which nnl lacks: say which. */
static Expr *parse_brace(Parser *p)
{
    Token open = p->cur;
    if (!enter(p, &open))
        return NULL;
    advance(p);
    if (check(p, TOK_RBRACE) || check(p, TOK_DSTAR))
        return fail_tok(p, &open, "dict literals are not part of nnl");
    if (!parse_expr(p))
        return NULL;
    if (accept(p, TOK_COLON)) {
        if (!parse_expr(p))
            return NULL;
        if (check(p, TOK_FOR))
            return fail_tok(p, &open, "dict comprehensions are not part of nnl");
        return fail_tok(p, &open, "dict literals are not part of nnl");
    }
    if (check(p, TOK_FOR))
        return fail_tok(p, &open, "set comprehensions are not part of nnl");
    return fail_tok(p, &open, "set literals are not part of nnl");
}

/* atom: NAME | INT | FLOAT | STRING+ | 'True' | 'False' | 'None'
 *     | paren | list | brace */
static Expr *parse_atom(Parser *p)
{
    Token t = p->cur;
    Expr *e;
    switch (t.type) {
    case TOK_NAME:
        e = new_expr(p, EXPR_NAME, tok_pos(&t));
        e->u.name = token_text(p, &t);
        break;
    case TOK_INT:
        e = new_expr(p, EXPR_INT, tok_pos(&t));
        if (!token_int_value(&t, &e->u.int_value))   /* the lexer checked it */
            return fail_tok(p, &t, "integer literal too large (nnl integers are 64-bit)");
        break;
    case TOK_FLOAT:
        e = new_expr(p, EXPR_FLOAT, tok_pos(&t));
        e->u.float_value = float_value(p, &t);
        break;
    case TOK_TRUE: case TOK_FALSE:
        e = new_expr(p, EXPR_BOOL, tok_pos(&t));
        e->u.bool_value = t.type == TOK_TRUE;
        break;
    case TOK_NONE:
        e = new_expr(p, EXPR_NONE, tok_pos(&t));
        break;
    case TOK_STRING:
        return parse_strings(p);
    case TOK_LPAREN: case TOK_LBRACKET:
        return parse_list_or_paren(p);
    case TOK_LBRACE:
        return parse_brace(p);
    default:
        return fail_unexpected(p);
    }
    advance(p);
    return with_height(p, e, -1);
}

/* --- trailers --- */

/* call: primary '(' [arg (',' arg)* [',']] ')'
 * arg: expr | NAME '=' expr   (no positional argument after a keyword one) */
static Expr *parse_call(Parser *p, Expr *func, int height)
{
    Token open = p->cur;
    if (!enter(p, &open))
        return NULL;
    advance(p);
    Vec args = {0}, kwargs = {0};
    NameSet seen = {0};
    while (!check(p, TOK_RPAREN)) {
        Token at = p->cur;
        if (at.type == TOK_NAME && peek(p)->type == TOK_ASSIGN) {
            advance(p);
            advance(p);
            Keyword kw = {token_text(p, &at), tok_pos(&at), NULL};
            kw.value = parse_expr(p);
            if (!kw.value)
                return NULL;
            height = max_int(height, p->height);
            if (!nameset_add(p, &seen, kw.name))
                return fail_tok(p, &at, "keyword argument repeated: %s", clipped(p, kw.name));
            *VEC_PUSH(p, &kwargs, Keyword) = kw;
        } else {
            Expr *arg = parse_expr(p);
            if (!arg)
                return NULL;
            height = max_int(height, p->height);
            if (check(p, TOK_FOR))
                return fail_tok(p, &at, "generator expressions are not part of nnl; "
                                        "use a list comprehension [...]");
            if (check(p, TOK_ASSIGN))
                return fail_tok(p, &at, "expression cannot contain assignment, "
                                        "perhaps you meant \"==\"?");
            if (kwargs.n)
                return fail_tok(p, &at, "positional argument follows keyword argument");
            push_expr(p, &args, arg);
        }
        if (!after_item(p, TOK_RPAREN))
            return NULL;
    }
    advance(p);
    leave(p);
    SrcPos pos = tok_pos(&open);
    if (func->kind == EXPR_NAME)
        pos = func->pos;
    else if (func->kind == EXPR_ATTR)
        pos = func->u.attr.name_pos;
    Expr *e = new_expr(p, EXPR_CALL, pos);
    e->u.call.func = func;
    e->u.call.args = args.data;
    e->u.call.n_args = args.n;
    e->u.call.kwargs = kwargs.data;
    e->u.call.n_kwargs = kwargs.n;
    return with_height(p, e, height);
}

/* slice: expr | [expr] ':' [expr] [':' [expr]] */
static Expr *parse_slice(Parser *p)
{
    SrcPos pos = tok_pos(&p->cur);
    Expr *parts[3] = {NULL, NULL, NULL};
    int height = -1;
    if (!check(p, TOK_COLON)) {
        parts[0] = parse_expr(p);
        if (!parts[0] || !check(p, TOK_COLON))
            return parts[0];
        height = p->height;
    }
    for (int i = 1; i < 3 && accept(p, TOK_COLON); i++) {
        if (check(p, TOK_COLON) || check(p, TOK_COMMA) || check(p, TOK_RBRACKET))
            continue;
        parts[i] = parse_expr(p);
        if (!parts[i])
            return NULL;
        height = max_int(height, p->height);
    }
    Expr *e = new_expr(p, EXPR_SLICE, pos);
    e->u.slice.start = parts[0];
    e->u.slice.stop = parts[1];
    e->u.slice.step = parts[2];
    return with_height(p, e, height);
}

/* subscript: primary '[' slice (',' slice)* [','] ']' — several slices make
 * a tuple index */
static Expr *parse_subscript(Parser *p, Expr *object, int height)
{
    Token open = p->cur;
    if (!enter(p, &open))
        return NULL;
    advance(p);
    if (check(p, TOK_RBRACKET))
        return fail_unexpected(p);
    SrcPos start = tok_pos(&p->cur);
    Expr *index = parse_slice(p);
    if (!index)
        return NULL;
    int index_height = p->height;
    if (check(p, TOK_COMMA)) {
        Vec items = {0};
        push_expr(p, &items, index);
        while (accept(p, TOK_COMMA) && !check(p, TOK_RBRACKET)) {
            Expr *item = parse_slice(p);
            if (!item)
                return NULL;
            index_height = max_int(index_height, p->height);
            push_expr(p, &items, item);
        }
        index = new_seq(p, EXPR_TUPLE, start, &items);
        if (!with_height(p, index, index_height))
            return NULL;
        index_height = p->height;
    }
    if (!check(p, TOK_RBRACKET))
        return fail_after_item(p);
    advance(p);
    leave(p);
    Expr *e = new_expr(p, EXPR_INDEX, tok_pos(&open));
    e->u.index.object = object;
    e->u.index.index = index;
    return with_height(p, e, max_int(height, index_height));
}

/* primary: atom trailer*
 * trailer: call | subscript | '.' NAME */
static Expr *parse_primary(Parser *p)
{
    Expr *e = parse_atom(p);
    while (e) {
        int height = p->height;
        if (check(p, TOK_LPAREN)) {
            e = parse_call(p, e, height);
        } else if (check(p, TOK_LBRACKET)) {
            e = parse_subscript(p, e, height);
        } else if (check(p, TOK_DOT)) {
            advance(p);
            if (!check(p, TOK_NAME))
                return fail_expected(p, "an attribute name after '.'");
            Expr *attr = new_expr(p, EXPR_ATTR, e->pos);
            attr->u.attr.object = e;
            attr->u.attr.name = token_text(p, &p->cur);
            attr->u.attr.name_pos = tok_pos(&p->cur);
            advance(p);
            e = with_height(p, attr, height);
        } else {
            break;
        }
    }
    return e;
}

/* --- operators --- */

/* prefix: ('-' | '+') operand | 'not' operand | primary
 * The operand of - and + binds ** (-2 ** 2 is -(2 ** 2)); that of 'not'
 * binds comparisons too (not a == b is not (a == b)). */
static Expr *parse_prefix(Parser *p, Prec min_prec)
{
    Token op = p->cur;
    switch (op.type) {
    case TOK_MINUS: case TOK_PLUS: case TOK_NOT: {
        if (op.type == TOK_NOT && min_prec > PREC_NOT)
            return fail_unexpected(p);   /* a + not b */
        if (!enter(p, &op))
            return NULL;
        advance(p);
        Expr *operand = parse_binary(p, op.type == TOK_NOT ? PREC_NOT : PREC_UNARY);
        if (!operand)
            return NULL;
        leave(p);
        Expr *e = new_expr(p, EXPR_UNARY, tok_pos(&op));
        e->u.unary.op = op.type == TOK_MINUS ? UNARY_NEG
                        : op.type == TOK_PLUS ? UNARY_POS : UNARY_NOT;
        e->u.unary.operand = operand;
        return with_height(p, e, p->height);
    }
    case TOK_STAR:
        return fail_tok(p, &op, "star expressions ('*x') are not part of nnl");
    case TOK_DSTAR:
        return fail_tok(p, &op, "'**' unpacking is not part of nnl");
    default:
        return parse_primary(p);
    }
}

static Prec infix_prec(Parser *p)
{
    TokenType t = p->cur.type;
    if (t == TOK_NOT && peek(p)->type != TOK_IN)
        return PREC_NONE;
    return infix_rules[t].prec;
}

/* comparison: sum (comp_op sum)+, one node for the whole chain
 * comp_op: '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not' 'in' | 'is' ['not'] */
static Expr *parse_comparison(Parser *p, Expr *left, int height)
{
    SrcPos pos = tok_pos(&p->cur);
    Vec ops = {0}, comparators = {0}, op_pos = {0};
    while (infix_prec(p) == PREC_COMPARE) {
        Token op = p->cur;
        CmpOp cmp = infix_rules[op.type].cmpop;
        advance(p);
        if (op.type == TOK_NOT) {
            advance(p);   /* 'in' */
        } else if (op.type == TOK_IS && accept(p, TOK_NOT)) {
            cmp = CMPOP_IS_NOT;
        }
        Expr *right = parse_binary(p, PREC_TERM);
        if (!right)
            return NULL;
        height = max_int(height, p->height);
        *VEC_PUSH(p, &ops, CmpOp) = cmp;
        *VEC_PUSH(p, &op_pos, SrcPos) = tok_pos(&op);
        push_expr(p, &comparators, right);
    }
    Expr *e = new_expr(p, EXPR_COMPARE, pos);
    e->u.compare.left = left;
    e->u.compare.ops = ops.data;
    e->u.compare.comparators = comparators.data;
    e->u.compare.op_pos = op_pos.data;
    e->u.compare.n = ops.n;
    return with_height(p, e, height);
}

/* binary: prefix (binop binary)* by precedence climbing over infix_rules;
 * and/or and the arithmetic operators are left-associative, ** is
 * right-associative and its right operand may be a prefix (2 ** -1). */
static Expr *parse_binary(Parser *p, Prec min_prec)
{
    Expr *left = parse_prefix(p, min_prec);
    while (left) {
        int height = p->height;
        Prec prec = infix_prec(p);
        if (prec == PREC_NONE || prec < min_prec)
            break;
        if (prec == PREC_COMPARE) {
            left = parse_comparison(p, left, height);
            continue;
        }
        Token op = p->cur;
        advance(p);
        Expr *right;
        if (op.type == TOK_DSTAR) {
            if (!enter(p, &op))
                return NULL;
            right = parse_binary(p, PREC_UNARY);
            if (right)
                leave(p);
        } else {
            right = parse_binary(p, prec + 1);
        }
        if (!right)
            return NULL;
        height = max_int(height, p->height);
        Expr *e;
        if (prec == PREC_OR || prec == PREC_AND) {
            e = new_expr(p, prec == PREC_OR ? EXPR_OR : EXPR_AND, tok_pos(&op));
            e->u.logic.left = left;
            e->u.logic.right = right;
        } else {
            e = new_expr(p, EXPR_BINARY, tok_pos(&op));
            e->u.binary.op = infix_rules[op.type].binop;
            e->u.binary.left = left;
            e->u.binary.right = right;
        }
        left = with_height(p, e, height);
    }
    return left;
}

/* expr: disjunction ['if' disjunction 'else' expr] */
static Expr *parse_expr(Parser *p)
{
    Expr *body = parse_binary(p, PREC_OR);
    if (!body || !check(p, TOK_IF))
        return body;
    int height = p->height;
    Token op = p->cur;
    advance(p);
    Expr *test = parse_binary(p, PREC_OR);
    if (!test)
        return NULL;
    height = max_int(height, p->height);
    if (!check(p, TOK_ELSE))
        return fail_expected(p, "'else' after 'if' expression");
    if (!enter(p, &p->cur))
        return NULL;
    advance(p);
    Expr *orelse = parse_expr(p);
    if (!orelse)
        return NULL;
    leave(p);
    Expr *e = new_expr(p, EXPR_COND, tok_pos(&op));
    e->u.cond.test = test;
    e->u.cond.body = body;
    e->u.cond.orelse = orelse;
    return with_height(p, e, max_int(height, p->height));
}

/* exprlist: expr (',' expr)* [','] — a tuple when there is a comma */
static Expr *parse_exprlist(Parser *p)
{
    return parse_bare_tuple(p, parse_expr);
}

/* A condition of if/elif/while, where '=' is a common slip for '=='. */
static Expr *parse_condition(Parser *p)
{
    Expr *test = parse_expr(p);
    if (test && check(p, TOK_ASSIGN))
        return fail_tok(p, &p->cur, "invalid syntax. Maybe you meant '==' instead of '='?");
    return test;
}

/* ----------------------------------------------------------- statements */

static bool parse_statement(Parser *p, Vec *stmts);
static bool parse_simple_stmts(Parser *p, Vec *stmts);

/* The end of the text, possibly behind the DEDENTs and NEWLINE that close it. */
static bool at_end_of_input(const Parser *p)
{
    return check(p, TOK_EOF) ||
           ((check(p, TOK_DEDENT) || check(p, TOK_NEWLINE)) && p->cur.start == p->lx->end);
}

static bool fail_missing_block(Parser *p, const Token *newline, const char *what, int line)
{
    if (check(p, TOK_ERROR)) {
        fail_lexer(p);
    } else if (at_end_of_input(p)) {
        fail_tok(p, newline, "expected an indented block after %s on line %d", what, line);
        p->incomplete = true;
    } else {
        fail_tok(p, &p->cur, "expected an indented block after %s on line %d", what, line);
    }
    return false;
}

/* block: simple_stmts | NEWLINE INDENT statement+ DEDENT
 * `what` and `line` name the header in the message for a missing block. */
static bool parse_block(Parser *p, Block *out, const char *what, int line)
{
    Vec stmts = {0};
    if (!check(p, TOK_NEWLINE)) {
        if (!parse_simple_stmts(p, &stmts))
            return false;
    } else {
        Token newline = p->cur;
        advance(p);
        if (!check(p, TOK_INDENT))
            return fail_missing_block(p, &newline, what, line);
        if (!enter(p, &p->cur))
            return false;
        advance(p);
        while (!check(p, TOK_DEDENT) && !check(p, TOK_EOF))
            if (!parse_statement(p, &stmts))
                return false;
        if (!accept(p, TOK_DEDENT)) {
            fail_unexpected(p);
            return false;
        }
        leave(p);
    }
    out->stmts = stmts.data;
    out->n = stmts.n;
    return true;
}

static int block_end_line(const Block *b, int fallback)
{
    return b->n ? b->stmts[b->n - 1]->end_line : fallback;
}

/* if_stmt: 'if' expr ':' block ('elif' expr ':' block)* ['else' ':' block]
 * Each elif is an if nested in the orelse of the one before; the chain is
 * read in a loop, each link counting one level of nesting. */
static Stmt *parse_if(Parser *p)
{
    Vec chain = {0};
    Stmt *tail = NULL;
    do {
        Token kw = p->cur;
        if (tail && !enter(p, &kw))
            return NULL;
        advance(p);
        Stmt *s = new_stmt(p, STMT_IF, tok_pos(&kw));
        s->u.if_.test = parse_condition(p);
        if (!s->u.if_.test || !expect_colon(p))
            return NULL;
        const char *what = kw.type == TOK_IF ? "'if' statement" : "'elif' statement";
        if (!parse_block(p, &s->u.if_.body, what, kw.line))
            return NULL;
        if (tail) {
            tail->u.if_.orelse.stmts = arena_alloc(p->arena, sizeof(Stmt *));
            tail->u.if_.orelse.stmts[0] = s;
            tail->u.if_.orelse.n = 1;
        }
        tail = s;
        push_stmt(p, &chain, s);
    } while (check(p, TOK_ELIF));
    p->depth -= chain.n - 1;
    Block *last = &tail->u.if_.body;
    if (check(p, TOK_ELSE)) {
        Token kw = p->cur;
        advance(p);
        if (check(p, TOK_IF))
            return fail_expected(p, "':' (else if is written 'elif')");
        if (!expect_colon(p) || !parse_block(p, &tail->u.if_.orelse, "'else' statement", kw.line))
            return NULL;
        last = &tail->u.if_.orelse;
    }
    Stmt **links = chain.data;
    int end = block_end_line(last, links[0]->pos.line);
    for (int i = 0; i < chain.n; i++)
        links[i]->end_line = end;
    return links[0];
}

static bool refuse_loop_else(Parser *p, const char *loop)
{
    if (!check(p, TOK_ELSE))
        return true;
    fail_tok(p, &p->cur, "'else' after a '%s' loop is not part of nnl", loop);
    return false;
}

/* The body of a for or while loop, where break and continue may stand;
 * then s, which ends with it, or NULL. */
static Stmt *finish_loop(Parser *p, Stmt *s, Block *body, const char *what, const char *loop,
                         int line)
{
    p->loop_depth++;
    bool ok = parse_block(p, body, what, line);
    p->loop_depth--;
    if (!ok || !refuse_loop_else(p, loop))
        return NULL;
    s->end_line = block_end_line(body, line);
    return s;
}

/* for_stmt: 'for' targets 'in' exprlist ':' block */
static Stmt *parse_for(Parser *p)
{
    Token kw = p->cur;
    advance(p);
    Stmt *s = new_stmt(p, STMT_FOR, tok_pos(&kw));
    s->u.for_.target = parse_targets(p);
    if (!s->u.for_.target)
        return NULL;
    if (!check(p, TOK_IN))
        return fail_expected(p, "'in'");
    advance(p);
    s->u.for_.iter = parse_exprlist(p);
    if (!s->u.for_.iter || !expect_colon(p))
        return NULL;
    return finish_loop(p, s, &s->u.for_.body, "'for' statement", "for", kw.line);
}

/* while_stmt: 'while' expr ':' block */
static Stmt *parse_while(Parser *p)
{
    Token kw = p->cur;
    advance(p);
    Stmt *s = new_stmt(p, STMT_WHILE, tok_pos(&kw));
    s->u.while_.test = parse_condition(p);
    if (!s->u.while_.test || !expect_colon(p))
        return NULL;
    return finish_loop(p, s, &s->u.while_.body, "'while' statement", "while", kw.line);
}

/* A body that starts a new scope for return/break/continue (def, class). */
static bool parse_scope_block(Parser *p, Block *out, const char *what, int line,
                              bool function)
{
    int saved_loops = p->loop_depth;
    bool saved_function = p->in_function;
    p->loop_depth = 0;
    p->in_function = function;
    bool ok = parse_block(p, out, what, line);
    p->loop_depth = saved_loops;
    p->in_function = saved_function;
    return ok;
}

/* One parameter of a def, at a token that is not ')'.
 * param: NAME ['=' expr] */
static bool parse_param(Parser *p, Param *out, bool *seen_default, NameSet *seen)
{
    Token t = p->cur;
    switch (t.type) {
    case TOK_STAR:
        if (peek(p)->type == TOK_NAME)
            fail_tok(p, &t, "'*args' parameters are not part of nnl");
        else
            fail_tok(p, &t, "keyword-only parameters ('*') are not part of nnl");
        return false;
    case TOK_DSTAR:
        fail_tok(p, &t, "'**kwargs' parameters are not part of nnl");
        return false;
    case TOK_SLASH:
        fail_tok(p, &t, "positional-only parameters ('/') are not part of nnl");
        return false;
    case TOK_NAME:
        break;
    default:
        fail_unexpected(p);
        return false;
    }
    out->name = token_text(p, &t);
    out->pos = tok_pos(&t);
    advance(p);
    if (check(p, TOK_COLON)) {
        fail_tok(p, &p->cur, "type annotations are not part of nnl");
        return false;
    }
    if (accept(p, TOK_ASSIGN)) {
        out->default_value = parse_expr(p);
        if (!out->default_value)
            return false;
        *seen_default = true;
    } else if (*seen_default) {
        fail_tok(p, &t, "parameter without a default follows parameter with a default");
        return false;
    }
    if (!nameset_add(p, seen, out->name)) {
        fail_tok(p, &t, "duplicate argument '%s' in function definition",
                 clipped(p, out->name));
        return false;
    }
    return true;
}

/* funcdef: 'def' NAME '(' [param (',' param)* [',']] ')' ':' block */
static Stmt *parse_def(Parser *p)
{
    Token kw = p->cur;
    advance(p);
    if (!check(p, TOK_NAME))
        return fail_expected(p, "a function name after 'def'");
    Stmt *s = new_stmt(p, STMT_DEF, tok_pos(&kw));
    s->u.def.name = token_text(p, &p->cur);
    advance(p);
    if (!check(p, TOK_LPAREN))
        return fail_expected(p, "'('");
    if (!enter(p, &p->cur))
        return NULL;
    advance(p);
    Vec params = {0};
    NameSet seen = {0};
    bool seen_default = false;
    while (!check(p, TOK_RPAREN)) {
        Param prm = {0};
        if (!parse_param(p, &prm, &seen_default, &seen))
            return NULL;
        *VEC_PUSH(p, &params, Param) = prm;
        if (!after_item(p, TOK_RPAREN))
            return NULL;
    }
    advance(p);
    leave(p);
    s->u.def.params = params.data;
    s->u.def.n_params = params.n;
    if (!expect_colon(p) ||
        !parse_scope_block(p, &s->u.def.body, "function definition", kw.line, true))
        return NULL;
    const Block *body = &s->u.def.body;
    if (body->n && body->stmts[0]->kind == STMT_EXPR && body->stmts[0]->u.expr->kind == EXPR_STR)
        s->u.def.docstring = body->stmts[0]->u.expr->u.str.data;
    s->end_line = block_end_line(body, kw.line);
    return s;
}

/* classdef: 'class' NAME ['(' [expr (',' expr)* [',']] ')'] ':' block */
static Stmt *parse_class(Parser *p)
{
    Token kw = p->cur;
    advance(p);
    if (!check(p, TOK_NAME))
        return fail_expected(p, "a class name after 'class'");
    Stmt *s = new_stmt(p, STMT_CLASS, tok_pos(&kw));
    s->u.class_.name = token_text(p, &p->cur);
    advance(p);
    Vec bases = {0};
    if (check(p, TOK_LPAREN)) {
        if (!enter(p, &p->cur))
            return NULL;
        advance(p);
        while (!check(p, TOK_RPAREN)) {
            if (check(p, TOK_NAME) && peek(p)->type == TOK_ASSIGN)
                return fail_tok(p, &p->cur, "class keyword arguments are not part of nnl");
            Expr *base = parse_expr(p);
            if (!base)
                return NULL;
            push_expr(p, &bases, base);
            if (!after_item(p, TOK_RPAREN))
                return NULL;
        }
        advance(p);
        leave(p);
    }
    s->u.class_.bases = bases.data;
    s->u.class_.n_bases = bases.n;
    if (!expect_colon(p) ||
        !parse_scope_block(p, &s->u.class_.body, "class definition", kw.line, false))
        return NULL;
    s->end_line = block_end_line(&s->u.class_.body, kw.line);
    return s;
}

/* with_stmt: 'with' expr ['as' NAME] ':' block */
static Stmt *parse_with(Parser *p)
{
    Token kw = p->cur;
    advance(p);
    Stmt *s = new_stmt(p, STMT_WITH, tok_pos(&kw));
    s->u.with.context = parse_expr(p);
    if (!s->u.with.context)
        return NULL;
    if (accept(p, TOK_AS)) {
        if (!check(p, TOK_NAME))
            return fail_expected(p, "a name after 'as'");
        Expr *target = new_expr(p, EXPR_NAME, tok_pos(&p->cur));
        target->u.name = token_text(p, &p->cur);
        advance(p);
        s->u.with.target = target;
    }
    if (check(p, TOK_COMMA))
        return fail_tok(p, &p->cur, "several context managers in one 'with' are not part of "
                                    "nnl; nest the 'with' statements");
    if (!expect_colon(p) || !parse_block(p, &s->u.with.body, "'with' statement", kw.line))
        return NULL;
    s->end_line = block_end_line(&s->u.with.body, kw.line);
    return s;
}

/* dotted_name: NAME ('.' NAME)* */
static bool parse_dotted_name(Parser *p, const char **name, SrcPos *pos)
{
    if (check(p, TOK_DOT)) {
        fail_tok(p, &p->cur, "relative imports are not part of nnl");
        return false;
    }
    if (!check(p, TOK_NAME)) {
        fail_expected(p, "a module name");
        return false;
    }
    *pos = tok_pos(&p->cur);
    StrBuf text = STRBUF_INIT;
    bool ok = true;
    for (;;) {
        sb_append_n(&text, p->cur.start, p->cur.length);
        advance(p);
        if (!check(p, TOK_DOT))
            break;
        advance(p);
        if (!check(p, TOK_NAME)) {
            fail_expected(p, "a name after '.'");
            ok = false;
            break;
        }
        sb_append_char(&text, '.');
    }
    if (ok)
        *name = arena_strndup(p->arena, sb_str(&text), text.len);
    sb_free(&text);
    return ok;
}

/* ['as' NAME] */
static bool parse_alias(Parser *p, const char **alias)
{
    *alias = NULL;
    if (!accept(p, TOK_AS))
        return true;
    if (!check(p, TOK_NAME)) {
        fail_expected(p, "a name after 'as'");
        return false;
    }
    *alias = token_text(p, &p->cur);
    advance(p);
    return true;
}

/* import_stmt: 'import' dotted_name ['as' NAME] (',' dotted_name ['as' NAME])*
 * One STMT_IMPORT per module. */
static bool parse_import(Parser *p, Vec *stmts)
{
    Token kw = p->cur;
    advance(p);
    do {
        Stmt *s = new_stmt(p, STMT_IMPORT, tok_pos(&kw));
        if (!parse_dotted_name(p, &s->u.import.name, &s->u.import.pos) ||
            !parse_alias(p, &s->u.import.alias))
            return false;
        s->end_line = prev_end_line(p);
        push_stmt(p, stmts, s);
    } while (accept(p, TOK_COMMA));
    return true;
}

/* from_stmt: 'from' dotted_name 'import' (import_names | '(' import_names [','] ')')
 * import_names: NAME ['as' NAME] (',' NAME ['as' NAME])* */
static Stmt *parse_from_import(Parser *p)
{
    Token kw = p->cur;
    advance(p);
    Stmt *s = new_stmt(p, STMT_FROM_IMPORT, tok_pos(&kw));
    SrcPos module_pos;
    if (!parse_dotted_name(p, &s->u.from_import.module, &module_pos))
        return NULL;
    if (!check(p, TOK_IMPORT))
        return fail_expected(p, "'import'");
    advance(p);
    if (check(p, TOK_STAR))
        return fail_tok(p, &p->cur, "'import *' is not part of nnl; import the names you need");
    Token open = p->cur;
    bool parenthesised = accept(p, TOK_LPAREN);
    if (parenthesised && !enter(p, &open))
        return NULL;
    Vec names = {0};
    for (;;) {
        if (!check(p, TOK_NAME))
            return fail_expected(p, "a name to import");
        ImportName n = {token_text(p, &p->cur), NULL, tok_pos(&p->cur)};
        advance(p);
        if (!parse_alias(p, &n.alias))
            return NULL;
        *VEC_PUSH(p, &names, ImportName) = n;
        if (!accept(p, TOK_COMMA))
            break;
        if (parenthesised && check(p, TOK_RPAREN))
            break;
        if (!parenthesised && !check(p, TOK_NAME))
            return fail_tok(p, &p->prev,
                            "trailing comma not allowed without surrounding parentheses");
    }
    if (parenthesised) {
        if (!check(p, TOK_RPAREN))
            return fail_after_item(p);
        advance(p);
        leave(p);
    }
    s->u.from_import.names = names.data;
    s->u.from_import.n_names = names.n;
    return s;
}

/* return_stmt: 'return' [exprlist] */
static Stmt *parse_return(Parser *p)
{
    Token kw = p->cur;
    if (!p->in_function)
        return fail_tok(p, &kw, "'return' outside function");
    advance(p);
    Stmt *s = new_stmt(p, STMT_RETURN, tok_pos(&kw));
    if (!check(p, TOK_NEWLINE) && !check(p, TOK_SEMICOLON)) {
        s->u.ret = parse_exprlist(p);
        if (!s->u.ret)
            return NULL;
    }
    return s;
}

/* expr_stmt: exprlist (('=' exprlist)+ | augassign exprlist)?
 * augassign: '+=' | '-=' | '*=' | '/='   — the targets are checked */
static Stmt *parse_expr_stmt(Parser *p)
{
    SrcPos pos = tok_pos(&p->cur);
    Expr *first = parse_exprlist(p);
    if (!first)
        return NULL;
    if (check(p, TOK_ASSIGN)) {
        Vec targets = {0};
        Expr *value = first;
        while (accept(p, TOK_ASSIGN)) {
            if (!check_target(p, value, false))
                return NULL;
            push_expr(p, &targets, value);
            value = parse_exprlist(p);
            if (!value)
                return NULL;
        }
        Stmt *s = new_stmt(p, STMT_ASSIGN, pos);
        s->u.assign.targets = targets.data;
        s->u.assign.n_targets = targets.n;
        s->u.assign.value = value;
        return s;
    }
    static const struct {
        TokenType type;
        BinOp op;
    } augmented[] = {
        {TOK_PLUS_ASSIGN, BIN_ADD}, {TOK_MINUS_ASSIGN, BIN_SUB},
        {TOK_STAR_ASSIGN, BIN_MUL}, {TOK_SLASH_ASSIGN, BIN_DIV},
    };
    for (size_t i = 0; i < sizeof augmented / sizeof augmented[0]; i++) {
        if (!check(p, augmented[i].type))
            continue;
        if (!check_target(p, first, true))
            return NULL;
        Stmt *s = new_stmt(p, STMT_AUGASSIGN, pos);
        s->u.augassign.op_pos = tok_pos(&p->cur);
        advance(p);
        s->u.augassign.target = first;
        s->u.augassign.op = augmented[i].op;
        s->u.augassign.value = parse_exprlist(p);
        return s->u.augassign.value ? s : NULL;
    }
    if (check(p, TOK_COLON))
        return fail_tok(p, &p->cur, "type annotations are not part of nnl");
    if (first->kind == EXPR_NAME && strcmp(first->u.name, "print") == 0 &&
        starts_expression(p->cur.type) && !check(p, TOK_MINUS) && !check(p, TOK_PLUS))
        return fail_pos(p, first->pos,
                        "Missing parentheses in call to 'print'. Did you mean print(...)?");
    Stmt *s = new_stmt(p, STMT_EXPR, pos);
    s->u.expr = first;
    return s;
}

/* simple_stmt: expr_stmt | 'pass' | 'break' | 'continue' | return_stmt
 *            | import_stmt | from_stmt */
static bool parse_simple_stmt(Parser *p, Vec *stmts)
{
    Token t = p->cur;
    Stmt *s;
    switch (t.type) {
    case TOK_PASS: case TOK_BREAK: case TOK_CONTINUE:
        if (p->loop_depth == 0 && t.type != TOK_PASS) {
            fail_tok(p, &t, t.type == TOK_BREAK ? "'break' outside loop"
                                                : "'continue' not properly in loop");
            return false;
        }
        advance(p);
        s = new_stmt(p, t.type == TOK_PASS ? STMT_PASS
                        : t.type == TOK_BREAK ? STMT_BREAK : STMT_CONTINUE, tok_pos(&t));
        break;
    case TOK_RETURN:
        s = parse_return(p);
        break;
    case TOK_IMPORT:
        return parse_import(p, stmts);
    case TOK_FROM:
        s = parse_from_import(p);
        break;
    default:
        s = parse_expr_stmt(p);
        break;
    }
    if (!s)
        return false;
    s->end_line = prev_end_line(p);
    push_stmt(p, stmts, s);
    return true;
}

/* simple_stmts: simple_stmt (';' simple_stmt)* [';'] NEWLINE */
static bool parse_simple_stmts(Parser *p, Vec *stmts)
{
    do {
        if (!parse_simple_stmt(p, stmts))
            return false;
    } while (accept(p, TOK_SEMICOLON) && !check(p, TOK_NEWLINE));
    if (!accept(p, TOK_NEWLINE)) {
        fail_unexpected(p);
        return false;
    }
    return true;
}

/* statement: if_stmt | for_stmt | while_stmt | funcdef | classdef | with_stmt
 *          | simple_stmts */
static bool parse_statement(Parser *p, Vec *stmts)
{
    Stmt *s;
    switch (p->cur.type) {
    case TOK_IF: s = parse_if(p); break;
    case TOK_FOR: s = parse_for(p); break;
    case TOK_WHILE: s = parse_while(p); break;
    case TOK_DEF: s = parse_def(p); break;
    case TOK_CLASS: s = parse_class(p); break;
    case TOK_WITH: s = parse_with(p); break;
    case TOK_AT:
        fail_tok(p, &p->cur, "decorators are not part of nnl");
        return false;
    case TOK_ELSE: case TOK_ELIF:
        fail_tok(p, &p->cur, "'%s' without a matching 'if' (check the indentation)",
                 p->cur.type == TOK_ELSE ? "else" : "elif");
        return false;
    default:
        return parse_simple_stmts(p, stmts);
    }
    if (!s)
        return false;
    push_stmt(p, stmts, s);
    return true;
}

/* ---------------------------------------------------------------- entry */

/* program: statement* EOF */
ParseResult parse_program(Source *src, const ParseLimits *limits, Program *out, Diag *diag)
{
    ParseResult result = {false, false, false};
    memset(out, 0, sizeof *out);
    if (src->len > PARSE_MAX_SOURCE_BYTES) {
        diag_set(diag, DIAG_LIMIT, src, src->first_line, 1,
                 "source text too large (more than %zu MiB)", PARSE_MAX_SOURCE_BYTES >> 20);
        return result;
    }
    Lexer lx;
    Parser p = {
        .src = src,
        .arena = arena_new(),
        .diag = diag,
        .lx = &lx,
        .max_depth = limits && limits->max_depth > 0 ? limits->max_depth
                                                      : PARSE_DEFAULT_MAX_DEPTH,
    };
    lexer_init(&lx, src, p.max_depth);
    advance(&p);
    Vec stmts = {0};
    while (!check(&p, TOK_EOF))
        if (!parse_statement(&p, &stmts))
            break;
    bool ended_in_block = lexer_ended_in_block(&lx);
    lexer_free(&lx);
    if (p.c_locale)
        freelocale(p.c_locale);
    if (p.failed) {
        arena_free(p.arena);
        result.incomplete = p.incomplete;
        return result;
    }
    out->arena = p.arena;
    out->body.stmts = stmts.data;
    out->body.n = stmts.n;
    out->source_name = arena_strndup(p.arena, src->name, strlen(src->name));
    result.ok = true;
    result.ends_in_block = ended_in_block;
    return result;
}
