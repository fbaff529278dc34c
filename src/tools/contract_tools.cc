// File: tools/contract_tools.cc
//
// Contract export (DDL, JSON Schema) and contract inference from data files.
#include "tools/contract_tools.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "plexus/engine/engine.h"
#include "plexus/spec/format.h"

namespace plexus::tools {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

/// DuckDB's spelling of a physical type, which may be written for another database.
std::string DuckDbSpelling(const std::string& physical) {
  std::string type = Upper(Trim(physical));
  size_t paren = type.find('(');
  std::string base = Trim(type.substr(0, paren));
  std::string args = paren == std::string::npos ? "" : type.substr(paren);
  static const std::vector<std::pair<std::string_view, std::string_view>> kAliases = {
      {"TEXT", "VARCHAR"},        {"STRING", "VARCHAR"},      {"BPCHAR", "VARCHAR"},
      {"NVARCHAR", "VARCHAR"},    {"CHARACTER VARYING", "VARCHAR"}, {"CHAR", "VARCHAR"},
      {"INT", "INTEGER"},         {"INT4", "INTEGER"},        {"INT8", "BIGINT"},
      {"LONG", "BIGINT"},         {"INT2", "SMALLINT"},       {"SHORT", "SMALLINT"},
      {"NUMBER", "DECIMAL"},      {"NUMERIC", "DECIMAL"},     {"FLOAT8", "DOUBLE"},
      {"DOUBLE PRECISION", "DOUBLE"}, {"FLOAT4", "FLOAT"},    {"REAL", "FLOAT"},
      {"BOOL", "BOOLEAN"},        {"DATETIME", "TIMESTAMP"},  {"TIMESTAMP_NTZ", "TIMESTAMP"},
      {"TIMESTAMP_TZ", "TIMESTAMPTZ"}, {"TIMESTAMP_LTZ", "TIMESTAMPTZ"},
      {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}, {"BYTEA", "BLOB"}, {"BYTES", "BLOB"},
      {"BINARY", "BLOB"},         {"VARBINARY", "BLOB"},      {"JSONB", "JSON"},
      {"VARIANT", "JSON"},
  };
  for (const auto& [alias, duckdb] : kAliases) {
    if (base == alias) return std::string(duckdb) + args;
  }
  return type;
}

/// PostgreSQL's spelling of a type DuckDB spells `duckdb`.
std::string PostgresSpelling(const std::string& duckdb) {
  if (duckdb.size() > 2 && duckdb.compare(duckdb.size() - 2, 2, "[]") == 0) {
    return PostgresSpelling(duckdb.substr(0, duckdb.size() - 2)) + "[]";
  }
  size_t paren = duckdb.find('(');
  std::string base = duckdb.substr(0, paren);
  std::string args = paren == std::string::npos ? "" : duckdb.substr(paren);
  static const std::vector<std::pair<std::string_view, std::string_view>> kTypes = {
      {"VARCHAR", "text"},          {"BIGINT", "bigint"},        {"INTEGER", "integer"},
      {"SMALLINT", "smallint"},     {"TINYINT", "smallint"},     {"UTINYINT", "smallint"},
      {"USMALLINT", "integer"},     {"UINTEGER", "bigint"},      {"UBIGINT", "numeric(20,0)"},
      {"HUGEINT", "numeric(38,0)"}, {"UHUGEINT", "numeric(39,0)"}, {"DOUBLE", "double precision"},
      {"FLOAT", "real"},            {"BOOLEAN", "boolean"},      {"DATE", "date"},
      {"TIMESTAMP", "timestamp"},   {"TIMESTAMPTZ", "timestamptz"}, {"TIME", "time"},
      {"INTERVAL", "interval"},     {"BLOB", "bytea"},           {"UUID", "uuid"},
      {"JSON", "jsonb"},            {"STRUCT", "jsonb"},         {"MAP", "jsonb"},
      {"UNION", "jsonb"},
  };
  if (base == "VARCHAR" && !args.empty()) return "varchar" + args;
  if (base == "DECIMAL") return "numeric" + args;
  for (const auto& [from, to] : kTypes) {
    if (base == from) return std::string(to);
  }
  return Lower(duckdb);
}

std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string QuoteText(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string TableDdl(const spec::SchemaObject& object, DdlDialect dialect) {
  std::string table = QuoteIdent(object.physical_name.empty() ? object.name : object.physical_name);
  std::vector<std::string> lines;
  std::vector<const spec::Property*> keys;
  for (const spec::Property& p : object.properties) {
    std::string line = "  " + QuoteIdent(p.name) + " " + ColumnType(p, dialect);
    if (p.required || p.primary_key) line += " NOT NULL";
    if (p.unique && !p.primary_key) line += " UNIQUE";
    lines.push_back(line);
    if (p.primary_key) keys.push_back(&p);
  }
  std::stable_sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) {
    return a->primary_key_position < b->primary_key_position;
  });
  if (!keys.empty()) {
    std::string line = "  PRIMARY KEY (";
    for (size_t i = 0; i < keys.size(); ++i) line += (i ? ", " : "") + QuoteIdent(keys[i]->name);
    lines.push_back(line + ")");
  }
  std::string out = "CREATE TABLE " + table + " (\n";
  for (size_t i = 0; i < lines.size(); ++i) out += lines[i] + (i + 1 < lines.size() ? ",\n" : "\n");
  out += ");\n";
  if (!object.description.empty()) {
    out += "COMMENT ON TABLE " + table + " IS " + QuoteText(object.description) + ";\n";
  }
  for (const spec::Property& p : object.properties) {
    if (p.description.empty()) continue;
    out += "COMMENT ON COLUMN " + table + "." + QuoteIdent(p.name) + " IS " +
           QuoteText(p.description) + ";\n";
  }
  return out;
}

}  // namespace

