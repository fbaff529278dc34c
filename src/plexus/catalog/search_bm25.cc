#include "plexus/catalog/search_bm25.h"

#include <cmath>

#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog::internal {
namespace {

// FTS5's bm25() constants (fts5_aux.c).
constexpr double kK1 = 1.2;
constexpr double kB = 0.75;
/// Documents from this id on are measured by FTS5 (the lengths are an array by id).
constexpr int64_t kMaxRowid = int64_t{1} << 24;

/// What bm25() computes once per statement (fts5Bm25GetData): the average document length,
/// each phrase's IDF, and here also the weights, which are constant arguments.
struct QueryData {
  double avgdl = 0;
  std::vector<double> idf;
  std::vector<double> freq;     ///< per phrase, reused for each row
  std::vector<double> weights;  ///< per column (1 when not given)
};

int CountRow(const Fts5ExtensionApi*, Fts5Context*, void* count) {
  (*static_cast<int64_t*>(count))++;
  return SQLITE_OK;
}

/// The statistics of the statement, computed as fts5Bm25GetData does.
int MakeQueryData(const Fts5ExtensionApi* api, Fts5Context* fts, int nval,
                  sqlite3_value** vals, QueryData& data) {
  int phrases = api->xPhraseCount(fts);
  sqlite3_int64 rows = 0, tokens = 0;
  int rc = api->xRowCount(fts, &rows);
  if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &tokens);
  if (rc != SQLITE_OK) return rc;
  data.avgdl = static_cast<double>(tokens) / static_cast<double>(rows);
  for (int i = 0; i < phrases; i++) {
    int64_t hits = 0;
    rc = api->xQueryPhrase(fts, i, &hits, CountRow);
    if (rc != SQLITE_OK) return rc;
    double idf = std::log((rows - hits + 0.5) / (hits + 0.5));
    data.idf.push_back(idf <= 0.0 ? 1e-6 : idf);
  }
  data.freq.assign(phrases, 0.0);
  for (int c = 0; c < api->xColumnCount(fts); c++) {
    data.weights.push_back(nval > c ? sqlite3_value_double(vals[c]) : 1.0);
  }
  return SQLITE_OK;
}

/// plexus_bm25(table, weight...): -bm25(table, weight...), with the document's length from
/// the loaded lengths when known.
void Bm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int nval,
          sqlite3_value** vals) {
  const auto& scorer = **static_cast<std::shared_ptr<SearchBm25>*>(api->xUserData(fts));
  auto* data = static_cast<QueryData*>(api->xGetAuxdata(fts, 0));
  if (data == nullptr) {
    auto made = std::make_unique<QueryData>();
    int rc = MakeQueryData(api, fts, nval, vals, *made);
    if (rc == SQLITE_OK) {
      rc = api->xSetAuxdata(fts, made.get(), [](void* p) { delete static_cast<QueryData*>(p); });
    }
    if (rc != SQLITE_OK) return sqlite3_result_error_code(ctx, rc);
    data = made.release();
  }
  std::fill(data->freq.begin(), data->freq.end(), 0.0);
  int instances = 0;
  int rc = api->xInstCount(fts, &instances);
  for (int i = 0; rc == SQLITE_OK && i < instances; i++) {
    int phrase = 0, column = 0, offset = 0;
    rc = api->xInst(fts, i, &phrase, &column, &offset);
    if (rc == SQLITE_OK) data->freq[phrase] += data->weights[column];
  }
  double length = scorer.Length(api->xRowid(fts));
  if (rc == SQLITE_OK && length == 0) {
    int tokens = 0;
    rc = api->xColumnSize(fts, -1, &tokens);
    length = tokens;
  }
  if (rc != SQLITE_OK) return sqlite3_result_error_code(ctx, rc);
  double score = 0;
  for (size_t i = 0; i < data->idf.size(); i++) {
    double f = data->freq[i];
    score += data->idf[i] * ((f * (kK1 + 1.0)) / (f + kK1 * (1 - kB + kB * length / data->avgdl)));
  }
  sqlite3_result_double(ctx, score);  // bm25() returns -1.0 x score
}

/// A SQLite varint (the format FTS5 writes %_docsize with); advances `at`.
uint64_t Varint(const unsigned char*& at, const unsigned char* end) {
  uint64_t value = 0;
  for (int i = 0; i < 9 && at < end; i++) {
    unsigned char byte = *at++;
    if (i == 8) return (value << 8) | byte;
    value = (value << 7) | (byte & 0x7f);
    if ((byte & 0x80) == 0) break;
  }
  return value;
}

}  // namespace

Status SearchBm25::Register(sqlite3* db, const std::string& name,
                            const std::shared_ptr<SearchBm25>& scorer) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (api == nullptr) return Internal("this SQLite has no FTS5 API");
  auto* kept = new std::shared_ptr<SearchBm25>(scorer);
  int rc = api->xCreateFunction(api, name.c_str(), kept, Bm25, [](void* p) {
    delete static_cast<std::shared_ptr<SearchBm25>*>(p);
  });
  if (rc != SQLITE_OK) return Internal("registering " + name + ": " + sqlite3_errstr(rc));
  return Status::OK();
}

Status SearchBm25::Load(SqliteDb& db, const std::string& table, int64_t generation) {
  if (generation == generation_) return Status::OK();
  generation_ = -1;
  lengths_.clear();
  sqlite3_stmt* stmt = nullptr;
  std::string sql = "SELECT id, sz FROM \"" + table + "_docsize\" ORDER BY id";
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Internal("reading " + table + " lengths: " + sqlite3_errmsg(db.handle()));
  }
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(stmt, 0);
    const auto* at = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, 1));
    const unsigned char* end = at + sqlite3_column_bytes(stmt, 1);
    uint64_t tokens = 0;
    while (at != nullptr && at < end) tokens += Varint(at, end);
    if (id < 0 || id >= kMaxRowid || tokens > UINT32_MAX) continue;  // left to FTS5
    if (id >= static_cast<int64_t>(lengths_.size())) lengths_.resize(id + 1, 0);
    lengths_[id] = static_cast<uint32_t>(tokens);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) {
    lengths_.clear();
    return Internal("reading " + table + " lengths: " + sqlite3_errstr(rc));
  }
  generation_ = generation;
  return Status::OK();
}

}  // namespace plexus::catalog::internal
