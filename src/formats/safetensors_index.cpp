// Sharded HF checkpoints: model.safetensors.index.json maps every tensor name to the shard
// file holding it. The shards are opened (mmap) once each and presented as one lookup.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "paw/formats/safetensors.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace fs = std::filesystem;

namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::map<std::string, std::string> SafetensorsCheckpoint::parse_index(std::string_view json_text,
                                                                      const std::string& name) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(std::string("index is not valid JSON: ") + e.what(), at_offset(name, e.byte > 0 ? e.byte - 1 : 0),
                "the index file is corrupt; download it again");
  } catch (const nlohmann::json::exception& e) {  // e.g. a number literal past double's range
    throw Error(std::string("index is not valid JSON: ") + e.what(), name, "the index file is corrupt; download it again");
  }
  if (!root.is_object()) throw Error("index is not a JSON object", name, "expected {\"weight_map\": {...}}");
  auto it = root.find("weight_map");
  if (it == root.end() || !it->is_object())
    throw Error("field 'weight_map' is missing or not an object", name + ": field 'weight_map'",
                "a sharded checkpoint index maps tensor names to shard files");
  std::map<std::string, std::string> map;
  for (const auto& [tensor, shard] : it->items()) {
    std::string where = name + ": field 'weight_map', tensor '" + tensor + "'";
    if (!shard.is_string()) throw Error("shard file name is not a string", where, "expected \"model-00001-of-0000N.safetensors\"");
    const auto& file = shard.get_ref<const std::string&>();
    // Shards sit beside the index; anything else could reach outside the model folder.
    if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos ||
        file.find('\\') != std::string::npos || file.find('\0') != std::string::npos)
      throw Error("shard file name '" + file + "' is not a plain file name", where,
                  "shards must be in the same folder as the index");
    map.emplace(tensor, file);
  }
  if (map.empty()) throw Error("'weight_map' is empty", name + ": field 'weight_map'", "the index lists no tensors");
  return map;
}

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& path) {
  std::string file = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(fs::path(path) / kIndexName, ec)) {
      file = (fs::path(path) / kIndexName).string();
    } else if (fs::exists(fs::path(path) / kSingleName, ec)) {
      file = (fs::path(path) / kSingleName).string();
    } else {
      throw Error(std::string("no ") + kIndexName + " or " + kSingleName + " in the folder", path,
                  "point at a Hugging Face model folder or a .safetensors file");
    }
  }

  SafetensorsCheckpoint ck;
  ck.path_ = file;
  if (!ends_with(file, ".json")) {
    ck.shards_.push_back(SafetensorsFile::open(file));
    for (const auto& t : ck.shards_[0].tensors()) ck.lookup_.emplace(t.name, Entry{0, &t});
    return ck;
  }

  auto weight_map = parse_index(read_file_to_string(file), file);
  fs::path dir = fs::path(file).parent_path();
  std::map<std::string, size_t> shard_index;  // shard file name -> position in shards_
  for (const auto& [tensor, shard] : weight_map) {
    if (shard_index.count(shard)) continue;
    std::string shard_path = (dir / shard).string();
    if (!fs::exists(shard_path, ec))
      throw Error("shard file '" + shard + "' (holding tensor '" + tensor + "') does not exist", file,
                  "download every shard listed in the index into " + (dir.empty() ? std::string(".") : dir.string()));
    shard_index.emplace(shard, ck.shards_.size());
    ck.shards_.push_back(SafetensorsFile::open(shard_path));
  }
  // shards_ is complete: pointers into it stay valid from here on.
  for (const auto& [tensor, shard] : weight_map) {
    size_t i = shard_index.at(shard);
    const SafetensorsTensor* t = ck.shards_[i].find(tensor);
    if (!t)
      throw Error("tensor '" + tensor + "' is mapped to shard '" + shard + "' but that shard does not contain it",
                  file + ": field 'weight_map'", "the index and the shards come from different checkpoints");
    ck.lookup_.emplace(tensor, Entry{i, t});
  }
  return ck;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  out.reserve(lookup_.size());
  for (const auto& [name, e] : lookup_) out.push_back(name);
  return out;
}

const SafetensorsTensor* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = lookup_.find(name);
  return it == lookup_.end() ? nullptr : it->second.tensor;
}

const SafetensorsTensor& SafetensorsCheckpoint::get(std::string_view name) const {
  return *shard_of(name).find(name);
}

const SafetensorsFile& SafetensorsCheckpoint::shard_of(std::string_view name) const {
  auto it = lookup_.find(name);
  if (it == lookup_.end())
    throw Error("tensor '" + std::string(name) + "' not found (" + std::to_string(lookup_.size()) +
                    " tensors in checkpoint)",
                path_, "check the tensor name and that this is the right checkpoint");
  return shards_[it->second.shard];
}

std::vector<float> SafetensorsCheckpoint::to_f32(std::string_view name) const {
  return st_tensor_to_f32(get(name), shard_of(name).path());
}

}  // namespace paw
