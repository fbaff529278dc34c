// File: plexus/spec/format.cc
//
// `plexus fmt`: re-emits a document's YAML tree in canonical form (see format.h). yaml-cpp's
// own emitter is not used: it drops null values and loses the chomping of literal blocks, and
// the canonical form needs control over quoting anyway.
#include "plexus/spec/format.h"

#include <algorithm>
#include <regex>
#include <set>
#include <utility>

#include "plexus/spec/format_internal.h"

namespace plexus::spec {
namespace {

using internal::KeyList;

/// True when plain `text` would read as something other than text (null, a boolean, a
/// number, a date), in YAML 1.2 or in the YAML 1.1 readers still common (PyYAML, yaml-cpp).
bool ReadsAsOtherType(const std::string& text) {
  static const std::set<std::string> kWords = {
      "null", "Null", "NULL", "~",   "true", "True", "TRUE", "false", "False", "FALSE",
      "yes",  "Yes",  "YES",  "no",  "No",   "NO",   "on",   "On",    "ON",    "off",
      "Off",  "OFF",  "y",    "Y",   "n",    "N",    ".inf", ".Inf",  ".INF",  "-.inf",
      "-.Inf", "-.INF", "+.inf", ".nan", ".NaN", ".NAN"};
  if (kWords.count(text) > 0) return true;
  static const std::regex kNumber(
      "[-+]?(\\.[0-9]+|[0-9][0-9_]*(\\.[0-9_]*)?)([eE][-+]?[0-9]+)?|"  // decimal, float
      "[-+]?0[xX][0-9a-fA-F_]+|[-+]?0[oO]?[0-7_]+|[-+]?0[bB][01_]+|"   // hex, octal, binary
      "[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?|"                  // sexagesimal
      "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?");                      // timestamp
  return std::regex_match(text, kNumber);
}

/// True when `text` can be written as a plain (unquoted) scalar in block context.
bool IsPlainSafe(const std::string& text) {
  if (text.empty() || text.front() == ' ' || text.back() == ' ' || text.front() == '\t' ||
      text.back() == '\t') {
    return false;
  }
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(text.front()) != std::string_view::npos) {
    return false;
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return text.find(": ") == std::string::npos && text.find(" #") == std::string::npos &&
         text.back() != ':' && text.rfind("...", 0) != 0;
}

/// True when `text` (which holds a newline) reads back exactly from a literal block.
bool IsLiteralSafe(const std::string& text) {
  bool ends_with_blank_line = text.size() >= 2 && text.compare(text.size() - 2, 2, "\n\n") == 0;
  if (text.find('\n') == std::string::npos || ends_with_blank_line) {
    return false;
  }
  size_t first = text.find_first_not_of('\n');
  if (first == std::string::npos || text[first] == ' ' || text[first] == '\t') return false;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t end = text.find('\n', line_start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + line_start, end - line_start);
    if (!line.empty() && line.find_first_not_of(" \t") == std::string_view::npos) return false;
    for (unsigned char c : line) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    line_start = end + 1;
  }
  return true;
}

std::string DoubleQuoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

bool IsTextTag(const std::string& tag) { return tag == "!" || tag == "tag:yaml.org,2002:str"; }

/// Writes a YAML tree in canonical block form.
class CanonicalWriter {
 public:
  std::string Take() { return std::move(out_); }

  void Root(const YAML::Node& root, std::string_view object) {
    if (root.IsMap() && root.size() > 0) return MapBody(root, object, 0, false);
    if (root.IsSequence() && root.size() > 0) return SeqBody(root, object, 0);
    AfterIndicator(root, object, 0);
  }

 private:
  /// A key's text (never a block).
  std::string KeyText(const YAML::Node& key) {
    const std::string& text = key.Scalar();
    bool plain = key.Tag() == "?" || (IsPlainSafe(text) && !ReadsAsOtherType(text));
    return plain && IsPlainSafe(text) ? text : DoubleQuoted(text);
  }

  /// Writes a value right after "key:" or "-" (the indicator), then the line break.
  void AfterIndicator(const YAML::Node& node, std::string_view object, int indent) {
    if (node.IsMap() && node.size() > 0) {
      out_ += "\n";
      return MapBody(node, object, indent + 2, false);
    }
    if (node.IsSequence() && node.size() > 0) {
      out_ += "\n";
      return SeqBody(node, object, indent + 2);
    }
    out_ += " ";
    Scalar(node, indent);
    out_ += "\n";
  }

