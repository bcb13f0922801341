/*
 * test_data.c - CSV and IDX loading, TensorDataset and BatchOrder.
 *
 * Every fixture file is written by the test itself into a fresh directory
 * under /tmp, removed when the group ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data.h"

/* ---- fixture files ---- */

#define MAX_FIXTURES 128

static char fixture_dir[64];
static char *fixture_paths[MAX_FIXTURES];
static int n_fixtures;

static int group_setup(void **state)
{
    (void)state;
    snprintf(fixture_dir, sizeof fixture_dir, "/tmp/nnrepl-test-data-XXXXXX");
    return mkdtemp(fixture_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < n_fixtures; i++) {
        remove(fixture_paths[i]);
        free(fixture_paths[i]);
    }
    return rmdir(fixture_dir);
}

/* The full path of fixture `name` (remembered for removal). */
static const char *fixture_path(const char *name)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", fixture_dir, name);
    for (int i = 0; i < n_fixtures; i++)
        if (strcmp(fixture_paths[i], buf) == 0)
            return fixture_paths[i];
    assert_true(n_fixtures < MAX_FIXTURES);
    fixture_paths[n_fixtures] = strdup(buf);
    assert_non_null(fixture_paths[n_fixtures]);
    return fixture_paths[n_fixtures++];
}

static const char *write_bytes(const char *name, const void *data, size_t len)
{
    const char *path = fixture_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_bytes(name, text, strlen(text));
}

