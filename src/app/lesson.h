/*
 * lesson.h - a lesson file split into cells.
 *
 * A lesson is an nnl file. A run of lines starting with `##` is prose
 * (Markdown-lite: `## # Title`, `**bold**`, `` `code` ``, `- bullets`); it
 * opens a cell, and the code up to the next prose run belongs to that cell.
 * Code before the first prose run forms a cell of its own without prose.
 * The first prose run's first line names the lesson. In batch mode none of
 * this matters: `##` lines are comments and the file runs as a whole.
 */
#ifndef NNREPL_LESSON_H
#define NNREPL_LESSON_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

typedef struct Cell {
    char *prose;            /* the prose without the "## " prefixes, lines joined by '\n' */
    int prose_line;         /* first line of the prose (1-based), 0 when none */
    Source *code;           /* the cell's code; code->first_line is its first line */
    int code_line;          /* == code->first_line */
    int last_line;          /* last line of the cell */
    bool has_code;          /* anything but blank lines and comments */
} Cell;

typedef struct Lesson {
    char *path;
    char *title;            /* from the first prose line, else the file name */
    Cell *cells;
    int n_cells;
    Source *source;         /* the whole file */
} Lesson;

/* Split a text into cells; never fails (an empty text has no cells). */
void lesson_split(Lesson *out, const char *name, const char *text, size_t len);
/* Read and split a file; false (errno set) if it cannot be read. */
bool lesson_load(Lesson *out, const char *path);
void lesson_free(Lesson *l);

#endif
