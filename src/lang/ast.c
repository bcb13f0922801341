/*
 * ast.c - the arena that holds a syntax tree, operator names, and the
 * S-expression dump used by tests and for debugging.
 */
#include "ast.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- arena */

/* Chunks of this size serve most nodes; a request larger than a quarter of
 * it gets a chunk of its own so that the current chunk is not wasted. */
#define ARENA_CHUNK_BYTES ((size_t)64 * 1024)
#define ARENA_ALIGN (alignof(max_align_t))

typedef struct ArenaChunk {
    struct ArenaChunk *next;
    size_t used;
    size_t cap;
} ArenaChunk;

struct Arena {
    ArenaChunk *head;   /* the chunk being filled; big requests are linked behind it */
};

/* The chunk header, rounded up so that the data after it is aligned. */
static size_t chunk_header_size(void)
{
    return (sizeof(ArenaChunk) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
}

static ArenaChunk *chunk_new(size_t cap)
{
    if (cap > SIZE_MAX - chunk_header_size())
        abort();
    /* calloc: nodes come out zeroed, and bump allocation never reuses memory */
    ArenaChunk *c = calloc(1, chunk_header_size() + cap);
    if (!c)
        abort();
    c->cap = cap;
    return c;
}

Arena *arena_new(void)
{
    Arena *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->head = chunk_new(ARENA_CHUNK_BYTES);
    return a;
}

void *arena_alloc(Arena *a, size_t bytes)
{
    if (bytes > SIZE_MAX - ARENA_ALIGN)
        abort();
    bytes = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (bytes == 0)
        bytes = ARENA_ALIGN;
    ArenaChunk *c = a->head;
    if (bytes > c->cap - c->used) {
        if (bytes > ARENA_CHUNK_BYTES / 4) {
            ArenaChunk *big = chunk_new(bytes);
            big->next = c->next;
            c->next = big;
            big->used = bytes;
            return (char *)big + chunk_header_size();
        }
        c = chunk_new(ARENA_CHUNK_BYTES);
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c + chunk_header_size() + c->used;
    c->used += bytes;
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        abort();
    char *d = arena_alloc(a, n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void arena_free(Arena *a)
{
    if (!a)
        return;
    ArenaChunk *c = a->head;
    while (c) {
        ArenaChunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

void ast_program_free(Program *p)
{
    if (!p)
        return;
    arena_free(p->arena);
    p->arena = NULL;
    p->body.stmts = NULL;
    p->body.n = 0;
    p->source_name = NULL;
}

/* ------------------------------------------------------------ operators */

const char *binop_symbol(BinOp op)
{
    static const char *const symbols[] = {
        [BIN_ADD] = "+", [BIN_SUB] = "-", [BIN_MUL] = "*", [BIN_DIV] = "/",
        [BIN_FLOORDIV] = "//", [BIN_MOD] = "%", [BIN_POW] = "**", [BIN_MATMUL] = "@",
    };
    if ((unsigned)op >= sizeof symbols / sizeof symbols[0])
        return "?";
    return symbols[op];
}

const char *cmpop_symbol(CmpOp op)
{
    static const char *const symbols[] = {
        [CMPOP_EQ] = "==", [CMPOP_NE] = "!=", [CMPOP_LT] = "<", [CMPOP_LE] = "<=",
        [CMPOP_GT] = ">", [CMPOP_GE] = ">=", [CMPOP_IN] = "in", [CMPOP_NOT_IN] = "not in",
        [CMPOP_IS] = "is", [CMPOP_IS_NOT] = "is not",
    };
    if ((unsigned)op >= sizeof symbols / sizeof symbols[0])
        return "?";
    return symbols[op];
}

/* ----------------------------------------------------------------- dump */

static void dump_quoted(StrBuf *out, const char *s, size_t len)
{
    sb_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': sb_append(out, "\\\""); break;
        case '\\': sb_append(out, "\\\\"); break;
        case '\n': sb_append(out, "\\n"); break;
        case '\t': sb_append(out, "\\t"); break;
        case '\r': sb_append(out, "\\r"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                sb_printf(out, "\\x%02x", c);
            else
                sb_append_char(out, (char)c);
        }
    }
    sb_append_char(out, '"');
}

/* Like Python's repr of a float: the shortest digits that read back as the
 * same double, positional between 1e-4 and 1e16, always with a '.' or an
 * exponent so that it cannot be mistaken for an int. */
static void dump_float(StrBuf *out, double v)
{
    char buf[64];
    if (v != v || v - v != 0) {   /* nan, inf */
        sb_append(out, v != v ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    int exponent = atoi(strchr(buf, 'e') + 1);
    if (exponent >= -4 && exponent < 16) {
        int decimals = prec - 1 - exponent;
        snprintf(buf, sizeof buf, "%.*f", decimals > 0 ? decimals : 0, v);
        sb_append(out, buf);
        if (!strchr(buf, '.'))
            sb_append(out, ".0");
        return;
    }
    sb_append(out, buf);
}

static void dump_opt(StrBuf *out, const Expr *e)
{
    if (e)
        ast_dump_expr(e, out);
    else
        sb_append_char(out, '_');
}

static void dump_items(StrBuf *out, Expr *const *items, int n)
{
    for (int i = 0; i < n; i++) {
        sb_append_char(out, ' ');
        ast_dump_expr(items[i], out);
    }
}

static void dump_fstring(StrBuf *out, const Expr *e)
{
    sb_append(out, "(fstr");
    for (int i = 0; i < e->u.fstring.n_parts; i++) {
        const FStringPart *part = &e->u.fstring.parts[i];
        sb_append_char(out, ' ');
        if (!part->is_field) {
            dump_quoted(out, part->literal.data, part->literal.len);
            continue;
        }
        sb_append(out, "(fmt ");
        ast_dump_expr(part->expr, out);
        if (part->conversion)
            sb_printf(out, " !%c", part->conversion);
        if (part->spec && part->spec[0]) {
            sb_append(out, " spec=");
            dump_quoted(out, part->spec, strlen(part->spec));
        }
        if (part->self_doc) {
            sb_append(out, " doc=");
            dump_quoted(out, part->self_doc, strlen(part->self_doc));
        }
        sb_append_char(out, ')');
    }
    sb_append_char(out, ')');
}

static void dump_listcomp(StrBuf *out, const Expr *e)
{
    sb_append(out, "(listcomp ");
    ast_dump_expr(e->u.comp.elt, out);
    for (int i = 0; i < e->u.comp.n_fors; i++) {
        const CompFor *f = &e->u.comp.fors[i];
        sb_append(out, " (for ");
        ast_dump_expr(f->target, out);
        sb_append_char(out, ' ');
        ast_dump_expr(f->iter, out);
        for (int k = 0; k < f->n_ifs; k++) {
            sb_append(out, " (if ");
            ast_dump_expr(f->ifs[k], out);
            sb_append_char(out, ')');
        }
        sb_append_char(out, ')');
    }
    sb_append_char(out, ')');
}

void ast_dump_expr(const Expr *e, StrBuf *out)
{
    static const char *const unary_names[] = {
        [UNARY_NEG] = "-", [UNARY_POS] = "+", [UNARY_NOT] = "not",
    };
    switch (e->kind) {
    case EXPR_INT: sb_printf(out, "%lld", (long long)e->u.int_value); break;
    case EXPR_FLOAT: dump_float(out, e->u.float_value); break;
    case EXPR_STR: dump_quoted(out, e->u.str.data, e->u.str.len); break;
    case EXPR_FSTRING: dump_fstring(out, e); break;
    case EXPR_BOOL: sb_append(out, e->u.bool_value ? "True" : "False"); break;
    case EXPR_NONE: sb_append(out, "None"); break;
    case EXPR_NAME: sb_append(out, e->u.name); break;
    case EXPR_ATTR:
        sb_append(out, "(. ");
        ast_dump_expr(e->u.attr.object, out);
        sb_printf(out, " %s)", e->u.attr.name);
        break;
    case EXPR_INDEX:
        sb_append(out, "([] ");
        ast_dump_expr(e->u.index.object, out);
        sb_append_char(out, ' ');
        ast_dump_expr(e->u.index.index, out);
        sb_append_char(out, ')');
        break;
    case EXPR_SLICE:
        sb_append(out, "(slice ");
        dump_opt(out, e->u.slice.start);
        sb_append_char(out, ' ');
        dump_opt(out, e->u.slice.stop);
        sb_append_char(out, ' ');
        dump_opt(out, e->u.slice.step);
        sb_append_char(out, ')');
        break;
    case EXPR_CALL:
        sb_append(out, "(call ");
        ast_dump_expr(e->u.call.func, out);
        dump_items(out, e->u.call.args, e->u.call.n_args);
        for (int i = 0; i < e->u.call.n_kwargs; i++) {
            sb_printf(out, " (kw %s ", e->u.call.kwargs[i].name);
            ast_dump_expr(e->u.call.kwargs[i].value, out);
            sb_append_char(out, ')');
        }
        sb_append_char(out, ')');
        break;
    case EXPR_UNARY:
        sb_printf(out, "(%s ", unary_names[e->u.unary.op]);
        ast_dump_expr(e->u.unary.operand, out);
        sb_append_char(out, ')');
        break;
    case EXPR_BINARY:
        sb_printf(out, "(%s ", binop_symbol(e->u.binary.op));
        ast_dump_expr(e->u.binary.left, out);
        sb_append_char(out, ' ');
        ast_dump_expr(e->u.binary.right, out);
        sb_append_char(out, ')');
        break;
    case EXPR_COMPARE:
        sb_append(out, "(cmp ");
        ast_dump_expr(e->u.compare.left, out);
        for (int i = 0; i < e->u.compare.n; i++) {
            sb_printf(out, " %s ", cmpop_symbol(e->u.compare.ops[i]));
            ast_dump_expr(e->u.compare.comparators[i], out);
        }
        sb_append_char(out, ')');
        break;
    case EXPR_AND:
    case EXPR_OR:
        sb_append(out, e->kind == EXPR_AND ? "(and " : "(or ");
        ast_dump_expr(e->u.logic.left, out);
        sb_append_char(out, ' ');
        ast_dump_expr(e->u.logic.right, out);
        sb_append_char(out, ')');
        break;
    case EXPR_COND:
        sb_append(out, "(ifexp ");
        ast_dump_expr(e->u.cond.test, out);
        sb_append_char(out, ' ');
        ast_dump_expr(e->u.cond.body, out);
        sb_append_char(out, ' ');
        ast_dump_expr(e->u.cond.orelse, out);
        sb_append_char(out, ')');
        break;
    case EXPR_LIST:
    case EXPR_TUPLE:
        sb_append(out, e->kind == EXPR_LIST ? "(list" : "(tuple");
        dump_items(out, e->u.seq.items, e->u.seq.n);
        sb_append_char(out, ')');
        break;
    case EXPR_LISTCOMP: dump_listcomp(out, e); break;
    }
}

static void dump_stmt(const Stmt *s, int indent, StrBuf *out);

static void dump_block(const Block *b, int indent, StrBuf *out)
{
    for (int i = 0; i < b->n; i++) {
        sb_append_char(out, '\n');
        sb_repeat(out, ' ', (size_t)indent);
        dump_stmt(b->stmts[i], indent, out);
    }
}

static void dump_import_name(const ImportName *n, StrBuf *out)
{
    sb_append(out, n->name);
    if (n->alias)
        sb_printf(out, " as %s", n->alias);
}

static void dump_def(const Stmt *s, int indent, StrBuf *out)
{
    sb_printf(out, "(def %s (", s->u.def.name);
    for (int i = 0; i < s->u.def.n_params; i++) {
        const Param *prm = &s->u.def.params[i];
        if (i)
            sb_append_char(out, ' ');
        sb_append(out, prm->name);
        if (prm->default_value) {
            sb_append_char(out, '=');
            ast_dump_expr(prm->default_value, out);
        }
    }
    sb_append_char(out, ')');
    if (s->u.def.docstring) {
        sb_append(out, " doc=");
        dump_quoted(out, s->u.def.docstring, strlen(s->u.def.docstring));
    }
    dump_block(&s->u.def.body, indent + 2, out);
    sb_append_char(out, ')');
}

static void dump_simple_stmt(const Stmt *s, StrBuf *out)
{
    switch (s->kind) {
    case STMT_EXPR:
        sb_append(out, "(expr ");
        ast_dump_expr(s->u.expr, out);
        break;
    case STMT_ASSIGN:
        sb_append(out, "(assign");
        dump_items(out, s->u.assign.targets, s->u.assign.n_targets);
        sb_append_char(out, ' ');
        ast_dump_expr(s->u.assign.value, out);
        break;
    case STMT_AUGASSIGN:
        sb_printf(out, "(%s= ", binop_symbol(s->u.augassign.op));
        ast_dump_expr(s->u.augassign.target, out);
        sb_append_char(out, ' ');
        ast_dump_expr(s->u.augassign.value, out);
        break;
    case STMT_BREAK: sb_append(out, "(break"); break;
    case STMT_CONTINUE: sb_append(out, "(continue"); break;
    case STMT_PASS: sb_append(out, "(pass"); break;
    case STMT_RETURN:
        sb_append(out, "(return");
        if (s->u.ret) {
            sb_append_char(out, ' ');
            ast_dump_expr(s->u.ret, out);
        }
        break;
    case STMT_IMPORT:
        sb_append(out, "(import ");
        dump_import_name(&s->u.import, out);
        break;
    case STMT_FROM_IMPORT:
        sb_printf(out, "(from %s import ", s->u.from_import.module);
        for (int i = 0; i < s->u.from_import.n_names; i++) {
            if (i)
                sb_append(out, ", ");
            dump_import_name(&s->u.from_import.names[i], out);
        }
        break;
    default:
        break;
    }
    sb_append_char(out, ')');
}

static void dump_stmt(const Stmt *s, int indent, StrBuf *out)
{
    switch (s->kind) {
    case STMT_IF:
        sb_append(out, "(if ");
        ast_dump_expr(s->u.if_.test, out);
        dump_block(&s->u.if_.body, indent + 2, out);
        if (s->u.if_.orelse.n) {
            sb_append_char(out, '\n');
            sb_repeat(out, ' ', (size_t)indent);
            sb_append(out, "else");
            dump_block(&s->u.if_.orelse, indent + 2, out);
        }
        sb_append_char(out, ')');
        break;
    case STMT_FOR:
        sb_append(out, "(for ");
        ast_dump_expr(s->u.for_.target, out);
        sb_append_char(out, ' ');
        ast_dump_expr(s->u.for_.iter, out);
        dump_block(&s->u.for_.body, indent + 2, out);
        sb_append_char(out, ')');
        break;
    case STMT_WHILE:
        sb_append(out, "(while ");
        ast_dump_expr(s->u.while_.test, out);
        dump_block(&s->u.while_.body, indent + 2, out);
        sb_append_char(out, ')');
        break;
    case STMT_DEF:
        dump_def(s, indent, out);
        break;
    case STMT_CLASS:
        sb_printf(out, "(class %s", s->u.class_.name);
        dump_items(out, s->u.class_.bases, s->u.class_.n_bases);
        dump_block(&s->u.class_.body, indent + 2, out);
        sb_append_char(out, ')');
        break;
    case STMT_WITH:
        sb_append(out, "(with ");
        ast_dump_expr(s->u.with.context, out);
        if (s->u.with.target) {
            sb_append(out, " as ");
            ast_dump_expr(s->u.with.target, out);
        }
        dump_block(&s->u.with.body, indent + 2, out);
        sb_append_char(out, ')');
        break;
    default:
        dump_simple_stmt(s, out);
        break;
    }
}

void ast_dump(const Program *p, StrBuf *out)
{
    for (int i = 0; i < p->body.n; i++) {
        dump_stmt(p->body.stmts[i], 0, out);
        sb_append_char(out, '\n');
    }
}
