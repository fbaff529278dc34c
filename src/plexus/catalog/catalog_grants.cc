// Access requests (a principal asks to read a product or a port, for a purpose) and grants
// (permission to read, for a principal or a group, until an optional expiry). Who may approve
// is the access module's decision; the catalog stores, checks the records, and audits.
#include <string>

#include "plexus/catalog/access_internal.h"
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"
#include "plexus/common/text.h"

namespace plexus::catalog {

using internal::SqliteDb;
using internal::Statement;
using internal::Transaction;

namespace {

constexpr const char* kRequestColumns =
    "id, principal, target, purpose, expires_at, status, coalesce(created_at, ''), decided_by, "
    "decided_at, reason, grant_id";
constexpr const char* kGrantColumns =
    "id, grantee, grantee_kind, target, purpose, expires_at, coalesce(granted_by, ''), "
    "coalesce(granted_at, ''), request_id, revoked_at, revoked_by";

AccessRequestRecord ReadRequest(const Statement& s) {
  return AccessRequestRecord{s.Int(0),  s.Text(1), s.Text(2), s.Text(3),
                             s.Text(4), s.Text(5), s.Text(6), s.Text(7),
                             s.Text(8), s.Text(9), s.Int(10)};
}

Result<AccessRequestRecord> FindRequest(SqliteDb& db, int64_t id) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(std::string("SELECT ") + kRequestColumns +
                                                " FROM access_requests WHERE id = ?"));
  stmt->Bind(1, id);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("no access request " + std::to_string(id));
  return ReadRequest(*stmt);
}

GrantRecord ReadGrant(const Statement& s) {
  return GrantRecord{s.Int(0),  s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5),
                     s.Text(6), s.Text(7), s.Int(8),  s.Text(9), s.Text(10)};
}

/// A target as stored (lower case) with its product (domain.product); kNotFound unless it
/// names an existing product (domain.product) or port (domain.product.port).
Result<std::pair<std::string, std::string>> CheckTarget(SqliteDb& db, const std::string& text) {
  std::string target = AsciiLower(text);
  size_t first = target.find('.');
  size_t second = first == std::string::npos ? first : target.find('.', first + 1);
  std::string product = target.substr(0, second);
  std::string port = second == std::string::npos ? "" : target.substr(second + 1);
  bool shaped = first != std::string::npos && first > 0 && first + 1 < product.size() &&
                port.find('.') == std::string::npos &&
                (second == std::string::npos || !port.empty());
  if (shaped) {
    PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(
        "SELECT 1 FROM products p LEFT JOIN output_ports o ON o.product_id = p.id "
        "WHERE lower(p.domain || '.' || p.name) = ?1 AND (?2 = '' OR lower(o.name) = ?2)"));
    stmt->Bind(1, product).Bind(2, port);
    PLEXUS_ASSIGN_OR_RETURN(bool found, stmt->Step());
    if (found) return std::make_pair(target, product);
  }
  return NotFound("no product or port " + text +
                  " (name a product as domain.product or a port as domain.product.port)");
}

/// Inserts a grant (the caller checked it) and returns its id.
Result<int64_t> InsertGrant(SqliteDb& db, const GrantRecord& g) {
  PLEXUS_ASSIGN_OR_RETURN(auto put, db.Prepare(
      "INSERT INTO grants (grantee, grantee_kind, target, purpose, expires_at, granted_by, "
      "granted_at, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  PLEXUS_RETURN_IF_ERROR(put->Bind(1, g.grantee).Bind(2, g.grantee_kind).Bind(3, g.target)
                             .Bind(4, g.purpose).Bind(5, g.expires_at).Bind(6, g.granted_by)
                             .Bind(7, g.granted_at).Bind(8, g.request_id).Run());
  return db.LastInsertId();
}

/// domain.product of a target (domain.product or domain.product.port).
std::string ProductOfTarget(const std::string& target) {
  size_t first = target.find('.');
  return target.substr(0, first == std::string::npos ? first : target.find('.', first + 1));
}

std::string GrantDetail(const GrantRecord& g) {
  return "grant " + std::to_string(g.id) + " to " + g.grantee_kind + " " + g.grantee +
         (g.expires_at.empty() ? "" : " until " + g.expires_at) +
         (g.purpose.empty() ? "" : "; purpose: " + g.purpose);
}

}  // namespace

