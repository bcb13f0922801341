/*
 * ast.h - the syntax tree of nnl, as the parser builds it and the evaluator
 * walks it.
 *
 * Every node records where it starts (1-based line and column; columns count
 * Unicode code points) so that any error can point at it. All nodes, arrays
 * and strings of one parse live in the parse's Arena and are freed together
 * with it (ast_program_free); nothing in the tree is freed on its own.
 */
#ifndef NNREPL_AST_H
#define NNREPL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/strbuf.h"

typedef struct SrcPos {
    int line;
    int col;
} SrcPos;

typedef struct Expr Expr;
typedef struct Stmt Stmt;

typedef enum ExprKind {
    EXPR_INT,       /* int_value */
    EXPR_FLOAT,     /* float_value */
    EXPR_STR,       /* str */
    EXPR_FSTRING,   /* fstring */
    EXPR_BOOL,      /* bool_value */
    EXPR_NONE,
    EXPR_NAME,      /* name */
    EXPR_ATTR,      /* attr: object.name */
    EXPR_INDEX,     /* index: object[index]; a, b inside [] is an EXPR_TUPLE */
    EXPR_SLICE,     /* slice: only as (part of) an index: start:stop:step */
    EXPR_CALL,      /* call */
    EXPR_UNARY,     /* unary: - + not */
    EXPR_BINARY,    /* binary: + - * / // % ** @ */
    EXPR_COMPARE,   /* compare: a < b <= c (chained) */
    EXPR_AND,       /* logic: a and b (short-circuit, returns an operand) */
    EXPR_OR,        /* logic */
    EXPR_COND,      /* cond: body if test else orelse */
    EXPR_LIST,      /* seq: [a, b] */
    EXPR_TUPLE,     /* seq: (a, b), a, b */
    EXPR_LISTCOMP,  /* comp: [elt for t in it if c ...] */
} ExprKind;

typedef enum BinOp {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_FLOORDIV, BIN_MOD, BIN_POW, BIN_MATMUL
} BinOp;

typedef enum UnaryOp { UNARY_NEG, UNARY_POS, UNARY_NOT } UnaryOp;

typedef enum CmpOp {
    CMPOP_EQ, CMPOP_NE, CMPOP_LT, CMPOP_LE, CMPOP_GT, CMPOP_GE,
    CMPOP_IN, CMPOP_NOT_IN, CMPOP_IS, CMPOP_IS_NOT
} CmpOp;

typedef struct Str {
    const char *data;   /* decoded bytes, NUL-terminated */
    size_t len;
} Str;

typedef struct Keyword {
    const char *name;   /* NUL-terminated identifier */
    SrcPos pos;
    Expr *value;
} Keyword;

/* One piece of an f-string: literal text or a replacement field. */
typedef struct FStringPart {
    bool is_field;
    Str literal;              /* !is_field: the text, escapes decoded, {{ }} undoubled */
    Expr *expr;               /* is_field: the expression */
    char conversion;          /* 0, 'r' or 's' (from !r / !s) */
    const char *spec;         /* format spec after ':' ("" when absent) */
    const char *self_doc;     /* f"{x=}": the text "x=" to print before the value, else NULL */
} FStringPart;

typedef struct CompFor {
    Expr *target;             /* a name or a tuple of targets */
    Expr *iter;
    Expr **ifs;
    int n_ifs;
} CompFor;

struct Expr {
    ExprKind kind;
    SrcPos pos;       /* where the node starts (for an operator: the operator token) */
    /* The evaluator's cache for EXPR_NAME / EXPR_ATTR (the interned name);
     * the parser leaves it NULL. */
    const void *sym;
    union {
        int64_t int_value;
        double float_value;
        bool bool_value;
        Str str;
        const char *name;
        struct { FStringPart *parts; int n_parts; } fstring;
        struct { Expr *object; const char *name; SrcPos name_pos; } attr;
        struct { Expr *object; Expr *index; } index;
        struct { Expr *start, *stop, *step; } slice;          /* each may be NULL */
        struct {
            Expr *func;
            Expr **args; int n_args;
            Keyword *kwargs; int n_kwargs;
        } call;
        struct { UnaryOp op; Expr *operand; } unary;
        struct { BinOp op; Expr *left, *right; } binary;
        /* left ops[0] comparators[0] ops[1] comparators[1] ... */
        struct { Expr *left; CmpOp *ops; Expr **comparators; SrcPos *op_pos; int n; } compare;
        struct { Expr *left, *right; } logic;
        struct { Expr *test, *body, *orelse; } cond;
        struct { Expr **items; int n; } seq;
        struct { Expr *elt; CompFor *fors; int n_fors; } comp;
    } u;
};

