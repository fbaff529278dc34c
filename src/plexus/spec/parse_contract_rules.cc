// File: plexus/spec/parse_contract_rules.cc
//
// The ODCS sections the model does not type but a contract must still get right: quality
// rules (DataQuality), relationships, servers and SLA properties, after
// odcs-json-schema-v3.1.0.json.
#include <regex>

#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec::internal {
namespace {

const KeyList kQualityKeys = {"id",        "authoritativeDefinitions", "businessImpact",
                              "customProperties", "description", "dimension",
                              "method",    "name",     "schedule",  "scheduler",
                              "severity",  "tags",     "type",      "unit"};
const KeyList kQualityTypes = {"text", "library", "sql", "custom"};
const KeyList kDimensions = {"accuracy",  "completeness", "conformity", "consistency",
                             "coverage",  "timeliness",   "uniqueness"};
const KeyList kMetrics = {"nullValues", "missingValues", "invalidValues", "duplicateValues",
                          "rowCount"};
const KeyList kOperators = {"mustBe",           "mustNotBe",           "mustBeGreaterThan",
                            "mustBeGreaterOrEqualTo", "mustBeLessThan", "mustBeLessOrEqualTo",
                            "mustBeBetween",    "mustNotBeBetween"};
const KeyList kServerTypes = {
    "api",      "athena",   "azure",     "bigquery", "clickhouse", "databricks", "denodo",
    "dremio",   "duckdb",   "glue",      "cloudsql", "db2",        "hive",       "impala",
    "informix", "kafka",    "kinesis",   "local",    "mysql",      "oracle",     "postgresql",
    "postgres", "presto",   "pubsub",    "redshift", "s3",         "sftp",       "snowflake",
    "sqlserver", "synapse", "trino",     "vertica",  "zen",        "custom"};
const KeyList kSlaKeys = {"id",      "property", "value",     "valueExt", "unit",
                          "element", "driver",   "scheduler", "schedule", "description"};

/// The fields a server of each type requires (ODCS ServerSource).
KeyList ServerRequired(const std::string& type) {
  static const std::vector<std::pair<std::string_view, KeyList>> kTable = {
      {"api", {"location"}},
      {"athena", {"stagingDir", "schema"}},
      {"azure", {"location", "format"}},
      {"bigquery", {"project", "dataset"}},
      {"clickhouse", {"host", "port", "database"}},
      {"databricks", {"catalog", "schema"}},
      {"denodo", {"host", "port"}},
      {"dremio", {"host", "port"}},
      {"duckdb", {"database"}},
      {"glue", {"account", "database"}},
      {"cloudsql", {"host", "port", "database", "schema"}},
      {"db2", {"host", "port", "database"}},
      {"hive", {"host", "database"}},
      {"impala", {"host", "database"}},
      {"informix", {"host", "database"}},
      {"zen", {"host", "database"}},
      {"kafka", {"host"}},
      {"local", {"path", "format"}},
      {"mysql", {"host", "port", "database"}},
      {"oracle", {"host", "port", "serviceName"}},
      {"postgresql", {"host", "port", "database", "schema"}},
      {"postgres", {"host", "port", "database", "schema"}},
      {"presto", {"host"}},
      {"pubsub", {"project"}},
      {"redshift", {"database", "schema"}},
      {"s3", {"location"}},
      {"sftp", {"location"}},
      {"snowflake", {"account", "database", "schema"}},
      {"sqlserver", {"host", "database", "schema"}},
      {"synapse", {"host", "port", "database"}},
      {"trino", {"host", "port", "catalog", "schema"}},
      {"vertica", {"host", "port", "database", "schema"}},
  };
  for (const auto& [name, required] : kTable) {
    if (name == type) return required;
  }
  return {};
}

/// The type a quality rule is checked as: its `type`, else library when it names a metric.
std::string EffectiveQualityType(YamlReader& r, const YAML::Node& rule, const std::string& path) {
  std::string type;
  if (r.Find(rule, "type").IsDefined()) {
    if (!r.Enum(rule, "type", path, kQualityTypes, &type)) return "?";
    return type;
  }
  if (r.Find(rule, "metric").IsDefined()) return "library";
  return "";
}

KeyList QualityKeysFor(const std::string& type) {
  KeyList keys = kQualityKeys;
  if (type == "library") keys.insert(keys.end(), {"metric", "rule", "arguments"});
  if (type == "sql") keys.push_back("query");
  if (type == "custom") keys.insert(keys.end(), {"engine", "implementation"});
  if (type == "library" || type == "sql") {
    keys.insert(keys.end(), kOperators.begin(), kOperators.end());
  }
  return keys;
}

void CheckBetween(YamlReader& r, const YAML::Node& rule, std::string_view key,
                  const std::string& path) {
  YAML::Node value = r.Find(rule, key);
  if (!value.IsDefined()) return;
  std::string field = FieldPath(path, key);
  double low = 0;
  double high = 0;
  bool numbers = value.IsSequence() && value.size() == 2 &&
                 YAML::convert<double>::decode(value[0], low) &&
                 YAML::convert<double>::decode(value[1], high);
  if (!numbers) {
    r.Report(r.ValueLocation(rule, key), field, "expected a list of exactly 2 numbers");
  } else if (low == high) {
    r.Report(r.ValueLocation(rule, key), field, "the 2 bounds must differ");
  }
}

void CheckOperators(YamlReader& r, const YAML::Node& rule, const std::string& path) {
  std::vector<std::string_view> present;
  for (std::string_view op : kOperators) {
    if (r.Find(rule, op).IsDefined()) present.push_back(op);
  }
  if (present.size() > 1) {
    r.Report(rule, path,
             "at most one comparison operator is allowed, found " + JoinKeys(present));
  }
  for (std::string_view op : {"mustBeGreaterThan", "mustBeGreaterOrEqualTo", "mustBeLessThan",
                              "mustBeLessOrEqualTo"}) {
    r.Number(rule, op, path);
  }
  CheckBetween(r, rule, "mustBeBetween", path);
  CheckBetween(r, rule, "mustNotBeBetween", path);
}

void CheckTypeSpecific(YamlReader& r, const YAML::Node& rule, const std::string& path,
                       const std::string& type) {
  std::string text;
  if (type == "library") {
    if (!r.Find(rule, "metric").IsDefined() && !r.Find(rule, "rule").IsDefined()) {
      r.Report(rule, FieldPath(path, "metric"), "required field is missing (type library)");
    }
    r.Enum(rule, "metric", path, kMetrics, &text);
    r.Text(rule, "rule", path, &text);
  } else if (type == "sql") {
    if (!r.Find(rule, "query").IsDefined()) {
      r.Report(rule, FieldPath(path, "query"), "required field is missing (type sql)");
    }
    r.NonEmptyText(rule, "query", path, &text);
  } else if (type == "custom") {
    for (std::string_view key : {"engine", "implementation"}) {
      if (!r.Find(rule, key).IsDefined()) {
        r.Report(rule, FieldPath(path, key), "required field is missing (type custom)");
      }
    }
    r.Text(rule, "engine", path, &text);
  }
  if (type == "library" || type == "sql") CheckOperators(r, rule, path);
}

/// The scalar items of a list-valued argument as text; null items set `*has_null`.
std::vector<std::string> ScalarItems(const YAML::Node& list, bool* has_null) {
  std::vector<std::string> out;
  if (!list.IsSequence()) return out;
  for (const YAML::Node& item : list) {
    if (item.IsNull()) {
      if (has_null != nullptr) *has_null = true;
    } else if (item.IsScalar()) {
      out.push_back(item.Scalar());
    }
  }
  return out;
}

/// The arguments the library metrics use (validValues, pattern, missingValues, properties).
void FillArguments(const YamlReader& r, const YAML::Node& rule, QualityRule* out) {
  YAML::Node args = r.Find(rule, "arguments");
  if (!args.IsDefined() || !args.IsMap()) return;
  out->valid_values = ScalarItems(r.Find(args, "validValues"), nullptr);
  YAML::Node pattern = r.Find(args, "pattern");
  if (pattern.IsDefined() && pattern.IsScalar()) out->pattern = pattern.Scalar();
  YAML::Node missing = r.Find(args, "missingValues");
  out->has_missing_values = missing.IsDefined() && missing.IsSequence();
  out->missing_values = ScalarItems(missing, nullptr);
  out->properties = ScalarItems(r.Find(args, "properties"), nullptr);
}

/// The comparison operator and its operand(s). mustBe / mustNotBe may be a boolean (true is 1).
void FillOperator(const YamlReader& r, const YAML::Node& rule, QualityRule* out) {
  for (std::string_view op : kOperators) {
    YAML::Node value = r.Find(rule, op);
    if (!value.IsDefined()) continue;
    out->op = std::string(op);
    YAML::Emitter emitter;
    emitter << YAML::Flow << value;
    out->operand_text = emitter.c_str();
    std::vector<YAML::Node> items;
    if (value.IsSequence()) {
      for (const YAML::Node& item : value) items.push_back(item);
    } else {
      items.push_back(value);
    }
    for (const YAML::Node& item : items) {
      double number = 0;
      bool flag = false;
      if (YAML::convert<double>::decode(item, number)) {
        out->operands.push_back(number);
      } else if (YAML::convert<bool>::decode(item, flag)) {
        out->operands.push_back(flag ? 1 : 0);
      }
    }
    return;
  }
}

void CheckQualityRule(YamlReader& r, const YAML::Node& rule, const std::string& path, bool v31,
                      QualityRule* out) {
  if (!r.ExpectMap(rule, path)) return;
  std::string type = EffectiveQualityType(r, rule, path);
  if (type == "?") return;  // an unknown type: reported, nothing else to check against
  if (v31) r.CheckKeys(rule, path, QualityKeysFor(type), {});
  out->location = r.LocationOf(rule);
  out->type = type.empty() ? "library" : type;
  r.Enum(rule, "dimension", path, kDimensions, &out->dimension);
  std::string text;
  r.Text(rule, "id", path, &out->id);
  r.Text(rule, "name", path, &out->name);
  r.Text(rule, "description", path, &out->description);
  r.Text(rule, "severity", path, &out->severity);
  r.Text(rule, "businessImpact", path, &out->business_impact);
  r.Text(rule, "unit", path, &out->unit);
  for (std::string_view key : {"method", "schedule", "scheduler"}) r.Text(rule, key, path, &text);
  CheckTypeSpecific(r, rule, path, type);
  if (out->type == "library") {
    YAML::Node metric = r.Find(rule, "metric");
    if (!metric.IsDefined()) metric = r.Find(rule, "rule");  // v3.0.x spelling
    if (metric.IsDefined() && metric.IsScalar()) out->metric = metric.Scalar();
    FillArguments(r, rule, out);
  }
  YAML::Node query = r.Find(rule, "query");
  if (query.IsDefined() && query.IsScalar()) out->query = query.Scalar();
  YAML::Node engine = r.Find(rule, "engine");
  if (engine.IsDefined() && engine.IsScalar()) out->engine = engine.Scalar();
  YAML::Node implementation = r.Find(rule, "implementation");
  if (implementation.IsDefined()) {
    if (implementation.IsScalar()) {
      out->implementation = implementation.Scalar();
    } else {
      YAML::Emitter emitter;
      emitter << implementation;
      out->implementation = emitter.c_str();
    }
  }
  FillOperator(r, rule, out);
  if (out->severity.empty()) out->severity = "error";
  if (out->unit.empty()) out->unit = "rows";
}

bool IsReference(const std::string& text) {
  static const std::regex kShorthand("^[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*$");
  static const std::regex kQualified(
      "^(?:(?:https?:\\/\\/)?[A-Za-z0-9._\\-\\/]+\\.yaml#)?\\/?[A-Za-z_][A-Za-z0-9_]*\\/"
      "[A-Za-z0-9_-]+(?:\\/[A-Za-z_][A-Za-z0-9_]*\\/[A-Za-z0-9_-]+)*$");
  return std::regex_match(text, kShorthand) || std::regex_match(text, kQualified);
}

/// `from` / `to`: a reference, or a non-empty list of references. Returns the kind found.
std::string_view CheckEnd(YamlReader& r, const YAML::Node& rel, std::string_view key,
                          const std::string& path) {
  YAML::Node value = r.Find(rel, key);
  if (!value.IsDefined()) return "";
  std::string field = FieldPath(path, key);
  std::vector<YAML::Node> refs;
  if (value.IsScalar()) refs.push_back(value);
  if (value.IsSequence()) refs = r.List(rel, key, path);
  if (refs.empty()) {
    r.Report(r.ValueLocation(rel, key), field, "expected a reference or a non-empty list of them");
    return "?";
  }
  for (const YAML::Node& ref : refs) {
    if (!ref.IsScalar() || !IsReference(ref.Scalar())) {
      r.Report(ref, field,
               "expected a reference like table.column or schema/table/properties/column");
    }
  }
  return value.IsScalar() ? "text" : "list";
}

}  // namespace

