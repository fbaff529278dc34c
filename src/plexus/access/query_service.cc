#include "plexus/access/query_service.h"

#include <algorithm>
#include <filesystem>

namespace plexus::access {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// "orders__v2" -> ("orders", 2); "orders" -> ("orders", -1).
std::pair<std::string, int> SplitMajor(const std::string& table) {
  size_t at = table.rfind("__v");
  if (at == std::string::npos || at + 3 >= table.size()) return {table, -1};
  int major = 0;
  for (size_t i = at + 3; i < table.size(); i++) {
    if (!std::isdigit(static_cast<unsigned char>(table[i]))) return {table, -1};
    major = major * 10 + (table[i] - '0');
  }
  return {table.substr(0, at), major};
}

}  // namespace

PortResolver::PortResolver(const std::vector<catalog::OutputPortRecord>& ports) {
  for (const auto& port : ports) ports_[Lower(port.SqlName())].push_back(port);
  for (auto& [name, majors] : ports_) {
    std::sort(majors.begin(), majors.end(),
              [](const auto& a, const auto& b) { return a.major > b.major; });
  }
}

Result<ResolvedRelation> PortResolver::Resolve(const TableName& name) const {
  if (name.catalog.empty() || name.schema.empty()) {
    return NotFound("unknown table " + name.ToString() +
                    ": data products are named domain.product.port (see plexus products)");
  }
  auto [table, major] = SplitMajor(Lower(name.table));
  std::string key = Lower(name.catalog) + "." + Lower(name.schema) + "." + table;
  auto it = ports_.find(key);
  if (it == ports_.end()) {
    return NotFound("unknown data product port " + name.ToString() + " (see plexus products)");
  }
  const catalog::OutputPortRecord* chosen = nullptr;
  for (const auto& port : it->second) {
    bool retired = Lower(port.status) == "retired";
    if (major >= 0 ? port.major == major : !retired) {
      chosen = &port;
      break;
    }
  }
  if (chosen == nullptr) {
    return NotFound(major >= 0 ? "data product port " + key + " has no major version " +
                                     std::to_string(major)
                               : "data product port " + key + " has no version being served");
  }
  if (Lower(chosen->status) == "retired") {
    return FailedPrecondition(name.ToString() + " is retired and no longer served");
  }
  if (chosen->rows < 0) {
    return FailedPrecondition(name.ToString() + " has no published data yet: run its pipeline (plexus run " +
                              chosen->domain + "." + chosen->product + ")");
  }
  return ResolvedRelation{catalog::Home::AttachName(chosen->domain), "main",
                          chosen->PhysicalTable(), chosen->SqlName()};
}

Result<std::unique_ptr<QueryService>> QueryService::Open(const catalog::Home& home,
                                                         const catalog::Catalog* catalog) {
  std::unique_ptr<QueryService> service(new QueryService(home, catalog));
  engine::DatabaseOptions options;
  options.hardened = true;
  options.allowed_directories = {home.DataDir(), home.TempDir()};
  options.temp_directory = home.TempDir();
  PLEXUS_ASSIGN_OR_RETURN(service->db_, engine::Database::Open(options));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, service->db_->Connect());
  PLEXUS_RETURN_IF_ERROR(conn->LockConfiguration());
  PLEXUS_RETURN_IF_ERROR(service->Refresh());
  return service;
}

Status QueryService::AttachNewDomains(engine::Connection& conn) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(home_.DataDir(), ec)) {
    if (entry.path().extension() != ".duckdb") continue;
    std::string domain = entry.path().stem().string();
    if (std::find(attached_.begin(), attached_.end(), domain) != attached_.end()) continue;
    Status s = conn.Execute("ATTACH " + engine::QuoteLiteral(entry.path().string()) + " AS " +
                            engine::QuoteIdentifier(catalog::Home::AttachName(domain)) +
                            " (READ_ONLY)");
    if (!s.ok()) {
      return FailedPrecondition("cannot read the data of domain " + domain +
                                " (is a pipeline writing it?): " + s.message());
    }
    attached_.push_back(domain);
  }
  return Status::OK();
}

Status QueryService::Refresh() {
  PLEXUS_ASSIGN_OR_RETURN(auto ports, catalog_->ListOutputPorts());
  auto resolver = std::make_shared<const PortResolver>(ports);
  PLEXUS_ASSIGN_OR_RETURN(auto conn, db_->Connect());
  std::lock_guard lock(mu_);
  PLEXUS_RETURN_IF_ERROR(AttachNewDomains(*conn));
  resolver_ = std::move(resolver);
  return Status::OK();
}

Result<std::unique_ptr<Cursor>> QueryService::Query(std::string_view sql) {
  std::shared_ptr<const PortResolver> resolver;
  {
    std::lock_guard lock(mu_);
    resolver = resolver_;
  }
  auto cursor = std::make_unique<Cursor>();
  PLEXUS_ASSIGN_OR_RETURN(cursor->connection, db_->Connect());
  SqlGuard guard(cursor->connection.get());
  PLEXUS_ASSIGN_OR_RETURN(cursor->query, guard.Check(sql, *resolver));
  PLEXUS_ASSIGN_OR_RETURN(cursor->result, cursor->connection->Query(cursor->query.sql));
  return cursor;
}

}  // namespace plexus::access
