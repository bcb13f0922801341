/*
 * grid.h - a terminal-independent character grid.
 *
 * Every pane draws into a Grid: W x H cells, each one Unicode code point
 * plus attributes. Unit tests compare grid_to_text() with expected text; the
 * curses front-end copies the cells to the screen (grid_row_runs()); batch
 * mode prints grid_to_text().
 *
 * Coordinates are columns (x) and rows (y) from the top-left corner.
 * Everything clips: drawing outside the grid, with negative sizes or on a
 * NULL grid does nothing, so callers may compute rectangles freely.
 *
 * Attributes are a GridAttr: a semantic role in the low byte (what the text
 * means, not which colour it has) OR-ed with style bits:
 *     grid_put(g, x, y, 0x2502, GRID_ROLE_AXIS | GRID_DIM);
 * The curses layer maps roles to colour pairs (grid_role_colour() says which
 * colour each role stands for) or, without colour, to the styles that
 * grid_role_mono_style() suggests.
 *
 * Wide characters (CJK, fullwidth forms, most emoji) take two cells: the
 * code point sits in the left cell and the right cell holds GRID_WIDE_TAIL.
 * Zero-width characters (combining marks, variation selectors) are dropped:
 * a cell holds one code point. Control characters in text become spaces.
 */
#ifndef NNREPL_UI_GRID_H
#define NNREPL_UI_GRID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* What a cell's text is for. The comment gives the colour the curses layer
 * is expected to use (grid_role_colour()); matplotlib's colour letters map to
 * the series roles with the same colour ('b' -> SERIES_1, 'r' -> SERIES_2...). */
typedef enum GridRole {
    GRID_ROLE_NORMAL = 0,   /* terminal default */
    GRID_ROLE_POSITIVE,     /* green: positive values, a correct answer */
    GRID_ROLE_NEGATIVE,     /* red: negative values */
    GRID_ROLE_AXIS,         /* default colour, dim: axes, frames, tick labels */
    GRID_ROLE_SERIES_1,     /* blue */
    GRID_ROLE_SERIES_2,     /* red */
    GRID_ROLE_SERIES_3,     /* green */
    GRID_ROLE_SERIES_4,     /* yellow */
    GRID_ROLE_SERIES_5,     /* magenta */
    GRID_ROLE_SERIES_6,     /* cyan */
    GRID_ROLE_HIGHLIGHT,    /* yellow, bold: the current value, the running line */
    GRID_ROLE_TITLE,        /* default colour, bold */
    GRID_ROLE_ERROR,        /* red, bold */
    GRID_ROLE_COUNT
} GridRole;

#define GRID_SERIES_ROLES 6

typedef uint16_t GridAttr;

#define GRID_ROLE_MASK  0x00ffu
#define GRID_BOLD       0x0100u
#define GRID_REVERSE    0x0200u
#define GRID_DIM        0x0400u
#define GRID_UNDERLINE  0x0800u
#define GRID_STYLE_MASK 0x0f00u

static inline GridRole grid_attr_role(GridAttr attr)
{
    unsigned role = attr & GRID_ROLE_MASK;
    return role < GRID_ROLE_COUNT ? (GridRole)role : GRID_ROLE_NORMAL;
}

/* The colours of the eight-colour terminal palette, in curses order. */
typedef enum GridColour {
    GRID_COLOUR_DEFAULT = -1,
    GRID_COLOUR_BLACK = 0, GRID_COLOUR_RED, GRID_COLOUR_GREEN, GRID_COLOUR_YELLOW,
    GRID_COLOUR_BLUE, GRID_COLOUR_MAGENTA, GRID_COLOUR_CYAN, GRID_COLOUR_WHITE
} GridColour;

/* The foreground colour a role stands for (GRID_COLOUR_DEFAULT: the
 * terminal's own), and the style bits it adds when colours are available. */
GridColour grid_role_colour(GridRole role);
GridAttr grid_role_colour_style(GridRole role);
/* Style bits that stand in for the role's colour on a monochrome terminal. */
GridAttr grid_role_mono_style(GridRole role);

