// File: plexus/spec/yaml_reader.cc
//
// YamlReader, file loading, Diagnostic and the shared helpers of the spec module.
#include "plexus/spec/yaml_reader_internal.h"

#include "plexus/common/file.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <filesystem>

namespace plexus::spec {

std::string Diagnostic::ToString() const {
  std::string out = location.file;
  if (location.line > 0) {
    out += ":" + std::to_string(location.line);
    if (location.column > 0) out += ":" + std::to_string(location.column);
  }
  if (!out.empty()) out += ": ";
  if (!field.empty()) out += field + ": ";
  return out + message;
}

Status ProblemsStatus(const std::vector<Diagnostic>& problems, size_t first) {
  if (problems.size() <= first) return Status::OK();
  std::string message = problems[first].ToString();
  size_t more = problems.size() - first - 1;
  if (more > 0) {
    message += " (and " + std::to_string(more) + (more == 1 ? " more problem)" : " more problems)");
  }
  return InvalidArgument(std::move(message));
}

bool IsSqlName(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return name.find("__") == std::string::npos;
}

namespace internal {

const KeyList kCustomPropertyKeys = {"id", "property", "value", "description"};
const KeyList kCustomPropertyRequired = {"property", "value"};
const KeyList kAuthoritativeDefinitionKeys = {"id", "type", "url", "description"};
const KeyList kAuthoritativeDefinitionRequired = {"type", "url"};
const KeyList kStatuses = {"proposed", "draft", "active", "deprecated", "retired"};

namespace {

/// Levenshtein distance, for "did you mean" on unknown keys.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      bool same = std::tolower(a[i - 1]) == std::tolower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string UnknownKeyMessage(std::string_view key, const KeyList& allowed) {
  std::string_view best;
  size_t best_distance = 3;
  for (std::string_view candidate : allowed) {
    size_t d = EditDistance(key, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  if (!best.empty()) return "unknown field (did you mean '" + std::string(best) + "'?)";
  return "unknown field (expected one of: " + JoinKeys(allowed) + ")";
}

bool IsPlain(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

}  // namespace

std::string FieldPath(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string ItemPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string JoinKeys(const KeyList& keys) {
  std::string out;
  for (std::string_view key : keys) {
    if (!out.empty()) out += ", ";
    out += key;
  }
  return out;
}

bool Contains(const KeyList& keys, std::string_view value) {
  return std::find(keys.begin(), keys.end(), value) != keys.end();
}

std::string_view KindName(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "text";
}

Result<YamlDocument> LoadYaml(const std::string& path, std::vector<Diagnostic>* problems) {
  PLEXUS_ASSIGN_OR_RETURN(std::string text, ReadFileText(path));
  return ParseYamlText(std::move(text), path, problems);
}

Result<YamlDocument> ParseYamlText(std::string text, const std::string& path,
                                   std::vector<Diagnostic>* problems) {
  YamlDocument doc;
  doc.file = path;
  doc.text = std::move(text);
  try {
    doc.root = YAML::Load(doc.text);
  } catch (const YAML::Exception& e) {
    Diagnostic d;
    d.location.file = path;
    if (!e.mark.is_null()) {
      d.location.line = e.mark.line + 1;
      d.location.column = e.mark.column + 1;
    }
    d.message = "YAML syntax error: " + e.msg;
    problems->push_back(d);
    return InvalidArgument(d.ToString());
  }
  return doc;
}

SourceLocation YamlReader::LocationOf(const YAML::Node& node) const {
  SourceLocation location;
  location.file = file_;
  if (node.IsDefined()) {
    YAML::Mark mark = node.Mark();
    if (!mark.is_null() && mark.line >= 0) {
      location.line = mark.line + 1;
      location.column = mark.column + 1;
    }
  }
  return location;
}

void YamlReader::Report(const YAML::Node& at, const std::string& field, std::string message) {
  Report(LocationOf(at), field, std::move(message));
}

void YamlReader::Report(const SourceLocation& at, const std::string& field,
                        std::string message) {
  problems_->push_back(Diagnostic{at, field, std::move(message)});
}

bool YamlReader::ExpectDocument(const YAML::Node& root) {
  if (root.IsMap()) return true;
  SourceLocation top{file_, 1, 1};
  if (root.IsDefined() && !root.IsNull()) top = LocationOf(root);
  bool empty = root.IsNull() || !root.IsDefined();
  Report(top, "",
         empty ? "the document is empty; expected a map of fields"
               : "expected a map of fields at the top, found " + std::string(KindName(root)));
  return false;
}

bool YamlReader::ExpectMap(const YAML::Node& node, const std::string& field) {
  if (node.IsMap()) return true;
  Report(node, field, "expected a map, found " + std::string(KindName(node)));
  return false;
}

void YamlReader::CheckKeys(const YAML::Node& map, const std::string& path,
                           const KeyList& allowed, const KeyList& required) {
  std::vector<std::pair<std::string, YAML::Node>> seen;
  for (const auto& entry : map) {
    const YAML::Node& key = entry.first;
    std::string name = key.IsScalar() ? key.Scalar() : std::string();
    auto previous = std::find_if(seen.begin(), seen.end(),
                                 [&](const auto& seen_key) { return seen_key.first == name; });
    if (!key.IsScalar()) {
      Report(key, path, "a key must be text, found " + std::string(KindName(key)));
    } else if (previous != seen.end()) {
      Report(key, FieldPath(path, name),
             "duplicate key (first at line " + std::to_string(LocationOf(previous->second).line) +
                 ")");
    } else if (!allowed.empty() && !Contains(allowed, name)) {
      Report(key, FieldPath(path, name), UnknownKeyMessage(name, allowed));
    }
    seen.emplace_back(name, key);
  }
  for (std::string_view key : required) {
    if (!Find(map, key).IsDefined()) Report(map, FieldPath(path, key), "required field is missing");
  }
}

YAML::Node YamlReader::Find(const YAML::Node& map, std::string_view key) const {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : map) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

SourceLocation YamlReader::ValueLocation(const YAML::Node& map, std::string_view key) const {
  for (const auto& entry : map) {
    if (!entry.first.IsScalar() || entry.first.Scalar() != key) continue;
    if (entry.second.IsNull()) return LocationOf(entry.first);
    return LocationOf(entry.second);
  }
  return LocationOf(map);
}

bool YamlReader::Text(const YAML::Node& map, std::string_view key, const std::string& path,
                      std::string* out) {
  YAML::Node value = Find(map, key);
  if (!value.IsDefined()) return false;
  if (!value.IsScalar()) {
    Report(ValueLocation(map, key), FieldPath(path, key),
           "expected text, found " + std::string(KindName(value)));
    return false;
  }
  *out = value.Scalar();
  return true;
}

bool YamlReader::NonEmptyText(const YAML::Node& map, std::string_view key,
                              const std::string& path, std::string* out) {
  if (!Text(map, key, path, out)) return false;
  if (out->find_first_not_of(" \t\r\n") == std::string::npos) {
    Report(ValueLocation(map, key), FieldPath(path, key), "must not be empty");
    return false;
  }
  return true;
}

bool YamlReader::Bool(const YAML::Node& map, std::string_view key, const std::string& path,
                      bool* out) {
  YAML::Node value = Find(map, key);
  if (!value.IsDefined()) return false;
  bool parsed = false;
  if (IsPlain(value) && YAML::convert<bool>::decode(value, parsed)) {
    *out = parsed;
    return true;
  }
  std::string found = value.IsScalar() ? "'" + value.Scalar() + "'" : std::string(KindName(value));
  Report(ValueLocation(map, key), FieldPath(path, key), "expected true or false, found " + found);
  return false;
}

bool YamlReader::Int(const YAML::Node& map, std::string_view key, const std::string& path,
                     int* out) {
  YAML::Node value = Find(map, key);
  if (!value.IsDefined()) return false;
  if (IsPlain(value)) {
    const std::string& s = value.Scalar();
    int parsed = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    if (ec == std::errc() && end == s.data() + s.size()) {
      *out = parsed;
      return true;
    }
  }
  std::string found = value.IsScalar() ? "'" + value.Scalar() + "'" : std::string(KindName(value));
  Report(ValueLocation(map, key), FieldPath(path, key), "expected an integer, found " + found);
  return false;
}

bool YamlReader::Number(const YAML::Node& map, std::string_view key, const std::string& path) {
  YAML::Node value = Find(map, key);
  if (!value.IsDefined()) return false;
  double parsed = 0;
  if (IsPlain(value) && YAML::convert<double>::decode(value, parsed)) return true;
  std::string found = value.IsScalar() ? "'" + value.Scalar() + "'" : std::string(KindName(value));
  Report(ValueLocation(map, key), FieldPath(path, key), "expected a number, found " + found);
  return false;
}

bool YamlReader::TextList(const YAML::Node& map, std::string_view key, const std::string& path,
                          std::vector<std::string>* out) {
  std::vector<YAML::Node> items = List(map, key, path);
  std::string field = FieldPath(path, key);
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].IsScalar()) {
      out->push_back(items[i].Scalar());
    } else {
      Report(items[i], ItemPath(field, i),
             "expected text, found " + std::string(KindName(items[i])));
    }
  }
  return !items.empty();
}

std::vector<YAML::Node> YamlReader::List(const YAML::Node& map, std::string_view key,
                                         const std::string& path) {
  std::vector<YAML::Node> items;
  YAML::Node value = Find(map, key);
  if (!value.IsDefined()) return items;
  if (!value.IsSequence()) {
    Report(ValueLocation(map, key), FieldPath(path, key),
           "expected a list, found " + std::string(KindName(value)));
    return items;
  }
  for (auto it = value.begin(); it != value.end(); ++it) items.push_back(*it);
  return items;
}

bool YamlReader::Enum(const YAML::Node& map, std::string_view key, const std::string& path,
                      const KeyList& allowed, std::string* out) {
  if (!Text(map, key, path, out)) return false;
  if (Contains(allowed, *out)) return true;
  Report(ValueLocation(map, key), FieldPath(path, key),
         "'" + *out + "' is not allowed (expected one of: " + JoinKeys(allowed) + ")");
  return false;
}

void YamlReader::CheckObjectList(const YAML::Node& map, std::string_view key,
                                 const std::string& path, const KeyList& allowed,
                                 const KeyList& required) {
  std::vector<YAML::Node> items = List(map, key, path);
  std::string field = FieldPath(path, key);
  for (size_t i = 0; i < items.size(); ++i) {
    std::string item_path = ItemPath(field, i);
    if (ExpectMap(items[i], item_path)) CheckKeys(items[i], item_path, allowed, required);
  }
}

}  // namespace internal
}  // namespace plexus::spec
