// Principals (users and service principals), their attributes and groups; the name and time
// checks the access methods share. Every change appends its audit record in its transaction.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "plexus/catalog/access_internal.h"
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

using internal::SqliteDb;
using internal::Transaction;

std::string ServicePrincipalName(const std::string& domain) { return "svc_" + domain; }

namespace internal {

bool IsValidPrincipalName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckPrincipalName(std::string_view name, std::string_view what) {
  if (IsValidPrincipalName(name)) return Status::OK();
  return InvalidArgument(std::string(what) + " name '" + std::string(name) +
                         "' is not valid: 1 to 63 of A-Z a-z 0-9 _ . @ -");
}

namespace {

/// Reads `n` decimal digits at `pos` into `out`; false when out of range or not digits.
bool Digits(std::string_view text, size_t pos, size_t n, int& out) {
  if (pos + n > text.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

bool ValidDate(int year, int month, int day) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month != 2 || day <= 28 || leap;
}

/// Parses [T|space]HH:MM[:SS[.fff...]][Z] at `pos`; false when malformed.
bool ParseTime(std::string_view text, size_t pos, int& h, int& mi, int& s, int& ms) {
  if (pos == text.size()) return true;
  if ((text[pos] != 'T' && text[pos] != ' ') || !Digits(text, pos + 1, 2, h) ||
      pos + 3 >= text.size() || text[pos + 3] != ':' || !Digits(text, pos + 4, 2, mi)) {
    return false;
  }
  pos += 6;
  if (pos < text.size() && text[pos] == ':') {
    if (!Digits(text, pos + 1, 2, s)) return false;
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      size_t start = ++pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
      if (pos == start) return false;
      std::string frac(text.substr(start, std::min<size_t>(3, pos - start)));
      frac.resize(3, '0');
      ms = std::stoi(frac);
    }
  }
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) ++pos;
  return pos == text.size() && h < 24 && mi < 60 && s < 60;
}

}  // namespace

Result<std::string> NormalizeTimestamp(std::string_view text, std::string_view what) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  bool ok = text.size() >= 10 && Digits(text, 0, 4, y) && text[4] == '-' &&
            Digits(text, 5, 2, mo) && text[7] == '-' && Digits(text, 8, 2, d) &&
            ValidDate(y, mo, d) && ParseTime(text, 10, h, mi, s, ms);
  if (!ok) {
    return InvalidArgument(std::string(what) + " '" + std::string(text) +
                           "' is not an ISO 8601 UTC date or date-time (2030-01-31 or "
                           "2030-01-31T12:00:00Z)");
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s, ms);
  return std::string(buf);
}

Result<std::string> FutureExpiry(std::string_view text, std::string_view what) {
  if (text.empty()) return std::string();
  PLEXUS_ASSIGN_OR_RETURN(std::string at, NormalizeTimestamp(text, what));
  if (at <= NowUtc()) {
    return InvalidArgument(std::string(what) + " " + std::string(text) + " is in the past");
  }
  return at;
}

Result<std::string> StoredPrincipalName(SqliteDb& db, const std::string& name) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT name FROM principals WHERE name = ?"));
  stmt->Bind(1, name);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("no principal " + name + " (see plexus principals)");
  return stmt->Text(0);
}

Result<PrincipalRecord> ReadPrincipal(SqliteDb& db, const std::string& name) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(
      "SELECT name, kind, admin, disabled, attributes, coalesce(created_at, ''), "
      "coalesce(created_by, '') FROM principals WHERE name = ?"));
  stmt->Bind(1, name);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("no principal " + name + " (see plexus principals)");
  PrincipalRecord p{stmt->Text(0), stmt->Text(1), stmt->Int(2) != 0, stmt->Int(3) != 0,
                    {}, {}, {}, stmt->Text(5), stmt->Text(6)};
  auto attributes = nlohmann::json::parse(stmt->Text(4), nullptr, false);
  if (attributes.is_object()) {
    for (const auto& [key, value] : attributes.items()) {
      if (value.is_string()) p.attributes[key] = value.get<std::string>();
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(auto groups, db.Prepare(
      "SELECT group_name FROM group_members WHERE principal = ? ORDER BY group_name"));
  groups->Bind(1, p.name);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool more, groups->Step());
    if (!more) break;
    p.groups.push_back(groups->Text(0));
  }
  PLEXUS_ASSIGN_OR_RETURN(auto roles, db.Prepare(
      "SELECT domain, role FROM domain_roles WHERE principal = ? ORDER BY domain"));
  roles->Bind(1, p.name);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool more, roles->Step());
    if (!more) break;
    p.domain_roles[roles->Text(0)] = roles->Text(1);
  }
  return p;
}

}  // namespace internal

