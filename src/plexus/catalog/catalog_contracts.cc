// Catalog reads of contracts as applied and of each port major's version record (for the
// HTTP API's contracts and versions routes).
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

Result<std::vector<ContractRecord>> Catalog::ListContracts(const std::string& product_id) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT id, product_id, coalesce(version, ''), coalesce(status, ''), coalesce(source, ''), "
      "coalesce(applied_at, '') FROM contracts WHERE product_id = ? ORDER BY id"));
  stmt->Bind(1, product_id);
  std::vector<ContractRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ContractRecord{stmt->Text(0), stmt->Text(1), stmt->Text(2), stmt->Text(3),
                                 stmt->Text(4), stmt->Text(5)});
  }
  return out;
}

Result<std::vector<PortVersionRecord>> Catalog::ListPortVersions(
    const std::string& product_id) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT port, major, coalesce(version, ''), coalesce(contract_id, ''), "
      "coalesce(contract_version, ''), coalesce(contract_status, ''), coalesce(status, ''), "
      "coalesce(end_of_support, ''), coalesce(end_of_life, ''), coalesce(applied_at, ''), "
      "coalesce(contract_source, '') FROM port_versions WHERE product_id = ? "
      "ORDER BY port, major"));
  stmt->Bind(1, product_id);
  std::vector<PortVersionRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    PortVersionRecord v;
    v.product_id = product_id;
    v.port = stmt->Text(0);
    v.major = static_cast<int>(stmt->Int(1));
    v.version = stmt->Text(2);
    v.contract_id = stmt->Text(3);
    v.contract_version = stmt->Text(4);
    v.contract_status = stmt->Text(5);
    v.status = stmt->Text(6);
    v.end_of_support = stmt->Text(7);
    v.end_of_life = stmt->Text(8);
    v.applied_at = stmt->Text(9);
    v.contract_source = stmt->Text(10);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace plexus::catalog
