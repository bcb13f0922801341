/*
 * utf8_codec.h - decoding and encoding one UTF-8 code point: the lexer,
 * the diagnostics, the string formatting and the character grid share it.
 */
#ifndef NNREPL_UTF8_CODEC_H
#define NNREPL_UTF8_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Decode one code point from s[0..n) (n > 0). Returns its length in bytes
 * (1..4) and sets *cp, or returns 0 when the bytes there are not valid UTF-8
 * (truncated, overlong, a surrogate, beyond U+10FFFF, a stray continuation
 * byte); *cp is then the first byte. */
int utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Encode cp into buf; returns the length (1..4). A surrogate or a value
 * beyond U+10FFFF is written as U+FFFD. */
int utf8_encode(uint32_t cp, char buf[4]);

#endif
