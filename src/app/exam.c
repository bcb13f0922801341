/*
 * exam.c - `nnrepl --check EXAM.nnl [ANSWER.nnl ...]`: grading.
 *
 * For each answer, in a fresh interpreter: run the answer, then the exam's
 * statements one by one in the same scope. Every check()/check_close() the
 * exam reaches is graded. A check whose own evaluation fails (a name the
 * answer did not define, a shape mismatch) fails with the error as its
 * reason, and grading goes on. An answer that does not parse, raises an
 * error or runs out of time is reported with its error; the exam's checks
 * still run on whatever it left defined. The answer's own prints and checks
 * are not part of the report.
 *
 * Reports: text (default), TAP (--report tap) or JSON (--report json).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "batch.h"

typedef struct CheckResult {
    char *message;
    bool passed;
    char *detail;          /* why it failed, or NULL */
} CheckResult;

typedef struct AnswerReport {
    const char *file;      /* NULL when the exam runs alone */
    char *answer_error;    /* the answer's error in the standard form, or NULL */
    char *notes;           /* exam errors outside checks, shadowed names ... */
    CheckResult *checks;
    int n_checks, cap_checks;
    int passed, failed;
} AnswerReport;

typedef enum ExamPhase { PHASE_ANSWER, PHASE_EXAM } ExamPhase;

typedef struct ExamFrontend {
    ExamPhase phase;
    AnswerReport *report;
    Interp *in;            /* whose frames tell where a check was called from */
    const Source *exam;    /* only checks called from the exam's code count */
    bool noted_foreign;    /* the note on the answer's own checks was given */
    double timeout;        /* --timeout as given, for messages */
    StrBuf last_error;     /* the last EVENT_ERROR, formatted */
    char *last_error_message; /* just the message */
} ExamFrontend;

static void add_check(AnswerReport *r, const char *message, bool passed, const char *detail)
{
    if (r->n_checks == r->cap_checks) {
        r->cap_checks = r->cap_checks ? r->cap_checks * 2 : 16;
        r->checks = realloc(r->checks, (size_t)r->cap_checks * sizeof *r->checks);
        if (!r->checks)
            abort();
    }
    CheckResult *c = &r->checks[r->n_checks++];
    c->message = strdup(message ? message : "");
    c->passed = passed;
    c->detail = detail ? strdup(detail) : NULL;
    if (passed)
        r->passed++;
    else
        r->failed++;
}

static void append_note(AnswerReport *r, const char *text);

/* A check called from the exam's code: at top level or in a function the
 * exam defines. A check inside a function of the answer's, called by the
 * exam, is the answer's own and is not graded (it could add passing
 * checks, or stand in for the exam's check and then fail it). */
static bool check_is_from_exam(const ExamFrontend *x)
{
    return x->in && x->in->depth > 0 && x->in->frames[x->in->depth - 1].source == x->exam;
}

static void on_exam_event(void *ctx, const Event *ev)
{
    ExamFrontend *x = ctx;
    switch (ev->kind) {
    case EVENT_CHECK:
        if (x->phase != PHASE_EXAM)
            break;
        if (check_is_from_exam(x)) {
            add_check(x->report, ev->text, ev->passed, ev->detail);
        } else if (!x->noted_foreign) {
            append_note(x->report, "note: check() calls made by the answer's own code are not graded\n");
            x->noted_foreign = true;
        }
        break;
    case EVENT_ERROR: {
        /* The exam's statements share one time budget, each run with what
         * is left of it; a timeout names the budget, not what was left. */
        Diag shown = *ev->diag;
        char budget[96];
        if (x->phase == PHASE_EXAM && shown.kind == DIAG_LIMIT && shown.message &&
            strncmp(shown.message, "time limit of ", 14) == 0) {
            snprintf(budget, sizeof budget, "time limit of %g s exceeded (--timeout)", x->timeout);
            shown.message = budget;
        }
        sb_clear(&x->last_error);
        diag_format(&shown, &x->last_error);
        free(x->last_error_message);
        x->last_error_message = strdup(shown.message ? shown.message : "error");
        break;
    }
    default:
        break;
    }
}

/* ask() while grading: the prompt goes to stderr, so that the report on
 * stdout stays a report (and valid JSON or TAP); the answer is a line of
 * stdin. (The batch front-end's reader would take this grader's context for
 * its own.) */
