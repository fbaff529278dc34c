// The audit trail: append-only (SQLite triggers refuse UPDATE and DELETE) and hash-chained
// (each record's hash covers its fields and the previous record's hash), so an edit, a
// deletion or a reordering made behind the catalog's back shows in VerifyAudit.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "plexus/catalog/access_internal.h"
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/crypto.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

using internal::Statement;
using internal::Transaction;

namespace {

const std::string kGenesisHash(64, '0');

constexpr const char* kAuditColumns =
    "seq, at, principal, action, object, products, decision, rows, detail, prev_hash, hash";

// The length of the UTF-8 character at text[at]; 0 when the bytes there are not one (a stray
// or missing continuation byte, an overlong form, a surrogate, beyond U+10FFFF).
size_t Utf8Length(std::string_view text, size_t at) {
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  unsigned char lead = static_cast<unsigned char>(text[at]);
  if (lead < 0x80) return 1;
  size_t length = (lead & 0xE0) == 0xC0   ? 2
                  : (lead & 0xF0) == 0xE0 ? 3
                  : (lead & 0xF8) == 0xF0 ? 4
                                          : 0;
  if (length == 0 || at + length > text.size()) return 0;
  uint32_t code = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    unsigned char next = static_cast<unsigned char>(text[at + i]);
    if ((next & 0xC0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  bool valid = code >= kSmallest[length] && code <= 0x10FFFF && (code < 0xD800 || code > 0xDFFF);
  return valid ? length : 0;
}

// `text` with each byte that is not part of a UTF-8 character replaced by U+FFFD: what a
// record stores and hashes (its hash is over JSON, which holds only UTF-8). A user's SQL may
// hold any bytes, or be cut inside a character.
void MakeUtf8(std::string& text) {
  std::string out;
  bool replaced = false;
  for (size_t at = 0; at < text.size();) {
    size_t length = Utf8Length(text, at);
    if (length == 0 && !replaced) out.assign(text, 0, at);  // the first bad byte: copy from here
    replaced = replaced || length == 0;
    if (length == 0) {
      out.append("\xEF\xBF\xBD");
      ++at;
      continue;
    }
    if (replaced) out.append(text, at, length);
    at += length;
  }
  if (replaced) text = std::move(out);
}

AuditRecord ReadAudit(const Statement& s) {
  return AuditRecord{s.Int(0),  s.Text(1), s.Text(2),
                     s.Text(3), s.Text(4), internal::FromJsonList(s.Text(5)),
                     s.Text(6), s.Int(7),  s.Text(8),
                     s.Text(9), s.Text(10)};
}

}  // namespace

namespace internal {

std::string AuditRecordHash(const AuditRecord& r) {
  nlohmann::json fields = nlohmann::json::array(
      {r.seq, r.at, r.principal, r.action, r.object, r.products, r.decision, r.rows, r.detail,
       r.prev_hash});
  return Sha256Hex(fields.dump());
}

AuditRecord ChangeRecord(const std::string& actor, const std::string& action,
                         const std::string& object, const std::string& detail,
                         std::vector<std::string> products) {
  AuditRecord r;
  r.principal = actor.empty() ? "-" : actor;
  r.action = action;
  r.object = object;
  r.products = std::move(products);
  r.decision = "allow";
  r.detail = detail;
  return r;
}

Result<int64_t> AppendAuditRecord(SqliteDb& db, AuditRecord record) {
  {  // both statements are prepared once per connection (every query writes two records)
    PLEXUS_ASSIGN_OR_RETURN(auto last,
                            db.Cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    PLEXUS_ASSIGN_OR_RETURN(bool row, last->Step());
    record.seq = row ? last->Int(0) + 1 : 1;
    record.prev_hash = row ? last->Text(1) : kGenesisHash;
  }
  record.at = NowUtc();
  if (record.principal.empty()) record.principal = "-";
  for (std::string* text : {&record.principal, &record.action, &record.object, &record.decision,
                            &record.detail}) {
    MakeUtf8(*text);
  }
  for (std::string& product : record.products) MakeUtf8(product);
  record.hash = AuditRecordHash(record);
  static const std::string kInsert = std::string("INSERT INTO audit (") + kAuditColumns +
                                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  PLEXUS_ASSIGN_OR_RETURN(auto put, db.Cached(kInsert));
  PLEXUS_RETURN_IF_ERROR(put->Bind(1, record.seq).Bind(2, record.at).Bind(3, record.principal)
                             .Bind(4, record.action).Bind(5, record.object)
                             .Bind(6, ToJsonList(record.products)).Bind(7, record.decision)
                             .Bind(8, record.rows).Bind(9, record.detail)
                             .Bind(10, record.prev_hash).Bind(11, record.hash).Run());
  return record.seq;
}

}  // namespace internal

Result<int64_t> Catalog::AppendAudit(AuditRecord record) {
  std::lock_guard lock(mu_);
  // As Transaction, with BEGIN and COMMIT prepared once per connection (not parsed twice per
  // query): a query writes two records.
  {
    PLEXUS_ASSIGN_OR_RETURN(auto begin, db_->Cached("BEGIN IMMEDIATE"));
    PLEXUS_RETURN_IF_ERROR(begin->Run());
  }
  auto seq = internal::AppendAuditRecord(*db_, std::move(record));
  Status committed = seq.status();
  if (committed.ok()) {
    auto commit = db_->Cached("COMMIT");
    committed = commit.ok() ? (*commit)->Run() : commit.status();
  }
  if (!committed.ok()) {
    (void)db_->Execute("ROLLBACK");
    return committed;
  }
  return seq;
}

Result<std::vector<AuditRecord>> Catalog::SearchAudit(const AuditFilter& filter) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kAuditColumns + " FROM audit WHERE "
      "(?1 = '' OR principal = ?1 COLLATE NOCASE) "
      "AND (?2 = '' OR substr(action, 1, length(?2)) = ?2) "
      "AND (?3 = '' OR EXISTS (SELECT 1 FROM json_each(audit.products) WHERE value = ?3)) "
      "AND (?4 = '' OR decision = ?4) AND (?5 = '' OR at >= ?5) AND (?6 = '' OR at < ?6) "
      "AND (?7 = '' OR instr(object, ?7) > 0 OR instr(detail, ?7) > 0) "
      "AND seq < ?9 "
      "ORDER BY seq DESC LIMIT ?8"));
  stmt->Bind(1, filter.principal).Bind(2, filter.action).Bind(3, filter.product)
      .Bind(4, filter.decision).Bind(5, filter.since).Bind(6, filter.until).Bind(7, filter.text)
      .Bind(8, int64_t{filter.limit > 0 ? filter.limit : -1})
      .Bind(9, filter.before_seq > 0 ? filter.before_seq : std::numeric_limits<int64_t>::max());
  std::vector<AuditRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadAudit(*stmt));
  }
  return out;
}

