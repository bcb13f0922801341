#include "engine.h"
#include "kernels.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

void engine_init(Engine *eng)
{
    memset(eng, 0, sizeof *eng);
    eng->max_bytes = ENGINE_DEFAULT_MAX_BYTES;
    eng->grad_enabled = true;
    rng_seed(&eng->rng, 0);
}

bool engine_fail(Engine *eng, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(eng->error, sizeof eng->error, fmt, ap);
    va_end(ap);
    return false;
}

const char *engine_error(const Engine *eng)
{
    return eng->error[0] ? eng->error : "unknown engine error";
}

void engine_clear_error(Engine *eng)
{
    eng->error[0] = '\0';
}

static void format_megabytes(char *buf, size_t size, size_t bytes)
{
    snprintf(buf, size, "%.1f MB", (double)bytes / (1024.0 * 1024.0));
}

/* ---- small blocks ---- */

void small_blocks_enable(SmallBlocks *c)
{
#ifndef __SANITIZE_ADDRESS__
    c->enabled = true;
#else
    (void)c;
#endif
}

static int small_class(size_t bytes)
{
    return bytes == 0 ? 0 : (int)((bytes - 1) / 16);
}

void *small_blocks_alloc(SmallBlocks *c, size_t bytes)
{
    if (!c->enabled || bytes > SMALL_BLOCK_MAX)
        return calloc(1, bytes ? bytes : 1);
    int k = small_class(bytes);
    void *p = c->head[k];
    if (!p)
        return calloc(1, (size_t)(k + 1) * 16); /* the class's full size: any request of it fits */
    memcpy(&c->head[k], p, sizeof(void *));
    c->count[k]--;
    memset(p, 0, (size_t)(k + 1) * 16);
    return p;
}

void small_blocks_free(SmallBlocks *c, void *p, size_t bytes)
{
    if (!p)
        return;
    if (!c->enabled || bytes > SMALL_BLOCK_MAX) {
        free(p);
        return;
    }
    int k = small_class(bytes);
    if (c->count[k] >= SMALL_BLOCK_DEPTH) {
        free(p);
        return;
    }
    memcpy(p, &c->head[k], sizeof(void *));
    c->head[k] = p;
    c->count[k]++;
}

void small_blocks_drain(SmallBlocks *c)
{
    for (int k = 0; k < SMALL_BLOCK_CLASSES; k++) {
        while (c->head[k]) {
            void *p = c->head[k];
            memcpy(&c->head[k], p, sizeof(void *));
            free(p);
        }
        c->count[k] = 0;
    }
}

void *engine_object_alloc(Engine *eng, size_t bytes)
{
    return small_blocks_alloc(&eng->blocks, bytes);
}

void engine_object_free(Engine *eng, void *p, size_t bytes)
{
    small_blocks_free(&eng->blocks, p, bytes);
}

/* ---- the buffer cache ---- */

void engine_enable_buffer_cache(Engine *eng, size_t max_bytes)
{
#ifdef __SANITIZE_ADDRESS__
    max_bytes = 0;
#endif
    eng->cache.max_bytes = max_bytes;
    small_blocks_enable(&eng->blocks);
}

static void cache_drop(EngineBufferCache *c, int i)
{
    c->bytes -= c->slot[i].bytes;
    c->count--;
    memmove(&c->slot[i], &c->slot[i + 1], (size_t)(c->count - i) * sizeof c->slot[0]);
}

/* A cached buffer of exactly `bytes`, the most recently freed one, or NULL. */
static void *cache_take(EngineBufferCache *c, size_t bytes)
{
    for (int i = c->count - 1; i >= 0; i--) {
        if (c->slot[i].bytes == bytes) {
            void *p = c->slot[i].data;
            cache_drop(c, i);
            return p;
        }
    }
    return NULL;
}

/* Keep p for reuse, making room by freeing the oldest buffers; false when
 * the cache does not take it. */
static bool cache_put(EngineBufferCache *c, void *p, size_t bytes)
{
    if (bytes < ENGINE_CACHE_MIN_BYTES || bytes > c->max_bytes / 4)
        return false;
    while (c->count > 0 && (c->count == ENGINE_CACHE_SLOTS || c->bytes + bytes > c->max_bytes)) {
        free(c->slot[0].data);
        cache_drop(c, 0);
    }
    c->slot[c->count].data = p;
    c->slot[c->count].bytes = bytes;
    c->count++;
    c->bytes += bytes;
    return true;
}

