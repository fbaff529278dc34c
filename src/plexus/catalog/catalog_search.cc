// The search index (issue 4): one SQLite FTS5 document per output port at its newest major (a
// product without ports has one), and one per glossary term. Apply rewrites the documents of
// the products it applies in its transaction, so the index is never behind the catalog.
// Ranking, visibility and facets are discovery/search.h's; this file stores and matches.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "plexus/catalog/catalog.h"
#include "plexus/catalog/search_bm25.h"
#include "plexus/catalog/sqlite_db.h"
#include "plexus/common/text.h"

namespace plexus::catalog {

using internal::FromJsonList;
using internal::ToJsonList;

namespace {

// unicode61 splits on everything but letters and digits (so snake_case names split into
// words), folds case and diacritics; prefix indexes make 2- and 3-letter prefixes cheap.
constexpr const char* kSearchSchema = R"sql(
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(name, tags, description, columns,
  business, glossary, owners, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
CREATE VIRTUAL TABLE IF NOT EXISTS search_vocab USING fts5vocab(search_fts, 'row');
CREATE TABLE IF NOT EXISTS search_docs (doc INTEGER PRIMARY KEY, product_id TEXT NOT NULL,
  domain TEXT NOT NULL, product TEXT NOT NULL, port TEXT NOT NULL, major INTEGER NOT NULL,
  visibility TEXT NOT NULL, status TEXT NOT NULL, tags TEXT NOT NULL, owners TEXT NOT NULL,
  classifications TEXT NOT NULL, documented REAL NOT NULL);
CREATE INDEX IF NOT EXISTS search_docs_by_product ON search_docs (product_id);
CREATE VIRTUAL TABLE IF NOT EXISTS search_terms USING fts5(id UNINDEXED, name, synonyms,
  definition, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
CREATE VIRTUAL TABLE IF NOT EXISTS search_terms_vocab USING fts5vocab(search_terms, 'row');
CREATE TABLE IF NOT EXISTS search_words (term TEXT PRIMARY KEY, docs INTEGER NOT NULL)
  WITHOUT ROWID;
)sql";

/// Products re-indexed by one apply from which the index is merged into one segment.
constexpr int64_t kOptimizeAfter = 1000;

std::string Lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (item.empty()) continue;
    if (!out.empty()) out += '\n';
    out += item;
  }
  return out;
}

/// Adds the distinct ASCII words of `fields` (split and folded as unicode61 does for ASCII) to
/// `words`, one document each. The vocabulary of corrections and prefixes: reading it back from
/// FTS5 (fts5vocab) scans the whole index, a second at 100,000 products. Words are not taken
/// back when documents change: a stale word costs a correction nothing (the match finds it
/// gone), and the counts only order candidates.
void CountWords(const std::vector<std::string>& fields, std::map<std::string, int64_t>& words) {
  std::set<std::string> seen;
  for (const auto& text : fields) {
    std::string word;
    bool ascii = true;
    for (size_t i = 0; i <= text.size(); i++) {
      unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
      if (std::isalnum(c) || c >= 0x80) {
        ascii = ascii && c < 0x80;
        word += static_cast<char>(std::tolower(c));
        continue;
      }
      if (!word.empty() && ascii) seen.insert(word);
      word.clear();
      ascii = true;
    }
  }
  for (const auto& w : seen) words[w]++;
}

/// Every product's id, in the order they were registered.
Result<std::vector<std::string>> ProductIds(internal::SqliteDb& db) {
  PLEXUS_ASSIGN_OR_RETURN(auto ids, db.Prepare("SELECT id FROM products ORDER BY rowid"));
  std::vector<std::string> products;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool more, ids->Step());
    if (!more) return products;
    products.push_back(ids->Text(0));
  }
}

/// Moves Catalog::Generation: the documents' ids and lengths changed (readers keep both).
Status MoveGeneration(internal::SqliteDb& db) {
  return db.Execute(
      "UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'");
}

Result<int64_t> ReadGeneration(internal::SqliteDb& db) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Cached(
      "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'generation'"));
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? stmt->Int(0) : int64_t{0};
}

