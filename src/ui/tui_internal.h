/*
 * tui_internal.h - the terminal classroom's state, shared by tui.c (the
 * loops and commands), tui_events.c (what the evaluator reports) and
 * tui_draw.c (the frame).
 *
 * Control flow. The evaluator runs on the main thread and reports events
 * synchronously; the classroom stays alive inside those callbacks:
 *
 *   idle loop (tui.c)                      keys -> Readline -> entries
 *     entry / :next -> interp_run          mode RUNNING
 *       on_event (tui_events.c)            record, poll keys, redraw <= 15/s
 *         EVENT_STEP due -> pause loop     mode PAUSED: the prompt evaluates
 *                                          in the paused frame (interp_run_paused)
 *         ask() -> ask loop                mode ASKING
 *
 * Every loop is input_loop() with its own "done" test. While code runs,
 * typed entries wait in a queue and the control keys act at once. Leaving
 * a run early (:reset, :quit, a stop signal) sets the interrupt flag so the
 * evaluator stops at its next safe point; the "interrupted" error that
 * follows is not shown.
 */
#ifndef NNREPL_UI_TUI_INTERNAL_H
#define NNREPL_UI_TUI_INTERNAL_H

#include <stdbool.h>

#include "app.h"
#include "chart.h"
#include "console.h"
#include "entry.h"
#include "grid.h"
#include "layout.h"
#include "lesson.h"
#include "panes.h"
#include "parser.h"
#include "watch.h"

typedef enum TuiMode {
    MODE_IDLE,       /* at the prompt, nothing running */
    MODE_RUNNING,    /* code runs */
    MODE_PAUSED,     /* stopped inside a step or pause() */
    MODE_ASKING,     /* ask() waits for an answer */
} TuiMode;

/* What to do once the current run is over. */
typedef enum TuiPending {
    PENDING_NONE,
    PENDING_NEXT,    /* run the next cell */
    PENDING_RUN,     /* run every cell left */
    PENDING_RESET,   /* a fresh interpreter */
} TuiPending;

typedef struct Tui {
    const AppOptions *opt;
    volatile sig_atomic_t *interrupt;

    /* the lesson */
    Lesson lesson;
    bool has_lesson;
    char *script_dir;
    int next_cell;             /* the cell :next runs */
    int shown_cell;            /* the cell in the Lesson pane */
    bool shown_cell_ran;
    int running_line;          /* highlighted in the Lesson pane (0: none) */
    int error_line;

    /* the interpreter and what the panes show */
    Interp *in;
    Watch *watch;
    Console *console;
    Chart *loss;
    double last_loss;          /* the newest point of `loss` */
    long last_loss_step;
    Chart *plot;
    bool show_plot;
    TensorSnap output;
    char output_label[16];
    double lr;                 /* from the last step event (NaN: unknown) */
    int checks_run;

    /* the screen */
    Grid *grid;
    Layout layout;
    bool unicode;
    bool dirty;                /* the whole frame must be drawn again */
    double last_draw, last_poll;

    /* running, pausing, stepping */
    TuiMode mode;
    int paused_code_depth;     /* > 0 while code typed at a pause runs */
    bool resume;               /* leave the pause loop */
    bool quit;
    double stop_seen_at;       /* when SIGTERM/SIGHUP was seen (0: not yet) */
    bool aborting;             /* the run is being stopped on purpose */
    long step_target;          /* pause when the step count reaches it (-1: no) */
    bool step_continues;       /* :step goes on into the next cells until then */
    bool step_every;           /* --step: pause at every step */
    bool free_run;             /* :continue/:run: no step pauses until the run ends */
    bool ignore_pauses;        /* :run: pause() does not stop either */
    TuiPending pending;
    char *pause_reason;        /* "step 15", "pause(): look at w" */
    double run_start, paused_seconds;

    /* the entry being typed (several lines for a block) */
    StrBuf entry;
    bool continuing;
    EntryState entry_state;
    char **queued;             /* entries typed while code ran */
    int n_queued, cap_queued;

    /* ask() */
    bool answer_ready;
    char *answer;

    /* the loop-variable finder's parse of the running source */
    Source *parsed_source;
    Program parsed;
    bool parsed_ok;
} Tui;

/* tui.c */
double tui_now(void);
void tui_input_loop(Tui *t, bool (*done)(Tui *t));
void tui_poll(Tui *t);
void tui_abort_run(Tui *t);

/* tui_events.c */
Frontend tui_frontend(Tui *t);
void tui_reset_panes(Tui *t);

/* tui_draw.c */
void tui_draw(Tui *t);
void tui_draw_prompt(Tui *t);
void tui_resize(Tui *t);
/* "epoch 3 of 100 · i 2": the loop variables around the running line. */
void tui_loop_position(Tui *t, StrBuf *out);
void tui_forget_parse(Tui *t);

#endif
