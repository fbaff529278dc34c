// Credentials: API tokens (only the SHA-256 of each secret is stored) and SCRAM-SHA-256
// password verifiers in PostgreSQL's form (never the password). Refusals say one thing
// whatever the cause, so a caller learns nothing about which part was wrong.
#include <string>

#include "plexus/catalog/access_internal.h"
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/crypto.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

using internal::Transaction;

namespace {

constexpr const char* kBadToken = "invalid or expired token";
constexpr const char* kBadPassword = "invalid name or password";
constexpr std::string_view kTokenPrefix = "plx_";
constexpr size_t kTokenIdSize = 8;

/// A token id: 8 characters from an unambiguous 32-letter alphabet (no bias: 256 % 32 == 0).
Result<std::string> NewTokenId() {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  PLEXUS_ASSIGN_OR_RETURN(std::string bytes, internal::RandomBytes(kTokenIdSize));
  std::string id;
  for (char b : bytes) id += kAlphabet[static_cast<unsigned char>(b) % 32];
  return id;
}

/// The id part of "plx_<id>_<secret>"; empty when the text is not shaped like a token.
std::string TokenIdOf(std::string_view secret) {
  size_t id_end = kTokenPrefix.size() + kTokenIdSize;
  if (secret.size() <= id_end + 1 || secret.substr(0, kTokenPrefix.size()) != kTokenPrefix ||
      secret[id_end] != '_') {
    return "";
  }
  return std::string(secret.substr(kTokenPrefix.size(), kTokenIdSize));
}

}  // namespace

Result<std::string> Catalog::IssueToken(const std::string& principal, const std::string& label,
                                        const std::string& expires_at, const std::string& actor) {
  PLEXUS_ASSIGN_OR_RETURN(std::string expires, internal::FutureExpiry(expires_at, "expiry"));
  PLEXUS_ASSIGN_OR_RETURN(std::string id, NewTokenId());
  PLEXUS_ASSIGN_OR_RETURN(std::string random, internal::RandomBytes(32));
  std::string secret = std::string(kTokenPrefix) + id + "_" + internal::Base64Url(random);
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(std::string stored, internal::StoredPrincipalName(*db_, principal));
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
      "INSERT INTO tokens (id, principal, secret_sha256, label, created_at, created_by, "
      "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  PLEXUS_RETURN_IF_ERROR(put->Bind(1, id).Bind(2, stored).Bind(3, internal::Sha256Hex(secret))
                             .Bind(4, label).Bind(5, NowUtc()).Bind(6, actor).Bind(7, expires)
                             .Run());
  std::string detail = "token " + id + (label.empty() ? "" : " (" + label + ")") +
                       (expires.empty() ? "" : " until " + expires);
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "token.issue", stored, detail)).status());
  PLEXUS_RETURN_IF_ERROR(tx.Commit());
  return secret;
}

Result<PrincipalRecord> Catalog::AuthenticateToken(const std::string& secret) const {
  std::string id = TokenIdOf(secret);
  if (id.empty()) return Unauthenticated(kBadToken);
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT principal, secret_sha256, expires_at, revoked_at FROM tokens WHERE id = ?"));
  stmt->Bind(1, id);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Unauthenticated(kBadToken);
  std::string now = NowUtc();
  bool valid = internal::ConstantTimeEquals(internal::Sha256Hex(secret), stmt->Text(1)) &&
               stmt->Text(3).empty() && (stmt->Text(2).empty() || now < stmt->Text(2));
  std::string name = stmt->Text(0);
  // End the read before writing: an UPDATE under a still-open SELECT must upgrade its read
  // snapshot, which fails at once (no busy wait) when another process wrote meanwhile, e.g. a
  // server recording an evaluation as a client signs in.
  stmt->Reset();
  if (!valid) return Unauthenticated(kBadToken);
  auto principal = internal::ReadPrincipal(*db_, name);
  if (!principal.ok() || principal->disabled) return Unauthenticated(kBadToken);
  PLEXUS_ASSIGN_OR_RETURN(auto used,
                          db_->Prepare("UPDATE tokens SET last_used_at = ? WHERE id = ?"));
  PLEXUS_RETURN_IF_ERROR(used->Bind(1, now).Bind(2, id).Run());
  return principal;
}

