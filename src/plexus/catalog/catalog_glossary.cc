// The business glossary (issue 4): the mesh's terms and the columns that link to them.
//
// glossary_terms holds the mesh's glossary as last applied (replaced whole by every Apply);
// column_terms the links of each applied port major's columns, by spec::GlossaryIndex's rule
// (authoritativeDefinitions, then businessName). Apply recomputes the links of the majors it
// writes; the links of older majors stay as they were applied, less those to terms that left
// the glossary. The search index reads both tables with SQL.
#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"
#include "plexus/common/text.h"
#include "plexus/spec/glossary.h"

namespace plexus::catalog {

using internal::FromJsonList;
using internal::Statement;
using internal::ToJsonList;

namespace {

constexpr const char* kGlossarySchema = R"sql(
CREATE TABLE IF NOT EXISTS glossary_terms (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  definition TEXT NOT NULL,
  owners TEXT NOT NULL DEFAULT '[]',
  synonyms TEXT NOT NULL DEFAULT '[]',
  url TEXT NOT NULL DEFAULT '',
  related TEXT NOT NULL DEFAULT '[]',
  applied_at TEXT);
CREATE TABLE IF NOT EXISTS column_terms (
  product_id TEXT NOT NULL,
  port TEXT NOT NULL,
  major INTEGER NOT NULL,
  column_name TEXT NOT NULL,
  term_id TEXT NOT NULL,
  link TEXT NOT NULL,
  PRIMARY KEY (product_id, port, major, column_name, term_id));
CREATE INDEX IF NOT EXISTS column_terms_by_term ON column_terms (term_id);
)sql";

constexpr const char* kTermColumns =
    "id, name, definition, owners, synonyms, url, related, coalesce(applied_at, '')";

GlossaryTermRecord ReadTerm(const Statement& s) {
  return GlossaryTermRecord{s.Text(0),
                            s.Text(1),
                            s.Text(2),
                            FromJsonList(s.Text(3)),
                            FromJsonList(s.Text(4)),
                            s.Text(5),
                            FromJsonList(s.Text(6)),
                            s.Text(7)};
}

/// Replaces the links of one port major's columns.
Status WriteColumnTerms(internal::SqliteDb& db, const spec::GlossaryIndex& glossary,
                        const std::string& product_id, const std::string& port, int major,
                        const spec::SchemaObject* table) {
  PLEXUS_ASSIGN_OR_RETURN(auto clear, db.Prepare(
      "DELETE FROM column_terms WHERE product_id = ? AND port = ? AND major = ?"));
  PLEXUS_RETURN_IF_ERROR(clear->Bind(1, product_id).Bind(2, port).Bind(3, int64_t{major}).Run());
  if (table == nullptr) return Status::OK();
  for (const spec::Property& property : table->properties) {
    for (const spec::GlossaryLink& link : glossary.LinksOf(property)) {
      PLEXUS_ASSIGN_OR_RETURN(auto put, db.Prepare(
          "INSERT OR REPLACE INTO column_terms VALUES (?, ?, ?, ?, ?, ?)"));
      PLEXUS_RETURN_IF_ERROR(put->Bind(1, product_id).Bind(2, port).Bind(3, int64_t{major})
                                 .Bind(4, property.name).Bind(5, link.term_id)
                                 .Bind(6, link.link).Run());
    }
  }
  return Status::OK();
}

}  // namespace

Status Catalog::CreateGlossaryTables() { return db_->Execute(kGlossarySchema); }

Status Catalog::ApplyGlossary(const spec::Mesh& mesh, const std::string& now) {
  PLEXUS_RETURN_IF_ERROR(db_->Execute("DELETE FROM glossary_terms"));
  for (const spec::GlossaryTerm& term : mesh.glossary) {
    PLEXUS_ASSIGN_OR_RETURN(auto put, db_->Prepare(
        "INSERT OR REPLACE INTO glossary_terms VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    PLEXUS_RETURN_IF_ERROR(put->Bind(1, term.id).Bind(2, term.name).Bind(3, term.definition)
                               .Bind(4, ToJsonList(term.owners))
                               .Bind(5, ToJsonList(term.synonyms)).Bind(6, term.url)
                               .Bind(7, ToJsonList(term.related)).Bind(8, now).Run());
  }
  spec::GlossaryIndex glossary(mesh.glossary);
  for (const spec::Domain& domain : mesh.domains) {
    for (const spec::ProductBundle& bundle : domain.products) {
      for (const spec::OutputPort& out : bundle.product.output_ports) {
        auto contract = bundle.contracts.find(out.contract_id);
        const spec::SchemaObject* table = contract == bundle.contracts.end()
                                              ? nullptr
                                              : internal::TableOf(contract->second, out.name);
        PLEXUS_RETURN_IF_ERROR(WriteColumnTerms(*db_, glossary, bundle.product.id, out.name,
                                                MajorOf(out.version), table));
      }
    }
  }
  return db_->Execute(
      "DELETE FROM column_terms WHERE term_id NOT IN (SELECT id FROM glossary_terms)");
}

Result<std::vector<GlossaryTermRecord>> Catalog::ListGlossaryTerms() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string("SELECT ") + kTermColumns +
                                                  " FROM glossary_terms ORDER BY id"));
  std::vector<GlossaryTermRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadTerm(*stmt));
  }
  return out;
}

Result<GlossaryTermRecord> Catalog::GetGlossaryTerm(const std::string& id) const {
  std::lock_guard lock(mu_);
  // SQLite's lower() folds ASCII only, like AsciiLower: names compare the same on both sides.
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string("SELECT ") + kTermColumns +
      " FROM glossary_terms WHERE id = ?1 OR lower(name) = ?2 ORDER BY id = ?1 DESC, id LIMIT 1"));
  stmt->Bind(1, id).Bind(2, AsciiLower(id));
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("unknown glossary term " + id + " (see plexus glossary)");
  return ReadTerm(*stmt);
}

Result<std::vector<ColumnTermRecord>> Catalog::ListColumnTerms(const std::string& term_id) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT t.product_id, coalesce(p.domain || '.' || p.name, t.product_id), t.port, t.major, "
      "t.column_name, t.term_id, t.link FROM column_terms t "
      "LEFT JOIN products p ON p.id = t.product_id "
      "LEFT JOIN columns c ON c.product_id = t.product_id AND c.port = t.port AND "
      "c.major = t.major AND c.name = t.column_name "
      "WHERE ?1 = '' OR t.term_id = ?1 "
      "ORDER BY t.term_id, 2, t.port, t.major, coalesce(c.position, 0), t.column_name"));
  stmt->Bind(1, term_id);
  std::vector<ColumnTermRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ColumnTermRecord{stmt->Text(0), stmt->Text(1), stmt->Text(2),
                                   static_cast<int>(stmt->Int(3)), stmt->Text(4), stmt->Text(5),
                                   stmt->Text(6)});
  }
  return out;
}

}  // namespace plexus::catalog
