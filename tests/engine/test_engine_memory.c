/*
 * test_engine_memory.c - memory accounting, the memory limit and the cache of
 * freed buffers (engine_enable_buffer_cache).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "tensor.h"

enum { BIG = 64 * 1024 };

#ifdef __SANITIZE_ADDRESS__
#define SKIP_WITHOUT_CACHE() skip() /* AddressSanitizer builds never cache */
#else
#define SKIP_WITHOUT_CACHE() ((void)0)
#endif

static void test_accounting_without_cache(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    void *a = engine_alloc(&eng, BIG, "tensor");
    void *b = engine_alloc(&eng, 100, "tensor");
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(eng.bytes_in_use, BIG + 100);
    engine_free_accounted(&eng, a, BIG);
    assert_int_equal(eng.bytes_in_use, 100);
    assert_int_equal(eng.bytes_peak, BIG + 100);
    assert_int_equal(eng.cache.count, 0);
    engine_free_accounted(&eng, b, 100);
    assert_int_equal(eng.bytes_in_use, 0);
}

static void test_limit_message(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    engine_set_max_bytes(&eng, 1024 * 1024);
    assert_null(engine_alloc(&eng, 2 * 1024 * 1024, "tensor"));
    assert_string_equal(engine_error(&eng),
                        "tensor too large: 2.0 MB would exceed the memory limit of 1.0 MB");
}

static void test_freed_buffer_is_reused(void **state)
{
    (void)state;
    SKIP_WITHOUT_CACHE();
    Engine eng;
    engine_init(&eng);
    engine_enable_buffer_cache(&eng, 1024 * 1024);
    void *a = engine_alloc(&eng, BIG, "tensor");
    engine_free_accounted(&eng, a, BIG);
    assert_int_equal(eng.bytes_in_use, 0);
    assert_int_equal(eng.cache.count, 1);
    assert_int_equal(eng.cache.bytes, BIG);
    /* another size comes from malloc; the same size gets the cached buffer */
    void *b = engine_alloc(&eng, BIG + 4, "tensor");
    assert_ptr_not_equal(b, a);
    void *c = engine_alloc(&eng, BIG, "tensor");
    assert_ptr_equal(c, a);
    assert_int_equal(eng.cache.count, 0);
    assert_int_equal(eng.bytes_in_use, 2 * BIG + 4);
    engine_free_accounted(&eng, b, BIG + 4);
    engine_free_accounted(&eng, c, BIG);
    assert_int_equal(eng.cache.count, 2);
    engine_release_buffers(&eng);
    assert_int_equal(eng.cache.count, 0);
    assert_int_equal(eng.cache.bytes, 0);
}

static void test_small_buffers_are_not_cached(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    engine_enable_buffer_cache(&eng, 1024 * 1024);
    void *a = engine_alloc(&eng, ENGINE_CACHE_MIN_BYTES - 4, "tensor");
    engine_free_accounted(&eng, a, ENGINE_CACHE_MIN_BYTES - 4);
    assert_int_equal(eng.cache.count, 0);
    engine_release_buffers(&eng);
}

/* The cache never holds more than its bound, nor a buffer larger than a
 * quarter of it; the oldest buffers go first. */
static void test_cache_bound(void **state)
{
    (void)state;
    SKIP_WITHOUT_CACHE();
    Engine eng;
    engine_init(&eng);
    const size_t cap = 4 * BIG;
    engine_enable_buffer_cache(&eng, cap);
    void *p[6];
    for (int i = 0; i < 6; i++)
        p[i] = engine_alloc(&eng, BIG - 4 * (size_t)i, "tensor");
    for (int i = 0; i < 6; i++)
        engine_free_accounted(&eng, p[i], BIG - 4 * (size_t)i);
    assert_true(eng.cache.bytes <= cap);
    assert_int_equal(eng.cache.count, 4);
    assert_int_equal(eng.cache.slot[0].bytes, BIG - 8); /* 0 and 1 were dropped */
    void *huge = engine_alloc(&eng, cap / 2, "tensor");
    engine_free_accounted(&eng, huge, cap / 2);
    assert_int_equal(eng.cache.count, 4);
    engine_release_buffers(&eng);
}

static void test_slots_bound(void **state)
{
    (void)state;
    SKIP_WITHOUT_CACHE();
    Engine eng;
    engine_init(&eng);
    engine_enable_buffer_cache(&eng, (size_t)1 << 30);
    enum { N = ENGINE_CACHE_SLOTS + 5 };
    void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = engine_alloc(&eng, ENGINE_CACHE_MIN_BYTES, "tensor");
    for (int i = 0; i < N; i++)
        engine_free_accounted(&eng, p[i], ENGINE_CACHE_MIN_BYTES);
    assert_int_equal(eng.cache.count, ENGINE_CACHE_SLOTS);
    assert_int_equal(eng.cache.bytes, (size_t)ENGINE_CACHE_SLOTS * ENGINE_CACHE_MIN_BYTES);
    /* the newest buffer comes back first */
    void *q = engine_alloc(&eng, ENGINE_CACHE_MIN_BYTES, "tensor");
    assert_ptr_equal(q, p[N - 1]);
    engine_free_accounted(&eng, q, ENGINE_CACHE_MIN_BYTES);
    engine_release_buffers(&eng);
}

/* Cached memory is free memory as far as the limit is concerned. */
static void test_cached_bytes_do_not_count_against_the_limit(void **state)
{
    (void)state;
    Engine eng;
    engine_init(&eng);
    engine_set_max_bytes(&eng, 1024 * 1024);
    engine_enable_buffer_cache(&eng, 4 * 1024 * 1024);
    void *a = engine_alloc(&eng, 600 * 1024, "tensor");
    assert_non_null(a);
    engine_free_accounted(&eng, a, 600 * 1024);
    void *b = engine_alloc(&eng, 700 * 1024, "tensor");
    assert_non_null(b);
    assert_null(engine_alloc(&eng, 600 * 1024, "tensor"));
    engine_free_accounted(&eng, b, 700 * 1024);
    engine_release_buffers(&eng);
}

/* Tensors of one shape, made and released in turn, share one buffer and
 * start from the values they are given, not from the previous tensor's. */
static void test_tensors_reuse_storage(void **state)
{
    (void)state;
    SKIP_WITHOUT_CACHE();
    Engine eng;
    engine_init(&eng);
    engine_enable_buffer_cache(&eng, 1024 * 1024);
    const int64_t shape[2] = {64, 64};
    Tensor *a = tensor_full(&eng, DTYPE_FLOAT32, 2, shape, 3.0);
    assert_non_null(a);
    const float *data = tensor_data(a);
    tensor_release(a);
    Tensor *b = tensor_zeros(&eng, DTYPE_FLOAT32, 2, shape);
    assert_non_null(b);
    assert_ptr_equal(tensor_data(b), data);
    for (int i = 0; i < 64 * 64; i++)
        assert_true(tensor_data(b)[i] == 0.0f);
    tensor_release(b);
    assert_int_equal(eng.bytes_in_use, 0);
    engine_release_buffers(&eng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounting_without_cache),
        cmocka_unit_test(test_limit_message),
        cmocka_unit_test(test_freed_buffer_is_reused),
        cmocka_unit_test(test_small_buffers_are_not_cached),
        cmocka_unit_test(test_cache_bound),
        cmocka_unit_test(test_slots_bound),
        cmocka_unit_test(test_cached_bytes_do_not_count_against_the_limit),
        cmocka_unit_test(test_tensors_reuse_storage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