/// A FTS5 failure (a malformed expression) is the caller's; anything else the catalog's.
Status MatchError(const Status& status) {
  if (status.message().find("fts5") != std::string::npos) {
    return InvalidArgument("search expression refused: " + status.message());
  }
  return status;
}

}  // namespace

Status Catalog::CreateSearchTables() {
  PLEXUS_RETURN_IF_ERROR(db_->Execute(kSearchSchema));
  PLEXUS_RETURN_IF_ERROR(CreateUsageTables());
  if (search_bm25_ == nullptr) {
    auto scorer = std::make_shared<internal::SearchBm25>();
    PLEXUS_RETURN_IF_ERROR(internal::SearchBm25::Register(db_->handle(), "plexus_bm25", scorer));
    search_bm25_ = std::move(scorer);
  }
  // A catalog made before the index: index what it holds, once.
  PLEXUS_ASSIGN_OR_RETURN(auto count, db_->Prepare(
      "SELECT EXISTS (SELECT 1 FROM search_docs), EXISTS (SELECT 1 FROM products)"));
  PLEXUS_ASSIGN_OR_RETURN(bool row, count->Step());
  if (row && count->Int(0) == 0 && count->Int(1) != 0) {
    PLEXUS_ASSIGN_OR_RETURN(auto products, ProductIds(*db_));
    for (const auto& id : products) PLEXUS_RETURN_IF_ERROR(IndexProductLocked(id));
    PLEXUS_RETURN_IF_ERROR(MoveGeneration(*db_));
    return IndexGlossaryLocked();
  }
  // An index made before search_words: its words from FTS5's own vocabulary, once.
  PLEXUS_ASSIGN_OR_RETURN(auto words, db_->Prepare(
      "SELECT EXISTS (SELECT 1 FROM search_words), EXISTS (SELECT 1 FROM search_docs)"));
  PLEXUS_ASSIGN_OR_RETURN(bool got, words->Step());
  if (!got || words->Int(0) != 0 || words->Int(1) == 0) return Status::OK();
  return db_->Execute(
      "INSERT INTO search_words (term, docs) SELECT term, sum(doc) FROM (SELECT term, doc "
      "FROM search_vocab UNION ALL SELECT term, doc FROM search_terms_vocab) GROUP BY term");
}

Status Catalog::IndexProducts(const spec::Mesh& mesh) {
  PLEXUS_ASSIGN_OR_RETURN(auto find, db_->Prepare(
      "SELECT id FROM products WHERE domain = ? AND name = ?"));
  int64_t indexed = 0;
  for (const auto& domain : mesh.domains) {
    for (const auto& bundle : domain.products) {
      find->Reset();
      find->Bind(1, domain.name).Bind(2, bundle.product.name);
      PLEXUS_ASSIGN_OR_RETURN(bool row, find->Step());
      if (row) PLEXUS_RETURN_IF_ERROR(IndexProductLocked(find->Text(0)));
      indexed++;
    }
  }
  if (indexed > 0) PLEXUS_RETURN_IF_ERROR(MoveGeneration(*db_));
  // Re-indexing leaves the old entries as deletions until segments merge; after a large apply
  // merge them all now, so queries do not pay for them.
  if (indexed >= kOptimizeAfter) {
    PLEXUS_RETURN_IF_ERROR(
        db_->Execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')"));
  }
  return IndexGlossaryLocked();
}

Result<int64_t> Catalog::RebuildSearchIndex() {
  std::lock_guard lock(mu_);
  internal::Transaction tx(db_.get());
  PLEXUS_RETURN_IF_ERROR(tx.Begin());
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      "DELETE FROM search_fts; DELETE FROM search_docs; DELETE FROM search_words;"));
  pending_words_.clear();
  PLEXUS_ASSIGN_OR_RETURN(auto products, ProductIds(*db_));
  for (const auto& id : products) PLEXUS_RETURN_IF_ERROR(IndexProductLocked(id));
  PLEXUS_RETURN_IF_ERROR(MoveGeneration(*db_));
  PLEXUS_RETURN_IF_ERROR(IndexGlossaryLocked());
  // One segment, no deleted entries left: as fast to query as an index built at once.
  PLEXUS_RETURN_IF_ERROR(db_->Execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')"));
  PLEXUS_RETURN_IF_ERROR(tx.Commit());
  return static_cast<int64_t>(products.size());
}

