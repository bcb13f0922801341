/*
 * prompt.h - GNU Readline in callback mode, inside curses.
 *
 * Readline edits the line, keeps the history and completes words; it never
 * touches the terminal: the front-end reads keys with wgetch and hands each
 * byte to prompt_feed(), and draws the line itself (prompt_draw()) whenever
 * Readline says the line changed. Finished lines and the special keys (F5,
 * F6, F7, F10, PgUp, PgDn, Ctrl-L) are queued and taken after
 * prompt_feed() returns, so nothing runs inside Readline's callbacks.
 *
 * One prompt per process (Readline has one state).
 */
#ifndef NNREPL_UI_PROMPT_H
#define NNREPL_UI_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "grid.h"
#include "layout.h"

typedef enum PromptKey {
    PROMPT_KEY_NONE = 0,
    PROMPT_KEY_CONTINUE,    /* F5 */
    PROMPT_KEY_STEP,        /* F6 */
    PROMPT_KEY_NEXT,        /* F7 */
    PROMPT_KEY_QUIT,        /* F10 */
    PROMPT_KEY_PAGE_UP,
    PROMPT_KEY_PAGE_DOWN,
    PROMPT_KEY_REDRAW,      /* Ctrl-L */
} PromptKey;

typedef struct PromptHooks {
    void *ctx;
    /* The line changed: draw it (prompt_draw) and show it. */
    void (*redisplay)(void *ctx);
    /* Completion candidates to list (the console pane shows them). */
    void (*show_matches)(void *ctx, char **matches, int n);
    /* Candidates for the word ending at byte `end` (interp_complete). */
    char **(*complete)(void *ctx, const char *line, size_t end, size_t *word_start);
    void (*free_completions)(char **list);
} PromptHooks;

/* Set Readline up (and read the history file, which may be NULL). */
void prompt_init(const PromptHooks *hooks, const char *history_path);
/* Save the history and let Readline go. */
void prompt_shutdown(void);

/* Start a new, empty line with this prompt. */
void prompt_begin(const char *prompt);
/* Hand one byte of input to Readline. */
void prompt_feed(int byte);
/* A finished line: true with *line malloc'd (NULL at Ctrl-D on an empty line). */
bool prompt_take_line(char **line);
/* A special key pressed since the last call, or PROMPT_KEY_NONE. */
PromptKey prompt_take_key(void);
/* Ctrl-C: drop what was typed. */
void prompt_cancel(void);
/* Is anything typed on the line? */
bool prompt_has_text(void);

void prompt_history_add(const char *entry);

/* Draw the prompt and the line into one row of g (scrolled sideways to keep
 * the cursor in view); returns the cursor's column. */
int prompt_draw(Grid *g, Rect row, bool unicode);

#endif
