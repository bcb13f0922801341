/*
 * common.c - what the front-ends share: reading files, finding the datasets,
 * Ctrl-C, and running a whole source in batch mode.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "batch.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

volatile sig_atomic_t *app_interrupt_flag(void)
{
    return &interrupted;
}

void app_install_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking read returns so the flag is seen */
    sigaction(SIGINT, &sa, NULL);
}

/* ~/.nnrepl_history, where both prompts keep their entries (malloc'd);
 * NULL without a HOME. */
char *app_history_path(void)
{
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    size_t n = strlen(home) + 32;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/.nnrepl_history", home);
    return p;
}

/* Read the rest of a stream (NUL-terminated); NULL + errno on failure. */
char *app_read_stream(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= APP_MAX_SOURCE_BYTES) {
                free(buf);
                errno = EFBIG;
                return NULL;
            }
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* Read a whole file (NUL-terminated); NULL + errno on failure. */
char *app_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        errno = EISDIR;
        return NULL;
    }
    char *buf = app_read_stream(f, len);
    int saved_errno = errno;
    fclose(f);
    errno = saved_errno;
    return buf;
}

static bool dir_exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *app_datasets_dir(void)
{
    const char *env = getenv("NNREPL_DATASETS");
    if (env && *env)
        return env;
#ifdef NNREPL_SOURCE_DATASETS_DIR
    if (dir_exists(NNREPL_SOURCE_DATASETS_DIR))
        return NNREPL_SOURCE_DATASETS_DIR;
#endif
#ifdef NNREPL_INSTALLED_DATASETS_DIR
    if (dir_exists(NNREPL_INSTALLED_DATASETS_DIR))
        return NNREPL_INSTALLED_DATASETS_DIR;
#endif
    return NULL;
}

/* The directory part of a path ("." for a bare name), malloc'd. */
char *app_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Run a whole source text in batch mode; 0 or 1. */
int app_run_source_batch(const AppOptions *o, Source *src, const char *script_dir, bool echo)
{
    BatchFrontend b;
    batch_init(&b, stdout, stderr);
    InterpOptions io = o->interp;
    io.echo_expressions = echo;
    io.script_dir = script_dir;
    io.datasets_dir = app_datasets_dir();
    Interp *in = interp_new(&io, batch_frontend(&b));
    if (!in) {
        fputs("nnrepl: out of memory\n", stderr);
        return 1;
    }
    in->interrupt = app_interrupt_flag();
    RunResult r = interp_run(in, src, false);
    if (r == RUN_OK)
        interp_flush_plot(in); /* a figure never shown, as a notebook shows it */
    fflush(stdout);
    if (b.checks_failed)
        fprintf(stderr, "%s: %d of %d checks failed\n", src->name, b.checks_failed, b.checks_run);
    interp_free(in);
    return r == RUN_OK && b.checks_failed == 0 ? 0 : 1;
}