static bool exam_read_line(void *ctx, const char *prompt, char **out)
{
    (void)ctx;
    return read_line_from_stdin(stderr, prompt, out);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Is this statement a call of check() or check_close()? */
static bool is_check_statement(const Stmt *s)
{
    if (s->kind != STMT_EXPR || s->u.expr->kind != EXPR_CALL)
        return false;
    const Expr *f = s->u.expr->u.call.func;
    return f->kind == EXPR_NAME && (strcmp(f->u.name, "check") == 0 || strcmp(f->u.name, "check_close") == 0);
}

/* The message a check statement would have printed: its msg argument when
 * that is a string literal, else a description by line. */
static char *check_statement_message(const Stmt *s)
{
    const Expr *call = s->u.expr;
    bool is_close = strcmp(call->u.call.func->u.name, "check_close") == 0;
    int msg_pos = is_close ? 3 : 1;
    const Expr *msg = NULL;
    if (call->u.call.n_args > msg_pos)
        msg = call->u.call.args[msg_pos];
    for (int i = 0; i < call->u.call.n_kwargs; i++)
        if (strcmp(call->u.call.kwargs[i].name, "msg") == 0)
            msg = call->u.call.kwargs[i].value;
    if (msg && msg->kind == EXPR_STR)
        return strdup(msg->u.str.data);
    char buf[64];
    snprintf(buf, sizeof buf, "check on line %d", s->pos.line);
    return strdup(buf);
}

/* "name 'grad_w' is not defined" -> "answer does not define `grad_w`" */
static char *explain_check_error(const char *message)
{
    const char *prefix = "name '";
    const char *suffix = "' is not defined";
    size_t n = strlen(message), pl = strlen(prefix), sl = strlen(suffix);
    if (n > pl + sl && strncmp(message, prefix, pl) == 0 && strcmp(message + n - sl, suffix) == 0) {
        size_t name_len = n - pl - sl;
        char *out = malloc(name_len + 32);
        if (out)
            snprintf(out, name_len + 32, "answer does not define `%.*s`", (int)name_len, message + pl);
        return out;
    }
    return strdup(message);
}

static void append_note(AnswerReport *r, const char *text)
{
    size_t old = r->notes ? strlen(r->notes) : 0, add = strlen(text);
    char *n = realloc(r->notes, old + add + 1);
    if (!n)
        return;
    memcpy(n + old, text, add + 1);
    r->notes = n;
}

/* After the answer: every built-in name (check, check_close, but also
 * tuple, sum, zip, torch, nn ...) means nnrepl's own again, so that an
 * answer cannot change what the exam computes its expected values with.
 * An answer that rebinds one (`def tuple(x): ...`, `torch = None`) gets a
 * note; rebinding to the same object (`import torch.nn as nn`) is silent. */
static void restore_grader_names(Interp *in, AnswerReport *r)
{
    for (int i = 0; i < in->builtins.count; i++) {
        ObjStr *name = in->builtins.entries[i].key;
        const Value *mine = &in->builtins.entries[i].value;
        Value *theirs = table_get(&in->globals, name);
        if (theirs && !(theirs->kind == VAL_OBJ && mine->kind == VAL_OBJ && theirs->as.obj == mine->as.obj)) {
            table_set(&in->globals, name, *mine);
            char note[200];
            snprintf(note, sizeof note, "note: the answer defines `%.60s`; the grader's own %.60s is used\n",
                     name->data, name->data);
            append_note(r, note);
        }
    }
}

static Source *load_source(const char *path, char **error)
{
    size_t len;
    char *text = app_read_file(path, &len);
    if (!text) {
        char buf[512];
        snprintf(buf, sizeof buf, "nnrepl: cannot read '%s'\n", path);
        *error = strdup(buf);
        return NULL;
    }
    Source *src = source_new(path, text, len, 1);
    free(text);
    return src;
}

/* Run the exam's statements one at a time; a failing check statement
 * becomes a failed check, a failing other statement a note. */
static void run_exam_statements(Interp *in, ExamFrontend *x, Source *exam, double timeout)
{
    Program *p = interp_parse(in, exam);
    if (!p) {
        append_note(x->report, sb_str(&x->last_error));
        return;
    }
    double deadline = timeout > 0 ? now_seconds() + timeout : 0;
    for (int i = 0; i < p->body.n; i++) {
        const Stmt *s = p->body.stmts[i];
        if (deadline > 0) {
            double left = deadline - now_seconds();
            in->opt.timeout_seconds = left > 0.001 ? left : 0.001;
        }
        int before = x->report->n_checks;
        if (interp_run_statement(in, exam, s) == RUN_OK)
            continue;
        if (is_check_statement(s) && x->report->n_checks == before) {
            char *message = check_statement_message(s);
            char *why = explain_check_error(x->last_error_message ? x->last_error_message : "error");
            add_check(x->report, message, false, why);
            free(message);
            free(why);
        } else {
            append_note(x->report, sb_str(&x->last_error));
        }
    }
}

static void grade_one(const AppOptions *o, Source *exam, const char *answer_path, AnswerReport *r)
{
    memset(r, 0, sizeof *r);
    r->file = answer_path;
    ExamFrontend x = {PHASE_ANSWER, r, NULL, exam, false, o->interp.timeout_seconds, STRBUF_INIT, NULL};
    Frontend fe = {&x, on_exam_event, exam_read_line};
    InterpOptions io = o->interp;
    io.datasets_dir = app_datasets_dir();
    char *dir = app_dirname(answer_path ? answer_path : exam->name);
    io.script_dir = dir;
    Interp *in = interp_new(&io, fe);
    if (!in)
        abort();
    in->interrupt = app_interrupt_flag();
    x.in = in;
    if (answer_path) {
        char *error = NULL;
        Source *ans = load_source(answer_path, &error);
        if (ans) {
            if (interp_run(in, ans, false) != RUN_OK)
                r->answer_error = strdup(sb_str(&x.last_error));
            source_release(ans);
        } else {
            r->answer_error = error;
        }
        restore_grader_names(in, r);
    }
    x.phase = PHASE_EXAM;
    run_exam_statements(in, &x, exam, o->interp.timeout_seconds);
    interp_free(in);
    free(dir);
    sb_free(&x.last_error);
    free(x.last_error_message);
}

/* An exam that does not parse grades nobody: its error goes to stderr
 * once, and the run fails (rather than passing with no checks). */
static bool exam_parses(const AppOptions *o, Source *exam)
{
    AnswerReport scratch;
    memset(&scratch, 0, sizeof scratch);
    ExamFrontend x = {PHASE_EXAM, &scratch, NULL, exam, false, 0, STRBUF_INIT, NULL};
    Frontend fe = {&x, on_exam_event, NULL};
    Interp *in = interp_new(&o->interp, fe);
    if (!in)
        abort();
    bool ok = interp_parse(in, exam) != NULL;
    if (!ok)
        fputs(sb_str(&x.last_error), stderr);
    interp_free(in);
    sb_free(&x.last_error);
    free(x.last_error_message);
    return ok;
}

static void free_report(AnswerReport *r)
{
    for (int i = 0; i < r->n_checks; i++) {
        free(r->checks[i].message);
        free(r->checks[i].detail);
    }
    free(r->checks);
    free(r->answer_error);
    free(r->notes);
}

/* ---- reports ---- */

static void print_indented(const char *text, const char *prefix)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        printf("%s%.*s\n", prefix, (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

static void text_report(const AnswerReport *r, bool header)
{
    if (header)
        printf("== %s\n", r->file);
    if (r->answer_error) {
        printf("the answer stopped with an error:\n");
        print_indented(r->answer_error, "  ");
    }
    if (r->notes)
        print_indented(r->notes, "");
    for (int i = 0; i < r->n_checks; i++) {
        const CheckResult *c = &r->checks[i];
        if (c->passed)
            printf("ok %d - %s\n", i + 1, c->message);
        else if (c->detail)
            printf("not ok %d - %s (%s)\n", i + 1, c->message, c->detail);
        else
            printf("not ok %d - %s\n", i + 1, c->message);
    }
    printf("%d passed, %d failed\n", r->passed, r->failed);
}

static void class_summary(const AnswerReport *reports, int n)
{
    int max_checks = 0, all_pass = 0;
    for (int k = 0; k < n; k++) {
        if (reports[k].n_checks > max_checks)
            max_checks = reports[k].n_checks;
        all_pass += reports[k].failed == 0 && !reports[k].answer_error && reports[k].n_checks > 0;
    }
    printf("== class summary: %d answers\n", n);
    for (int i = 0; i < max_checks; i++) {
        int passed = 0;
        const char *message = "";
        for (int k = 0; k < n; k++)
            if (i < reports[k].n_checks) {
                message = reports[k].checks[i].message;
                passed += reports[k].checks[i].passed;
            }
        printf("check %d - %s: %d/%d passed\n", i + 1, message, passed, n);
    }
    printf("answers passing every check: %d/%d\n", all_pass, n);
}

static void tap_report(const AnswerReport *reports, int n)
{
    int total = 0;
    printf("TAP version 13\n");
    for (int k = 0; k < n; k++) {
        const AnswerReport *r = &reports[k];
        if (r->file)
            printf("# answer: %s\n", r->file);
        if (r->answer_error)
            print_indented(r->answer_error, "# ");
        if (r->notes)
            print_indented(r->notes, "# ");
        for (int i = 0; i < r->n_checks; i++) {
            const CheckResult *c = &r->checks[i];
            total++;
            printf("%s %d - %s%s%s%s\n", c->passed ? "ok" : "not ok", total,
                   r->file ? r->file : "", r->file ? ": " : "", c->message, "");
            if (c->detail)
                printf("  ---\n  reason: %s\n  ...\n", c->detail);
        }
    }
    printf("1..%d\n", total);
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", stdout);
        else if (*p == '\t')
            fputs("\\t", stdout);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void json_report(const char *exam, const AnswerReport *reports, int n)
{
    int passed = 0, failed = 0;
    printf("{\"exam\": ");
    json_string(exam);
    printf(", \"answers\": [");
    for (int k = 0; k < n; k++) {
        const AnswerReport *r = &reports[k];
        passed += r->passed;
        failed += r->failed;
        printf("%s\n  {\"file\": ", k ? "," : "");
        if (r->file)
            json_string(r->file);
        else
            fputs("null", stdout);
        printf(", \"error\": ");
        if (r->answer_error)
            json_string(r->answer_error);
        else
            fputs("null", stdout);
        printf(", \"notes\": ");
        if (r->notes)
            json_string(r->notes);
        else
            fputs("null", stdout);
        printf(", \"passed\": %d, \"failed\": %d, \"checks\": [", r->passed, r->failed);
        for (int i = 0; i < r->n_checks; i++) {
            const CheckResult *c = &r->checks[i];
            printf("%s{\"n\": %d, \"message\": ", i ? ", " : "", i + 1);
            json_string(c->message);
            printf(", \"passed\": %s, \"reason\": ", c->passed ? "true" : "false");
            if (c->detail)
                json_string(c->detail);
            else
                fputs("null", stdout);
            putchar('}');
        }
        printf("]}");
    }
    printf("\n], \"passed\": %d, \"failed\": %d}\n", passed, failed);
}

int exam_main(const AppOptions *o)
{
    const char *exam_path = o->files[0];
    char *error = NULL;
    Source *exam = load_source(exam_path, &error);
    if (!exam) {
        fputs(error, stderr);
        free(error);
        return 2;
    }
    if (!exam_parses(o, exam)) {
        source_release(exam);
        return 1;
    }
    int n = o->n_files > 1 ? o->n_files - 1 : 1;
    AnswerReport *reports = calloc((size_t)n, sizeof *reports);
    if (!reports)
        abort();
    bool any_failed = false;
    for (int k = 0; k < n; k++) {
        grade_one(o, exam, o->n_files > 1 ? o->files[k + 1] : NULL, &reports[k]);
        any_failed |= reports[k].failed > 0 || reports[k].answer_error != NULL;
        if (o->report == REPORT_TEXT) {
            text_report(&reports[k], n > 1);
            fflush(stdout);
        }
    }
    if (o->report == REPORT_TEXT && n > 1)
        class_summary(reports, n);
    else if (o->report == REPORT_TAP)
        tap_report(reports, n);
    else if (o->report == REPORT_JSON)
        json_report(exam_path, reports, n);
    for (int k = 0; k < n; k++)
        free_report(&reports[k]);
    free(reports);
    source_release(exam);
    return any_failed ? 1 : 0;
}
