/*
 * tui.c - the terminal classroom: tui_main, the input loops and the
 * commands (:next, :step, :continue, :run, :reset, :watch, :help, :quit).
 * See tui_internal.h for how the loops nest.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prompt.h"
#include "screen.h"
#include "term.h"
#include "tui_internal.h"

#ifndef NNREPL_VERSION
#define NNREPL_VERSION ""
#endif

#define PROMPT_NEW ">>> "
#define PROMPT_MORE "... "
/* key polling while code runs, and the frame rate then */
#define POLL_SECONDS 0.02
#define FRAME_SECONDS (1.0 / 15)
/* how long the idle prompt waits for a key before looking at the flags */
#define IDLE_WAIT_MS 150

double tui_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void say(Tui *t, const char *text, GridAttr attr)
{
    console_end_line(t->console);
    console_puts(t->console, text, attr);
    console_puts(t->console, "\n", attr);
    console_scroll_to_end(t->console);
    t->dirty = true;
}

/* ---- the interpreter ---- */

static Interp *start_interp(Tui *t)
{
    InterpOptions io = t->opt->interp;
    io.echo_expressions = true;
    io.script_dir = t->script_dir;
    io.datasets_dir = app_datasets_dir();
    Interp *in = interp_new(&io, tui_frontend(t));
    if (in)
        in->interrupt = t->interrupt;
    return in;
}

/* Stop the running code at its next safe point without showing the
 * "interrupted" error; leave every pause and ask loop. */
void tui_abort_run(Tui *t)
{
    if (t->mode == MODE_IDLE)
        return;
    t->aborting = true;
    *t->interrupt = 1;
}

static RunResult run_source(Tui *t, Source *src, bool echo)
{
    *t->interrupt = 0;
    t->in->opt.echo_expressions = echo;
    t->mode = MODE_RUNNING;
    t->run_start = tui_now();
    t->paused_seconds = 0;
    t->running_line = 0;
    t->dirty = true;
    tui_draw(t);
    RunResult r = interp_run(t->in, src, false);
    t->mode = MODE_IDLE;
    t->running_line = 0;
    t->free_run = false;
    t->ignore_pauses = false;
    t->aborting = false;
    *t->interrupt = 0;
    tui_forget_parse(t);
    t->dirty = true;
    return r;
}

/* ---- cells ---- */

static RunResult run_cell(Tui *t, int index)
{
    Cell *c = &t->lesson.cells[index];
    t->shown_cell = index;
    t->shown_cell_ran = true;
    t->next_cell = index + 1;
    t->error_line = 0;
    watch_forget_steps(t->watch);
    char head[64];
    snprintf(head, sizeof head, "%s cell %d/%d %s", t->unicode ? "\xe2\x94\x80\xe2\x94\x80" : "--",
             index + 1, t->lesson.n_cells, t->unicode ? "\xe2\x94\x80\xe2\x94\x80" : "--");
    say(t, head, GRID_ROLE_AXIS);
    if (!c->has_code) {
        t->dirty = true;
        return RUN_OK;
    }
    return run_source(t, c->code, false);
}

typedef enum CellsHow { CELLS_ONE, CELLS_ALL } CellsHow;

/* Run the next cell, or all that are left; after one cell, :step's target
 * (when it was not reached yet) carries the run on into the next. */
static void run_cells(Tui *t, CellsHow how)
{
    if (!t->has_lesson || t->next_cell >= t->lesson.n_cells) {
        say(t, t->has_lesson ? "the lesson is over (:reset starts it again)"
                             : "no lesson is open: type code at the prompt",
            GRID_ROLE_AXIS);
        if (t->step_continues && t->step_target >= 0)
            say(t, "stepping: the next optimizer step of the code you run will pause", GRID_ROLE_AXIS);
        t->step_continues = false;
        return;
    }
    while (t->next_cell < t->lesson.n_cells && !t->quit) {
        if (how == CELLS_ALL) {
            t->free_run = true;
            t->ignore_pauses = true;
        }
        RunResult r = run_cell(t, t->next_cell);
        if (r == RUN_ERROR || t->pending != PENDING_NONE)
            break;
        bool stepping_on = t->step_continues && t->step_target >= 0;
        if (how == CELLS_ONE && !stepping_on)
            break;
    }
    if (t->next_cell >= t->lesson.n_cells && t->step_continues && t->step_target >= 0) {
        say(t, "the lesson ended before the step", GRID_ROLE_AXIS);
        t->step_target = -1;
    }
    t->step_continues = false;
}

