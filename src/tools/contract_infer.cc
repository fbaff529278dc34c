// File: tools/contract_infer.cc
//
// `plexus contract infer`: reads a data file with DuckDB and drafts an ODCS v3.1.0 contract.
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "plexus/engine/engine.h"
#include "plexus/spec/format.h"
#include "tools/contract_tools.h"

namespace plexus::tools {
namespace {

namespace fs = std::filesystem;

struct InferredColumn {
  std::string name;
  std::string type;  ///< DuckDB's name
  bool required = false;
};

/// The DuckDB table function that reads `path` in `format`.
Result<std::string> ReaderSql(const std::string& path, std::string format) {
  if (format.empty()) {
    std::string ext = fs::path(path).extension().string();
    if (ext == ".gz") ext = fs::path(path).stem().extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".csv" || ext == ".tsv") format = "csv";
    if (ext == ".json") format = "json";
    if (ext == ".ndjson" || ext == ".jsonl") format = "ndjson";
    if (ext == ".parquet") format = "parquet";
  }
  std::string file = engine::QuoteLiteral(path);
  if (format == "csv") return "read_csv(" + file + ")";
  if (format == "json") return "read_json(" + file + ")";
  if (format == "ndjson") return "read_json(" + file + ", format = 'newline_delimited')";
  if (format == "parquet") return "read_parquet(" + file + ")";
  return InvalidArgument(path + ": cannot tell the format" +
                         (format.empty() ? std::string() : " '" + format + "'") +
                         " (use --format csv, json, ndjson or parquet)");
}

/// The ODCS logical type of a DuckDB type.
std::string LogicalTypeOf(const std::string& duckdb) {
  if (duckdb.size() > 2 && duckdb.compare(duckdb.size() - 2, 2, "[]") == 0) return "array";
  std::string base = duckdb.substr(0, duckdb.find('('));
  static const std::vector<std::pair<std::string_view, std::string_view>> kTypes = {
      {"TINYINT", "integer"},   {"SMALLINT", "integer"}, {"INTEGER", "integer"},
      {"BIGINT", "integer"},    {"HUGEINT", "integer"},  {"UTINYINT", "integer"},
      {"USMALLINT", "integer"}, {"UINTEGER", "integer"}, {"UBIGINT", "integer"},
      {"UHUGEINT", "integer"},  {"DOUBLE", "number"},    {"FLOAT", "number"},
      {"DECIMAL", "number"},    {"BOOLEAN", "boolean"},  {"DATE", "date"},
      {"TIMESTAMP", "timestamp"}, {"TIMESTAMP WITH TIME ZONE", "timestamp"},
      {"TIMESTAMP_S", "timestamp"}, {"TIMESTAMP_MS", "timestamp"}, {"TIMESTAMP_NS", "timestamp"},
      {"TIME", "time"},         {"STRUCT", "object"},    {"MAP", "object"},
      {"LIST", "array"}};
  for (const auto& [type, logical] : kTypes) {
    if (base == type) return std::string(logical);
  }
  return "string";
}

/// The columns of `reader` and whether each is free of NULLs (in a file that has rows).
Result<std::vector<InferredColumn>> ReadColumns(engine::Connection& conn,
                                                const std::string& reader) {
  std::vector<InferredColumn> columns;
  PLEXUS_ASSIGN_OR_RETURN(auto shape, conn.Query("SELECT * FROM " + reader + " LIMIT 0"));
  for (const engine::ColumnInfo& info : shape->columns()) {
    columns.push_back(InferredColumn{info.name, info.type_name, false});
  }
  std::string sql = "SELECT count(*)";
  for (const InferredColumn& c : columns) sql += ", count(" + engine::QuoteIdentifier(c.name) + ")";
  PLEXUS_ASSIGN_OR_RETURN(auto counts, conn.Query(sql + " FROM " + reader));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, counts->Fetch());
  if (!chunk || chunk->size() == 0) return Internal("counting the rows of " + reader + " failed");
  int64_t rows = chunk->GetInt64(0, 0);
  for (size_t i = 0; i < columns.size(); ++i) {
    columns[i].required = rows > 0 && chunk->GetInt64(i + 1, 0) == rows;
  }
  return columns;
}

/// A snake_case name from a file name: "Order Lines.csv" -> order_lines.
std::string NameFromFile(const std::string& path) {
  std::string stem = fs::path(path).stem().string();
  if (fs::path(stem).has_extension()) stem = fs::path(stem).stem().string();  // x.csv.gz
  std::string out;
  for (char c : stem) {
    bool word = std::isalnum(static_cast<unsigned char>(c));
    if (word) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!word && !out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "data_" + out;
  return out;
}

std::string Quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string DraftYaml(const std::string& file, const std::string& name, const std::string& id,
                      const std::vector<InferredColumn>& columns) {
  std::string out = "apiVersion: v3.1.0\nkind: DataContract\nid: " + Quoted(id) +
                    "\nname: " + Quoted(name) + "\nversion: 0.1.0\nstatus: draft\n" +
                    "description:\n  purpose: " +
                    Quoted("Drafted by plexus contract infer from " +
                           fs::path(file).filename().string() + ": review before use.") +
                    "\nschema:\n  - name: " + Quoted(name) +
                    "\n    logicalType: object\n    physicalType: table\n    properties:\n";
  for (const InferredColumn& c : columns) {
    out += "      - name: " + Quoted(c.name) + "\n        logicalType: " + LogicalTypeOf(c.type) +
           "\n        physicalType: " + Quoted(c.type) + "\n";
    if (c.required) out += "        required: true\n";
  }
  return out;
}

}  // namespace

Result<std::string> InferContract(const std::string& data_file, const InferOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(data_file, ec)) return NotFound(data_file + ": no such file");
  PLEXUS_ASSIGN_OR_RETURN(std::string reader, ReaderSql(data_file, options.format));
  PLEXUS_ASSIGN_OR_RETURN(auto db, engine::Database::Open({}));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
  Result<std::vector<InferredColumn>> columns = ReadColumns(*conn, reader);
  if (!columns.ok()) return columns.status().WithPrefix("reading " + data_file);
  if (columns->empty()) return InvalidArgument(data_file + ": no columns found");
  std::string name = options.name.empty() ? NameFromFile(data_file) : options.name;
  std::string id = options.id.empty() ? name + "-contract" : options.id;
  std::string yaml = DraftYaml(data_file, name, id, *columns);
  std::vector<spec::Diagnostic> problems;
  Result<std::string> formatted = spec::FormatText(yaml, name + ".odcs.yaml", &problems);
  if (!formatted.ok()) return Internal("the drafted contract does not validate: " +
                                       formatted.status().message());
  return formatted;
}

}  // namespace plexus::tools