Result<std::vector<TokenRecord>> Catalog::ListTokens(const std::string& principal) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT id, principal, coalesce(label, ''), coalesce(created_at, ''), expires_at, "
      "revoked_at, last_used_at FROM tokens WHERE ?1 = '' OR principal = ?1 "
      "ORDER BY created_at, id"));
  stmt->Bind(1, principal);
  std::vector<TokenRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(TokenRecord{stmt->Text(0), stmt->Text(1), stmt->Text(2), stmt->Text(3),
                              stmt->Text(4), stmt->Text(5), stmt->Text(6)});
  }
  return out;
}

Status Catalog::RevokeToken(const std::string& token_id, const std::string& actor) {
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(auto stmt,
                          db_->Prepare("SELECT principal, revoked_at FROM tokens WHERE id = ?"));
  stmt->Bind(1, token_id);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("no token " + token_id + " (see plexus tokens)");
  if (!stmt->Text(1).empty()) {
    return FailedPrecondition("token " + token_id + " was already revoked at " + stmt->Text(1));
  }
  std::string principal = stmt->Text(0);
  PLEXUS_ASSIGN_OR_RETURN(auto revoke,
                          db_->Prepare("UPDATE tokens SET revoked_at = ? WHERE id = ?"));
  PLEXUS_RETURN_IF_ERROR(revoke->Bind(1, NowUtc()).Bind(2, token_id).Run());
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "token.revoke", principal, "token " + token_id))
      .status());
  return tx.Commit();
}

Status Catalog::SetPassword(const std::string& principal, const std::string& password,
                            const std::string& actor) {
  if (password.empty()) return InvalidArgument("the password is empty");
  PLEXUS_ASSIGN_OR_RETURN(std::string salt, internal::RandomBytes(16));
  std::string verifier = internal::ScramVerifier(password, salt, internal::kScramIterations);
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_ASSIGN_OR_RETURN(std::string stored, internal::StoredPrincipalName(*db_, principal));
  PLEXUS_ASSIGN_OR_RETURN(auto set,
                          db_->Prepare("UPDATE principals SET scram_verifier = ? WHERE name = ?"));
  PLEXUS_RETURN_IF_ERROR(set->Bind(1, verifier).Bind(2, stored).Run());
  PLEXUS_RETURN_IF_ERROR(internal::AppendAuditRecord(
      *db_, internal::ChangeRecord(actor, "password.set", stored)).status());
  return tx.Commit();
}

Result<std::string> Catalog::GetScramVerifier(const std::string& principal) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT coalesce(scram_verifier, '') FROM principals WHERE name = ?"));
  stmt->Bind(1, principal);
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row || stmt->Text(0).empty()) return NotFound("no password set for " + principal);
  return stmt->Text(0);
}

Status Catalog::VerifyPassword(const std::string& principal, const std::string& password) const {
  std::string verifier;
  {
    std::lock_guard lock(mu_);
    PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "SELECT coalesce(scram_verifier, ''), disabled FROM principals WHERE name = ?"));
    stmt->Bind(1, principal);
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row || stmt->Int(1) != 0) return Unauthenticated(kBadPassword);
    verifier = stmt->Text(0);
  }
  // PBKDF2 runs outside the lock: 4096 rounds should not hold up other callers.
  auto keys = internal::ParseScramVerifier(verifier);
  if (!keys) return Unauthenticated(kBadPassword);
  auto computed =
      internal::ParseScramVerifier(internal::ScramVerifier(password, keys->salt, keys->iterations));
  bool match = computed && internal::ConstantTimeEquals(computed->stored_key, keys->stored_key) &&
               internal::ConstantTimeEquals(computed->server_key, keys->server_key);
  return match ? Status::OK() : Unauthenticated(kBadPassword);
}

}  // namespace plexus::catalog