/* The right half of a wide character. */
#define GRID_WIDE_TAIL 0u

typedef struct GridCell {
    uint32_t cp;      /* a code point, or GRID_WIDE_TAIL */
    GridAttr attr;
} GridCell;

typedef struct Grid Grid;

/* Sizes are clamped to 0..GRID_MAX_SIDE. NULL only when memory runs out. */
#define GRID_MAX_SIDE 2048
Grid *grid_new(int width, int height);
void grid_free(Grid *g);
/* Change the size, keeping the overlapping top-left part; new cells are
 * blank. False (grid unchanged) when memory runs out. */
bool grid_resize(Grid *g, int width, int height);
int grid_width(const Grid *g);
int grid_height(const Grid *g);
/* Every cell a space with no attributes. */
void grid_clear(Grid *g);

/* The cell at (x, y), or NULL outside the grid. */
const GridCell *grid_cell(const Grid *g, int x, int y);

/* Intersect the rectangle (x, y, w, h) with the grid, in place; false when
 * nothing is left. Safe for any int values. */
bool grid_clip_rect(const Grid *g, int *x, int *y, int *w, int *h);

/* Put one code point; returns the columns it took (1, 2 for a wide
 * character, 0 when clipped or zero-width). Overwriting half of a wide
 * character blanks its other half. */
int grid_put(Grid *g, int x, int y, uint32_t cp, GridAttr attr);

/* Write UTF-8 text from (x, y) on one row, at most max_width columns
 * (max_width < 0: up to the right edge). Returns the columns the text
 * occupies after clipping (columns left of x = 0 count but are not drawn).
 * A wide character that does not fit entirely is left out. */
int grid_text(Grid *g, int x, int y, const char *utf8, GridAttr attr, int max_width);
/* The same for the first len bytes of utf8 (a row of wrapped text, say). */
int grid_text_n(Grid *g, int x, int y, const char *utf8, size_t len, GridAttr attr,
                int max_width);

/* Fill a rectangle with one code point. */
void grid_fill(Grid *g, int x, int y, int w, int h, uint32_t cp, GridAttr attr);
/* Lines of box-drawing characters (-/| when !unicode). */
void grid_hline(Grid *g, int x, int y, int len, GridAttr attr, bool unicode);
void grid_vline(Grid *g, int x, int y, int len, GridAttr attr, bool unicode);
/* A frame around a rectangle: ┌─┐│└┘ (unicode) or +-| (ASCII). Only the
 * border is drawn; rectangles smaller than 2x2 draw what fits. */
void grid_box(Grid *g, int x, int y, int w, int h, GridAttr attr, bool unicode);

/* The grid as text: one line per row, each ending in '\n', trailing spaces
 * trimmed. With unicode false, characters outside ASCII are replaced by an
 * ASCII look-alike (box drawing by -|+, blocks by #, braille by .:' and the
 * rest by '?'), so the columns still line up. Appends to out. */
void grid_to_text(const Grid *g, StrBuf *out, bool unicode);

/* For the screen: calls fn once for each maximal run of cells on row y that
 * share the same attributes, left to right, with the run's text as UTF-8
 * (wide-character tails omitted), its first column and its width in
 * columns. Trailing blank cells with no attributes are not reported. */
typedef void (*GridRunFn)(void *ctx, int x, int y, const char *utf8, int columns,
                          GridAttr attr);
void grid_row_runs(const Grid *g, int y, GridRunFn fn, void *ctx);

/* Display width of one code point: 0 for zero-width characters, 2 for wide
 * ones, 1 otherwise; -1 for control characters. Locale-independent, like
 * wcwidth() in a UTF-8 locale where East Asian ambiguous characters are
 * narrow (box drawing, blocks, braille, geometric shapes are all 1). */
int grid_char_width(uint32_t cp);
/* Display width of UTF-8 text as grid_text() would draw it. */
int grid_text_width(const char *utf8);
/* Decode one code point from *s (advancing it); malformed bytes give
 * U+FFFD and advance one byte. Returns 0 at the end of the string. */
uint32_t grid_utf8_next(const char **s);

#endif
