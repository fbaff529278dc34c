// File: plexus/spec/parse_glossary.cc
//
// The mesh's glossary file (Plexus's own format, like pipeline.yaml):
//
//   apiVersion: plexus/v1
//   kind: Glossary
//   terms:
//     - id: customer                 # [a-z0-9_-]+, unique
//       name: Customer               # required
//       definition: A person or company that has placed at least one order.   # required
//       owners: [carol]
//       synonyms: [client, buyer]
//       url: https://wiki.example.com/glossary/customer
//       related: [order]             # ids of other terms
#include "plexus/spec/glossary.h"
#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec {
namespace internal {
namespace {

const KeyList kGlossaryKeys = {"apiVersion", "kind", "terms"};
const KeyList kTermKeys = {"id", "name", "definition", "owners", "synonyms", "url", "related"};

void ReadTerm(YamlReader& r, const YAML::Node& node, const std::string& path, GlossaryTerm* out) {
  r.CheckKeys(node, path, kTermKeys, {"id", "name", "definition"});
  out->location = r.LocationOf(node);
  if (r.NonEmptyText(node, "id", path, &out->id) && !IsGlossaryTermId(out->id)) {
    r.Report(r.ValueLocation(node, "id"), FieldPath(path, "id"),
             "'" + out->id +
                 "' is not a valid term id (lowercase letters, digits, _ and -, at most 63 "
                 "characters)");
  }
  r.NonEmptyText(node, "name", path, &out->name);
  r.NonEmptyText(node, "definition", path, &out->definition);
  r.TextList(node, "owners", path, &out->owners);
  r.TextList(node, "synonyms", path, &out->synonyms);
  r.NonEmptyText(node, "url", path, &out->url);
  r.TextList(node, "related", path, &out->related);
  out->related_location =
      r.Find(node, "related").IsDefined() ? r.ValueLocation(node, "related") : out->location;
}

}  // namespace

std::vector<GlossaryTerm> ReadGlossary(const YamlDocument& doc, std::vector<Diagnostic>* problems) {
  YamlReader r(doc.file, problems);
  std::vector<GlossaryTerm> terms;
  if (!r.ExpectDocument(doc.root)) return terms;
  r.CheckKeys(doc.root, "", kGlossaryKeys, {"apiVersion", "kind", "terms"});
  std::string text;
  r.Enum(doc.root, "apiVersion", "", {"plexus/v1"}, &text);
  r.Enum(doc.root, "kind", "", {"Glossary"}, &text);
  std::vector<YAML::Node> items = r.List(doc.root, "terms", "");
  for (size_t i = 0; i < items.size(); ++i) {
    std::string path = ItemPath("terms", i);
    GlossaryTerm term;
    if (r.ExpectMap(items[i], path)) ReadTerm(r, items[i], path, &term);
    // Kept even when unreadable, so that terms[i] in a message is the i-th item of the file.
    terms.push_back(std::move(term));
  }
  return terms;
}

}  // namespace internal

Result<std::vector<GlossaryTerm>> ParseGlossaryFile(const std::string& path,
                                                    std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc, internal::LoadYaml(path, sink));
  std::vector<GlossaryTerm> terms = internal::ReadGlossary(doc, sink);
  (void)ValidateGlossary(terms, sink);  // the verdict comes from the problem list
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  return terms;
}

}  // namespace plexus::spec