namespace {

/// Inserts a principal's row (the caller checked the name is free).
Status InsertPrincipal(SqliteDb& db, const PrincipalRecord& p, const std::string& kind,
                       const std::string& actor) {
  PLEXUS_ASSIGN_OR_RETURN(auto put, db.Prepare(
      "INSERT INTO principals (name, kind, admin, disabled, attributes, created_at, created_by) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  return put->Bind(1, p.name).Bind(2, kind).Bind(3, int64_t{p.admin})
      .Bind(4, int64_t{p.disabled}).Bind(5, nlohmann::json(p.attributes).dump())
      .Bind(6, NowUtc()).Bind(7, actor).Run();
}

Status InsertMember(SqliteDb& db, const std::string& group, const std::string& principal,
                    const std::string& actor) {
  PLEXUS_ASSIGN_OR_RETURN(auto put, db.Prepare(
      "INSERT INTO group_members (group_name, principal, added_at, added_by) VALUES "
      "(coalesce((SELECT group_name FROM group_members WHERE group_name = ?1 LIMIT 1), ?1), "
      "?2, ?3, ?4)"));
  return put->Bind(1, group).Bind(2, principal).Bind(3, NowUtc()).Bind(4, actor).Run();
}

Status CheckAttributeKey(const std::string& key) {
  return internal::CheckPrincipalName(key, "attribute");
}

}  // namespace

Status Catalog::CreatePrincipal(const PrincipalRecord& principal, const std::string& actor) {
  PLEXUS_RETURN_IF_ERROR(internal::CheckPrincipalName(principal.name, "principal"));
  std::string kind = principal.kind.empty() ? "user" : principal.kind;
  if (kind != "user" && kind != "service") {
    return InvalidArgument("principal kind '" + kind + "' is not user or service");
  }
  for (const auto& [key, value] : principal.attributes) {
    PLEXUS_RETURN_IF_ERROR(CheckAttributeKey(key));
  }
  for (const auto& group : principal.groups) {
    PLEXUS_RETURN_IF_ERROR(internal::CheckPrincipalName(group, "group"));
  }
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  auto existing = internal::StoredPrincipalName(*db_, principal.name);
  if (existing.ok()) {
    return AlreadyExists("principal " + principal.name + " already exists (as " + *existing +
                         "; names are case-insensitive)");
  }
  PLEXUS_RETURN_IF_ERROR(InsertPrincipal(*db_, principal, kind, actor));
  for (const auto& group : principal.groups) {
    PLEXUS_RETURN_IF_ERROR(InsertMember(*db_, group, principal.name, actor));
  }
  std::string detail = "kind=" + kind + (principal.admin ? " admin" : "") +
                       (principal.disabled ? " disabled" : "");
  if (!principal.groups.empty()) detail += " groups=" + internal::ToJsonList(principal.groups);
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "principal.create", principal.name, detail)).status());
  return tx.Commit();
}

Result<PrincipalRecord> Catalog::GetPrincipal(const std::string& name) const {
  std::lock_guard lock(mu_);
  return internal::ReadPrincipal(*db_, name);
}

