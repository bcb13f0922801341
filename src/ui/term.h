/*
 * term.h - the one module that owns the terminal: curses setup and
 * teardown, colours, and restoring the terminal on every way out.
 *
 * term_open() starts curses on stdin/stdout (newterm, cbreak, noecho,
 * nonl; keypad off so Readline sees the raw key sequences). From then on
 * the terminal is given back by term_close(), which is also registered with
 * atexit. SIGTERM and SIGHUP only set a flag (term_stop_signal()) and the
 * interrupt flag, so the front-end leaves through its normal path; after
 * term_close() the front-end re-raises the signal. SIGSEGV, SIGBUS, SIGFPE
 * and SIGABRT restore the saved terminal modes and write the saved
 * exit-alternate-screen/cursor-visible/attributes-off strings from an
 * alternate signal stack before the default action (not in
 * AddressSanitizer builds, whose own report matters more).
 *
 * No function here may be called from a signal handler.
 */
#ifndef NNREPL_UI_TERM_H
#define NNREPL_UI_TERM_H

#include <signal.h>
#include <stdbool.h>

#include <curses.h>

#include "grid.h"

typedef struct TermOptions {
    bool ascii;                         /* --ascii */
    bool no_color;                      /* --no-color or NO_COLOR */
    volatile sig_atomic_t *interrupt;   /* also set on SIGTERM/SIGHUP (may be NULL) */
} TermOptions;

/* Start curses; false (with the terminal untouched) when the terminal
 * cannot draw panes (no cursor addressing, newterm failed). */
bool term_open(const TermOptions *opt);
/* Give the terminal back (endwin); safe to call more than once. */
void term_close(void);
bool term_is_open(void);

/* The drawing window (the whole screen). */
WINDOW *term_window(void);
/* Unicode glyphs: a UTF-8 locale and not --ascii. */
bool term_unicode(void);
bool term_colour(void);
int term_cols(void);
int term_lines(void);

/* The curses attributes for a grid cell's attributes. */
attr_t term_attr(GridAttr attr, short *pair);

/* SIGTERM or SIGHUP received (their number), else 0. */
int term_stop_signal(void);
/* After term_close(): end the process the way the signal would have. */
void term_reraise_stop_signal(void);

#endif
