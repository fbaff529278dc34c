// MetadataShadow and MetadataCatalog: catalog answers per principal (see pg_metadata.h).
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "plexus/access/access_policy.h"
#include "plexus/access/query_service.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/sql_parse.h"
#include "plexus/server/pg_metadata.h"
#include "plexus/server/pg_metadata_internal.h"

namespace plexus::server::pg {
namespace {

constexpr auto kShadowLifetime = std::chrono::seconds(60);  // grant expiry is re-judged then
constexpr size_t kMaxShadows = 64;

/// DuckDB's first line only: no SQL echoed back.
Status FirstLine(const Status& status, StatusCode code) {
  const std::string& message = status.message();
  return Status(code, message.substr(0, message.find('\n')));
}

/// The ports the principal may read, newest major's columns: what the shadow lists.
Result<std::vector<ShadowPort>> VisiblePorts(const access::AccessPolicy& policy,
                                             const access::Principal& principal,
                                             const std::string& now) {
  std::vector<ShadowPort> ports;
  for (const auto& [key, majors] : policy.ports()) {
    if (majors.empty()) continue;
    const catalog::OutputPortRecord& newest = majors.front();
    access::PortAccess decision = policy.Decide(principal, newest, now);
    if (decision != access::PortAccess::kClear && decision != access::PortAccess::kSecured) {
      continue;  // hidden, or restricted without a grant: not listed (see pg_metadata.h)
    }
    if (policy.Quarantined(newest.domain + "." + newest.product) != nullptr &&
        !principal.admin && !principal.InDomain(newest.domain)) {
      continue;  // quarantined by governance: listed only where querying it is allowed
    }
    ShadowPort port{newest.domain, newest.product, newest.name, newest.description, {}};
    PLEXUS_ASSIGN_OR_RETURN(auto columns, policy.Columns(newest));
    for (const catalog::ColumnRecord& column : *columns) {
      port.columns.push_back({column.name, column.engine_type, column.required,
                              column.description});
    }
    ports.push_back(std::move(port));
  }
  return ports;
}

/// Who the principal is, as far as what it may see goes: the shadow cache's key.
std::string Fingerprint(const access::Principal& principal) {
  std::string key = principal.name + '\x1f' + (principal.admin ? "admin" : "") + '\x1f';
  for (const std::string& group : principal.groups) key += group + ',';
  key += '\x1f';
  for (const auto& [domain, role] : principal.domain_roles) key += domain + '=' + role + ',';
  return key;
}

}  // namespace

Result<std::shared_ptr<MetadataShadow>> MetadataShadow::Build(
    std::shared_ptr<const access::AccessPolicy> policy, const access::Principal& principal,
    const std::string& now) {
  auto shadow = std::make_shared<MetadataShadow>();
  engine::DatabaseOptions options;
  options.hardened = true;
  options.threads = 1;
  options.memory_limit = "64MB";
  PLEXUS_ASSIGN_OR_RETURN(shadow->db_, engine::Database::Open(options));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, shadow->db_->Connect());
  PLEXUS_ASSIGN_OR_RETURN(auto ports, VisiblePorts(*policy, principal, now));
  shadow->script_ = ShadowScript(ports, principal.name);
  Status built = conn->Execute(shadow->script_);
  if (!built.ok()) return Internal("building the catalog of the wire protocol: " + built.message());
  PLEXUS_RETURN_IF_ERROR(conn->LockConfiguration());
  shadow->policy = std::move(policy);
  shadow->built_at = std::chrono::steady_clock::now();
  return shadow;
}

Result<std::shared_ptr<engine::Connection>> MetadataShadow::Connect() {
  PLEXUS_ASSIGN_OR_RETURN(std::unique_ptr<engine::Connection> conn, db_->Connect());
  PLEXUS_RETURN_IF_ERROR(conn->Execute("SET search_path = 'memory.main,memory.plexus_pg'"));
  return std::shared_ptr<engine::Connection>(std::move(conn));
}

MetadataCursor::~MetadataCursor() = default;
MetadataStatement::~MetadataStatement() = default;

size_t MetadataStatement::parameter_count() const { return prepared_->parameter_count(); }

engine::TypeId MetadataStatement::parameter_type(size_t index) const {
  return prepared_->parameter_type(index);
}

std::vector<engine::ColumnInfo> MetadataStatement::columns() const { return prepared_->columns(); }

