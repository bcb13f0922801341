/*
 * test_harness.h - what the cmocka tests that run nnl programs share
 * (test_lib_torch, test_lib_nn, test_extra): an interpreter whose events go
 * to the test, running a snippet, and collecting printed text.
 */
#ifndef NNREPL_TEST_HARNESS_H
#define NNREPL_TEST_HARNESS_H

#include <stddef.h>

#include "interp.h"

/* An interpreter with default options that hands its events to `fe`; fails
 * the test when it cannot be made. */
Interp *harness_interp(Frontend fe);

/* Run `code` in `in` as the source "<test>". */
RunResult run(Interp *in, const char *code);

/* Append a PRINT event's text to the NUL-terminated `printed` (`size`
 * bytes), cut short when it is full. */
void append_printed(char *printed, size_t size, const Event *ev);

#endif