Result<int64_t> Catalog::CreateAccessRequest(const AccessRequestRecord& request,
                                             const std::string& actor) {
  if (request.purpose.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("an access request needs a purpose: say what the data is for");
  }
  PLEXUS_ASSIGN_OR_RETURN(std::string expires,
                          internal::FutureExpiry(request.expires_at, "expiry"));
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(std::string principal, internal::StoredPrincipalName(
      *db_, request.principal.empty() ? actor : request.principal));
  PLEXUS_ASSIGN_OR_RETURN(auto target, CheckTarget(*db_, request.target));
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
      "INSERT INTO access_requests (principal, target, purpose, expires_at, status, created_at) "
      "VALUES (?, ?, ?, ?, 'pending', ?)"));
  PLEXUS_RETURN_IF_ERROR(put->Bind(1, principal).Bind(2, target.first).Bind(3, request.purpose)
                             .Bind(4, expires).Bind(5, NowUtc()).Run());
  int64_t id = db_->LastInsertId();
  std::string detail = "request " + std::to_string(id) + " by " + principal +
                       (expires.empty() ? "" : " until " + expires) + "; purpose: " +
                       request.purpose;
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "request.create", target.first, detail,
                                   {target.second})).status());
  PLEXUS_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<AccessRequestRecord> Catalog::GetAccessRequest(int64_t id) const {
  std::lock_guard lock(mu_);
  return FindRequest(*db_, id);
}

Result<std::vector<AccessRequestRecord>> Catalog::ListAccessRequests(
    const std::string& principal, const std::string& target, const std::string& status) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kRequestColumns + " FROM access_requests WHERE (?1 = '' OR "
      "principal = ?1) AND (?2 = '' OR target = ?2) AND (?3 = '' OR status = ?3) "
      "ORDER BY id DESC"));
  stmt->Bind(1, principal).Bind(2, AsciiLower(target)).Bind(3, status);
  std::vector<AccessRequestRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadRequest(*stmt));
  }
  return out;
}

Result<AccessRequestRecord> Catalog::DecideAccessRequest(int64_t id, bool approve,
                                                         const std::string& reason,
                                                         const std::string& actor) {
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(AccessRequestRecord request, FindRequest(*db_, id));
  if (request.status != "pending") {
    return FailedPrecondition("access request " + std::to_string(id) + " is " + request.status +
                              ", not pending");
  }
  request.status = approve ? "approved" : "denied";
  request.decided_by = actor;
  request.decided_at = NowUtc();
  request.reason = reason;
  std::string detail = "request " + std::to_string(id) + " by " + request.principal;
  if (approve) {
    if (!request.expires_at.empty() && request.expires_at <= request.decided_at) {
      return FailedPrecondition("access request " + std::to_string(id) +
                                " asked for access until " + request.expires_at +
                                ", which has passed");
    }
    GrantRecord grant{0, request.principal, "principal", request.target, request.purpose,
                      request.expires_at, actor, request.decided_at, id, "", ""};
    PLEXUS_ASSIGN_OR_RETURN(request.grant_id, InsertGrant(*db_, grant));
    detail += ": grant " + std::to_string(request.grant_id);
  }
  if (!reason.empty()) detail += "; reason: " + reason;
  PLEXUS_ASSIGN_OR_RETURN(auto set, db_->Prepare(
      "UPDATE access_requests SET status = ?, decided_by = ?, decided_at = ?, reason = ?, "
      "grant_id = ? WHERE id = ?"));
  PLEXUS_RETURN_IF_ERROR(set->Bind(1, request.status).Bind(2, actor).Bind(3, request.decided_at)
                             .Bind(4, reason).Bind(5, request.grant_id).Bind(6, id).Run());
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, approve ? "request.approve" : "request.deny",
                                   request.target, detail,
                                   {ProductOfTarget(request.target)})).status());
  PLEXUS_RETURN_IF_ERROR(tx.Commit());
  return request;
}

