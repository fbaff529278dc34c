// File: tools/contract_tools.h
//
// `plexus contract export` and `plexus contract infer`: a contract's schema as SQL DDL (DuckDB
// or PostgreSQL) or as the JSON Schema of a row, and a draft ODCS v3.1.0 contract from a data
// file (CSV, JSON, NDJSON, Parquet) read through the engine.
//
//   PLEXUS_ASSIGN_OR_RETURN(spec::Contract c, spec::ParseContractFile("orders.odcs.yaml", &p));
//   std::string ddl = tools::ContractDdl(c, tools::DdlDialect::kPostgres);
//   PLEXUS_ASSIGN_OR_RETURN(std::string yaml, tools::InferContract("orders.csv", {}));
//
// Column types: `physicalType` when set (common spellings of other databases are translated:
// text, string, int, NUMBER(p,s), timestamp_ntz...), otherwise from `logicalType` as in
// docs/mesh-format.md. Thread safety: free functions; InferContract opens its own in-memory
// database.
#pragma once

#include <string>

#include "plexus/common/status.h"
#include "plexus/spec/model.h"

namespace plexus::tools {

enum class DdlDialect { kDuckDb, kPostgres };

/// CREATE TABLE statements for every schema object of `contract` (table name: physicalName,
/// else name), NOT NULL for required columns, PRIMARY KEY in primaryKeyPosition order, UNIQUE
/// for unique columns, and COMMENT ON for descriptions. Ends with a newline.
std::string ContractDdl(const spec::Contract& contract, DdlDialect dialect);

/// The column type of `property` in `dialect` (see the file comment).
std::string ColumnType(const spec::Property& property, DdlDialect dialect);

/// A JSON Schema (draft 2019-09) of one row of schema object `object` (empty: the contract's
/// only object; with several and none chosen, every row schema under `$defs`). Pretty JSON.
/// kNotFound when `object` names no schema object.
Result<std::string> ContractJsonSchema(const spec::Contract& contract, const std::string& object);

/// What `InferContract` writes besides the columns.
struct InferOptions {
  std::string name;    ///< contract and table name; empty: from the file name (snake_case)
  std::string id;      ///< contract id; empty: "<name>-contract"
  std::string format;  ///< csv, json, ndjson, parquet; empty: from the file's extension
};

/// Reads `data_file` with DuckDB and drafts an ODCS v3.1.0 contract (status draft, version
/// 0.1.0) with one schema object: per column its logicalType, its physicalType (DuckDB's
/// name) and `required: true` when the file has rows and the column holds no NULL. Returns
/// the YAML text in `plexus fmt`'s canonical form; it validates clean. kInvalidArgument for
/// an unknown format, kNotFound for a missing file, the engine's error for unreadable data.
Result<std::string> InferContract(const std::string& data_file, const InferOptions& options);

}  // namespace plexus::tools
