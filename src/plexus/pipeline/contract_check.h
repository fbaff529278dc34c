// File: plexus/pipeline/contract_check.h
//
// Holding a pipeline's output to its port's contract: the result must have exactly the
// contract's columns (cast to the contract's types), required columns no NULL, the primary key
// and unique columns no duplicates.
#pragma once

#include <string>

#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"

namespace plexus::pipeline {

/// A SELECT over `sql` that yields the contract's columns, in its order, cast to its types.
/// Refuses a result that lacks a contract column or has a column the contract does not name.
Result<std::string> ConformingSelect(engine::Connection& conn, const std::string& sql,
                                     const catalog::OutputPortRecord& port);

/// Checks the staged table; returns its row count, or FailedPrecondition listing every
/// violation (column, rule, how many rows).
Result<int64_t> CheckContract(engine::Connection& conn, const std::string& staging,
                              const catalog::OutputPortRecord& port);

/// True when `type` is a plain type name: letters, digits, _, spaces, an optional (p[, s])
/// and optional [] suffixes. Anything else is refused before it reaches SQL.
bool IsPlainTypeName(const std::string& type);

}  // namespace plexus::pipeline
