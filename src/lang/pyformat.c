/*
 * pyformat.c - Python, PyTorch and NumPy printing, byte for byte.
 *
 * The file follows the order of pyformat.h:
 *   1. decimal digits of a double (the three dtoa modes CPython uses)
 *   2. CPython's float-to-string (PyOS_double_to_string) and repr
 *   3. the format-spec mini-language (parse, then int/float/str/bool)
 *   4. round(), int(), //, % on floats
 *   5. PyTorch's tensor repr
 *   6. NumPy's array str/repr and float32 scalars
 *
 * Digits always come from glibc's printf ("%.*e", "%.*f"), which rounds the
 * exact binary value correctly, half to even on exact ties - the same digits
 * David Gay's dtoa gives CPython and Dragon4 gives NumPy. The shortest
 * round-tripping digits are searched with strtod/strtof.
 */
#include "pyformat.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8_codec.h"

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static void set_error(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t errsz, const char *fmt, ...)
{
    if (err == NULL || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static void append_spaces(StrBuf *out, int64_t n)
{
    if (n > 0)
        sb_repeat(out, ' ', (size_t)n);
}

/* ------------------------------------------------------------------------
 * UTF-8 (format specs and str values count code points, as Python does)
 * ---------------------------------------------------------------------- */

/* Decode the code point at s; a byte that does not start a valid sequence
 * stands for itself. Returns the bytes used (0 at the terminating NUL). */
static size_t next_code_point(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] == 0) {
        *cp = 0;
        return 0;
    }
    int extra = 0; /* continuation bytes */
    if (u[0] >= 0xC2 && u[0] <= 0xDF)
        extra = 1;
    else if (u[0] >= 0xE0 && u[0] <= 0xEF)
        extra = 2;
    else if (u[0] >= 0xF0 && u[0] <= 0xF4)
        extra = 3;
    static const unsigned lead_mask[4] = {0xFF, 0x1F, 0x0F, 0x07};
    uint32_t v = u[0] & lead_mask[extra];
    for (int i = 1; i <= extra; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = u[0];
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3Fu);
    }
    *cp = v;
    return (size_t)extra + 1;
}

/* ------------------------------------------------------------------------
 * 1. Decimal digits of a finite double x >= 0
 *
 * As in dtoa: the digits carry no trailing zeros and x ~= 0.DIGITS x 10^decpt.
 * Zero is "0" with decpt 1.
 * ---------------------------------------------------------------------- */

