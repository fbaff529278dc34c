// Catalog::Apply's per-product work: what changed, then products, contracts, ports, columns
// (with their access: visibility, row filter, masks); and the domain roles of domain.yaml.
#include <map>
#include <set>
#include <string>

#include "plexus/catalog/access_internal.h"
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"
#include "plexus/common/file.h"
#include "plexus/common/text.h"
#include "plexus/spec/parse.h"

namespace plexus::catalog {

using internal::Statement;

namespace {

/// The columns of a port at a major, with the mask each resolves to.
Status WriteColumns(internal::SqliteDb& db, const std::string& product_id,
                    const std::string& port, int major, const spec::SchemaObject& table,
                    const spec::MeshAccess& access) {
  int64_t position = 0;
  for (const auto& prop : table.properties) {
    std::vector<std::string> clear_for;
    std::string mask = spec::EffectiveMask(access, prop, &clear_for);
    PLEXUS_ASSIGN_OR_RETURN(auto col, db.Prepare(
        "INSERT INTO columns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    PLEXUS_RETURN_IF_ERROR(
        col->Bind(1, product_id).Bind(2, port).Bind(3, int64_t{major}).Bind(4, position++)
            .Bind(5, prop.name).Bind(6, prop.logical_type).Bind(7, prop.physical_type)
            .Bind(8, EngineTypeFor(prop)).Bind(9, int64_t{prop.required || prop.primary_key})
            .Bind(10, int64_t{prop.primary_key}).Bind(11, int64_t{prop.unique})
            .Bind(12, prop.classification).Bind(13, prop.description)
            .Bind(14, prop.business_name).Bind(15, mask)
            .Bind(16, internal::ToJsonList(clear_for)).Run());
  }
  return Status::OK();
}

/// A domain's roles from its domain.yaml: lower-case name -> (name, role). An owner listed in
/// members stays owner; the service principal is always service.
std::map<std::string, std::pair<std::string, std::string>> RolesOf(const spec::Domain& domain) {
  std::map<std::string, std::pair<std::string, std::string>> roles;
  for (const auto& name : domain.members) roles[AsciiLower(name)] = {name, "member"};
  for (const auto& name : domain.owners) roles[AsciiLower(name)] = {name, "owner"};
  std::string service = ServicePrincipalName(domain.name);
  roles[AsciiLower(service)] = {service, "service"};
  return roles;
}

/// Creates the principal unless it exists (any case); true when it was created.
Result<bool> EnsurePrincipal(internal::SqliteDb& db, const std::string& name,
                             const std::string& kind, const std::string& now) {
  if (internal::StoredPrincipalName(db, name).ok()) return false;
  PLEXUS_ASSIGN_OR_RETURN(auto put, db.Prepare(
      "INSERT INTO principals (name, kind, created_at, created_by) VALUES (?, ?, ?, 'apply')"));
  PLEXUS_RETURN_IF_ERROR(put->Bind(1, name).Bind(2, kind).Bind(3, now).Run());
  return true;
}

constexpr const char* kProcessorTable = R"sql(
CREATE TABLE IF NOT EXISTS processor_sources (scope TEXT PRIMARY KEY, file TEXT NOT NULL,
  text TEXT NOT NULL);
)sql";

/// `file` relative to the mesh folder when under it (how a run's messages name it).
std::string MeshRelative(const spec::Mesh& mesh, const std::string& file) {
  std::string prefix = mesh.dir + "/";
  return !mesh.dir.empty() && file.starts_with(prefix) ? file.substr(prefix.size()) : file;
}

/// Keeps the text of mesh.yaml and of each domain.yaml that defines processors, replacing what
/// the last apply kept: Catalog::Processors re-reads them for a run.
Status StoreProcessors(internal::SqliteDb& db, const spec::Mesh& mesh) {
  PLEXUS_RETURN_IF_ERROR(db.Execute(kProcessorTable));
  PLEXUS_RETURN_IF_ERROR(db.Execute("DELETE FROM processor_sources"));
  auto store = [&](const std::string& scope, const spec::SourceLocation& at,
                   const std::string& text) -> Status {
    PLEXUS_ASSIGN_OR_RETURN(auto put, db.Prepare(
        "INSERT INTO processor_sources (scope, file, text) VALUES (?, ?, ?)"));
    return put->Bind(1, scope).Bind(2, MeshRelative(mesh, at.file)).Bind(3, text).Run();
  };
  if (!mesh.processors.empty()) {
    PLEXUS_RETURN_IF_ERROR(store("mesh", mesh.location, mesh.source_text));
  }
  for (const auto& domain : mesh.domains) {
    if (domain.processors.empty()) continue;
    PLEXUS_RETURN_IF_ERROR(store(domain.name, domain.location, domain.source_text));
  }
  return Status::OK();
}

/// Drops the roles of domains that are no longer in the mesh.
Status DropRolesOfRemovedDomains(internal::SqliteDb& db, const std::set<std::string>& domains) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT DISTINCT domain FROM domain_roles"));
  std::vector<std::string> gone;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    if (!domains.count(stmt->Text(0))) gone.push_back(stmt->Text(0));
  }
  for (const auto& domain : gone) {
    PLEXUS_ASSIGN_OR_RETURN(auto drop, db.Prepare("DELETE FROM domain_roles WHERE domain = ?"));
    PLEXUS_RETURN_IF_ERROR(drop->Bind(1, domain).Run());
  }
  return Status::OK();
}

}  // namespace

