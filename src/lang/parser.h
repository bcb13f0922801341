/*
 * parser.h - nnl source text to a syntax tree (ast.h).
 *
 * A recursive-descent parser over the lexer's tokens, with one precedence
 * table for the binary operators. It stops at the first error (lexical or
 * syntactic) and describes it in a Diag (DIAG_SYNTAX, or DIAG_LIMIT for
 * nesting beyond the limit) with Python's wording where Python has one, and
 * a message saying "... is not part of nnl" for Python constructs that nnl
 * lacks.
 *
 * Nesting limit: brackets, blocks, prefix operators, `**` chains,
 * conditional expressions and f-string fields each count one level of
 * recursion, and no expression tree may be more than max_depth nodes deep
 * (a chain `a + b + c` nests one node per operator). So neither the parser
 * nor anything walking the tree recursively can overflow the C stack,
 * whatever the input; beyond the limit the error is "too deeply nested (more
 * than N levels)".
 *
 * Positions: every node's pos is where it starts, except that operators
 * (binary, unary, comparison, and/or, `x if c else y`) sit on the operator
 * token, a subscript on its '[', and a call on the called name (`matmul` in
 * torch.matmul(a, b); the '(' when the callee is not a name or attribute).
 */
#ifndef NNREPL_PARSER_H
#define NNREPL_PARSER_H

#include <stdbool.h>

#include "ast.h"
#include "diag.h"

#define PARSE_DEFAULT_MAX_DEPTH 100
/* Larger sources are refused ("source text too large") before lexing. */
#define PARSE_MAX_SOURCE_BYTES ((size_t)16 * 1024 * 1024)

typedef struct ParseLimits {
    int max_depth;   /* nesting levels, see above */
} ParseLimits;

typedef struct ParseResult {
    bool ok;
    /* Failed only because the text ended too early: an unclosed bracket or
     * triple-quoted string, a `\` at the end, a block header with no block
     * yet. A REPL shows its "... " prompt and reads another line; diag
     * still holds the error, to show if the input ends there. */
    bool incomplete;
    /* ok, and the last statement ended inside an indented block (`for ...:`
     * with its body): Python's prompt keeps reading such input until an
     * empty line, so that the block can go on (or an `else:` follow). */
    bool ends_in_block;
} ParseResult;

/* Parse a whole source. limits may be NULL (PARSE_DEFAULT_MAX_DEPTH).
 * On success *out owns the tree (free it with ast_program_free) and diag is
 * untouched; on failure *out is empty, nothing is leaked, and diag holds the
 * error. Linear in the size of the text. */
ParseResult parse_program(Source *src, const ParseLimits *limits, Program *out, Diag *diag);

#endif
