// File: plexus/catalog/governance_records.h
//
// What the catalog keeps for governance (issue 5, docs/governance.md): the documented,
// read-only views that policy SQL reads, exported row by row to the governance module (which
// loads them into DuckDB); the evaluations with their scores and violations; the products a
// policy quarantines. The catalog does not know policies: it stores their evaluation as given.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"

namespace plexus::catalog {

/// One column of a governance view: its name, its DuckDB type (VARCHAR, BIGINT, DOUBLE or
/// BOOLEAN) and what it holds.
struct GovernanceColumn {
  const char* name;
  const char* type;
  const char* description;
};

/// A read-only view of the catalog that policy SQL may read (GovernanceViews()). Its rows come
/// from SQLite (`select`, exported row by row), or are computed in DuckDB from views exported
/// before it (`derived`, DuckDB SQL: a join or an aggregate is faster there than in SQLite's
/// export). An `internal` view only feeds others: policies cannot read it.
struct GovernanceView {
  const char* name;
  const char* description;
  std::vector<GovernanceColumn> columns;
  const char* select;             ///< SQLite over the catalog's tables; ?1 is the evaluation's time
  const char* derived = nullptr;  ///< DuckDB SQL over earlier views (then `select` is null)
  bool internal = false;
  /// Joined with `products` as it is loaded (the export stays one table's scan): `select` leaves
  /// the columns `domain` and `product` NULL and gives `qualified_name` as the part after the
  /// product; the loader fills them from the row's `product_id` (domain, name, and
  /// domain.product.part), and leaves out rows whose product is not in `products`, as an inner
  /// join would.
  bool by_product = false;
};

/// The views, in a fixed order, documented in docs/governance.md.
const std::vector<GovernanceView>& GovernanceViews();

/// One row of a view being exported; columns in the view's order. Text stays valid until the
/// next row.
class ViewRow {
 public:
  virtual ~ViewRow() = default;
  virtual bool IsNull(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual double Real(int column) const = 0;
  virtual std::string_view Text(int column) const = 0;
};

/// Receives the exported views' rows (Catalog::ReadGovernanceViews): the views with a `select`
/// that it wants, in GovernanceViews()'s order, those `by_product` after the others.
class ViewSink {
 public:
  virtual ~ViewSink() = default;
  /// Called first, in the export's read transaction, before any Wants: per view with a
  /// `select`, a version of the rows it would export, "table=token;..." over the catalog tables
  /// its SELECT reads (each token changes with every write to its table, and a rolled-back
  /// write never leaves its token behind), or "" when the rows cannot be told the same (the
  /// SELECT reads the evaluation's time). Equal non-empty versions: the same rows.
  virtual Status Versions(const std::map<std::string, std::string>& versions) {
    return Status::OK();
  }
  /// Whether it wants `view` at all: a view it does not want is not read.
  virtual bool Wants(const GovernanceView& view) const { return true; }
  virtual Status BeginView(const GovernanceView& view) = 0;
  virtual Status Row(const ViewRow& row) = 0;
  virtual Status EndView(const GovernanceView& view) = 0;
};

/// One violation of one evaluation.
struct PolicyViolationRecord {
  std::string policy;
  std::string severity;  ///< block, warn or info
  std::string domain;    ///< the entity's domain
  std::string product;   ///< domain.product when the entity is in a product, else empty
  std::string entity;
  std::string message;
  /// Set when an exemption covers it: its justification, approver and expiry.
  std::string exemption;
  std::string exemption_expires;
  bool quarantine = false;  ///< the policy quarantines and no exemption covers it
};

/// One evaluation of the mesh's policies: when, why (apply, schedule, check), by whom, its
/// summary (JSON: scores per domain and per policy, counts) and its violations.
struct GovernanceEvaluationRecord {
  int64_t id = 0;
  std::string at;
  std::string trigger;
  std::string actor;
  std::string summary;
  std::vector<PolicyViolationRecord> violations;  ///< kept for the latest evaluation only
};

/// What an apply gate may do inside Apply's transaction, before it commits: read the views as
/// the mesh being applied would leave them, and keep the policies and their evaluation.
struct ApplyReport;
class ApplyGateContext {
 public:
  virtual ~ApplyGateContext() = default;
  /// What the apply creates, updates and leaves unchanged.
  virtual const ApplyReport& report() const = 0;
  virtual Status ReadViews(const std::string& now, ViewSink& sink) = 0;
  /// Stores the policy set (JSON, as the governance module writes it) and the evaluation.
  virtual Status Save(const std::string& policies, const GovernanceEvaluationRecord& evaluation) = 0;
};

/// Runs inside Apply: an error refuses the apply (nothing is written).
using ApplyGate = std::function<Status(ApplyGateContext&)>;

}  // namespace plexus::catalog
