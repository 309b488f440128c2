// The checkpoint archive (see train/checkpoint.hpp).
#include "train/checkpoint.hpp"

#include <torch/serialize/archive.h>

#include <filesystem>
#include <sstream>

#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"

namespace paw::train {

void write_checkpoint(const std::string& path, const std::string& format, const std::string& identity,
                      const CheckpointCounters& c, const torch::nn::Module& trainable,
                      const torch::optim::Optimizer& optim) {
  torch::serialize::OutputArchive ar, mod, opt_ar;
  trainable.save(mod);
  optim.save(opt_ar);
  ar.write("format", c10::IValue(format));
  ar.write("identity", c10::IValue(identity));
  ar.write("step", c10::IValue(c.step));
  ar.write("cursor", c10::IValue(c.cursor));
  ar.write("skipped", c10::IValue(c.skipped));
  ar.write("tokens_seen", c10::IValue(c.tokens_seen));
  ar.write("trainable", mod);
  ar.write("optimizer", opt_ar);
  std::ostringstream os;
  ar.save_to(os);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  atomic_write_file(path, os.str());
}

CheckpointCounters read_checkpoint(const std::string& path, torch::Device dev, const std::string& format,
                                   const std::string& identity, const std::string& mismatch,
                                   torch::nn::Module& trainable, torch::optim::Optimizer& optim) {
  const std::string where = "checkpoint '" + path + "'";
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(path, dev);
  } catch (const c10::Error&) {
    throw Error("cannot read the checkpoint", where, "the file is damaged; delete it to start over");
  }
  c10::IValue v;
  auto read_int = [&](const char* key) {
    if (!ar.try_read(key, v) || !v.isInt()) throw Error(std::string("missing field '") + key + "'", where);
    return v.toInt();
  };
  if (!ar.try_read("format", v) || !v.isString() || v.toStringRef() != format)
    throw Error("not a " + format + " checkpoint", where);
  if (!ar.try_read("identity", v) || !v.isString() || v.toStringRef() != identity)
    throw Error("the checkpoint was made with " + mismatch, where,
                "checkpoint: " + (v.isString() ? v.toStringRef() : std::string("?")) + "; recipe: " + identity +
                    " — use another checkpoint_dir or the original recipe");
  CheckpointCounters c;
  c.step = read_int("step");
  c.cursor = read_int("cursor");
  c.skipped = read_int("skipped");
  c.tokens_seen = read_int("tokens_seen");
  try {
    torch::serialize::InputArchive mod, opt_ar;
    ar.read("trainable", mod);
    ar.read("optimizer", opt_ar);
    trainable.load(mod);
    optim.load(opt_ar);
  } catch (const c10::Error& e) {
    throw Error(std::string("cannot restore the training state: ") + e.what_without_backtrace(), where);
  }
  return c;
}

}  // namespace paw::train