Result<int64_t> Catalog::CreateGrant(const GrantRecord& grant, const std::string& actor) {
  GrantRecord g = grant;
  if (g.grantee_kind.empty()) g.grantee_kind = "principal";
  if (g.grantee_kind != "principal" && g.grantee_kind != "group") {
    return InvalidArgument("grantee kind '" + g.grantee_kind + "' is not principal or group");
  }
  PLEXUS_ASSIGN_OR_RETURN(g.expires_at, internal::FutureExpiry(grant.expires_at, "expiry"));
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  if (g.grantee_kind == "principal") {
    PLEXUS_ASSIGN_OR_RETURN(g.grantee, internal::StoredPrincipalName(*db_, grant.grantee));
  } else {
    PLEXUS_RETURN_IF_ERROR(internal::CheckPrincipalName(g.grantee, "group"));
  }
  PLEXUS_ASSIGN_OR_RETURN(auto target, CheckTarget(*db_, grant.target));
  g.target = target.first;
  g.granted_by = actor;
  g.granted_at = NowUtc();
  g.request_id = 0;
  g.revoked_at.clear();
  g.revoked_by.clear();
  PLEXUS_ASSIGN_OR_RETURN(g.id, InsertGrant(*db_, g));
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "grant.create", g.target, GrantDetail(g),
                                   {target.second})).status());
  PLEXUS_RETURN_IF_ERROR(tx.Commit());
  return g.id;
}

Result<GrantRecord> Catalog::GetGrant(int64_t id) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string("SELECT ") + kGrantColumns +
                                                  " FROM grants WHERE id = ?"));
  stmt->Bind(1, id);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("no grant " + std::to_string(id));
  return ReadGrant(*stmt);
}

Status Catalog::RevokeGrant(int64_t id, const std::string& actor) {
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string("SELECT ") + kGrantColumns +
                                                  " FROM grants WHERE id = ?"));
  stmt->Bind(1, id);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("no grant " + std::to_string(id));
  GrantRecord g = ReadGrant(*stmt);
  if (!g.revoked_at.empty()) {
    return FailedPrecondition("grant " + std::to_string(id) + " was already revoked at " +
                              g.revoked_at + " by " + g.revoked_by);
  }
  PLEXUS_ASSIGN_OR_RETURN(auto set, db_->Prepare(
      "UPDATE grants SET revoked_at = ?, revoked_by = ? WHERE id = ?"));
  PLEXUS_RETURN_IF_ERROR(set->Bind(1, NowUtc()).Bind(2, actor).Bind(3, id).Run());
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "grant.revoke", g.target, GrantDetail(g),
                                   {ProductOfTarget(g.target)}))
      .status());
  return tx.Commit();
}

Result<std::vector<GrantRecord>> Catalog::ListGrants(const std::string& grantee,
                                                     const std::string& target,
                                                     const std::string& active_at) const {
  std::string at;
  if (!active_at.empty()) {
    PLEXUS_ASSIGN_OR_RETURN(at, internal::NormalizeTimestamp(active_at, "active_at"));
  }
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kGrantColumns + " FROM grants WHERE (?1 = '' OR grantee = ?1) "
      "AND (?2 = '' OR target = ?2) ORDER BY id"));
  stmt->Bind(1, grantee).Bind(2, AsciiLower(target));
  std::vector<GrantRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    GrantRecord g = ReadGrant(*stmt);
    if (at.empty() || g.ActiveAt(at)) out.push_back(std::move(g));
  }
  return out;
}

}  // namespace plexus::catalog
