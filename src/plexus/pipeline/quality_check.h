// File: plexus/pipeline/quality_check.h
//
// Holding a port's table to its contract's ODCS quality rules, on every run
// (against the staging table, before the swap) and on demand (`plexus test`,
// against the published table).
//
//   std::vector<catalog::QualityResultRecord> results;
//   Status verdict = CheckQuality(conn, guard, *catalog, port, staging,
//   &results);
//   // results: one per rule (passed, failed, not_evaluated); verdict:
//   FailedPrecondition when a
//   // rule of severity error failed, naming each.
//
// How rules are evaluated:
// - library metrics (nullValues, missingValues, invalidValues, duplicateValues,
// rowCount) of a
//   table are computed by ONE aggregate query; a failed rule's failing rows are
//   sampled (up to 5, only columns classified public or internal);
// - sql rules: {object}/${object} (and {table}) become the port's table,
// {property}/${property}
//   (and {column}) the rule's column; the query goes through the SQL guard with
//   a resolver that knows only the port's own table (under its port name or its
//   SQL name), so a rule reads its own product's data and nothing else; its
//   first column of its first row is the measure;
// - custom and text rules are reported not_evaluated.
// Operators: mustBe (=), mustNotBe (<>), mustBeGreaterThan (>),
// mustBeGreaterOrEqualTo (>=), mustBeLessThan (<), mustBeLessOrEqualTo (<=),
// mustBeBetween [a, b] (a < x < b, as ODCS defines it: "equivalent to
// mustBeGreaterThan and mustBeLessThan"), mustNotBeBetween (x <= a or x >= b).
// A counting metric without an operator means mustBe 0. Unit percent: the count
// as a percentage of the table's rows (0 for an empty table).
//
// Thread safety: uses the caller's connection; one thread at a time.
#pragma once

#include <string>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"
#include "plexus/spec/model.h"

namespace plexus::pipeline {

/// Evaluates `rules` against `table` (the port's data: staging or published).
/// Returns one result per rule, in order, with product, port, major and
/// rule_position filled (run_id 0). A Status only when the table cannot be read
/// at all.
Result<std::vector<catalog::QualityResultRecord>>
EvaluateQuality(engine::Connection &conn, const access::SqlGuard &guard,
                const catalog::OutputPortRecord &port,
                const access::ResolvedRelation &table,
                const std::vector<spec::QualityRule> &rules);

/// The port's published table, in its domain's attached database (Home::AttachName), named
/// for the guard by the port's SQL name.
access::ResolvedRelation PublishedTable(const catalog::OutputPortRecord &port);

/// The port's rules from the catalog evaluated against `table` (no rules: no results).
Result<std::vector<catalog::QualityResultRecord>>
EvaluatePortQuality(engine::Connection &conn, const access::SqlGuard &guard,
                    const catalog::Catalog &catalog,
                    const catalog::OutputPortRecord &port,
                    const access::ResolvedRelation &table);

/// OK unless a rule of severity error failed; then FailedPrecondition naming
/// each such rule, what was measured and what was expected.
Status QualityVerdict(const std::vector<catalog::QualityResultRecord> &results);

/// The port's rules from the catalog, evaluated against `table`; appends the
/// results to `out` and returns QualityVerdict's answer (or the evaluation's
/// error).
Status CheckQuality(engine::Connection &conn, const access::SqlGuard &guard,
                    const catalog::Catalog &catalog,
                    const catalog::OutputPortRecord &port,
                    const access::ResolvedRelation &table,
                    std::vector<catalog::QualityResultRecord> *out);

/// `plexus test`: checks every published port (every major) of a product
/// against its rules, on a hardened engine that attaches the domain's data
/// read-only, and records the results (run_id 0). FailedPrecondition when
/// nothing of the product is published yet.
Result<std::vector<catalog::QualityResultRecord>>
TestPublishedQuality(const catalog::Home &home, catalog::Catalog *catalog,
                     const std::string &product_ref);

/// The query of a sql rule with ODCS's placeholders replaced: ${object},
/// {object}, ${table}, {table} by `object`; ${property}, {property}, ${column},
/// {column} by `property`. Both are inserted as given (quote them first).
std::string ExpandPlaceholders(const std::string &query,
                               const std::string &object,
                               const std::string &property);

/// True when a column so classified may appear in failing-row samples: public
/// or internal (any case). Everything else (pii, confidential, restricted,
/// sensitive, unclassified) is left out.
bool IsSampleable(const std::string &classification);

/// How a rule is named in messages: its name, else its id, else its
/// description, else its metric (or type) and column.
std::string RuleLabel(const spec::QualityRule &rule);

} // namespace plexus::pipeline