static void do_reset(Tui *t)
{
    watch_reset(t->watch);
    tui_forget_parse(t);
    Interp *fresh = start_interp(t);
    if (!fresh) {
        say(t, "out of memory: the old session stays", GRID_ROLE_ERROR);
        return;
    }
    interp_free(t->in);
    t->in = fresh;
    t->next_cell = 0;
    t->shown_cell = 0;
    t->shown_cell_ran = false;
    t->error_line = 0;
    t->running_line = 0;
    t->step_target = -1;
    tui_reset_panes(t);
    say(t, t->has_lesson ? "reset: a fresh interpreter, back before the first cell"
                         : "reset: a fresh interpreter",
        GRID_ROLE_AXIS);
}

/* ---- entries ---- */

static void run_entry_now(Tui *t, const char *entry)
{
    Source *src = source_new("<input>", entry, strlen(entry), 1);
    if (t->mode == MODE_PAUSED) {
        t->mode = MODE_RUNNING;
        t->paused_code_depth++;
        t->dirty = true;
        interp_run_paused(t->in, src);
        t->paused_code_depth--;
        t->mode = MODE_PAUSED;
        /* a Ctrl-C meant for the typed code must not stop the paused program */
        if (!t->aborting)
            *t->interrupt = 0;
    } else {
        run_source(t, src, true);
    }
    source_release(src);
    console_end_line(t->console);
    t->dirty = true;
}

static void queue_entry(Tui *t, const char *entry)
{
    if (t->n_queued == t->cap_queued) {
        int cap = t->cap_queued ? t->cap_queued * 2 : 4;
        char **bigger = realloc(t->queued, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return;
        t->queued = bigger;
        t->cap_queued = cap;
    }
    char *copy = strdup(entry);
    if (copy)
        t->queued[t->n_queued++] = copy;
}

static void handle_command(Tui *t, const char *line);

/* Leave; a run in progress is stopped first. Asked twice while the run
 * will not stop, leave at once (the terminal and the history are saved on
 * the way out). */
static void request_quit(Tui *t)
{
    if (t->quit && t->aborting) {
        prompt_shutdown();
        term_close();
        exit(0);
    }
    t->quit = true;
    tui_abort_run(t);
}

/* Entries typed while code ran, now that the prompt can take them. */
static void run_queued(Tui *t)
{
    while (t->n_queued > 0 && !t->quit && (t->mode == MODE_IDLE || t->mode == MODE_PAUSED) &&
           !t->resume && !t->aborting) {
        char *e = t->queued[0];
        memmove(t->queued, t->queued + 1, (size_t)(t->n_queued - 1) * sizeof *t->queued);
        t->n_queued--;
        const char *p = e;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ':')
            handle_command(t, p);
        else
            run_entry_now(t, e);
        free(e);
    }
}

static void submit_entry(Tui *t)
{
    t->continuing = false;
    prompt_begin(PROMPT_NEW);
    char *entry = sb_take(&t->entry);
    prompt_history_add(entry);
    console_scroll_to_end(t->console);
    if (t->mode == MODE_RUNNING) {
        queue_entry(t, entry);
        say(t, "(runs when the running code stops or pauses)", GRID_ROLE_AXIS);
    } else {
        run_entry_now(t, entry);
    }
    free(entry);
}

/* The input in the console as it was typed: each line after its prompt
 * (an entry recalled from the history has several). */
static void echo_input(Tui *t, const char *prompt, const char *line)
{
    console_end_line(t->console);
    for (const char *p = line;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        console_puts(t->console, p == line ? prompt : PROMPT_MORE, GRID_ROLE_AXIS);
        console_write(t->console, p, n, GRID_ROLE_TITLE);
        console_puts(t->console, "\n", 0);
        if (!nl || !nl[1])
            break;
        p = nl + 1;
    }
    console_scroll_to_end(t->console);
    t->dirty = true;
}

static void cancel_entry(Tui *t)
{
    sb_clear(&t->entry);
    t->continuing = false;
    prompt_begin(PROMPT_NEW);
}

/* One finished line from Readline (NULL: Ctrl-D on an empty line). The
 * rules of the plain prompt: an entry that leaves a bracket or a block open
 * continues on a "... " line; an empty line ends a block. */
