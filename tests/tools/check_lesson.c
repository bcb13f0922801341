/*
 * check_lesson.c - runs a lesson to the end and checks its final metric.
 *
 *   check_lesson NNREPL LESSON PATTERN MIN [MAX]
 *
 * Runs `NNREPL --batch LESSON` with one BLAS thread and checks that it exits
 * with status 0, that no check printed "not ok", and that its metric is in
 * range: the metric is the first number after PATTERN (a fixed string) on
 * the last output line containing it, e.g. PATTERN "test accuracy:" on
 * "test accuracy: 0.912". It must be >= MIN and, when MAX is given, <= MAX.
 *
 * LESSON_CPU_LIMIT (seconds, default 30; 0 = no limit) bounds the CPU time
 * (user + system) of the run: every lesson must fit in 30 s of one core.
 * CPU time rather than wall time, so that a busy machine running tests in
 * parallel does not fail the check.
 *
 * A C program rather than a shell script so that `meson test --setup
 * valgrind` checks nnrepl and this runner only, not a shell and its tools.
 * Exit 0 on success, 1 on a failed check, 99 on a setup failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CPU_LIMIT 30.0
#define TAIL_LINES 30

typedef struct Run {
    char *out;        /* stdout and stderr together, NUL-terminated */
    size_t len;
    int status;       /* from wait4 */
    double wall, cpu; /* seconds */
} Run;

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Append everything readable from fd to run->out. */
static bool read_all(int fd, Run *run)
{
    size_t cap = 1 << 16;
    run->out = malloc(cap);
    run->len = 0;
    while (run->out) {
        if (run->len + 1 == cap) {
            char *bigger = realloc(run->out, cap * 2);
            if (!bigger)
                break;
            run->out = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, run->out + run->len, cap - 1 - run->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            run->out[run->len] = '\0';
            return n == 0;
        }
        run->len += (size_t)n;
    }
    return false;
}

/* Run `nnrepl --batch lesson`, its output captured; false on a setup failure. */
static bool run_lesson(const char *nnrepl, const char *lesson, Run *run)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        execl(nnrepl, nnrepl, "--batch", lesson, (char *)NULL);
        fprintf(stderr, "check_lesson: cannot run %s: %s\n", nnrepl, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    bool read_ok = read_all(fds[0], run);
    close(fds[0]);
    struct rusage ru;
    while (wait4(pid, &run->status, 0, &ru) < 0)
        if (errno != EINTR)
            return false;
    run->wall = seconds_since(&t0);
    run->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return read_ok;
}

/* The start of the last line of text containing pattern, or NULL. */
static const char *last_line_with(const char *text, const char *pattern)
{
    const char *found = NULL;
    for (const char *p = strstr(text, pattern); p; p = strstr(p + 1, pattern))
        found = p;
    if (!found)
        return NULL;
    while (found > text && found[-1] != '\n')
        found--;
    return found;
}

/* The first number in s (before the end of its line); false when none. */
static bool first_number(const char *s, double *value)
{
    for (; *s && *s != '\n'; s++) {
        bool digit = *s >= '0' && *s <= '9';
        bool minus_digit = *s == '-' && s[1] >= '0' && s[1] <= '9';
        if (digit || minus_digit) {
            *value = strtod(s, NULL);
            return true;
        }
    }
    return false;
}

/* Print the last lines of the output and fail. */
static int fail(const char *lesson, const Run *run, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const char *lesson, const Run *run, const char *fmt, ...)
{
    printf("FAIL: %s: ", lesson);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n---- last lines of the output ----\n");
    const char *start = run->out + run->len;
    if (start > run->out && start[-1] == '\n')
        start--;
    int lines = 1; /* the last line, from start on */
    while (start > run->out && !(start[-1] == '\n' && lines++ == TAIL_LINES))
        start--;
    fputs(start, stdout);
    return 1;
}

static void print_line(const char *prefix, const char *line)
{
    size_t n = strcspn(line, "\n");
    printf("%s%.*s\n", prefix, (int)n, line);
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s NNREPL LESSON PATTERN MIN [MAX]\n", argv[0]);
        return 99;
    }
    const char *nnrepl = argv[1], *lesson = argv[2], *pattern = argv[3];
    double min = strtod(argv[4], NULL);
    bool has_max = argc == 6 && argv[5][0];
    double max = has_max ? strtod(argv[5], NULL) : 0;
    const char *limit_text = getenv("LESSON_CPU_LIMIT");
    double cpu_limit = limit_text ? strtod(limit_text, NULL) : DEFAULT_CPU_LIMIT;

    Run run = {0};
    if (!run_lesson(nnrepl, lesson, &run)) {
        fprintf(stderr, "check_lesson: cannot run %s: %s\n", nnrepl, strerror(errno));
        free(run.out);
        return 99;
    }
    int code = WIFEXITED(run.status) ? WEXITSTATUS(run.status) : 128 + WTERMSIG(run.status);
    printf("%s: exit status %d, %.2fs wall, %.2fs CPU\n", lesson, code, run.wall, run.cpu);

    int result = 0;
    const char *not_ok = strncmp(run.out, "not ok ", 7) == 0 ? run.out : strstr(run.out, "\nnot ok ");
    const char *line = last_line_with(run.out, pattern);
    double value = 0;
    if (code != 0) {
        result = fail(lesson, &run, "nnrepl exited with status %d", code);
    } else if (not_ok) {
        print_line("a check failed: ", not_ok + (*not_ok == '\n'));
        result = fail(lesson, &run, "a check failed");
    } else if (!line) {
        result = fail(lesson, &run, "no output line contains '%s'", pattern);
    } else if (!first_number(strstr(line, pattern) + strlen(pattern), &value)) {
        print_line("the line: ", line);
        result = fail(lesson, &run, "no number after '%s'", pattern);
    } else if (value < min || (has_max && value > max)) {
        print_line("the line: ", line);
        result = fail(lesson, &run, "metric %g is outside [%g, %s]", value, min,
                      has_max ? argv[5] : "inf");
    } else if (cpu_limit > 0 && run.cpu > cpu_limit) {
        result = fail(lesson, &run, "took %.2fs of CPU time, more than the %gs a lesson may take",
                      run.cpu, cpu_limit);
    } else {
        printf("metric: %g (wanted >= %g%s%s)\n", value, min, has_max ? " and <= " : "",
               has_max ? argv[5] : "");
    }
    free(run.out);
    return result;
}
