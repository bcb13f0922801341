/*
 * tui_events.c - what the evaluator reports, as the classroom takes it:
 * console text, the loss history, plots, outputs, steps (where stepping
 * pauses), pause(), errors and ask().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prompt.h"
#include "tui_internal.h"

void tui_reset_panes(Tui *t)
{
    chart_clear(t->loss);
    ChartStyle style = chart_style_default();
    chart_add_series(t->loss, NULL, NULL, 0, &style, NULL);
    chart_set_xlabel(t->loss, "step");
    chart_clear(t->plot);
    t->show_plot = false;
    tensor_snap_free(&t->output);
    t->output_label[0] = '\0';
    t->lr = NAN;
    t->checks_run = 0;
    t->dirty = true;
}

/* The line being run, when it is in the cell on show. */
static void follow_line(Tui *t, int line)
{
    if (!t->has_lesson || line <= 0 || t->shown_cell >= t->lesson.n_cells)
        return;
    const Cell *c = &t->lesson.cells[t->shown_cell];
    if (t->in->depth >= 1 && t->in->frames[t->in->depth - 1].source != c->code)
        return;
    if (line >= c->code_line && line <= c->last_line)
        t->running_line = line;
}

/* ---- pausing ---- */

static bool pause_done(Tui *t)
{
    return t->resume || t->aborting;
}

static void pause_here(Tui *t, const char *reason)
{
    TuiMode saved = t->mode;
    double started = tui_now();
    t->mode = MODE_PAUSED;
    t->resume = false;
    free(t->pause_reason);
    t->pause_reason = strdup(reason);
    t->dirty = true;
    tui_input_loop(t, pause_done);
    t->mode = saved;
    t->resume = false;
    free(t->pause_reason);
    t->pause_reason = NULL;
    t->paused_seconds += tui_now() - started;
    t->dirty = true;
}

/* Pausing is for the program itself: not for code typed at a pause, not
 * while it is being stopped. */
static bool may_pause(const Tui *t)
{
    return t->mode == MODE_RUNNING && t->paused_code_depth == 0 && !t->aborting && !t->quit;
}

static void on_step(Tui *t, const Event *ev)
{
    watch_record_step(t->watch, ev);
    if (!isnan(ev->value))
        t->lr = ev->value;
    t->dirty = true;
    if (!may_pause(t))
        return;
    bool target = t->step_target >= 0 && ev->step_count >= t->step_target;
    if (target || (t->step_every && !t->free_run)) {
        t->step_target = -1;
        t->step_continues = false;
        char reason[64];
        snprintf(reason, sizeof reason, "step %ld", ev->step_count);
        pause_here(t, reason);
    }
}

static void on_pause(Tui *t, const Event *ev)
{
    StrBuf sb = STRBUF_INIT;
    sb_append(&sb, "pause()");
    if (ev->text && ev->text_len) {
        sb_append(&sb, ": ");
        sb_append_n(&sb, ev->text, ev->text_len);
    }
    console_end_line(t->console);
    console_puts(t->console, sb_str(&sb), GRID_ROLE_HIGHLIGHT);
    console_puts(t->console, "\n", 0);
    t->dirty = true;
    if (may_pause(t) && !t->ignore_pauses)
        pause_here(t, sb_str(&sb));
    sb_free(&sb);
}

/* ---- what the panes record ---- */

static void on_backward(Tui *t, const Event *ev)
{
    chart_append(t->loss, 0, (double)ev->step_count, ev->value);
    /* the note is written when a frame is drawn */
    t->last_loss = ev->value;
    t->last_loss_step = ev->step_count;
    t->show_plot = false;
    t->dirty = true;
}

static void on_plot(Tui *t, const Figure *fig)
{
    chart_clear(t->plot);
    for (int i = 0; i < fig->n_series; i++) {
        const PlotSeries *s = &fig->series[i];
        ChartStyle style = chart_style_default();
        if (s->fmt && s->fmt[0] && !chart_style_parse(s->fmt, &style, NULL, 0))
            style = chart_style_default();
        chart_add_series(t->plot, s->x, s->y, (size_t)(s->n > 0 ? s->n : 0), &style, s->label);
    }
    chart_set_title(t->plot, fig->title);
    chart_set_xlabel(t->plot, fig->xlabel);
    chart_set_ylabel(t->plot, fig->ylabel);
    chart_set_legend(t->plot, fig->legend);
    t->show_plot = fig->n_series > 0;
    t->dirty = true;
}

