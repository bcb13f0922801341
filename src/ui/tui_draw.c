/*
 * tui_draw.c - one frame of the classroom: every pane drawn into the
 * screen-sized Grid, then copied to the terminal in one update.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prompt.h"
#include "screen.h"
#include "term.h"
#include "tui_internal.h"

/* ---- where the program is: the loop variables around the running line ---- */

void tui_forget_parse(Tui *t)
{
    if (t->parsed_ok)
        ast_program_free(&t->parsed);
    memset(&t->parsed, 0, sizeof t->parsed);
    t->parsed_ok = false;
    source_release(t->parsed_source);
    t->parsed_source = NULL;
}

/* The parsed program of src, parsed once per source. */
static const Program *program_of(Tui *t, Source *src)
{
    if (src == t->parsed_source)
        return t->parsed_ok ? &t->parsed : NULL;
    tui_forget_parse(t);
    t->parsed_source = source_retain(src);
    Diag d;
    diag_init(&d);
    ParseLimits limits = {INTERP_DEFAULT_MAX_NESTING};
    t->parsed_ok = parse_program(src, &limits, &t->parsed, &d).ok;
    diag_clear(&d);
    return t->parsed_ok ? &t->parsed : NULL;
}

#define MAX_LOOPS 8

typedef struct LoopVar {
    const char *name;
    const Expr *range_stop;    /* for ... in range(N) / enumerate(range(N)): N */
} LoopVar;

typedef struct LoopVars {
    LoopVar vars[MAX_LOOPS * 2];
    int n;
} LoopVars;

static void add_target(LoopVars *lv, const Expr *target, const Expr *stop)
{
    if (!target || lv->n >= MAX_LOOPS * 2)
        return;
    if (target->kind == EXPR_NAME) {
        lv->vars[lv->n++] = (LoopVar){target->u.name, stop};
    } else if (target->kind == EXPR_TUPLE || target->kind == EXPR_LIST) {
        for (int i = 0; i < target->u.seq.n; i++)
            add_target(lv, target->u.seq.items[i], i == 0 ? stop : NULL);
    }
}

/* N of range(N), or NULL. */
static const Expr *range_stop(const Expr *iter)
{
    if (!iter || iter->kind != EXPR_CALL || iter->u.call.n_args != 1 || iter->u.call.n_kwargs)
        return NULL;
    const Expr *fn = iter->u.call.func;
    if (fn->kind != EXPR_NAME)
        return NULL;
    if (strcmp(fn->u.name, "range") == 0)
        return iter->u.call.args[0];
    if (strcmp(fn->u.name, "enumerate") == 0)
        return range_stop(iter->u.call.args[0]);
    return NULL;
}

static void find_loops(const Block *b, int line, LoopVars *lv, int depth);

static void find_in_stmt(const Stmt *s, int line, LoopVars *lv, int depth)
{
    if (line < s->pos.line || line > s->end_line || depth > 32)
        return;
    switch (s->kind) {
    case STMT_FOR:
        add_target(lv, s->u.for_.target, range_stop(s->u.for_.iter));
        find_loops(&s->u.for_.body, line, lv, depth + 1);
        break;
    case STMT_WHILE:
        find_loops(&s->u.while_.body, line, lv, depth + 1);
        break;
    case STMT_IF:
        find_loops(&s->u.if_.body, line, lv, depth + 1);
        find_loops(&s->u.if_.orelse, line, lv, depth + 1);
        break;
    case STMT_WITH:
        find_loops(&s->u.with.body, line, lv, depth + 1);
        break;
    case STMT_DEF:
        find_loops(&s->u.def.body, line, lv, depth + 1);
        break;
    case STMT_CLASS:
        find_loops(&s->u.class_.body, line, lv, depth + 1);
        break;
    default:
        break;
    }
}

static void find_loops(const Block *b, int line, LoopVars *lv, int depth)
{
    for (int i = 0; i < b->n; i++)
        find_in_stmt(b->stmts[i], line, lv, depth);
}

/* An int variable of the innermost frame (or a global). */
static bool int_variable(Interp *in, const char *name, int64_t *out)
{
    const Frame *f = &in->frames[in->depth > 0 ? in->depth - 1 : 0];
    size_t len = strlen(name);
    uint32_t hash = str_hash(name, len);
    const Value *v = NULL;
    for (const Scope *s = f->scope; s && !v; s = s->parent)
        v = table_get_chars(&s->vars, name, len, hash);
    if (!v)
        v = table_get_chars(&in->globals, name, len, hash);
    if (!v || v->kind != VAL_INT)
        return false;
    *out = v->as.i;
    return true;
}

static bool stop_value(Interp *in, const Expr *e, int64_t *out)
{
    if (!e)
        return false;
    if (e->kind == EXPR_INT) {
        *out = e->u.int_value;
        return true;
    }
    return e->kind == EXPR_NAME && int_variable(in, e->u.name, out);
}