namespace internal {

Result<std::vector<std::string>> SyncDomainRoles(SqliteDb& db, const spec::Mesh& mesh,
                                                 const std::string& now) {
  // The processors of mesh.yaml and the domain.yaml files are kept with the rest of what
  // domain.yaml says, in the same transaction.
  PLEXUS_RETURN_IF_ERROR(StoreProcessors(db, mesh));
  std::vector<std::string> created;
  std::set<std::string> domains;
  for (const auto& domain : mesh.domains) {
    domains.insert(domain.name);
    PLEXUS_ASSIGN_OR_RETURN(auto clear, db.Prepare("DELETE FROM domain_roles WHERE domain = ?"));
    PLEXUS_RETURN_IF_ERROR(clear->Bind(1, domain.name).Run());
    for (const auto& [key, entry] : RolesOf(domain)) {
      const auto& [name, role] = entry;
      PLEXUS_RETURN_IF_ERROR(
          CheckPrincipalName(name, "principal").WithPrefix("domain " + domain.name));
      std::string kind = role == "service" ? "service" : "user";
      PLEXUS_ASSIGN_OR_RETURN(bool made, EnsurePrincipal(db, name, kind, now));
      if (made) created.push_back(name);
      PLEXUS_ASSIGN_OR_RETURN(auto put, db.Prepare(
          "INSERT INTO domain_roles (domain, principal, role) VALUES (?, "
          "(SELECT name FROM principals WHERE name = ?), ?)"));
      PLEXUS_RETURN_IF_ERROR(put->Bind(1, domain.name).Bind(2, name).Bind(3, role).Run());
    }
  }
  PLEXUS_RETURN_IF_ERROR(DropRolesOfRemovedDomains(db, domains));
  return created;
}

}  // namespace internal

Result<std::vector<spec::ProcessorDefinition>> Catalog::Processors(const std::string& scope) const {
  std::lock_guard lock(mu_);
  PLEXUS_RETURN_IF_ERROR(db_->Execute(kProcessorTable));
  PLEXUS_ASSIGN_OR_RETURN(auto stmt,
                          db_->Prepare("SELECT file, text FROM processor_sources WHERE scope = ?"));
  stmt->Bind(1, scope);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::vector<spec::ProcessorDefinition>{};
  std::string file = stmt->Text(0);
  std::string text = stmt->Text(1);
  return spec::ParseProcessorsText(text, file, scope, nullptr);
}