static void on_output(Tui *t, const Event *ev)
{
    if (!ev->tensor)
        return;
    tensor_snap_from(&t->output, ev->tensor);
    snprintf(t->output_label, sizeof t->output_label, "%s", ev->label ? ev->label : "");
    t->dirty = true;
}

static bool is_interrupt(const Diag *d)
{
    return d && d->kind == DIAG_INTERRUPT;
}

/* Where the error is in the cell on show: its own line, or the line of
 * the cell that called into the function that failed. */
static void mark_error_line(Tui *t, const Diag *d)
{
    if (!t->has_lesson || t->shown_cell >= t->lesson.n_cells || t->paused_code_depth > 0)
        return;
    const Source *cell = t->lesson.cells[t->shown_cell].code;
    if (d->source == cell) {
        t->error_line = d->line;
        return;
    }
    for (int i = 0; i < d->n_frames; i++)
        if (d->frames[i].source == cell)
            t->error_line = d->frames[i].line;
}

static void on_error(Tui *t, const Diag *d)
{
    if (!d || (t->aborting && is_interrupt(d)))
        return;
    StrBuf sb = STRBUF_INIT;
    diag_format(d, &sb);
    console_end_line(t->console);
    console_puts(t->console, sb_str(&sb), GRID_ROLE_ERROR);
    console_end_line(t->console);
    console_scroll_to_end(t->console);
    sb_free(&sb);
    mark_error_line(t, d);
    t->dirty = true;
}

static void on_check(Tui *t, const Event *ev)
{
    t->checks_run++;
    StrBuf sb = STRBUF_INIT;
    sb_printf(&sb, "%s %d - ", ev->passed ? "ok" : "not ok", t->checks_run);
    if (ev->text)
        sb_append_n(&sb, ev->text, ev->text_len);
    if (!ev->passed && ev->detail)
        sb_printf(&sb, " (%s)", ev->detail);
    console_end_line(t->console);
    console_puts(t->console, sb_str(&sb), ev->passed ? GRID_ROLE_POSITIVE : GRID_ROLE_NEGATIVE);
    console_puts(t->console, "\n", 0);
    sb_free(&sb);
    t->dirty = true;
}

static void on_event(void *ctx, const Event *ev)
{
    Tui *t = ctx;
    follow_line(t, ev->line);
    switch (ev->kind) {
    case EVENT_PRINT:
        console_write(t->console, ev->text, ev->text_len, 0);
        t->dirty = true;
        break;
    case EVENT_BACKWARD:
        on_backward(t, ev);
        break;
    case EVENT_STEP:
        on_step(t, ev);
        break;
    case EVENT_PLOT:
        on_plot(t, ev->figure);
        break;
    case EVENT_OUTPUT:
        on_output(t, ev);
        break;
    case EVENT_WATCH:
        watch_forget_steps(t->watch);
        t->dirty = true;
        break;
    case EVENT_PAUSE:
        on_pause(t, ev);
        break;
    case EVENT_ERROR:
        on_error(t, ev->diag);
        break;
    case EVENT_CHECK:
        on_check(t, ev);
        break;
    case EVENT_CELL_START:
    case EVENT_TICK:
        break;
    }
    if (t->mode == MODE_RUNNING)
        tui_poll(t);
}

/* ---- ask() ---- */

static bool ask_done(Tui *t)
{
    return t->answer_ready || t->aborting;
}

static bool read_line(void *ctx, const char *question, char **out)
{
    Tui *t = ctx;
    if (t->quit || t->aborting)
        return false;
    console_end_line(t->console);
    console_scroll_to_end(t->console);
    TuiMode saved = t->mode;
    t->mode = MODE_ASKING;
    t->answer_ready = false;
    free(t->answer);
    t->answer = NULL;
    prompt_begin(question && *question ? question : "? ");
    t->dirty = true;
    tui_input_loop(t, ask_done);
    t->mode = saved;
    prompt_begin(">>> ");
    char *answer = t->answer_ready ? t->answer : NULL;
    t->answer = NULL;
    t->answer_ready = false;
    t->dirty = true;
    /* the question and its answer stay in the console */
    console_puts(t->console, question, GRID_ROLE_HIGHLIGHT);
    console_puts(t->console, answer ? answer : "", GRID_ROLE_TITLE);
    console_puts(t->console, "\n", 0);
    if (!answer)
        return false;
    *out = answer;
    return true;
}

Frontend tui_frontend(Tui *t)
{
    Frontend fe = {t, on_event, read_line};
    return fe;
}