/* "d.ddde+XX" (printf %e of a positive number) -> digits and decpt. */
static void parse_printf_e(const char *text, StrBuf *digits, int64_t *decpt)
{
    const char *p = text;
    for (; *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            sb_append_char(digits, *p);
    *decpt = strtol(p + 1, NULL, 10) + 1;
}

static void strip_trailing_zeros(StrBuf *digits)
{
    while (digits->len > 0 && digits->data[digits->len - 1] == '0')
        digits->data[--digits->len] = '\0';
}

/* dtoa mode 2: `ndigits` (>= 1) significant digits, correctly rounded. */
static void digits_significant(StrBuf *digits, double x, int64_t ndigits, int64_t *decpt)
{
    if (x == 0) {
        sb_append(digits, "0");
        *decpt = 1;
        return;
    }
    StrBuf text = STRBUF_INIT;
    sb_printf(&text, "%.*e", (int)(ndigits - 1), x);
    parse_printf_e(sb_str(&text), digits, decpt);
    sb_free(&text);
    strip_trailing_zeros(digits);
}

/* dtoa mode 3: rounded to `ndigits` (>= 0) places after the point. A value
 * that rounds to zero gives no digits and decpt = -ndigits, as dtoa does. */
static void digits_fixed(StrBuf *digits, double x, int64_t ndigits, int64_t *decpt)
{
    if (x == 0) {
        sb_append(digits, "0");
        *decpt = 1;
        return;
    }
    StrBuf text = STRBUF_INIT;
    sb_printf(&text, "%.*f", (int)ndigits, x);
    const char *s = sb_str(&text);
    int64_t point = (int64_t)strcspn(s, "."); /* integer digits */
    for (; *s; s++) {
        if (*s == '.')
            continue;
        if (*s == '0' && digits->len == 0) { /* a leading zero moves the point */
            point--;
            continue;
        }
        sb_append_char(digits, *s);
    }
    sb_free(&text);
    strip_trailing_zeros(digits);
    *decpt = digits->len == 0 ? -ndigits : point;
}

/* Does mantissa x 10^exp10 (mantissa an integer) read back as x? */
static bool reads_back(int64_t mantissa, int exp10, double x, bool single)
{
    char text[48];
    snprintf(text, sizeof text, "%" PRId64 "e%d", mantissa, exp10);
    if (single)
        return strtof(text, NULL) == (float)x;
    return strtod(text, NULL) == x;
}

/* The shortest digits that read back as x (> 0, finite) as a double, or with
 * `single` as a float32; of equally short candidates the nearest to x. This
 * is what CPython's repr (dtoa mode 0) and NumPy's "unique" Dragon4 print.
 *
 * For each length n the correctly rounded n-digit decimal is the nearest
 * candidate; when it does not read back, the decimal on the other side of x
 * may still (the interval that reads back is lopsided at powers of two), so
 * both neighbours are tried. buf gets at least 18 bytes. */
static int shortest_digits(double x, bool single, char *buf, int64_t *decpt)
{
    int max_digits = single ? 9 : 17;
    int64_t low = 1; /* n-digit mantissas are [low, 10 * low) */
    for (int n = 1; n <= max_digits; n++, low *= 10) {
        char text[48];
        snprintf(text, sizeof text, "%.*e", n - 1, x);
        int64_t nearest = 0;
        const char *p = text;
        for (; *p != 'e'; p++)
            if (*p >= '0' && *p <= '9')
                nearest = nearest * 10 + (*p - '0');
        int nearest_exp = (int)strtol(p + 1, NULL, 10); /* exponent of the first digit */

        for (int c = 0; c < 3; c++) {
            int64_t m = c == 0 ? nearest : c == 1 ? nearest + 1 : nearest - 1;
            int e = nearest_exp;
            if (m == 10 * low) {
                m = low;
                e++;
            } else if (m < low) {
                m = 10 * low - 1;
                e--;
            }
            /* at the full length the nearest always reads back */
            if (!reads_back(m, e - (n - 1), x, single) && !(n == max_digits && c == 0))
                continue;
            int len = snprintf(buf, 18, "%" PRId64, m);
            while (len > 1 && buf[len - 1] == '0')
                buf[--len] = '\0';
            *decpt = e + 1;
            return len;
        }
    }
    return 0; /* not reached */
}

/* ------------------------------------------------------------------------
 * 2. CPython's PyOS_double_to_string (format_float_short)
 *
 * ---------------------------------------------------------------------- */

/* Signs asked for by a format spec are added later, by append_number(). */
enum {
    DTSF_ADD_DOT_0 = 2,  /* "1" -> "1.0"; 'g' also switches to exponent one digit earlier */
    DTSF_ALT = 4,        /* '#': keep the point and trailing zeros */
    DTSF_NO_NEG_0 = 8,   /* 'z': a negative number that rounds to zero prints as 0 */
};

/* The digits dtoa gives CPython for a format code: mode 2 (significant
 * digits) for 'e' and 'g', mode 3 (places after the point) for 'f', mode 0
 * (shortest) for 'r'. */
static void float_digits(StrBuf *digits, double ax, char code, int64_t precision, int64_t *decpt)
{
    if (code == 'e' || code == 'g') {
        digits_significant(digits, ax, precision, decpt);
    } else if (code == 'f') {
        digits_fixed(digits, ax, precision, decpt);
    } else if (ax == 0) {
        sb_append(digits, "0");
        *decpt = 1;
    } else {
        char buf[20];
        shortest_digits(ax, false, buf, decpt);
        sb_append(digits, buf);
    }
}

/* format_float_short's layout: the slice [vstart, vend) of the digits padded
 * with zeros on both sides, with the point after position decpt (or after
 * the first digit and an exponent). */
static void append_float_layout(StrBuf *out, bool negative, const char *d, int64_t ndigits,
                                int64_t decpt, char code, int64_t precision, unsigned flags,
                                bool upper)
{
    bool add_dot_0 = flags & DTSF_ADD_DOT_0, alt = flags & DTSF_ALT;
    bool use_exp = false;
    int64_t vend = ndigits;
    switch (code) {
    case 'e':
        use_exp = true;
        vend = precision;
        break;
    case 'f':
        vend = decpt + precision;
        break;
    case 'g':
        use_exp = decpt <= -4 || decpt > (add_dot_0 ? precision - 1 : precision);
        if (alt)
            vend = precision;
        break;
    default: /* 'r': exponent below 1e-4 and from 1e16 */
        use_exp = decpt <= -4 || decpt > 16;
        break;
    }
    int64_t exponent = 0;
    if (use_exp) {
        exponent = decpt - 1;
        decpt = 1;
    }
    int64_t vstart = decpt <= 0 ? decpt - 1 : 0;
    if (!use_exp && add_dot_0)
        vend = vend > decpt ? vend : decpt + 1;
    else
        vend = vend > decpt ? vend : decpt;

    size_t start_len = out->len;
    if (negative)
        sb_append_char(out, '-');
    if (decpt <= 0) {
        sb_repeat(out, '0', (size_t)(decpt - vstart));
        sb_append_char(out, '.');
        sb_repeat(out, '0', (size_t)(0 - decpt));
    } else {
        sb_repeat(out, '0', (size_t)(0 - vstart));
    }
    if (0 < decpt && decpt <= ndigits) {
        sb_append_n(out, d, (size_t)decpt);
        sb_append_char(out, '.');
        sb_append_n(out, d + decpt, (size_t)(ndigits - decpt));
    } else {
        sb_append_n(out, d, (size_t)ndigits);
    }
    if (ndigits < decpt) {
        sb_repeat(out, '0', (size_t)(decpt - ndigits));
        sb_append_char(out, '.');
        sb_repeat(out, '0', (size_t)(vend - decpt));
    } else {
        sb_repeat(out, '0', (size_t)(vend - ndigits));
    }
    if (out->len > start_len && out->data[out->len - 1] == '.' && !alt)
        out->data[--out->len] = '\0';
    if (use_exp)
        sb_printf(out, "%c%+.02" PRId64, upper ? 'E' : 'e', exponent);
}

/* CPython's PyOS_double_to_string: x with format code 'e' 'f' 'g' 'r' (upper
 * case 'E' 'F' 'G' for "1E+10", "INF", "NAN"), a precision (ignored by 'r')
 * and DTSF_* flags. */
static void py_double_to_string(StrBuf *out, double x, char format_code, int64_t precision,
                                unsigned flags)
{
    bool upper = format_code >= 'A' && format_code <= 'Z';
    char code = upper ? (char)(format_code - 'A' + 'a') : format_code;
    if (isnan(x)) { /* the sign of a nan is never shown */
        sb_append(out, upper ? "NAN" : "nan");
        return;
    }
    bool negative = signbit(x) != 0;
    if (isinf(x)) {
        sb_append(out, negative ? "-" : "");
        sb_append(out, upper ? "INF" : "inf");
        return;
    }
    if (code == 'e')
        precision++; /* digits after the point -> significant digits */
    if (code == 'g' && precision == 0)
        precision = 1;
    StrBuf digits = STRBUF_INIT;
    int64_t decpt = 1;
    float_digits(&digits, fabs(x), code, precision, &decpt);
    const char *d = sb_str(&digits);
    int64_t ndigits = (int64_t)digits.len;
    if ((flags & DTSF_NO_NEG_0) && (ndigits == 0 || (ndigits == 1 && d[0] == '0')))
        negative = false;
    append_float_layout(out, negative, d, ndigits, decpt, code, precision, flags, upper);
    sb_free(&digits);
}

void py_format_float_repr(StrBuf *out, double x)
{
    py_double_to_string(out, x, 'r', 0, DTSF_ADD_DOT_0);
}

void py_format_int(StrBuf *out, int64_t v)
{
    sb_printf(out, "%" PRId64, v);
}

/* ------------------------------------------------------------------------
 * 3. The format-spec mini-language (CPython's Python/formatter_unicode.c)
 *
 *   [[fill]align][sign][z][#][0][width][grouping][.precision][type]
 *
 * Parsing is independent of the value's type: the fill and alignment that a
 * bare '0' implies (numbers: '0' fill, '=' alignment; strings: '0' fill, left
 * alignment) are decided when formatting.
 * ---------------------------------------------------------------------- */

static bool is_align(uint32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; }

/* Python writes a presentation type as 'x' when it is printable ASCII, else
 * as '\xNN'. */
static void describe_type(uint32_t type, char *buf, size_t size)
{
    if (type > 32 && type < 128)
        snprintf(buf, size, "'%c'", (char)type);
    else
        snprintf(buf, size, "'\\x%x'", (unsigned)type);
}

/* Digits of a width or precision; false on overflow (Python's
 * "Too many decimal digits in format string"). */
static bool parse_spec_integer(const char **p, int64_t *value, int *consumed)
{
    int64_t acc = 0;
    *consumed = 0;
    while (**p >= '0' && **p <= '9') {
        int digit = **p - '0';
        if (acc > (INT64_MAX - digit) / 10)
            return false;
        acc = acc * 10 + digit;
        (*p)++;
        (*consumed)++;
    }
    *value = acc;
    return true;
}

/* [[fill]align]: the fill is any one character, recognised by the
 * alignment after it. Returns the text after them. */
static const char *parse_fill_align(const char *p, FormatSpec *f)
{
    uint32_t first, second = 0;
    size_t first_len = next_code_point(p, &first);
    if (first_len > 0)
        next_code_point(p + first_len, &second);
    if (first_len > 0 && is_align(second)) {
        memcpy(f->fill, p, first_len);
        f->align = (char)second;
        return p + first_len + 1;
    }
    if (is_align(first)) {
        f->align = (char)first;
        return p + 1;
    }
    return p;
}

/* ',' goes with decimal presentation types only; '_' also with b o x X
 * (every four digits there). An omitted type is checked when formatting. */
static bool grouping_allowed(char grouping, uint32_t type)
{
    switch (type) {
    case 0: case 'd': case 'e': case 'f': case 'g': case 'E': case 'G': case '%': case 'F':
        return true;
    case 'b': case 'o': case 'x': case 'X':
        return grouping == '_';
    default:
        return false;
    }
}

bool py_parse_format_spec_for(const char *spec, const char *type_name, FormatSpec *out,
                              char *err, size_t errsz)
{
    FormatSpec f = {.width = -1, .precision = -1};
    f.empty = *spec == '\0';
    const char *p = parse_fill_align(spec, &f);
    if (*p == '+' || *p == '-' || *p == ' ')
        f.sign = *p++;
    if (*p == 'z') {
        f.no_neg_zero = true;
        p++;
    }
    if (*p == '#') {
        f.alternate = true;
        p++;
    }
    if (f.fill[0] == '\0' && *p == '0') {
        f.zero_pad = true;
        p++;
    }
    int consumed;
    if (!parse_spec_integer(&p, &f.width, &consumed)) {
        set_error(err, errsz, "Too many decimal digits in format string");
        return false;
    }
    if (consumed == 0)
        f.width = -1;
    if (*p == ',') {
        f.grouping = ',';
        p++;
    }
    if (*p == '_') {
        if (f.grouping) {
            set_error(err, errsz, "Cannot specify both ',' and '_'.");
            return false;
        }
        f.grouping = '_';
        p++;
    }
    if (*p == ',' && f.grouping == '_') {
        set_error(err, errsz, "Cannot specify both ',' and '_'.");
        return false;
    }
    if (*p == '.') {
        p++;
        if (!parse_spec_integer(&p, &f.precision, &consumed)) {
            set_error(err, errsz, "Too many decimal digits in format string");
            return false;
        }
        if (consumed == 0) {
            set_error(err, errsz, "Format specifier missing precision");
            return false;
        }
    }
    uint32_t type = 0;
    size_t type_len = next_code_point(p, &type);
    if (type_len > 0 && p[type_len] != '\0') {
        if (type_name)
            set_error(err, errsz, "Invalid format specifier '%s' for object of type '%s'", spec,
                      type_name);
        else
            set_error(err, errsz, "Invalid format specifier '%s'", spec);
        return false;
    }
    f.type = type;
    if (f.grouping && !grouping_allowed(f.grouping, type)) {
        char t[16];
        describe_type(type, t, sizeof t);
        set_error(err, errsz, "Cannot specify '%c' with %s.", f.grouping, t);
        return false;
    }
    if (f.width > PY_FORMAT_MAX_WIDTH || f.precision > PY_FORMAT_MAX_WIDTH) {
        set_error(err, errsz, "format width or precision too large (at most %d)",
                  PY_FORMAT_MAX_WIDTH);
        return false;
    }
    *out = f;
    return true;
}

bool py_parse_format_spec(const char *spec, FormatSpec *out, char *err, size_t errsz)
{
    return py_parse_format_spec_for(spec, NULL, out, err, errsz);
}

static void unknown_format_code(uint32_t type, const char *type_name, char *err, size_t errsz)
{
    char t[16];
    describe_type(type, t, sizeof t);
    set_error(err, errsz, "Unknown format code %s for object of type '%s'", t, type_name);
}

/* The fill and alignment in effect: a bare '0' before the width means '0'
 * fill, and for numbers '=' alignment (sign first, then zeros). */
typedef struct Layout {
    const char *fill; /* UTF-8 */
    char align;
} Layout;

static Layout resolve_layout(const FormatSpec *spec, char default_align)
{
    Layout l;
    l.fill = spec->fill[0] ? spec->fill : spec->zero_pad ? "0" : " ";
    if (spec->align)
        l.align = spec->align;
    else
        l.align = spec->zero_pad && default_align == '>' ? '=' : default_align;
    return l;
}

static void append_fill(StrBuf *out, const char *fill, int64_t n)
{
    if (fill[1] == '\0') {
        if (n > 0)
            sb_repeat(out, fill[0], (size_t)n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        sb_append(out, fill);
}

/* A number split the way CPython lays it out:
 *   [lpad][sign][prefix][spad][grouped digits][.][remainder][rpad]
 * digits are the integer digits (grouped, zero-padded for '0' fill with '='
 * alignment); the remainder is everything after the point, or all of "inf",
 * "e+10", "%", or the character of 'c'. */
typedef struct NumberParts {
    char sign;              /* '-' or 0 */
    const char *prefix;     /* "0x" ... or "" */
    const char *digits;
    int64_t n_digits;
    bool has_decimal;
    const char *remainder;  /* UTF-8 */
    int64_t remainder_width; /* in code points */
    char separator;         /* ',' '_' or 0 */
    int group;              /* digits per group */
} NumberParts;

/* One group of `len` characters, right to left into rev: the separator
 * that ends it (when a group follows it), the digits left of *src (as many
 * as there are), zeros for the rest. Returns the digits taken. */
static int64_t append_group_reversed(StrBuf *rev, const char **src, int64_t remaining,
                                     int64_t len, char separator)
{
    int64_t zeros = max64(0, len - remaining);
    int64_t chars = max64(0, min64(remaining, len));
    if (separator)
        sb_append_char(rev, separator);
    for (int64_t i = 0; i < chars; i++)
        sb_append_char(rev, *--*src);
    sb_repeat(rev, '0', (size_t)zeros);
    return chars;
}

/* CPython's _PyUnicode_InsertThousandsGrouping: groups taken from the right,
 * zeros added on the left while min_width is not reached (a group never
 * starts with a separator). Built right to left, then reversed. */
static void append_grouped_digits(StrBuf *out, const NumberParts *n, int64_t min_width)
{
    StrBuf rev = STRBUF_INIT;
    int64_t remaining = n->n_digits;
    const char *src = n->digits + n->n_digits;
    bool use_separator = false, finished = false;
    if (n->separator) {
        for (;;) {
            int64_t len = min64(n->group, max64(max64(remaining, min_width), 1));
            remaining -= append_group_reversed(&rev, &src, remaining, len,
                                               use_separator ? n->separator : 0);
            use_separator = true;
            min_width -= len;
            if (remaining <= 0 && min_width <= 0) {
                finished = true;
                break;
            }
            min_width -= 1;
        }
    }
    if (!finished) {
        int64_t len = max64(max64(remaining, min_width), 1);
        append_group_reversed(&rev, &src, remaining, len, use_separator ? n->separator : 0);
    }
    for (size_t i = rev.len; i > 0; i--)
        sb_append_char(out, rev.data[i - 1]);
    sb_free(&rev);
}

static int64_t grouped_length(const NumberParts *n, int64_t min_width)
{
    StrBuf tmp = STRBUF_INIT;
    append_grouped_digits(&tmp, n, min_width);
    int64_t len = (int64_t)tmp.len;
    sb_free(&tmp);
    return len;
}

/* CPython's calc_number_widths + fill_number. */
static void append_number(StrBuf *out, const NumberParts *n, const FormatSpec *spec)
{
    Layout layout = resolve_layout(spec, '>');
    char sign = n->sign;
    if (spec->sign == '+')
        sign = n->sign == '-' ? '-' : '+';
    else if (spec->sign == ' ')
        sign = n->sign == '-' ? '-' : ' ';
    int64_t n_prefix = (int64_t)strlen(n->prefix);
    int64_t non_digits = (sign ? 1 : 0) + n_prefix + (n->has_decimal ? 1 : 0) + n->remainder_width;
    int64_t min_width = 0;
    if (layout.fill[0] == '0' && layout.fill[1] == '\0' && layout.align == '=')
        min_width = spec->width - non_digits;
    int64_t n_grouped = n->n_digits == 0 ? 0 : grouped_length(n, min_width);

    int64_t padding = spec->width - (non_digits + n_grouped);
    int64_t lpad = 0, spad = 0, rpad = 0;
    if (padding > 0) {
        switch (layout.align) {
        case '<': rpad = padding; break;
        case '^': lpad = padding / 2; rpad = padding - lpad; break;
        case '=': spad = padding; break;
        default: lpad = padding; break;
        }
    }
    append_fill(out, layout.fill, lpad);
    if (sign)
        sb_append_char(out, sign);
    sb_append(out, n->prefix);
    append_fill(out, layout.fill, spad);
    if (n->n_digits > 0)
        append_grouped_digits(out, n, min_width);
    if (n->has_decimal)
        sb_append_char(out, '.');
    sb_append(out, n->remainder);
    append_fill(out, layout.fill, rpad);
}

/* format(x, spec) for a float (CPython's format_float_internal). */
static bool format_float_internal(StrBuf *out, double x, const FormatSpec *spec,
                                  const char *type_name, char *err, size_t errsz)
{
    uint32_t type = spec->type;
    switch (type) {
    case 0: case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'n': case '%':
        break;
    default:
        unknown_format_code(type, type_name, err, errsz);
        return false;
    }
    unsigned flags = 0;
    int64_t precision = spec->precision, default_precision = 6;
    char code = (char)type;
    bool percent = false;
    if (spec->alternate)
        flags |= DTSF_ALT;
    if (spec->no_neg_zero)
        flags |= DTSF_NO_NEG_0;
    if (type == 0) { /* like repr, or like 'g' with at least one digit after the point */
        flags |= DTSF_ADD_DOT_0;
        code = 'r';
        default_precision = 0;
    }
    if (type == 'n')
        code = 'g';
    if (type == '%') {
        code = 'f';
        x *= 100;
        percent = true;
    }
    if (precision < 0)
        precision = default_precision;
    else if (code == 'r')
        code = 'g';

    StrBuf text = STRBUF_INIT;
    py_double_to_string(&text, x, code, precision, flags);
    if (percent)
        sb_append_char(&text, '%');

    const char *s = sb_str(&text);
    NumberParts n = {.prefix = ""};
    if (*s == '-') {
        n.sign = '-';
        s++;
    }
    n.digits = s;
    while (*s >= '0' && *s <= '9')
        s++;
    n.n_digits = s - n.digits;
    if (*s == '.') {
        n.has_decimal = true;
        s++;
    }
    n.remainder = s;
    n.remainder_width = (int64_t)strlen(s);
    n.separator = type == 'n' ? 0 : spec->grouping;
    n.group = 3;
    append_number(out, &n, spec);
    sb_free(&text);
    return true;
}

bool py_format_float_spec(StrBuf *out, double x, const FormatSpec *spec, char *err, size_t errsz)
{
    return format_float_internal(out, x, spec, "float", err, errsz);
}

/* Digits of |v| in a base, lower or upper case. */
static void append_magnitude(StrBuf *out, int64_t v, int base, bool upper)
{
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char buf[72];
    int i = (int)sizeof buf;
    const char *digit_chars = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        buf[--i] = digit_chars[m % (uint64_t)base];
        m /= (uint64_t)base;
    } while (m > 0);
    sb_append_n(out, buf + i, sizeof buf - (size_t)i);
}

/* format(v, spec) for an int (CPython's format_long_internal); the float
 * presentation types format float(v). */
static bool format_int_internal(StrBuf *out, int64_t v, const FormatSpec *spec,
                                const char *type_name, char *err, size_t errsz)
{
    uint32_t type = spec->type ? spec->type : 'd';
    switch (type) {
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case '%':
        return format_float_internal(out, (double)v, spec, type_name, err, errsz);
    case 'b': case 'c': case 'd': case 'o': case 'x': case 'X': case 'n':
        break;
    default:
        unknown_format_code(type, type_name, err, errsz);
        return false;
    }
    if (spec->precision >= 0) {
        set_error(err, errsz, "Precision not allowed in integer format specifier");
        return false;
    }
    if (spec->no_neg_zero) {
        set_error(err, errsz, "Negative zero coercion (z) not allowed in integer format specifier");
        return false;
    }
    NumberParts n = {.prefix = "", .group = 3};
    StrBuf digits = STRBUF_INIT;
    char ch[5] = {0};
    if (type == 'c') {
        if (spec->sign) {
            set_error(err, errsz, "Sign not allowed with integer format specifier 'c'");
            return false;
        }
        if (spec->alternate) {
            set_error(err, errsz,
                      "Alternate form (#) not allowed with integer format specifier 'c'");
            return false;
        }
        if (v < 0 || v > 0x10FFFF) {
            set_error(err, errsz, "%%c arg not in range(0x110000)");
            return false;
        }
        utf8_encode((uint32_t)v, ch);
        n.digits = "";
        n.remainder = ch;
        n.remainder_width = 1;
    } else {
        int base = type == 'b' ? 2 : type == 'o' ? 8 : (type == 'x' || type == 'X') ? 16 : 10;
        if (spec->alternate && base != 10)
            n.prefix = type == 'b' ? "0b" : type == 'o' ? "0o" : type == 'x' ? "0x" : "0X";
        append_magnitude(&digits, v, base, type == 'X');
        n.sign = v < 0 ? '-' : 0;
        n.digits = sb_str(&digits);
        n.n_digits = (int64_t)digits.len;
        n.remainder = "";
        n.separator = type == 'n' ? 0 : spec->grouping;
        n.group = (spec->grouping == '_' && base != 10) ? 4 : 3;
    }
    append_number(out, &n, spec);
    sb_free(&digits);
    return true;
}

bool py_format_int_spec(StrBuf *out, int64_t v, const FormatSpec *spec, char *err, size_t errsz)
{
    return format_int_internal(out, v, spec, "int", err, errsz);
}

static bool format_str_internal(StrBuf *out, const char *s, const FormatSpec *spec,
                                const char *type_name, char *err, size_t errsz)
{
    if (spec->grouping && spec->type == 0) { /* the default type 's' */
        set_error(err, errsz, "Cannot specify '%c' with 's'.", spec->grouping);
        return false;
    }
    if (spec->type != 0 && spec->type != 's') {
        unknown_format_code(spec->type, type_name, err, errsz);
        return false;
    }
    if (spec->sign == ' ') {
        set_error(err, errsz, "Space not allowed in string format specifier");
        return false;
    }
    if (spec->sign) {
        set_error(err, errsz, "Sign not allowed in string format specifier");
        return false;
    }
    if (spec->no_neg_zero) {
        set_error(err, errsz, "Negative zero coercion (z) not allowed in string format specifier");
        return false;
    }
    if (spec->alternate) {
        set_error(err, errsz, "Alternate form (#) not allowed in string format specifier");
        return false;
    }
    if (spec->align == '=') {
        set_error(err, errsz, "'=' alignment not allowed in string format specifier");
        return false;
    }
    /* The first `precision` code points, then padding to `width`. */
    size_t bytes = 0;
    int64_t count = 0;
    uint32_t cp;
    size_t step;
    while ((spec->precision < 0 || count < spec->precision) &&
           (step = next_code_point(s + bytes, &cp)) > 0) {
        bytes += step;
        count++;
    }
    Layout layout = resolve_layout(spec, '<');
    int64_t total = spec->width > count ? spec->width : count;
    int64_t lpad = 0;
    if (layout.align == '>')
        lpad = total - count;
    else if (layout.align == '^')
        lpad = (total - count) / 2;
    int64_t rpad = total - count - lpad;
    append_fill(out, layout.fill, lpad);
    sb_append_n(out, s, bytes);
    append_fill(out, layout.fill, rpad);
    return true;
}

bool py_format_str_spec(StrBuf *out, const char *s, const FormatSpec *spec, char *err, size_t errsz)
{
    return format_str_internal(out, s, spec, "str", err, errsz);
}

bool py_format_bool_spec(StrBuf *out, bool v, const FormatSpec *spec, char *err, size_t errsz)
{
    if (spec->empty) {
        sb_append(out, v ? "True" : "False");
        return true;
    }
    return format_int_internal(out, v ? 1 : 0, spec, "bool", err, errsz);
}

bool py_format_float_with(StrBuf *out, double x, const char *spec, char *err, size_t errsz)
{
    FormatSpec f;
    return py_parse_format_spec_for(spec, "float", &f, err, errsz) &&
           format_float_internal(out, x, &f, "float", err, errsz);
}

bool py_format_int_with(StrBuf *out, int64_t v, const char *spec, char *err, size_t errsz)
{
    FormatSpec f;
    return py_parse_format_spec_for(spec, "int", &f, err, errsz) &&
           format_int_internal(out, v, &f, "int", err, errsz);
}

bool py_format_bool_with(StrBuf *out, bool v, const char *spec, char *err, size_t errsz)
{
    FormatSpec f;
    return py_parse_format_spec_for(spec, "bool", &f, err, errsz) &&
           py_format_bool_spec(out, v, &f, err, errsz);
}

bool py_format_str_with(StrBuf *out, const char *s, const char *spec, char *err, size_t errsz)
{
    FormatSpec f;
    return py_parse_format_spec_for(spec, "str", &f, err, errsz) &&
           format_str_internal(out, s, &f, "str", err, errsz);
}

/* ------------------------------------------------------------------------
 * 4. round(), int(), //, % (CPython's floatobject.c)
 * ---------------------------------------------------------------------- */

/* round(x, n) for n < 0: the integer digits of x (exact: a double's integer
 * part prints exactly with %.0f of trunc(x)) rounded at the 10^-n place, half
 * to even, with the fraction of x deciding exact-looking halves. */
static double round_to_tens(double x, int ndigits)
{
    double whole = trunc(fabs(x));
    bool has_fraction = fabs(x) != whole;
    StrBuf text = STRBUF_INIT;
    sb_printf(&text, "%.0f", whole);
    int64_t len = (int64_t)text.len, drop = -(int64_t)ndigits;
    double result;
    if (drop > len) {
        result = 0.0;
    } else {
        char *d = text.data;
        int64_t keep = len - drop;
        bool up;
        if (drop == 0) {
            up = false;
        } else {
            char first = d[keep];
            bool rest_nonzero = has_fraction;
            for (int64_t i = keep + 1; i < len; i++)
                rest_nonzero |= d[i] != '0';
            int last_kept = keep > 0 ? d[keep - 1] - '0' : 0;
            up = first > '5' || (first == '5' && (rest_nonzero || last_kept % 2 == 1));
        }
        StrBuf number = STRBUF_INIT;
        sb_append_n(&number, d, (size_t)keep);
        if (up) { /* add one at the last kept place */
            int64_t i = keep - 1;
            while (i >= 0 && number.data[i] == '9')
                number.data[i--] = '0';
            if (i >= 0)
                number.data[i]++;
            else {
                sb_clear(&number);
                sb_append_char(&number, '1');
                sb_repeat(&number, '0', (size_t)keep);
            }
        }
        if (number.len == 0)
            sb_append_char(&number, '0');
        sb_printf(&number, "e%" PRId64, drop);
        result = strtod(sb_str(&number), NULL);
        sb_free(&number);
    }
    sb_free(&text);
    return copysign(result, x);
}

double py_round(double x, int ndigits)
{
    /* Beyond these, round() leaves x alone or gives a signed zero. */
    const int ndigits_max = (int)((DBL_MANT_DIG - DBL_MIN_EXP) * 0.30103);
    const int ndigits_min = -(int)((DBL_MAX_EXP + 1) * 0.30103);
    if (!isfinite(x) || ndigits > ndigits_max)
        return x;
    if (ndigits < ndigits_min)
        return 0.0 * x;
    if (ndigits < 0)
        return round_to_tens(x, ndigits);
    StrBuf text = STRBUF_INIT;
    sb_printf(&text, "%.*f", ndigits, x);
    double result = strtod(sb_str(&text), NULL);
    sb_free(&text);
    return result;
}

const char *py_float_to_int_error(double x)
{
    if (isnan(x))
        return "cannot convert float NaN to integer";
    if (isinf(x))
        return "cannot convert float infinity to integer";
    /* [-2^63, 2^63) is exactly the doubles that fit */
    if (x < -9223372036854775808.0 || x >= 9223372036854775808.0)
        return "int too large: nnl's int is 64-bit";
    return NULL;
}

bool py_float_to_int(double x, int64_t *out)
{
    double t = trunc(x);
    if (py_float_to_int_error(t) != NULL)
        return false;
    *out = (int64_t)t;
    return true;
}

bool py_round_to_int(double x, int64_t *out)
{
    double rounded = round(x);
    if (fabs(x - rounded) == 0.5) /* halfway: to even */
        rounded = 2.0 * round(x / 2.0);
    if (py_float_to_int_error(rounded) != NULL)
        return false;
    *out = (int64_t)rounded;
    return true;
}

double py_float_floordiv(double a, double b)
{
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0) {
        if ((b < 0) != (mod < 0))
            div -= 1.0;
    }
    if (div != 0) {
        double floordiv = floor(div);
        if (div - floordiv > 0.5) /* snap to the nearest integer */
            floordiv += 1.0;
        return floordiv;
    }
    return copysign(0.0, a / b);
}

double py_float_mod(double a, double b)
{
    double mod = fmod(a, b);
    if (mod != 0) {
        if ((b < 0) != (mod < 0))
            mod += b;
        return mod;
    }
    return copysign(0.0, b);
}

/* ------------------------------------------------------------------------
 * Reading tensors (the engine stores every dtype as float32; int64 values
 * are exact integers, bool values 0 or 1)
 * ---------------------------------------------------------------------- */

#define PRINT_EDGEITEMS 3   /* PyTorch and NumPy: items kept at each end */
#define PRINT_THRESHOLD 1000 /* summarise above this many elements */

static int64_t tensor_element_count(const Tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
}

static double element_at(const Tensor *t, int64_t storage_index)
{
    return (double)t->storage->data[storage_index];
}

/* How many items of dim d are shown, and which: all of them, or when the
 * tensor is summarised and the dim is long, the first and last
 * PRINT_EDGEITEMS. */
static int64_t shown_count(const Tensor *t, int d, bool summarize)
{
    return summarize && t->shape[d] > 2 * PRINT_EDGEITEMS ? 2 * PRINT_EDGEITEMS : t->shape[d];
}

static int64_t shown_index(const Tensor *t, int d, bool summarize, int64_t k)
{
    if (summarize && t->shape[d] > 2 * PRINT_EDGEITEMS && k >= PRINT_EDGEITEMS)
        return t->shape[d] - 2 * PRINT_EDGEITEMS + k;
    return k;
}

/* The elements that will be printed, in row-major order: what PyTorch's
 * get_summarized_data and NumPy's _leading_trailing keep. Both decide
 * widths and notation from these values only. */
static void collect_shown(const Tensor *t, int d, int64_t base, bool summarize, double *out,
                          int64_t *n)
{
    if (d == t->ndim) {
        out[(*n)++] = element_at(t, base);
        return;
    }
    int64_t count = shown_count(t, d, summarize);
    for (int64_t k = 0; k < count; k++)
        collect_shown(t, d + 1, base + shown_index(t, d, summarize, k) * t->stride[d], summarize,
                      out, n);
}

/* Returns a malloc'd array of the shown values; *n gets their number. */
static double *shown_values(const Tensor *t, bool summarize, int64_t *n)
{
    int64_t total = 1;
    for (int d = 0; d < t->ndim; d++)
        total *= shown_count(t, d, summarize);
    double *values = malloc(sizeof(double) * (size_t)(total > 0 ? total : 1));
    if (values == NULL)
        abort(); /* as StrBuf does: printing cannot go on without memory */
    *n = 0;
    collect_shown(t, 0, t->offset, summarize, values, n);
    return values;
}

static void append_tuple(StrBuf *out, int ndim, const int64_t *shape)
{
    sb_append_char(out, '(');
    for (int d = 0; d < ndim; d++)
        sb_printf(out, d > 0 ? ", %" PRId64 : "%" PRId64, shape[d]);
    if (ndim == 1)
        sb_append_char(out, ',');
    sb_append_char(out, ')');
}

/* ------------------------------------------------------------------------
 * 5. PyTorch 1.13's tensor repr (torch/_tensor_str.py), default options:
 *    precision 4, threshold 1000, edgeitems 3, linewidth 80, sci_mode None.
 *
 * Element format, decided once per tensor from the shown values:
 *   - int64: str(v), bool: True/False; width = the longest.
 *   - float32, from the nonzero finite values only (none: "0.", "nan"):
 *       int_mode when all of them are integers; then
 *         max|v| / min|v| > 1000 or max|v| > 1e8  -> scientific "1.0000e+08"
 *         otherwise "{:.0f}" plus a point          -> "2."  (inf/nan get no point)
 *       otherwise
 *         max/min > 1000 or max > 1e8 or min < 1e-4 -> scientific "1.2346e-05"
 *         otherwise "{:.4f}"                        -> "0.1235"
 *     width = the longest of those nonzero finite values; every element is
 *     right-aligned to it (a longer "-0.0000" or "    inf" is not cut).
 * Layout ("tensor(" is the indent, 7 columns):
 *   - 0-d: the element alone, "tensor(2.5000)".
 *   - 1-d: "[a, b, c]", wrapped after floor((80 - indent) / (width + 2))
 *     elements per line; continuation lines indented by indent + 1.
 *   - n-d: "[" + rows joined by "," + (n-1) newlines + indent+1 spaces + "]",
 *     each row printed with indent + 1.
 *   - more than 1000 elements: each dim longer than 6 shows its first and
 *     last 3 items around "..." (" ..." as an element of a 1-d row).
 * Suffixes ", requires_grad=True" / ", grad_fn=<MulBackward0>", and for an
 *   empty tensor ", size=(0, 3)" (not for 1-d) and ", dtype=torch.int64"
 *   (not for float32): each goes on the last line unless that line would
 *   pass 80 columns (counted as PyTorch counts it, two more than the line),
 *   then on a new line indented by 7.
 * ---------------------------------------------------------------------- */

#define TORCH_PRECISION 4
#define TORCH_LINEWIDTH 80

typedef struct TorchFormatter {
    DType dtype;
    bool int_mode;     /* float tensor whose finite values are integers: "2." */
    bool sci_mode;     /* "1.0000e-05" */
    int64_t max_width; /* every element is right-aligned to this */
} TorchFormatter;

/* One element, unpadded. */
static void torch_value_text(StrBuf *out, const TorchFormatter *f, double v)
{
    if (f->dtype == DTYPE_BOOL) {
        sb_append(out, v != 0 ? "True" : "False");
    } else if (f->dtype == DTYPE_INT64) {
        sb_printf(out, "%" PRId64, (int64_t)v);
    } else if (f->sci_mode) {
        py_double_to_string(out, v, 'e', TORCH_PRECISION, 0);
    } else if (f->int_mode) {
        py_double_to_string(out, v, 'f', 0, 0);
        if (isfinite(v))
            sb_append_char(out, '.');
    } else {
        py_double_to_string(out, v, 'f', TORCH_PRECISION, 0);
    }
}

static int64_t torch_value_width(const TorchFormatter *f, double v)
{
    StrBuf text = STRBUF_INIT;
    torch_value_text(&text, f, v);
    int64_t len = (int64_t)text.len;
    sb_free(&text);
    return len;
}

static void torch_value_padded(StrBuf *out, const TorchFormatter *f, double v)
{
    append_spaces(out, f->max_width - torch_value_width(f, v));
    torch_value_text(out, f, v);
}

static void torch_formatter_init(TorchFormatter *f, DType dtype, const double *values, int64_t n)
{
    f->dtype = dtype;
    f->int_mode = true;
    f->sci_mode = false;
    f->max_width = 1;
    if (dtype != DTYPE_FLOAT32) {
        for (int64_t i = 0; i < n; i++)
            f->max_width = max64(f->max_width, torch_value_width(f, values[i]));
        return;
    }
    int64_t nonzero_finite = 0;
    float min_abs = 0, max_abs = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = (float)values[i];
        if (!isfinite(v) || v == 0)
            continue;
        float a = fabsf(v);
        min_abs = nonzero_finite == 0 || a < min_abs ? a : min_abs;
        max_abs = nonzero_finite == 0 || a > max_abs ? a : max_abs;
        if (ceilf(v) != v)
            f->int_mode = false;
        nonzero_finite++;
    }
    if (nonzero_finite == 0)
        return;
    double ratio = (double)max_abs / (double)min_abs;
    if (f->int_mode)
        f->sci_mode = ratio > 1000.0 || max_abs > 1.0e8;
    else
        f->sci_mode = ratio > 1000.0 || max_abs > 1.0e8 || min_abs < 1.0e-4;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(values[i]) && values[i] != 0)
            f->max_width = max64(f->max_width, torch_value_width(f, values[i]));
}

