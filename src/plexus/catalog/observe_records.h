// File: plexus/catalog/observe_records.h
//
// What the catalog keeps for observability (issue 9): each run's metrics per output port and
// per processor step, SLO status and its history, trust scores and alerts. The observe module
// computes them (observe/); the catalog stores them so the CLI, the server and the governance
// views read the same record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace plexus::catalog {

/// One run's figures for one output port (`position` -1, `processor` empty) or for one of its
/// processor steps (`position` 0, 1, ... in the chain's order; `processor` the step's kind, or
/// the name of the processor a `use` step expanded from). CDC runs record the port only.
struct RunMetricRecord {
  int64_t run_id = 0;
  std::string product_id;
  std::string product;  ///< domain.product (filled when read)
  std::string port;
  int position = -1;
  std::string processor;
  int64_t rows_in = 0;
  int64_t rows_out = 0;
  int64_t rows_rejected = 0;  ///< by the contract (a failed run: every row) or dead-lettered
  int64_t bytes_in = 0;       ///< bytes of the files read; 0 when not known
  int64_t bytes_out = 0;      ///< the published table's estimated size
  double seconds = 0;
  double lag_seconds = -1;    ///< CDC: now minus the newest applied event's time; -1: none
  std::string at;             ///< when the run finished (ISO 8601)
};

/// The status of one service-level objective of a port (from its contract's slaProperties).
struct SloStatusRecord {
  std::string product_id;
  std::string product;    ///< domain.product
  std::string port;
  int major = 0;
  std::string property;   ///< latency, freshness, frequency, availability, retention,
                          ///< errorRate, timeOfAvailability
  std::string objective;  ///< as written: "4 h", "99.9 percent", "09:00"
  double objective_value = 0;  ///< in `unit`
  double observed = 0;         ///< what was measured, in `unit`; NaN-free: see has_observed
  bool has_observed = false;
  std::string unit;       ///< seconds, percent, ratio, time
  std::string status;     ///< met, at_risk, breached, unknown
  std::string detail;     ///< one sentence a person reads: why
  std::string since;      ///< when the status last changed
  std::string evaluated_at;
};

/// A product's trust score, 0 to 100, and its parts, each 0 to 1 (docs/observability.md).
struct TrustScoreRecord {
  std::string product_id;
  std::string product;  ///< domain.product
  double score = 0;
  double slo = 0;
  double quality = 0;
  double stability = 0;
  double documentation = 0;
  double consumers = 0;
  std::string computed_at;
};

/// One alert: a condition that fired (and later resolved) for an entity; `key` (kind and
/// entity) deduplicates: one firing alert per key at a time.
struct AlertRecord {
  int64_t id = 0;
  std::string key;       ///< kind + ":" + entity
  std::string kind;      ///< slo_breach, quality_failure, pipeline_failure, schema_drift
  std::string entity;    ///< e.g. sales.orders.orders_v1/latency, or a product
  std::string product;   ///< domain.product
  std::string severity;  ///< critical, warning
  std::string status;    ///< firing, resolved
  std::string message;
  std::string fired_at;
  std::string resolved_at;
};

// ---- SLO evaluation and quality history (engineer S, catalog_slo.cc) ----

/// One slaProperty of an applied port major (table port_slas), as written in the contract.
struct SlaPropertyRecord {
  std::string product_id;
  std::string product;  ///< domain.product
  std::string port;
  int major = 0;
  int position = 0;       ///< its place in the contract's slaProperties
  std::string property;   ///< as written (ODCS names: latency, frequency, ...)
  std::string value;
  std::string unit;
  std::string element;    ///< what it applies to, e.g. orders.order_date; empty: the port
};

/// A product's runs as the SLOs read them (Catalog::SloRunWindow).
struct RunWindowRecord {
  int64_t runs = 0;    ///< runs finished since the window's start
  int64_t failed = 0;  ///< of them, failed
  std::string last_success_at;      ///< the newest successful run's finish; empty: none ever
  std::string previous_success_at;  ///< the one before it; empty: none
  std::string first_run_at;         ///< the product's first run's start; empty: none ever
  std::string first_success_at;     ///< the first successful run finished in the window
};

/// One check of one quality rule (QualityHistory).
struct QualityPointRecord {
  std::string checked_at;
  int64_t run_id = 0;
  std::string status;  ///< passed, failed, not_evaluated
  bool has_measured = false;
  double measured = 0;
};

/// One quality rule's results over time, oldest first, with its trend.
struct QualityRuleHistoryRecord {
  std::string product_id;
  std::string port;
  int major = 0;
  int rule_position = 0;
  std::string rule;
  std::string column;
  std::string check;
  std::string unit;
  std::string threshold;
  std::string severity;
  std::vector<QualityPointRecord> points;  ///< since the asked time, oldest first
  double pass_rate_recent = -1;  ///< passed share of the last 7 days' checks; -1: none
  double pass_rate_before = -1;  ///< of the 7 days before them; -1: none
  std::string trend;             ///< improving, declining, steady; empty: not enough checks
  std::string measured_trend;    ///< rising, falling, steady (mean figure); empty: not known
};

}  // namespace plexus::catalog