typedef enum StmtKind {
    STMT_EXPR,        /* expr */
    STMT_ASSIGN,      /* assign: t1 = t2 = value */
    STMT_AUGASSIGN,   /* augassign: target op= value */
    STMT_IF,          /* if_: elif chains are nested STMT_IFs in orelse */
    STMT_FOR,         /* for_ */
    STMT_WHILE,       /* while_ */
    STMT_BREAK,
    STMT_CONTINUE,
    STMT_PASS,
    STMT_RETURN,      /* ret: value may be NULL */
    STMT_DEF,         /* def */
    STMT_CLASS,       /* class_ */
    STMT_WITH,        /* with: with ctx [as target]: body */
    STMT_IMPORT,      /* import: import a.b.c [as x] (one module per statement node) */
    STMT_FROM_IMPORT, /* from_import: from a.b import x [as y], ... */
} StmtKind;

typedef struct Block {
    Stmt **stmts;
    int n;
} Block;

typedef struct Param {
    const char *name;
    SrcPos pos;
    Expr *default_value;   /* NULL when none */
} Param;

typedef struct ImportName {
    const char *name;      /* "nn" in from torch import nn; "torch.nn" in import torch.nn */
    const char *alias;     /* NULL when no `as` */
    SrcPos pos;
} ImportName;

struct Stmt {
    StmtKind kind;
    SrcPos pos;
    int end_line;          /* last source line of the statement (cells, highlighting) */
    union {
        Expr *expr;
        struct { Expr **targets; int n_targets; Expr *value; } assign;
        struct { Expr *target; BinOp op; Expr *value; SrcPos op_pos; } augassign;
        struct { Expr *test; Block body; Block orelse; } if_;
        struct { Expr *target; Expr *iter; Block body; } for_;
        struct { Expr *test; Block body; } while_;
        Expr *ret;
        struct {
            const char *name;
            Param *params; int n_params;
            Block body;
            const char *docstring;   /* first string statement, or NULL */
        } def;
        struct { const char *name; Expr **bases; int n_bases; Block body; } class_;
        struct { Expr *context; Expr *target; Block body; } with;
        ImportName import;
        struct { const char *module; ImportName *names; int n_names; } from_import;
    } u;
};

typedef struct Arena Arena;

/* One parsed source text. */
typedef struct Program {
    Arena *arena;
    Block body;
    const char *source_name;   /* copy of the file name, in the arena */
} Program;

void ast_program_free(Program *p);

/* A bump allocator: everything of one Program. Never returns NULL (aborts on
 * out-of-memory, like StrBuf); nodes are zeroed. */
Arena *arena_new(void);
void *arena_alloc(Arena *a, size_t bytes);
char *arena_strndup(Arena *a, const char *s, size_t n);
void arena_free(Arena *a);

const char *binop_symbol(BinOp op);   /* "+", "//", "@", ... */
const char *cmpop_symbol(CmpOp op);   /* "<", "not in", ... */

/* The tree as a compact S-expression (tests, debugging): one statement per
 * line, the statements of a block on the lines below their header, indented
 * two more spaces; "else" on a line of its own. Appends to out. Example:
 *     (for i (call range 3)
 *       (if (cmp i == 1)
 *         (expr (call print i (kw end ""))))
 *       else
 *         (pass)))
 * Names are bare, strings quoted, attributes (. obj name), subscripts
 * ([] obj index). Positions are not shown. */
void ast_dump(const Program *p, StrBuf *out);
void ast_dump_expr(const Expr *e, StrBuf *out);   /* one expression, same notation */

#endif
