// ParseContractText: a contract read from text (the catalog keeps contracts as applied).
#include <yaml-cpp/yaml.h>

#include "plexus/spec/parse.h"
#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec {

Result<Contract> ParseContractText(const std::string& text, const std::string& name,
                                   std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  internal::YamlDocument doc;
  doc.file = name;
  doc.text = text;
  try {
    doc.root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Diagnostic d;
    d.location.file = name;
    if (!e.mark.is_null()) {
      d.location.line = e.mark.line + 1;
      d.location.column = e.mark.column + 1;
    }
    d.message = "YAML syntax error: " + e.msg;
    sink->push_back(d);
    return InvalidArgument(d.ToString());
  }
  Contract contract = internal::ReadContract(doc, sink);
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  return contract;
}

}  // namespace plexus::spec