Status Catalog::IndexProductLocked(const std::string& product_id) {
  PLEXUS_ASSIGN_OR_RETURN(auto drop_text, db_->Prepare(
      "DELETE FROM search_fts WHERE rowid IN (SELECT doc FROM search_docs WHERE product_id = ?)"));
  PLEXUS_RETURN_IF_ERROR(drop_text->Bind(1, product_id).Run());
  PLEXUS_ASSIGN_OR_RETURN(auto drop_docs, db_->Prepare(
      "DELETE FROM search_docs WHERE product_id = ?"));
  PLEXUS_RETURN_IF_ERROR(drop_docs->Bind(1, product_id).Run());

  PLEXUS_ASSIGN_OR_RETURN(auto product, db_->Prepare(
      "SELECT domain, name, status, purpose, usage, tags, team_name, owners FROM products "
      "WHERE id = ?"));
  product->Bind(1, product_id);
  PLEXUS_ASSIGN_OR_RETURN(bool found, product->Step());
  if (!found) return Status::OK();
  const std::string domain = product->Text(0), name = product->Text(1);
  const std::string status = product->Text(2);
  const std::vector<std::string> tags = FromJsonList(product->Text(5));
  std::vector<std::string> owners = FromJsonList(product->Text(7));
  if (!product->Text(6).empty()) owners.push_back(product->Text(6));
  const std::string purpose = product->Text(3), usage = product->Text(4);

  struct Port {
    std::string name, description, visibility;
    int64_t major = 0;
  };
  std::vector<Port> ports;
  PLEXUS_ASSIGN_OR_RETURN(auto port_rows, db_->Prepare(
      "SELECT name, major, description, coalesce(visibility, 'restricted') FROM output_ports o "
      "WHERE product_id = ?1 AND major = (SELECT max(major) FROM output_ports m "
      "WHERE m.product_id = ?1 AND m.name = o.name) ORDER BY name"));
  port_rows->Bind(1, product_id);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, port_rows->Step());
    if (!row) break;
    ports.push_back({port_rows->Text(0), port_rows->Text(2), port_rows->Text(3),
                     port_rows->Int(1)});
  }
  // A product without output ports is found by its own words; only its domain sees it.
  if (ports.empty()) ports.push_back({"", "", "private", 0});

  PLEXUS_ASSIGN_OR_RETURN(auto column_rows, db_->Prepare(
      "SELECT name, description, business_name, lower(coalesce(classification, '')) "
      "FROM columns WHERE product_id = ? AND port = ? AND major = ? ORDER BY position"));
  PLEXUS_ASSIGN_OR_RETURN(auto term_rows, db_->Prepare(
      "SELECT DISTINCT t.name, t.synonyms FROM column_terms c JOIN glossary_terms t "
      "ON t.id = c.term_id WHERE c.product_id = ? AND c.port = ? AND c.major = ? ORDER BY 1"));
  PLEXUS_ASSIGN_OR_RETURN(auto put_text, db_->Prepare(
      "INSERT INTO search_fts (rowid, name, tags, description, columns, business, glossary, "
      "owners) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  PLEXUS_ASSIGN_OR_RETURN(auto put_doc, db_->Prepare(
      "INSERT INTO search_docs (product_id, domain, product, port, major, visibility, status, "
      "tags, owners, classifications, documented) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (const auto& port : ports) {
    std::vector<std::string> columns, business, glossary;
    std::set<std::string> classifications;
    int described = 0, total = 0;
    column_rows->Reset();
    column_rows->Bind(1, product_id).Bind(2, port.name).Bind(3, port.major);
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(bool row, column_rows->Step());
      if (!row) break;
      total++;
      columns.push_back(column_rows->Text(0));
      std::string description = column_rows->Text(1), business_name = column_rows->Text(2);
      if (!description.empty()) described++;
      std::string line = business_name;
      if (!description.empty()) line += (line.empty() ? "" : ": ") + description;
      business.push_back(line);
      if (!column_rows->Text(3).empty()) classifications.insert(column_rows->Text(3));
    }
    term_rows->Reset();
    term_rows->Bind(1, product_id).Bind(2, port.name).Bind(3, port.major);
    while (true) {
      auto row = term_rows->Step();
      if (!row.ok() || !*row) break;  // no glossary tables yet: no terms
      std::vector<std::string> synonyms = FromJsonList(term_rows->Text(1));
      std::string also;
      for (const auto& synonym : synonyms) also += (also.empty() ? "" : ", ") + synonym;
      glossary.push_back(term_rows->Text(0) + (also.empty() ? "" : " (" + also + ")"));
    }
    PLEXUS_RETURN_IF_ERROR(
        put_doc->Bind(1, product_id).Bind(2, domain).Bind(3, name).Bind(4, port.name)
            .Bind(5, port.major).Bind(6, port.visibility).Bind(7, status)
            .Bind(8, ToJsonList(tags)).Bind(9, ToJsonList(owners))
            .Bind(10, ToJsonList({classifications.begin(), classifications.end()}))
            .BindReal(11, total == 0 ? 0.0 : static_cast<double>(described) / total).Run());
    int64_t doc = db_->LastInsertId();
    put_doc->Reset();
    CountWords({domain, name, port.name, Lines(tags), purpose, usage, port.description,
                Lines(columns), Lines(business), Lines(glossary), Lines(owners)},
               pending_words_);
    PLEXUS_RETURN_IF_ERROR(
        put_text->Bind(1, doc)
            .Bind(2, Lines({domain, name, port.name == name ? "" : port.name}))
            .Bind(3, Lines(tags)).Bind(4, Lines({purpose, usage, port.description}))
            .Bind(5, Lines(columns)).Bind(6, Lines(business)).Bind(7, Lines(glossary))
            .Bind(8, Lines(owners)).Run());
    put_text->Reset();
  }
  return Status::OK();
}

