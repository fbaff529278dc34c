#include "plexus/access/query_service.h"

#include <algorithm>
#include <filesystem>

#include "plexus/catalog/crypto.h"

namespace plexus::access {
Result<std::unique_ptr<QueryService>> QueryService::Open(const catalog::Home& home,
                                                         catalog::Catalog* catalog) {
  std::unique_ptr<QueryService> service(new QueryService(home, catalog));
  engine::DatabaseOptions options;
  options.hardened = true;
  options.allowed_directories = {home.DataDir(), home.TempDir()};
  options.temp_directory = home.TempDir();
  PLEXUS_ASSIGN_OR_RETURN(service->own_db_, engine::Database::Open(options));
  service->db_ = service->own_db_.get();
  PLEXUS_ASSIGN_OR_RETURN(auto conn, service->db_->Connect());
  PLEXUS_RETURN_IF_ERROR(conn->LockConfiguration());
  PLEXUS_RETURN_IF_ERROR(service->Refresh());
  return service;
}

Result<std::unique_ptr<QueryService>> QueryService::OpenShared(const catalog::Home& home,
                                                               catalog::Catalog* catalog,
                                                               engine::Database* db) {
  std::unique_ptr<QueryService> service(new QueryService(home, catalog));
  service->db_ = db;
  service->shared_ = true;
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
    // Shared with the pipelines (serve): read-write, and perhaps attached by a run already.
    Status s = conn.Execute(std::string(shared_ ? "ATTACH IF NOT EXISTS " : "ATTACH ") +
                            engine::QuoteLiteral(entry.path().string()) + " AS " +
                            engine::QuoteIdentifier(catalog::Home::AttachName(domain)) +
                            (shared_ ? "" : " (READ_ONLY)"));
    if (!s.ok()) {
      return FailedPrecondition("cannot read the data of domain " + domain +
                                " (is a pipeline writing it?): " + s.message());
    }
    attached_.push_back(domain);
  }
  return Status::OK();
}

namespace {

constexpr size_t kMaxAcceptedStatements = 4096;
constexpr size_t kMaxAuditedSqlBytes = 8192;
constexpr size_t kMaxPreparedPerSession = 256;

/// The products (domain.product) a query's relations (domain.product.port) belong to.
std::vector<std::string> ProductsOf(const std::vector<std::string>& relations) {
  std::vector<std::string> products;
  for (const auto& relation : relations) {
    std::string product = relation.substr(0, relation.rfind('.'));
    if (std::find(products.begin(), products.end(), product) == products.end()) {
      products.push_back(std::move(product));
    }
  }
  return products;
}

/// Who asks, as the cache of accepted statements keys it: the principal with everything the
/// guard's rewrite reads of it (attributes, groups, roles), and the preview scope. A refresh
/// empties the cache when any of these change in the catalog; the key holds them as well.
std::string ScopeKey(const QueryRequest& request) {
  const Principal& p = *request.principal;
  std::string key = p.name + '\x1f' + p.kind + (p.admin ? "\x1f" "admin" : "") + '\x1f';
  for (const auto& [name, value] : p.attributes) key += name + '\x1d' + value + '\x1c';
  key += '\x1f';
  for (const auto& group : p.groups) key += group + '\x1c';
  key += '\x1f';
  for (const auto& [domain, role] : p.domain_roles) key += domain + '\x1d' + role + '\x1c';
  key += '\x1f';
  for (const auto& domain : request.only_domains) key += domain + '\x1c';
  return key;
}

}  // namespace

Status QueryService::Refresh() {
  // A domain's data file appears only with a publication, which changes the catalog: an
  // unchanged catalog means nothing to re-read or attach.
  PLEXUS_ASSIGN_OR_RETURN(auto generation, catalog_->Generation());
  std::shared_ptr<const AccessPolicy> previous;
  {
    std::lock_guard lock(mu_);
    if (policy_ != nullptr && generation == generation_) return Status::OK();
    previous = policy_;
  }
  // A publication (every run, every CDC micro-batch that changed rows) moves the generation:
  // the ports and grants are read again, the columns already read kept unless one changed.
  PLEXUS_ASSIGN_OR_RETURN(auto policy, AccessPolicy::Load(*catalog_, previous.get()));
  PLEXUS_ASSIGN_OR_RETURN(auto session, TakeSession());
  std::lock_guard lock(mu_);
  Status attached = AttachNewDomains(*session->connection);
  idle_.push_back(std::move(session));
  PLEXUS_RETURN_IF_ERROR(attached);
  policy_ = std::move(policy);
  accepted_.clear();
  generation_ = generation;
  return Status::OK();
}

std::shared_ptr<const AccessPolicy> QueryService::policy() {
  std::lock_guard lock(mu_);
  return policy_;
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
  session->guard = std::make_unique<SqlGuard>();
  return session;
}

