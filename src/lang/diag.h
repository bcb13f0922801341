/*
 * diag.h - one error of an nnl program, and how it is shown.
 *
 * THE ERROR RULE (language side)
 *   The lexer, the parser and the evaluator stop at the first error and fill
 *   a Diag; nothing is printed where the error is found. Every function that
 *   can fail returns false (or NULL) and the caller passes the failure up,
 *   releasing what it holds on the way out. The front-end (batch, REPL, TUI,
 *   exam grader) decides how to show the Diag: diag_format() gives the
 *   standard text
 *
 *       lessons/x.nnl:7:11: error: matmul shape mismatch: (3, 2) @ (3, 1)
 *           y = x @ w
 *                 ^
 *
 *   followed, for errors inside functions, by the call chain (innermost last):
 *
 *         call chain (innermost last):
 *           lessons/x.nnl:20:8: in <module>
 *           lessons/x.nnl:9:16: in forward
 */
#ifndef NNREPL_DIAG_H
#define NNREPL_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/strbuf.h"

/* A source text the diagnostics can quote lines from. Reference counted: the
 * evaluator's function values and saved diagnostics keep theirs alive. */
typedef struct Source {
    int refcount;
    char *name;        /* "lessons/x.nnl", "<stdin>", "<string>", "<input>" */
    char *text;        /* NUL-terminated */
    size_t len;
    int first_line;    /* number of the text's first line (a cell of a lesson starts later) */
} Source;

/* Copies name and text. */
Source *source_new(const char *name, const char *text, size_t len, int first_line);
Source *source_retain(Source *s);
void source_release(Source *s);
/* Line `line` (absolute number) without its newline; *len set. NULL if absent. */
const char *source_line(const Source *s, int line, size_t *len);

typedef enum DiagKind {
    DIAG_SYNTAX,      /* lexer and parser */
    DIAG_RUNTIME,     /* evaluator */
    DIAG_INTERRUPT,   /* Ctrl-C or --timeout */
    DIAG_LIMIT,       /* memory, recursion, nesting, steps */
} DiagKind;

#define DIAG_MAX_FRAMES 16

typedef struct DiagFrame {
    Source *source;    /* owned reference */
    int line, col;
    char *function;    /* "<module>", "forward", "Model.forward" */
} DiagFrame;

typedef struct Diag {
    bool set;
    DiagKind kind;
    char *message;     /* "matmul shape mismatch: (3, 2) @ (3, 1)" */
    Source *source;    /* where it happened (owned reference), may be NULL */
    int line, col;     /* 1-based; col counts code points */
    /* Call chain, outermost first; the last frame is where the error is.
     * Empty for errors at the top level. Deeper chains keep their outermost
     * and innermost frames and say how many were left out. */
    DiagFrame frames[DIAG_MAX_FRAMES];
    int n_frames;
    int frames_omitted;
} Diag;

void diag_init(Diag *d);
void diag_clear(Diag *d);                   /* frees and resets */
/* Set the error (printf-style message). Replaces an earlier one. */
void diag_set(Diag *d, DiagKind kind, Source *src, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Add a call-chain frame; frames are pushed innermost first as the error
 * travels outwards, and stored outermost first. */
void diag_push_frame(Diag *d, Source *src, int line, int col, const char *function);
/* Move src into dst (dst cleared first; src left empty). */
void diag_move(Diag *dst, Diag *src);

/* The standard text (see top of file), ending with a newline. */
void diag_format(const Diag *d, StrBuf *out);
/* Just "file:line:col: error: message" (no newline): reports, tests. */
void diag_format_short(const Diag *d, StrBuf *out);

#endif
