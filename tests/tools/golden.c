/*
 * golden.c - runs an nnl program with nnrepl and checks what it prints.
 *
 *   golden NNREPL FILE.nnl                 expectations from the file's comments:
 *       # expect: TEXT                     one line of stdout, in order
 *       # expect error: LINE:COL message   the run fails (exit 1) with
 *                                          "FILE:LINE:COL: error: message" first on stderr
 *   golden NNREPL FILE.nnl FILE.expected   stdout must match the file (PyTorch's output)
 *   golden --compare ACTUAL EXPECTED       compare two text files the same way
 *
 * Lines are compared with numbers read as numbers: every number must agree
 * to a relative 1e-4 (or an absolute 1e-6 near zero) and the text around the
 * numbers must be identical. Exit 0 on a match, 1 on a difference (shown),
 * 77 never (nothing here is skipped), 99 on a setup failure.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_TIMEOUT_SECONDS 120
#define REL_TOL 1e-4
#define ABS_TOL 1e-6

typedef struct Lines {
    char **items;
    size_t n, cap;
} Lines;

static void lines_add(Lines *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
        if (!l->items)
            exit(99);
    }
    l->items[l->n++] = strndup(s, n);
}

static void lines_free(Lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

static void split_lines(const char *text, size_t len, Lines *out)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') {
            lines_add(out, text + start, i - start);
            start = i + 1;
        }
    if (start < len)
        lines_add(out, text + start, len - start);
}

static char *read_all_fd(int fd, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                exit(99);
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "golden: cannot read %s: %s\n", path, strerror(errno));
        exit(99);
    }
    char *text = read_all_fd(fd, len);
    close(fd);
    return text;
}

/* ---- number-aware line comparison ---- */

/* Length of a number starting at s (0 if none): [-+]digits[.digits][e[-+]digits]. */
static size_t number_length(const char *s)
{
    size_t i = 0;
    if (s[i] == '-' || s[i] == '+')
        i++;
    size_t digits = 0;
    while (isdigit((unsigned char)s[i])) {
        i++;
        digits++;
    }
    if (s[i] == '.') {
        i++;
        while (isdigit((unsigned char)s[i])) {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '-' || s[j] == '+')
            j++;
        if (isdigit((unsigned char)s[j])) {
            while (isdigit((unsigned char)s[j]))
                j++;
            i = j;
        }
    }
    return i;
}

static bool numbers_close(double a, double b)
{
    if (a == b || (isnan(a) && isnan(b)))
        return true;
    return fabs(a - b) <= REL_TOL * fmax(fabs(a), fabs(b)) + ABS_TOL;
}

/* A number may start here if the previous character is not part of a word
 * (so "x1" or "Backward0" stay text). */
static bool number_may_start(const char *line, const char *p)
{
    return p == line || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.');
}

static bool lines_match(const char *a, const char *b)
{
    const char *pa = a, *pb = b;
    while (*pa && *pb) {
        size_t na = number_may_start(a, pa) ? number_length(pa) : 0;
        size_t nb = number_may_start(b, pb) ? number_length(pb) : 0;
        if (na && nb) {
            if (!numbers_close(strtod(pa, NULL), strtod(pb, NULL)))
                return false;
            pa += na;
            pb += nb;
            continue;
        }
        if (*pa != *pb)
            return false;
        pa++;
        pb++;
    }
    return *pa == *pb;
}

static int compare_lines(const Lines *actual, const Lines *expected, const char *what)
{
    size_t n = actual->n > expected->n ? actual->n : expected->n;
    for (size_t i = 0; i < n; i++) {
        const char *a = i < actual->n ? actual->items[i] : NULL;
        const char *e = i < expected->n ? expected->items[i] : NULL;
        if (a && e && lines_match(a, e))
            continue;
        fprintf(stderr, "%s: output differs at line %zu\n  expected: %s\n  actual:   %s\n", what,
                i + 1, e ? e : "(end of output)", a ? a : "(end of output)");
        return 1;
    }
    return 0;
}

/* ---- running nnrepl ---- */

typedef struct RunOutput {
    char *out, *err;
    size_t out_len, err_len;
    int status;       /* exit status, or 128 + signal */
} RunOutput;