/* A 1-d row: elements wrapped to the line width. */
static void torch_row(StrBuf *out, const Tensor *t, const TorchFormatter *f, int64_t base,
                      int64_t indent, bool summarize)
{
    int d = t->ndim - 1;
    int64_t per_line = max64(1, (TORCH_LINEWIDTH - indent) / (f->max_width + 2));
    int64_t shown = shown_count(t, d, summarize);
    bool ellipsis = shown < t->shape[d];
    int64_t items = shown + (ellipsis ? 1 : 0);
    sb_append_char(out, '[');
    for (int64_t item = 0, k = 0; item < items; item++) {
        if (item > 0) {
            if (item % per_line == 0) {
                sb_append(out, ",\n");
                append_spaces(out, indent + 1);
            } else {
                sb_append(out, ", ");
            }
        }
        if (ellipsis && item == PRINT_EDGEITEMS) {
            sb_append(out, " ...");
            continue;
        }
        int64_t i = shown_index(t, d, summarize, k++);
        torch_value_padded(out, f, element_at(t, base + i * t->stride[d]));
    }
    sb_append_char(out, ']');
}

/* The sub-tensor from dim d at storage index base. */
static void torch_tensor_str(StrBuf *out, const Tensor *t, const TorchFormatter *f, int d,
                             int64_t base, int64_t indent, bool summarize)
{
    int rank = t->ndim - d;
    if (rank == 0) {
        torch_value_padded(out, f, element_at(t, base));
        return;
    }
    if (rank == 1) {
        torch_row(out, t, f, base, indent, summarize);
        return;
    }
    int64_t shown = shown_count(t, d, summarize);
    bool ellipsis = shown < t->shape[d];
    int64_t items = shown + (ellipsis ? 1 : 0);
    sb_append_char(out, '[');
    for (int64_t item = 0, k = 0; item < items; item++) {
        if (item > 0) {
            sb_append_char(out, ',');
            sb_repeat(out, '\n', (size_t)(rank - 1));
            append_spaces(out, indent + 1);
        }
        if (ellipsis && item == PRINT_EDGEITEMS) {
            sb_append(out, "...");
            continue;
        }
        int64_t i = shown_index(t, d, summarize, k++);
        torch_tensor_str(out, t, f, d + 1, base + i * t->stride[d], indent + 1, summarize);
    }
    sb_append_char(out, ']');
}

