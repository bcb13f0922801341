#include "prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>
#include <term.h>

#include <readline/history.h>
#include <readline/readline.h>

#define HISTORY_LINES 1000
#define QUEUE_SIZE 16

static PromptHooks hooks;
static char *history_file;
static FILE *null_stream;

/* the byte wgetch read, for Readline's getc */
static int pending_byte;
static bool byte_waiting;

static char *lines[QUEUE_SIZE];
static bool line_eof[QUEUE_SIZE];
static int n_lines;
static PromptKey keys[QUEUE_SIZE];
static int n_keys;

/* In a UTF-8 locale Readline gets whole, valid UTF-8 characters only:
 * stray and malformed bytes are dropped (some of Readline's motions loop
 * forever on them). */
static bool utf8_input;
static unsigned char partial[4];
static int partial_len, partial_want;

static int read_byte(FILE *unused)
{
    (void)unused;
    byte_waiting = false;
    return pending_byte;
}

static int byte_available(void)
{
    return byte_waiting;
}

static void redisplay(void)
{
    if (hooks.redisplay)
        hooks.redisplay(hooks.ctx);
}

static void on_line(char *line)
{
    if (n_lines == QUEUE_SIZE) {
        free(line);
        return;
    }
    line_eof[n_lines] = line == NULL;
    lines[n_lines++] = line;
}

static void push_key(PromptKey k)
{
    if (n_keys < QUEUE_SIZE)
        keys[n_keys++] = k;
}

static int key_continue(int count, int key) { (void)count; (void)key; push_key(PROMPT_KEY_CONTINUE); return 0; }
static int key_step(int count, int key) { (void)count; (void)key; push_key(PROMPT_KEY_STEP); return 0; }
static int key_next(int count, int key) { (void)count; (void)key; push_key(PROMPT_KEY_NEXT); return 0; }
static int key_quit(int count, int key) { (void)count; (void)key; push_key(PROMPT_KEY_QUIT); return 0; }
static int key_page_up(int count, int key) { (void)count; (void)key; push_key(PROMPT_KEY_PAGE_UP); return 0; }
static int key_page_down(int count, int key) { (void)count; (void)key; push_key(PROMPT_KEY_PAGE_DOWN); return 0; }
static int key_redraw(int count, int key) { (void)count; (void)key; push_key(PROMPT_KEY_REDRAW); return 0; }

/* ---- completion ---- */

static char **completion_list;
static int completion_index;

static char *next_completion(const char *text, int state)
{
    (void)text;
    if (state == 0) {
        if (hooks.free_completions)
            hooks.free_completions(completion_list);
        size_t start = 0;
        completion_list = hooks.complete ? hooks.complete(hooks.ctx, rl_line_buffer, (size_t)rl_point, &start)
                                         : NULL;
        completion_index = 0;
    }
    if (!completion_list || !completion_list[completion_index]) {
        if (hooks.free_completions)
            hooks.free_completions(completion_list);
        completion_list = NULL;
        return NULL;
    }
    return strdup(completion_list[completion_index++]);
}

static char **attempt_completion(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;   /* never file names */
    /* Readline resets this before every completion: after "model.lin"
     * comes ".weight" more often than a space */
    rl_completion_append_character = '\0';
    return rl_completion_matches(text, next_completion);
}

static void display_matches(char **matches, int n, int max_length)
{
    (void)max_length;
    if (hooks.show_matches)
        hooks.show_matches(hooks.ctx, matches + 1, n);
    redisplay();
}

/* ---- keys ---- */

static void bind_sequence(const char *seq, rl_command_func_t *fn)
{
    if (seq && seq != (char *)-1 && *seq)
        rl_bind_keyseq(seq, fn);
}

/* The terminal's own sequence for a key (terminfo) and the common xterm one. */
static void bind_key(const char *capname, const char *xterm, rl_command_func_t *fn)
{
    bind_sequence(xterm, fn);
    bind_sequence(tigetstr(capname), fn);
}