static void handle_line(Tui *t, char *line)
{
    if (t->mode == MODE_ASKING) {
        free(t->answer);
        t->answer = line;
        t->answer_ready = true;
        return;
    }
    if (!line) {
        if (t->continuing) {
            cancel_entry(t);
            t->dirty = true;
            return;
        }
        request_quit(t);
        return;
    }
    if (!t->continuing) {
        if (entry_line_is_blank(line)) {
            free(line);
            return;
        }
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ':') {
            echo_input(t, PROMPT_NEW, line);
            prompt_history_add(line);
            handle_command(t, p);
            free(line);
            return;
        }
        echo_input(t, PROMPT_NEW, line);
        sb_clear(&t->entry);
        sb_append(&t->entry, line);
        sb_append_char(&t->entry, '\n');
        free(line);
        t->entry_state = entry_state(sb_str(&t->entry));
        /* a whole block recalled from the history runs as it is */
        bool recalled = strchr(sb_str(&t->entry), '\n') != sb_str(&t->entry) + t->entry.len - 1;
        if (recalled && t->entry_state == ENTRY_IN_BLOCK)
            t->entry_state = ENTRY_COMPLETE;
        if (entry_goes_on(t->entry_state)) {
            t->continuing = true;
            prompt_begin(PROMPT_MORE);
            return;
        }
        submit_entry(t);
        return;
    }
    echo_input(t, PROMPT_MORE, line);
    if (entry_line_is_blank(line) && t->entry_state != ENTRY_UNFINISHED) {
        /* run it: done, or show "expected an indented block" */
        free(line);
        submit_entry(t);
        return;
    }
    sb_append(&t->entry, line);
    sb_append_char(&t->entry, '\n');
    free(line);
    t->entry_state = entry_state(sb_str(&t->entry));
    if (!entry_goes_on(t->entry_state)) {
        submit_entry(t);
        return;
    }
    prompt_begin(PROMPT_MORE);
}

/* ---- commands ---- */

static const char *const HELP[] = {
    "Commands (anything else is nnl code):",
    "  :next        run the next cell of the lesson            F7",
    "  :step [N]    run until N more optimizer steps, then pause  F6",
    "  :continue    run on from a pause                        F5",
    "  :run         run the rest of the lesson",
    "  :reset       start again with a fresh interpreter",
    "  :watch EXPR  show a tensor or a model in the panes",
    "  :help        this list",
    "  :quit        leave (also F10, or Ctrl-D on an empty line)",
    "Keys: PgUp/PgDn scroll the console, Tab completes names, Ctrl-C stops",
    "a running loop (its variables are kept), Ctrl-L redraws the screen.",
    "While paused, the code you type runs where the program stopped.",
    NULL,
};

static void cmd_step(Tui *t, long n)
{
    if (n < 1)
        n = 1;
    if (t->mode == MODE_ASKING) {
        say(t, "answer the question first", GRID_ROLE_AXIS);
        return;
    }
    t->step_target = t->in->step_count + n;
    t->step_continues = t->has_lesson;
    t->free_run = false;
    if (t->mode == MODE_PAUSED)
        t->resume = true;
    else if (t->mode == MODE_IDLE)
        run_cells(t, CELLS_ONE);
}

static void cmd_continue(Tui *t)
{
    if (t->mode == MODE_IDLE) {
        say(t, "nothing is paused (F7 runs the next cell)", GRID_ROLE_AXIS);
        return;
    }
    t->step_target = -1;
    t->step_continues = false;
    t->free_run = true;
    if (t->mode == MODE_PAUSED)
        t->resume = true;
}

static void cmd_next(Tui *t)
{
    if (t->mode == MODE_IDLE) {
        run_cells(t, CELLS_ONE);
        return;
    }
    if (t->mode == MODE_ASKING) {
        say(t, "answer the question first", GRID_ROLE_AXIS);
        return;
    }
    if (!t->has_lesson || t->next_cell >= t->lesson.n_cells) {
        cmd_continue(t);
        return;
    }
    t->pending = PENDING_NEXT;
    t->step_target = -1;
    t->step_continues = false;
    t->free_run = true;
    say(t, "the next cell runs when this one ends", GRID_ROLE_AXIS);
    if (t->mode == MODE_PAUSED)
        t->resume = true;
}

static void cmd_run(Tui *t)
{
    if (t->mode == MODE_IDLE) {
        run_cells(t, CELLS_ALL);
        return;
    }
    t->pending = PENDING_RUN;
    t->step_target = -1;
    t->step_continues = false;
    t->free_run = true;
    t->ignore_pauses = true;
    if (t->mode == MODE_PAUSED)
        t->resume = true;
}