static const char *torch_dtype_name(DType dtype)
{
    switch (dtype) {
    case DTYPE_INT64: return "torch.int64";
    case DTYPE_BOOL: return "torch.bool";
    default: return "torch.float32";
    }
}

/* PyTorch's _add_suffixes: text holds "tensor(" + the elements. */
static void torch_add_suffixes(StrBuf *text, StrBuf *suffixes, int n_suffixes, int64_t indent)
{
    const char *newline = strrchr(sb_str(text), '\n');
    int64_t rfind = newline ? newline - sb_str(text) : -1;
    int64_t last_line_len = (int64_t)text->len - rfind + 1;
    for (int i = 0; i < n_suffixes; i++) {
        int64_t len = (int64_t)suffixes[i].len;
        if (last_line_len + len + 2 > TORCH_LINEWIDTH) {
            sb_append(text, ",\n");
            append_spaces(text, indent);
            last_line_len = indent + len;
        } else {
            sb_append(text, ", ");
            last_line_len += len + 2;
        }
        sb_append(text, sb_str(&suffixes[i]));
    }
    sb_append_char(text, ')');
}

void torch_format_tensor(StrBuf *out, const Tensor *t, const char *grad_fn_name)
{
    const int64_t indent = 7; /* strlen("tensor(") */
    StrBuf text = STRBUF_INIT;
    StrBuf suffixes[4] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT};
    int n_suffixes = 0;
    sb_append(&text, "tensor(");
    int64_t numel = tensor_element_count(t);
    if (numel == 0) {
        /* no elements to show the dtype by, so it is named */
        if (t->ndim != 1) {
            sb_append(&suffixes[n_suffixes], "size=");
            append_tuple(&suffixes[n_suffixes++], t->ndim, t->shape);
        }
        if (t->dtype != DTYPE_FLOAT32)
            sb_printf(&suffixes[n_suffixes++], "dtype=%s", torch_dtype_name(t->dtype));
        sb_append(&text, "[]");
    } else {
        bool summarize = numel > PRINT_THRESHOLD;
        int64_t n;
        double *values = shown_values(t, summarize, &n);
        TorchFormatter f;
        torch_formatter_init(&f, t->dtype, values, n);
        free(values);
        torch_tensor_str(&text, t, &f, 0, t->offset, indent, summarize);
    }
    if (grad_fn_name != NULL)
        sb_printf(&suffixes[n_suffixes++], "grad_fn=<%s>", grad_fn_name);
    else if (t->requires_grad)
        sb_append(&suffixes[n_suffixes++], "requires_grad=True");
    torch_add_suffixes(&text, suffixes, n_suffixes, indent);
    sb_append(out, sb_str(&text));
    sb_free(&text);
    for (int i = 0; i < 4; i++)
        sb_free(&suffixes[i]);
}

