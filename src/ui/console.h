/*
 * console.h - the Console pane's scrollback: printed text, echoed input,
 * values, errors, and how it is drawn into a Grid.
 *
 * Text arrives in pieces (print() sends "a", then "\n"); the console keeps
 * whole lines plus the unfinished last one, each with the attributes of its
 * first piece (an error's lines are GRID_ROLE_ERROR). Lines are word-wrapped
 * when drawn, so a resize rewraps them. Tabs expand to the next multiple of
 * 8 columns; a carriage return starts its line over (progress counters).
 * The oldest lines go once there are more than the console's limit, and a
 * line is cut after CONSOLE_MAX_LINE_BYTES.
 *
 * Scrolling counts drawn rows up from the bottom; 0 follows new output.
 */
#ifndef NNREPL_UI_CONSOLE_H
#define NNREPL_UI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "grid.h"
#include "layout.h"

typedef struct Console Console;

#define CONSOLE_DEFAULT_LINES 5000
/* Longer lines are cut into lines of this many bytes. */
#define CONSOLE_MAX_LINE_BYTES 16384

/* NULL only when memory runs out. max_lines < 1 means the default. */
Console *console_new(int max_lines);
void console_free(Console *c);
void console_clear(Console *c);

/* Append text; '\n' ends a line. */
void console_write(Console *c, const char *text, size_t len, GridAttr attr);
void console_puts(Console *c, const char *text, GridAttr attr);
/* End the unfinished line, if any (so what follows starts a line). */
void console_end_line(Console *c);
/* Whole lines kept, and the unfinished one when there is one. */
int console_line_count(const Console *c);
/* Line i (0 = the oldest kept), or NULL. */
const char *console_line(const Console *c, int i, GridAttr *attr);

/* Scroll by `rows` (positive: back in time) in a view of width x height;
 * clamped so the view stays inside the text. */
void console_scroll(Console *c, int rows, int width, int height);
void console_scroll_to_end(Console *c);
int console_scroll_offset(const Console *c);

/* Draw the last `area.h` rows (minus the scroll offset) into the area. */
void console_draw(const Console *c, Grid *g, Rect area);

/* Word wrapping shared by the panes: calls fn for each row of `text` (one
 * line, no '\n') wrapped at `width` columns: breaks after spaces where it
 * can, inside words where it must. Returns the number of rows (at least 1). */
typedef void (*WrapRowFn)(void *ctx, int row, const char *start, size_t len);
int text_wrap(const char *text, int width, WrapRowFn fn, void *ctx);

#endif