static void cmd_watch(Tui *t, const char *expr)
{
    while (isspace((unsigned char)*expr))
        expr++;
    if (t->mode == MODE_RUNNING) {
        char buf[512];
        snprintf(buf, sizeof buf, ":watch %s", expr);
        queue_entry(t, buf);
        say(t, "(:watch runs when the running code stops or pauses)", GRID_ROLE_AXIS);
        return;
    }
    if (!*expr) {
        value_release(t->in->watched);
        t->in->watched = val_none();
        say(t, "watching the latest model again", GRID_ROLE_AXIS);
        return;
    }
    Value v;
    if (!interp_eval_expression(t->in, expr, &v)) {
        StrBuf sb = STRBUF_INIT;
        diag_format(&t->in->diag, &sb);
        console_puts(t->console, sb_str(&sb), GRID_ROLE_ERROR);
        sb_free(&sb);
        diag_clear(&t->in->diag);
        t->dirty = true;
        return;
    }
    if (!watch_add_value(t->in, v)) {
        char buf[160];
        snprintf(buf, sizeof buf, ":watch takes a tensor, a model or an optimizer, not %s",
                 value_type_name(v));
        say(t, buf, GRID_ROLE_ERROR);
    } else {
        const Tensor *tensor = val_as_tensor(v);
        if (tensor)
            watch_name_tensor(t->watch, tensor, expr);
        t->dirty = true;
    }
    value_release(v);
}

static void cmd_reset(Tui *t)
{
    if (t->mode == MODE_IDLE) {
        do_reset(t);
        return;
    }
    t->pending = PENDING_RESET;
    tui_abort_run(t);
}

static void handle_command(Tui *t, const char *line)
{
    char cmd[32] = "";
    int used = 0;
    if (sscanf(line, " %31s%n", cmd, &used) != 1)
        return;
    const char *rest = line + used;
    if (strcmp(cmd, ":quit") == 0 || strcmp(cmd, ":q") == 0) {
        request_quit(t);
    } else if (strcmp(cmd, ":help") == 0 || strcmp(cmd, ":h") == 0) {
        for (int i = 0; HELP[i]; i++)
            say(t, HELP[i], 0);
    } else if (strcmp(cmd, ":next") == 0 || strcmp(cmd, ":n") == 0) {
        cmd_next(t);
    } else if (strcmp(cmd, ":step") == 0 || strcmp(cmd, ":s") == 0) {
        char *end;
        errno = 0;
        long n = strtol(rest, &end, 10);
        while (isspace((unsigned char)*end))
            end++;
        if (end == rest || entry_line_is_blank(rest)) {
            n = 1;
        } else if (*end || errno || n < 1) {
            say(t, ":step takes a positive number of steps", GRID_ROLE_ERROR);
            return;
        }
        cmd_step(t, n);
    } else if (strcmp(cmd, ":continue") == 0 || strcmp(cmd, ":c") == 0) {
        cmd_continue(t);
    } else if (strcmp(cmd, ":run") == 0) {
        cmd_run(t);
    } else if (strcmp(cmd, ":reset") == 0) {
        cmd_reset(t);
    } else if (strcmp(cmd, ":watch") == 0) {
        cmd_watch(t, rest);
    } else {
        char buf[96];
        snprintf(buf, sizeof buf, "unknown command %s (:help lists them)", cmd);
        say(t, buf, GRID_ROLE_ERROR);
    }
}

static void handle_key(Tui *t, PromptKey k)
{
    Rect in = rect_inner(t->layout.pane[PANE_CONSOLE]);
    int page = in.h > 3 ? in.h - 2 : 1;
    switch (k) {
    case PROMPT_KEY_CONTINUE:
        cmd_continue(t);
        break;
    case PROMPT_KEY_STEP:
        cmd_step(t, 1);
        break;
    case PROMPT_KEY_NEXT:
        cmd_next(t);
        break;
    case PROMPT_KEY_QUIT:
        request_quit(t);
        break;
    case PROMPT_KEY_PAGE_UP:
        console_scroll(t->console, page, in.w, in.h - 1);
        t->dirty = true;
        break;
    case PROMPT_KEY_PAGE_DOWN:
        console_scroll(t->console, -page, in.w, in.h - 1);
        t->dirty = true;
        break;
    case PROMPT_KEY_REDRAW:
        screen_force_repaint();
        t->dirty = true;
        break;
    case PROMPT_KEY_NONE:
        break;
    }
}