static void bind_keys(void)
{
    bind_key("kf5", "\033[15~", key_continue);
    bind_key("kf6", "\033[17~", key_step);
    bind_key("kf7", "\033[18~", key_next);
    bind_key("kf10", "\033[21~", key_quit);
    bind_key("kpp", "\033[5~", key_page_up);
    bind_key("knp", "\033[6~", key_page_down);
    rl_bind_key(12, key_redraw);   /* Ctrl-L */
    /* M-C-j would switch to vi mode: a stray key must not change the editor */
    rl_unbind_function_in_map(rl_vi_editing_mode, emacs_meta_keymap);
}

/* ---- life cycle ---- */

void prompt_init(const PromptHooks *h, const char *history_path)
{
    hooks = *h;
    null_stream = fopen("/dev/null", "w");
    rl_readline_name = "nnrepl";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = NULL;
    rl_deprep_term_function = NULL;
    rl_getc_function = read_byte;
    rl_input_available_hook = byte_available;
    rl_redisplay_function = redisplay;
    rl_instream = stdin;
    rl_outstream = null_stream ? null_stream : stdout;
    rl_attempted_completion_function = attempt_completion;
    rl_completion_display_matches_hook = display_matches;
    rl_completion_query_items = -1;
    rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{(+-*/%,[]).:!~^";
    utf8_input = MB_CUR_MAX > 1;
    partial_want = 0;
    rl_initialize();
    rl_variable_bind("bell-style", "none");
    rl_variable_bind("show-all-if-ambiguous", "on");
    rl_variable_bind("enable-bracketed-paste", "off");
    bind_keys();
    using_history();
    stifle_history(HISTORY_LINES);
    free(history_file);
    history_file = history_path ? strdup(history_path) : NULL;
    if (history_file)
        read_history(history_file);
}

void prompt_shutdown(void)
{
    rl_callback_handler_remove();
    if (history_file) {
        write_history(history_file);
        history_truncate_file(history_file, HISTORY_LINES);
        free(history_file);
        history_file = NULL;
    }
    for (int i = 0; i < n_lines; i++)
        free(lines[i]);
    n_lines = n_keys = 0;
    if (hooks.free_completions)
        hooks.free_completions(completion_list);
    completion_list = NULL;
    if (null_stream) {
        rl_outstream = stdout;
        fclose(null_stream);
        null_stream = NULL;
    }
    memset(&hooks, 0, sizeof hooks);
}

void prompt_begin(const char *prompt)
{
    /* ↑ starts again from the newest entry */
    using_history();
    rl_callback_handler_install(prompt, on_line);
}

static void feed_byte(int byte)
{
    pending_byte = byte;
    byte_waiting = true;
    rl_callback_read_char();
}


/* Overlong forms, surrogates and code points past U+10FFFF are not. */
static bool utf8_valid(const unsigned char *b, int n)
{
    if (n == 3 && ((b[0] == 0xe0 && b[1] < 0xa0) || (b[0] == 0xed && b[1] >= 0xa0)))
        return false;
    if (n == 4 && ((b[0] == 0xf0 && b[1] < 0x90) || (b[0] == 0xf4 && b[1] >= 0x90)))
        return false;
    return true;
}

void prompt_feed(int byte)
{
    unsigned char b = (unsigned char)byte;
    /* Readline 8.2 crashes on a C-x prefix typed during Ctrl-R's search
     * (C-r, C-x, then a key C-x does not bind): there it means nothing */
    if (b == 0x18 && RL_ISSTATE(RL_STATE_ISEARCH))
        return;
    if (!utf8_input || (partial_want == 0 && b < 0x80)) {
        feed_byte(byte);
        return;
    }
    if (partial_want == 0) {
        if (b >= 0xc2 && b <= 0xf4) {
            partial[0] = b;
            partial_len = 1;
            partial_want = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
        }
        return;
    }
    if ((b & 0xc0) != 0x80) {
        /* the character was cut short: drop it, take this byte afresh */
        partial_want = 0;
        prompt_feed(byte);
        return;
    }
    partial[partial_len++] = b;
    if (partial_len < partial_want)
        return;
    partial_want = 0;
    if (utf8_valid(partial, partial_len))
        for (int i = 0; i < partial_len; i++)
            feed_byte(partial[i]);
}

bool prompt_take_line(char **line)
{
    if (n_lines == 0)
        return false;
    *line = lines[0];
    memmove(lines, lines + 1, (size_t)(n_lines - 1) * sizeof *lines);
    memmove(line_eof, line_eof + 1, (size_t)(n_lines - 1) * sizeof *line_eof);
    n_lines--;
    return true;
}

PromptKey prompt_take_key(void)
{
    if (n_keys == 0)
        return PROMPT_KEY_NONE;
    PromptKey k = keys[0];
    memmove(keys, keys + 1, (size_t)(n_keys - 1) * sizeof *keys);
    n_keys--;
    return k;
}

/* As Readline's own callback example does on SIGINT: drop the line's
 * state (its undo list, a search, a numeric argument), then start a fresh
 * line with the same prompt. */
void prompt_cancel(void)
{
    char *prompt = strdup(rl_prompt ? rl_prompt : "");
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_callback_handler_remove();
    partial_want = 0;
    if (prompt) {
        rl_callback_handler_install(prompt, on_line);
        free(prompt);
    }
    redisplay();
}

bool prompt_has_text(void)
{
    return rl_line_buffer && rl_end > 0;
}

void prompt_history_add(const char *entry)
{
    size_t n = strlen(entry);
    char *copy = strdup(entry);
    if (!copy)
        return;
    while (n && copy[n - 1] == '\n')
        copy[--n] = '\0';
    if (n)
        add_history(copy);
    free(copy);
    using_history();   /* ↑ brings this entry back first */
}

/* ---- drawing ---- */

static int columns_of(uint32_t cp)
{
    int w = grid_char_width(cp);
    return w < 0 ? 1 : w;
}

/* Draw text from virtual column *col on, skipping the first `offset`
 * columns; remembers the column where byte `mark` starts. */
static void draw_part(Grid *g, Rect row, const char *text, size_t len, int offset, int *col,
                      GridAttr attr, bool unicode, size_t mark, int *mark_col)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        if (mark_col && (size_t)(p - text) == mark)
            *mark_col = *col;
        uint32_t cp;
        if (*p == '\n') {
            cp = unicode ? 0x21b5 : '~';    /* ↵ for the line breaks of a recalled entry */
            p++;
        } else {
            cp = grid_utf8_next(&p);
        }
        int w = columns_of(cp);
        int x = *col - offset;
        if (x >= 0 && x + w <= row.w)
            grid_put(g, row.x + x, row.y, cp < 0x20 ? ' ' : cp, attr);
        *col += w;
    }
    if (mark_col && (size_t)(p - text) == mark)
        *mark_col = *col;
}

