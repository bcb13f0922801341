#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "chart.h"

void batch_init(BatchFrontend *b, FILE *out, FILE *err)
{
    memset(b, 0, sizeof *b);
    b->out = out;
    b->err = err;
}

void figure_render_text(const Figure *fig, int width, int height, bool unicode, StrBuf *out)
{
    Chart *c = chart_new();
    if (!c)
        return;
    for (int i = 0; i < fig->n_series; i++) {
        const PlotSeries *s = &fig->series[i];
        ChartStyle style = chart_style_default();
        if (s->fmt && s->fmt[0] && !chart_style_parse(s->fmt, &style, NULL, 0))
            style = chart_style_default();
        chart_add_series(c, s->x, s->y, (size_t)s->n, &style, s->label);
    }
    chart_set_title(c, fig->title);
    chart_set_xlabel(c, fig->xlabel);
    chart_set_ylabel(c, fig->ylabel);
    chart_set_legend(c, fig->legend);
    chart_render_text(c, width, height, unicode, out);
    chart_free(c);
}

static void on_event(void *ctx, const Event *ev)
{
    BatchFrontend *b = ctx;
    switch (ev->kind) {
    case EVENT_PRINT:
        fwrite(ev->text, 1, ev->text_len, b->out);
        break;
    case EVENT_ERROR: {
        StrBuf sb = STRBUF_INIT;
        diag_format(ev->diag, &sb);
        fflush(b->out);
        fputs(sb_str(&sb), b->err);
        fflush(b->err);
        sb_free(&sb);
        break;
    }
    case EVENT_PLOT: {
        StrBuf sb = STRBUF_INIT;
        figure_render_text(ev->figure, CHART_TEXT_WIDTH, CHART_TEXT_HEIGHT, b->unicode, &sb);
        fputs(sb_str(&sb), b->out);
        sb_free(&sb);
        break;
    }
    case EVENT_CHECK:
        b->checks_run++;
        if (!ev->passed)
            b->checks_failed++;
        fprintf(b->out, "%s %d - %s\n", ev->passed ? "ok" : "not ok", b->checks_run,
                ev->text ? ev->text : "");
        break;
    default:
        break;
    }
}

bool read_line_from_stdin(FILE *prompt_to, const char *prompt, char **out)
{
    fputs(prompt, prompt_to);
    fflush(prompt_to);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return false;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = '\0';
    *out = line;
    return true;
}

bool batch_read_line(void *ctx, const char *prompt, char **out)
{
    return read_line_from_stdin(((BatchFrontend *)ctx)->out, prompt, out);
}

Frontend batch_frontend(BatchFrontend *b)
{
    Frontend fe = {b, on_event, batch_read_line};
    return fe;
}