Result<std::vector<AuditRecord>> Catalog::ReadAuditAfter(int64_t seq, int limit) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string("SELECT ") + kAuditColumns +
                                                  " FROM audit WHERE seq > ? ORDER BY seq LIMIT ?"));
  stmt->Bind(1, seq).Bind(2, int64_t{limit});
  std::vector<AuditRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadAudit(*stmt));
  }
  return out;
}

namespace {

/// What is wrong with `record` given the one before it (expected seq and hash); empty: nothing.
std::string CheckLink(const AuditRecord& record, int64_t expected_seq,
                      const std::string& expected_prev) {
  std::string at = "record " + std::to_string(record.seq) + ": ";
  if (record.seq != expected_seq) {
    return at + (expected_seq == 1 ? "the records before it are missing"
                                   : "record " + std::to_string(expected_seq) +
                                         " is missing (the chain jumps from " +
                                         std::to_string(expected_seq - 1) + ")");
  }
  if (record.prev_hash != expected_prev) {
    return at + "its link to the previous record does not match (a record before it was "
                "removed, changed or moved)";
  }
  if (internal::AuditRecordHash(record) != record.hash) {
    return at + "hash does not match its fields (the record was changed)";
  }
  return "";
}

}  // namespace

Result<AuditVerification> Catalog::VerifyAudit() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string("SELECT ") + kAuditColumns +
                                                  " FROM audit ORDER BY seq"));
  AuditVerification out;
  std::string expected_prev = kGenesisHash;
  int64_t expected_seq = 1;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    AuditRecord record = ReadAudit(*stmt);
    ++out.records;
    std::string problem = CheckLink(record, expected_seq, expected_prev);
    if (!problem.empty()) {
      out.ok = false;
      out.first_bad_seq = record.seq;
      out.message = problem;
      return out;
    }
    expected_prev = record.hash;
    expected_seq = record.seq + 1;
  }
  out.message = std::to_string(out.records) + " records, the chain is intact";
  return out;
}

}  // namespace plexus::catalog
