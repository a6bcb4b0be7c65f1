// GTE-Pro: SIMD distances for HNSW over a Flat inner-product storage.
//
// Why: Debian's libfaiss 1.7.3 is built without SIMD, and an HNSW index spends nearly all of its
// build and search time computing distances between the query (or a new vector) and stored
// vectors through the storage's distance computer, which calls FAISS's scalar
// fvec_inner_product. This storage is FAISS's IndexFlatIP with one change: its distance computer
// uses the AVX2/FMA dot product of faiss-flat-scan.h. The stored bytes, the file format
// (write_index sees an IndexFlat) and the graph's logic are FAISS's own; only the arithmetic is
// faster, so scores may differ from FAISS's in the last bits (another summation order).
//
// useSimdHnswStorage() swaps it in for the Flat inner-product storage of an HNSW index that
// owns its storage, on a CPU with AVX2 and FMA; anything else is left as FAISS made it.
//
// Inlined after faiss-flat-scan.h into the patched faiss-node source by
// scripts/setup/faiss-patch.mjs; its text is part of the bootstrap's build stamp.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/DistanceComputer.h>

#include <cstdlib>
#include <string>

namespace gte
{

#if defined(__x86_64__) || defined(__i386__)
/** The query's inner product with each stored vector, 8-wide (faiss-flat-scan.h's kernel). */
struct SimdInnerProductDistance : faiss::FlatCodesDistanceComputer
{
  const size_t d;
  const float *base;
  const float *query = nullptr;

  explicit SimdInnerProductDistance(const faiss::IndexFlat &storage)
      : faiss::FlatCodesDistanceComputer(storage.codes.data(), storage.code_size), d(size_t(storage.d)),
        base(reinterpret_cast<const float *>(storage.codes.data()))
  {
  }

  void set_query(const float *x) override { query = x; }

  float distance_to_code(const uint8_t *code) override
  {
    float out;
    dotsAvx2(query, reinterpret_cast<const float *>(code), 1, d, &out);
    return out;
  }

  float symmetric_dis(idx_t i, idx_t j) override
  {
    float out;
    dotsAvx2(base + size_t(i) * d, base + size_t(j) * d, 1, d, &out);
    return out;
  }
};

/** IndexFlatIP whose distance computer (what HNSW asks its storage for) is the SIMD one. */
struct SimdFlatIP : faiss::IndexFlatIP
{
  explicit SimdFlatIP(idx_t d) : faiss::IndexFlatIP(d) {}

  faiss::FlatCodesDistanceComputer *get_FlatCodesDistanceComputer() const override
  {
    return new SimdInnerProductDistance(*this);
  }
};
#endif

/** "avx2" when this HNSW index computes its distances with SimdFlatIP, else "faiss". */
inline const char *hnswKernel(const faiss::Index *index)
{
#if defined(__x86_64__) || defined(__i386__)
  auto *hnsw = dynamic_cast<const faiss::IndexHNSW *>(index);
  if (hnsw && dynamic_cast<const SimdFlatIP *>(hnsw->storage))
    return "avx2";
#endif
  return "faiss";
}

/**
 * Gives an HNSW index over a Flat inner-product storage the SIMD storage (same vectors, moved
 * over). GTE_FAISS_HNSW_SIMD=0 in the environment leaves FAISS's own (for comparisons).
 */
inline void useSimdHnswStorage(faiss::Index *index)
{
#if defined(__x86_64__) || defined(__i386__)
  auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(index);
  if (!hnsw || !hnsw->own_fields || !cpuHasAvx2Fma())
    return;
  const char *off = std::getenv("GTE_FAISS_HNSW_SIMD");
  if (off && std::string(off) == "0")
    return;
  auto *flat = dynamic_cast<faiss::IndexFlat *>(hnsw->storage);
  if (!flat || dynamic_cast<SimdFlatIP *>(flat) || flat->metric_type != faiss::METRIC_INNER_PRODUCT)
    return;
  auto *simd = new SimdFlatIP(flat->d);
  simd->codes.swap(flat->codes);
  simd->ntotal = flat->ntotal;
  simd->is_trained = flat->is_trained;
  simd->verbose = flat->verbose;
  hnsw->storage = simd;
  delete flat;
#else
  (void)index;
#endif
}

} // namespace gte
