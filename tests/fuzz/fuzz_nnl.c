/*
 * fuzz_nnl.c - the fuzz target: any bytes, run as an nnl program.
 *
 * Each input goes through the whole front to back path a lesson or an exam
 * answer takes — lexer, parser, evaluator, the built-in library, the engine —
 * in a fresh interpreter with small limits, so that no state of one input
 * can hide a bug of the next. The front-end looks at everything it is handed
 * (printed text, tensors of step events, figures, the formatted error) and
 * keeps nothing, so that reads of freed or unset memory show up under the
 * sanitizers. ask() is answered with a few fixed lines, then end of input.
 *
 * Built two ways (tests/fuzz/meson.build): against libFuzzer, and with
 * replay_main.c as a test that runs the committed corpus and regressions.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"

/* Small enough that a tensor too large is an error well under libFuzzer's
 * -rss_limit_mb; a run that uses its whole cap still fits twice. */
#define FUZZ_MAX_BYTES (32u << 20)
#define FUZZ_MAX_RECURSION 50
#define FUZZ_MAX_NESTING 50
#define FUZZ_TIMEOUT_SECONDS 0.2

typedef struct FuzzFrontend {
    unsigned long checksum;   /* folds in what events carry, so it is read */
    int answers_given;
} FuzzFrontend;

static void fold_bytes(FuzzFrontend *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        f->checksum = f->checksum * 31u + (unsigned char)s[i];
}

static void fold_string(FuzzFrontend *f, const char *s)
{
    if (s)
        fold_bytes(f, s, strlen(s));
}

static void fold_tensor(FuzzFrontend *f, const Tensor *t)
{
    if (!t)
        return;
    int64_t n = tensor_numel(t);
    for (int64_t i = 0; i < n && i < 64; i++)
        f->checksum = f->checksum * 31u + (unsigned long)(tensor_get_flat(t, i) != 0);
}

static void fold_figure(FuzzFrontend *f, const Figure *fig)
{
    fold_string(f, fig->title);
    fold_string(f, fig->xlabel);
    fold_string(f, fig->ylabel);
    for (int s = 0; s < fig->n_series; s++) {
        const PlotSeries *p = &fig->series[s];
        fold_string(f, p->fmt);
        fold_string(f, p->label);
        for (int i = 0; i < p->n; i++)
            f->checksum += (unsigned long)(p->x[i] < p->y[i]);
    }
}

static void fuzz_on_event(void *ctx, const Event *ev)
{
    FuzzFrontend *f = ctx;
    switch (ev->kind) {
    case EVENT_PRINT:
    case EVENT_PAUSE:
    case EVENT_CHECK:
        fold_bytes(f, ev->text ? ev->text : "", ev->text ? ev->text_len : 0);
        fold_string(f, ev->detail);
        break;
    case EVENT_STEP:
        for (int i = 0; i < ev->n_params; i++) {
            fold_string(f, ev->params[i].name);
            fold_tensor(f, ev->params[i].before);
            fold_tensor(f, ev->params[i].grad);
            fold_tensor(f, ev->params[i].after);
        }
        break;
    case EVENT_OUTPUT:
        fold_tensor(f, ev->tensor);
        fold_string(f, ev->label);
        break;
    case EVENT_PLOT:
        fold_figure(f, ev->figure);
        break;
    case EVENT_ERROR: {
        /* the text every front-end shows: quotes the source line, the call chain */
        StrBuf sb = STRBUF_INIT;
        diag_format(ev->diag, &sb);
        fold_bytes(f, sb_str(&sb), sb.len);
        sb_free(&sb);
        break;
    }
    default:
        break;
    }
}

/* ask(): two answers (an expression and plain words), then end of input. */
static bool fuzz_read_line(void *ctx, const char *prompt, char **out)
{
    static const char *const answers[] = {"1 + 1", "no idea"};
    FuzzFrontend *f = ctx;
    fold_string(f, prompt);
    if (f->answers_given >= 2)
        return false;
    *out = strdup(answers[f->answers_given++]);
    return *out != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzFrontend f = {0, 0};
    Frontend fe = {&f, fuzz_on_event, fuzz_read_line};
    InterpOptions opt = {
        .seed = 0,
        .max_bytes = FUZZ_MAX_BYTES,
        .max_recursion = FUZZ_MAX_RECURSION,
        .max_nesting = FUZZ_MAX_NESTING,
        .timeout_seconds = FUZZ_TIMEOUT_SECONDS,
        .datasets_dir = getenv("NNREPL_DATASETS"),
        .script_dir = NULL,
        .echo_expressions = false,
    };
    Interp *in = interp_new(&opt, fe);
    if (!in)
        return 0;
    Source *src = source_new("<fuzz>", (const char *)data, size, 1);
    if (interp_run(in, src, false) == RUN_OK)
        interp_flush_plot(in);
    source_release(src);
    interp_free(in);
    return 0;
}
