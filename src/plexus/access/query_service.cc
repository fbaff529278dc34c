#include "plexus/common/text.h"
#include "plexus/access/query_service.h"

#include <algorithm>
#include <filesystem>

namespace plexus::access {
namespace {

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

/// "orders.orders.orders__v1 is deprecated (end of life 2026-12-31): read orders.orders.orders
/// (major 2)".
std::string DeprecationWarning(const catalog::OutputPortRecord& port,
                               const catalog::OutputPortRecord& newest) {
  std::string text = port.SqlName() + "__v" + std::to_string(port.major) + " is deprecated";
  if (!port.end_of_life.empty()) text += " (end of life " + port.end_of_life + ")";
  else if (!port.end_of_support.empty()) text += " (end of support " + port.end_of_support + ")";
  if (newest.major > port.major) {
    text += ": move to " + newest.SqlName() + " (major " + std::to_string(newest.major) + ")";
  }
  return text;
}

}  // namespace

PortResolver::PortResolver(const std::vector<catalog::OutputPortRecord>& ports)
    : today_(catalog::NowUtc().substr(0, 10)) {
  for (const auto& port : ports) ports_[AsciiLower(port.SqlName())].push_back(port);
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
  auto [table, major] = SplitMajor(AsciiLower(name.table));
  std::string key = AsciiLower(name.catalog) + "." + AsciiLower(name.schema) + "." + table;
  auto it = ports_.find(key);
  if (it == ports_.end()) {
    return NotFound("unknown data product port " + name.ToString() + " (see plexus products)");
  }
  const catalog::OutputPortRecord* chosen = nullptr;
  for (const auto& port : it->second) {
    bool retired = catalog::ServedStatus(port, today_) == "retired";
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
  std::string served = AsciiLower(catalog::ServedStatus(*chosen, today_));
  if (served == "retired") {
    return FailedPrecondition(name.ToString() + " is retired and no longer served" +
                              (it->second.front().major > chosen->major
                                   ? ": read " + key + " (major " +
                                         std::to_string(it->second.front().major) + ") instead"
                                   : std::string()));
  }
  if (chosen->rows < 0) {
    return FailedPrecondition(name.ToString() + " has no published data yet: run its pipeline (plexus run " +
                              chosen->domain + "." + chosen->product + ")");
  }
  ResolvedRelation relation{catalog::Home::AttachName(chosen->domain), "main",
                            chosen->PhysicalTable(), chosen->SqlName(), ""};
  if (served == "deprecated") relation.warning = DeprecationWarning(*chosen, it->second.front());
  return relation;
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

namespace {

/// Everything about the ports that changes how a name resolves.
std::string Fingerprint(const std::vector<catalog::OutputPortRecord>& ports) {
  std::string text;
  for (const auto& p : ports) {
    text += p.SqlName() + '\x1f' + std::to_string(p.major) + '\x1f' + catalog::ServedStatus(p) +
            '\x1f' + p.end_of_life + '\x1f' +
            (p.rows < 0 ? "-" : "+") + '\x1e';
  }
  return text;
}

constexpr size_t kMaxAcceptedStatements = 4096;

}  // namespace

Status QueryService::Refresh() {
  // A domain's data file appears only with a publication, which changes the catalog: an
  // unchanged catalog means nothing to re-read or attach.
  PLEXUS_ASSIGN_OR_RETURN(auto generation, catalog_->Generation());
  {
    std::lock_guard lock(mu_);
    if (resolver_ != nullptr && generation == generation_) return Status::OK();
  }
  PLEXUS_ASSIGN_OR_RETURN(auto ports, catalog_->ListOutputPorts());
  std::string fingerprint = Fingerprint(ports);
  PLEXUS_ASSIGN_OR_RETURN(auto session, TakeSession());
  std::lock_guard lock(mu_);
  Status attached = AttachNewDomains(*session->connection);
  idle_.push_back(std::move(session));
  PLEXUS_RETURN_IF_ERROR(attached);
  if (resolver_ == nullptr || fingerprint != ports_fingerprint_) {
    resolver_ = std::make_shared<const PortResolver>(ports);
    ports_fingerprint_ = std::move(fingerprint);
    accepted_.clear();
  }
  generation_ = generation;
  return Status::OK();
}

Result<std::unique_ptr<Session>> QueryService::TakeSession() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto session = std::move(idle_.back());
      idle_.pop_back();
      return session;
    }
  }
  auto session = std::make_unique<Session>();
  PLEXUS_ASSIGN_OR_RETURN(session->connection, db_->Connect());
  session->guard = std::make_unique<SqlGuard>(session->connection.get());
  return session;
}

void QueryService::ReturnSession(std::unique_ptr<Session> session) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(session));
}

Cursor::~Cursor() {
  result.reset();  // the result reads from the session's connection: close it first
  if (owner != nullptr && session != nullptr) owner->ReturnSession(std::move(session));
}

Result<GuardedQuery> QueryService::Check(Session& session, std::string_view sql) {
  std::shared_ptr<const PortResolver> resolver;
  {
    std::lock_guard lock(mu_);
    auto hit = accepted_.find(sql);
    if (hit != accepted_.end()) {
      cache_hits_++;
      return hit->second;
    }
    resolver = resolver_;
  }
  // Refusals are not cached: they are cheap to recompute and may pass after a refresh.
  PLEXUS_ASSIGN_OR_RETURN(GuardedQuery query, session.guard->Check(sql, *resolver));
  std::lock_guard lock(mu_);
  if (resolver == resolver_) {
    if (accepted_.size() >= kMaxAcceptedStatements) accepted_.clear();
    accepted_.emplace(std::string(sql), query);
  }
  return query;
}

Result<std::unique_ptr<Cursor>> QueryService::Query(std::string_view sql) {
  auto cursor = std::make_unique<Cursor>();
  cursor->owner = this;
  PLEXUS_ASSIGN_OR_RETURN(cursor->session, TakeSession());
  PLEXUS_ASSIGN_OR_RETURN(cursor->query, Check(*cursor->session, sql));
  PLEXUS_ASSIGN_OR_RETURN(cursor->result, cursor->session->connection->Query(cursor->query.sql));
  return cursor;
}

}  // namespace plexus::access
