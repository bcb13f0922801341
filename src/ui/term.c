#include "term.h"

#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define TERM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TERM_SANITIZED 1
#endif
#endif

static SCREEN *screen;
static bool is_open, unicode, colour, atexit_done;

/* For the signal handlers: plain data, written before they are installed. */
static struct termios saved_modes;
static bool have_saved_modes;
static char reset_bytes[256];
static size_t reset_len;
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t *interrupt_flag;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
    if (interrupt_flag)
        *interrupt_flag = 1;
}

#ifndef TERM_SANITIZED
static char alt_stack[1 << 16];

/* Only async-signal-safe calls: put the terminal back, then die as the
 * signal says (SA_RESETHAND restored the default action). */
static void on_fatal_signal(int sig)
{
    if (have_saved_modes)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_modes);
    if (reset_len) {
        ssize_t ignored = write(STDOUT_FILENO, reset_bytes, reset_len);
        (void)ignored;
    }
    raise(sig);
}

static void install_fatal_handlers(void)
{
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = alt_stack;
    ss.ss_size = sizeof alt_stack;
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_ONSTACK | SA_NODEFER;
    const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

static void restore_fatal_handlers(void)
{
    const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
}
#else
static void install_fatal_handlers(void) {}
static void restore_fatal_handlers(void) {}
#endif

static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;   /* no SA_RESTART: a waiting read returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* A terminfo string capability, or "" when the terminal has none. */
static const char *capability(const char *name)
{
    char *s = tigetstr(name);
    return s && s != (char *)-1 ? s : "";
}

static void save_reset_bytes(void)
{
    const char *parts[] = {capability("sgr0"), capability("cnorm"), capability("rmcup")};
    reset_len = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]);
        if (reset_len + n >= sizeof reset_bytes)
            break;
        memcpy(reset_bytes + reset_len, parts[i], n);
        reset_len += n;
    }
}

static void start_colours(void)
{
    if (start_color() == ERR)
        return;
    short background = use_default_colors() == OK ? -1 : COLOR_BLACK;
    for (short c = 0; c < 8; c++)
        init_pair((short)(c + 1), c, background);
    colour = true;
}

bool term_open(const TermOptions *opt)
{
    if (is_open)
        return true;
    setlocale(LC_ALL, "");
    /* numbers print with a '.' whatever the locale says */
    setlocale(LC_NUMERIC, "C");
    const char *codeset = nl_langinfo(CODESET);
    unicode = !opt->ascii && codeset && strcmp(codeset, "UTF-8") == 0;
    have_saved_modes = tcgetattr(STDIN_FILENO, &saved_modes) == 0;
    if (!have_saved_modes)
        return false;
    screen = newterm(NULL, stdout, stdin);
    if (!screen)
        return false;
    set_term(screen);
    if (!*capability("cup")) {
        endwin();
        delscreen(screen);
        screen = NULL;
        return false;
    }
    save_reset_bytes();
    interrupt_flag = opt->interrupt;
    install_stop_handlers();
    install_fatal_handlers();
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, FALSE);
    meta(stdscr, TRUE);
    leaveok(stdscr, FALSE);
    scrollok(stdscr, FALSE);
    typeahead(-1);      /* finish every frame, even with keys waiting */
    colour = false;
    if (!opt->no_color && has_colors())
        start_colours();
    is_open = true;
    if (!atexit_done) {
        atexit(term_close);
        atexit_done = true;
    }
    return true;
}

void term_close(void)
{
    if (!is_open)
        return;
    is_open = false;
    if (!isendwin()) {
        curs_set(1);
        endwin();
    }
    restore_fatal_handlers();
    fflush(stdout);
}

bool term_is_open(void)
{
    return is_open;
}

WINDOW *term_window(void)
{
    return stdscr;
}

bool term_unicode(void)
{
    return unicode;
}

bool term_colour(void)
{
    return colour;
}

int term_cols(void)
{
    return COLS;
}

int term_lines(void)
{
    return LINES;
}

attr_t term_attr(GridAttr attr, short *pair)
{
    GridRole role = grid_attr_role(attr);
    GridAttr style = attr & GRID_STYLE_MASK;
    *pair = 0;
    if (colour) {
        GridColour c = grid_role_colour(role);
        if (c != GRID_COLOUR_DEFAULT)
            *pair = (short)(c + 1);
        style |= grid_role_colour_style(role);
    } else if (role != GRID_ROLE_POSITIVE && role != GRID_ROLE_NEGATIVE) {
        /* values keep only their magnitude styles: the sign is printed */
        style |= grid_role_mono_style(role);
    }
    attr_t a = A_NORMAL;
    if (style & GRID_BOLD)
        a |= A_BOLD;
    else if (style & GRID_DIM)
        a |= A_DIM;
    if (style & GRID_REVERSE)
        a |= A_REVERSE;
    if (style & GRID_UNDERLINE)
        a |= A_UNDERLINE;
    return a;
}

int term_stop_signal(void)
{
    return stop_signal;
}

void term_reraise_stop_signal(void)
{
    int sig = stop_signal;
    if (!sig)
        return;
    signal(sig, SIG_DFL);
    raise(sig);
}