void QueryService::ReturnSession(std::unique_ptr<Session> session) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(session));
}

void QueryInterrupter::Interrupt() {
  std::lock_guard lock(mu_);
  if (connection_ != nullptr) connection_->Interrupt();
}

void QueryInterrupter::Attach(engine::Connection* connection) {
  std::lock_guard lock(mu_);
  connection_ = connection;
}

void QueryInterrupter::Detach() {
  std::lock_guard lock(mu_);  // after this no Interrupt() reaches the connection
  connection_ = nullptr;
}

Cursor::~Cursor() {
  result.reset();  // the result reads from the session's connection: close it first
  // Before the session goes back to the pool, where a late interrupt would stop another
  // principal's query.
  if (interrupter != nullptr) interrupter->Detach();
  if (owner != nullptr && session != nullptr) owner->ReturnSession(std::move(session));
}

void Cursor::Finish(int64_t rows, const Status& status) {
  if (finished || owner == nullptr) return;
  finished = true;
  catalog::AuditRecord record;
  record.principal = principal;
  record.action = "query.done";
  record.products = ProductsOf(query.relations);
  record.decision = status.ok() ? "allow" : "error";
  record.rows = rows;
  record.detail = door + (previewed_by.empty() ? "" : ", previewed by " + previewed_by) +
                  (status.ok() ? "" : ": " + ConsumerErrorMessage(status.message()));
  (void)owner->catalog_->AppendAudit(std::move(record));  // the answer is already out
}

Result<GuardedQuery> QueryService::Check(Session& session, const QueryRequest& request,
                                         std::string_view sql) {
  std::string now = catalog::NowUtc();
  std::string key = ScopeKey(request) + '\x1e';
  key += sql;
  std::shared_ptr<const AccessPolicy> policy;
  {
    std::lock_guard lock(mu_);
    auto hit = accepted_.find(key);
    if (hit != accepted_.end() &&
        (hit->second.valid_until.empty() || now < hit->second.valid_until)) {
      cache_hits_++;
      return hit->second.query;
    }
    policy = policy_;
  }
  if (policy == nullptr) return Internal("the access policy is not loaded");
  PrincipalResolver resolver(policy, *request.principal, now, request.only_domains);
  // Refusals are not cached: they are cheap to recompute and may pass after a refresh.
  PLEXUS_ASSIGN_OR_RETURN(GuardedQuery query, session.guard->Check(sql, resolver));
  std::lock_guard lock(mu_);
  if (policy == policy_) {
    if (accepted_.size() >= kMaxAcceptedStatements) accepted_.clear();
    accepted_[key] = Accepted{query, resolver.valid_until()};
  }
  return query;
}

Result<std::unique_ptr<Cursor>> QueryService::Admitted(const QueryRequest& request,
                                                       std::string_view sql) {
  PLEXUS_ASSIGN_OR_RETURN(auto cursor, Checked(request, sql));
  PLEXUS_RETURN_IF_ERROR(Audit(request, sql, &cursor->query, Status::OK()));
  if (request.interrupter != nullptr) {
    cursor->interrupter = request.interrupter;
    request.interrupter->Attach(cursor->session->connection.get());
  }
  return cursor;
}

Result<ExportedFile> QueryService::ExportParquet(const QueryRequest& request,
                                                 std::string_view sql) {
  PLEXUS_ASSIGN_OR_RETURN(auto cursor, Admitted(request, sql));
  ExportedFile file;
  file.warnings = cursor->query.warnings;
  PLEXUS_ASSIGN_OR_RETURN(std::string random, catalog::internal::RandomBytes(12));
  file.path = home_.TempDir() + "/export-" + catalog::internal::Hex(random) + ".parquet";
  const std::string& path = file.path;
  // The accepted SELECT, whole, inside COPY: the guard checked it; the path is the platform's.
  std::string copy = "COPY (" + cursor->query.sql + ") TO " + engine::QuoteLiteral(path) +
                     " (FORMAT parquet)";
  auto result = cursor->session->connection->Query(copy);
  int64_t rows = 0;
  if (result.ok()) {
    auto chunk = (*result)->Fetch();
    if (chunk.ok() && *chunk != nullptr && (*chunk)->size() > 0) rows = (*chunk)->GetInt64(0, 0);
  }
  Status status = result.ok() ? Status::OK()
                              : Status(result.status().code(),
                                       ConsumerErrorMessage(result.status().message()));
  cursor->Finish(rows, status);
  if (!status.ok()) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    return status;
  }
  file.rows = rows;
  return file;
}

