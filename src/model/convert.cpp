// `paw convert`: a model GGUF's matrices in another type, everything else as it was, and a
// record of the original (paw/model/convert.hpp).
#include "paw/model/convert.hpp"

#include <filesystem>
#include <vector>

#include "paw/adapter/merge.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "paw/util/sha256.hpp"

namespace paw {

std::optional<ModelSource> converted_from(const GGUFFile& f) {
  const GGUFValue* name = f.find(source_key::name);
  const GGUFValue* size = f.find(source_key::size);
  const GGUFValue* sha = f.find(source_key::sha256);
  if (!name && !size && !sha) return std::nullopt;
  const std::string hint = "a file made by `paw convert` has all of paw.source.name, .size and .sha256";
  if (!name || !size || !sha) throw Error("the record of the original file is incomplete", f.path(), hint);
  if (name->type() != GGUFType::STRING || sha->type() != GGUFType::STRING || !size->is_integer())
    throw Error("the record of the original file has a wrongly typed key", f.path(), hint);
  ModelSource s{name->as_string(), size->as_u64(), sha->as_string()};
  if (!is_sha256_hex(s.sha256))
    throw Error("paw.source.sha256 is not 64 lower-case hex digits", f.path(), hint);
  return s;
}

ConvertReport convert_model_gguf(const std::string& in, const std::string& out, const ConvertOptions& o) {
  if (o.type != DType::F32 && o.type != DType::F16 && o.type != DType::Q8_0 && o.type != DType::Q4_0)
    throw Error("cannot convert a model to " + std::string(dtype_name(o.type)), "paw convert", "pick f16, q8_0, q4_0 or f32");
  if (same_file(in, out))
    throw Error("the output is the input file", out, "write the converted copy under another name");
  const GGUFFile src = GGUFFile::open(in);
  if (src.find("compiler.version"))
    throw Error("this is a compiler file, not a model", in, "convert the interpreter the compiler was trained for");
  if (src.find("adapter.type"))
    throw Error("this is an adapter, not a model", in, "convert the base model; `paw compile --adapter-type` sets a program's");
  if (!src.find("general.architecture"))
    throw Error("not a model: general.architecture is missing", in,
                "convert a model GGUF (an adapter or compiler file is not one)");

  ConvertReport rep;
  rep.bytes_in = src.file_size();
  ModelSource origin;
  if (const std::optional<ModelSource> s = converted_from(src)) {
    origin = *s;  // a chain of conversions names the first file
  } else {
    origin = {std::filesystem::path(in).filename().string(), src.file_size(), sha256_file_hex(in)};
  }
  rep.source_name = origin.name;
  rep.source_sha256 = origin.sha256;

  GGUFWriter w;
  for (const auto& [key, value] : src.metadata()) w.set(key, value);  // general.alignment included
  w.set("general.file_type", GGUFValue::u32(llama_file_type(o.type)));
  w.set(source_key::name, GGUFValue::string(origin.name));
  w.set(source_key::size, GGUFValue::u64(origin.size));
  w.set(source_key::sha256, GGUFValue::string(origin.sha256));

  const int64_t block = traits(o.type).block_size;
  for (const GGUFTensorInfo& t : src.tensors()) {
    // Matrices only: norms, biases and other vectors stay as they are (F32 in every file paw
    // and llama.cpp write), and so does a matrix already of the type (no second rounding).
    if (t.ne.size() != 2 || t.type == o.type) {
      w.add_tensor(t.name, t.type, t.ne, t.data, t.n_bytes);
      ++rep.kept;
      continue;
    }
    const DType type = t.ne[0] % block == 0 ? o.type : DType::F16;
    if (type == t.type) {  // the F16 fallback of a matrix already in F16
      w.add_tensor(t.name, t.type, t.ne, t.data, t.n_bytes);
      ++rep.kept;
      continue;
    }
    const std::vector<float> values = dequantize_matrix(MatrixView{t.type, t.rows(), t.ne[0], t.data});  // [rows, ne0]
    w.add_tensor_f32(t.name, type, t.ne, values.data());
    ++(type == o.type ? rep.converted : rep.fallback_f16);
    src.release(t.data, t.n_bytes);
  }
  w.write(out);
  rep.bytes_out = std::filesystem::file_size(out);
  return rep;
}

}  // namespace paw