std::string ColumnType(const spec::Property& property, DdlDialect dialect) {
  std::string duckdb;
  if (!Trim(property.physical_type).empty()) {
    duckdb = DuckDbSpelling(property.physical_type);
  } else {
    static const std::vector<std::pair<std::string_view, std::string_view>> kLogical = {
        {"string", "VARCHAR"}, {"integer", "BIGINT"}, {"number", "DOUBLE"},
        {"boolean", "BOOLEAN"}, {"date", "DATE"},     {"timestamp", "TIMESTAMP"},
        {"time", "TIME"},       {"object", "JSON"},   {"array", "JSON"}};
    duckdb = "VARCHAR";
    for (const auto& [logical, type] : kLogical) {
      if (property.logical_type == logical) duckdb = type;
    }
  }
  return dialect == DdlDialect::kDuckDb ? duckdb : PostgresSpelling(duckdb);
}

std::string ContractDdl(const spec::Contract& contract, DdlDialect dialect) {
  std::string out = "-- " + (contract.name.empty() ? contract.id : contract.name) + " (" +
                    contract.id + ", version " + contract.version + "): " +
                    (dialect == DdlDialect::kDuckDb ? "DuckDB" : "PostgreSQL") +
                    " DDL written by plexus contract export\n";
  for (const spec::SchemaObject& object : contract.schema) out += "\n" + TableDdl(object, dialect);
  return out;
}

namespace {

Json PropertySchema(const spec::Property& p) {
  std::string logical = p.logical_type;
  Json schema = Json::object();
  if (!p.business_name.empty()) schema["title"] = p.business_name;
  if (!p.description.empty()) schema["description"] = p.description;
  static const std::vector<std::pair<std::string_view, std::pair<const char*, const char*>>>
      kTypes = {{"string", {"string", ""}},     {"integer", {"integer", ""}},
                {"number", {"number", ""}},     {"boolean", {"boolean", ""}},
                {"date", {"string", "date"}},   {"timestamp", {"string", "date-time"}},
                {"time", {"string", "time"}},   {"object", {"object", ""}},
                {"array", {"array", ""}}};
  for (const auto& [name, type] : kTypes) {
    if (logical != name) continue;
    schema["type"] = p.required ? Json(type.first) : Json::array({type.first, "null"});
    if (*type.second != '\0') schema["format"] = type.second;
  }
  return schema;
}

Json RowSchema(const spec::SchemaObject& object) {
  Json row = {{"title", object.name}, {"type", "object"}};
  if (!object.description.empty()) row["description"] = object.description;
  Json properties = Json::object();
  Json required = Json::array();
  for (const spec::Property& p : object.properties) {
    properties[p.name] = PropertySchema(p);
    if (p.required || p.primary_key) required.push_back(p.name);
  }
  row["properties"] = std::move(properties);
  row["required"] = std::move(required);
  row["additionalProperties"] = false;
  return row;
}

}  // namespace

Result<std::string> ContractJsonSchema(const spec::Contract& contract,
                                       const std::string& object) {
  Json doc = {{"$schema", "https://json-schema.org/draft/2019-09/schema"}};
  for (const spec::SchemaObject& candidate : contract.schema) {
    if (candidate.name == object || (object.empty() && contract.schema.size() == 1)) {
      doc.update(RowSchema(candidate));
      return doc.dump(2) + "\n";
    }
  }
  if (!object.empty()) {
    return NotFound("contract " + contract.id + " has no schema object named '" + object + "'");
  }
  doc["title"] = contract.name.empty() ? contract.id : contract.name;
  for (const spec::SchemaObject& candidate : contract.schema) {
    doc["$defs"][candidate.name] = RowSchema(candidate);
  }
  return doc.dump(2) + "\n";
}

}  // namespace plexus::tools