void CheckQualityList(YamlReader& r, const YAML::Node& map, const std::string& path, bool v31,
                      std::vector<QualityRule>* out, const std::string& column) {
  std::vector<YAML::Node> rules = r.List(map, "quality", path);
  for (size_t i = 0; i < rules.size(); ++i) {
    QualityRule rule;
    rule.column = column;
    CheckQualityRule(r, rules[i], ItemPath(FieldPath(path, "quality"), i), v31, &rule);
    if (out != nullptr && !rule.type.empty()) out->push_back(std::move(rule));
  }
}

void CheckRelationships(YamlReader& r, const YAML::Node& map, const std::string& path,
                        bool property_level) {
  std::vector<YAML::Node> items = r.List(map, "relationships", path);
  for (size_t i = 0; i < items.size(); ++i) {
    std::string item = ItemPath(FieldPath(path, "relationships"), i);
    if (!r.ExpectMap(items[i], item)) continue;
    if (property_level) {
      // "from" is refused below with a message that says why.
      r.CheckKeys(items[i], item, {"type", "from", "to", "customProperties"}, {"to"});
      if (r.Find(items[i], "from").IsDefined()) {
        r.Report(r.ValueLocation(items[i], "from"), FieldPath(item, "from"),
                 "a property-level relationship may not have 'from' (the property is the source)");
      }
    } else {
      r.CheckKeys(items[i], item, {"type", "from", "to", "customProperties"}, {"from", "to"});
    }
    std::string type;
    r.Enum(items[i], "type", item, {"foreignKey"}, &type);
    std::string_view from = CheckEnd(r, items[i], "from", item);
    std::string_view to = CheckEnd(r, items[i], "to", item);
    if (!property_level && (from == "text" || from == "list") &&
        (to == "text" || to == "list") && from != to) {
      r.Report(items[i], item, "'from' and 'to' must both be references or both be lists");
    }
    r.CheckObjectList(items[i], "customProperties", item, kCustomPropertyKeys,
                      kCustomPropertyRequired);
  }
}

