// Cutting a prompt template at its input placeholder (see paw/program/bundle.hpp).
#include <string>
#include <string_view>

#include "paw/program/bundle.hpp"
#include "paw/util/error.hpp"

namespace paw {

TemplateParts split_template(std::string_view tmpl, const std::string& where) {
  const std::string_view placeholder = kInputPlaceholder;
  const size_t at = tmpl.find(placeholder);
  if (at == std::string_view::npos)
    throw Error("template has no {INPUT_PLACEHOLDER}", where, "the placeholder marks where each input goes");
  return {std::string(tmpl.substr(0, at)), std::string(tmpl.substr(at + placeholder.size()))};
}

}  // namespace paw
