/*
 * data.c - reading data files (numeric CSV as np.loadtxt reads it, IDX) and
 * batching them (TensorDataset, BatchOrder).
 *
 * Files are opened once through zlib, which reads gzip and plain files alike
 * (gzip is recognised by its magic bytes, never by the file name). Only
 * regular files are read: a FIFO or a device could block or never end.
 *
 * Every byte of memory that grows with the file (the line buffer, the values
 * read so far, the result) is allocated through the engine's accounting, so
 * a file too large for the memory limit is an error, not an exhausted
 * machine.
 */
#include "data.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Bytes per gzread of IDX data: more than zlib's own buffer, so that zlib
 * inflates straight into ours. */
#define READ_CHUNK ((size_t)1 << 20)
#define LINE_BUFFER_START ((size_t)1 << 14)   /* first size of the CSV line buffer */
#define VALUE_BLOCK_FIRST ((int64_t)1 << 10)  /* floats in the first block of CSV values */
#define VALUE_BLOCK_MAX ((int64_t)1 << 20)    /* and in the largest */
#define INTERRUPT_CHECK_LINES 1024
#define FIELD_SHOWN_MAX 40                    /* bytes of a bad field quoted in errors */

static bool interrupted(const Engine *eng)
{
    return eng->interrupt_flag && *eng->interrupt_flag;
}

/* Put "path: " (and the line when line > 0) in front of the engine's
 * current message, e.g. a memory-limit error from tensor_empty. */