/* ---- input ---- */

/* Ctrl-C at a prompt: drop what is typed; on an empty prompt while paused
 * or asked, stop the program (the flag stays set for the evaluator). */
static void on_ctrl_c(Tui *t)
{
    bool typed = prompt_has_text() || t->continuing;
    if (typed || t->mode == MODE_IDLE) {
        *t->interrupt = 0;
        if (t->continuing)
            cancel_entry(t);
        prompt_cancel();
        t->dirty = true;
        return;
    }
    if (t->mode == MODE_PAUSED) {
        t->resume = true;
        t->free_run = true;
    } else if (t->mode == MODE_ASKING) {
        free(t->answer);
        t->answer = NULL;
        t->answer_ready = true;
    }
}

static void handle_byte(Tui *t, int c)
{
    if (c == KEY_RESIZE) {
        tui_resize(t);
        return;
    }
    if (c < 0 || c > 255)
        return;
    prompt_feed(c);
    PromptKey k;
    while ((k = prompt_take_key()) != PROMPT_KEY_NONE)
        handle_key(t, k);
    char *line;
    while (!t->quit && prompt_take_line(&line))
        handle_line(t, line);
}

/* SIGTERM, SIGHUP: leave through the normal path; when the running code
 * does not stop within STOP_GRACE_SECONDS, leave from where we are. */
#define STOP_GRACE_SECONDS 1.0

static void check_stop_signal(Tui *t)
{
    if (!term_stop_signal())
        return;
    if (!t->stop_seen_at) {
        t->stop_seen_at = tui_now();
        t->quit = true;
        tui_abort_run(t);
    } else if (t->mode != MODE_IDLE && tui_now() - t->stop_seen_at > STOP_GRACE_SECONDS) {
        prompt_shutdown();
        term_close();
        term_reraise_stop_signal();
        _exit(1);
    }
}

void tui_input_loop(Tui *t, bool (*done)(Tui *t))
{
    WINDOW *win = term_window();
    while (!t->quit && !done(t)) {
        check_stop_signal(t);
        if (t->quit)
            break;
        if (*t->interrupt)
            on_ctrl_c(t);
        if (done(t))
            break;
        run_queued(t);
        if (t->dirty)
            tui_draw(t);
        if (t->mode == MODE_IDLE && t->pending != PENDING_NONE)
            break;
        wtimeout(win, IDLE_WAIT_MS);
        int c = wgetch(win);
        if (c == ERR)
            continue;
        handle_byte(t, c);
        /* take the rest of a burst (a pasted line, an escape sequence) */
        wtimeout(win, 0);
        for (int i = 0; i < 4096 && !t->quit && !done(t); i++) {
            c = wgetch(win);
            if (c == ERR)
                break;
            handle_byte(t, c);
        }
    }
}

/* While code runs: keys and resizes, and a frame when it is time. */
void tui_poll(Tui *t)
{
    double now = tui_now();
    if (now - t->last_poll < POLL_SECONDS)
        return;
    t->last_poll = now;
    check_stop_signal(t);
    /* a run being stopped is asked again until it stops */
    if (t->aborting)
        *t->interrupt = 1;
    WINDOW *win = term_window();
    wtimeout(win, 0);
    for (int i = 0; i < 256 && !t->quit; i++) {
        int c = wgetch(win);
        if (c == ERR)
            break;
        handle_byte(t, c);
    }
    if (now - t->last_draw >= FRAME_SECONDS)
        tui_draw(t);
}

static bool idle_done(Tui *t)
{
    return t->quit;
}

static void process_pending(Tui *t)
{
    while (t->pending != PENDING_NONE && !t->quit) {
        TuiPending p = t->pending;
        t->pending = PENDING_NONE;
        if (p == PENDING_RESET)
            do_reset(t);
        else if (p == PENDING_NEXT)
            run_cells(t, CELLS_ONE);
        else if (p == PENDING_RUN)
            run_cells(t, CELLS_ALL);
    }
}

/* ---- start and end ---- */

static void on_redisplay(void *ctx)
{
    tui_draw_prompt(ctx);
}