static const char *write_gzip(const char *name, const void *data, size_t len)
{
    const char *path = fixture_path(name);
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    if (len > 0)
        assert_int_equal(gzwrite(gz, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(gz), Z_OK);
    return path;
}

/* A whole file's bytes (malloc'd) and its length. */
static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- checks ---- */

static void check_shape(const Tensor *t, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    int64_t want[4] = {d0, d1, d2, d3};
    assert_int_equal(t->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        assert_int_equal(t->shape[i], want[i]);
}

static void check_values(const Tensor *t, const float *want, int64_t n)
{
    assert_int_equal(tensor_numel(t), n);
    for (int64_t i = 0; i < n; i++) {
        float got = tensor_get_flat(t, i);
        if (isnan(want[i]))
            assert_true(isnan(got));
        else
            assert_true(got == want[i]);
    }
}

/* The message with "<fixture path>" in front of `rest`. */
static void check_error(Engine *eng, const char *path, const char *rest)
{
    char want[ENGINE_ERROR_MAX];
    snprintf(want, sizeof want, "%s%s", path, rest);
    assert_string_equal(engine_error(eng), want);
}

static void check_csv_error(const char *path, char delim, DType dtype, int skiprows,
                            const char *rest)
{
    Engine eng;
    engine_init(&eng);
    Tensor *t = data_load_csv(&eng, path, delim, dtype, skiprows);
    assert_null(t);
    check_error(&eng, path, rest);
    assert_int_equal(eng.bytes_in_use, 0);
}

static Tensor *load_csv(Engine *eng, const char *path, char delim, DType dtype, int skiprows)
{
    Tensor *t = data_load_csv(eng, path, delim, dtype, skiprows);
    if (!t)
        fail_msg("%s", engine_error(eng));
    return t;
}

/* ==================================================================== */
/* CSV                                                                    */
/* ==================================================================== */

static const float table_2x3[] = {1, 2.5f, -3, 4e-3f, 0.5f, 6};

static void test_csv_plain_and_gzip(void **state)
{
    (void)state;
    const char *text = "1,2.5,-3\n4e-3,.5,6.\n";
    const char *paths[] = {
        write_text("plain.csv", text),
        write_gzip("gz.csv.gz", text, strlen(text)),
        /* gzip is recognised by content, not by name */
        write_gzip("gz-named-plain.csv", text, strlen(text)),
        write_text("plain-named-gz.csv.gz", text),
    };
    Engine eng;
    engine_init(&eng);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        Tensor *t = load_csv(&eng, paths[i], ',', DTYPE_FLOAT32, 0);
        check_shape(t, 2, 2, 3, 0, 0);
        assert_int_equal(t->dtype, DTYPE_FLOAT32);
        assert_false(t->requires_grad);
        check_values(t, table_2x3, 6);
        tensor_release(t);
    }
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_csv_line_endings_bom_last_line(void **state)
{
    (void)state;
    const char *paths[] = {
        write_text("crlf.csv", "1,2.5,-3\r\n4e-3,.5,6.\r\n"),
        write_text("bom.csv", "\xEF\xBB\xBF" "1,2.5,-3\n4e-3,.5,6.\n"),
        write_text("no-final-newline.csv", "1,2.5,-3\n4e-3,.5,6."),
        write_text("crlf-no-final.csv", "1,2.5,-3\r\n4e-3,.5,6.\r"),
        write_text("spaces.csv", " 1 , 2.5,\t-3 \n4e-3 ,.5 ,6.\t\n"),
    };
    Engine eng;
    engine_init(&eng);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        Tensor *t = load_csv(&eng, paths[i], ',', DTYPE_FLOAT32, 0);
        check_shape(t, 2, 2, 3, 0, 0);
        check_values(t, table_2x3, 6);
        tensor_release(t);
    }
}

static void test_csv_comments_blank_lines(void **state)
{
    (void)state;
    const char *path = write_text("comments.csv",
                                  "# header comment\n"
                                  "\n"
                                  "1,2.5,-3 # trailing comment\n"
                                  "   \t\n"
                                  "#4,5,6\n"
                                  "\r\n"
                                  "4e-3,.5,6.#x,y\n"
                                  "\n");
    Engine eng;
    engine_init(&eng);
    Tensor *t = load_csv(&eng, path, ',', DTYPE_FLOAT32, 0);
    check_shape(t, 2, 2, 3, 0, 0);
    check_values(t, table_2x3, 6);
    tensor_release(t);
}

static void test_csv_skiprows(void **state)
{
    (void)state;
    const char *path = write_text("header.csv", "a,b,c\n# note\n1,2.5,-3\n4e-3,.5,6.\n");
    Engine eng;
    engine_init(&eng);
    Tensor *t = load_csv(&eng, path, ',', DTYPE_FLOAT32, 1);
    check_shape(t, 2, 2, 3, 0, 0);
    check_values(t, table_2x3, 6);
    tensor_release(t);
    /* skiprows counts physical lines, comments included */
    t = load_csv(&eng, path, ',', DTYPE_FLOAT32, 3);
    check_shape(t, 1, 3, 0, 0, 0);
    check_values(t, table_2x3 + 3, 3);
    tensor_release(t);
    check_csv_error(path, ',', DTYPE_FLOAT32, 0, ":1: could not convert 'a' to float");
    check_csv_error(path, ',', DTYPE_FLOAT32, 4, ": no data");
    check_csv_error(path, ',', DTYPE_FLOAT32, 100, ": no data");
    check_csv_error(path, ',', DTYPE_FLOAT32, -1, ": skiprows must be 0 or more, got -1");
}

static void test_csv_squeeze(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    Tensor *t = load_csv(&eng, write_text("row.csv", "1,2,3\n"), ',', DTYPE_FLOAT32, 0);
    check_shape(t, 1, 3, 0, 0, 0);
    check_values(t, (const float[]){1, 2, 3}, 3);
    tensor_release(t);
    t = load_csv(&eng, write_text("col.csv", "1\n2\n\n3\n4\n"), ',', DTYPE_FLOAT32, 0);
    check_shape(t, 1, 4, 0, 0, 0);
    check_values(t, (const float[]){1, 2, 3, 4}, 4);
    tensor_release(t);
    t = load_csv(&eng, write_text("one.csv", "# just one\n7.25\n"), ',', DTYPE_FLOAT32, 0);
    check_shape(t, 0, 0, 0, 0, 0);
    check_values(t, (const float[]){7.25f}, 1);
    tensor_release(t);
}

static void test_csv_delimiters(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    /* ' ' means any run of spaces and tabs, leading and trailing ignored */
    Tensor *t = load_csv(&eng, write_text("ws.txt", "  1 \t 2.5   -3\t\n4e-3\t.5 6.  \n"),
                         DATA_DELIM_WHITESPACE, DTYPE_FLOAT32, 0);
    check_shape(t, 2, 2, 3, 0, 0);
    check_values(t, table_2x3, 6);
    tensor_release(t);
    t = load_csv(&eng, write_text("semi.csv", "1;2.5;-3\n4e-3;.5;6.\n"), ';', DTYPE_FLOAT32, 0);
    check_values(t, table_2x3, 6);
    tensor_release(t);
    t = load_csv(&eng, write_text("tab.tsv", "1\t2.5\t-3\n4e-3\t.5\t6.\n"), '\t', DTYPE_FLOAT32, 0);
    check_values(t, table_2x3, 6);
    tensor_release(t);
    /* with a real delimiter, two in a row make an empty field */
    const char *tabs = write_text("tab2.tsv", "1\t\t2\n");
    check_csv_error(tabs, '\t', DTYPE_FLOAT32, 0, ":1: could not convert '' to float");
    const char *ok = write_text("ok.csv", "1\n");
    check_csv_error(ok, '#', DTYPE_FLOAT32, 0, ": invalid delimiter 0x23");
    check_csv_error(ok, '\n', DTYPE_FLOAT32, 0, ": invalid delimiter 0x0a");
    check_csv_error(ok, ',', DTYPE_BOOL, 0,
                    ": loadtxt reads torch.float32 or torch.int64, not torch.bool");
}

static void test_csv_number_syntax(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    Tensor *t = load_csv(&eng, write_text("special.csv",
                                          "nan,inf,-inf,+inf\nNaN,Infinity,-INF,+1e2\n"
                                          "1e-400,1e400,-0.0,1E+01\n"),
                         ',', DTYPE_FLOAT32, 0);
    check_shape(t, 2, 3, 4, 0, 0);
    check_values(t, (const float[]){NAN, INFINITY, -INFINITY, INFINITY, NAN, INFINITY,
                                    -INFINITY, 100, 0, INFINITY, 0, 10}, 12);
    tensor_release(t);
    /* What np.loadtxt refuses although strtod would accept it. */
    static const struct {
        const char *name, *text, *error;
    } bad[] = {
        {"hex.csv", "0x10,1\n", ":1: could not convert '0x10' to float"},
        {"nanparen.csv", "nan(1),1\n", ":1: could not convert 'nan(1)' to float"},
        {"underscore.csv", "1_0,1\n", ":1: could not convert '1_0' to float"},
        {"dot.csv", ".,1\n", ":1: could not convert '.' to float"},
        {"exp.csv", "1e,1\n", ":1: could not convert '1e' to float"},
        {"signspace.csv", "- 1,2\n", ":1: could not convert '- 1' to float"},
        {"quoted.csv", "1,\"2\"\n", ":1: could not convert '\"2\"' to float"},
        {"infx.csv", "1,infx\n", ":1: could not convert 'infx' to float"},
        {"twodots.csv", "1.2.3,4\n", ":1: could not convert '1.2.3' to float"},
        {"blankfield.csv", "1, \n", ":1: could not convert ' ' to float"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        check_csv_error(write_text(bad[i].name, bad[i].text), ',', DTYPE_FLOAT32, 0, bad[i].error);
}

static void test_csv_int64(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    Tensor *t = load_csv(&eng, write_text("ints.csv", "1,-2,+3\n16777216,-0,1e3\n 4 ,5.0,6\n"),
                         ',', DTYPE_INT64, 0);
    check_shape(t, 2, 3, 3, 0, 0);
    assert_int_equal(t->dtype, DTYPE_INT64);
    check_values(t, (const float[]){1, -2, 3, 16777216, 0, 1000, 4, 5, 6}, 9);
    assert_false(signbit(tensor_get_flat(t, 4)));
    tensor_release(t);
    check_csv_error(write_text("frac.csv", "1,2\n3,1.5\n"), ',', DTYPE_INT64, 0,
                    ":2: could not convert '1.5' to int");
    check_csv_error(write_text("nanint.csv", "nan\n"), ',', DTYPE_INT64, 0,
                    ":1: could not convert 'nan' to int");
    check_csv_error(write_text("big.csv", "1\n16777217\n"), ',', DTYPE_INT64, 0,
                    ":2: integer 16777217 is too large for an nnl integer tensor "
                    "(values are exact up to 16777216)");
}

static void test_csv_errors(void **state)
{
    (void)state;
    check_csv_error(write_text("short.csv", "1,2,3\n# c\n\n4,5\n"), ',', DTYPE_FLOAT32, 0,
                    ":4: expected 3 values, found 2");
    check_csv_error(write_text("long.csv", "1,2\n3,4,5\n"), ',', DTYPE_FLOAT32, 0,
                    ":2: expected 2 values, found 3");
    /* a wrong count is reported before a bad value in the same row, as NumPy does */
    check_csv_error(write_text("countfirst.csv", "1,2\nabc\n"), ',', DTYPE_FLOAT32, 0,
                    ":2: expected 2 values, found 1");
    check_csv_error(write_text("abc.csv", "1,2\n\n3,abc\n"), ',', DTYPE_FLOAT32, 0,
                    ":3: could not convert 'abc' to float");
    check_csv_error(write_text("trailing.csv", "1,2,\n3,4,\n"), ',', DTYPE_FLOAT32, 0,
                    ":1: could not convert '' to float");
    check_csv_error(write_text("middle.csv", "1,,2\n"), ',', DTYPE_FLOAT32, 0,
                    ":1: could not convert '' to float");
    check_csv_error(write_text("ws-count.txt", "1 2 3\n4  5\n"), DATA_DELIM_WHITESPACE,
                    DTYPE_FLOAT32, 0, ":2: expected 3 values, found 2");
    check_csv_error(write_text("empty.csv", ""), ',', DTYPE_FLOAT32, 0, ": no data");
    check_csv_error(write_text("onlycomments.csv", "# a\n\n  # b\n\r\n"), ',', DTYPE_FLOAT32, 0,
                    ": no data");
    check_csv_error(write_gzip("empty.csv.gz", "", 0), ',', DTYPE_FLOAT32, 0, ": no data");
    check_csv_error(fixture_path("missing.csv"), ',', DTYPE_FLOAT32, 0,
                    ": No such file or directory");
    check_csv_error(fixture_dir, ',', DTYPE_FLOAT32, 0, ": Is a directory");
    check_csv_error("/dev/null", ',', DTYPE_FLOAT32, 0, ": not a regular file");
    /* bytes that must not reach a terminal raw are escaped */
    check_csv_error(write_bytes("ctrl.csv", "1,a\x01\x1b[2J\n", 9), ',', DTYPE_FLOAT32, 0,
                    ":1: could not convert 'a\\x01\\x1b[2J' to float");
    check_csv_error(write_bytes("nul.csv", "1,2\x00" "3\n", 6), ',', DTYPE_FLOAT32, 0,
                    ":1: could not convert '2\\x003' to float");
    check_csv_error(write_text("utf8.csv", "1,\xC3\xA9\n"), ',', DTYPE_FLOAT32, 0,
                    ":1: could not convert '\\xc3\\xa9' to float");
    /* a BOM anywhere but at the start is not data */
    check_csv_error(write_text("bom2.csv", "1\n\xEF\xBB\xBF" "2\n"), ',', DTYPE_FLOAT32, 0,
                    ":2: could not convert '\\xef\\xbb\\xbf2' to float");
    /* a long bad field is shortened */
    char longfield[200];
    memset(longfield, 'x', 100);
    strcpy(longfield + 100, "\n");
    check_csv_error(write_text("longfield.csv", longfield), ',', DTYPE_FLOAT32, 0,
                    ":1: could not convert 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' to float");
    /* errors in gzip files name the line of the uncompressed text */
    const char *text = "1,2\n3,4\n5\n";
    check_csv_error(write_gzip("bad.csv.gz", text, strlen(text)), ',', DTYPE_FLOAT32, 0,
                    ":3: expected 2 values, found 1");
}

/* A gzip stream cut short, and one whose checksum is wrong. */
static void test_csv_corrupt_gzip(void **state)
{
    (void)state;
    char text[4096];
    size_t len = 0;
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%d,%d\n", i, i * 7 % 13);
    const char *full = write_gzip("whole.csv.gz", text, len);
    size_t gz_len;
    unsigned char *gz = read_whole(full, &gz_len);
    check_csv_error(write_bytes("cut.csv.gz", gz, gz_len / 2), ',', DTYPE_FLOAT32, 0,
                    ": corrupt gzip data (unexpected end of file)");
    gz[gz_len - 6] ^= 0xff; /* inside the CRC-32 of the trailer */
    check_csv_error(write_bytes("crc.csv.gz", gz, gz_len), ',', DTYPE_FLOAT32, 0,
                    ": corrupt gzip data (incorrect data check)");
    free(gz);
}

/* Many rows, through both the plain and the gzip reader. */
static void test_csv_many_rows_values(void **state)
{
    (void)state;
    const int rows = 200000;
    size_t cap = (size_t)rows * 40, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < rows; i++)
        len += (size_t)snprintf(text + len, cap - len, "%d,%d.5,%d\n", i, i, -i);
    const char *paths[] = {write_bytes("rows.csv", text, len), write_gzip("rows.csv.gz", text, len)};
    free(text);
    Engine eng;
    engine_init(&eng);
    for (int p = 0; p < 2; p++) {
        Tensor *t = load_csv(&eng, paths[p], ',', DTYPE_FLOAT32, 0);
        check_shape(t, 2, rows, 3, 0, 0);
        const float *d = tensor_data(t);
        for (int i = 0; i < rows; i++) {
            assert_true(d[3 * i] == (float)i);
            assert_true(d[3 * i + 1] == (float)(i + 0.5));
            assert_true(d[3 * i + 2] == (float)-i);
        }
        tensor_release(t);
    }
    assert_int_equal(eng.bytes_in_use, 0);
}

/* One line far longer than any read buffer. */
static void test_csv_long_line(void **state)
{
    (void)state;
    const int n = 150000;
    size_t cap = (size_t)n * 12, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s%d", i ? "," : "", i % 1000);
    len += (size_t)snprintf(text + len, cap - len, "\n");
    const char *path = write_bytes("longline.csv", text, len);
    Engine eng;
    engine_init(&eng);
    Tensor *t = load_csv(&eng, path, ',', DTYPE_INT64, 0);
    check_shape(t, 1, n, 0, 0, 0);
    for (int i = 0; i < n; i++)
        assert_true(tensor_get_flat(t, i) == (float)(i % 1000));
    tensor_release(t);
    /* two such lines, the second one value short */
    memcpy(text + len, text, len);
    char *second_end = text + 2 * len - 1;
    char *last_comma = second_end;
    while (*last_comma != ',')
        last_comma--;
    *last_comma = '\n';
    const char *path2 = write_bytes("twolong.csv", text, (size_t)(last_comma - text) + 1);
    char want[64];
    snprintf(want, sizeof want, ":2: expected %d values, found %d", n, n - 1);
    check_csv_error(path2, ',', DTYPE_INT64, 0, want);
    free(text);
}

/* The memory limit covers the values read and the line buffer. */
static void test_csv_memory_limit(void **state)
{
    (void)state;
    const int rows = 100000;
    size_t cap = (size_t)rows * 16, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < rows; i++)
        len += (size_t)snprintf(text + len, cap - len, "%d,%d\n", i, i);
    const char *path = write_bytes("limit.csv", text, len);
    Engine eng;
    engine_init(&eng);
    engine_set_max_bytes(&eng, 512 * 1024); /* 200,000 floats need 800 KB */
    assert_null(data_load_csv(&eng, path, ',', DTYPE_FLOAT32, 0));
    assert_non_null(strstr(engine_error(&eng), "the data is too large for the memory limit of 0.5 MB"));
    assert_int_equal(strncmp(engine_error(&eng), path, strlen(path)), 0);
    assert_int_equal(eng.bytes_in_use, 0);
    /* a single line longer than the limit, with no newline at all */
    memset(text, '1', len);
    const char *path2 = write_bytes("oneline.csv", text, len);
    assert_null(data_load_csv(&eng, path2, ',', DTYPE_FLOAT32, 0));
    check_error(&eng, path2, ":1: line too long for the memory limit");
    assert_int_equal(eng.bytes_in_use, 0);
    /* a small file needs little memory */
    engine_set_max_bytes(&eng, 64 * 1024);
    Tensor *small = load_csv(&eng, write_text("small.csv", "1,2\n3,4\n5,6\n"), ',', DTYPE_FLOAT32, 0);
    check_shape(small, 2, 3, 2, 0, 0);
    tensor_release(small);
    /* within the limit the same file loads */
    engine_set_max_bytes(&eng, 8 * 1024 * 1024);
    Tensor *t = load_csv(&eng, path, ',', DTYPE_FLOAT32, 0);
    check_shape(t, 2, rows, 2, 0, 0);
    tensor_release(t);
    free(text);
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_csv_interrupt(void **state)
{
    (void)state;
    char text[20000];
    size_t len = 0;
    for (int i = 0; i < 2000; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%d\n", i);
    const char *path = write_bytes("interrupt.csv", text, len);
    Engine eng;
    engine_init(&eng);
    volatile int flag = 1;
    eng.interrupt_flag = &flag;
    assert_null(data_load_csv(&eng, path, ',', DTYPE_FLOAT32, 0));
    check_error(&eng, path, ":1024: interrupted");
    assert_int_equal(eng.bytes_in_use, 0);
    flag = 0;
    Tensor *t = load_csv(&eng, path, ',', DTYPE_FLOAT32, 0);
    check_shape(t, 1, 2000, 0, 0, 0);
    tensor_release(t);
}

/* ==================================================================== */
/* IDX                                                                    */
/* ==================================================================== */

/* An IDX file image: header for `ndims` sizes, then `n` data bytes. */
static size_t make_idx(unsigned char *out, unsigned char type, int ndims, const uint32_t *dims,
                       const unsigned char *data, size_t n)
{
    size_t o = 0;
    out[o++] = 0;
    out[o++] = 0;
    out[o++] = type;
    out[o++] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++) {
        out[o++] = (unsigned char)(dims[i] >> 24);
        out[o++] = (unsigned char)(dims[i] >> 16);
        out[o++] = (unsigned char)(dims[i] >> 8);
        out[o++] = (unsigned char)dims[i];
    }
    if (n > 0)
        memcpy(out + o, data, n);
    return o + n;
}

static void image_bytes(unsigned char *px, size_t n)
{
    for (size_t i = 0; i < n; i++)
        px[i] = (unsigned char)(i * 37 % 256);
    px[0] = 0;
    px[1] = 255;
}

static void check_idx_error(const char *path, bool as_images, const char *rest)
{
    Engine eng;
    engine_init(&eng);
    assert_null(data_load_idx(&eng, path, as_images));
    check_error(&eng, path, rest);
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_idx_images(void **state)
{
    (void)state;
    unsigned char px[3 * 2 * 4], file[64];
    image_bytes(px, sizeof px);
    size_t len = make_idx(file, 0x08, 3, (const uint32_t[]){3, 2, 4}, px, sizeof px);
    const char *paths[] = {write_bytes("images-idx3-ubyte", file, len),
                           write_gzip("images-idx3-ubyte.gz", file, len)};
    Engine eng;
    engine_init(&eng);
    for (int p = 0; p < 2; p++) {
        Tensor *t = data_load_idx(&eng, paths[p], true);
        assert_non_null(t);
        check_shape(t, 4, 3, 1, 2, 4);
        assert_int_equal(t->dtype, DTYPE_FLOAT32);
        for (size_t i = 0; i < sizeof px; i++)
            assert_true(tensor_get_flat(t, (int64_t)i) == (float)px[i] / 255.0f);
        assert_true(tensor_get_flat(t, 0) == 0.0f);
        assert_true(tensor_get_flat(t, 1) == 1.0f);
        tensor_release(t);
        /* not as images: the raw values in the file's shape */
        t = data_load_idx(&eng, paths[p], false);
        assert_non_null(t);
        check_shape(t, 3, 3, 2, 4, 0);
        assert_int_equal(t->dtype, DTYPE_FLOAT32);
        for (size_t i = 0; i < sizeof px; i++)
            assert_true(tensor_get_flat(t, (int64_t)i) == (float)px[i]);
        tensor_release(t);
    }
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_idx_labels_and_other_shapes(void **state)
{
    (void)state;
    const unsigned char labels[] = {9, 0, 0, 3, 255, 7};
    unsigned char file[64];
    size_t len = make_idx(file, 0x08, 1, (const uint32_t[]){6}, labels, sizeof labels);
    const char *paths[] = {write_bytes("labels-idx1-ubyte", file, len),
                           write_gzip("labels-idx1-ubyte.gz", file, len)};
    Engine eng;
    engine_init(&eng);
    for (int p = 0; p < 2; p++) {
        for (int as_images = 0; as_images < 2; as_images++) {
            Tensor *t = data_load_idx(&eng, paths[p], as_images);
            assert_non_null(t);
            check_shape(t, 1, 6, 0, 0, 0);
            assert_int_equal(t->dtype, DTYPE_INT64);
            check_values(t, (const float[]){9, 0, 0, 3, 255, 7}, 6);
            tensor_release(t);
        }
    }
    /* 2-D and 4-D files keep their shape and raw values, as_images or not */
    len = make_idx(file, 0x08, 2, (const uint32_t[]){2, 3}, labels, sizeof labels);
    Tensor *t = data_load_idx(&eng, write_bytes("matrix-idx2-ubyte", file, len), true);
    assert_non_null(t);
    check_shape(t, 2, 2, 3, 0, 0);
    assert_int_equal(t->dtype, DTYPE_FLOAT32);
    check_values(t, (const float[]){9, 0, 0, 3, 255, 7}, 6);
    tensor_release(t);
    len = make_idx(file, 0x08, 4, (const uint32_t[]){1, 2, 1, 3}, labels, sizeof labels);
    t = data_load_idx(&eng, write_gzip("cube-idx4-ubyte.gz", file, len), false);
    assert_non_null(t);
    check_shape(t, 4, 1, 2, 1, 3);
    tensor_release(t);
    /* an empty set is fine */
    len = make_idx(file, 0x08, 3, (const uint32_t[]){0, 28, 28}, NULL, 0);
    t = data_load_idx(&eng, write_bytes("none-idx3-ubyte", file, len), true);
    assert_non_null(t);
    check_shape(t, 4, 0, 1, 28, 28);
    tensor_release(t);
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_idx_errors(void **state)
{
    (void)state;
    unsigned char px[3 * 2 * 4], file[64];
    image_bytes(px, sizeof px);
    /* truncated data, plain and gzip */
    size_t len = make_idx(file, 0x08, 3, (const uint32_t[]){3, 2, 4}, px, 10);
    check_idx_error(write_bytes("trunc-idx3-ubyte", file, len), true,
                    ": truncated: expected 24 bytes of data, found 10");
    check_idx_error(write_gzip("trunc-idx3-ubyte.gz", file, len), true,
                    ": truncated: expected 24 bytes of data, found 10");
    /* MNIST's size claimed, 1000 bytes present */
    unsigned char *big = calloc(1, 2000);
    assert_non_null(big);
    len = make_idx(big, 0x08, 3, (const uint32_t[]){60000, 28, 28}, px, 0) + 1000;
    check_idx_error(write_gzip("short-mnist.gz", big, len), true,
                    ": truncated: expected 47040000 bytes of data, found 1000");
    check_idx_error(write_bytes("short-mnist", big, len), true,
                    ": truncated: expected 47040000 bytes of data, found 1000");
    free(big);
    /* more data than declared */
    len = make_idx(file, 0x08, 3, (const uint32_t[]){3, 2, 4}, px, sizeof px);
    file[len++] = 1;
    check_idx_error(write_bytes("extra-idx3-ubyte", file, len), true,
                    ": more data than the 24 bytes the IDX header declares");
    /* headers */
    len = make_idx(file, 0x08, 3, (const uint32_t[]){3, 2, 4}, px, sizeof px);
    file[0] = 0x1f;
    check_idx_error(write_bytes("magic-idx", file, len), true,
                    ": not an IDX file (magic number 0x1f000803)");
    check_idx_error(write_text("text-idx", "1,2,3\n"), true,
                    ": not an IDX file (magic number 0x312c322c)");
    check_idx_error(write_bytes("tiny-idx", "\0\0", 2), true, ": not an IDX file (2 bytes)");
    check_idx_error(write_bytes("empty-idx", "", 0), false, ": not an IDX file (0 bytes)");
    len = make_idx(file, 0x0D, 1, (const uint32_t[]){6}, px, 24);
    check_idx_error(write_bytes("float-idx", file, len), false,
                    ": IDX data of type 0x0d (float) is not supported; only 0x08 (unsigned byte) is");
    len = make_idx(file, 0x07, 1, (const uint32_t[]){6}, px, 6);
    check_idx_error(write_bytes("type7-idx", file, len), false,
                    ": not an IDX file (magic number 0x00000701)");
    len = make_idx(file, 0x08, 0, NULL, px, 6);
    check_idx_error(write_bytes("dims0-idx", file, len), false,
                    ": IDX data with 0 dimensions is not supported (1 to 4)");
    len = make_idx(file, 0x08, 5, (const uint32_t[]){1, 1, 1, 1, 6}, px, 6);
    check_idx_error(write_bytes("dims5-idx", file, len), false,
                    ": IDX data with 5 dimensions is not supported (1 to 4)");
    len = make_idx(file, 0x08, 3, (const uint32_t[]){3, 2, 4}, px, 0);
    check_idx_error(write_bytes("header-idx", file, len - 3), true,
                    ": truncated: the IDX header is incomplete");
    check_idx_error(write_gzip("header-idx.gz", file, len - 3), true,
                    ": truncated: the IDX header is incomplete");
    check_idx_error(fixture_path("missing-idx"), true, ": No such file or directory");
    check_idx_error(fixture_dir, true, ": Is a directory");
    /* sizes beyond any memory limit */
    len = make_idx(file, 0x08, 3, (const uint32_t[]){0xffffffffu, 0xffffffffu, 2}, px, 0);
    check_idx_error(write_gzip("huge-idx.gz", file, len), true, ": IDX sizes too large");
    len = make_idx(file, 0x08, 3, (const uint32_t[]){100000000u, 28, 28}, px, 24);
    const char *path = write_gzip("big-idx.gz", file, len);
    Engine eng;
    engine_init(&eng);
    assert_null(data_load_idx(&eng, path, true));
    check_error(&eng, path, ": tensor too large: 299072.3 MB would exceed the memory limit of 1024.0 MB");
}

static void test_idx_corrupt_gzip(void **state)
{
    (void)state;
    unsigned char px[600], file[700];
    image_bytes(px, sizeof px);
    size_t len = make_idx(file, 0x08, 3, (const uint32_t[]){6, 10, 10}, px, sizeof px);
    size_t gz_len;
    unsigned char *gz = read_whole(write_gzip("ok-idx.gz", file, len), &gz_len);
    gz[gz_len - 6] ^= 0xff; /* the CRC-32 */
    check_idx_error(write_bytes("crc-idx.gz", gz, gz_len), true,
                    ": corrupt gzip data (incorrect data check)");
    gz[gz_len - 6] ^= 0xff;
    /* the stream cut inside its trailer: all data present, end missing */
    check_idx_error(write_bytes("notrailer-idx.gz", gz, gz_len - 4), true,
                    ": corrupt gzip data (unexpected end of file)");
    /* cut in the middle of the compressed data */
    Engine eng;
    engine_init(&eng);
    const char *cut = write_bytes("cut-idx.gz", gz, gz_len / 2);
    assert_null(data_load_idx(&eng, cut, true));
    assert_int_equal(strncmp(engine_error(&eng), cut, strlen(cut)), 0);
    assert_int_equal(eng.bytes_in_use, 0);
    free(gz);
}

/* ==================================================================== */
/* TensorDataset                                                          */
/* ==================================================================== */

/* x (5, 3) float32 with x[i][k] = 10 i + k, y (5) int64 with y[i] = i % 2. */
static TensorDataset *make_dataset(Engine *eng)
{
    float xv[15], yv[5];
    for (int i = 0; i < 5; i++) {
        for (int k = 0; k < 3; k++)
            xv[3 * i + k] = (float)(10 * i + k);
        yv[i] = (float)(i % 2);
    }
    Tensor *x = tensor_from_floats(eng, DTYPE_FLOAT32, 2, (const int64_t[]){5, 3}, xv, 15);
    Tensor *y = tensor_from_floats(eng, DTYPE_INT64, 1, (const int64_t[]){5}, yv, 5);
    assert_non_null(x);
    assert_non_null(y);
    TensorDataset *d = dataset_new(eng, 2, (Tensor *const[]){x, y});
    assert_non_null(d);
    /* the dataset holds its own references */
    tensor_release(x);
    tensor_release(y);
    return d;
}

static void test_dataset_new_and_get(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    TensorDataset *d = make_dataset(&eng);
    assert_int_equal(d->length, 5);
    assert_int_equal(d->n_tensors, 2);
    Tensor *item[2];
    assert_true(dataset_get(&eng, d, 3, item));
    check_shape(item[0], 1, 3, 0, 0, 0);
    assert_int_equal(item[0]->dtype, DTYPE_FLOAT32);
    check_values(item[0], (const float[]){30, 31, 32}, 3);
    check_shape(item[1], 0, 0, 0, 0, 0);
    assert_int_equal(item[1]->dtype, DTYPE_INT64);
    check_values(item[1], (const float[]){1}, 1);
    /* a copy: changing it leaves the dataset alone */
    tensor_set_flat(item[0], 0, -1.0f);
    assert_true(tensor_get_flat(d->tensors[0], 9) == 30.0f);
    tensor_release(item[0]);
    tensor_release(item[1]);
    assert_true(dataset_get(&eng, d, -1, item));
    check_values(item[0], (const float[]){40, 41, 42}, 3);
    tensor_release(item[0]);
    tensor_release(item[1]);
    assert_false(dataset_get(&eng, d, 5, item));
    assert_string_equal(engine_error(&eng), "index 5 is out of bounds for dimension 0 with size 5");
    assert_false(dataset_get(&eng, d, -6, item));
    assert_string_equal(engine_error(&eng), "index -6 is out of bounds for dimension 0 with size 5");
    assert_ptr_equal(dataset_retain(d), d);
    dataset_release(d);
    dataset_release(d);
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_dataset_new_errors(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    Tensor *a = tensor_zeros(&eng, DTYPE_FLOAT32, 2, (const int64_t[]){4, 2});
    Tensor *b = tensor_zeros(&eng, DTYPE_INT64, 1, (const int64_t[]){3});
    Tensor *s = tensor_scalar(&eng, DTYPE_FLOAT32, 1.0);
    assert_null(dataset_new(&eng, 2, (Tensor *const[]){a, b}));
    assert_string_equal(engine_error(&eng), "Size mismatch between tensors");
    assert_null(dataset_new(&eng, 1, (Tensor *const[]){s}));
    assert_string_equal(engine_error(&eng), "TensorDataset: tensors need at least one dimension");
    assert_null(dataset_new(&eng, 0, NULL));
    assert_string_equal(engine_error(&eng), "TensorDataset needs at least one tensor");
    assert_int_equal(a->refcount, 1);
    assert_int_equal(b->refcount, 1);
    tensor_release(a);
    tensor_release(b);
    tensor_release(s);
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_dataset_gather(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    TensorDataset *d = make_dataset(&eng);
    Tensor *batch[2];
    assert_true(dataset_gather(&eng, d, (const int64_t[]){4, 0, 2, 0}, 4, batch));
    check_shape(batch[0], 2, 4, 3, 0, 0);
    assert_int_equal(batch[0]->dtype, DTYPE_FLOAT32);
    check_values(batch[0], (const float[]){40, 41, 42, 0, 1, 2, 20, 21, 22, 0, 1, 2}, 12);
    check_shape(batch[1], 1, 4, 0, 0, 0);
    assert_int_equal(batch[1]->dtype, DTYPE_INT64);
    check_values(batch[1], (const float[]){0, 0, 0, 0}, 4);
    tensor_release(batch[0]);
    tensor_release(batch[1]);
    assert_true(dataset_gather(&eng, d, NULL, 0, batch));
    check_shape(batch[0], 2, 0, 3, 0, 0);
    check_shape(batch[1], 1, 0, 0, 0, 0);
    tensor_release(batch[0]);
    tensor_release(batch[1]);
    assert_false(dataset_gather(&eng, d, (const int64_t[]){1, 7}, 2, batch));
    assert_string_equal(engine_error(&eng), "index 7 is out of bounds for dimension 0 with size 5");
    dataset_release(d);
    assert_int_equal(eng.bytes_in_use, 0);
}

/* A non-contiguous dataset tensor: the transpose of a (3, 4) matrix. */
static void test_dataset_gather_strided(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    float v[12];
    for (int i = 0; i < 12; i++)
        v[i] = (float)i;
    Tensor *m = tensor_from_floats(&eng, DTYPE_FLOAT32, 2, (const int64_t[]){3, 4}, v, 12);
    Tensor *t = tensor_alias(&eng, m); /* made into m.T (4, 3) by hand */
    t->shape[0] = 4;
    t->shape[1] = 3;
    t->stride[0] = 1;
    t->stride[1] = 4;
    assert_false(tensor_is_contiguous(t));
    TensorDataset *d = dataset_new(&eng, 1, &t);
    assert_non_null(d);
    Tensor *batch;
    assert_true(dataset_gather(&eng, d, (const int64_t[]){3, 1}, 2, &batch));
    check_shape(batch, 2, 2, 3, 0, 0);
    check_values(batch, (const float[]){3, 7, 11, 1, 5, 9}, 6);
    tensor_release(batch);
    dataset_release(d);
    tensor_release(t);
    tensor_release(m);
    assert_int_equal(eng.bytes_in_use, 0);
}

/* ==================================================================== */
/* BatchOrder                                                             */
/* ==================================================================== */

static void test_batch_order_sequential(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    BatchOrder b;
    assert_true(batch_order_init(&eng, &b, 10, 3, false));
    assert_int_equal(batch_order_num_batches(&b), 4);
    Rng before = eng.rng;
    for (int epoch = 0; epoch < 2; epoch++) {
        batch_order_new_epoch(&eng, &b);
        int64_t next = 0;
        for (int64_t k = 0; k < 4; k++) {
            int64_t count;
            const int64_t *idx = batch_order_batch(&b, k, &count);
            assert_int_equal(count, k < 3 ? 3 : 1); /* the partial batch is kept */
            for (int64_t i = 0; i < count; i++)
                assert_int_equal(idx[i], next++);
        }
        assert_int_equal(next, 10);
    }
    /* no shuffling, no draws from the generator */
    assert_memory_equal(&before, &eng.rng, sizeof before);
    int64_t count = 5;
    assert_null(batch_order_batch(&b, 4, &count));
    assert_int_equal(count, 0);
    assert_null(batch_order_batch(&b, -1, &count));
    batch_order_free(&b);
    batch_order_free(&b);
    assert_true(batch_order_init(&eng, &b, 6, 3, false));
    assert_int_equal(batch_order_num_batches(&b), 2);
    batch_order_free(&b);
    assert_true(batch_order_init(&eng, &b, 0, 3, true));
    assert_int_equal(batch_order_num_batches(&b), 0);
    batch_order_new_epoch(&eng, &b);
    batch_order_free(&b);
    assert_true(batch_order_init(&eng, &b, 2, 100, false));
    assert_int_equal(batch_order_num_batches(&b), 1);
    batch_order_free(&b);
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_batch_order_errors(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    BatchOrder b;
    assert_false(batch_order_init(&eng, &b, 10, 0, true));
    assert_string_equal(engine_error(&eng),
                        "batch_size should be a positive integer value, but got batch_size=0");
    batch_order_free(&b);
    assert_false(batch_order_init(&eng, &b, 10, -2, false));
    assert_false(batch_order_init(&eng, &b, -1, 2, false));
    assert_string_equal(engine_error(&eng), "a dataset cannot have -1 items");
    engine_set_max_bytes(&eng, 1000);
    assert_false(batch_order_init(&eng, &b, 1000, 2, false));
    assert_non_null(strstr(engine_error(&eng), "memory limit"));
    batch_order_free(&b);
    assert_int_equal(eng.bytes_in_use, 0);
}

/* The order of one shuffled epoch, checked to visit every index once. */
static void shuffled_epoch(Engine *eng, BatchOrder *b, int64_t *out)
{
    batch_order_new_epoch(eng, b);
    int64_t n = b->n;
    char *seen = calloc((size_t)n, 1);
    assert_non_null(seen);
    int64_t pos = 0;
    for (int64_t k = 0; k < batch_order_num_batches(b); k++) {
        int64_t count;
        const int64_t *idx = batch_order_batch(b, k, &count);
        assert_int_equal(count, k == batch_order_num_batches(b) - 1 && n % b->batch_size
                                    ? n % b->batch_size : b->batch_size);
        for (int64_t i = 0; i < count; i++) {
            assert_true(idx[i] >= 0 && idx[i] < n);
            assert_false(seen[idx[i]]);
            seen[idx[i]] = 1;
            out[pos++] = idx[i];
        }
    }
    assert_int_equal(pos, n);
    free(seen);
}

static void test_batch_order_shuffle(void **state)
{
    (void)state;
    enum { N = 1000, EPOCHS = 3 };
    static int64_t first[EPOCHS][N], second[EPOCHS][N];
    for (int run = 0; run < 2; run++) {
        Engine eng;
        engine_init(&eng);
        rng_seed(&eng.rng, 42);
        BatchOrder b;
        assert_true(batch_order_init(&eng, &b, N, 64, true));
        for (int e = 0; e < EPOCHS; e++)
            shuffled_epoch(&eng, &b, run == 0 ? first[e] : second[e]);
        batch_order_free(&b);
        assert_int_equal(eng.bytes_in_use, 0);
    }
    /* the same seed gives the same epochs; epochs differ from each other
     * and from the identity */
    assert_memory_equal(first, second, sizeof first);
    assert_memory_not_equal(first[0], first[1], sizeof first[0]);
    assert_memory_not_equal(first[1], first[2], sizeof first[0]);
    int64_t identity[N];
    for (int i = 0; i < N; i++)
        identity[i] = i;
    assert_memory_not_equal(first[0], identity, sizeof identity);
    /* another seed, another order */
    Engine eng;
    engine_init(&eng);
    rng_seed(&eng.rng, 43);
    BatchOrder b;
    assert_true(batch_order_init(&eng, &b, N, 64, true));
    int64_t other[N];
    shuffled_epoch(&eng, &b, other);
    assert_memory_not_equal(first[0], other, sizeof other);
    batch_order_free(&b);
}

/* An epoch's order is the permutation torch.randperm(n) gives from the
 * same generator state. */
static void test_batch_order_matches_randperm(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    rng_seed(&eng.rng, 7);
    Tensor *perm = tensor_randperm(&eng, 100);
    assert_non_null(perm);
    rng_seed(&eng.rng, 7);
    BatchOrder b;
    assert_true(batch_order_init(&eng, &b, 100, 7, true));
    batch_order_new_epoch(&eng, &b);
    for (int i = 0; i < 100; i++)
        assert_int_equal(b.order[i], (int64_t)tensor_get_flat(perm, i));
    batch_order_free(&b);
    tensor_release(perm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_plain_and_gzip),
        cmocka_unit_test(test_csv_line_endings_bom_last_line),
        cmocka_unit_test(test_csv_comments_blank_lines),
        cmocka_unit_test(test_csv_skiprows),
        cmocka_unit_test(test_csv_squeeze),
        cmocka_unit_test(test_csv_delimiters),
        cmocka_unit_test(test_csv_number_syntax),
        cmocka_unit_test(test_csv_int64),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_corrupt_gzip),
        cmocka_unit_test(test_csv_many_rows_values),
        cmocka_unit_test(test_csv_long_line),
        cmocka_unit_test(test_csv_memory_limit),
        cmocka_unit_test(test_csv_interrupt),
        cmocka_unit_test(test_idx_images),
        cmocka_unit_test(test_idx_labels_and_other_shapes),
        cmocka_unit_test(test_idx_errors),
        cmocka_unit_test(test_idx_corrupt_gzip),
        cmocka_unit_test(test_dataset_new_and_get),
        cmocka_unit_test(test_dataset_new_errors),
        cmocka_unit_test(test_dataset_gather),
        cmocka_unit_test(test_dataset_gather_strided),
        cmocka_unit_test(test_batch_order_sequential),
        cmocka_unit_test(test_batch_order_errors),
        cmocka_unit_test(test_batch_order_shuffle),
        cmocka_unit_test(test_batch_order_matches_randperm),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
