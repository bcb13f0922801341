/*
 * app.h - what the command line decided, and the front-ends it can start.
 */
#ifndef NNREPL_APP_H
#define NNREPL_APP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "interp.h"

/* Source files larger than this are refused (a lesson is a few KB). */
#define APP_MAX_SOURCE_BYTES ((size_t)16 * 1024 * 1024)

typedef enum AppMode { APP_DEFAULT, APP_BATCH, APP_EVAL, APP_CHECK } AppMode;
typedef enum ReportFormat { REPORT_TEXT, REPORT_TAP, REPORT_JSON } ReportFormat;

typedef struct AppOptions {
    AppMode mode;
    const char *code;          /* -e */
    char **files;              /* the remaining arguments */
    int n_files;
    InterpOptions interp;      /* seed, limits */
    bool timeout_given;
    bool step, plain, ascii, no_color;
    ReportFormat report;
} AppOptions;

/* Ctrl-C sets this flag; loops in the evaluator check it. */
volatile sig_atomic_t *app_interrupt_flag(void);
void app_install_sigint(void);

/* Helpers shared by the front-ends. */
char *app_read_file(const char *path, size_t *len);   /* NUL-terminated, malloc'd */
char *app_read_stream(FILE *f, size_t *len);          /* the same for the rest of f */
char *app_dirname(const char *path);
const char *app_datasets_dir(void);
char *app_history_path(void);                         /* malloc'd; NULL without HOME */
int app_run_source_batch(const AppOptions *o, Source *src, const char *script_dir, bool echo);

/* The front-ends; each returns the exit status. */
int repl_main(const AppOptions *o, const char *lesson);   /* repl.c: plain Readline prompt */
int tui_main(const AppOptions *o, const char *lesson);    /* src/ui: the terminal classroom */
int exam_main(const AppOptions *o);                       /* exam.c: --check */

#endif
