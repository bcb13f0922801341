/*
 * test_extra.c - what the front-ends receive from lib_extra.c: the details
 * of check()/check_close() results, the figure plt.show() hands over,
 * watch() and pause() events, and ask() evaluating a student's answer
 * (interp_eval_expression). Batch output shows none of these fully.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_harness.h"

#define MAX_RECORDED 32

typedef struct Recorded {
    EventKind kind;
    char *text;
    char *detail;
    bool passed;
    /* PLOT: a copy of the first series and the figure's texts */
    int n_series, n_points;
    double x[8], y[8];
    char *fmt, *label, *title, *xlabel, *ylabel;
    bool legend;
} Recorded;

typedef struct Harness {
    Recorded events[MAX_RECORDED];
    int n;
    const char *const *answers;   /* for read_line, NULL-terminated */
    int next_answer;
    char *last_prompt;
} Harness;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void on_event(void *ctx, const Event *ev)
{
    Harness *h = ctx;
    if (ev->kind == EVENT_TICK || h->n == MAX_RECORDED)
        return;
    Recorded *r = &h->events[h->n++];
    memset(r, 0, sizeof *r);
    r->kind = ev->kind;
    r->text = ev->text ? strndup(ev->text, ev->text_len) : NULL;
    r->detail = dup_or_null(ev->detail);
    r->passed = ev->passed;
    if (ev->kind == EVENT_PLOT) {
        const Figure *f = ev->figure;
        r->n_series = f->n_series;
        r->n_points = f->series[0].n;
        for (int i = 0; i < f->series[0].n && i < 8; i++) {
            r->x[i] = f->series[0].x[i];
            r->y[i] = f->series[0].y[i];
        }
        r->fmt = dup_or_null(f->series[0].fmt);
        r->label = dup_or_null(f->series[0].label);
        r->title = dup_or_null(f->title);
        r->xlabel = dup_or_null(f->xlabel);
        r->ylabel = dup_or_null(f->ylabel);
        r->legend = f->legend;
    }
}

static bool read_line(void *ctx, const char *prompt, char **out)
{
    Harness *h = ctx;
    free(h->last_prompt);
    h->last_prompt = strdup(prompt);
    if (!h->answers || !h->answers[h->next_answer])
        return false;
    *out = strdup(h->answers[h->next_answer++]);
    return true;
}

static void harness_free(Harness *h)
{
    for (int i = 0; i < h->n; i++) {
        Recorded *r = &h->events[i];
        free(r->text);
        free(r->detail);
        free(r->fmt);
        free(r->label);
        free(r->title);
        free(r->xlabel);
        free(r->ylabel);
    }
    free(h->last_prompt);
}

static Interp *start(Harness *h, bool with_input)
{
    memset(h, 0, sizeof *h);
    return harness_interp((Frontend){h, on_event, with_input ? read_line : NULL});
}

static Value global(Interp *in, const char *name)
{
    Value *v = table_get(&in->globals, intern(in, name));
    assert_non_null(v);
    return *v;
}

/* The recorded events of one kind, in order. */
static const Recorded *nth_event(const Harness *h, EventKind kind, int k)
{
    for (int i = 0; i < h->n; i++)
        if (h->events[i].kind == kind && k-- == 0)
            return &h->events[i];
    return NULL;
}

