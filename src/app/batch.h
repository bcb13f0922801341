/*
 * batch.h - the batch front-end: events to stdout and stderr.
 *
 * Used by `--batch`, `-e`, a file or stdin without a terminal, and the
 * exam grader. Printed text goes to stdout as it comes; an error is written
 * to stderr in the standard form (diag.h); plt.show() prints an ASCII chart;
 * check() results print as "ok N - message" lines.
 */
#ifndef NNREPL_BATCH_H
#define NNREPL_BATCH_H

#include <stdbool.h>
#include <stdio.h>

#include "events.h"

typedef struct BatchFrontend {
    FILE *out, *err;
    bool unicode;              /* charts with braille and box drawing */
    int checks_run;            /* numbering of check() lines */
    int checks_failed;
} BatchFrontend;

void batch_init(BatchFrontend *b, FILE *out, FILE *err);
/* The Frontend whose callbacks write through b. */
Frontend batch_frontend(BatchFrontend *b);
/* Show the prompt on `prompt_to`, read one line of stdin (without its
 * newline) into *out (malloc'd); false at the end of input. */
bool read_line_from_stdin(FILE *prompt_to, const char *prompt, char **out);
/* Reads a line for ask() from stdin. */
bool batch_read_line(void *ctx, const char *prompt, char **out);
/* The chart text of a figure (shared with other front-ends). */
void figure_render_text(const Figure *fig, int width, int height, bool unicode, StrBuf *out);

#endif
