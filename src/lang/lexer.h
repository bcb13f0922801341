/*
 * lexer.h - nnl source text to tokens.
 *
 * Tokens are slices of the source text: {type, start, length, line, col},
 * lines absolute (counting from the Source's first_line), columns 1-based in
 * code points. The parser pulls them one at a time (lexer_next_token), so the
 * first error it meets, lexical or syntactic, is the first in the text.
 *
 * What the lexer does besides cutting words:
 *   - checks the whole text is UTF-8 without NUL bytes, before anything else;
 *   - turns indentation (spaces only) into INDENT and DEDENT tokens and ends
 *     each logical line with NEWLINE; blank lines, comment lines and IPython
 *     magic lines (`%matplotlib inline`) give no tokens;
 *   - joins lines inside brackets and after a `\`, and checks brackets match;
 *   - rejects, where they appear, the words and operators of Python that nnl
 *     lacks (`lambda`, `|`, `:=`, ...) with a message saying so.
 * Literal values are not decoded here: token_int_value() reads an int token,
 * the parser decodes floats and strings (lexer_string_info() finds the parts
 * of a string token).
 *
 * Errors: the lexer returns a TOK_ERROR token placed where the error is, and
 * keeps returning it; lexer_error() gives the message. Such an error is
 * "incomplete" when more input could have completed the text (an unclosed
 * bracket or triple-quoted string, a `\` at the very end): a REPL then asks
 * for another line instead of reporting it.
 */
#ifndef NNREPL_LEXER_H
#define NNREPL_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

typedef enum TokenType {
    TOK_EOF,
    TOK_ERROR,
    TOK_NEWLINE,
    TOK_INDENT,
    TOK_DEDENT,
    TOK_NAME,
    TOK_INT,
    TOK_FLOAT,
    TOK_STRING,      /* any kind: the slice includes the prefix and the quotes */
    /* brackets */
    TOK_LPAREN, TOK_RPAREN, TOK_LBRACKET, TOK_RBRACKET, TOK_LBRACE, TOK_RBRACE,
    /* punctuation and operators */
    TOK_COMMA, TOK_COLON, TOK_SEMICOLON, TOK_DOT, TOK_ASSIGN,
    TOK_PLUS, TOK_MINUS, TOK_STAR, TOK_SLASH, TOK_DSLASH, TOK_PERCENT, TOK_DSTAR, TOK_AT,
    TOK_PLUS_ASSIGN, TOK_MINUS_ASSIGN, TOK_STAR_ASSIGN, TOK_SLASH_ASSIGN,
    TOK_EQ, TOK_NE, TOK_LT, TOK_LE, TOK_GT, TOK_GE,
    /* keywords */
    TOK_TRUE, TOK_FALSE, TOK_NONE, TOK_AND, TOK_OR, TOK_NOT, TOK_IN, TOK_IS,
    TOK_IF, TOK_ELIF, TOK_ELSE, TOK_FOR, TOK_WHILE, TOK_BREAK, TOK_CONTINUE, TOK_PASS,
    TOK_DEF, TOK_RETURN, TOK_CLASS, TOK_WITH, TOK_AS, TOK_IMPORT, TOK_FROM,
    TOK_COUNT
} TokenType;

typedef struct Token {
    TokenType type;
    const char *start;   /* into the Source's text */
    size_t length;
    int line, col;       /* where it starts */
} Token;

#define LEXER_ERROR_MAX 200

typedef struct LexBracket {
    char ch;
    int line, col;
    int indent_col;       /* column of the first token of the line it opened on */
    /* The first line inside the bracket that starts, no further right than
     * indent_col, with a keyword that begins a statement (`if`, `for`,
     * `def`, ...): a sign the bracket was meant to be closed before it. */
    int statement_line;
} LexBracket;

typedef struct Lexer {
    const char *p, *end;     /* what is left to read */
    int line, col;           /* position of *p */
    bool fragment;           /* an f-string field: no lines, no indentation */
    int max_depth;           /* brackets and indentation levels */
    /* indentation */
    int *indents;            /* widths of the open blocks; indents[0] == 0 */
    int n_indents, cap_indents;
    int pending_dedents;
    bool at_line_start;      /* indentation not yet measured */
    bool line_has_tokens;    /* the logical line needs a NEWLINE */
    bool ended_in_block;     /* the text ended while a block was open */
    int comment_line, comment_col;   /* a comment just skipped (0: none) */
    int logical_line_col;    /* column of the first token of the logical line */
    int last_token_line;     /* the line where the last token ended */
    /* brackets */
    LexBracket *brackets;
    int n_brackets, cap_brackets;
    /* error */
    bool failed;
    bool error_incomplete;
    bool error_limit;
    Token error_token;
    char error[LEXER_ERROR_MAX];
} Lexer;

/* Lex a whole source. max_depth bounds bracket and block nesting. */
void lexer_init(Lexer *lx, const Source *src, int max_depth);
/* Lex [start, end) of a source text already checked by a full lexer (an
 * f-string field): as if inside brackets, without NEWLINE or indentation;
 * the first character is at line:col. */
void lexer_init_fragment(Lexer *lx, const char *start, const char *end, int line, int col,
                         int max_depth);
void lexer_free(Lexer *lx);

Token lexer_next_token(Lexer *lx);

/* After a TOK_ERROR: the message, whether more input could have completed
 * the text, and whether it is a nesting limit rather than a syntax error. */
const char *lexer_error(const Lexer *lx);
bool lexer_error_incomplete(const Lexer *lx);
bool lexer_error_is_limit(const Lexer *lx);

/* The innermost bracket open at the lexer's position (false when none), so
 * that a syntax error on a later line can say it was never closed. */
bool lexer_open_bracket(const Lexer *lx, LexBracket *out);
/* After TOK_EOF: true if the last logical line was inside an indented block
 * (an interactive prompt keeps reading until an empty line then). */
bool lexer_ended_in_block(const Lexer *lx);

/* The value of a digit in bases up to 16 (0-9, a-f, A-F), or -1: for
 * number literals and for the \x, \u and \U escapes of strings. */
int lexer_digit_value(char c);

/* The value of a TOK_INT token; false when it does not fit in 64 bits. */
bool token_int_value(const Token *t, int64_t *out);

/* Where the token ends: the line and column just after its last character. */
void token_end(const Token *t, int *line, int *col);

/* The parts of a TOK_STRING token. */
typedef struct StringInfo {
    bool raw;             /* r prefix: backslashes are kept */
    bool fstring;         /* f prefix */
    int quote_len;        /* 1 or 3 */
    const char *body;     /* between the quotes */
    size_t body_len;
    int body_line, body_col;   /* where the body starts */
} StringInfo;
void lexer_string_info(const Token *t, StringInfo *out);

/* "NAME", "'('", "'if'", ... for messages and tests. */
const char *token_type_name(TokenType type);

#endif