static void test_check_details(void **state)
{
    (void)state;
    Harness h;
    Interp *in = start(&h, false);
    assert_int_equal(run(in, "check(1 < 2, 'fine')\n"
                             "check(2 > 3, 'wrong')\n"
                             "check(0)\n"
                             "check_close([1.0, 2.0], [1.0, 2.1], msg='lists')\n"
                             "check_close(torch.tensor([1.0, 2.0]), [1.0, 2.0, 3.0], msg='shapes')\n"
                             "check_close(2.00001, 2.0, msg='close')\n"),
                     RUN_OK);
    const Recorded *c[6];
    for (int i = 0; i < 6; i++)
        assert_non_null(c[i] = nth_event(&h, EVENT_CHECK, i));
    assert_true(c[0]->passed);
    assert_string_equal(c[0]->text, "fine");
    assert_null(c[0]->detail);
    assert_false(c[1]->passed);
    assert_string_equal(c[1]->detail, "got False");
    assert_string_equal(c[2]->text, "check on line 3");
    assert_string_equal(c[2]->detail, "got 0");
    assert_string_equal(c[3]->detail, "got [1.0, 2.0], expected [1.0, 2.1]");
    assert_string_equal(c[4]->detail,
                        "got tensor([1., 2.]), expected [1.0, 2.0, 3.0]: shape (2,) does not match (3,)");
    assert_true(c[5]->passed);
    assert_int_equal(in->checks_passed, 2);
    assert_int_equal(in->checks_failed, 4);
    interp_free(in);
    harness_free(&h);
}

static void test_show_hands_over_the_figure(void **state)
{
    (void)state;
    Harness h;
    Interp *in = start(&h, false);
    assert_int_equal(run(in, "plt.show()\n"
                             "plt.plot(np.array([[1.0], [2.0], [3.0]], dtype=np.float32), [4, 5, 6], 'r-o',"
                             " label='data')\n"
                             "plt.plot([1, 2])\n"
                             "plt.title('T')\nplt.xlabel('x')\nplt.ylabel('y')\nplt.legend()\n"
                             "plt.show()\nplt.show()\n"
                             "plt.plot([7.5, 8.5], color='g', marker='s')\nplt.show()\n"),
                     RUN_OK);
    const Recorded *p = nth_event(&h, EVENT_PLOT, 0);
    assert_non_null(p);
    assert_int_equal(p->n_series, 2);
    assert_int_equal(p->n_points, 3);
    assert_true(p->x[2] == 3.0 && p->y[0] == 4.0 && p->y[2] == 6.0);
    assert_string_equal(p->fmt, "r-o");
    assert_string_equal(p->label, "data");
    assert_string_equal(p->title, "T");
    assert_string_equal(p->xlabel, "x");
    assert_string_equal(p->ylabel, "y");
    assert_true(p->legend);
    /* the figure was cleared: the next show() has only the new series */
    const Recorded *q = nth_event(&h, EVENT_PLOT, 1);
    assert_non_null(q);
    assert_null(nth_event(&h, EVENT_PLOT, 2));
    assert_int_equal(q->n_series, 1);
    assert_true(q->x[0] == 0.0 && q->x[1] == 1.0 && q->y[1] == 8.5);
    assert_string_equal(q->fmt, "s-g");
    assert_null(q->label);
    assert_null(q->title);
    assert_false(q->legend);
    interp_free(in);
    harness_free(&h);
}

static void test_watch_and_pause(void **state)
{
    (void)state;
    Harness h;
    Interp *in = start(&h, false);
    assert_int_equal(run(in, "w = torch.tensor([1.0])\nb = torch.tensor([2.0])\nwatch(w, b)\n"
                             "pause('look')\n"),
                     RUN_OK);
    assert_non_null(nth_event(&h, EVENT_WATCH, 0));
    assert_true(val_is(in->watched, OBJ_LIST));
    assert_int_equal(AS_LIST(in->watched)->count, 2);
    assert_ptr_equal(AS_LIST(in->watched)->items[0].as.obj, global(in, "w").as.obj);
    const Recorded *p = nth_event(&h, EVENT_PAUSE, 0);
    assert_non_null(p);
    assert_string_equal(p->text, "look");
    /* a list (model.parameters()) counts as its items */
    assert_int_equal(run(in, "watch([w, b], (b,), w)\n"), RUN_OK);
    assert_int_equal(AS_LIST(in->watched)->count, 4);
    assert_ptr_equal(AS_LIST(in->watched)->items[2].as.obj, global(in, "b").as.obj);
    assert_int_equal(run(in, "watch()\n"), RUN_OK);
    assert_int_equal(in->watched.kind, VAL_NONE);
    assert_int_equal(run(in, "watch(1)\n"), RUN_ERROR);
    interp_free(in);
    harness_free(&h);
}