static void run_nnrepl(const char *nnrepl, const char *file, RunOutput *r)
{
    char out_path[] = "/tmp/golden-out-XXXXXX", err_path[] = "/tmp/golden-err-XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    if (out_fd < 0 || err_fd < 0)
        exit(99);
    unlink(out_path);
    unlink(err_path);
    pid_t pid = fork();
    if (pid < 0)
        exit(99);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execl(nnrepl, nnrepl, "--batch", file, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    time_t start = time(NULL);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (time(NULL) - start > RUN_TIMEOUT_SECONDS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "golden: %s did not finish within %d s\n", file, RUN_TIMEOUT_SECONDS);
            break;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    lseek(out_fd, 0, SEEK_SET);
    lseek(err_fd, 0, SEEK_SET);
    r->out = read_all_fd(out_fd, &r->out_len);
    r->err = read_all_fd(err_fd, &r->err_len);
    close(out_fd);
    close(err_fd);
}

/* ---- expectations written in the program ---- */

typedef struct Expectations {
    Lines out;
    char *error;      /* "LINE:COL message" or NULL */
} Expectations;

static void read_expectations(const char *file, Expectations *x)
{
    size_t len;
    char *text = read_file(file, &len);
    Lines lines = {0};
    split_lines(text, len, &lines);
    memset(x, 0, sizeof *x);
    for (size_t i = 0; i < lines.n; i++) {
        const char *p = lines.items[i];
        while (*p == ' ')
            p++;
        if (strncmp(p, "# expect error: ", 16) == 0)
            x->error = strdup(p + 16);
        else if (strncmp(p, "# expect: ", 10) == 0)
            lines_add(&x->out, p + 10, strlen(p + 10));
        else if (strcmp(p, "# expect:") == 0)
            lines_add(&x->out, "", 0);
        free(lines.items[i]);
    }
    free(lines.items);
    free(text);
}

static int check_error(const char *file, const Expectations *x, const RunOutput *r)
{
    if (!x->error) {
        if (r->status != 0) {
            fprintf(stderr, "%s: exit status %d, expected 0; stderr:\n%s", file, r->status, r->err);
            return 1;
        }
        return 0;
    }
    if (r->status != 1) {
        fprintf(stderr, "%s: exit status %d, expected 1 (an error); stderr:\n%s", file, r->status, r->err);
        return 1;
    }
    char want[4096];
    snprintf(want, sizeof want, "%s:%s", file, x->error);
    /* turn "FILE:L:C message" into "FILE:L:C: error: message" */
    char *space = strchr(want + strlen(file) + 1, ' ');
    char expected_line[4200];
    if (!space) {
        fprintf(stderr, "%s: malformed '# expect error:' line\n", file);
        return 1;
    }
    snprintf(expected_line, sizeof expected_line, "%.*s: error: %s", (int)(space - want), want, space + 1);
    const char *nl = strchr(r->err, '\n');
    size_t n = nl ? (size_t)(nl - r->err) : strlen(r->err);
    if (strlen(expected_line) != n || strncmp(expected_line, r->err, n) != 0) {
        fprintf(stderr, "%s: wrong error\n  expected: %s\n  actual:   %.*s\n", file, expected_line,
                (int)n, r->err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--compare") == 0) {
        size_t la, le;
        char *a = read_file(argv[2], &la), *e = read_file(argv[3], &le);
        Lines al = {0}, el = {0};
        split_lines(a, la, &al);
        split_lines(e, le, &el);
        int failed = compare_lines(&al, &el, argv[2]);
        lines_free(&al);
        lines_free(&el);
        free(a);
        free(e);
        return failed;
    }
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: golden NNREPL FILE.nnl [FILE.expected] | golden --compare A B\n");
        return 99;
    }
    RunOutput r;
    run_nnrepl(argv[1], argv[2], &r);
    Lines actual = {0};
    split_lines(r.out, r.out_len, &actual);
    int failed;
    if (argc == 4) {
        size_t le;
        char *e = read_file(argv[3], &le);
        Lines expected = {0};
        split_lines(e, le, &expected);
        if (r.status != 0) {
            fprintf(stderr, "%s: exit status %d; stderr:\n%s", argv[2], r.status, r.err);
            failed = 1;
        } else {
            failed = compare_lines(&actual, &expected, argv[2]);
        }
        lines_free(&expected);
        free(e);
    } else {
        Expectations x;
        read_expectations(argv[2], &x);
        failed = compare_lines(&actual, &x.out, argv[2]);
        if (failed && r.err_len)
            fprintf(stderr, "stderr:\n%s", r.err);
        failed |= check_error(argv[2], &x, &r);
        lines_free(&x.out);
        free(x.error);
    }
    lines_free(&actual);
    free(r.out);
    free(r.err);
    return failed;
}
