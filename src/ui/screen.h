/*
 * screen.h - copying the frame drawn into a Grid onto the terminal.
 *
 * The front-end draws every pane into one Grid the size of the terminal;
 * these functions copy rows of it into the curses window and show the
 * result with one wnoutrefresh + doupdate, so curses sends only the cells
 * that changed and the picture never flickers.
 */
#ifndef NNREPL_UI_SCREEN_H
#define NNREPL_UI_SCREEN_H

#include <stdbool.h>

#include "grid.h"

/* Copy rows [y0, y1) of g into the window (nothing is shown yet). */
void screen_copy_rows(const Grid *g, int y0, int y1);
/* Show what was copied, with the cursor at (x, y) (hidden when x < 0). */
void screen_present(int cursor_x, int cursor_y);
/* Repaint the whole terminal on the next present (Ctrl-L, after a resize). */
void screen_force_repaint(void);

#endif
