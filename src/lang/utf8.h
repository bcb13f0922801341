/*
 * utf8.h - decoding, encoding and measuring UTF-8 text.
 *
 * nnl source is UTF-8, columns in diagnostics count code points, and a caret
 * under a line of Chinese text must land under the right character on a
 * terminal, where such characters take two cells.
 */
#ifndef NNREPL_UTF8_H
#define NNREPL_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "utf8_codec.h"   /* utf8_decode, utf8_encode */

/* Number of code points in s[0..n), counting each invalid byte as one. */
size_t utf8_count(const char *s, size_t n);

/* Terminal cells taken by cp: 0 for combining marks, 2 for East Asian wide
 * and full-width characters (CJK, full-width punctuation, most emoji), else
 * 1. A small table, close to what terminals do. */
int utf8_display_width(uint32_t cp);

#endif
