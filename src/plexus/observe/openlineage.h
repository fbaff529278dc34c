// File: plexus/observe/openlineage.h
//
// OpenLineage (spec 2-0-2) run events for Plexus's pipeline runs: START when a run starts,
// COMPLETE or FAIL when it finishes, each with the product's job, its input datasets (the
// upstream ports it reads through input ports, and its files) and its output datasets (its
// output ports), with the `schema` facet on every dataset and the `columnLineage` facet on the
// outputs. Events go to mesh.yaml's `observability.openlineage.url` (one POST each) and/or
// its `file` (one JSON object a line), through a Dispatcher: never on the run's thread.
//
//   LineageEmitter lineage(catalog, settings, dispatcher.get(), home.root());
//   lineage.RunStarted(run_id, product_id, "manual");
//   lineage.RunFinished(run_id, product_id, "succeeded");
//
// Naming (docs/openlineage-and-alerts.md): the job is {namespace: <openlineage.namespace, else
// the mesh's name>, name: domain.product}; a port's dataset is {namespace:
// plexus://<namespace>, name: domain.product.port}; a file's is {namespace: file, name: its
// absolute path}. A run's runId is a UUID made from the namespace and the run's id, so START
// and COMPLETE agree even when two processes emit them.
//
// Thread safety: RunStarted and RunFinished may be called from any thread (they read the
// catalog and queue on the dispatcher).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "plexus/catalog/catalog.h"
#include "plexus/observe/dispatcher.h"
#include "plexus/spec/model.h"

namespace plexus::observe {

/// What `producer` says: the code that made the event.
inline constexpr const char* kLineageProducer = "https://github.com/plexus/plexus/tree/v0.1.0";
/// The RunEvent schema the events follow.
inline constexpr const char* kRunEventSchemaUrl =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

/// The run's OpenLineage runId: a name-based (version 5) UUID of "<namespace>/<run_id>".
std::string LineageRunId(const std::string& lineage_namespace, int64_t run_id);

/// The dataset a CDC input reads, named by OpenLineage's conventions: kafka {kafka://<first
/// broker>, topic}, postgres {postgres://<host>:<port>, <dbname>.<schema.table>}, files {file,
/// the folder's absolute path}; null for an http input (events pushed to Plexus itself).
nlohmann::json CdcInputDataset(const spec::CdcSpec& cdc, const std::string& product_dir);

class LineageEmitter {
 public:
  /// `catalog` and `dispatcher` must outlive the emitter; `home_root` anchors a relative
  /// `openlineage.file`. Without a url and a file, the emitter sends nothing.
  LineageEmitter(catalog::Catalog* catalog, spec::MeshObservability settings,
                 Dispatcher* dispatcher, std::string home_root = "");

  /// A START event for the run. `trigger`: why it started (manual, schedule, continuous...).
  void RunStarted(int64_t run_id, const std::string& product_id, const std::string& trigger);
  /// COMPLETE (`status` succeeded) or FAIL (anything else, with the run's reason in the
  /// errorMessage run facet).
  void RunFinished(int64_t run_id, const std::string& product_id, const std::string& status);

  /// The event without sending it (what RunStarted / RunFinished send); `event_type` START,
  /// COMPLETE or FAIL. kNotFound when the product is unknown.
  Result<nlohmann::json> BuildEvent(const std::string& event_type, int64_t run_id,
                                    const std::string& product_id, const std::string& trigger);

  /// The namespace of jobs (the settings', else the mesh's name as applied).
  const std::string& lineage_namespace() const { return namespace_; }
  /// Where the file transport writes (absolute); empty when none.
  const std::string& file_path() const { return file_; }

 private:
  void Send(const std::string& event_type, int64_t run_id, const std::string& product_id,
            const std::string& trigger);

  catalog::Catalog* catalog_;
  spec::MeshObservability settings_;
  Dispatcher* dispatcher_;
  std::string namespace_;
  std::string file_;
};

}  // namespace plexus::observe
