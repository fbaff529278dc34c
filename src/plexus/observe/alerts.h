// File: plexus/observe/alerts.h
//
// Alerts: conditions that hold now (an SLO breached, a quality check failing, a failed run, a
// schema drift) become firing alerts, once per key, kept in the catalog so a restart neither
// repeats nor forgets them; a firing alert whose condition no longer holds resolves, once.
// Each firing and each resolution is sent to mesh.yaml's `observability.alerts.webhook` (a
// JSON POST through a Dispatcher) and, when `alerts.log`, written as a log line.
//
//   AlertEngine alerts(catalog, settings, dispatcher.get());
//   PLEXUS_RETURN_IF_ERROR(alerts.Reconcile("slo_breach", "", conditions));  // all products
//   PLEXUS_RETURN_IF_ERROR(ReconcileRunAlerts(alerts, *catalog, run_id, product_id));
//
// Webhook body (docs/openlineage-and-alerts.md): {"id", "key", "status": "firing"|"resolved",
// "kind", "entity", "product", "severity", "message", "fired_at", "resolved_at" (null while
// firing)}.
//
// Thread safety: an AlertEngine may be shared; Reconcile calls are serialised.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plexus/catalog/catalog.h"
#include "plexus/observe/dispatcher.h"
#include "plexus/spec/model.h"

namespace plexus::observe {

/// The alert kinds.
inline constexpr const char* kSloBreach = "slo_breach";
inline constexpr const char* kQualityFailure = "quality_failure";
inline constexpr const char* kPipelineFailure = "pipeline_failure";
inline constexpr const char* kSchemaDrift = "schema_drift";

/// A condition that holds now.
struct AlertCondition {
  std::string key;       ///< deduplicates; empty: kind + ":" + entity
  std::string kind;      ///< empty: the kind Reconcile is called with
  std::string entity;    ///< what it is about: domain.product.port/property, a product...
  std::string product;   ///< domain.product
  std::string severity;  ///< critical or warning
  std::string message;   ///< one sentence a person reads
};

/// The JSON an alert is sent as (the webhook's body, the API's item).
nlohmann::json AlertJson(const catalog::AlertRecord& alert);

class AlertEngine {
 public:
  /// `catalog` and `dispatcher` (may be null: no webhook) must outlive the engine.
  AlertEngine(catalog::Catalog* catalog, spec::MeshObservability settings,
              Dispatcher* dispatcher);

  /// For `kind` and `product` (domain.product; empty: every product): fires each condition of
  /// `active` whose key has no firing alert, and resolves each firing alert of that kind (and
  /// product) whose key is not in `active`. A repeat while firing sends nothing.
  Status Reconcile(const std::string& kind, const std::string& product,
                   const std::vector<AlertCondition>& active);

 private:
  void Notify(const catalog::AlertRecord& alert);

  catalog::Catalog* catalog_;
  spec::MeshObservability settings_;
  Dispatcher* dispatcher_;
  std::mutex mu_;
};

/// After a run of `product_id` finished: reconciles its pipeline_failure (the run failed),
/// quality_failure (each failed quality result of the run; a run that failed before checking
/// leaves them as they are) and schema_drift (its CDC pipeline paused for columns the contract
/// does not declare, or proposed columns its contracts do not declare yet) alerts.
Status ReconcileRunAlerts(AlertEngine& engine, catalog::Catalog& catalog, int64_t run_id,
                          const std::string& product_id);

}  // namespace plexus::observe
