/*
 * entry.c - whether an entry typed at a prompt is complete (see entry.h).
 */
#include "entry.h"

#include <ctype.h>
#include <string.h>

#include "interp.h"

EntryState entry_state(const char *text)
{
    Source *src = source_new("<input>", text, strlen(text), 1);
    Program p;
    memset(&p, 0, sizeof p);
    Diag d;
    diag_init(&d);
    ParseLimits limits = {INTERP_DEFAULT_MAX_NESTING};
    ParseResult r = parse_program(src, &limits, &p, &d);
    EntryState st;
    if (r.ok) {
        st = r.ends_in_block ? ENTRY_IN_BLOCK : ENTRY_COMPLETE;
        ast_program_free(&p);
    } else if (r.incomplete) {
        st = d.message && strstr(d.message, "expected an indented block") ? ENTRY_NEEDS_BODY
                                                                          : ENTRY_UNFINISHED;
    } else {
        st = ENTRY_WRONG;
    }
    diag_clear(&d);
    source_release(src);
    return st;
}

bool entry_goes_on(EntryState st)
{
    return st == ENTRY_IN_BLOCK || st == ENTRY_UNFINISHED || st == ENTRY_NEEDS_BODY;
}

bool entry_line_is_blank(const char *line)
{
    while (*line && isspace((unsigned char)*line))
        line++;
    return *line == '\0';
}
