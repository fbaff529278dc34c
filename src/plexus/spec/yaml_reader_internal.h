// File: plexus/spec/yaml_reader_internal.h
//
// Private to the spec module: reading YAML documents with yaml-cpp while recording every
// problem as a Diagnostic that names the file, the 1-based line and column, and the field
// path. The typed readers (product, contract, pipeline, mesh) are built on YamlReader; they
// fill a model as far as the document allows and leave the verdict to the problem count.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/spec/model.h"
#include "plexus/spec/parse.h"

namespace plexus::spec::internal {

/// A list of YAML keys (an object's allowed or required properties).
using KeyList = std::vector<std::string_view>;

/// A file's text and its parsed YAML root.
struct YamlDocument {
  std::string file;
  std::string text;
  YAML::Node root;
};

/// Reads and parses `path`. kNotFound / kIOError when the file cannot be read; on a YAML
/// syntax error adds a diagnostic at the parser's (1-based) mark and returns kInvalidArgument.
Result<YamlDocument> LoadYaml(const std::string& path, std::vector<Diagnostic>* problems);
/// Parses `text` as the content of `file` (named in diagnostics), like LoadYaml.
Result<YamlDocument> ParseYamlText(std::string text, const std::string& file,
                                   std::vector<Diagnostic>* problems);

/// `parent.key`, or `key` at the top.
std::string FieldPath(const std::string& parent, std::string_view key);
/// `parent[index]`.
std::string ItemPath(const std::string& parent, size_t index);

/// Typed access to one document's nodes; every problem goes to the problem list.
class YamlReader {
 public:
  YamlReader(std::string file, std::vector<Diagnostic>* problems)
      : file_(std::move(file)), problems_(problems) {}

  const std::string& file() const { return file_; }
  /// Problems recorded so far in the list (by anyone).
  size_t ProblemCount() const { return problems_->size(); }

  /// The 1-based location of `node` (line 0 when yaml-cpp has no mark for it).
  SourceLocation LocationOf(const YAML::Node& node) const;
  void Report(const YAML::Node& at, const std::string& field, std::string message);
  void Report(const SourceLocation& at, const std::string& field, std::string message);

  /// True when a document's root is a map; else reports an empty document or its kind.
  bool ExpectDocument(const YAML::Node& root);
  /// True when `node` is a map; else reports "expected a map" at `field`.
  bool ExpectMap(const YAML::Node& node, const std::string& field);
  /// Reports unknown keys (with a did-you-mean), duplicate keys and missing required keys.
  void CheckKeys(const YAML::Node& map, const std::string& path, const KeyList& allowed,
                 const KeyList& required);

  /// The value of `key` in `map`, or an undefined node when absent.
  YAML::Node Find(const YAML::Node& map, std::string_view key) const;
  /// Where to point at the value of `key`: the value, or the key when the value is empty.
  SourceLocation ValueLocation(const YAML::Node& map, std::string_view key) const;

  /// Reads text (any scalar); false when absent. Reports null, lists and maps.
  bool Text(const YAML::Node& map, std::string_view key, const std::string& path,
            std::string* out);
  /// Like Text, and also reports an empty or blank value.
  bool NonEmptyText(const YAML::Node& map, std::string_view key, const std::string& path,
                    std::string* out);
  bool Bool(const YAML::Node& map, std::string_view key, const std::string& path, bool* out);
  bool Int(const YAML::Node& map, std::string_view key, const std::string& path, int* out);
  /// True when the value of `key` is a number (integer or decimal); reports otherwise.
  bool Number(const YAML::Node& map, std::string_view key, const std::string& path);
  /// A list of text values (tags, owners...).
  bool TextList(const YAML::Node& map, std::string_view key, const std::string& path,
                std::vector<std::string>* out);
  /// The items of a list-valued key (empty when absent or reported as not a list).
  std::vector<YAML::Node> List(const YAML::Node& map, std::string_view key,
                               const std::string& path);
  /// Reads text and reports it when not one of `allowed`.
  bool Enum(const YAML::Node& map, std::string_view key, const std::string& path,
            const KeyList& allowed, std::string* out);

