/*
 * entry.h - how far an entry typed at a prompt has got, by the rules of
 * Python's prompt: both front-ends (the plain Readline prompt and the
 * classroom's) ask this after every line to know whether to run the entry
 * or to read one more line.
 */
#ifndef NNREPL_ENTRY_H
#define NNREPL_ENTRY_H

#include <stdbool.h>

/* Complete; complete but inside a block (Python waits for an empty line
 * then, so that the block can go on); unfinished (an open bracket, a
 * backslash); unfinished only because a block header has no body yet; or
 * wrong (running it shows the error). */
typedef enum EntryState {
    ENTRY_COMPLETE, ENTRY_IN_BLOCK, ENTRY_UNFINISHED, ENTRY_NEEDS_BODY, ENTRY_WRONG
} EntryState;

/* The state of the entry's text so far (lines ending in '\n'). */
EntryState entry_state(const char *text);

/* Whether the prompt reads another line before running the entry. */
bool entry_goes_on(EntryState st);

/* Only white space: an empty line, which ends a block. */
bool entry_line_is_blank(const char *line);

#endif