static void cache_empty(EngineBufferCache *c)
{
    for (int i = 0; i < c->count; i++)
        free(c->slot[i].data);
    c->count = 0;
    c->bytes = 0;
}

void engine_release_buffers(Engine *eng)
{
    cache_empty(&eng->cache);
    small_blocks_drain(&eng->blocks);
}

/* Before a large request the caches cannot serve: give the cached buffers
 * back, and the allocator's free pages to the system when there are many.
 * A program that ends with one big evaluation (a CNN over the whole test
 * set) would otherwise pay for it on top of everything its training loop
 * left free: glibc serves the big request with fresh pages while megabytes
 * of freed heap stay resident. Rare, and cheap next to faulting in the
 * pages of a request this size. */
static void make_room_for(Engine *eng, size_t bytes)
{
    cache_empty(&eng->cache);
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks >= bytes / 2)
        malloc_trim(0);
#else
    (void)bytes;
#endif
}

/* ---- memory accounting ---- */

void *engine_alloc(Engine *eng, size_t bytes, const char *what)
{
    if (bytes > eng->max_bytes || eng->bytes_in_use > eng->max_bytes - bytes) {
        char want[32], cap[32];
        format_megabytes(want, sizeof want, bytes);
        format_megabytes(cap, sizeof cap, eng->max_bytes);
        engine_fail(eng, "%s too large: %s would exceed the memory limit of %s", what, want, cap);
        return NULL;
    }
    void *p = NULL;
    if (bytes <= SMALL_BLOCK_MAX)
        p = small_blocks_alloc(&eng->blocks, bytes);
    else if (bytes >= ENGINE_CACHE_MIN_BYTES && eng->cache.count)
        p = cache_take(&eng->cache, bytes);
    if (!p && eng->cache.max_bytes && bytes >= ENGINE_TRIM_MIN_BYTES)
        make_room_for(eng, bytes);
    if (!p)
        p = malloc(bytes ? bytes : 1);
    if (!p && eng->cache.count) {
        engine_release_buffers(eng);
        p = malloc(bytes ? bytes : 1);
    }
    if (!p) {
        engine_fail(eng, "out of memory allocating %s", what);
        return NULL;
    }
    eng->bytes_in_use += bytes;
    if (eng->bytes_in_use > eng->bytes_peak)
        eng->bytes_peak = eng->bytes_in_use;
    return p;
}

void engine_free_accounted(Engine *eng, void *p, size_t bytes)
{
    if (!p)
        return;
    if (bytes <= SMALL_BLOCK_MAX)
        small_blocks_free(&eng->blocks, p, bytes);
    else if (!cache_put(&eng->cache, p, bytes))
        free(p);
    eng->bytes_in_use -= bytes;
}

void engine_set_max_bytes(Engine *eng, size_t max_bytes)
{
    eng->max_bytes = max_bytes;
}

/* ---- xoshiro256** seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(Rng *rng, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&s);
    rng->has_spare_normal = false;
    rng->spare_normal = 0.0;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next_u64(Rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(Rng *rng)
{
    return (double)(rng_next_u64(rng) >> 11) * 0x1.0p-53;
}

double rng_normal(Rng *rng)
{
    if (rng->has_spare_normal) {
        rng->has_spare_normal = false;
        return rng->spare_normal;
    }
    double u1, u2;
    do {
        u1 = rng_uniform(rng);
    } while (u1 <= 0.0);
    u2 = rng_uniform(rng);
    double r = sqrt(-2.0 * log(u1));
    double theta = 2.0 * 3.14159265358979323846 * u2;
    rng->spare_normal = r * sin(theta);
    rng->has_spare_normal = true;
    return r * cos(theta);
}

int64_t rng_below(Rng *rng, int64_t n)
{
    /* Rejection sampling keeps the draw unbiased for any n. */
    uint64_t un = (uint64_t)n;
    uint64_t limit = UINT64_MAX - UINT64_MAX % un;
    uint64_t x;
    do {
        x = rng_next_u64(rng);
    } while (x >= limit);
    return (int64_t)(x % un);
}

void dims_format(char *buf, size_t size, int ndim, const int64_t *shape, char open, char close)
{
    size_t used = 0;
    int n = snprintf(buf, size, "%c", open);
    used = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < ndim && used < size; i++) {
        n = snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)shape[i]);
        if (n > 0)
            used += (size_t)n;
    }
    if (used < size)
        snprintf(buf + used, size - used, "%c", close);
}

void shape_format(char *buf, size_t size, int ndim, const int64_t *shape)
{
    dims_format(buf, size, ndim, shape, '(', ')');
}
