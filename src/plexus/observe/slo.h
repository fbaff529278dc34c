// File: plexus/observe/slo.h
//
// Service-level objectives: each output port's ODCS slaProperties (as applied; the catalog keeps
// them in port_slas) measured at a given time against the catalog's runs and publications, and
// the statuses stored with their history (docs/slo-and-trust.md says how each is measured).
//
//   PLEXUS_ASSIGN_OR_RETURN(auto statuses,
//                           observe::EvaluateSlos(*catalog, catalog::NowUtc(),
//                                                 {.oldest_value = PublishedDataReader(home)}));
//   for (const auto& s : statuses) if (s.status == "breached") ...  // an alert
//
// Thread safety: EvaluateSlos may run on any thread (the catalog serialises its calls); two
// evaluations at once are allowed but each counts towards availability and attainment.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"
#include "plexus/engine/engine.h"

#include <nlohmann/json.hpp>

namespace plexus::observe {

/// Reads the oldest value of a date or timestamp `column` of a published port, as seconds since
/// the Unix epoch (UTC); std::nullopt when the table has no non-null value.
using OldestValueReader = std::function<Result<std::optional<double>>(
    const catalog::OutputPortRecord& port, const std::string& column)>;

struct SloOptions {
  /// How retention reads the data; empty: retention objectives are `unknown` (their detail
  /// says the data was not read).
  OldestValueReader oldest_value;
};

/// A reader over the home's published data: each call opens an in-memory DuckDB and attaches
/// the port's domain file read-only (like `plexus test`).
OldestValueReader PublishedDataReader(const catalog::Home& home);
/// The oldest value of `column` in the port's published table, read on `conn` (which has the
/// port's domain attached), as seconds since the Unix epoch; std::nullopt when it has none.
Result<std::optional<double>> OldestValue(engine::Connection& conn,
                                          const catalog::OutputPortRecord& port,
                                          const std::string& column);

/// Evaluates every objective of every applied, not retired port major at `now` (ISO 8601, UTC
/// unless it carries an offset), records the evaluation (current status, changes, day counts;
/// Catalog::RecordSloEvaluation, times stored in UTC as FormatTime writes them) and returns the
/// current statuses, `since` filled in.
/// Properties not measured (e.g. generalAvailability) are left out.
Result<std::vector<catalog::SloStatusRecord>> EvaluateSlos(catalog::Catalog& catalog,
                                                           const std::string& now,
                                                           const SloOptions& options);
/// The same without reading data (retention: unknown).
Result<std::vector<catalog::SloStatusRecord>> EvaluateSlos(catalog::Catalog& catalog,
                                                           const std::string& now);

/// Seconds since the Unix epoch of an ISO 8601 time ("2026-11-25", "2026-11-25T10:00:00Z",
/// "2026-11-25 10:00:00.123+02:00"); std::nullopt when it is not one. No offset means UTC.
std::optional<double> ParseTime(const std::string& text);
/// The ISO 8601 text (UTC, milliseconds) of seconds since the epoch: ParseTime's inverse.
std::string FormatTime(double epoch_seconds);
/// Seconds in an ODCS duration unit (d, h, m, s, and long forms: day, days, hours, ...; w, mo,
/// y too); an empty unit is days (as the governance view reads it); std::nullopt: not known.
std::optional<double> UnitSeconds(const std::string& unit);

/// An SLO status as the API and `plexus slo --format json` show it.
nlohmann::json SloStatusJson(const catalog::SloStatusRecord& slo);

}  // namespace plexus::observe