void torch_format_size(StrBuf *out, int ndim, const int64_t *shape)
{
    sb_append(out, "torch.Size([");
    for (int d = 0; d < ndim; d++)
        sb_printf(out, d > 0 ? ", %" PRId64 : "%" PRId64, shape[d]);
    sb_append(out, "])");
}

/* ------------------------------------------------------------------------
 * 6. NumPy 1.24's array str/repr (numpy/core/arrayprint.py), default options:
 *    precision 8, floatmode 'maxprec', suppress False, threshold 1000,
 *    edgeitems 3, linewidth 75, sign '-'.
 *
 * float32 elements (FloatingFormat), decided from the shown finite values:
 *   - scientific when max|v| >= 1e8, or min|v| < 1e-4, or max/min > 1000
 *     (nonzero values; the ratio computed in float32).
 *   - positional: each value's shortest float32 digits, at most 8 after the
 *     point (then the exact value rounded to 8, trailing zeros dropped);
 *     the integer part always exact. Aligned on the point: integer parts
 *     padded on the left, fractions padded with spaces on the right to the
 *     longest: "[ 0.5   1.25 -3.  ]".
 *   - scientific: every mantissa gets as many digits after the point as the
 *     longest shortest mantissa (extra digits are the exact value's, rounded:
 *     0.3 -> "3.0000001e-01"), exponents as many digits as the longest (>= 2).
 *   - nan/inf right-aligned to the common width.
 * int64: right-aligned to the longer of str(max), str(min). bool: " True",
 *   "False" (0-d: "True").
 * Layout (_formatArray): rows wrap before an element that would pass
 *   linewidth - 1 columns; the separator is " " for str, ", " for repr;
 *   continuation lines are indented to the row's "["; n-d rows are separated
 *   by "," (repr only) and n-1 newlines. More than 1000 elements: "..." for
 *   the middle of each dim longer than 6.
 * repr: "array(" + elements + ", dtype=float32)" (the dtype omitted for a
 *   non-empty int64 or bool array), the dtype on its own line, indented by
 *   6, when it would pass column 75; the elements are wrapped one column
 *   narrower to leave room for the "," or ")". Empty arrays: "[]" with
 *   ", shape=(0, 3)" unless 1-d.
 * ---------------------------------------------------------------------- */

