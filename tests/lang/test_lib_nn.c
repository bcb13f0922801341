/*
 * test_lib_nn.c - what torch.nn and torch.optim tell the front-end, which
 * the golden programs cannot see: EVENT_STEP from optimizer.step() (names,
 * before/grad/after, lr, count), EVENT_OUTPUT from softmax/sigmoid layers
 * and functions, the model the panes watch (last_model), parameter names,
 * and nn_named_parameters for the panes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib_nn.h"
#include "test_harness.h"

#define MAX_EVENTS 16
#define MAX_PARAMS 4

typedef struct RecordedParam {
    char name[32];
    float before[4], grad[4], after[4];
    int64_t numel;
} RecordedParam;

typedef struct Recorded {
    EventKind kind;
    double value;
    long step_count;
    char label[16];
    int n_params;
    RecordedParam params[MAX_PARAMS];
} Recorded;

typedef struct Recorder {
    Recorded events[MAX_EVENTS];
    int n;                      /* STEP and OUTPUT events only */
    Interp *in;
    const char *run_when_paused; /* code the "student" runs inside a step */
    char printed[4096];
} Recorder;

static void copy_values(const Tensor *t, float *out, int64_t n)
{
    for (int64_t i = 0; t && i < n && i < 4; i++)
        out[i] = tensor_get_flat(t, i);
}

static void record_step(Recorder *r, Recorded *e, const Event *ev)
{
    if (r->run_when_paused) {
        /* like the TUI: evaluate the student's input inside the step */
        Source *src = source_new("<paused>", r->run_when_paused, strlen(r->run_when_paused), 1);
        interp_run_paused(r->in, src);
        source_release(src);
    }
    e->n_params = ev->n_params < MAX_PARAMS ? ev->n_params : MAX_PARAMS;
    for (int i = 0; i < e->n_params; i++) {
        const StepParam *p = &ev->params[i];
        RecordedParam *rp = &e->params[i];
        strncpy(rp->name, p->name, sizeof rp->name - 1);
        rp->numel = tensor_numel(p->after);
        copy_values(p->before, rp->before, rp->numel);
        copy_values(p->grad, rp->grad, rp->numel);
        copy_values(p->after, rp->after, rp->numel);
    }
}

static void record(void *ctx, const Event *ev)
{
    Recorder *r = ctx;
    if (ev->kind == EVENT_PRINT) {
        append_printed(r->printed, sizeof r->printed, ev);
        return;
    }
    if ((ev->kind != EVENT_STEP && ev->kind != EVENT_OUTPUT) || r->n == MAX_EVENTS)
        return;
    Recorded *e = &r->events[r->n++];
    e->kind = ev->kind;
    e->value = ev->value;
    e->step_count = ev->step_count;
    if (ev->kind == EVENT_OUTPUT)
        strncpy(e->label, ev->label, sizeof e->label - 1);
    else
        record_step(r, e, ev);
}

static Interp *new_interp(Recorder *r)
{
    memset(r, 0, sizeof *r);
    r->in = harness_interp((Frontend){r, record, NULL});
    return r->in;
}

static const char *const MODEL =
    "class Model(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.linear = nn.Linear(2, 1)\n"
    "    def forward(self, x):\n"
    "        return self.linear(x)\n"
    "model = Model()\n"
    "model.linear.weight.data = torch.tensor([[1.0, -1.0]])\n"
    "model.linear.bias.data = torch.tensor([0.5])\n";

static void test_step_reports_every_updated_parameter(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, MODEL), RUN_OK);
    r.n = 0; /* the manual `.data =` updates above are steps too */
    long before = in->step_count;
    assert_int_equal(run(in, "opt = optim.SGD(model.parameters(), lr=0.5)\n"
                             "model(torch.tensor([[2.0, 3.0]])).sum().backward()\n"
                             "opt.step()\n"),
                     RUN_OK);
    assert_int_equal(r.n, 1);
    const Recorded *e = &r.events[0];
    assert_int_equal(e->kind, EVENT_STEP);
    assert_true(fabs(e->value - 0.5) < 1e-12);
    assert_int_equal(e->step_count, before + 1);
    assert_int_equal(in->step_count, before + 1);
    assert_int_equal(e->n_params, 2);
    assert_string_equal(e->params[0].name, "linear.weight");
    assert_string_equal(e->params[1].name, "linear.bias");
    /* w = [1, -1], grad = x = [2, 3]: w - 0.5 * grad */
    assert_true(e->params[0].before[0] == 1.0f && e->params[0].before[1] == -1.0f);
    assert_true(e->params[0].grad[0] == 2.0f && e->params[0].grad[1] == 3.0f);
    assert_true(e->params[0].after[0] == 0.0f && e->params[0].after[1] == -2.5f);
    assert_true(e->params[1].before[0] == 0.5f && e->params[1].grad[0] == 1.0f &&
                e->params[1].after[0] == 0.0f);
    interp_free(in);
}

static void test_step_skips_parameters_without_gradients(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "w = torch.tensor([1.0], requires_grad=True)\n"
                             "b = torch.tensor([2.0], requires_grad=True)\n"
                             "opt = optim.Adam([w, b], lr=0.1)\n"
                             "(b * 3).sum().backward()\n"
                             "opt.step()\n"
                             "opt.step()\n"),
                     RUN_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.events[0].n_params, 1);
    assert_string_equal(r.events[0].params[0].name, "param1");
    assert_true(fabs(r.events[0].params[0].after[0] - 1.9f) < 1e-6);
    assert_int_equal(r.events[1].step_count, r.events[0].step_count + 1);
    assert_true(fabs(r.events[1].value - 0.1) < 1e-12);
    interp_free(in);
}