void CheckServers(YamlReader& r, const YAML::Node& root) {
  std::vector<YAML::Node> servers = r.List(root, "servers", "");
  for (size_t i = 0; i < servers.size(); ++i) {
    std::string path = ItemPath("servers", i);
    if (!r.ExpectMap(servers[i], path)) continue;
    r.CheckKeys(servers[i], path, {}, {"server", "type"});
    std::string type;
    std::string text;
    r.Text(servers[i], "server", path, &text);
    if (!r.Enum(servers[i], "type", path, kServerTypes, &type)) continue;
    for (std::string_view key : ServerRequired(type)) {
      if (!r.Find(servers[i], key).IsDefined()) {
        r.Report(servers[i], FieldPath(path, key),
                 "required field is missing (for a server of type " + type + ")");
      }
    }
  }
}

void CheckSlaProperties(YamlReader& r, const YAML::Node& root, std::vector<SlaProperty>* out) {
  std::vector<YAML::Node> items = r.List(root, "slaProperties", "");
  for (size_t i = 0; i < items.size(); ++i) {
    std::string path = ItemPath("slaProperties", i);
    if (!r.ExpectMap(items[i], path)) continue;
    r.CheckKeys(items[i], path, kSlaKeys, {"property", "value"});
    SlaProperty sla;
    sla.location = r.LocationOf(items[i]);
    r.Text(items[i], "property", path, &sla.property);
    YAML::Node value = r.Find(items[i], "value");
    if (value.IsScalar()) {
      sla.value = value.Scalar();  // a number or a boolean as written
    } else if (value.IsDefined() && (value.IsMap() || value.IsSequence())) {
      r.Report(r.ValueLocation(items[i], "value"), FieldPath(path, "value"),
               "expected text, a number or a boolean, found " + std::string(KindName(value)));
    }
    r.Text(items[i], "unit", path, &sla.unit);
    r.Text(items[i], "element", path, &sla.element);
    if (out != nullptr) out->push_back(std::move(sla));
  }
}

}  // namespace plexus::spec::internal