#define NUMPY_PRECISION 8
#define NUMPY_LINEWIDTH 75

/* The digits of a nonzero finite float32 value, shortest first. */
typedef struct F32Digits {
    char digits[20];
    int ndigits;
    int64_t decpt; /* value = 0.DIGITS x 10^decpt */
} F32Digits;

static void f32_shortest(double ax, F32Digits *d)
{
    d->ndigits = shortest_digits(ax, true, d->digits, &d->decpt);
}

/* Positional text of a finite value split at the point: NumPy's Dragon4
 * "unique" digits with at most NUMPY_PRECISION after the point; with
 * exact_integer, digits down to the units place come from the exact value
 * (what min_digits=0 asks for: 67108872. where the shortest says 67108870.). */
static void numpy_positional_parts(double x, bool exact_integer, StrBuf *int_part, StrBuf *frac)
{
    if (signbit(x))
        sb_append_char(int_part, '-');
    double ax = fabs(x);
    if (ax == 0) {
        sb_append_char(int_part, '0');
        return;
    }
    F32Digits d;
    f32_shortest(ax, &d);
    int64_t frac_digits = d.ndigits - d.decpt;
    StrBuf text = STRBUF_INIT;
    if (frac_digits > NUMPY_PRECISION || (exact_integer && frac_digits < 0)) {
        sb_printf(&text, "%.*f", frac_digits > NUMPY_PRECISION ? NUMPY_PRECISION : 0, ax);
    } else if (d.decpt <= 0) {
        sb_append(&text, "0.");
        sb_repeat(&text, '0', (size_t)(-d.decpt));
        sb_append_n(&text, d.digits, (size_t)d.ndigits);
    } else if (d.decpt >= d.ndigits) {
        sb_append_n(&text, d.digits, (size_t)d.ndigits);
        sb_repeat(&text, '0', (size_t)(d.decpt - d.ndigits));
    } else {
        sb_append_n(&text, d.digits, (size_t)d.decpt);
        sb_append_char(&text, '.');
        sb_append_n(&text, d.digits + d.decpt, (size_t)(d.ndigits - d.decpt));
    }
    const char *s = sb_str(&text);
    const char *point = strchr(s, '.');
    size_t int_len = point ? (size_t)(point - s) : strlen(s);
    sb_append_n(int_part, s, int_len);
    if (point) {
        size_t frac_len = strlen(point + 1);
        while (frac_len > 0 && point[frac_len] == '0')
            frac_len--;
        sb_append_n(frac, point + 1, frac_len);
    }
    sb_free(&text);
}

