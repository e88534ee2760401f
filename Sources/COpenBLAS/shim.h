#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H

/* Debian's libopenblas-dev: cblas.h from the pthread flavour (pkg-config openblas). */
#include <cblas.h>

/* C = A · Bᵀ + C for row-major A (m×k), B (n×k), C (m×n): a linear layer's product with its
   [out, in] weight, which is how PyTorch stores nn.Linear. beta 1 keeps a bias already in C. */
static inline void cblas_linear_rows(int m, int n, int k, const float *a, const float *b, float *c, float beta) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, beta, c, n);
}

/* C = alpha · A · Bᵀ for row-major A (m×k) with leading dimension lda, B (n×k) with ldb,
   C (m×n): attention scores Q·Kᵀ of one head, read in place from the packed projections. */
static inline void cblas_scores(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float *c) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, alpha, a, lda, b, ldb, 0.0f, c, n);
}

/* C = A · B for row-major A (m×k), B (k×n) with leading dimension ldb, C (m×n) with ldc:
   one head's probabilities times its values, written into the head's columns. */
static inline void cblas_mix(int m, int n, int k, const float *a, const float *b, int ldb, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, ldb, 0.0f, c, ldc);
}

static inline void cblas_threads(int count) {
    openblas_set_num_threads(count);
}

#endif
