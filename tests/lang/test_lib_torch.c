/*
 * test_lib_torch.c - what the torch library tells the front-end, which the
 * golden programs cannot see: EVENT_BACKWARD with the loss and a running
 * count, EVENT_OUTPUT for softmax and sigmoid results; and the state it
 * keeps in the interpreter (manual_seed, backward_count).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_harness.h"

#define MAX_EVENTS 16

typedef struct Recorded {
    EventKind kind;
    double value;
    long step_count;
    char label[16];
    int64_t numel;
    float first;            /* OUTPUT: the tensor's first element */
} Recorded;

typedef struct Recorder {
    Recorded events[MAX_EVENTS];
    int n;                  /* BACKWARD and OUTPUT events only */
    char printed[4096];
} Recorder;

static void record(void *ctx, const Event *ev)
{
    Recorder *r = ctx;
    if (ev->kind == EVENT_PRINT) {
        append_printed(r->printed, sizeof r->printed, ev);
        return;
    }
    if ((ev->kind != EVENT_BACKWARD && ev->kind != EVENT_OUTPUT) || r->n == MAX_EVENTS)
        return;
    Recorded *e = &r->events[r->n++];
    e->kind = ev->kind;
    e->value = ev->value;
    e->step_count = ev->step_count;
    if (ev->kind == EVENT_OUTPUT) {
        strncpy(e->label, ev->label, sizeof e->label - 1);
        e->numel = tensor_numel(ev->tensor);
        e->first = tensor_get_flat(ev->tensor, 0);
    }
}

static Interp *new_interp(Recorder *r)
{
    memset(r, 0, sizeof *r);
    return harness_interp((Frontend){r, record, NULL});
}

static void test_backward_reports_loss_and_count(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "w = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                             "(w * w).sum().backward()\n"
                             "(w * 3).sum().backward()\n"),
                     RUN_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.events[0].kind, EVENT_BACKWARD);
    assert_true(fabs(r.events[0].value - 5.0) < 1e-6);
    assert_int_equal(r.events[0].step_count, 1);
    assert_true(fabs(r.events[1].value - 9.0) < 1e-6);
    assert_int_equal(r.events[1].step_count, 2);
    assert_int_equal(in->backward_count, 2);
    interp_free(in);
}

static void test_backward_with_gradient_is_counted_but_has_no_loss(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "w = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                             "(w * 2).backward(torch.tensor([1.0, 1.0]))\n"
                             "print(w.grad)\n"),
                     RUN_OK);
    assert_int_equal(r.n, 0); /* a two-element output is not a loss to plot */
    assert_int_equal(in->backward_count, 1);
    assert_string_equal(r.printed, "tensor([2., 2.])\n");
    interp_free(in);
}

static void test_failed_backward_reports_nothing(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "torch.tensor([1.0]).sum().backward()\n"), RUN_ERROR);
    assert_int_equal(r.n, 0);
    assert_int_equal(in->backward_count, 0);
    interp_free(in);
}

static void test_softmax_and_sigmoid_report_outputs(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "x = torch.tensor([[0.0, 0.0, 0.0, 0.0]])\n"
                             "p = torch.softmax(x, dim=1)\n"
                             "q = x.softmax(1)\n"
                             "s = torch.sigmoid(torch.tensor([0.0, 1.0]))\n"
                             "t = x.sigmoid()\n"
                             "l = torch.log_softmax(x, 1)\n"
                             "e = torch.exp(x)\n"),
                     RUN_OK);
    assert_int_equal(r.n, 4);
    const char *labels[] = {"softmax", "softmax", "sigmoid", "sigmoid"};
    const int64_t sizes[] = {4, 4, 2, 4};
    const float firsts[] = {0.25f, 0.25f, 0.5f, 0.5f};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r.events[i].kind, EVENT_OUTPUT);
        assert_string_equal(r.events[i].label, labels[i]);
        assert_int_equal(r.events[i].numel, sizes[i]);
        assert_true(fabsf(r.events[i].first - firsts[i]) < 1e-6f);
    }
    interp_free(in);
}

static void test_manual_seed_repeats_draws(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "torch.manual_seed(3)\n"
                             "a = torch.randn(4)\n"
                             "torch.manual_seed(3)\n"
                             "b = torch.randn(4)\n"
                             "c = torch.randn(4)\n"
                             "print((a == b).sum().item(), (a == c).sum().item())\n"),
                     RUN_OK);
    assert_string_equal(r.printed, "4 0\n");
    interp_free(in);
}

static void test_interpreters_are_independent(void **state)
{
    (void)state;
    Recorder r1, r2;
    Interp *a = new_interp(&r1);
    Interp *b = new_interp(&r2);
    assert_int_equal(run(a, "w = torch.tensor([1.0], requires_grad=True)\n(w * 2).sum().backward()\n"), RUN_OK);
    assert_int_equal(run(b, "print(torch.float32, torch.Size([1, 2]))\n"), RUN_OK);
    assert_int_equal(a->backward_count, 1);
    assert_int_equal(b->backward_count, 0);
    assert_string_equal(r2.printed, "torch.float32 torch.Size([1, 2])\n");
    interp_free(a);
    interp_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backward_reports_loss_and_count),
        cmocka_unit_test(test_backward_with_gradient_is_counted_but_has_no_loss),
        cmocka_unit_test(test_failed_backward_reports_nothing),
        cmocka_unit_test(test_softmax_and_sigmoid_report_outputs),
        cmocka_unit_test(test_manual_seed_repeats_draws),
        cmocka_unit_test(test_interpreters_are_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
