/*
 * data.h - reading data files and batching them.
 *
 * Files: numeric CSV (plain or gzip, any one-character delimiter) as read by
 * np.loadtxt, and IDX files (MNIST's format, plain or gzip). Errors name the
 * file and, for CSV, the row: "data.csv:12: expected 9 values, found 8".
 */
#ifndef NNREPL_DATA_H
#define NNREPL_DATA_H

#include "tensor.h"

/* np.loadtxt(path, delimiter=, dtype=): a 2-D tensor (rows, columns); a file
 * with one row or one column gives 1-D and a single value 0-d, as NumPy's
 * squeeze does. `delimiter` is one character; DATA_DELIM_WHITESPACE (' ')
 * means any run of spaces and tabs (np.loadtxt's delimiter=None). Text from
 * '#' to the end of a line is a comment; blank lines are skipped; `skiprows`
 * leading physical lines are ignored. Gzip is recognised by content. dtype is
 * DTYPE_FLOAT32 or DTYPE_INT64 (values must then be integers up to 2^24).
 * Errors: "data.csv:12: expected 9 values, found 8",
 * "data.csv:3: could not convert 'abc' to float", "data.csv: no data". */
#define DATA_DELIM_WHITESPACE ' '
Tensor *data_load_csv(Engine *eng, const char *path, char delimiter, DType dtype,
                      int skiprows);
/* IDX: unsigned-byte data; 3-D image files become float32 (N, 1, H, W) scaled
 * to [0, 1] when `as_images`, else the raw values; 1-D label files int64 (N). */
Tensor *data_load_idx(Engine *eng, const char *path, bool as_images);

/* TensorDataset: n tensors sharing their first dimension. */
typedef struct TensorDataset {
    int refcount;
    int n_tensors;
    Tensor **tensors;        /* owned */
    int64_t length;          /* first dimension */
} TensorDataset;

TensorDataset *dataset_new(Engine *eng, int n, Tensor *const *tensors);
TensorDataset *dataset_retain(TensorDataset *d);
void dataset_release(TensorDataset *d);
/* Item i (negative counts from the end): one tensor per dataset tensor (a
 * copy of row i), into out[0..n_tensors). */
bool dataset_get(Engine *eng, TensorDataset *d, int64_t i, Tensor **out);

/* Batches of a length-`n` sequence of items: the index order for an epoch.
 * The loader owns no data; callers fetch items by index (TensorDataset or a
 * user-defined Dataset). The last partial batch is kept. */
typedef struct BatchOrder {
    int64_t n;               /* items */
    int64_t batch_size;
    bool shuffle;
    int64_t *order;          /* permutation of 0..n-1 for the current epoch */
    Engine *eng;             /* whose memory accounting holds `order` */
} BatchOrder;

bool batch_order_init(Engine *eng, BatchOrder *b, int64_t n, int64_t batch_size, bool shuffle);
/* batch_order_init gives the identity order; call batch_order_new_epoch
 * before every epoch, the first included.
 * New epoch: a fresh permutation from the engine's generator when shuffling
 * (Fisher-Yates from the identity, the same draws as tensor_randperm). */
void batch_order_new_epoch(Engine *eng, BatchOrder *b);
int64_t batch_order_num_batches(const BatchOrder *b);   /* ceil(n / batch_size) */
/* Indices of batch k: out points into b->order, *count set. */
const int64_t *batch_order_batch(const BatchOrder *b, int64_t k, int64_t *count);
void batch_order_free(BatchOrder *b);

/* Gather rows `idx[0..count)` of a TensorDataset into one batch per tensor:
 * out[j] has shape (count, ...rest of tensor j) and tensor j's dtype. */
bool dataset_gather(Engine *eng, TensorDataset *d, const int64_t *idx, int64_t count,
                    Tensor **out);

#endif