/* Scientific text of a finite value: mantissa integer part (with sign),
 * mantissa fraction and the exponent. min_frac < 0: the shortest digits;
 * otherwise exactly min_frac digits after the point, from the exact value
 * when the shortest has fewer. */
static void numpy_scientific_parts(double x, int64_t min_frac, StrBuf *int_part, StrBuf *frac,
                                   int64_t *exponent)
{
    if (signbit(x))
        sb_append_char(int_part, '-');
    double ax = fabs(x);
    F32Digits d = {.digits = "0", .ndigits = 1, .decpt = 1};
    if (ax != 0)
        f32_shortest(ax, &d);
    if (min_frac < 0 || d.ndigits - 1 >= min_frac) {
        sb_append_char(int_part, d.digits[0]);
        sb_append_n(frac, d.digits + 1, (size_t)(d.ndigits - 1));
        *exponent = ax == 0 ? 0 : d.decpt - 1;
        return;
    }
    StrBuf text = STRBUF_INIT;
    sb_printf(&text, "%.*e", (int)min_frac, ax);
    const char *s = sb_str(&text);
    sb_append_char(int_part, s[0]);
    const char *e = strchr(s, 'e');
    if (s[1] == '.')
        sb_append_n(frac, s + 2, (size_t)(e - (s + 2)));
    *exponent = strtol(e + 1, NULL, 10);
    sb_free(&text);
}

typedef struct NumpyFloatFormat {
    bool exp_format;
    int64_t pad_left;  /* columns left of the point */
    int64_t pad_right; /* columns right of the point */
    int64_t precision; /* scientific: digits after the point */
    int64_t exp_size;  /* scientific: exponent digits */
} NumpyFloatFormat;

static int64_t exponent_digits(int64_t e)
{
    int64_t a = e < 0 ? -e : e, n = 1;
    while (a >= 10) {
        a /= 10;
        n++;
    }
    return n < 2 ? 2 : n;
}

/* The widths of the shortest scientific forms of the finite values. */
static void measure_scientific(NumpyFloatFormat *f, const double *values, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(values[i]))
            continue;
        StrBuf ip = STRBUF_INIT, fp = STRBUF_INIT;
        int64_t e;
        numpy_scientific_parts(values[i], -1, &ip, &fp, &e);
        f->pad_left = max64(f->pad_left, (int64_t)ip.len);
        f->precision = max64(f->precision, (int64_t)fp.len);
        f->exp_size = max64(f->exp_size, exponent_digits(e));
        sb_free(&ip);
        sb_free(&fp);
    }
    f->pad_right = f->exp_size + 2 + f->precision;
}

/* The widths of the positional forms of the finite values. */
static void measure_positional(NumpyFloatFormat *f, const double *values, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(values[i]))
            continue;
        StrBuf ip = STRBUF_INIT, fp = STRBUF_INIT;
        numpy_positional_parts(values[i], false, &ip, &fp);
        f->pad_left = max64(f->pad_left, (int64_t)ip.len);
        f->pad_right = max64(f->pad_right, (int64_t)fp.len);
        sb_free(&ip);
        sb_free(&fp);
    }
}

static void numpy_float_format_init(NumpyFloatFormat *f, const double *values, int64_t n)
{
    memset(f, 0, sizeof *f);
    int64_t finite = 0, nonzero = 0;
    float min_val = 0, max_val = 0;
    bool has_neg_inf = false, has_nonfinite = false;
    for (int64_t i = 0; i < n; i++) {
        float v = (float)values[i];
        if (!isfinite(v)) {
            has_nonfinite = true;
            has_neg_inf |= isinf(v) && v < 0;
            continue;
        }
        finite++;
        if (v == 0)
            continue;
        float a = fabsf(v);
        min_val = nonzero == 0 || a < min_val ? a : min_val;
        max_val = nonzero == 0 || a > max_val ? a : max_val;
        nonzero++;
    }
    if (nonzero > 0) {
        float ratio = max_val / min_val; /* float32 arithmetic, as NumPy does it */
        f->exp_format = max_val >= 1.e8 || (double)min_val < 0.0001 || ratio > 1000.f;
    }
    if (finite > 0 && f->exp_format)
        measure_scientific(f, values, n);
    else if (finite > 0)
        measure_positional(f, values, n);
    if (has_nonfinite) {
        int64_t offset = f->pad_right + 1; /* the point */
        f->pad_left = max64(f->pad_left, max64(3 - offset, 3 + (has_neg_inf ? 1 : 0) - offset));
    }
}

static void numpy_float_text(StrBuf *out, const NumpyFloatFormat *f, double x)
{
    if (!isfinite(x)) {
        const char *s = isnan(x) ? "nan" : x < 0 ? "-inf" : "inf";
        append_spaces(out, f->pad_left + f->pad_right + 1 - (int64_t)strlen(s));
        sb_append(out, s);
        return;
    }
    StrBuf ip = STRBUF_INIT, fp = STRBUF_INIT;
    if (f->exp_format) {
        int64_t e;
        numpy_scientific_parts(x, f->precision, &ip, &fp, &e);
        append_spaces(out, f->pad_left - (int64_t)ip.len);
        sb_printf(out, "%s.%se%c%0*" PRId64, sb_str(&ip), sb_str(&fp), e < 0 ? '-' : '+',
                  (int)f->exp_size, e < 0 ? -e : e);
    } else {
        numpy_positional_parts(x, true, &ip, &fp);
        append_spaces(out, f->pad_left - (int64_t)ip.len);
        sb_printf(out, "%s.%s", sb_str(&ip), sb_str(&fp));
        append_spaces(out, f->pad_right - (int64_t)fp.len);
    }
    sb_free(&ip);
    sb_free(&fp);
}

typedef struct NumpyPrinter {
    const Tensor *t;
    bool summarize;
    const char *separator; /* " " or ", " */
    NumpyFloatFormat float_format;
    int64_t int_width;
} NumpyPrinter;

static void numpy_element_text(StrBuf *out, const NumpyPrinter *p, double v)
{
    switch (p->t->dtype) {
    case DTYPE_BOOL:
        sb_append(out, v != 0 ? (p->t->ndim == 0 ? "True" : " True") : "False");
        break;
    case DTYPE_INT64:
        sb_printf(out, "%*" PRId64, (int)p->int_width, (int64_t)v);
        break;
    default:
        numpy_float_text(out, &p->float_format, v);
        break;
    }
}

