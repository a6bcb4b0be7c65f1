/**
 * GTE-Pro's addition to faiss-node's binding, applied to a copy of its src/faiss.cc at build time
 * (the package's own file stays as shipped): `index.setHnswParams(efSearch, efConstruction)` and
 * `index.getHnswParams()` on indexes made by `Index.fromFactory` or `Index.read`, and
 * `setOmpThreads(n)` / `getOmpThreads()` for the calling thread's OpenMP team. faiss-node 0.5.1
 * exposes none of them; FAISS's default efSearch (16) caps HNSW recall however many neighbours are
 * asked for, and a team of threads around a single HNSW query makes it slower, not faster
 * (BENCHMARKS.md, suite hnsw).
 *
 * Also `index.searchTyped(queries: Float32Array, k, kernel?)` and `index.addTyped(vectors)`,
 * which take and give typed arrays (faiss-node converts every number through a JS array), and
 * scan a Flat inner-product index with the SIMD kernels of faiss-flat-scan.h (inlined here)
 * for fewer queries than FAISS's BLAS threshold; `simdKernel()` says which kernel this CPU gets,
 * and `streamSum(values)` reads memory as fast as it goes (the scan's floor, for the benchmarks).
 * An HNSW index over a Flat inner-product storage gets the SIMD storage of faiss-hnsw-simd.h
 * wherever the binding makes one (factory, file, buffer): its build and search compute their
 * distances 8-wide; `getHnswParams().kernel` says which ("avx2" or "faiss").
 * Plain Node (the bootstrap imports it before node_modules may exist).
 */
import { readFileSync } from 'node:fs';

/** Bump whenever the patch text changes: it is part of the bootstrap's build stamp. */
export const FAISS_PATCH_VERSION = 4;

const FLAT_SCAN = readFileSync(new URL('./faiss-flat-scan.h', import.meta.url), 'utf8');
const HNSW_SIMD = readFileSync(new URL('./faiss-hnsw-simd.h', import.meta.url), 'utf8');

/** After each place faiss.cc makes an index (factory, file, buffer): the SIMD HNSW storage. */
const SIMD_STORAGE = '\n      gte::useSimdHnswStorage(index->index_.get());';

const METHODS = `
  // GTE-Pro: HNSW's search breadth (efSearch) and build breadth (efConstruction). Either argument
  // may be omitted or negative to keep the current value; false when the index is not HNSW.
  Napi::Value setHnswParams(const Napi::CallbackInfo &info)
  {
    Napi::Env env = info.Env();
    auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(index_.get());
    if (!hnsw)
      return Napi::Boolean::New(env, false);
    for (size_t i = 0; i < info.Length() && i < 2; i++)
    {
      if (info[i].IsUndefined() || info[i].IsNull())
        continue;
      if (!info[i].IsNumber())
      {
        Napi::TypeError::New(env, "efSearch and efConstruction must be numbers.").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      int value = info[i].As<Napi::Number>().Int32Value();
      if (value <= 0)
        continue;
      if (i == 0)
        hnsw->hnsw.efSearch = value;
      else
        hnsw->hnsw.efConstruction = value;
    }
    return Napi::Boolean::New(env, true);
  }

  Napi::Value getHnswParams(const Napi::CallbackInfo &info)
  {
    Napi::Env env = info.Env();
    auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(index_.get());
    if (!hnsw)
      return env.Null();
    Napi::Object out = Napi::Object::New(env);
    out.Set("efSearch", Napi::Number::New(env, hnsw->hnsw.efSearch));
    out.Set("efConstruction", Napi::Number::New(env, hnsw->hnsw.efConstruction));
    out.Set("kernel", Napi::String::New(env, gte::hnswKernel(index_.get())));
    return out;
  }

  // GTE-Pro: typed arrays in and out. kernel: "auto" (the SIMD scan for a Flat inner-product
  // index below FAISS's BLAS threshold, else FAISS), "avx2", "scalar" or "faiss" (FAISS's own
  // search, any index). Unfilled slots (k > ntotal) are label -1, as FAISS writes them.
  Napi::Value searchTyped(const Napi::CallbackInfo &info)
  {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    {
      Napi::TypeError::New(env, "searchTyped(queries: Float32Array, k: number, kernel?: string)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Float32Array queries = info[0].As<Napi::Float32Array>();
    const size_t d = index_->d;
    const int64_t kArg = info[1].As<Napi::Number>().Int64Value();
    if (queries.ElementLength() % d != 0 || kArg < 0)
    {
      Napi::Error::New(env, "queries must hold whole vectors of the index's dimension and k must be >= 0").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const size_t nq = queries.ElementLength() / d, k = size_t(kArg);
    std::string kernel = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "auto";
    auto *flat = dynamic_cast<faiss::IndexFlat *>(index_.get());
    const bool innerProduct = flat && flat->metric_type == faiss::METRIC_INNER_PRODUCT;
    static const bool simd = gte::cpuHasAvx2Fma();
    if (kernel == "auto")
      kernel = innerProduct && nq < size_t(faiss::distance_compute_blas_threshold) ? (simd ? "avx2" : "scalar") : "faiss";
    if (kernel != "faiss" && kernel != "avx2" && kernel != "scalar")
    {
      Napi::Error::New(env, "kernel must be auto, avx2, scalar or faiss").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (kernel != "faiss" && !innerProduct)
    {
      Napi::Error::New(env, "the " + kernel + " kernel scans Flat inner-product indexes only").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (kernel == "avx2" && !simd)
    {
      Napi::Error::New(env, "this CPU lacks AVX2 and FMA").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Float32Array distances = Napi::Float32Array::New(env, nq * k);
    std::vector<idx_t> found(nq * k, -1);
    if (kernel == "faiss")
    {
      if (nq > 0 && k > 0)
        index_->search(nq, queries.Data(), k, distances.Data(), found.data());
    }
    else
      gte::flatInnerProductTopK(flat->get_xb(), size_t(flat->ntotal), d, queries.Data(), nq, k, distances.Data(),
                                found.data(), kernel == "avx2" ? gte::Kernel::Avx2 : gte::Kernel::Scalar);
    Napi::Float64Array labels = Napi::Float64Array::New(env, nq * k);
    for (size_t i = 0; i < nq * k; i++)
      labels[i] = double(found[i]);
    Napi::Object out = Napi::Object::New(env);
    out.Set("distances", distances);
    out.Set("labels", labels);
    out.Set("kernel", kernel);
    return out;
  }

  Napi::Value addTyped(const Napi::CallbackInfo &info)
  {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        info[0].As<Napi::Float32Array>().ElementLength() % index_->d != 0)
    {
      Napi::TypeError::New(env, "addTyped(vectors: Float32Array) takes whole vectors of the index's dimension").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Float32Array vectors = info[0].As<Napi::Float32Array>();
    const size_t n = vectors.ElementLength() / index_->d;
    if (n > 0)
      index_->add(n, vectors.Data());
    return env.Undefined();
  }
`;