  /// Checks each item of a list of objects this module does not type (customProperties,
  /// authoritativeDefinitions, support...): each is a map with these keys.
  void CheckObjectList(const YAML::Node& map, std::string_view key, const std::string& path,
                       const KeyList& allowed, const KeyList& required);

 private:
  std::string file_;
  std::vector<Diagnostic>* problems_;
};

/// "a, b, c" for messages.
std::string JoinKeys(const KeyList& keys);
/// True when `value` is one of `keys`.
bool Contains(const KeyList& keys, std::string_view value);
/// What a node is, for messages: "a map", "a list", "text", "nothing".
std::string_view KindName(const YAML::Node& node);

// The typed readers. Each fills its model as far as the document allows; the caller decides
// from the problem count whether the result may be used.
Product ReadProduct(const YamlDocument& doc, std::vector<Diagnostic>* problems);
Contract ReadContract(const YamlDocument& doc, std::vector<Diagnostic>* problems);
Pipeline ReadPipeline(const YamlDocument& doc, std::vector<Diagnostic>* problems);
Domain ReadDomain(const YamlDocument& doc, std::vector<Diagnostic>* problems);
Mesh ReadMeshFile(const YamlDocument& doc, std::vector<Diagnostic>* problems);
/// The terms of a glossary file, one per item of `terms` (an unreadable item stays, empty, so
/// that indexes match the file); cross-term checks are ValidateGlossary's (glossary.h).
std::vector<GlossaryTerm> ReadGlossary(const YamlDocument& doc, std::vector<Diagnostic>* problems);

/// Checks `apiVersion: plexus/v1` and `kind: <kind>` of one of Plexus's own documents.
void CheckPlexusHeader(YamlReader& reader, const YAML::Node& root, std::string_view kind);

/// Where each policy id was first defined. Shared across the files of a mesh, so that an id
/// defined twice, in one file or in two, is reported at the second definition.
using PolicyIds = std::map<std::string, SourceLocation>;
/// The policies and exemptions of a policy file (`kind: Policies`, parse_policy.cc) of `scope`
/// ("global" or a domain's name); policies that are not maps are left out.
PolicyFile ReadPolicies(const YamlDocument& doc, const std::string& scope, PolicyIds* defined,
                        std::vector<Diagnostic>* problems);
/// mesh.yaml `governance`: the built-in pack's switch and the settings of policies by id.
void ReadMeshGovernance(YamlReader& reader, const YAML::Node& root, MeshGovernance* out);
/// domain.yaml `governance`: parameters of policies by id, the only thing a domain may set.
void ReadDomainGovernance(YamlReader& reader, const YAML::Node& root,
                          std::vector<PolicySetting>* out);

/// ODCS checks on the parts of a contract the model does not type (parse_contract_rules.cc).
/// Checks a `quality` list; appends each rule to `out` (when not null), attached to `column`
/// (empty for a schema object's rules).
void CheckQualityList(YamlReader& reader, const YAML::Node& map, const std::string& path,
                      bool v31, std::vector<QualityRule>* out = nullptr,
                      const std::string& column = "");
void CheckRelationships(YamlReader& reader, const YAML::Node& map, const std::string& path,
                        bool property_level);
void CheckServers(YamlReader& reader, const YAML::Node& root);
/// Checks `slaProperties`; appends each readable one to `out` (when not null).
void CheckSlaProperties(YamlReader& reader, const YAML::Node& root,
                        std::vector<SlaProperty>* out = nullptr);

/// Object shapes shared by ODPS and ODCS.
extern const KeyList kCustomPropertyKeys;
extern const KeyList kCustomPropertyRequired;
extern const KeyList kAuthoritativeDefinitionKeys;
extern const KeyList kAuthoritativeDefinitionRequired;
extern const KeyList kStatuses;

}  // namespace plexus::spec::internal