Status Catalog::IndexGlossaryLocked() {
  PLEXUS_RETURN_IF_ERROR(db_->Execute("DELETE FROM search_terms"));
  PLEXUS_RETURN_IF_ERROR(db_->Execute(
      "INSERT INTO search_terms (id, name, synonyms, definition) "
      "SELECT id, name, replace(replace(replace(synonyms, '[', ''), ']', ''), '\"', ''), "
      "definition FROM glossary_terms"));
  PLEXUS_ASSIGN_OR_RETURN(auto terms, db_->Prepare(
      "SELECT name, synonyms, definition FROM search_terms"));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, terms->Step());
    if (!row) break;
    CountWords({terms->Text(0), terms->Text(1), terms->Text(2)}, pending_words_);
  }
  return FlushSearchWordsLocked();
}

Status Catalog::FlushSearchWordsLocked() {
  PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
      "INSERT INTO search_words (term, docs) VALUES (?1, ?2) "
      "ON CONFLICT (term) DO UPDATE SET docs = docs + ?2"));
  for (const auto& [word, docs] : pending_words_) {
    put->Reset();
    PLEXUS_RETURN_IF_ERROR(put->Bind(1, word).Bind(2, docs).Run());
  }
  pending_words_.clear();
  return Status::OK();
}

Result<std::vector<SearchDocRecord>> Catalog::ListSearchDocs() const {
  std::lock_guard lock(mu_);
  // Publication and the last quality check move with runs, not with apply: read them now.
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(R"sql(
    SELECT d.doc, d.product_id, d.domain, d.product, d.port, d.visibility, d.status, d.tags,
      d.owners, d.classifications, d.documented,
      EXISTS (SELECT 1 FROM publications p WHERE p.product_id = d.product_id
              AND p.port = d.port AND p.major = d.major),
      (SELECT avg(q.status = 'passed') FROM quality_results q
        WHERE q.product_id = d.product_id AND q.port = d.port AND q.major = d.major
          AND q.status IN ('passed', 'failed')
          AND q.checked_at = (SELECT max(checked_at) FROM quality_results l
                              WHERE l.product_id = d.product_id AND l.port = d.port
                                AND l.major = d.major))
    FROM search_docs d ORDER BY d.doc)sql"));
  std::vector<SearchDocRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    SearchDocRecord d;
    d.doc = stmt->Int(0);
    d.product_id = stmt->Text(1);
    d.domain = stmt->Text(2);
    d.product = stmt->Text(3);
    d.port = stmt->Text(4);
    d.visibility = stmt->Text(5);
    d.status = stmt->Text(6);
    d.tags = FromJsonList(stmt->Text(7));
    d.owners = FromJsonList(stmt->Text(8));
    d.classifications = FromJsonList(stmt->Text(9));
    d.documented = stmt->Real(10);
    d.published = stmt->Int(11) != 0;
    d.quality = stmt->IsNull(12) ? -1 : stmt->Real(12);
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> Catalog::SearchVocabulary() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT term, docs FROM search_words ORDER BY term"));
  std::vector<std::pair<std::string, int64_t>> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.emplace_back(stmt->Text(0), stmt->Int(1));
  }
  return out;
}