Status Catalog::ApplyProduct(const spec::MeshAccess& access, const spec::Domain& domain,
                             const spec::ProductBundle& bundle, const std::string& now,
                             ApplyReport& report) {
  const spec::Product& p = bundle.product;
  std::string qualified = domain.name + "." + p.name;
  std::string pipeline_file = bundle.pipeline ? bundle.dir + "/pipeline.yaml" : "";
  std::string pipeline_text;
  if (bundle.pipeline) {
    PLEXUS_ASSIGN_OR_RETURN(pipeline_text, ReadFileText(pipeline_file));
  }

  // What changed: the product text, its pipeline, or any of its contracts.
  PLEXUS_ASSIGN_OR_RETURN(auto old, db_->Prepare(
      "SELECT source, pipeline, (SELECT group_concat(id || char(30) || source, char(31)) FROM "
      "(SELECT id, source FROM contracts WHERE product_id = ?1 ORDER BY id)) FROM products "
      "WHERE id = ?1"));
  old->Bind(1, p.id);
  PLEXUS_ASSIGN_OR_RETURN(bool existed, old->Step());
  if (!existed) {
    report.created.push_back(qualified);
  } else {
    std::string before = old->Text(0) + '\x1f' + old->Text(1);
    std::string contracts_before = old->Text(2);
    std::string contracts_now;
    for (const auto& [id, contract] : bundle.contracts) {
      if (!contracts_now.empty()) contracts_now += '\x1f';
      contracts_now += id + '\x1e' + contract.source_text;
    }
    bool same = before == p.source_text + '\x1f' + pipeline_text && contracts_before == contracts_now;
    (same ? report.unchanged : report.updated).push_back(qualified);
  }

  using internal::ToJsonList;
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
      "INSERT OR REPLACE INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  PLEXUS_RETURN_IF_ERROR(put->Bind(1, p.id).Bind(2, domain.name).Bind(3, p.name)
                             .Bind(4, p.version).Bind(5, p.status).Bind(6, p.purpose)
                             .Bind(7, p.usage).Bind(8, ToJsonList(p.tags)).Bind(9, p.team_name)
                             .Bind(10, ToJsonList(internal::OwnersOf(p))).Bind(11, bundle.dir).Bind(12, p.source_text)
                             .Bind(13, pipeline_text).Bind(14, pipeline_file).Bind(15, now)
                             .Run());

  for (const auto& [id, contract] : bundle.contracts) {
    PLEXUS_ASSIGN_OR_RETURN(auto c, db_->Prepare(
        "INSERT OR REPLACE INTO contracts VALUES (?, ?, ?, ?, ?, ?)"));
    PLEXUS_RETURN_IF_ERROR(c->Bind(1, id).Bind(2, p.id).Bind(3, contract.version)
                               .Bind(4, contract.status).Bind(5, contract.source_text)
                               .Bind(6, now).Run());
  }

  PLEXUS_ASSIGN_OR_RETURN(auto clear_inputs,
                          db_->Prepare("DELETE FROM input_ports WHERE product_id = ?"));
  PLEXUS_RETURN_IF_ERROR(clear_inputs->Bind(1, p.id).Run());
  for (const auto& in : p.input_ports) {
    PLEXUS_ASSIGN_OR_RETURN(auto i, db_->Prepare(
        "INSERT OR REPLACE INTO input_ports VALUES (?, ?, ?, ?)"));
    PLEXUS_RETURN_IF_ERROR(
        i->Bind(1, p.id).Bind(2, in.name).Bind(3, in.version).Bind(4, in.contract_id).Run());
  }

  for (const auto& out : p.output_ports) {
    int major = MajorOf(out.version);
    auto contract_it = bundle.contracts.find(out.contract_id);
    const spec::Contract* contract =
        contract_it == bundle.contracts.end() ? nullptr : &contract_it->second;
    PLEXUS_ASSIGN_OR_RETURN(auto o, db_->Prepare(
        "INSERT OR REPLACE INTO output_ports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    PLEXUS_RETURN_IF_ERROR(o->Bind(1, p.id).Bind(2, out.name).Bind(3, int64_t{major})
                               .Bind(4, out.version).Bind(5, out.description)
                               .Bind(6, out.contract_id)
                               .Bind(7, contract ? contract->version : "")
                               .Bind(8, contract && !contract->status.empty() ? contract->status
                                                                              : p.status)
                               .Bind(9, contract ? spec::EffectiveVisibility(access, *contract)
                                                 : access.default_visibility)
                               .Bind(10, contract ? contract->row_filter : "")
                               .Bind(11, ToJsonList(contract ? contract->row_filter_exempt
                                                             : std::vector<std::string>{}))
                               .Run());
    PLEXUS_ASSIGN_OR_RETURN(auto clear, db_->Prepare(
        "DELETE FROM columns WHERE product_id = ? AND port = ? AND major = ?"));
    PLEXUS_RETURN_IF_ERROR(clear->Bind(1, p.id).Bind(2, out.name).Bind(3, int64_t{major}).Run());
    const spec::SchemaObject* table = contract ? internal::TableOf(*contract, out.name) : nullptr;
    PLEXUS_RETURN_IF_ERROR(ApplyQualityRules(p.id, out.name, major, table));
    if (table != nullptr) {
      PLEXUS_RETURN_IF_ERROR(WriteColumns(*db_, p.id, out.name, major, *table, access));
    }
  }
  return ApplyGovernanceFacts(bundle);
}

}  // namespace plexus::catalog