void tui_loop_position(Tui *t, StrBuf *out)
{
    Interp *in = t->in;
    if (!in || in->depth < 1)
        return;
    Source *src = in->frames[in->depth - 1].source;
    if (!src)
        return;
    const Program *p = program_of(t, src);
    if (!p)
        return;
    LoopVars lv = {0};
    find_loops(&p->body, in->current_line, &lv, 0);
    const char *sep = t->unicode ? " \xc2\xb7 " : ", ";   /* · */
    bool first = true;
    for (int i = 0; i < lv.n; i++) {
        int64_t v, stop;
        if (!int_variable(in, lv.vars[i].name, &v))
            continue;
        sb_printf(out, "%s%s %lld", first ? "" : sep, lv.vars[i].name, (long long)v);
        if (stop_value(in, lv.vars[i].range_stop, &stop))
            sb_printf(out, " of %lld", (long long)stop);
        first = false;
    }
}

/* ---- the panes' inputs ---- */

/* The first line of a cell's prose, without "# ". */
static void prose_headline(const char *prose, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!prose)
        return;
    while (*prose == '#' || *prose == ' ')
        prose++;
    size_t n = strcspn(prose, "\n");
    if (n >= size)
        n = size - 1;
    memcpy(buf, prose, n);
    buf[n] = '\0';
}

static const char WELCOME[] =
    "# nnrepl\n"
    "Type nnl at the prompt below: Python with PyTorch's names, running on "
    "nnrepl's own tensors.\n"
    "\n"
    "- the panes show the model's **weights**, their **gradients**, the latest "
    "**outputs** and the **loss**\n"
    "- `watch(w, b)` chooses what the panes show\n"
    "- `:step` pauses at the next optimizer step\n"
    "- `:help` lists commands and keys; F10 leaves";

static void draw_lesson(Tui *t, Rect r)
{
    LessonView v;
    memset(&v, 0, sizeof v);
    char note[48], footer[160];
    if (!t->has_lesson || t->lesson.n_cells == 0) {
        v.prose = t->has_lesson ? "This lesson has no cells." : WELCOME;
        pane_draw_lesson(t->grid, r, &v, t->unicode);
        return;
    }
    int k = t->shown_cell < t->lesson.n_cells ? t->shown_cell : t->lesson.n_cells - 1;
    const Cell *c = &t->lesson.cells[k];
    snprintf(note, sizeof note, "cell %d/%d", k + 1, t->lesson.n_cells);
    v.note = note;
    v.prose = c->prose;
    v.code = c->has_code ? c->code->text : NULL;
    v.first_line = c->code_line;
    v.running_line = t->mode != MODE_IDLE ? t->running_line : 0;
    v.error_line = t->error_line;
    if (t->mode == MODE_IDLE) {
        if (!t->shown_cell_ran) {
            snprintf(footer, sizeof footer, "F7 runs this cell");
        } else if (t->next_cell < t->lesson.n_cells) {
            char head[120];
            prose_headline(t->lesson.cells[t->next_cell].prose, head, sizeof head);
            snprintf(footer, sizeof footer, "F7: next cell%s%s", *head ? ": " : "", head);
        } else {
            snprintf(footer, sizeof footer, "end of the lesson");
        }
        v.footer = footer;
    }
    pane_draw_lesson(t->grid, r, &v, t->unicode);
}

static double current_lr(Tui *t)
{
    if (val_is(t->in->last_model, OBJ_OPTIMIZER))
        return ((ObjOptimizer *)t->in->last_model.as.obj)->o->lr;
    return t->lr;
}

static void draw_status(Tui *t, Rect r)
{
    StatusView v;
    memset(&v, 0, sizeof v);
    v.title = t->has_lesson ? t->lesson.title : "nnrepl";
    v.n_cells = t->has_lesson ? t->lesson.n_cells : 0;
    v.cell = t->next_cell;
    v.steps = t->in->step_count;
    v.lr = current_lr(t);
    v.elapsed = -1;
    StrBuf detail = STRBUF_INIT;
    switch (t->mode) {
    case MODE_IDLE:
        v.mode = "idle";
        v.keys = "F7 next  F6 step  F10 quit  :help";
        break;
    case MODE_RUNNING:
        v.mode = t->paused_code_depth ? "paused, running your code" : "running";
        v.keys = "Ctrl-C stop  F6 step  F10 quit";
        tui_loop_position(t, &detail);
        break;
    case MODE_PAUSED: {
        bool at_step = t->pause_reason && strncmp(t->pause_reason, "step ", 5) == 0;
        v.mode = at_step ? "stepping" : "paused";
        v.keys = "F5 continue  F6 step  F7 next  F10 quit";
        if (t->pause_reason)
            sb_append(&detail, t->pause_reason);
        if (at_step) {
            StrBuf where = STRBUF_INIT;
            tui_loop_position(t, &where);
            if (where.len)
                sb_printf(&detail, "%s%s", t->unicode ? " \xc2\xb7 " : ", ", sb_str(&where));
            sb_free(&where);
        }
        break;
    }
    case MODE_ASKING:
        v.mode = "asking";
        v.keys = "Enter answers  F10 quit";
        break;
    }
    if (t->mode == MODE_RUNNING && !t->paused_code_depth)
        v.elapsed = tui_now() - t->run_start - t->paused_seconds;
    v.detail = detail.len ? sb_str(&detail) : NULL;
    pane_draw_status(t->grid, r, &v, t->unicode);
    sb_free(&detail);
}