static void test_ask_evaluates_the_answer(void **state)
{
    (void)state;
    static const char *const answers[] = {"w * 2", "hello there", "", "[1, w]", "x = 5", NULL};
    Harness h;
    Interp *in = start(&h, true);
    h.answers = answers;
    assert_int_equal(run(in, "w = 3.0\na = ask('twice w? ')\nb = ask()\nc = ask()\nd = ask()\n"
                             "e = ask()\n"),
                     RUN_OK);
    assert_string_equal(h.last_prompt, "");
    Value a = global(in, "a");
    assert_int_equal(a.kind, VAL_FLOAT);
    assert_true(a.as.f == 6.0);
    assert_true(val_is(global(in, "b"), OBJ_STR));
    assert_string_equal(AS_STR(global(in, "b"))->data, "hello there");
    assert_string_equal(AS_STR(global(in, "c"))->data, "");
    assert_true(val_is(global(in, "d"), OBJ_LIST));
    assert_int_equal(AS_LIST(global(in, "d"))->count, 2);
    /* a statement is not evaluated: it comes back as text */
    assert_string_equal(AS_STR(global(in, "e"))->data, "x = 5");
    assert_null(table_get(&in->globals, intern(in, "x")));
    /* no input left */
    assert_int_equal(run(in, "f = ask('more? ')\n"), RUN_ERROR);
    assert_string_equal(h.last_prompt, "more? ");
    assert_string_equal(in->diag.message, "ask(): no answer (the input ended)");
    interp_free(in);
    harness_free(&h);
}

static void test_ask_reports_a_failing_answer_at_the_call(void **state)
{
    (void)state;
    static const char *const answers[] = {"missing + 1", NULL};
    Harness h;
    Interp *in = start(&h, true);
    h.answers = answers;
    assert_int_equal(run(in, "x = 1\ny = ask('? ')\n"), RUN_ERROR);
    assert_string_equal(in->diag.message,
                        "ask(): the answer 'missing + 1' could not be evaluated: name 'missing' is not defined");
    assert_int_equal(in->diag.line, 2);
    assert_string_equal(in->diag.source->name, "<test>");
    interp_free(in);
    harness_free(&h);
}

static void test_ask_needs_input(void **state)
{
    (void)state;
    Harness h;
    Interp *in = start(&h, false);
    assert_int_equal(run(in, "ask('?')\n"), RUN_ERROR);
    assert_string_equal(in->diag.message, "ask() needs an interactive front-end or input on stdin");
    interp_free(in);
    harness_free(&h);
}

static void test_eval_expression(void **state)
{
    (void)state;
    Harness h;
    Interp *in = start(&h, false);
    assert_int_equal(run(in, "k = 4\n"), RUN_OK);
    Value v;
    assert_true(interp_eval_expression(in, "k ** 2 + 1", &v));
    assert_int_equal(v.kind, VAL_INT);
    assert_int_equal(v.as.i, 17);
    assert_true(interp_eval_expression(in, "1 +", &v));   /* does not parse: text */
    assert_true(val_is(v, OBJ_STR));
    assert_string_equal(AS_STR(v)->data, "1 +");
    value_release(v);
    assert_true(interp_eval_expression(in, "k\nk", &v));  /* two statements: text */
    assert_true(val_is(v, OBJ_STR));
    value_release(v);
    assert_false(interp_eval_expression(in, "k / 0", &v));
    assert_non_null(in->diag.message);
    /* no event was emitted for either failure */
    assert_null(nth_event(&h, EVENT_ERROR, 0));
    interp_free(in);
    harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_details),
        cmocka_unit_test(test_show_hands_over_the_figure),
        cmocka_unit_test(test_watch_and_pause),
        cmocka_unit_test(test_ask_evaluates_the_answer),
        cmocka_unit_test(test_ask_reports_a_failing_answer_at_the_call),
        cmocka_unit_test(test_ask_needs_input),
        cmocka_unit_test(test_eval_expression),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
