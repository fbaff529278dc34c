// File: plexus/spec/contract_diff.h
//
// What changed between two versions of a data contract, each change classified as breaking or
// not. The rule (module README, "Contract changes"): a change is breaking when a consumer's
// query of the old shape could fail (a column or table gone or renamed, a type changed other
// than widened) or when data valid under the old contract could violate the new one (a type
// narrowed, optional to required, a new required column, unique added, the primary key
// changed, a valid value removed).
//
//   ContractDiff diff = DiffContracts(applied, working_tree);
//   for (const auto& change : diff.changes) std::cout << change.ToString() << "\n";
//   if (diff.breaking()) ...
//
// Thread safety: free functions over values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plexus/spec/model.h"

namespace plexus::spec {

enum class ChangeKind {
  kObjectRemoved,
  kObjectAdded,
  kColumnRemoved,
  kColumnRenamed,
  kColumnAdded,          ///< breaking when the new column is required
  kTypeNarrowed,
  kTypeChanged,          ///< neither widening nor narrowing (e.g. VARCHAR -> INTEGER)
  kTypeWidened,
  kNowRequired,
  kNowOptional,
  kPrimaryKeyChanged,
  kUniqueAdded,
  kUniqueRemoved,
  kValidValueRemoved,
  kValidValueAdded,
  kClassificationChanged,
  kQualityChanged,       ///< other quality rules: checked on every run, not by the gate
  kDocumentation,        ///< description, business name, tags, purpose...
};

/// One change of a contract.
struct ContractChange {
  ChangeKind kind;
  bool breaking = false;
  std::string object;  ///< the schema object (table); empty for contract-level changes
  std::string column;  ///< the column as it was (empty for table-level changes)
  std::string detail;  ///< what happened, in words: "type BIGINT -> INTEGER (narrowing)"

  /// "breaking      orders.order_date: column removed"
  std::string ToString() const;
};

struct ContractDiff {
  std::vector<ContractChange> changes;  ///< breaking ones first, then in document order

  bool breaking() const;
  bool empty() const { return changes.empty(); }
};

/// Every change from `before` to `after` (the whole contract: every schema object).
ContractDiff DiffContracts(const Contract& before, const Contract& after);

/// The DuckDB type a column is stored as: physicalType when set (upper case, spaces trimmed),
/// else from logicalType (string VARCHAR, integer BIGINT, number DOUBLE, ...).
std::string ColumnEngineType(const Property& property);
/// The DuckDB type an ODCS logicalType is stored as when no physicalType is given
/// (string -> VARCHAR, integer -> BIGINT, number -> DOUBLE, ...; unknown -> VARCHAR).
std::string EngineTypeForLogical(std::string_view logical_type);

enum class TypeChange {
  kSame,
  kWidening,     ///< every old value fits the new type: INTEGER -> BIGINT, DECIMAL(10,2) -> (12,2)
  kNarrowing,    ///< the reverse of a widening: BIGINT -> INTEGER
  kIncompatible, ///< another family: VARCHAR -> INTEGER, DATE -> VARCHAR
};
/// How a column's type change reads to a consumer (DuckDB type names, aliases understood).
TypeChange ClassifyTypeChange(const std::string& from, const std::string& to);

}  // namespace plexus::spec
