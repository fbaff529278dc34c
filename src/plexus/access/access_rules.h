// File: plexus/access/access_rules.h
//
// Checks a mesh's access rules before they are applied: each contract's visibility, each
// column's mask (its own, or the mesh's rule for its classification) and each port's row
// filter. A row filter and an sql(...) mask are bound and run for real against a table of the
// port's columns (one row of NULLs) in a scratch hardened in-memory DuckDB, through the
// SqlGuard: so they may only call allowlisted functions, name only the port's columns and read
// no table, and a misspelt column is caught at apply, not at the first query.
//
//   std::vector<spec::Diagnostic> problems;
//   PLEXUS_RETURN_IF_ERROR(CheckAccessRules(mesh, &problems));
//   // problems: "contracts/customers.odcs.yaml:12:5: customProperties.rowFilter: ..."
//
// Thread safety: plain function (opens its own engine).
#pragma once

#include <vector>

#include "plexus/common/status.h"
#include "plexus/spec/model.h"
#include "plexus/spec/parse.h"

namespace plexus::access {

/// Appends a Diagnostic (file, line, field) for every bad rule. Returns an error Status only
/// when the check itself could not run (the scratch engine failed).
Status CheckAccessRules(const spec::Mesh& mesh, std::vector<spec::Diagnostic>* problems);

}  // namespace plexus::access