Status Catalog::MatchSearch(const std::string& expression,
                            const std::function<void(int64_t, double)>& each) const {
  std::lock_guard lock(mu_);
  if (search_bm25_ == nullptr) return Internal("the search index was not opened");
  // One read transaction: the lengths are those of the generation the match reads.
  PLEXUS_RETURN_IF_ERROR(db_->Execute("BEGIN"));
  struct EndRead {
    internal::SqliteDb* db;
    ~EndRead() { (void)db->Execute("COMMIT"); }
  } end_read{db_.get()};
  PLEXUS_ASSIGN_OR_RETURN(int64_t generation, ReadGeneration(*db_));
  PLEXUS_RETURN_IF_ERROR(search_bm25_->Load(*db_, "search_fts", generation));
  std::string weights;
  for (const auto& field : kSearchFields) weights += ", " + std::to_string(field.weight);
  // plexus_bm25 is -bm25() with the lengths from memory (search_bm25.h).
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Cached(
      "SELECT rowid, plexus_bm25(search_fts" + weights + ") FROM search_fts "
      "WHERE search_fts MATCH ?"));
  stmt->Bind(1, expression);
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return MatchError(row.status());
    if (!*row) return Status::OK();
    each(stmt->Int(0), stmt->Real(1));
  }
}

Result<bool> Catalog::AnyMatch(const std::string& expression,
                               const std::function<bool(int64_t)>& accept) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt,
                          db_->Cached("SELECT rowid FROM search_fts WHERE search_fts MATCH ?"));
  stmt->Bind(1, expression);
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return MatchError(row.status());
    if (!*row) return false;
    if (accept(stmt->Int(0))) return true;
  }
}

Result<std::vector<std::vector<std::string>>> Catalog::SearchDocTexts(
    const std::vector<int64_t>& docs) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Cached(
      "SELECT name, tags, description, columns, business, glossary, owners FROM search_fts "
      "WHERE rowid = ?"));
  std::vector<std::vector<std::string>> out;
  for (int64_t doc : docs) {
    stmt->Reset();
    stmt->Bind(1, doc);
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    std::vector<std::string> fields(kSearchFieldCount);
    for (int i = 0; row && i < kSearchFieldCount; i++) fields[i] = stmt->Text(i);
    out.push_back(std::move(fields));
  }
  return out;
}

Result<std::vector<GlossaryMatchRecord>> Catalog::MatchGlossary(const std::string& expression,
                                                                const std::string& open,
                                                                const std::string& close,
                                                                int limit) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Cached(
      "SELECT id, highlight(search_terms, 1, ?2, ?3), snippet(search_terms, 3, ?2, ?3, '…', 24), "
      "-bm25(search_terms, 0, 8.0, 4.0, 1.0) FROM search_terms WHERE search_terms MATCH ?1 "
      "ORDER BY rank LIMIT ?4"));
  stmt->Bind(1, expression).Bind(2, open).Bind(3, close).Bind(4, int64_t{limit});
  std::vector<GlossaryMatchRecord> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return MatchError(row.status());
    if (!*row) break;
    out.push_back({stmt->Text(0), stmt->Text(1), stmt->Text(2), stmt->Real(3)});
  }
  return out;
}

}  // namespace plexus::catalog
