// Run retention (mesh.yaml observability.runHistory): a continuous CDC input records a run
// per micro-batch, so `plexus serve` deletes the runs nobody reads any more. Kept whatever
// their age: running runs, each product's first run (the retention SLO reads when a product
// started), its newest finished and newest succeeded run (status, freshness), and every run a
// publication names.
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {
namespace {

/// The runs to delete, oldest first, into temp.prune. ?1 cutoff, ?2 batch.
/// Each product's threshold (its per_product-th newest run) is read once through the
/// (product_id, id) index, not per run.
constexpr const char* kMarkRuns = R"sql(
INSERT INTO temp.prune (id)
SELECT r.id FROM runs r LEFT JOIN temp.prune_threshold t ON t.product_id = r.product_id
WHERE r.status != 'running' AND (r.finished_at < ?1 OR r.id <= coalesce(t.threshold, -1))
  AND r.id NOT IN (SELECT run_id FROM publications WHERE run_id IS NOT NULL)
  AND r.id NOT IN (SELECT min(id) FROM runs GROUP BY product_id)
  AND r.id NOT IN (SELECT max(id) FROM runs WHERE status != 'running' GROUP BY product_id)
  AND r.id NOT IN (SELECT max(id) FROM runs WHERE status = 'succeeded' GROUP BY product_id)
ORDER BY r.id LIMIT ?2
)sql";

constexpr const char* kThresholds = R"sql(
INSERT INTO temp.prune_threshold (product_id, threshold)
SELECT p.product_id, (SELECT id FROM runs x WHERE x.product_id = p.product_id
                      ORDER BY id DESC LIMIT 1 OFFSET ?1)
FROM (SELECT DISTINCT product_id FROM runs) p
)sql";

}  // namespace

Result<int64_t> Catalog::PruneRuns(const std::string& cutoff, int64_t per_product,
                                   int64_t batch) {
  if (per_product < 1 || batch < 1) return InvalidArgument("PruneRuns: per_product and batch");
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      "CREATE TEMP TABLE IF NOT EXISTS prune (id INTEGER PRIMARY KEY);"
      "CREATE TEMP TABLE IF NOT EXISTS prune_threshold (product_id TEXT PRIMARY KEY, "
      "threshold INTEGER);"));
  PLEXUS_ASSIGN_OR_RETURN(auto thresholds, db_->Prepare(kThresholds));
  // The newest per_product runs stay: the threshold is the (per_product + 1)-th newest.
  PLEXUS_RETURN_IF_ERROR(thresholds->Bind(1, per_product).Run());
  PLEXUS_ASSIGN_OR_RETURN(auto mark, db_->Prepare(kMarkRuns));
  PLEXUS_RETURN_IF_ERROR(mark->Bind(1, cutoff).Bind(2, batch).Run());
  const int64_t deleted = db_->Changes();  // the runs marked
  if (deleted > 0) {
    PLEXUS_RETURN_IF_ERROR(db_->Execute(
        "DELETE FROM quality_results WHERE run_id IN (SELECT id FROM temp.prune);"
        "DELETE FROM runs WHERE id IN (SELECT id FROM temp.prune);"));
  }
  // Emptied in the same transaction, so the next call (or a rolled-back one) starts empty.
  PLEXUS_RETURN_IF_ERROR(
      db_->Execute("DELETE FROM temp.prune; DELETE FROM temp.prune_threshold;"));
  PLEXUS_RETURN_IF_ERROR(tx.Commit());
  return deleted;
}

}  // namespace plexus::catalog
