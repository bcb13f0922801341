/*
 * strbuf.h - a growable NUL-terminated string.
 *
 * Used wherever text is built piece by piece (printing values, error
 * messages, charts). Allocation failure aborts: text buffers are small and
 * bounded by the memory cap elsewhere, so an out-of-memory here means the
 * process is already lost.
 */
#ifndef NNREPL_STRBUF_H
#define NNREPL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct StrBuf {
    char *data;    /* always NUL-terminated once anything was added ("" if empty) */
    size_t len;
    size_t cap;
} StrBuf;

#define STRBUF_INIT {NULL, 0, 0}

void sb_init(StrBuf *sb);
void sb_free(StrBuf *sb);
void sb_clear(StrBuf *sb);                          /* length 0, keeps memory */
void sb_append(StrBuf *sb, const char *s);
void sb_append_n(StrBuf *sb, const char *s, size_t n);
void sb_append_char(StrBuf *sb, char c);
void sb_printf(StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(StrBuf *sb, const char *fmt, va_list ap);
void sb_repeat(StrBuf *sb, char c, size_t n);
/* The contents ("" when empty); valid until the next change. */
const char *sb_str(const StrBuf *sb);
/* Hand the string to the caller (malloc'd) and reset the buffer. */
char *sb_take(StrBuf *sb);

#endif
