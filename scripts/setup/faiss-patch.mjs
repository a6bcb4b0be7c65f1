/**
 * GTE-Pro's addition to faiss-node's binding, applied to a copy of its src/faiss.cc at build time
 * (the package's own file stays as shipped): `index.setHnswParams(efSearch, efConstruction)` and
 * `index.getHnswParams()` on indexes made by `Index.fromFactory` or `Index.read`, and
 * `setOmpThreads(n)` / `getOmpThreads()` for the calling thread's OpenMP team. faiss-node 0.5.1
 * exposes none of them; FAISS's default efSearch (16) caps HNSW recall however many neighbours are
 * asked for, and a team of threads around a single HNSW query makes it slower, not faster
 * (BENCHMARKS.md, suite hnsw). Plain Node (the bootstrap imports it before node_modules may exist).
 */

/** Bump whenever the patch text changes: it is part of the bootstrap's build stamp. */
export const FAISS_PATCH_VERSION = 2;

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
    return out;
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
`;

const EDITS = [
  [
    '#include <faiss/IndexFlat.h>\n',
    '#include <faiss/IndexFlat.h>\n#include <faiss/IndexHNSW.h>\n#include <omp.h>\n',
  ],
  [
    'protected:\n  std::unique_ptr<faiss::Index> index_;',
    `${METHODS}\nprotected:\n  std::unique_ptr<faiss::Index> index_;`,
  ],
  [
    '      InstanceMethod("toBuffer", &Index::toBuffer),\n',
    '      InstanceMethod("toBuffer", &Index::toBuffer),\n' +
      '      InstanceMethod("setHnswParams", &Index::setHnswParams),\n' +
      '      InstanceMethod("getHnswParams", &Index::getHnswParams),\n',
  ],
  [
    'Napi::Object Init(Napi::Env env, Napi::Object exports)\n{\n',
    `${OMP_FUNCTIONS}\nNapi::Object Init(Napi::Env env, Napi::Object exports)\n{\n` +
      '  exports.Set("setOmpThreads", Napi::Function::New(env, SetOmpThreads));\n' +
      '  exports.Set("getOmpThreads", Napi::Function::New(env, GetOmpThreads));\n',
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