Result<std::unique_ptr<MetadataCursor>> MetadataStatement::Execute(
    const std::vector<engine::ParameterValue>& params) {
  if (params.size() != prepared_->parameter_count()) {
    return InvalidArgument("bind message supplies " + std::to_string(params.size()) +
                           " parameters, but prepared statement requires " +
                           std::to_string(prepared_->parameter_count()));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    Status bound = prepared_->Bind(i + 1, params[i]);
    if (!bound.ok()) return FirstLine(bound, StatusCode::kInvalidArgument);
  }
  auto result = prepared_->Execute();
  if (!result.ok()) return FirstLine(result.status(), StatusCode::kInvalidArgument);
  auto cursor = std::make_unique<MetadataCursor>();
  cursor->shadow_ = shadow_;
  cursor->connection_ = connection_;
  cursor->prepared_ = prepared_;
  cursor->result_ = std::move(result).value();
  return cursor;
}

Result<std::unique_ptr<MetadataCatalog>> MetadataCatalog::Create(access::QueryService* service) {
  if (service == nullptr) return Internal("the wire catalog needs the query service");
  return std::unique_ptr<MetadataCatalog>(new MetadataCatalog(service));
}

MetadataCatalog::~MetadataCatalog() = default;

Result<std::shared_ptr<MetadataShadow>> MetadataCatalog::ShadowFor(
    const access::Principal& principal) {
  PLEXUS_RETURN_IF_ERROR(service_->Refresh());
  std::shared_ptr<const access::AccessPolicy> policy = service_->policy();
  if (policy == nullptr) return Internal("no access policy loaded");
  std::string key = Fingerprint(principal);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = shadows_.find(key);
    if (it != shadows_.end() && it->second->policy == policy &&
        now - it->second->built_at < kShadowLifetime) {
      return it->second;
    }
  }
  // Built outside the lock: other principals are not held up by this one.
  PLEXUS_ASSIGN_OR_RETURN(auto shadow, MetadataShadow::Build(policy, principal, catalog::NowUtc()));
  std::lock_guard<std::mutex> lock(mu_);
  if (shadows_.size() >= kMaxShadows && shadows_.count(key) == 0) {
    auto oldest = shadows_.begin();
    for (auto it = shadows_.begin(); it != shadows_.end(); ++it) {
      if (it->second->built_at < oldest->second->built_at) oldest = it;
    }
    shadows_.erase(oldest);
  }
  shadows_[key] = shadow;
  return shadow;
}

Result<std::unique_ptr<MetadataStatement>> MetadataCatalog::Prepare(
    const access::Principal& principal, const std::string& sql) {
  PLEXUS_ASSIGN_OR_RETURN(auto shadow, ShadowFor(principal));
  PLEXUS_ASSIGN_OR_RETURN(auto conn, shadow->Connect());
  // One SELECT, as DuckDB's parser sees it: nothing else runs on the shadow.
  {
    PLEXUS_ASSIGN_OR_RETURN(std::string parsed, engine::SerializeSql(sql));
    auto tree = nlohmann::json::parse(parsed, nullptr, false);
    if (tree.is_discarded() || !tree.is_object()) return Internal("the catalog parser's answer is not JSON");
    if (tree.value("error", true)) {
      std::string message = tree.value("error_message", std::string("not a SELECT statement"));
      return PermissionDenied("only SELECT queries are answered on the catalog: " +
                              message.substr(0, message.find('\n')));
    }
    if (!tree.contains("statements") || tree["statements"].size() != 1) {
      return PermissionDenied("only one SELECT query at a time is answered on the catalog");
    }
  }
  auto prepared = conn->Prepare(sql);
  if (!prepared.ok()) return FirstLine(prepared.status(), StatusCode::kInvalidArgument);
  auto statement = std::unique_ptr<MetadataStatement>(new MetadataStatement());
  statement->shadow_ = std::move(shadow);
  statement->connection_ = std::move(conn);
  statement->prepared_ = std::move(prepared).value();
  return statement;
}

Result<std::unique_ptr<MetadataCursor>> MetadataCatalog::Query(
    const access::Principal& principal, const std::string& sql,
    const std::vector<engine::ParameterValue>& params) {
  PLEXUS_ASSIGN_OR_RETURN(auto statement, Prepare(principal, sql));
  return statement->Execute(params);
}

}  // namespace plexus::server::pg