static bool fail_in_file(Engine *eng, const char *path, int64_t line)
{
    char msg[ENGINE_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", engine_error(eng));
    if (line > 0)
        return engine_fail(eng, "%s:%lld: %s", path, (long long)line, msg);
    return engine_fail(eng, "%s: %s", path, msg);
}

/* Ask the kernel to back a large, still untouched buffer with huge pages:
 * faulting in a 188 MB image set 4 KB at a time costs more than
 * decompressing it on some virtual machines. Only a hint. */
static void advise_huge_pages(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (end > start)
        madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

/* ---- opening files ---- */

/* Open a regular file for reading through zlib; its size in *file_size. */
static gzFile data_open(Engine *eng, const char *path, int64_t *file_size)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
     * below anyway. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        engine_fail(eng, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        engine_fail(eng, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        engine_fail(eng, "%s: %s", path,
                    S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
        close(fd);
        return NULL;
    }
    *file_size = (int64_t)st.st_size;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        engine_fail(eng, "%s: out of memory", path);
        return NULL;
    }
    gzbuffer(gz, 1 << 18);
    return gz;
}

/* After a read returned -1, or after the end of the data: false + message if
 * zlib or the system reported a failure (a truncated gzip stream reads as an
 * early end with Z_BUF_ERROR, a bad checksum as Z_DATA_ERROR). */
static bool data_read_ok(Engine *eng, const char *path, gzFile gz)
{
    int code;
    const char *msg = gzerror(gz, &code);
    if (code == Z_OK)
        return true;
    if (code == Z_ERRNO)
        return engine_fail(eng, "%s: %s", path, strerror(errno));
    /* zlib names the stream first ("<fd:3>: incorrect data check"). */
    const char *colon = strstr(msg, ": ");
    if (msg[0] == '<' && colon)
        msg = colon + 2;
    return engine_fail(eng, "%s: corrupt gzip data (%s)", path, msg);
}

/* Read up to `len` bytes, looping over short reads; the count read, or -1
 * (message set) on a failure. */
static int64_t data_read(Engine *eng, const char *path, gzFile gz, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        size_t want = len - got;
        if (want > ((size_t)1 << 30))
            want = (size_t)1 << 30;
        int n = gzread(gz, (char *)buf + got, (unsigned)want);
        if (n < 0) {
            data_read_ok(eng, path, gz);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (int64_t)got;
}

/* ==================================================================== */
/* CSV                                                                    */
/* ==================================================================== */

/* Physical lines of a file, each handed out in a writable buffer with at
 * least one writable byte after it (the parser terminates fields in place). */
typedef struct LineReader {
    Engine *eng;
    const char *path;
    gzFile gz;
    char *buf;            /* accounted, `cap` bytes */
    size_t cap;
    size_t start, end;    /* unconsumed bytes: buf[start..end) */
    size_t scanned;       /* buf[start..scanned) holds no '\n' */
    bool eof;
    int64_t line_no;      /* 1-based number of the line last returned */
} LineReader;

static bool reader_grow(LineReader *r)
{
    size_t new_cap = r->cap * 2;
    char *nb = engine_alloc(r->eng, new_cap, "line buffer");
    if (!nb)
        return engine_fail(r->eng, "%s:%lld: line too long for the memory limit", r->path,
                           (long long)r->line_no + 1);
    memcpy(nb, r->buf + r->start, r->end - r->start);
    engine_free_accounted(r->eng, r->buf, r->cap);
    r->buf = nb;
    r->cap = new_cap;
    r->end -= r->start;
    r->scanned -= r->start;
    r->start = 0;
    return true;
}

/* Read more of the file into the buffer (moving or growing it as needed). */
static bool reader_fill(LineReader *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->scanned -= r->start;
        r->start = 0;
    }
    if (r->end + 1 >= r->cap && !reader_grow(r)) /* keep one spare byte */
        return false;
    int64_t n = data_read(r->eng, r->path, r->gz, r->buf + r->end, r->cap - 1 - r->end);
    if (n < 0)
        return false;
    if (n == 0) {
        r->eof = true;
        return data_read_ok(r->eng, r->path, r->gz);
    }
    r->end += (size_t)n;
    return true;
}

/* The next line (without its '\n' or "\r\n") in *line, *len: 1, or 0 at the
 * end of the file, or -1 on an error. */
static int reader_next_line(LineReader *r, char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(r->buf + r->scanned, '\n', r->end - r->scanned);
        size_t line_end;
        if (nl) {
            line_end = (size_t)(nl - r->buf);
        } else if (r->eof) {
            if (r->start == r->end)
                return 0;
            line_end = r->end; /* a last line without '\n'; the spare byte follows */
        } else {
            r->scanned = r->end;
            if (!reader_fill(r))
                return -1;
            continue;
        }
        *line = r->buf + r->start;
        *len = line_end - r->start;
        if (*len > 0 && (*line)[*len - 1] == '\r')
            (*len)--;
        r->start = r->scanned = nl ? line_end + 1 : line_end;
        r->line_no++;
        return 1;
    }
}

/* Values read so far, in blocks that double in size up to VALUE_BLOCK_MAX
 * floats: growing never copies, a small file takes little memory, and the
 * memory accounting sees every block. */
typedef struct ValueBlock {
    float *data;          /* accounted, cap floats */
    int64_t cap, used;
} ValueBlock;

typedef struct ValueStore {
    Engine *eng;
    ValueBlock *blocks;
    int64_t n_blocks, blocks_cap;
} ValueStore;

static bool store_add_block(ValueStore *vs)
{
    if (vs->n_blocks == vs->blocks_cap) {
        int64_t new_cap = vs->blocks_cap ? vs->blocks_cap * 2 : 16;
        ValueBlock *nb = realloc(vs->blocks, (size_t)new_cap * sizeof *nb);
        if (!nb)
            return engine_fail(vs->eng, "out of memory");
        vs->blocks = nb;
        vs->blocks_cap = new_cap;
    }
    int64_t cap = VALUE_BLOCK_FIRST;
    if (vs->n_blocks > 0) {
        cap = vs->blocks[vs->n_blocks - 1].cap * 2;
        if (cap > VALUE_BLOCK_MAX)
            cap = VALUE_BLOCK_MAX;
    }
    float *data = engine_alloc(vs->eng, (size_t)cap * sizeof(float), "data");
    if (!data)
        return false;
    vs->blocks[vs->n_blocks++] = (ValueBlock){data, cap, 0};
    return true;
}

static bool store_push(ValueStore *vs, float v)
{
    ValueBlock *b = vs->n_blocks ? &vs->blocks[vs->n_blocks - 1] : NULL;
    if (!b || b->used == b->cap) {
        if (!store_add_block(vs))
            return false;
        b = &vs->blocks[vs->n_blocks - 1];
    }
    b->data[b->used++] = v;
    return true;
}

static void store_copy_out(const ValueStore *vs, float *out)
{
    for (int64_t i = 0; i < vs->n_blocks; i++) {
        memcpy(out, vs->blocks[i].data, (size_t)vs->blocks[i].used * sizeof(float));
        out += vs->blocks[i].used;
    }
}

static void store_free(ValueStore *vs)
{
    for (int64_t i = 0; i < vs->n_blocks; i++)
        engine_free_accounted(vs->eng, vs->blocks[i].data,
                              (size_t)vs->blocks[i].cap * sizeof(float));
    free(vs->blocks);
}

/* ---- fields and numbers ---- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Case-insensitive match of all of s[0..len) against a lower-case word. */
static bool equals_word(const char *s, size_t len, const char *word)
{
    if (strlen(word) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return false;
    }
    return true;
}

/* The number syntax np.loadtxt accepts (Python's float() without
 * underscores): [sign] (digits [. digits] | . digits) [(e|E) [sign] digits],
 * or [sign] inf | infinity | nan in any case. Hexadecimal and "nan(...)",
 * which strtod would take, are refused. */
static bool is_number_syntax(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    if (equals_word(s + i, len - i, "inf") || equals_word(s + i, len - i, "infinity") ||
        equals_word(s + i, len - i, "nan"))
        return true;
    size_t digits = 0;
    while (i < len && is_digit(s[i]))
        i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && is_digit(s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = 0;
        while (i < len && is_digit(s[i]))
            i++, exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    return i == len;
}

/* A field for an error message: quoted, at most FIELD_SHOWN_MAX bytes, with
 * control and non-ASCII bytes escaped so that nothing reaches a terminal raw. */
static void format_field(char *out, size_t size, const char *s, size_t len)
{
    size_t o = 0;
    out[o++] = '\'';
    for (size_t i = 0; i < len && i < FIELD_SHOWN_MAX && o + 8 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
    }
    if (len > FIELD_SHOWN_MAX)
        o += (size_t)snprintf(out + o, size - o, "...");
    snprintf(out + o, size - o, "'");
}

typedef struct CsvParser {
    Engine *eng;
    const char *path;
    char delimiter;         /* DATA_DELIM_WHITESPACE: runs of blanks */
    DType dtype;
    int64_t cols;           /* of the first data row; 0 before it */
    int64_t rows;
    ValueStore values;
} CsvParser;

/* Convert one field s[0..len) (s[len] is writable) and store it. */
static bool csv_convert_field(CsvParser *p, int64_t line_no, char *s, size_t len)
{
    char *field = s;
    size_t field_len = len;
    while (len > 0 && is_blank(*s))
        s++, len--;
    while (len > 0 && is_blank(s[len - 1]))
        len--;
    double v = 0.0;
    bool ok = len > 0 && is_number_syntax(s, len);
    if (ok) {
        /* s[len] is a blank, the delimiter, the line end or the spare byte. */
        char saved = s[len];
        s[len] = '\0';
        char *end;
        v = strtod(s, &end);
        ok = end == s + len;
        s[len] = saved;
    }
    bool integral = ok && isfinite(v) && v == trunc(v);
    if (!ok || (p->dtype == DTYPE_INT64 && !integral)) {
        char shown[FIELD_SHOWN_MAX * 4 + 16];
        format_field(shown, sizeof shown, field, field_len);
        return engine_fail(p->eng, "%s:%lld: could not convert %s to %s", p->path,
                           (long long)line_no, shown, p->dtype == DTYPE_INT64 ? "int" : "float");
    }
    if (p->dtype == DTYPE_INT64)
        v += 0.0; /* "-0" is the integer 0 */
    if (p->dtype == DTYPE_INT64 && fabs(v) > TENSOR_MAX_EXACT_INT)
        return engine_fail(p->eng, "%s:%lld: integer %.0f is too large for an nnl integer tensor "
                           "(values are exact up to 16777216)", p->path, (long long)line_no, v);
    if (!store_push(&p->values, (float)v))
        return engine_fail(p->eng, "%s:%lld: the data is too large for the memory limit of %.1f MB",
                           p->path, (long long)line_no,
                           (double)p->eng->max_bytes / (1024.0 * 1024.0));
    return true;
}

/* The next field of line[*pos..len): its start and length; false when the
 * line has no more fields. In delimiter mode a line of n delimiters has
 * n + 1 fields (empty ones included); in whitespace mode fields are the runs
 * of non-blanks. */
static bool csv_next_field(const CsvParser *p, const char *line, size_t len, size_t *pos,
                           size_t *start, size_t *flen)
{
    size_t i = *pos;
    if (p->delimiter == DATA_DELIM_WHITESPACE) {
        while (i < len && is_blank(line[i]))
            i++;
        if (i >= len)
            return false;
        *start = i;
        while (i < len && !is_blank(line[i]))
            i++;
        *flen = i - *start;
        *pos = i;
        return true;
    }
    if (i > len)
        return false;
    const char *d = memchr(line + i, p->delimiter, len - i);
    size_t stop = d ? (size_t)(d - line) : len;
    *start = i;
    *flen = stop - i;
    *pos = stop + 1; /* past the delimiter, or len + 1: no more fields */
    return true;
}

/* One line that holds data (comment already cut, not blank). */
static bool csv_parse_row(CsvParser *p, int64_t line_no, char *line, size_t len)
{
    size_t pos = 0, start, flen;
    int64_t found = 0;
    while (csv_next_field(p, line, len, &pos, &start, &flen))
        found++;
    /* As NumPy does, a wrong number of values is reported before any
     * conversion error in the row. */
    if (p->cols == 0)
        p->cols = found;
    else if (found != p->cols)
        return engine_fail(p->eng, "%s:%lld: expected %lld values, found %lld", p->path,
                           (long long)line_no, (long long)p->cols, (long long)found);
    pos = 0;
    while (csv_next_field(p, line, len, &pos, &start, &flen))
        if (!csv_convert_field(p, line_no, line + start, flen))
            return false;
    p->rows++;
    return true;
}

static bool is_blank_line(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_blank(s[i]))
            return false;
    return true;
}

/* Read every line of r into p. */
static bool csv_read_lines(CsvParser *p, LineReader *r, int skiprows)
{
    char *line;
    size_t len;
    int status;
    while ((status = reader_next_line(r, &line, &len)) == 1) {
        if (r->line_no % INTERRUPT_CHECK_LINES == 0 && interrupted(p->eng))
            return engine_fail(p->eng, "%s:%lld: interrupted", p->path, (long long)r->line_no);
        if (r->line_no <= skiprows)
            continue;
        if (r->line_no == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3; /* a UTF-8 byte order mark */
            len -= 3;
        }
        const char *hash = memchr(line, '#', len);
        if (hash)
            len = (size_t)(hash - line);
        /* Lines of blanks count as blank (NumPy would call them a row of
         * one empty value with a delimiter). */
        if (is_blank_line(line, len))
            continue;
        if (!csv_parse_row(p, r->line_no, line, len))
            return false;
    }
    return status == 0;
}

/* NumPy's squeeze: (1, c) -> (c), (r, 1) -> (r), (1, 1) -> (). */
static int csv_result_shape(int64_t rows, int64_t cols, int64_t *shape)
{
    if (rows == 1 && cols == 1)
        return 0;
    if (rows == 1 || cols == 1) {
        shape[0] = rows == 1 ? cols : rows;
        return 1;
    }
    shape[0] = rows;
    shape[1] = cols;
    return 2;
}

static bool csv_check_arguments(Engine *eng, const char *path, char delimiter, DType dtype,
                                int skiprows)
{
    if (delimiter == '\n' || delimiter == '\r' || delimiter == '\0' || delimiter == '#')
        return engine_fail(eng, "%s: invalid delimiter 0x%02x", path, (unsigned char)delimiter);
    if (dtype != DTYPE_FLOAT32 && dtype != DTYPE_INT64)
        return engine_fail(eng, "%s: loadtxt reads %s or %s, not %s", path,
                           dtype_name(DTYPE_FLOAT32), dtype_name(DTYPE_INT64), dtype_name(dtype));
    if (skiprows < 0)
        return engine_fail(eng, "%s: skiprows must be 0 or more, got %d", path, skiprows);
    return true;
}

Tensor *data_load_csv(Engine *eng, const char *path, char delimiter, DType dtype, int skiprows)
{
    if (!csv_check_arguments(eng, path, delimiter, dtype, skiprows))
        return NULL;
    LineReader r = {.eng = eng, .path = path, .cap = LINE_BUFFER_START};
    CsvParser p = {.eng = eng, .path = path, .delimiter = delimiter, .dtype = dtype,
                   .values = {.eng = eng}};
    Tensor *result = NULL;
    /* strtod follows LC_NUMERIC; data files always use '.'. */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t saved_locale = c_locale ? uselocale(c_locale) : (locale_t)0;

    int64_t file_size;
    r.gz = data_open(eng, path, &file_size);
    if (!r.gz)
        goto done;
    r.buf = engine_alloc(eng, r.cap, "line buffer");
    if (!r.buf) {
        fail_in_file(eng, path, 0);
        goto done;
    }
    if (!csv_read_lines(&p, &r, skiprows))
        goto done;
    if (p.rows == 0) {
        engine_fail(eng, "%s: no data", path);
        goto done;
    }
    int64_t shape[2];
    int ndim = csv_result_shape(p.rows, p.cols, shape);
    result = tensor_empty(eng, dtype, ndim, shape);
    if (!result) {
        /* The values read so far are still held: the tensor needs as much again. */
        engine_fail(eng, "%s: the data is too large for the memory limit of %.1f MB", path,
                    (double)eng->max_bytes / (1024.0 * 1024.0));
        goto done;
    }
    store_copy_out(&p.values, tensor_data(result));
done:
    if (c_locale) {
        uselocale(saved_locale);
        freelocale(c_locale);
    }
    store_free(&p.values);
    if (r.buf)
        engine_free_accounted(eng, r.buf, r.cap);
    if (r.gz)
        gzclose(r.gz);
    return result;
}

/* ==================================================================== */
/* IDX                                                                    */
/* ==================================================================== */

#define IDX_UBYTE 0x08

static const char *idx_type_name(int type)
{
    switch (type) {
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return NULL;
    }
}

typedef struct IdxHeader {
    int ndims;
    int64_t dims[TENSOR_MAX_DIMS];
    int64_t count;          /* bytes of data the header declares */
    int64_t header_bytes;
} IdxHeader;

/* The magic number (0x00 0x00 type ndims) and the big-endian sizes. */
static bool idx_read_header(Engine *eng, const char *path, gzFile gz, IdxHeader *h)
{
    unsigned char magic[4];
    int64_t n = data_read(eng, path, gz, magic, 4);
    if (n < 0)
        return false;
    if (n < 4)
        return engine_fail(eng, "%s: not an IDX file (%lld bytes)", path, (long long)n);
    if (magic[0] != 0 || magic[1] != 0 || (magic[2] != IDX_UBYTE && !idx_type_name(magic[2])))
        return engine_fail(eng, "%s: not an IDX file (magic number 0x%02x%02x%02x%02x)", path,
                           magic[0], magic[1], magic[2], magic[3]);
    if (magic[2] != IDX_UBYTE)
        return engine_fail(eng, "%s: IDX data of type 0x%02x (%s) is not supported; "
                           "only 0x08 (unsigned byte) is", path, magic[2], idx_type_name(magic[2]));
    h->ndims = magic[3];
    if (h->ndims < 1 || h->ndims > TENSOR_MAX_DIMS)
        return engine_fail(eng, "%s: IDX data with %d dimensions is not supported (1 to %d)",
                           path, h->ndims, TENSOR_MAX_DIMS);
    unsigned char sizes[4 * TENSOR_MAX_DIMS];
    n = data_read(eng, path, gz, sizes, (size_t)(4 * h->ndims));
    if (n < 0)
        return false;
    if (n < 4 * h->ndims)
        return engine_fail(eng, "%s: truncated: the IDX header is incomplete", path);
    h->count = 1;
    for (int i = 0; i < h->ndims; i++) {
        const unsigned char *b = sizes + 4 * i;
        h->dims[i] = (int64_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                               (uint32_t)b[2] << 8 | (uint32_t)b[3]);
        /* Each size < 2^32 and the running product <= 2^40: no overflow. */
        if (h->dims[i] > 0 && h->count > ((int64_t)1 << 40) / h->dims[i])
            return engine_fail(eng, "%s: IDX sizes too large", path);
        h->count *= h->dims[i];
    }
    h->header_bytes = 4 + 4 * (int64_t)h->ndims;
    return true;
}

/* The tensor the data goes into: images (N, 1, H, W), labels (N) int64, or
 * the file's own shape. */
static Tensor *idx_make_tensor(Engine *eng, const IdxHeader *h, bool as_images)
{
    if (as_images && h->ndims == 3) {
        int64_t shape[4] = {h->dims[0], 1, h->dims[1], h->dims[2]};
        return tensor_empty(eng, DTYPE_FLOAT32, 4, shape);
    }
    return tensor_empty(eng, h->ndims == 1 ? DTYPE_INT64 : DTYPE_FLOAT32, h->ndims, h->dims);
}

/* out = in, or in / 255 (exactly as PyTorch's uint8 .float() / 255). The
 * loops are kept simple so that they vectorise. */
static void bytes_to_floats(float *out, const unsigned char *in, int64_t n, bool scale)
{
    if (scale)
        for (int64_t i = 0; i < n; i++)
            out[i] = (float)in[i] / 255.0f;
    else
        for (int64_t i = 0; i < n; i++)
            out[i] = (float)in[i];
}

/* Read the data bytes into `out`, scaled to [0, 1] when `scale`. */
static bool idx_read_data(Engine *eng, const char *path, gzFile gz, const IdxHeader *h,
                          bool scale, float *out)
{
    unsigned char *chunk = malloc(READ_CHUNK);
    if (!chunk)
        return engine_fail(eng, "%s: out of memory", path);
    int64_t done = 0;
    bool ok = true;
    while (ok && done < h->count) {
        if (interrupted(eng)) {
            ok = engine_fail(eng, "%s: interrupted", path);
            break;
        }
        size_t want = (size_t)(h->count - done < (int64_t)READ_CHUNK ? h->count - done
                                                                      : (int64_t)READ_CHUNK);
        int64_t n = data_read(eng, path, gz, chunk, want);
        if (n < 0) {
            ok = false;
            break;
        }
        bytes_to_floats(out + done, chunk, n, scale);
        done += n;
        if ((size_t)n < want)
            ok = engine_fail(eng, "%s: truncated: expected %lld bytes of data, found %lld", path,
                             (long long)h->count, (long long)done);
    }
    /* Nothing may follow the declared data: extra bytes mean a header that
     * does not describe the file. Reading on also makes zlib check the
     * gzip trailer. */
    if (ok) {
        int64_t extra = data_read(eng, path, gz, chunk, READ_CHUNK);
        if (extra < 0)
            ok = false;
        else if (extra > 0)
            ok = engine_fail(eng, "%s: more data than the %lld bytes the IDX header declares",
                             path, (long long)h->count);
        else
            ok = data_read_ok(eng, path, gz);
    }
    free(chunk);
    return ok;
}

Tensor *data_load_idx(Engine *eng, const char *path, bool as_images)
{
    int64_t file_size;
    gzFile gz = data_open(eng, path, &file_size);
    if (!gz)
        return NULL;
    Tensor *t = NULL;
    IdxHeader h;
    if (!idx_read_header(eng, path, gz, &h))
        goto done;
    /* A plain file's size is known before allocating anything. */
    if (gzdirect(gz) && file_size - h.header_bytes < h.count) {
        engine_fail(eng, "%s: truncated: expected %lld bytes of data, found %lld", path,
                    (long long)h.count, (long long)(file_size - h.header_bytes));
        goto done;
    }
    t = idx_make_tensor(eng, &h, as_images);
    if (!t) {
        fail_in_file(eng, path, 0);
        goto done;
    }
    advise_huge_pages(tensor_data(t), (size_t)h.count * sizeof(float));
    if (!idx_read_data(eng, path, gz, &h, as_images && h.ndims == 3, tensor_data(t))) {
        tensor_release(t);
        t = NULL;
    }
done:
    gzclose(gz);
    return t;
}

/* ==================================================================== */
/* TensorDataset                                                          */
/* ==================================================================== */

TensorDataset *dataset_new(Engine *eng, int n, Tensor *const *tensors)
{
    if (n < 1) {
        engine_fail(eng, "TensorDataset needs at least one tensor");
        return NULL;
    }
    for (int j = 0; j < n; j++) {
        if (tensors[j]->ndim == 0) {
            engine_fail(eng, "TensorDataset: tensors need at least one dimension");
            return NULL;
        }
        if (tensors[j]->shape[0] != tensors[0]->shape[0]) {
            engine_fail(eng, "Size mismatch between tensors");
            return NULL;
        }
    }
    TensorDataset *d = calloc(1, sizeof *d);
    Tensor **owned = calloc((size_t)n, sizeof *owned);
    if (!d || !owned) {
        free(d);
        free(owned);
        engine_fail(eng, "out of memory");
        return NULL;
    }
    for (int j = 0; j < n; j++)
        owned[j] = tensor_retain(tensors[j]);
    d->refcount = 1;
    d->n_tensors = n;
    d->tensors = owned;
    d->length = tensors[0]->shape[0];
    return d;
}

TensorDataset *dataset_retain(TensorDataset *d)
{
    if (d)
        d->refcount++;
    return d;
}

void dataset_release(TensorDataset *d)
{
    if (!d || --d->refcount > 0)
        return;
    for (int j = 0; j < d->n_tensors; j++)
        tensor_release(d->tensors[j]);
    free(d->tensors);
    free(d);
}

/* A row index made non-negative, or false + PyTorch's index error. */
static bool dataset_wrap_index(Engine *eng, const TensorDataset *d, int64_t i, int64_t *out)
{
    if (i < -d->length || i >= d->length)
        return engine_fail(eng, "index %lld is out of bounds for dimension 0 with size %lld",
                           (long long)i, (long long)d->length);
    *out = i < 0 ? i + d->length : i;
    return true;
}

/* Rows rows[0..count) of t, copied into a new tensor of shape
 * (count, ...t.shape[1:]), or t.shape[1:] when !keep_dim (count is 1). */
static Tensor *gather_rows(Engine *eng, const Tensor *t, const int64_t *rows, int64_t count,
                           bool keep_dim)
{
    int64_t shape[TENSOR_MAX_DIMS];
    int ndim = 0;
    if (keep_dim)
        shape[ndim++] = count;
    for (int k = 1; k < t->ndim; k++)
        shape[ndim++] = t->shape[k];
    Tensor *out = tensor_empty(eng, t->dtype, ndim, shape);
    if (!out)
        return NULL;
    int64_t row_len = shape_numel(t->ndim - 1, t->shape + 1);
    float *dst = tensor_data(out);
    if (tensor_is_contiguous(t)) {
        const float *src = tensor_data(t);
        for (int64_t r = 0; r < count; r++)
            memcpy(dst + r * row_len, src + rows[r] * row_len, (size_t)row_len * sizeof(float));
    } else {
        for (int64_t r = 0; r < count; r++)
            for (int64_t k = 0; k < row_len; k++)
                dst[r * row_len + k] = tensor_get_flat(t, rows[r] * row_len + k);
    }
    return out;
}

static void release_all(Tensor **out, int n)
{
    for (int j = 0; j < n; j++) {
        tensor_release(out[j]);
        out[j] = NULL;
    }
}

bool dataset_get(Engine *eng, TensorDataset *d, int64_t i, Tensor **out)
{
    int64_t row = 0;
    if (!dataset_wrap_index(eng, d, i, &row))
        return false;
    for (int j = 0; j < d->n_tensors; j++) {
        out[j] = gather_rows(eng, d->tensors[j], &row, 1, false);
        if (!out[j]) {
            release_all(out, j);
            return false;
        }
    }
    return true;
}

bool dataset_gather(Engine *eng, TensorDataset *d, const int64_t *idx, int64_t count,
                    Tensor **out)
{
    if (count < 0)
        return engine_fail(eng, "a batch cannot have %lld items", (long long)count);
    int64_t *rows = malloc((size_t)(count ? count : 1) * sizeof *rows);
    if (!rows)
        return engine_fail(eng, "out of memory");
    bool ok = true;
    for (int64_t r = 0; ok && r < count; r++)
        ok = dataset_wrap_index(eng, d, idx[r], &rows[r]);
    for (int j = 0; ok && j < d->n_tensors; j++) {
        out[j] = gather_rows(eng, d->tensors[j], rows, count, true);
        if (!out[j]) {
            release_all(out, j);
            ok = false;
        }
    }
    free(rows);
    return ok;
}

/* ==================================================================== */
/* BatchOrder                                                             */
/* ==================================================================== */

static void batch_order_identity(BatchOrder *b)
{
    for (int64_t i = 0; i < b->n; i++)
        b->order[i] = i;
}

bool batch_order_init(Engine *eng, BatchOrder *b, int64_t n, int64_t batch_size, bool shuffle)
{
    memset(b, 0, sizeof *b);
    if (batch_size < 1)
        return engine_fail(eng, "batch_size should be a positive integer value, but got "
                           "batch_size=%lld", (long long)batch_size);
    if (n < 0)
        return engine_fail(eng, "a dataset cannot have %lld items", (long long)n);
    if ((uint64_t)n > eng->max_bytes / sizeof(int64_t))
        return engine_fail(eng, "a data loader over %lld items would exceed the memory limit",
                           (long long)n);
    b->order = engine_alloc(eng, (size_t)n * sizeof(int64_t), "data loader order");
    if (!b->order)
        return false;
    b->eng = eng;
    b->n = n;
    b->batch_size = batch_size;
    b->shuffle = shuffle;
    batch_order_identity(b);
    return true;
}

void batch_order_new_epoch(Engine *eng, BatchOrder *b)
{
    batch_order_identity(b);
    if (!b->shuffle)
        return;
    for (int64_t i = b->n - 1; i > 0; i--) { /* Fisher-Yates, as tensor_randperm */
        int64_t j = rng_below(&eng->rng, i + 1);
        int64_t tmp = b->order[i];
        b->order[i] = b->order[j];
        b->order[j] = tmp;
    }
}

int64_t batch_order_num_batches(const BatchOrder *b)
{
    return b->n == 0 ? 0 : (b->n - 1) / b->batch_size + 1;
}

const int64_t *batch_order_batch(const BatchOrder *b, int64_t k, int64_t *count)
{
    if (k < 0 || k >= batch_order_num_batches(b)) {
        *count = 0;
        return NULL;
    }
    int64_t first = k * b->batch_size;
    int64_t left = b->n - first;
    *count = left < b->batch_size ? left : b->batch_size;
    return b->order + first;
}

void batch_order_free(BatchOrder *b)
{
    if (b->order && b->eng)
        engine_free_accounted(b->eng, b->order, (size_t)b->n * sizeof(int64_t));
    b->order = NULL;
    b->n = 0;
}