Status QueryService::AuditRefusal(const QueryRequest& request, std::string_view sql,
                                  const Status& refusal) {
  if (request.principal == nullptr) return refusal;
  PLEXUS_RETURN_IF_ERROR(Audit(request, sql, nullptr, refusal));
  return refusal;
}

Status QueryService::Audit(const QueryRequest& request, std::string_view sql,
                           const GuardedQuery* query, const Status& refusal) {
  catalog::AuditRecord record;
  record.principal = request.principal->name;
  record.action = "query";
  record.object = std::string(sql.substr(0, kMaxAuditedSqlBytes));
  if (query != nullptr) record.products = ProductsOf(query->relations);
  record.decision = refusal.ok() ? "allow" : "deny";
  record.detail = request.door;
  if (!request.previewed_by.empty()) record.detail += ", previewed by " + request.previewed_by;
  if (!refusal.ok()) record.detail += ": " + refusal.message();
  auto appended = catalog_->AppendAudit(std::move(record));
  if (!appended.ok()) {
    return Internal("the audit trail cannot be written, so the query is not answered: " +
                    appended.status().message());
  }
  return Status::OK();
}

Result<engine::PreparedStatement*> QueryService::Prepared(Session& session,
                                                          const std::string& sql) {
  auto it = session.prepared.find(sql);
  if (it == session.prepared.end()) {
    if (session.prepared.size() >= kMaxPreparedPerSession) session.prepared.clear();
    PLEXUS_ASSIGN_OR_RETURN(auto statement, session.connection->Prepare(sql));
    it = session.prepared.emplace(sql, std::move(statement)).first;
  }
  return it->second.get();
}

Result<std::unique_ptr<engine::QueryResult>> QueryService::Execute(
    Session& session, const std::string& sql,
    const std::vector<engine::ParameterValue>& parameters) {
  PLEXUS_ASSIGN_OR_RETURN(engine::PreparedStatement * statement, Prepared(session, sql));
  if (parameters.size() != statement->parameter_count()) {
    return InvalidArgument("the statement has " + std::to_string(statement->parameter_count()) +
                           " parameters but " + std::to_string(parameters.size()) +
                           " values were given");
  }
  for (size_t i = 0; i < parameters.size(); ++i) {
    PLEXUS_RETURN_IF_ERROR(statement->Bind(i + 1, parameters[i]));
  }
  auto result = statement->Execute();
  if (!result.ok()) session.prepared.erase(sql);  // e.g. a table replaced since: prepare anew
  return result;
}

Result<std::unique_ptr<Cursor>> QueryService::Checked(const QueryRequest& request,
                                                      std::string_view sql) {
  if (request.principal == nullptr) return Unauthenticated("no principal: sign in first");
  auto cursor = std::make_unique<Cursor>();
  cursor->owner = this;
  cursor->principal = request.principal->name;
  cursor->door = request.door;
  cursor->previewed_by = request.previewed_by;
  PLEXUS_ASSIGN_OR_RETURN(cursor->session, TakeSession());
  auto checked = Check(*cursor->session, request, sql);
  if (!checked.ok()) {
    PLEXUS_RETURN_IF_ERROR(Audit(request, sql, nullptr, checked.status()));
    return checked.status();
  }
  cursor->query = std::move(checked).value();
  return cursor;
}

Result<std::unique_ptr<Cursor>> QueryService::Query(const QueryRequest& request,
                                                    std::string_view sql) {
  return Query(request, sql, {});
}

Result<std::unique_ptr<Cursor>> QueryService::Query(
    const QueryRequest& request, std::string_view sql,
    const std::vector<engine::ParameterValue>& parameters) {
  PLEXUS_ASSIGN_OR_RETURN(auto cursor, Admitted(request, sql));
  auto result = Execute(*cursor->session, cursor->query.sql, parameters);
  if (!result.ok()) {
    Status error(result.status().code(), ConsumerErrorMessage(result.status().message()));
    cursor->Finish(0, error);
    return error;
  }
  cursor->result = std::move(result).value();
  return cursor;
}

Result<StatementShape> QueryService::Describe(const QueryRequest& request,
                                              std::string_view sql) {
  PLEXUS_ASSIGN_OR_RETURN(auto cursor, Checked(request, sql));
  cursor->finished = true;  // nothing ran: no query.done record
  auto statement = Prepared(*cursor->session, cursor->query.sql);
  if (!statement.ok()) {
    return Status(statement.status().code(),
                  ConsumerErrorMessage(statement.status().message()));
  }
  StatementShape shape;
  shape.columns = (*statement)->columns();
  for (size_t i = 1; i <= (*statement)->parameter_count(); ++i) {
    shape.parameter_types.push_back((*statement)->parameter_type(i));
  }
  shape.warnings = cursor->query.warnings;
  return shape;
}

}  // namespace plexus::access
