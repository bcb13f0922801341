/*
 * fixture.h - what the engine's cmocka tests share besides gradcheck.h: the
 * engine each test gets, the check that it leaked nothing, and the
 * generator scripts' deterministic inputs (the scripts in gen/ build the
 * same waves).
 */
#ifndef NNREPL_TEST_FIXTURE_H
#define NNREPL_TEST_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine.h"
#include "tensor.h"

/* cmocka setup: *state = a freshly initialised engine (one static engine,
 * set up again for every test or group that names this). */
int engine_setup(void **state);
/* cmocka teardown: fails the test when it left engine memory allocated
 * (every test releases what it made). */
int engine_teardown_no_leaks(void **state);

/* t[i] = shift + scale·sin(a·i + b) over t's elements (contiguous t), as
 * the generator scripts build their inputs and parameters. */
void fill_wave(Tensor *t, double a, double b, double scale, double shift);
/* A new float32 tensor of that shape filled by fill_wave. */
Tensor *wave(Engine *eng, int ndim, const int64_t *shape, double a, double b, double scale,
             double shift);

#endif
