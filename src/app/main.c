/*
 * main.c - nnrepl's command line: pick the front-end and run.
 *
 *   nnrepl                         the terminal classroom (plain REPL without a terminal UI)
 *   nnrepl FILE.nnl                a lesson in the terminal classroom; batch without a terminal
 *   nnrepl --batch FILE.nnl        run to the end, output on stdout
 *   nnrepl -e 'CODE'               run CODE; expression values are printed
 *   nnrepl --check EXAM [ANSWER...] grade answers
 *
 * Exit status: 0 success, 1 a program error or a failed check, 2 a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "batch.h"
#include "interp.h"

#ifndef NNREPL_VERSION
#define NNREPL_VERSION "0.0.0"
#endif

static void usage_hint(const char *message)
{
    fprintf(stderr, "nnrepl: %s (try 'nnrepl --help')\n", message);
}

static void print_help(void)
{
    fputs("usage: nnrepl [options] [FILE.nnl]\n"
          "       nnrepl --batch FILE.nnl\n"
          "       nnrepl -e 'CODE'\n"
          "       nnrepl --check EXAM.nnl [ANSWER.nnl ...]\n"
          "\n"
          "nnrepl is a terminal classroom for neural networks: it runs nnl, a small\n"
          "Python-shaped language with PyTorch's names, and shows weights, gradients,\n"
          "outputs and the loss while the code runs.\n"
          "\n"
          "  FILE.nnl            open a lesson, paused before its first cell\n"
          "                      (runs to the end when there is no terminal)\n"
          "  --batch FILE        run FILE to the end without panes; output on stdout\n"
          "  -e, --eval CODE     run CODE; the values of expressions are printed\n"
          "  --check EXAM [ANSWER ...]\n"
          "                      run each answer, then the exam's checks; report per check\n"
          "  --report FORMAT     with --check: 'text' (default), 'tap' or 'json'\n"
          "  --seed N            seed of the random generator (default 0)\n"
          "  --timeout S         stop a program after S seconds (default: none; 60 in --check)\n"
          "  --max-mem MB        memory for tensors (default 1024)\n"
          "  --step              in the classroom, pause at every optimizer step\n"
          "  --plain             a plain prompt without panes\n"
          "  --ascii             no Unicode in the panes\n"
          "  --no-color          no colours (also when NO_COLOR is set)\n"
          "  -h, --help          this help\n"
          "  --version           the version\n"
          "\n"
          "Exit status: 0 success, 1 a program error or a failed check, 2 a usage error.\n",
          stdout);
}

static bool parse_number(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

enum {
    OPT_BATCH = 1000, OPT_CHECK, OPT_SEED, OPT_TIMEOUT, OPT_MAX_MEM, OPT_STEP, OPT_PLAIN,
    OPT_ASCII, OPT_NO_COLOR, OPT_VERSION, OPT_REPORT
};

static int parse_options(int argc, char **argv, AppOptions *o)
{
    static const struct option longopts[] = {
        {"batch", no_argument, NULL, OPT_BATCH},
        {"check", no_argument, NULL, OPT_CHECK},
        {"eval", required_argument, NULL, 'e'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"max-mem", required_argument, NULL, OPT_MAX_MEM},
        {"step", no_argument, NULL, OPT_STEP},
        {"plain", no_argument, NULL, OPT_PLAIN},
        {"ascii", no_argument, NULL, OPT_ASCII},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"report", required_argument, NULL, OPT_REPORT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    double v;
    while ((c = getopt_long(argc, argv, ":he:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_help();
            return 0;
        case OPT_VERSION:
            printf("nnrepl %s\n", NNREPL_VERSION);
            return 0;
        case OPT_BATCH:
            o->mode = APP_BATCH;
            break;
        case OPT_CHECK:
            o->mode = APP_CHECK;
            break;
        case 'e':
            o->mode = APP_EVAL;
            o->code = optarg;
            break;
        case OPT_SEED:
            if (!parse_number(optarg, &v) || v < 0 || v != (double)(uint64_t)v) {
                usage_hint("--seed takes a non-negative integer");
                return 2;
            }
            o->interp.seed = (uint64_t)v;
            break;
        case OPT_TIMEOUT:
            if (!parse_number(optarg, &v) || v <= 0) {
                usage_hint("--timeout takes a positive number of seconds");
                return 2;
            }
            o->interp.timeout_seconds = v;
            o->timeout_given = true;
            break;
        case OPT_MAX_MEM:
            if (!parse_number(optarg, &v) || v < 1 || v > 1024.0 * 1024.0) {
                usage_hint("--max-mem takes a number of megabytes between 1 and 1048576");
                return 2;
            }
            o->interp.max_bytes = (size_t)(v * 1024.0 * 1024.0);
            break;
        case OPT_STEP:
            o->step = true;
            break;
        case OPT_PLAIN:
            o->plain = true;
            break;
        case OPT_ASCII:
            o->ascii = true;
            break;
        case OPT_NO_COLOR:
            o->no_color = true;
            break;
        case OPT_REPORT:
            if (strcmp(optarg, "text") == 0)
                o->report = REPORT_TEXT;
            else if (strcmp(optarg, "tap") == 0)
                o->report = REPORT_TAP;
            else if (strcmp(optarg, "json") == 0)
                o->report = REPORT_JSON;
            else {
                usage_hint("--report takes text, tap or json");
                return 2;
            }
            break;
        case ':': {
            char msg[128];
            snprintf(msg, sizeof msg, "option '%s' needs a value", argv[optind - 1]);
            usage_hint(msg);
            return 2;
        }
        default: {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[optind - 1]);
            usage_hint(msg);
            return 2;
        }
        }
    }
    o->files = argv + optind;
    o->n_files = argc - optind;
    return -1;
}

static int run_file_batch(const AppOptions *o, const char *path)
{
    size_t len;
    char *text = app_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "nnrepl: cannot read '%s': %s\n", path, strerror(errno));
        return 2;
    }
    Source *src = source_new(path, text, len, 1);
    free(text);
    char *dir = app_dirname(path);
    int status = app_run_source_batch(o, src, dir, false);
    free(dir);
    source_release(src);
    return status;
}

static int run_stdin_batch(const AppOptions *o)
{
    size_t len;
    char *text = app_read_stream(stdin, &len);
    if (!text) {
        fputs("nnrepl: cannot read the program from stdin\n", stderr);
        return 2;
    }
    Source *src = source_new("<stdin>", text, len, 1);
    free(text);
    int status = app_run_source_batch(o, src, NULL, false);
    source_release(src);
    return status;
}

static int run_eval(const AppOptions *o)
{
    Source *src = source_new("<string>", o->code, strlen(o->code), 1);
    int status = app_run_source_batch(o, src, NULL, true);
    source_release(src);
    return status;
}

/* A terminal that can draw panes: stdin and stdout are terminals and TERM
 * is not "dumb". */