int prompt_draw(Grid *g, Rect row, bool unicode)
{
    if (row.w <= 0 || row.h <= 0)
        return 0;
    grid_fill(g, row.x, row.y, row.w, 1, ' ', 0);
    const char *prompt = rl_display_prompt ? rl_display_prompt : rl_prompt ? rl_prompt : "";
    const char *line = rl_line_buffer ? rl_line_buffer : "";
    size_t len = rl_line_buffer ? (size_t)rl_end : 0;
    size_t point = rl_line_buffer ? (size_t)rl_point : 0;
    /* measure: where is the cursor? */
    int col = 0, cursor = 0;
    draw_part(NULL, row, prompt, strlen(prompt), 0, &col, 0, unicode, (size_t)-1, NULL);
    draw_part(NULL, row, line, len, 0, &col, 0, unicode, point, &cursor);
    int offset = 0;
    if (cursor >= row.w - 1)
        offset = cursor - row.w * 2 / 3;
    col = 0;
    draw_part(g, row, prompt, strlen(prompt), offset, &col, GRID_ROLE_TITLE | GRID_BOLD, unicode,
              (size_t)-1, NULL);
    draw_part(g, row, line, len, offset, &col, 0, unicode, (size_t)-1, NULL);
    if (offset > 0)
        grid_put(g, row.x, row.y, unicode ? 0x2026 : '<', GRID_ROLE_AXIS);
    return row.x + cursor - offset;
}
