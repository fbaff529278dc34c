// File: plexus/catalog/access_internal.h (catalog-internal)
//
// What the access methods of the catalog share (catalog_principals.cc, catalog_credentials.cc,
// catalog_grants.cc, catalog_audit.cc, catalog_apply.cc): name and time checks, principal
// lookups, and the audit append that runs inside the caller's transaction. The caller holds
// the Catalog's mutex.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/catalog/access_records.h"
#include "plexus/common/status.h"
#include "plexus/spec/model.h"

namespace plexus::catalog::internal {

class SqliteDb;

/// [A-Za-z0-9_.@-]{1,63}: principal and group names.
bool IsValidPrincipalName(std::string_view name);
/// kInvalidArgument naming `what` (principal, group) unless the name is valid.
Status CheckPrincipalName(std::string_view name, std::string_view what);

/// An ISO 8601 UTC date (2030-01-31) or date-time (2030-01-31T12:00[:00[.000]][Z]) in the
/// form NowUtc() writes (YYYY-MM-DDTHH:MM:SS.mmmZ), so that they compare as text; a date means
/// its midnight. kInvalidArgument naming `what` otherwise.
Result<std::string> NormalizeTimestamp(std::string_view text, std::string_view what);
/// Empty stays empty (no expiry); otherwise NormalizeTimestamp, and it must be after now.
Result<std::string> FutureExpiry(std::string_view text, std::string_view what);

/// The principal's name as stored (names are case-insensitive); kNotFound when unknown.
Result<std::string> StoredPrincipalName(SqliteDb& db, const std::string& name);
/// A principal with its groups and domain roles; kNotFound when unknown.
Result<PrincipalRecord> ReadPrincipal(SqliteDb& db, const std::string& name);

/// Appends an audit record (seq, at, prev_hash and hash filled in) in the caller's
/// transaction, which must be a write transaction (BEGIN IMMEDIATE) so the chain's tail
/// cannot move under it. Returns its seq.
Result<int64_t> AppendAuditRecord(SqliteDb& db, AuditRecord record);
/// A record of an allowed change made by `actor`.
AuditRecord ChangeRecord(const std::string& actor, const std::string& action,
                         const std::string& object, const std::string& detail = "",
                         std::vector<std::string> products = {});
/// The hash of a record: hex SHA-256 of the JSON array [seq, at, principal, action, object,
/// products, decision, rows, detail, prev_hash] (unambiguous: every field is quoted).
std::string AuditRecordHash(const AuditRecord& record);

/// Apply's access work: each domain's roles from domain.yaml (owners, members, its service
/// principal), creating the principals that do not exist; roles of domains no longer in the
/// mesh are dropped. Returns the principals created.
Result<std::vector<std::string>> SyncDomainRoles(SqliteDb& db, const spec::Mesh& mesh,
                                                 const std::string& now);

}  // namespace plexus::catalog::internal