Result<std::vector<PrincipalRecord>> Catalog::ListPrincipals() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT name FROM principals ORDER BY name"));
  std::vector<std::string> names;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    names.push_back(stmt->Text(0));
  }
  std::vector<PrincipalRecord> out;
  for (const auto& name : names) {
    PLEXUS_ASSIGN_OR_RETURN(PrincipalRecord p, internal::ReadPrincipal(*db_, name));
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

/// Sets the admin or disabled flag of a principal and audits it as `action` (in the caller's
/// transaction).
Status SetFlag(SqliteDb& db, const std::string& column, const std::string& action,
               const std::string& name, bool value, const std::string& actor) {
  PLEXUS_ASSIGN_OR_RETURN(std::string stored, internal::StoredPrincipalName(db, name));
  PLEXUS_ASSIGN_OR_RETURN(auto set,
                          db.Prepare("UPDATE principals SET " + column + " = ? WHERE name = ?"));
  PLEXUS_RETURN_IF_ERROR(set->Bind(1, int64_t{value}).Bind(2, stored).Run());
  std::string detail = column + "=" + (value ? "true" : "false");
  return internal::AppendAuditRecord(db, internal::ChangeRecord(actor, action, stored, detail))
      .status();
}

}  // namespace

Status Catalog::SetPrincipalAdmin(const std::string& name, bool admin, const std::string& actor) {
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_RETURN_IF_ERROR(SetFlag(*db_, "admin", "principal.admin", name, admin, actor));
  return tx.Commit();
}

Status Catalog::SetPrincipalDisabled(const std::string& name, bool disabled,
                                     const std::string& actor) {
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_RETURN_IF_ERROR(SetFlag(*db_, "disabled", "principal.disable", name, disabled, actor));
  return tx.Commit();
}

Status Catalog::SetPrincipalAttribute(const std::string& name, const std::string& key,
                                      const std::string& value, const std::string& actor) {
  PLEXUS_RETURN_IF_ERROR(CheckAttributeKey(key));
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(PrincipalRecord p, internal::ReadPrincipal(*db_, name));
  if (value.empty()) {
    p.attributes.erase(key);
  } else {
    p.attributes[key] = value;
  }
  PLEXUS_ASSIGN_OR_RETURN(auto set,
                          db_->Prepare("UPDATE principals SET attributes = ? WHERE name = ?"));
  PLEXUS_RETURN_IF_ERROR(set->Bind(1, nlohmann::json(p.attributes).dump()).Bind(2, p.name).Run());
  std::string detail = value.empty() ? key + " removed" : key + "=" + value;
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "principal.attribute", p.name, detail)).status());
  return tx.Commit();
}

Status Catalog::AddGroupMember(const std::string& group, const std::string& principal,
                               const std::string& actor) {
  PLEXUS_RETURN_IF_ERROR(internal::CheckPrincipalName(group, "group"));
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(std::string stored, internal::StoredPrincipalName(*db_, principal));
  PLEXUS_ASSIGN_OR_RETURN(auto member, db_->Prepare(
      "SELECT 1 FROM group_members WHERE group_name = ? AND principal = ?"));
  member->Bind(1, group).Bind(2, stored);
  PLEXUS_ASSIGN_OR_RETURN(bool already, member->Step());
  if (already) return AlreadyExists(stored + " is already in group " + group);
  PLEXUS_RETURN_IF_ERROR(InsertMember(*db_, group, stored, actor));
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "group.add", group, "member " + stored)).status());
  return tx.Commit();
}

Status Catalog::RemoveGroupMember(const std::string& group, const std::string& principal,
                                  const std::string& actor) {
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(auto drop, db_->Prepare(
      "DELETE FROM group_members WHERE group_name = ? AND principal = ?"));
  PLEXUS_RETURN_IF_ERROR(drop->Bind(1, group).Bind(2, principal).Run());
  PLEXUS_ASSIGN_OR_RETURN(auto changes, db_->Prepare("SELECT changes()"));
  PLEXUS_ASSIGN_OR_RETURN(bool row, changes->Step());
  if (!row || changes->Int(0) == 0) return NotFound(principal + " is not in group " + group);
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "group.remove", group, "member " + principal)).status());
  return tx.Commit();
}

Result<std::map<std::string, std::vector<std::string>>> Catalog::ListGroups() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT group_name, principal FROM group_members ORDER BY group_name, principal"));
  std::map<std::string, std::vector<std::string>> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out[stmt->Text(0)].push_back(stmt->Text(1));
  }
  return out;
}

}  // namespace plexus::catalog
