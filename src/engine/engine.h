/*
 * engine.h - the engine context: errors, memory accounting, random numbers,
 * grad mode.
 *
 * nnrepl's tensor engine is a library. It knows nothing of the nnl language or
 * of any user interface; it never prints, never exits and never aborts on bad
 * input.
 *
 * THE ERROR RULE
 *   Every engine function that can fail returns NULL (pointers) or false
 *   (bool) and leaves a one-line message in the Engine it was given:
 *       Tensor *y = tensor_matmul(eng, a, b);
 *       if (!y) report(engine_error(eng));   // "matmul shape mismatch: (3, 2) @ (3, 1)"
 *   Messages name the operation and the shapes involved, are lower-case and
 *   carry no location: the caller knows where the call came from.
 *
 * THE OWNERSHIP RULE (see tensor.h for the details)
 *   Objects are reference counted. A function that returns an object returns
 *   a new reference which the caller must release; arguments are borrowed.
 *
 * Several Engines may exist at once (tests create many); nothing here is
 * global except OpenBLAS's own thread pool.
 */
#ifndef NNREPL_ENGINE_H
#define NNREPL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENGINE_ERROR_MAX 512
#define ENGINE_DEFAULT_MAX_BYTES ((size_t)1024 * 1024 * 1024)

/* A small, fast, seedable generator (xoshiro256**): every run with the same
 * seed draws the same numbers on every machine. */
typedef struct Rng {
    uint64_t s[4];
    bool has_spare_normal;     /* Box-Muller makes normals in pairs */
    double spare_normal;
} Rng;

/* Freed buffers of at least ENGINE_CACHE_MIN_BYTES kept for the next
 * request of the same size (see engine_enable_buffer_cache). A training loop
 * asks for the same sizes every step; handing back memory the process has
 * already touched saves malloc's mmap/munmap round trips and the page faults
 * of fresh pages, most of a small CNN's time. */
#define ENGINE_CACHE_SLOTS 64
#define ENGINE_CACHE_MIN_BYTES ((size_t)16 * 1024)
/* A request at least this large that the cache cannot serve first empties
 * the cache and trims the allocator's free memory (engine_alloc). */
#define ENGINE_TRIM_MIN_BYTES ((size_t)4 * 1024 * 1024)

typedef struct EngineBufferCache {
    size_t max_bytes;             /* 0: no cache */
    size_t bytes;                 /* held in the slots */
    int count;
    struct {
        void *data;
        size_t bytes;
    } slot[ENGINE_CACHE_SLOTS];   /* oldest first */
} EngineBufferCache;

/* Free lists of small blocks (tensor headers, storages, graph nodes, tiny
 * tensor data), one per 16-byte size class up to SMALL_BLOCK_MAX bytes. A
 * line of nnl makes and drops dozens of these; popping a list costs a few
 * instructions where malloc + free cost over a hundred. Off until enabled;
 * disabled lists pass straight to calloc/free. */
#define SMALL_BLOCK_MAX 256
#define SMALL_BLOCK_CLASSES (SMALL_BLOCK_MAX / 16)
#define SMALL_BLOCK_DEPTH 256 /* blocks kept per class */

typedef struct SmallBlocks {
    bool enabled;
    void *head[SMALL_BLOCK_CLASSES]; /* each free block starts with the next one's address */
    int count[SMALL_BLOCK_CLASSES];
} SmallBlocks;

/* A zeroed block of `bytes`, or NULL when out of memory. */
void *small_blocks_alloc(SmallBlocks *c, size_t bytes);
/* Give back a block from small_blocks_alloc of the same `bytes`. */
void small_blocks_free(SmallBlocks *c, void *p, size_t bytes);
/* Free every kept block (the lists stay enabled). */
void small_blocks_drain(SmallBlocks *c);
/* Keep freed blocks from now on (never in AddressSanitizer builds). */
void small_blocks_enable(SmallBlocks *c);

typedef struct Engine {
    char error[ENGINE_ERROR_MAX]; /* the last failure's message */
    size_t bytes_in_use;          /* tensor storage currently allocated */
    size_t bytes_peak;
    size_t max_bytes;             /* a storage request beyond this is an error */
    bool grad_enabled;            /* false inside torch.no_grad() */
    Rng rng;
    /* Set asynchronously (signal handler, timer) to ask long kernels and the
     * evaluator to stop at the next safe point. The engine only reads it. */
    volatile int *interrupt_flag;
    EngineBufferCache cache;
    SmallBlocks blocks;
} Engine;

/* An engine with seed 0, grad mode on and the default memory cap. */
void engine_init(Engine *eng);

/* Record a failure: printf-style, returns false so callers can write
 * `return engine_fail(eng, "...")`. */
bool engine_fail(Engine *eng, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *engine_error(const Engine *eng);
void engine_clear_error(Engine *eng);

/* Memory accounting. engine_alloc fails (NULL + message) when the request
 * would take bytes_in_use past max_bytes or when malloc fails. */
void *engine_alloc(Engine *eng, size_t bytes, const char *what);
void engine_free_accounted(Engine *eng, void *p, size_t bytes);
void engine_set_max_bytes(Engine *eng, size_t max_bytes);


/* Keep up to max_bytes of freed buffers for reuse (off after engine_init),
 * and small freed objects on eng->blocks. Cached memory is not "in use" for
 * the memory limit. An Engine whose cache was enabled must be finished with
 * engine_release_buffers, which frees what the caches hold (they stay
 * enabled). Builds with AddressSanitizer never cache, so that a use after
 * free is still seen. */
void engine_enable_buffer_cache(Engine *eng, size_t max_bytes);
void engine_release_buffers(Engine *eng);

/* Zeroed small objects of the engine (tensor headers, nodes) and their
 * release; through eng->blocks. */
void *engine_object_alloc(Engine *eng, size_t bytes);
void engine_object_free(Engine *eng, void *p, size_t bytes);

/* Random numbers (all draw from eng->rng). */
void rng_seed(Rng *rng, uint64_t seed);
uint64_t rng_next_u64(Rng *rng);
double rng_uniform(Rng *rng);            /* [0, 1) */
double rng_normal(Rng *rng);             /* mean 0, standard deviation 1 */
int64_t rng_below(Rng *rng, int64_t n);  /* uniform integer in [0, n), n > 0 */

/* Shapes as text, for error messages: "(3, 2)"; "()" for a 0-d tensor. */
void shape_format(char *buf, size_t size, int ndim, const int64_t *shape);

#endif