static void test_step_values_survive_code_run_while_paused(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, MODEL), RUN_OK);
    assert_int_equal(run(in, "opt = optim.SGD(model.parameters(), lr=0.5)\n"
                             "model(torch.tensor([[2.0, 3.0]])).sum().backward()\n"),
                     RUN_OK);
    r.n = 0;
    /* the student drops the gradients and the optimizer while paused */
    r.run_when_paused = "opt.zero_grad(set_to_none=True)\nopt = None\nprint(model.linear.weight.grad)\n";
    assert_int_equal(run(in, "opt.step()\n"), RUN_OK);
    r.run_when_paused = NULL;
    assert_int_equal(r.n, 1);
    assert_true(r.events[0].params[0].grad[0] == 2.0f && r.events[0].params[0].grad[1] == 3.0f);
    assert_true(r.events[0].params[0].after[1] == -2.5f);
    assert_string_equal(r.printed, "None\n");
    interp_free(in);
}

static void test_softmax_and_sigmoid_layers_report_outputs(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "x = torch.tensor([[1.0, 2.0]])\n"
                             "a = F.softmax(x, dim=1)\n"
                             "b = nn.Sigmoid()(x)\n"
                             "c = nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1))(x)\n"
                             "d = F.relu(x) + F.log_softmax(x, dim=1) + nn.Tanh()(x)\n"
                             "e = F.sigmoid(x)\n"
                             "f = nn.Softmax(dim=1)(x)\n"),
                     RUN_OK);
    assert_int_equal(r.n, 5);
    const char *labels[] = {"softmax", "sigmoid", "softmax", "sigmoid", "softmax"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r.events[i].kind, EVENT_OUTPUT);
        assert_string_equal(r.events[i].label, labels[i]);
    }
    interp_free(in);
}

static void test_last_model_is_the_latest_model_or_optimizer(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "lin = nn.Linear(1, 1)\n"), RUN_OK);
    assert_true(val_is(in->last_model, OBJ_LAYER));
    assert_int_equal(run(in, "crit = nn.MSELoss()\nact = nn.ReLU()\n"), RUN_OK);
    assert_true(val_is(in->last_model, OBJ_LAYER));
    assert_int_equal(AS_LAYER(in->last_model)->m->kind, MOD_LINEAR);
    assert_int_equal(run(in, MODEL), RUN_OK);
    assert_true(val_is(in->last_model, OBJ_INSTANCE));
    assert_int_equal(run(in, "opt = optim.SGD(model.parameters(), lr=0.1)\n"), RUN_OK);
    assert_true(val_is(in->last_model, OBJ_OPTIMIZER));
    interp_free(in);
}

/* The names the panes get, from the optimizer the program made last. */
static void test_named_parameters_for_the_panes(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "class Net(nn.Module):\n"
                             "    def __init__(self):\n"
                             "        super().__init__()\n"
                             "        self.seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))\n"
                             "        self.scale = nn.Parameter(torch.ones(1))\n"
                             "net = Net()\n"
                             "opt = optim.SGD(net.parameters(), lr=0.1)\n"
                             "inner = net.seq.parameters()\n"),
                     RUN_OK);
    Value list;
    assert_true(nn_named_parameters(in, in->last_model, &list));
    assert_true(val_is(list, OBJ_LIST));
    const char *expected[] = {"scale", "seq.0.weight", "seq.0.bias", "seq.2.weight", "seq.2.bias"};
    assert_int_equal(AS_LIST(list)->count, 5);
    for (int i = 0; i < 5; i++) {
        Value pair = AS_LIST(list)->items[i];
        assert_true(val_is(pair, OBJ_TUPLE));
        assert_string_equal(AS_STR(AS_TUPLE(pair)->items[0])->data, expected[i]);
        /* the inner call did not shorten the names the model gave */
        assert_string_equal(interp_param_name(in, val_as_tensor(AS_TUPLE(pair)->items[1])), expected[i]);
    }
    value_release(list);
    interp_free(in);
}

static void test_layer_parameters_are_named_when_made(void **state)
{
    (void)state;
    Recorder r;
    Interp *in = new_interp(&r);
    assert_int_equal(run(in, "lin = nn.Linear(1, 1)\nseq = nn.Sequential(nn.ReLU(), nn.Conv2d(1, 1, 3))\n"), RUN_OK);
    Value lin = *table_get(&in->globals, intern(in, "lin"));
    Value seq = *table_get(&in->globals, intern(in, "seq"));
    assert_string_equal(interp_param_name(in, AS_LAYER(lin)->m->weight), "weight");
    assert_string_equal(interp_param_name(in, AS_LAYER(lin)->m->bias), "bias");
    assert_string_equal(interp_param_name(in, AS_LAYER(seq)->m->children[1]->weight), "1.weight");
    assert_true(AS_LAYER(lin)->m->weight->is_parameter);
    interp_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_reports_every_updated_parameter),
        cmocka_unit_test(test_step_skips_parameters_without_gradients),
        cmocka_unit_test(test_step_values_survive_code_run_while_paused),
        cmocka_unit_test(test_softmax_and_sigmoid_layers_report_outputs),
        cmocka_unit_test(test_last_model_is_the_latest_model_or_optimizer),
        cmocka_unit_test(test_named_parameters_for_the_panes),
        cmocka_unit_test(test_layer_parameters_are_named_when_made),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