const OMP_FUNCTIONS = `
// GTE-Pro: the OpenMP team size of the calling thread's later parallel regions (FAISS's loops).
Napi::Value SetOmpThreads(const Napi::CallbackInfo &info)
{
  if (info.Length() > 0 && info[0].IsNumber() && info[0].As<Napi::Number>().Int32Value() > 0)
    omp_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

Napi::Value GetOmpThreads(const Napi::CallbackInfo &info)
{
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

// GTE-Pro: a streaming sum of a Float32Array, the memory-bandwidth floor the benchmarks hold the
// Flat scan to (BENCHMARKS.md, suite exact).
Napi::Value StreamSum(const Napi::CallbackInfo &info)
{
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
  {
    Napi::TypeError::New(info.Env(), "streamSum(values: Float32Array)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Float32Array values = info[0].As<Napi::Float32Array>();
  return Napi::Number::New(info.Env(), gte::streamSum(values.Data(), values.ElementLength()));
}

// GTE-Pro: the kernel searchTyped's "auto" scans a Flat inner-product index with on this CPU.
Napi::Value SimdKernel(const Napi::CallbackInfo &info)
{
  return Napi::String::New(info.Env(), gte::cpuHasAvx2Fma() ? "avx2" : "scalar");
}
`;

const EDITS = [
  [
    '#include <faiss/IndexFlat.h>\n',
    `#include <faiss/IndexFlat.h>\n#include <faiss/IndexHNSW.h>\n#include <faiss/utils/distances.h>\n#include <omp.h>\n${FLAT_SCAN}\n${HNSW_SIMD}\n`,
  ],
  ...[
    'faiss::read_index(fname.c_str())));',
    'faiss::read_index(reader)));',
    'faiss::index_factory(d, description.c_str(), metric)));',
  ].map((anchor) => [anchor, `${anchor}${SIMD_STORAGE}`]),
  [
    'protected:\n  std::unique_ptr<faiss::Index> index_;',
    `${METHODS}\nprotected:\n  std::unique_ptr<faiss::Index> index_;`,
  ],
  [
    '      InstanceMethod("toBuffer", &Index::toBuffer),\n',
    '      InstanceMethod("toBuffer", &Index::toBuffer),\n' +
      '      InstanceMethod("setHnswParams", &Index::setHnswParams),\n' +
      '      InstanceMethod("getHnswParams", &Index::getHnswParams),\n' +
      '      InstanceMethod("searchTyped", &Index::searchTyped),\n' +
      '      InstanceMethod("addTyped", &Index::addTyped),\n',
  ],
  [
    '      InstanceMethod("toBuffer", &IndexFlatIP::toBuffer),\n',
    '      InstanceMethod("toBuffer", &IndexFlatIP::toBuffer),\n' +
      '      InstanceMethod("searchTyped", &IndexFlatIP::searchTyped),\n' +
      '      InstanceMethod("addTyped", &IndexFlatIP::addTyped),\n',
  ],
  [
    'Napi::Object Init(Napi::Env env, Napi::Object exports)\n{\n',
    `${OMP_FUNCTIONS}\nNapi::Object Init(Napi::Env env, Napi::Object exports)\n{\n` +
      '  exports.Set("setOmpThreads", Napi::Function::New(env, SetOmpThreads));\n' +
      '  exports.Set("getOmpThreads", Napi::Function::New(env, GetOmpThreads));\n' +
      '  exports.Set("simdKernel", Napi::Function::New(env, SimdKernel));\n' +
      '  exports.Set("streamSum", Napi::Function::New(env, StreamSum));\n',
  ],
];

/** faiss.cc with the addition, or an Error naming the anchor a different faiss-node lacks. */
export function patchFaissSource(source) {
  let out = source;
  for (const [anchor, replacement] of EDITS) {
    if (out.split(anchor).length !== 2)
      throw new Error(
        `faiss-node's src/faiss.cc changed: expected exactly one ${JSON.stringify(anchor.trim())}`,
      );
    out = out.replace(anchor, () => replacement);
  }
  return out;
}