static void numpy_printer_init(NumpyPrinter *p, const Tensor *t, const char *separator)
{
    memset(p, 0, sizeof *p);
    p->t = t;
    p->separator = separator;
    p->summarize = tensor_element_count(t) > PRINT_THRESHOLD;
    int64_t n;
    double *values = shown_values(t, p->summarize, &n);
    if (t->dtype == DTYPE_FLOAT32) {
        numpy_float_format_init(&p->float_format, values, n);
    } else if (t->dtype == DTYPE_INT64 && n > 0) {
        int64_t lo = (int64_t)values[0], hi = lo;
        for (int64_t i = 1; i < n; i++) {
            lo = min64(lo, (int64_t)values[i]);
            hi = max64(hi, (int64_t)values[i]);
        }
        char buf[32];
        p->int_width = max64(snprintf(buf, sizeof buf, "%" PRId64, lo),
                             snprintf(buf, sizeof buf, "%" PRId64, hi));
    }
    free(values);
}

static void rstrip_into(StrBuf *out, const StrBuf *line)
{
    size_t len = line->len;
    while (len > 0 && line->data[len - 1] == ' ')
        len--;
    sb_append_n(out, line->data, len);
}

/* NumPy's _extendLine: wrap before `word` when the line would pass
 * line_width, unless the line holds nothing but its indent. */
static void numpy_extend_line(StrBuf *s, StrBuf *line, const char *word, int64_t line_width,
                              int64_t indent)
{
    bool wrap = (int64_t)line->len + (int64_t)strlen(word) > line_width;
    if ((int64_t)line->len <= indent)
        wrap = false;
    if (wrap) {
        rstrip_into(s, line);
        sb_append_char(s, '\n');
        sb_clear(line);
        append_spaces(line, indent);
    }
    sb_append(line, word);
}

/* NumPy's _formatArray recurser for the sub-array from dim `axis`:
 * `hanging` is the indent of continuation lines, `width` the line width. */
static void numpy_recurse(StrBuf *out, const NumpyPrinter *p, int axis, int64_t base,
                          int64_t hanging, int64_t width)
{
    const Tensor *t = p->t;
    int axes_left = t->ndim - axis;
    if (axes_left == 0) {
        numpy_element_text(out, p, element_at(t, base));
        return;
    }
    int64_t len = t->shape[axis];
    bool summary = p->summarize && len > 2 * PRINT_EDGEITEMS;
    int64_t leading = summary ? PRINT_EDGEITEMS : 0;
    int64_t trailing = summary ? PRINT_EDGEITEMS : len;
    int64_t stride = t->stride[axis];
    StrBuf s = STRBUF_INIT, word = STRBUF_INIT;

    if (axes_left == 1) {
        int64_t elem_width = width - 1; /* room for "]" or "," */
        StrBuf line = STRBUF_INIT;
        append_spaces(&line, hanging);
        for (int64_t i = 0; i < leading + trailing; i++) {
            if (summary && i == leading) {
                numpy_extend_line(&s, &line, "...", elem_width, hanging);
                sb_append(&line, p->separator);
            }
            int64_t index = i < leading ? i : len - (leading + trailing - i);
            sb_clear(&word);
            numpy_recurse(&word, p, axis + 1, base + index * stride, hanging + 1, width - 1);
            numpy_extend_line(&s, &line, sb_str(&word), elem_width, hanging);
            if (i + 1 < leading + trailing)
                sb_append(&line, p->separator);
        }
        sb_append(&s, sb_str(&line));
        sb_free(&line);
    } else {
        StrBuf line_sep = STRBUF_INIT;
        if (strcmp(p->separator, ", ") == 0)
            sb_append_char(&line_sep, ',');
        sb_repeat(&line_sep, '\n', (size_t)(axes_left - 1));
        for (int64_t i = 0; i < leading + trailing; i++) {
            if (summary && i == leading) {
                append_spaces(&s, hanging);
                sb_append(&s, "...");
                sb_append(&s, sb_str(&line_sep));
            }
            int64_t index = i < leading ? i : len - (leading + trailing - i);
            append_spaces(&s, hanging);
            numpy_recurse(&s, p, axis + 1, base + index * stride, hanging + 1, width - 1);
            if (i + 1 < leading + trailing)
                sb_append(&s, sb_str(&line_sep));
        }
        sb_free(&line_sep);
    }
    sb_append_char(out, '[');
    sb_append(out, sb_str(&s) + hanging);
    sb_append_char(out, ']');
    sb_free(&s);
    sb_free(&word);
}

static void numpy_array2string(StrBuf *out, const Tensor *t, const char *separator,
                               int64_t prefix_len, int64_t width)
{
    NumpyPrinter p;
    numpy_printer_init(&p, t, separator);
    numpy_recurse(out, &p, 0, t->offset, 1 + prefix_len, width);
}

void numpy_format_array_str(StrBuf *out, const Tensor *t)
{
    if (t->ndim == 0) { /* a 0-d array prints as its scalar */
        double v = element_at(t, t->offset);
        if (t->dtype == DTYPE_FLOAT32)
            numpy_format_float32_scalar(out, (float)v);
        else if (t->dtype == DTYPE_INT64)
            sb_printf(out, "%" PRId64, (int64_t)v);
        else
            sb_append(out, v != 0 ? "True" : "False");
        return;
    }
    if (tensor_element_count(t) == 0) {
        sb_append(out, "[]");
        return;
    }
    numpy_array2string(out, t, " ", 0, NUMPY_LINEWIDTH);
}

void numpy_format_array_repr(StrBuf *out, const Tensor *t)
{
    int64_t numel = tensor_element_count(t);
    bool skip_dtype = t->dtype != DTYPE_FLOAT32 && numel > 0;
    const char *suffix = skip_dtype ? ")" : ",";
    StrBuf text = STRBUF_INIT;
    sb_append(&text, "array(");
    if (numel > 0)
        numpy_array2string(&text, t, ", ", 6, NUMPY_LINEWIDTH - 1);
    else if (t->ndim == 1)
        sb_append(&text, "[]");
    else {
        sb_append(&text, "[], shape=");
        append_tuple(&text, t->ndim, t->shape);
    }
    sb_append(&text, suffix);
    if (!skip_dtype) {
        const char *dtype = t->dtype == DTYPE_FLOAT32 ? "dtype=float32)"
                            : t->dtype == DTYPE_INT64 ? "dtype=int64)" : "dtype=bool)";
        const char *newline = strrchr(sb_str(&text), '\n');
        int64_t line_start = newline ? newline - sb_str(&text) + 1 : 0;
        int64_t last_line_len = (int64_t)text.len - line_start;
        if (last_line_len + (int64_t)strlen(dtype) + 1 > NUMPY_LINEWIDTH) {
            sb_append_char(&text, '\n');
            append_spaces(&text, 6); /* strlen("array(") */
        } else {
            sb_append_char(&text, ' ');
        }
        sb_append(&text, dtype);
    }
    sb_append(out, sb_str(&text));
    sb_free(&text);
}

/* NumPy's float32 scalar str/repr: positional for 1e-4 <= |x| < 1e16 with at
 * least one digit after the point ("0.1", "123456790.0"), otherwise
 * scientific with no trailing zeros ("1e-05", "1.5e+16"). */
void numpy_format_float32_scalar(StrBuf *out, float x)
{
    if (isnan(x)) {
        sb_append(out, "nan");
        return;
    }
    if (isinf(x)) {
        sb_append(out, x < 0 ? "-inf" : "inf");
        return;
    }
    if (signbit(x))
        sb_append_char(out, '-');
    double ax = fabs((double)x);
    if (ax == 0) {
        sb_append(out, "0.0");
        return;
    }
    F32Digits d;
    f32_shortest(ax, &d);
    if (ax >= 1e-4 && ax < 1e16) {
        if (d.decpt <= 0) {
            sb_append(out, "0.");
            sb_repeat(out, '0', (size_t)(-d.decpt));
            sb_append_n(out, d.digits, (size_t)d.ndigits);
        } else if (d.decpt >= d.ndigits) {
            sb_append_n(out, d.digits, (size_t)d.ndigits);
            sb_repeat(out, '0', (size_t)(d.decpt - d.ndigits));
            sb_append(out, ".0");
        } else {
            sb_append_n(out, d.digits, (size_t)d.decpt);
            sb_append_char(out, '.');
            sb_append_n(out, d.digits + d.decpt, (size_t)(d.ndigits - d.decpt));
        }
        return;
    }
    int64_t e = d.decpt - 1;
    sb_append_char(out, d.digits[0]);
    if (d.ndigits > 1) {
        sb_append_char(out, '.');
        sb_append_n(out, d.digits + 1, (size_t)(d.ndigits - 1));
    }
    sb_printf(out, "e%c%02" PRId64, e < 0 ? '-' : '+', e < 0 ? -e : e);
}
