// GTE-Pro: the exact inner-product scan of a Flat index, with AVX2/FMA distance kernels.
//
// Why: Debian's libfaiss 1.7.3 is built without SIMD, so a single query over 100,000 x 384-d
// vectors runs FAISS's scalar fvec_inner_product at a fraction of memory bandwidth. This scan
// streams the vectors once per block of queries, computes dot products with 8-wide FMAs when the
// CPU has AVX2 and FMA (chosen at run time; a scalar loop otherwise), and keeps the top k with
// FAISS's own result handlers, so ids, order and ties are FAISS's.
//
// Inlined into the patched faiss-node source by scripts/setup/faiss-patch.mjs; its text is part of
// the bootstrap's build stamp, so a change here rebuilds the binding.
#include <faiss/impl/ResultHandler.h>
#include <faiss/utils/distances.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <vector>

namespace gte
{

inline bool cpuHasAvx2Fma()
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

inline void dotsScalar(const float *q, const float *x, size_t rows, size_t d, float *out)
{
  for (size_t r = 0; r < rows; r++, x += d)
  {
    float s = 0;
    for (size_t i = 0; i < d; i++)
      s += q[i] * x[i];
    out[r] = s;
  }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) inline float horizontalSum(__m256 v)
{
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Four independent accumulators hide the FMA latency; the tail (d not a multiple of 8) is scalar.
__attribute__((target("avx2,fma"))) inline void dotsAvx2(const float *q, const float *x, size_t rows,
                                                         size_t d, float *out)
{
  for (size_t r = 0; r < rows; r++, x += d)
  {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= d; i += 32)
    {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(x + i), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(x + i + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), _mm256_loadu_ps(x + i + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= d; i += 8)
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(x + i), a0);
    float s = horizontalSum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < d; i++)
      s += q[i] * x[i];
    out[r] = s;
  }
}
#endif

/** A streaming read of n floats: the memory-bandwidth floor a scan of the same bytes is held to. */
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) inline float streamSumAvx2(const float *x, size_t n)
{
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
  {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
  }
  float s = horizontalSum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; i++)
    s += x[i];
  return s;
}
#endif

inline float streamSum(const float *x, size_t n)
{
#if defined(__x86_64__) || defined(__i386__)
  if (cpuHasAvx2Fma())
    return streamSumAvx2(x, n);
#endif
  float s = 0;
  for (size_t i = 0; i < n; i++)
    s += x[i];
  return s;
}

enum class Kernel
{
  Scalar,
  Avx2
};

/** Feeds every (score, label) of the scan to one FAISS result handler per query. */
template <class Handler>
void scanBlocks(Handler &handler, const float *xb, size_t nb, size_t d, const float *xq, size_t nq,
                Kernel kernel)
{
  std::vector<typename Handler::SingleResultHandler> perQuery;
  perQuery.reserve(nq);
  for (size_t q = 0; q < nq; q++)
  {
    perQuery.emplace_back(handler);
    perQuery.back().begin(q);
  }
  const size_t block = std::max<size_t>(16, (256 * 1024) / (d * sizeof(float) + 1));
  std::vector<float> scores(block);
  for (size_t j0 = 0; j0 < nb; j0 += block)
  {
    const size_t rows = std::min(block, nb - j0);
    const float *xj = xb + j0 * d;
    for (size_t q = 0; q < nq; q++)
    {
#if defined(__x86_64__) || defined(__i386__)
      if (kernel == Kernel::Avx2)
        dotsAvx2(xq + q * d, xj, rows, d, scores.data());
      else
#endif
        dotsScalar(xq + q * d, xj, rows, d, scores.data());
      for (size_t r = 0; r < rows; r++)
        perQuery[q].add_result(scores[r], int64_t(j0 + r));
    }
  }
  for (auto &one : perQuery)
    one.end();
}

/**
 * The k largest inner products of each of nq queries against nb vectors, written as
 * faiss::IndexFlatIP::search writes them: per query, descending, unfilled slots (k > nb) as
 * label -1 with the lowest float. The results go through the handler FAISS itself picks (a heap
 * below distance_compute_min_k_reservoir, a reservoir from there on), so ties resolve alike.
 * Vectors are visited in blocks that stay in L2 while every query of the batch is scored against
 * them: memory is streamed once per call, not once per query.
 */
inline void flatInnerProductTopK(const float *xb, size_t nb, size_t d, const float *xq, size_t nq,
                                 size_t k, float *distances, int64_t *labels, Kernel kernel)
{
  using C = faiss::CMin<float, int64_t>;
  if (k == 0 || nq == 0)
    return;
  if (k < size_t(faiss::distance_compute_min_k_reservoir))
  {
    faiss::HeapResultHandler<C> handler(nq, distances, labels, k);
    scanBlocks(handler, xb, nb, d, xq, nq, kernel);
  }
  else
  {
    faiss::ReservoirResultHandler<C> handler(nq, distances, labels, k);
    scanBlocks(handler, xb, nb, d, xq, nq, kernel);
  }
}

} // namespace gte
