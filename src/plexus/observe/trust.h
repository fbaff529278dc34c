// File: plexus/observe/trust.h
//
// A trust score per product, 0 to 100, from five parts each 0 to 1 (docs/slo-and-trust.md):
//
//   score = 100 * (0.30 slo + 0.25 quality + 0.15 stability + 0.15 documentation
//                  + 0.15 consumers), rounded to one decimal
//
// computed from what the catalog holds at a given time (SLO statuses and their day counts,
// quality results, port versions, the descriptors as applied, usage), so it is deterministic:
// the same catalog and `now` give the same scores.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto slos, observe::EvaluateSlos(*catalog, now));  // first
//   PLEXUS_ASSIGN_OR_RETURN(auto scores, observe::ComputeTrustScores(*catalog, now));
//
// Thread safety: any thread (the catalog serialises its calls).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"

#include <nlohmann/json.hpp>

namespace plexus::observe {

/// The weights of the parts (they add up to 1).
inline constexpr double kTrustWeightSlo = 0.30;
inline constexpr double kTrustWeightQuality = 0.25;
inline constexpr double kTrustWeightStability = 0.15;
inline constexpr double kTrustWeightDocumentation = 0.15;
inline constexpr double kTrustWeightConsumers = 0.15;
/// A part without data (no SLO declared or evaluated, no quality check) counts this much.
inline constexpr double kTrustNeutral = 0.5;
/// Distinct readers in 30 days that give full marks for consumers.
inline constexpr double kTrustReadersForFull = 5;

/// The facts one product's score is computed from (the catalog's records, gathered by
/// ComputeTrustScores; a test may build them by hand).
struct TrustInputs {
  /// SLO attainment over 30 days (0..1); < 0: no evaluation with a known status.
  double slo_attainment = -1;
  /// Current statuses of the product's objectives (met, at_risk, breached, unknown).
  std::vector<std::string> slo_statuses;
  /// Quality pass rate over 30 days (0..1); < 0: no check.
  double quality_pass_rate = -1;
  /// New majors (breaking changes) of its ports applied in the last 180 days.
  int breaking_changes = 0;
  /// The product's lifecycle status, or the newest major's served status of a port when that
  /// is deprecated or retired.
  bool deprecated = false;
  bool retired = false;
  /// Documentation, each 0..1: the product's purpose; share of ports described; share of
  /// columns described; owners named; share of columns with a businessName or glossary term.
  double purpose = 0, port_descriptions = 0, column_descriptions = 0, owners = 0, business = 0;
  /// Distinct readers in the last 30 days.
  int64_t readers = 0;
};

/// The score and its parts for `inputs` (product ids and times left empty).
catalog::TrustScoreRecord ScoreTrust(const TrustInputs& inputs);

/// Gathers the inputs of every product at `now` (ISO 8601), product_id -> inputs.
Result<std::map<std::string, TrustInputs>> GatherTrustInputs(catalog::Catalog& catalog,
                                                             const std::string& now);

/// Computes every product's score at `now`, stores them (Catalog::RecordTrustScores) and
/// returns them by domain.product. Reads the SLO statuses as last evaluated: evaluate first.
Result<std::vector<catalog::TrustScoreRecord>> ComputeTrustScores(catalog::Catalog& catalog,
                                                                  const std::string& now);

/// A trust score with its parts as the API and `plexus slo --format json` show it.
nlohmann::json TrustScoreJson(const catalog::TrustScoreRecord& trust);

}  // namespace plexus::observe
