// File: plexus/spec/schema_formats.cc
//
// The value-level keywords of the official JSON schemas that the typed readers do not check:
// `format` (date, date-time, uri), the StableId pattern of ODCS object ids, and the value
// types of logicalTypeOptions. One walk over the document's tree, which knows each map's
// object from the same table `plexus fmt` orders keys with (format_order.cc).
#include <regex>

#include "plexus/spec/format_internal.h"

namespace plexus::spec::internal {
namespace {

enum class Rule { kStableId, kDate, kDateTime, kUri };

struct FieldRule {
  std::string_view object;  ///< as in format_order.cc
  std::string_view key;
  Rule rule;
};

const std::vector<FieldRule>& FieldRules() {
  static const std::vector<FieldRule> kRules = {
      {"odcs", "contractCreatedTs", Rule::kDateTime},
      {"odps", "productCreatedTs", Rule::kDateTime},
      {"member", "dateIn", Rule::kDate},
      {"member", "dateOut", Rule::kDate},
      {"server", "location", Rule::kUri},
      {"server", "stagingDir", Rule::kUri},
      {"server", "endpointUrl", Rule::kUri},
      {"odps.authoritativeDefinition", "url", Rule::kUri},
      {"sbom", "url", Rule::kUri},
      {"odps.managementPort", "url", Rule::kUri},
      {"odps.support", "url", Rule::kUri},
      {"odps.support", "invitationUrl", Rule::kUri},
  };
  return kRules;
}

/// ODCS objects whose `id` is a StableId.
const KeyList kStableIdObjects = {"server", "odcs.schema", "odcs.property", "quality",
                                  "authoritativeDefinition", "support", "price", "member",
                                  "team", "role", "sla", "customProperty"};

bool IsDate(const std::string& text) {
  static const std::regex kDate("([0-9]{4})-([0-9]{2})-([0-9]{2})");
  std::smatch m;
  if (!std::regex_match(text, m, kDate)) return false;
  int year = std::stoi(m[1]);
  int month = std::stoi(m[2]);
  int day = std::stoi(m[3]);
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return !(month == 2 && day == 29 && !leap);
}

bool IsDateTime(const std::string& text) {
  static const std::regex kDateTime(
      "([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
      "(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])");
  std::smatch m;
  return std::regex_match(text, m, kDateTime) && IsDate(m[1]);
}

bool IsUri(const std::string& text) {
  static const std::regex kUri("[A-Za-z][A-Za-z0-9+.-]*:[^\\s<>\"{}|\\\\^`]*");
  return std::regex_match(text, kUri);
}

void CheckRule(YamlReader& r, const YAML::Node& map, std::string_view key,
               const std::string& path, Rule rule) {
  YAML::Node value = r.Find(map, key);
  if (!value.IsScalar()) return;  // absent, or a type error the readers report
  const std::string& text = value.Scalar();
  static const std::regex kStableId("[A-Za-z0-9_-]+");
  std::string_view expected;
  if (rule == Rule::kStableId && !std::regex_match(text, kStableId)) {
    expected = "an id of letters, digits, '_' and '-'";
  } else if (rule == Rule::kDate && !IsDate(text)) {
    expected = "a date (YYYY-MM-DD)";
  } else if (rule == Rule::kDateTime && !IsDateTime(text)) {
    expected = "a date-time (RFC 3339, e.g. 2025-01-31T12:00:00Z)";
  } else if (rule == Rule::kUri && !IsUri(text)) {
    expected = "a URI with a scheme (https://..., s3://...)";
  }
  if (!expected.empty()) {
    r.Report(r.ValueLocation(map, key), FieldPath(path, key),
             "'" + text + "' is not " + std::string(expected));
  }
}

/// The value types of logicalTypeOptions (the allowed keys are checked by parse_contract.cc).
void CheckOptionTypes(YamlReader& r, const YAML::Node& options, const std::string& path,
                      const std::string& logical_type) {
  bool temporal = logical_type == "date" || logical_type == "timestamp" || logical_type == "time";
  for (const auto& entry : options) {
    if (!entry.first.IsScalar()) continue;
    const std::string& key = entry.first.Scalar();
    int integer = 0;
    bool flag = false;
    std::string text;
    if (Contains({"minLength", "maxLength", "minItems", "maxItems", "minProperties",
                  "maxProperties"}, key)) {
      if (r.Int(options, key, path, &integer) && integer < 0) {
        r.Report(r.ValueLocation(options, key), FieldPath(path, key), "must not be negative");
      }
    } else if (key == "uniqueItems" || key == "timezone") {
      r.Bool(options, key, path, &flag);
    } else if (key == "pattern" || key == "format" || key == "defaultTimezone" || temporal) {
      r.Text(options, key, path, &text);
    } else if (Contains({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                         "multipleOf"}, key)) {
      r.Number(options, key, path);
    }
  }
}

void Walk(YamlReader& r, const YAML::Node& node, std::string_view object,
          const std::string& path) {
  if (node.IsSequence()) {
    size_t i = 0;
    for (const YAML::Node& item : node) Walk(r, item, object, ItemPath(path, i++));
    return;
  }
  if (!node.IsMap() || object.empty()) return;
  for (const FieldRule& rule : FieldRules()) {
    if (rule.object == object) CheckRule(r, node, rule.key, path, rule.rule);
  }
  if (Contains(kStableIdObjects, object)) CheckRule(r, node, "id", path, Rule::kStableId);
  YAML::Node options = r.Find(node, "logicalTypeOptions");
  std::string logical_type;
  if (object == "odcs.property" && options.IsMap() && r.Find(node, "logicalType").IsScalar()) {
    CheckOptionTypes(r, options, FieldPath(path, "logicalTypeOptions"),
                     r.Find(node, "logicalType").Scalar());
  }
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) continue;
    const std::string& key = entry.first.Scalar();
    std::string_view child = ObjectUnder(object, key, entry.second.IsSequence());
    if (object.substr(0, 4) == "odps" && child == "authoritativeDefinition") {
      child = "odps.authoritativeDefinition";
    }
    if (object.substr(0, 4) == "odps" && child == "support") child = "odps.support";
    Walk(r, entry.second, child, FieldPath(path, key));
  }
}

}  // namespace

void CheckValueFormats(YamlReader& r, const YAML::Node& root, std::string_view document) {
  Walk(r, root, document, "");
}

}  // namespace plexus::spec::internal
