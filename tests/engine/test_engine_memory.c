/*
 * test_engine_memory.c - memory accounting, the memory limit, the cache of
 * freed buffers (engine_enable_buffer_cache) and the small-block lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "ops.h"
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

/* Small blocks: a freed block comes back zeroed for any request of its
 * 16-byte class; each class keeps at most SMALL_BLOCK_DEPTH blocks. */
static void test_small_blocks_reuse(void **state)
{
    (void)state;
    SKIP_WITHOUT_CACHE();
    SmallBlocks c = {0};
    small_blocks_enable(&c);
    unsigned char *a = small_blocks_alloc(&c, 40);
    assert_non_null(a);
    memset(a, 0xab, 40);
    small_blocks_free(&c, a, 40);
    assert_int_equal(c.count[2], 1);
    unsigned char *b = small_blocks_alloc(&c, 48); /* same class (33..48 bytes) */
    assert_ptr_equal(b, a);
    for (int i = 0; i < 48; i++)
        assert_int_equal(b[i], 0);
    unsigned char *d = small_blocks_alloc(&c, 49); /* the next class */
    assert_ptr_not_equal(d, a);
    small_blocks_free(&c, b, 48);
    small_blocks_free(&c, d, 49);
    void *big = small_blocks_alloc(&c, SMALL_BLOCK_MAX + 1); /* not kept */
    small_blocks_free(&c, big, SMALL_BLOCK_MAX + 1);
    small_blocks_drain(&c);
    for (int k = 0; k < SMALL_BLOCK_CLASSES; k++) {
        assert_null(c.head[k]);
        assert_int_equal(c.count[k], 0);
    }
}

static void test_small_blocks_depth(void **state)
{
    (void)state;
    SKIP_WITHOUT_CACHE();
    SmallBlocks c = {0};
    small_blocks_enable(&c);
    enum { N = SMALL_BLOCK_DEPTH + 3 };
    static void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = small_blocks_alloc(&c, 16);
    for (int i = 0; i < N; i++)
        small_blocks_free(&c, p[i], 16);
    assert_int_equal(c.count[0], SMALL_BLOCK_DEPTH);
    small_blocks_drain(&c);
}

/* Disabled lists keep nothing. */
static void test_small_blocks_disabled(void **state)
{
    (void)state;
    SmallBlocks c = {0};
    void *a = small_blocks_alloc(&c, 32);
    assert_non_null(a);
    small_blocks_free(&c, a, 32);
    assert_int_equal(c.count[1], 0);
    assert_null(c.head[1]);
}

/* Tensor headers, storages and graph nodes go back to the engine's lists
 * and come out again for the next op. */
static void test_engine_objects_are_reused(void **state)
{
    (void)state;
    SKIP_WITHOUT_CACHE();
    Engine eng;
    engine_init(&eng);
    engine_enable_buffer_cache(&eng, 1024 * 1024);
    Tensor *w = tensor_full(&eng, DTYPE_FLOAT32, 1, (const int64_t[]){3}, 2.0);
    w->requires_grad = true;
    for (int round = 0; round < 3; round++) {
        Tensor *y = tensor_mul(&eng, w, w);
        assert_non_null(y);
        assert_non_null(y->grad_fn);
        assert_true(tensor_data(y)[1] == 4.0f);
        tensor_release(y);
    }
    int kept = 0;
    for (int k = 0; k < SMALL_BLOCK_CLASSES; k++)
        kept += eng.blocks.count[k];
    assert_true(kept >= 3); /* at least a tensor header, a storage and a node */
    tensor_release(w);
    assert_int_equal(eng.bytes_in_use, 0);
    engine_release_buffers(&eng);
    for (int k = 0; k < SMALL_BLOCK_CLASSES; k++)
        assert_int_equal(eng.blocks.count[k], 0);
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
        cmocka_unit_test(test_small_blocks_reuse),
        cmocka_unit_test(test_small_blocks_depth),
        cmocka_unit_test(test_small_blocks_disabled),
        cmocka_unit_test(test_engine_objects_are_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
