/*
 * repl.c - the plain prompt: GNU Readline, no panes (`--plain`, TERM=dumb,
 * or no terminal UI).
 *
 * Like Python's: `>>> ` for a new entry, `... ` while an entry is unfinished
 * (an open bracket, or a block: a block ends with an empty line); the value
 * of an expression is echoed; an error is shown and the session goes on with
 * every variable kept; Ctrl-C clears the line at the prompt and stops a
 * running loop; Ctrl-D or :quit leaves. Entries go to ~/.nnrepl_history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "app.h"
#include "batch.h"
#include "entry.h"

#define HISTORY_LINES 1000

static Interp *completion_interp;
static bool entry_cancelled;

/* Ctrl-C at the prompt: drop the entry being typed and show a new prompt. */
static int on_signal_event(void)
{
    volatile sig_atomic_t *flag = app_interrupt_flag();
    if (*flag) {
        *flag = 0;
        entry_cancelled = true;
        rl_replace_line("", 0);
        rl_done = 1;
    }
    return 0;
}

static char *completion_generator(const char *text, int state)
{
    static char **list;
    static int index;
    (void)text;
    if (state == 0) {
        interp_free_completions(list);
        size_t start;
        list = interp_complete(completion_interp, rl_line_buffer, (size_t)rl_point, &start);
        index = 0;
    }
    if (!list || !list[index]) {
        interp_free_completions(list);
        list = NULL;
        return NULL;
    }
    return strdup(list[index++]);
}

static char **attempt_completion(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; /* never complete file names */
    return rl_completion_matches(text, completion_generator);
}

/* Read one entry (several lines for a block or an open bracket); NULL at
 * the end of input. An empty line ends a block, as at Python's prompt. */
static char *read_entry(void)
{
    entry_cancelled = false;
    char *line = readline(">>> ");
    if (!line)
        return NULL;
    StrBuf entry = STRBUF_INIT;
    sb_append(&entry, line);
    sb_append_char(&entry, '\n');
    free(line);
    EntryState st = entry_state(sb_str(&entry));
    while (entry_goes_on(st)) {
        line = readline("... ");
        if (!line)
            break;
        if (entry_cancelled) {
            free(line);
            break;
        }
        bool blank = entry_line_is_blank(line);
        if (blank && st != ENTRY_UNFINISHED) {
            free(line);
            break; /* run it: done, or show "expected an indented block" */
        }
        sb_append(&entry, line);
        sb_append_char(&entry, '\n');
        free(line);
        st = entry_state(sb_str(&entry));
    }
    if (entry_cancelled) {
        putchar('\n');
        sb_clear(&entry);
    }
    return sb_take(&entry);
}

static void add_history_entry(const char *entry)
{
    size_t n = strlen(entry);
    char *copy = strdup(entry);
    if (!copy)
        return;
    if (n && copy[n - 1] == '\n')
        copy[n - 1] = '\0';
    add_history(copy);
    free(copy);
}

static bool handle_command(const char *entry, bool *quit)
{
    char cmd[32] = "";
    if (sscanf(entry, " %31s", cmd) != 1 || cmd[0] != ':')
        return false;
    if (strcmp(cmd, ":quit") == 0 || strcmp(cmd, ":q") == 0) {
        *quit = true;
    } else if (strcmp(cmd, ":help") == 0) {
        puts("Type nnl code (Python with PyTorch's names). Blocks end with an empty line.\n"
             "Tab completes names and attributes; Ctrl-C stops a running loop;\n"
             ":quit or Ctrl-D leaves. The terminal classroom with panes runs when\n"
             "nnrepl is started in a terminal without --plain.");
    } else {
        printf("unknown command %s (:help, :quit)\n", cmd);
    }
    return true;
}

static Interp *start_interp(const AppOptions *o, BatchFrontend *b, const char *script_dir)
{
    InterpOptions io = o->interp;
    io.echo_expressions = true;
    io.script_dir = script_dir;
    io.datasets_dir = app_datasets_dir();
    Interp *in = interp_new(&io, batch_frontend(b));
    if (in)
        in->interrupt = app_interrupt_flag();
    return in;
}

/* Run the lesson file first (like python -i), then take entries. */
static void run_lesson_file(Interp *in, const char *path)
{
    size_t len;
    char *text = app_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "nnrepl: cannot read '%s'\n", path);
        return;
    }
    Source *src = source_new(path, text, len, 1);
    free(text);
    interp_run(in, src, false);
    source_release(src);
}

int repl_main(const AppOptions *o, const char *lesson)
{
    BatchFrontend b;
    batch_init(&b, stdout, stderr);
    char *dir = lesson ? app_dirname(lesson) : NULL;
    Interp *in = start_interp(o, &b, dir);
    if (!in) {
        free(dir);
        fputs("nnrepl: out of memory\n", stderr);
        return 1;
    }
    rl_readline_name = "nnrepl";
    rl_signal_event_hook = on_signal_event;
    rl_attempted_completion_function = attempt_completion;
    rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{(+-*/%,[.";
    completion_interp = in;
    char *hist = app_history_path();
    if (hist)
        read_history(hist);
    stifle_history(HISTORY_LINES);
    if (lesson)
        run_lesson_file(in, lesson);
    printf("nnrepl %s: nnl with PyTorch's names. :help for help, Ctrl-D to leave.\n",
#ifdef NNREPL_VERSION
           NNREPL_VERSION
#else
           ""
#endif
    );
    bool quit = false;
    while (!quit) {
        *app_interrupt_flag() = 0;
        char *entry = read_entry();
        if (!entry) {
            putchar('\n');
            break;
        }
        if (entry_line_is_blank(entry)) {
            free(entry);
            continue;
        }
        add_history_entry(entry);
        if (!handle_command(entry, &quit)) {
            Source *src = source_new("<input>", entry, strlen(entry), 1);
            interp_run(in, src, false);
            source_release(src);
            fflush(stdout);
        }
        free(entry);
    }
    if (hist) {
        write_history(hist);
        history_truncate_file(hist, HISTORY_LINES);
        free(hist);
    }
    completion_interp = NULL;
    interp_free(in);
    free(dir);
    return 0;
}