  void Scalar(const YAML::Node& node, int indent) {
    if (node.IsMap()) return void(out_ += "{}");
    if (node.IsSequence()) return void(out_ += "[]");
    if (!node.IsDefined() || node.IsNull()) return void(out_ += "null");
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "?") return void(out_ += text);  // plain in the source: it reads the same here
    if (!IsTextTag(tag)) out_ += "!<" + tag + "> ";
    if (IsPlainSafe(text) && !ReadsAsOtherType(text)) return void(out_ += text);
    if (!IsLiteralSafe(text)) return void(out_ += DoubleQuoted(text));
    out_ += text.back() == '\n' ? "|" : "|-";
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      out_ += "\n";
      if (end > start) out_.append(indent + 2, ' ').append(text, start, end - start);
      start = end + 1;
    }
  }

  /// The entries of a map in canonical order: the standard's keys first, then the others.
  /// (Indices are sorted, not nodes: assigning a YAML::Node writes through to the tree.)
  std::vector<std::pair<YAML::Node, YAML::Node>> Ordered(const YAML::Node& map,
                                                         std::string_view object) {
    std::vector<std::pair<YAML::Node, YAML::Node>> entries;
    for (const auto& entry : map) entries.emplace_back(entry.first, entry.second);
    const KeyList* order = internal::KeyOrderOf(object);
    if (order == nullptr) return entries;
    std::vector<size_t> ranks;
    for (const auto& entry : entries) {
      auto it = entry.first.IsScalar()
                    ? std::find(order->begin(), order->end(), entry.first.Scalar())
                    : order->end();
      ranks.push_back(static_cast<size_t>(it - order->begin()));
    }
    std::vector<size_t> indices(entries.size());
    for (size_t i = 0; i < indices.size(); ++i) indices[i] = i;
    std::stable_sort(indices.begin(), indices.end(),
                     [&](size_t a, size_t b) { return ranks[a] < ranks[b]; });
    std::vector<std::pair<YAML::Node, YAML::Node>> sorted;
    for (size_t i : indices) sorted.emplace_back(entries[i].first, entries[i].second);
    return sorted;
  }

  void MapBody(const YAML::Node& map, std::string_view object, int indent, bool first_inline) {
    bool first = true;
    for (const auto& [key, value] : Ordered(map, object)) {
      if (!(first && first_inline)) out_.append(indent, ' ');
      first = false;
      out_ += KeyText(key) + ":";
      std::string key_text = key.IsScalar() ? key.Scalar() : std::string();
      AfterIndicator(value, internal::ObjectUnder(object, key_text, value.IsSequence()), indent);
    }
  }

  void SeqBody(const YAML::Node& seq, std::string_view object, int indent) {
    for (const YAML::Node& item : seq) {
      out_.append(indent, ' ');
      if (item.IsMap() && item.size() > 0) {
        out_ += "- ";
        MapBody(item, object, indent + 2, true);
      } else {
        out_ += "-";
        AfterIndicator(item, object, indent);
      }
    }
  }

  std::string out_;
};

/// Reports keys written twice in any map of the tree (the typed readers only see their own).
void CheckDuplicateKeys(internal::YamlReader& r, const YAML::Node& node,
                        const std::string& path) {
  if (node.IsSequence()) {
    size_t i = 0;
    for (const YAML::Node& item : node) CheckDuplicateKeys(r, item, internal::ItemPath(path, i++));
    return;
  }
  if (!node.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& entry : node) {
    std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    if (!seen.insert(key).second) {
      r.Report(entry.first, internal::FieldPath(path, key), "duplicate key");
    }
    CheckDuplicateKeys(r, entry.second, internal::FieldPath(path, key));
  }
}

/// Validates a contract or product like ParseContractFile / ParseProductFile would, and
/// reports duplicate keys anywhere; the number of problems found.
size_t CheckDocument(const internal::YamlDocument& doc, DocumentKind kind,
                     std::vector<Diagnostic>* sink) {
  size_t first = sink->size();
  if (kind == DocumentKind::kContract) internal::ReadContract(doc, sink);
  if (kind == DocumentKind::kProduct) internal::ReadProduct(doc, sink);
  std::vector<Diagnostic> duplicates;
  internal::YamlReader r(doc.file, &duplicates);
  CheckDuplicateKeys(r, doc.root, "");
  for (const Diagnostic& d : duplicates) {
    bool known = std::any_of(sink->begin() + static_cast<std::ptrdiff_t>(first), sink->end(),
                             [&](const Diagnostic& seen) {
                               return seen.location.line == d.location.line &&
                                      seen.location.column == d.location.column;
                             });
    if (!known) sink->push_back(d);
  }
  return sink->size() - first;
}

}  // namespace

DocumentKind KindOfDocument(const std::string& file, std::string_view kind_field) {
  auto ends_with = [&](std::string_view suffix) {
    return file.size() >= suffix.size() &&
           file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (kind_field == "DataContract") return DocumentKind::kContract;
  if (kind_field == "DataProduct") return DocumentKind::kProduct;
  if (!kind_field.empty()) return DocumentKind::kOther;
  if (ends_with(".odcs.yaml") || ends_with(".odcs.yml")) return DocumentKind::kContract;
  if (ends_with(".odps.yaml") || ends_with(".odps.yml")) return DocumentKind::kProduct;
  return DocumentKind::kOther;
}

Result<std::string> FormatText(std::string_view text, const std::string& file,
                               std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc,
                          internal::ParseYamlText(std::string(text), file, sink));
  std::string kind_field;
  if (doc.root.IsMap()) {
    for (const auto& entry : doc.root) {
      if (entry.first.IsScalar() && entry.first.Scalar() == "kind" && entry.second.IsScalar()) {
        kind_field = entry.second.Scalar();
      }
    }
  }
  DocumentKind kind = KindOfDocument(file, kind_field);
  CheckDocument(doc, kind, sink);
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  CanonicalWriter writer;
  writer.Root(doc.root, kind == DocumentKind::kContract  ? "odcs"
                        : kind == DocumentKind::kProduct ? "odps"
                                                         : "");
  return writer.Take();
}

Result<std::string> FormatFile(const std::string& path, std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  PLEXUS_ASSIGN_OR_RETURN(internal::YamlDocument doc, internal::LoadYaml(path, sink));
  return FormatText(doc.text, path, sink);
}

}  // namespace plexus::spec
