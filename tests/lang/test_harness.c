#include "test_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <string.h>

#include <cmocka.h>

Interp *harness_interp(Frontend fe)
{
    InterpOptions opt = {0};
    Interp *in = interp_new(&opt, fe);
    assert_non_null(in);
    return in;
}

RunResult run(Interp *in, const char *code)
{
    Source *src = source_new("<test>", code, strlen(code), 1);
    RunResult res = interp_run(in, src, false);
    source_release(src);
    return res;
}

void append_printed(char *printed, size_t size, const Event *ev)
{
    strncat(printed, ev->text, size - strlen(printed) - 1);
}