static void on_matches(void *ctx, char **matches, int n)
{
    Tui *t = ctx;
    StrBuf sb = STRBUF_INIT;
    int width = rect_inner(t->layout.pane[PANE_CONSOLE]).w;
    if (width < 20)
        width = t->layout.cols;
    int longest = 1;
    for (int i = 0; i < n; i++) {
        int w = grid_text_width(matches[i]);
        if (w > longest)
            longest = w;
    }
    int per_row = width / (longest + 2);
    if (per_row < 1)
        per_row = 1;
    for (int i = 0; i < n; i++) {
        sb_printf(&sb, "%-*s", longest + 2, matches[i]);
        if ((i + 1) % per_row == 0 || i == n - 1) {
            say(t, sb_str(&sb), GRID_ROLE_AXIS);
            sb_clear(&sb);
        }
    }
    sb_free(&sb);
    tui_draw(t);
}

static char **on_complete(void *ctx, const char *line, size_t end, size_t *word_start)
{
    Tui *t = ctx;
    return interp_complete(t->in, line, end, word_start);
}

static bool setup(Tui *t, const AppOptions *o)
{
    t->opt = o;
    t->interrupt = app_interrupt_flag();
    t->step_target = -1;
    t->step_every = o->step;
    t->lr = NAN;
    t->shown_cell = 0;
    sb_init(&t->entry);
    t->watch = watch_new();
    t->console = console_new(0);
    t->loss = chart_new();
    t->plot = chart_new();
    t->grid = grid_new(1, 1);
    if (!t->watch || !t->console || !t->loss || !t->plot || !t->grid)
        return false;
    tui_reset_panes(t);
    t->in = start_interp(t);
    return t->in != NULL;
}

static void teardown(Tui *t)
{
    tui_forget_parse(t);
    interp_free(t->in);
    watch_free(t->watch);
    console_free(t->console);
    chart_free(t->loss);
    chart_free(t->plot);
    grid_free(t->grid);
    tensor_snap_free(&t->output);
    sb_free(&t->entry);
    for (int i = 0; i < t->n_queued; i++)
        free(t->queued[i]);
    free(t->queued);
    free(t->answer);
    free(t->pause_reason);
    free(t->script_dir);
    if (t->has_lesson)
        lesson_free(&t->lesson);
}

static void greet(Tui *t)
{
    char buf[256];
    snprintf(buf, sizeof buf, "nnrepl %s: nnl with PyTorch's names. :help lists commands.", NNREPL_VERSION);
    say(t, buf, GRID_ROLE_AXIS);
    if (t->has_lesson) {
        snprintf(buf, sizeof buf, "%s: %d cells. F7 (:next) runs the next one, F6 (:step) steps.",
                 t->lesson.title ? t->lesson.title : t->lesson.path, t->lesson.n_cells);
        say(t, buf, GRID_ROLE_AXIS);
    }
    if (t->step_every)
        say(t, "--step: every optimizer step pauses (F5 runs on, F6 takes one step)", GRID_ROLE_AXIS);
}

int tui_main(const AppOptions *o, const char *lesson_path)
{
    Tui *t = calloc(1, sizeof *t);
    if (!t) {
        fputs("nnrepl: out of memory\n", stderr);
        return 1;
    }
    if (lesson_path) {
        if (!lesson_load(&t->lesson, lesson_path)) {
            fprintf(stderr, "nnrepl: cannot read '%s': %s\n", lesson_path, strerror(errno));
            free(t);
            return 2;
        }
        t->has_lesson = true;
        t->script_dir = app_dirname(lesson_path);
    }
    TermOptions to = {o->ascii, o->no_color, app_interrupt_flag()};
    if (!term_open(&to)) {
        /* a terminal curses cannot draw on: the plain prompt */
        if (t->has_lesson)
            lesson_free(&t->lesson);
        free(t->script_dir);
        free(t);
        return repl_main(o, lesson_path);
    }
    t->unicode = term_unicode();
    int status = 0;
    if (!setup(t, o)) {
        term_close();
        fputs("nnrepl: out of memory\n", stderr);
        status = 1;
    } else {
        char *hist = app_history_path();
        PromptHooks hooks = {t, on_redisplay, on_matches, on_complete, interp_free_completions};
        prompt_init(&hooks, hist);
        free(hist);
        prompt_begin(PROMPT_NEW);
        greet(t);
        tui_resize(t);
        while (!t->quit) {
            tui_input_loop(t, idle_done);
            process_pending(t);
        }
        prompt_shutdown();
        term_close();
    }
    teardown(t);
    free(t);
    term_reraise_stop_signal();
    return status;
}