static bool has_capable_terminal(void)
{
    const char *term = getenv("TERM");
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb") != 0;
}

int main(int argc, char **argv)
{
    AppOptions o;
    memset(&o, 0, sizeof o);
    o.mode = APP_DEFAULT;
    int status = parse_options(argc, argv, &o);
    if (status >= 0)
        return status;
    const char *no_color = getenv("NO_COLOR");
    if (no_color && *no_color)
        o.no_color = true;
    app_install_sigint();

    switch (o.mode) {
    case APP_EVAL:
        if (o.n_files) {
            usage_hint("-e takes no file");
            return 2;
        }
        return run_eval(&o);
    case APP_CHECK:
        if (o.n_files < 1) {
            usage_hint("--check needs an exam file");
            return 2;
        }
        if (!o.timeout_given)
            o.interp.timeout_seconds = 60;
        return exam_main(&o);
    case APP_BATCH:
        if (o.n_files != 1) {
            usage_hint(o.n_files ? "--batch takes one file" : "--batch needs a file");
            return 2;
        }
        return run_file_batch(&o, o.files[0]);
    case APP_DEFAULT:
        break;
    }
    if (o.n_files > 1) {
        usage_hint("give one lesson file");
        return 2;
    }
    bool terminal = has_capable_terminal();
    if (o.n_files == 1) {
        if (!terminal || o.plain)
            return terminal ? repl_main(&o, o.files[0]) : run_file_batch(&o, o.files[0]);
        return tui_main(&o, o.files[0]);
    }
    if (!isatty(STDIN_FILENO))
        return run_stdin_batch(&o);
    if (!terminal || o.plain)
        return repl_main(&o, NULL);
    return tui_main(&o, NULL);
}
