#include "fixture.h"

#include <math.h>

int engine_setup(void **state)
{
    static Engine eng;
    engine_init(&eng);
    *state = &eng;
    return 0;
}

int engine_teardown_no_leaks(void **state)
{
    Engine *eng = *state;
    assert_int_equal(eng->bytes_in_use, 0);
    return 0;
}

void fill_wave(Tensor *t, double a, double b, double scale, double shift)
{
    for (int64_t i = 0; i < tensor_numel(t); i++)
        tensor_data(t)[i] = (float)(shift + scale * sin(a * (double)i + b));
}

Tensor *wave(Engine *eng, int ndim, const int64_t *shape, double a, double b, double scale,
             double shift)
{
    Tensor *t = tensor_empty(eng, DTYPE_FLOAT32, ndim, shape);
    assert_non_null(t);
    fill_wave(t, a, b, scale, shift);
    return t;
}
