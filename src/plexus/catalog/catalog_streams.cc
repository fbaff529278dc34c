// CDC pipelines' state in the catalog: paused (with its reason, surviving restarts) and the
// schema proposals of compatible source changes (catalog.h).
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {
namespace {

constexpr const char* kStreamTables = R"sql(
CREATE TABLE IF NOT EXISTS pipeline_state (product_id TEXT PRIMARY KEY, paused INTEGER NOT NULL,
  reason TEXT NOT NULL, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schema_proposals (product_id TEXT NOT NULL, port TEXT NOT NULL,
  column_name TEXT NOT NULL, type TEXT NOT NULL, proposed_version TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (product_id, port, column_name));
)sql";

}  // namespace

Status Catalog::SetPipelinePaused(const std::string& product_id, const std::string& reason) {
  std::lock_guard lock(mu_);
  PLEXUS_RETURN_IF_ERROR(db_->Execute(kStreamTables));
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT INTO pipeline_state (product_id, paused, reason, since) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (product_id) DO UPDATE SET paused = ?2, reason = ?3, since = ?4"));
  return stmt->Bind(1, product_id)
      .Bind(2, int64_t{reason.empty() ? 0 : 1})
      .Bind(3, reason)
      .Bind(4, reason.empty() ? std::string() : NowUtc())
      .Run();
}

Result<PipelineStateRecord> Catalog::GetPipelineState(const std::string& product_id) const {
  std::lock_guard lock(mu_);
  PLEXUS_RETURN_IF_ERROR(db_->Execute(kStreamTables));
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT paused, reason, since FROM pipeline_state WHERE product_id = ?"));
  stmt->Bind(1, product_id);
  PipelineStateRecord state;
  state.product_id = product_id;
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (row) {
    state.paused = stmt->Int(0) != 0;
    state.reason = stmt->Text(1);
    state.since = stmt->Text(2);
  }
  return state;
}

Status Catalog::RecordSchemaProposal(const SchemaProposalRecord& proposal) {
  std::lock_guard lock(mu_);
  PLEXUS_RETURN_IF_ERROR(db_->Execute(kStreamTables));
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT OR IGNORE INTO schema_proposals (product_id, port, column_name, type, "
      "proposed_version, at) VALUES (?, ?, ?, ?, ?, ?)"));
  return stmt->Bind(1, proposal.product_id)
      .Bind(2, proposal.port)
      .Bind(3, proposal.column)
      .Bind(4, proposal.type)
      .Bind(5, proposal.proposed_version)
      .Bind(6, proposal.at.empty() ? NowUtc() : proposal.at)
      .Run();
}

Result<std::vector<SchemaProposalRecord>> Catalog::ListSchemaProposals(
    const std::string& product_id) const {
  std::lock_guard lock(mu_);
  PLEXUS_RETURN_IF_ERROR(db_->Execute(kStreamTables));
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT port, column_name, type, proposed_version, at FROM schema_proposals "
      "WHERE product_id = ? ORDER BY at, port, column_name"));
  stmt->Bind(1, product_id);
  std::vector<SchemaProposalRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back({product_id, stmt->Text(0), stmt->Text(1), stmt->Text(2), stmt->Text(3),
                   stmt->Text(4)});
  }
  return out;
}

}  // namespace plexus::catalog