static void draw_console(Tui *t, Rect r)
{
    const char *note = console_scroll_offset(t->console) > 0 ? "scrolled back: PgDn" : NULL;
    pane_frame(t->grid, r, "Console", note, t->unicode);
    Rect in = rect_inner(r);
    in.h -= 1;   /* the prompt's row */
    console_draw(t->console, t->grid, in);
}

static void draw_values(Tui *t)
{
    const Layout *l = &t->layout;
    ParamView *views = NULL;
    TensorSnap image = {0};
    char *image_name = NULL;
    int n = watch_collect(t->watch, t->in, &views, &image, &image_name);
    if (layout_shows(l, PANE_WEIGHTS))
        pane_draw_weights(t->grid, l->pane[PANE_WEIGHTS], views, n, t->unicode);
    if (layout_shows(l, PANE_GRADIENTS))
        pane_draw_gradients(t->grid, l->pane[PANE_GRADIENTS], views, n, t->unicode);
    if (layout_shows(l, PANE_OUTPUTS)) {
        OutputsView ov = {t->output_label, &t->output, image_name, &image};
        pane_draw_outputs(t->grid, l->pane[PANE_OUTPUTS], &ov, t->unicode);
    }
    watch_views_free(views, n);
    tensor_snap_free(&image);
    free(image_name);
}

/* ---- frames ---- */

static int draw_prompt_row(Tui *t)
{
    return prompt_draw(t->grid, t->layout.prompt, t->unicode);
}

void tui_draw(Tui *t)
{
    const Layout *l = &t->layout;
    if (grid_width(t->grid) != l->cols || grid_height(t->grid) != l->lines)
        return;
    grid_clear(t->grid);
    if (l->kind == LAYOUT_TOO_SMALL) {
        char msg[64];
        snprintf(msg, sizeof msg, "nnrepl needs at least %d%s%d", LAYOUT_MIN_COLS,
                 t->unicode ? "\xc3\x97" : "x", LAYOUT_MIN_LINES);   /* × */
        pane_draw_message(t->grid, l->message, msg);
    } else {
        if (layout_shows(l, PANE_LESSON))
            draw_lesson(t, l->pane[PANE_LESSON]);
        if (layout_shows(l, PANE_WEIGHTS) || layout_shows(l, PANE_OUTPUTS))
            draw_values(t);
        if (layout_shows(l, PANE_LOSS)) {
            if (t->show_plot)
                pane_draw_chart(t->grid, l->pane[PANE_LOSS], "Plot", t->plot, t->unicode);
            else {
                if (chart_series_length(t->loss, 0) > 0)
                    chart_set_current(t->loss, "loss", t->last_loss, t->last_loss_step);
                pane_draw_chart(t->grid, l->pane[PANE_LOSS], "Loss", t->loss, t->unicode);
            }
        }
        draw_console(t, l->pane[PANE_CONSOLE]);
        draw_status(t, l->status);
    }
    int cursor = draw_prompt_row(t);
    screen_copy_rows(t->grid, 0, l->lines);
    screen_present(cursor, l->prompt.y);
    t->dirty = false;
    t->last_draw = tui_now();
}

void tui_draw_prompt(Tui *t)
{
    if (t->dirty) {
        tui_draw(t);
        return;
    }
    const Layout *l = &t->layout;
    if (grid_width(t->grid) != l->cols || grid_height(t->grid) != l->lines || l->prompt.h <= 0)
        return;
    int cursor = draw_prompt_row(t);
    screen_copy_rows(t->grid, l->prompt.y, l->prompt.y + 1);
    screen_present(cursor, l->prompt.y);
}

void tui_resize(Tui *t)
{
    int cols = term_cols(), lines = term_lines();
    if (cols > GRID_MAX_SIDE)
        cols = GRID_MAX_SIDE;
    if (lines > GRID_MAX_SIDE)
        lines = GRID_MAX_SIDE;
    if (!grid_resize(t->grid, cols, lines))
        return;
    layout_compute(&t->layout, cols, lines);
    screen_force_repaint();
    t->dirty = true;
    tui_draw(t);
}
