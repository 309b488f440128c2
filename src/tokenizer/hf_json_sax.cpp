#include "tokenizer/hf_json_sax.hpp"

#include "paw/util/error.hpp"
#include "tokenizer/json_util.hpp"

namespace paw::tok {
namespace {

using json = nlohmann::json;

class Sax final : public nlohmann::json_sax<json> {
 public:
  explicit Sax(HfJsonParts& out) : out_(out) {}

  bool null() override { return value(json()); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override { return mode() == Mode::Vocab ? vocab_id(v) : value(json(v)); }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode() == Mode::Vocab) return vocab_id(v > static_cast<uint64_t>(INT64_MAX) ? -1 : static_cast<int64_t>(v));
    return value(json(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
  bool binary(binary_t&) override { return fail("unexpected binary value"); }

  bool string(string_t& s) override {
    switch (mode()) {
      case Mode::Merges: {
        // "left right": byte-level tokens never contain a space (it is 'Ġ').
        const size_t sp = s.find(' ', 1);
        if (sp == std::string::npos) return fail("model.merges[" + std::to_string(out_.merges.size()) + "] is not \"left right\"");
        out_.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
        return true;
      }
      case Mode::MergePair:
        if (pair_.size() >= 2) return fail("model.merges[" + std::to_string(out_.merges.size()) + "] has more than two parts");
        pair_.push_back(std::move(s));
        return true;
      case Mode::Vocab:
        return fail("model.vocab[\"" + key_.substr(0, 32) + "\"] is not an integer id");
      case Mode::Dom:
        return value(json(std::move(s)));
    }
    return false;
  }

  bool start_object(std::size_t) override {
    if (mode() != Mode::Dom) return fail(where_stream() + " holds an object");
    if (path_is("vocab")) {
      out_.has_vocab = true;
      frames_.push_back({nullptr, Mode::Vocab, {}});
      return true;
    }
    return open(json::object());
  }
  bool start_array(std::size_t) override {
    if (mode() == Mode::Merges) {
      pair_.clear();
      frames_.push_back({nullptr, Mode::MergePair, {}});
      return true;
    }
    if (mode() != Mode::Dom) return fail(where_stream() + " holds an array");
    if (path_is("merges")) {
      out_.has_merges = true;
      frames_.push_back({nullptr, Mode::Merges, {}});
      return true;
    }
    return open(json::array());
  }
  bool key(string_t& k) override {
    if (mode() == Mode::Vocab) {
      key_ = std::move(k);
    } else {
      frames_.back().key = std::move(k);
    }
    return true;
  }
  bool end_object() override { return close(); }
  bool end_array() override {
    if (mode() == Mode::MergePair) {
      if (pair_.size() != 2) return fail("model.merges[" + std::to_string(out_.merges.size()) + "] is not [left, right]");
      out_.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
    }
    return close();
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    error_ = std::string("invalid JSON: ") + ex.what();
    error_pos_ = position > 0 ? position - 1 : 0;
    return false;
  }

  const std::string& error() const { return error_; }
  size_t error_pos() const { return error_pos_; }

 private:
  enum class Mode { Dom, Vocab, Merges, MergePair };
  struct Frame {
    json* node;       // container being filled (Dom mode)
    Mode mode;
    std::string key;  // pending key inside an object
  };

  Mode mode() const { return frames_.empty() ? Mode::Dom : frames_.back().mode; }
  std::string where_stream() const {
    return mode() == Mode::Vocab ? "model.vocab" : "model.merges[" + std::to_string(out_.merges.size()) + "]";
  }
  // True when the value about to start is root.model.<name>.
  bool path_is(const char* name) const {
    return frames_.size() == 2 && frames_[0].key == "model" && frames_[1].node && frames_[1].node->is_object() &&
           frames_[1].key == name;
  }
  bool fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return false;
  }
  bool vocab_id(int64_t v) {
    out_.vocab.emplace_back(std::move(key_), v);
    key_.clear();
    return true;
  }
  // Places a value in the current container (Dom mode); streamed modes consume their own.
  json* place(json&& v) {
    if (frames_.empty()) {
      out_.rest = std::move(v);
      return &out_.rest;
    }
    Frame& f = frames_.back();
    if (f.node->is_object()) {
      json& slot = (*f.node)[f.key];
      slot = std::move(v);
      return &slot;
    }
    f.node->push_back(std::move(v));
    return &f.node->back();
  }
  bool value(json&& v) {
    switch (mode()) {
      case Mode::Dom:
        place(std::move(v));
        return true;
      case Mode::Vocab:
        return fail("model.vocab[\"" + key_.substr(0, 32) + "\"] is not an integer id");
      default:
        return fail(where_stream() + " holds a non-string value");
    }
  }
  bool open(json&& container) {
    json* node = place(std::move(container));
    frames_.push_back({node, Mode::Dom, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }

  HfJsonParts& out_;
  std::vector<Frame> frames_;
  std::string key_;                 // pending vocabulary key
  std::vector<std::string> pair_;   // parts of one [left, right] merge
  std::string error_;
  size_t error_pos_ = SIZE_MAX;
};

}  // namespace

HfJsonParts parse_tokenizer_json(std::string_view text, const std::string& name) {
  check_json_depth(text, name);
  HfJsonParts out;
  Sax sax(out);
  bool ok;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &sax);
  } catch (const json::exception& e) {
    throw Error(std::string("invalid JSON: ") + e.what(), name, "the file is not valid JSON");
  }
  if (!ok) {
    if (sax.error_pos() != SIZE_MAX) {
      throw Error(sax.error(), at_offset(name, sax.error_pos()), "the file is truncated or not JSON");
    }
    throw Error(sax.error(), name, "is this a Hugging Face tokenizer.json?");
  }
  return out;
}

}  // namespace paw::tok
