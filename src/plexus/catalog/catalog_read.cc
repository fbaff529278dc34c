// Catalog reads (products, ports, lineage) and the run/publication record.
#include <unordered_map>

#include "plexus/catalog/catalog.h"
#include "plexus/catalog/sqlite_db.h"

namespace plexus::catalog {

using internal::FromJsonList;
using internal::Statement;

namespace {

constexpr const char* kProductColumns =
    "id, domain, name, version, status, purpose, usage, tags, team_name, owners, dir, "
    "applied_at, source, pipeline, pipeline_file";

ProductRecord ReadProduct(const Statement& s) {
  ProductRecord p;
  p.id = s.Text(0);
  p.domain = s.Text(1);
  p.name = s.Text(2);
  p.version = s.Text(3);
  p.status = s.Text(4);
  p.purpose = s.Text(5);
  p.usage = s.Text(6);
  p.tags = FromJsonList(s.Text(7));
  p.team_name = s.Text(8);
  p.owners = FromJsonList(s.Text(9));
  p.dir = s.Text(10);
  p.applied_at = s.Text(11);
  p.source_text = s.Text(12);
  p.pipeline_text = s.Text(13);
  p.pipeline_file = s.Text(14);
  return p;
}

constexpr const char* kPortQuery =
    "SELECT o.product_id, p.domain, p.name, o.name, o.description, o.version, o.major, "
    "o.contract_id, o.contract_version, o.status, coalesce(pub.rows, -1), "
    "coalesce(pub.published_at, ''), coalesce(o.visibility, 'restricted'), "
    "coalesce(o.row_filter, ''), coalesce(o.row_filter_exempt, '') FROM output_ports o JOIN products p ON p.id = o.product_id "
    "LEFT JOIN publications pub ON pub.product_id = o.product_id AND pub.port = o.name AND "
    "pub.major = o.major ";

/// The glossary terms of a column, as LoadPorts reads them: ids separated by char(31).
std::vector<std::string> SplitTerms(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\x1f', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

OutputPortRecord ReadPort(const Statement& s) {
  OutputPortRecord o;
  o.product_id = s.Text(0);
  o.domain = s.Text(1);
  o.product = s.Text(2);
  o.name = s.Text(3);
  o.description = s.Text(4);
  o.version = s.Text(5);
  o.major = static_cast<int>(s.Int(6));
  o.contract_id = s.Text(7);
  o.contract_version = s.Text(8);
  o.status = s.Text(9);
  o.rows = s.Int(10);
  o.published_at = s.Text(11);
  o.visibility = s.Text(12).empty() ? "restricted" : s.Text(12);
  o.row_filter = s.Text(13);
  o.row_filter_exempt = FromJsonList(s.Text(14));
  return o;
}

/// A column's own fields from `columns c`, as ReadColumn reads them; its glossary terms follow
/// (kColumnTerms, or '' for none).
constexpr const char* kColumnOwnFields =
    "c.name, c.logical_type, c.physical_type, c.engine_type, c.required, c.primary_key, "
    "c.is_unique, c.classification, c.description, c.business_name, coalesce(c.mask, ''), "
    "coalesce(c.mask_clear_for, ''), ";
constexpr const char* kColumnTerms =
    "(SELECT group_concat(linked.term_id, char(31)) FROM "
    "(SELECT term_id FROM column_terms t WHERE t.product_id = c.product_id AND "
    "t.port = c.port AND t.major = c.major AND t.column_name = c.name ORDER BY term_id) linked)";

/// The column kColumnOwnFields and its terms selected, starting at field `at`.
ColumnRecord ReadColumn(const Statement& c, int at) {
  return ColumnRecord{c.Text(at), c.Text(at + 1), c.Text(at + 2), c.Text(at + 3),
                      c.Int(at + 4) != 0, c.Int(at + 5) != 0, c.Int(at + 6) != 0,
                      c.Text(at + 7), c.Text(at + 8), c.Text(at + 9), c.Text(at + 10),
                      FromJsonList(c.Text(at + 11)), SplitTerms(c.Text(at + 12))};
}

/// An input port's fields with the upstream port it reads, as ReadInput reads them, from
/// kInputSource.
constexpr const char* kInputFields =
    "i.name, i.version, i.contract_id, coalesce(o.product_id, ''), coalesce(p.domain, ''), "
    "coalesce(p.name, ''), coalesce(o.name, '')";
constexpr const char* kInputSource =
    " FROM input_ports i LEFT JOIN output_ports o ON o.contract_id = i.contract_id "
    "LEFT JOIN products p ON p.id = o.product_id ";

/// The input port kInputFields selected, starting at field `at`.
InputPortRecord ReadInput(const Statement& s, int at) {
  return InputPortRecord{s.Text(at),     s.Text(at + 1), s.Text(at + 2), s.Text(at + 3),
                         s.Text(at + 4), s.Text(at + 5), s.Text(at + 6)};
}

}  // namespace

Status Catalog::LoadPorts(ProductRecord& product) const {
  PLEXUS_ASSIGN_OR_RETURN(auto ports, db_->Prepare(std::string(kPortQuery) +
                                                   "WHERE o.product_id = ? ORDER BY o.name, o.major"));
  ports->Bind(1, product.id);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, ports->Step());
    if (!row) break;
    OutputPortRecord port = ReadPort(*ports);
    PLEXUS_ASSIGN_OR_RETURN(auto col_stmt, db_->Prepare(
        std::string("SELECT ") + kColumnOwnFields + kColumnTerms +
        " FROM columns c WHERE product_id = ? AND port = ? AND major = ? ORDER BY position"));
    auto& c = *col_stmt;
    c.Bind(1, port.product_id).Bind(2, port.name).Bind(3, int64_t{port.major});
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(bool crow, c.Step());
      if (!crow) break;
      port.columns.push_back(ReadColumn(c, 0));
    }
    product.outputs.push_back(std::move(port));
  }
  PLEXUS_RETURN_IF_ERROR(LoadLifecycle(product));
  PLEXUS_ASSIGN_OR_RETURN(auto inputs, db_->Prepare(
      std::string("SELECT ") + kInputFields + kInputSource +
      "WHERE i.product_id = ? GROUP BY i.name, i.contract_id ORDER BY i.name"));
  inputs->Bind(1, product.id);
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, inputs->Step());
    if (!row) break;
    product.inputs.push_back(ReadInput(*inputs, 0));
  }
  return Status::OK();
}

namespace {

/// Where ListProducts puts a port's rows: product \x1f port \x1f major -> the port.
using PortIndex = std::unordered_map<std::string, OutputPortRecord*>;

std::string PortKey(const std::string& product, const std::string& port, int64_t major) {
  return product + '\x1f' + port + '\x1f' + std::to_string(major);
}

/// Every port's lifecycle, into the ports of `ports`, in one pass.
Status ReadAllLifecycles(internal::SqliteDb& db, const PortIndex& ports) {
  PLEXUS_ASSIGN_OR_RETURN(auto lifecycle, db.Prepare(
      "SELECT product_id, port, major, coalesce(end_of_support, ''), coalesce(end_of_life, '') "
      "FROM port_versions"));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, lifecycle->Step());
    if (!row) return Status::OK();
    auto at = ports.find(PortKey(lifecycle->Text(0), lifecycle->Text(1), lifecycle->Int(2)));
    if (at == ports.end()) continue;
    at->second->end_of_support = lifecycle->Text(3);
    at->second->end_of_life = lifecycle->Text(4);
  }
}

/// Every product's ports (ordered by name and major) and their lifecycle, in one pass each.
Status ReadAllPorts(internal::SqliteDb& db, std::vector<ProductRecord>& products,
                    const std::unordered_map<std::string, size_t>& product_at, PortIndex& ports) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Prepare(std::string(kPortQuery) +
                                                "ORDER BY o.product_id, o.name, o.major"));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    auto at = product_at.find(stmt->Text(0));
    if (at != product_at.end()) products[at->second].outputs.push_back(ReadPort(*stmt));
  }
  for (auto& product : products) {
    for (auto& port : product.outputs) {
      ports[PortKey(port.product_id, port.name, port.major)] = &port;
    }
  }
  return ReadAllLifecycles(db, ports);
}

/// One of the counters triggers move (catalog.cc, CreateGenerationTriggers): columns_generation
/// (every change of a column) or access_generation (what the access policy reads but
/// publications and columns).
Result<int64_t> ReadCounter(internal::SqliteDb& db, const char* key) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db.Cached(
      "SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?"));
  stmt->Bind(1, std::string_view(key));
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Internal(std::string("the catalog has no ") + key);
  return stmt->Int(0);
}

Result<int64_t> ReadColumnsGeneration(internal::SqliteDb& db) {
  return ReadCounter(db, "columns_generation");
}

/// Every port's columns, by position, in one pass.
Status ReadAllColumns(internal::SqliteDb& db, const PortIndex& ports) {
  PLEXUS_ASSIGN_OR_RETURN(auto c, db.Prepare(
      std::string("SELECT c.product_id, c.port, c.major, ") + kColumnOwnFields + kColumnTerms +
      " FROM columns c ORDER BY c.product_id, c.port, c.major, c.position"));
  std::string last_key;
  OutputPortRecord* port = nullptr;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, c->Step());
    if (!row) return Status::OK();
    std::string key = PortKey(c->Text(0), c->Text(1), c->Int(2));
    if (key != last_key) {
      auto at = ports.find(key);
      port = at == ports.end() ? nullptr : at->second;
      last_key = std::move(key);
    }
    if (port == nullptr) continue;
    port->columns.push_back(ReadColumn(*c, 3));
  }
}

/// Every product's input ports, by name, with the upstream port each reads.
Status ReadAllInputs(internal::SqliteDb& db, std::vector<ProductRecord>& products,
                     const std::unordered_map<std::string, size_t>& product_at) {
  PLEXUS_ASSIGN_OR_RETURN(auto in, db.Prepare(
      std::string("SELECT i.product_id, ") + kInputFields + kInputSource +
      "GROUP BY i.product_id, i.name, i.contract_id ORDER BY i.product_id, i.name, i.contract_id"));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, in->Step());
    if (!row) return Status::OK();
    auto at = product_at.find(in->Text(0));
    if (at == product_at.end()) continue;
    products[at->second].inputs.push_back(ReadInput(*in, 1));
  }
}

/// Up to `limit` products after (domain, name) `after_*`, in that order, with their ports
/// (publication and lifecycle) but no columns: a batch of ForEachProductSummary.
Result<std::vector<ProductRecord>> ReadSummaries(internal::SqliteDb& db,
                                                 const std::string& after_domain,
                                                 const std::string& after_name, int64_t limit) {
  PLEXUS_ASSIGN_OR_RETURN(auto products, db.Cached(
      std::string("SELECT ") + kProductColumns +
      " FROM products WHERE (domain, name) > (?1, ?2) ORDER BY domain, name LIMIT ?3"));
  products->Bind(1, after_domain).Bind(2, after_name).Bind(3, limit);
  std::vector<ProductRecord> batch;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, products->Step());
    if (!row) break;
    batch.push_back(ReadProduct(*products));
  }
  PLEXUS_ASSIGN_OR_RETURN(auto ports, db.Cached(
      std::string(kPortQuery) + "WHERE o.product_id = ? ORDER BY o.name, o.major"));
  PLEXUS_ASSIGN_OR_RETURN(auto lifecycle, db.Cached(
      "SELECT coalesce(end_of_support, ''), coalesce(end_of_life, '') FROM port_versions "
      "WHERE product_id = ? AND port = ? AND major = ?"));
  for (auto& product : batch) {
    ports->Reset();
    ports->Bind(1, product.id);
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(bool row, ports->Step());
      if (!row) break;
      OutputPortRecord port = ReadPort(*ports);
      lifecycle->Reset();
      lifecycle->Bind(1, port.product_id).Bind(2, port.name).Bind(3, int64_t{port.major});
      PLEXUS_ASSIGN_OR_RETURN(bool known, lifecycle->Step());
      if (known) {
        port.end_of_support = lifecycle->Text(0);
        port.end_of_life = lifecycle->Text(1);
      }
      product.outputs.push_back(std::move(port));
    }
  }
  return batch;
}

}  // namespace

Result<std::vector<ProductRecord>> Catalog::ListProducts() const {
  return ReadProducts(/*columns=*/true);
}

Result<std::vector<ProductRecord>> Catalog::ListProductsWithoutColumns() const {
  return ReadProducts(/*columns=*/false);
}

Result<std::vector<ProductRecord>> Catalog::ReadProducts(bool columns) const {
  std::lock_guard lock(mu_);
  internal::Transaction read(db_.get());  // products, ports and inputs of one catalog state
  PLEXUS_RETURN_IF_ERROR(read.BeginRead());
  // Each table read once, in order, its rows handed to their product or port: a statement per
  // product and per port took a minute at 100,000 products.
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string("SELECT ") + kProductColumns +
                                                  " FROM products ORDER BY domain, name"));
  std::vector<ProductRecord> out;
  std::unordered_map<std::string, size_t> product_at;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadProduct(*stmt));
    product_at.emplace(out.back().id, out.size() - 1);
  }
  PortIndex ports;
  PLEXUS_RETURN_IF_ERROR(ReadAllPorts(*db_, out, product_at, ports));
  if (columns) PLEXUS_RETURN_IF_ERROR(ReadAllColumns(*db_, ports));
  PLEXUS_RETURN_IF_ERROR(ReadAllInputs(*db_, out, product_at));
  return out;
}

Status Catalog::ForEachProductSummary(const std::function<bool(ProductRecord&&)>& each) const {
  constexpr int64_t kBatch = 256;
  std::string after_domain, after_name;  // ("", "") sorts before every product
  while (true) {
    std::vector<ProductRecord> batch;
    {
      std::lock_guard lock(mu_);
      PLEXUS_ASSIGN_OR_RETURN(batch, ReadSummaries(*db_, after_domain, after_name, kBatch));
    }
    if (batch.empty()) return Status::OK();
    after_domain = batch.back().domain;
    after_name = batch.back().name;
    for (auto& product : batch) {
      if (!each(std::move(product))) return Status::OK();
    }
    if (static_cast<int64_t>(batch.size()) < kBatch) return Status::OK();
  }
}

Result<ProductRecord> Catalog::GetProduct(std::string_view ref) const {
  std::lock_guard lock(mu_);
  // By id, then as domain.product split at each dot: index lookups. Comparing
  // domain || '.' || name read every product (0.3 s at 100,000).
  auto whole = [this](internal::Statement& found) -> Result<ProductRecord> {
    ProductRecord product = ReadProduct(found);
    PLEXUS_RETURN_IF_ERROR(LoadPorts(product));
    return product;
  };
  PLEXUS_ASSIGN_OR_RETURN(auto by_id, db_->Cached(std::string("SELECT ") + kProductColumns +
                                                  " FROM products WHERE id = ?"));
  by_id->Bind(1, ref);
  PLEXUS_ASSIGN_OR_RETURN(bool row, by_id->Step());
  if (row) return whole(*by_id);
  PLEXUS_ASSIGN_OR_RETURN(auto by_name, db_->Cached(std::string("SELECT ") + kProductColumns +
                                                    " FROM products WHERE domain = ? AND name = ?"));
  for (size_t dot = ref.find('.'); dot != std::string_view::npos; dot = ref.find('.', dot + 1)) {
    by_name->Reset();
    by_name->Bind(1, ref.substr(0, dot)).Bind(2, ref.substr(dot + 1));
    PLEXUS_ASSIGN_OR_RETURN(row, by_name->Step());
    if (row) return whole(*by_name);
  }
  return NotFound("no product " + std::string(ref) +
                  " (name it as domain.product, or by its id; see plexus products)");
}

Result<std::vector<OutputPortRecord>> Catalog::ListOutputPorts() const {
  PLEXUS_ASSIGN_OR_RETURN(auto products, ListProducts());
  std::vector<OutputPortRecord> out;
  for (auto& product : products) {
    for (auto& port : product.outputs) out.push_back(std::move(port));
  }
  return out;
}

Result<PortListing> Catalog::ListOutputPortSummaries() const {
  std::lock_guard lock(mu_);
  internal::Transaction read(db_.get());
  PLEXUS_RETURN_IF_ERROR(read.BeginRead());
  PortListing listing;
  PLEXUS_ASSIGN_OR_RETURN(listing.columns_generation, ReadColumnsGeneration(*db_));
  PLEXUS_ASSIGN_OR_RETURN(listing.access_generation, ReadCounter(*db_, "access_generation"));
  {
    PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kPortQuery) +
                                                    "ORDER BY o.product_id, o.name, o.major"));
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      listing.ports.push_back(ReadPort(*stmt));
    }
  }
  PortIndex ports;
  for (auto& port : listing.ports) ports[PortKey(port.product_id, port.name, port.major)] = &port;
  PLEXUS_RETURN_IF_ERROR(ReadAllLifecycles(*db_, ports));
  PLEXUS_RETURN_IF_ERROR(read.Commit());
  return listing;
}

Result<PublicationListing> Catalog::ListPublications() const {
  std::lock_guard lock(mu_);
  internal::Transaction read(db_.get());
  PLEXUS_RETURN_IF_ERROR(read.BeginRead());
  PublicationListing listing;
  PLEXUS_ASSIGN_OR_RETURN(listing.columns_generation, ReadColumnsGeneration(*db_));
  PLEXUS_ASSIGN_OR_RETURN(listing.access_generation, ReadCounter(*db_, "access_generation"));
  {
    PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Cached(
        "SELECT product_id, port, major, coalesce(rows, -1) FROM publications "
        "ORDER BY product_id, port, major"));  // the primary key's order: no sort
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      listing.publications.push_back(
          {stmt->Text(0), stmt->Text(1), static_cast<int>(stmt->Int(2)), stmt->Int(3)});
    }
  }
  PLEXUS_RETURN_IF_ERROR(read.Commit());
  return listing;
}

Result<PortColumns> Catalog::ReadPortColumns(const std::string& product_id,
                                             const std::string& port, int major) const {
  std::lock_guard lock(mu_);
  internal::Transaction read(db_.get());
  PLEXUS_RETURN_IF_ERROR(read.BeginRead());
  PortColumns out;
  PLEXUS_ASSIGN_OR_RETURN(out.columns_generation, ReadColumnsGeneration(*db_));
  {
    PLEXUS_ASSIGN_OR_RETURN(auto c, db_->Cached(
        std::string("SELECT ") + kColumnOwnFields +
        "'' FROM columns c WHERE product_id = ? AND port = ? AND major = ? ORDER BY position"));
    c->Bind(1, product_id).Bind(2, port).Bind(3, int64_t{major});
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(bool row, c->Step());
      if (!row) break;
      out.columns.push_back(ReadColumn(*c, 0));
    }
  }
  PLEXUS_RETURN_IF_ERROR(read.Commit());
  return out;
}

Result<std::vector<LineageEdge>> Catalog::ListLineage() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT DISTINCT up.domain || '.' || up.name, o.name, down.domain || '.' || down.name, "
      "i.name FROM input_ports i JOIN products down ON down.id = i.product_id "
      "JOIN output_ports o ON o.contract_id = i.contract_id "
      "JOIN products up ON up.id = o.product_id ORDER BY 1, 3"));
  std::vector<LineageEdge> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(LineageEdge{stmt->Text(0), stmt->Text(1), stmt->Text(2), stmt->Text(3)});
  }
  return out;
}

Result<int64_t> Catalog::StartRun(const std::string& product_id, const std::string& trigger,
                                  int attempt) {
  int64_t run_id = 0;
  {
    std::lock_guard lock(mu_);
    PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "INSERT INTO runs (product_id, started_at, status, rows, triggered_by, attempt) "
        "VALUES (?, ?, 'running', 0, ?, ?)"));
    PLEXUS_RETURN_IF_ERROR(stmt->Bind(1, product_id).Bind(2, NowUtc()).Bind(3, trigger)
                               .Bind(4, int64_t{attempt}).Run());
    run_id = db_->LastInsertId();
  }
  std::shared_ptr<RunObserver> observer;
  {
    std::lock_guard lock(observer_mu_);
    observer = observer_;
  }
  if (observer) observer->RunStarted(run_id, product_id, trigger);
  return run_id;
}

Status Catalog::FinishRun(int64_t run_id, const std::string& status, const std::string& reason,
                          int64_t rows) {
  std::string product_id;
  {
    std::lock_guard lock(mu_);
    PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "UPDATE runs SET finished_at = ?, status = ?, reason = ?, rows = ? WHERE id = ? "
        "RETURNING product_id"));
    stmt->Bind(1, NowUtc()).Bind(2, status).Bind(3, reason).Bind(4, rows).Bind(5, run_id);
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) product_id = stmt->Text(0);
    if (row) PLEXUS_RETURN_IF_ERROR(stmt->Run());  // the statement runs to its end
  }
  std::shared_ptr<RunObserver> observer;
  {
    std::lock_guard lock(observer_mu_);
    observer = observer_;
  }
  if (observer && !product_id.empty()) observer->RunFinished(run_id, product_id, status);
  return Status::OK();
}

void Catalog::SetRunObserver(std::shared_ptr<RunObserver> observer) {
  std::lock_guard lock(observer_mu_);
  observer_ = std::move(observer);
}

namespace {

constexpr const char* kRunColumns =
    "SELECT r.id, r.product_id, coalesce(p.domain || '.' || p.name, r.product_id), "
    "r.started_at, coalesce(r.finished_at, ''), r.status, coalesce(r.reason, ''), "
    "coalesce(r.rows, 0), r.triggered_by, r.attempt "
    "FROM runs r LEFT JOIN products p ON p.id = r.product_id ";

/// Reads every row of a statement that selects kRunColumns.
Result<std::vector<RunRecord>> ReadRuns(internal::Statement& stmt) {
  std::vector<RunRecord> out;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(RunRecord{stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Text(3),
                            stmt.Text(4), stmt.Text(5), stmt.Text(6), stmt.Int(7),
                            stmt.Text(8), stmt.Int(9)});
  }
  return out;
}

}  // namespace

Result<std::vector<RunRecord>> Catalog::ListRuns(const std::string& product_id, int limit) const {
  RunQuery query;
  if (!product_id.empty()) query.products = std::set<std::string>{product_id};
  query.limit = limit;
  return ListRuns(query);
}

Result<std::vector<RunRecord>> Catalog::ListRuns(const RunQuery& query) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string(kRunColumns) +
      "WHERE (?1 IS NULL OR r.product_id IN (SELECT value FROM json_each(?1))) "
      "AND (?2 = '' OR r.started_at >= ?2) ORDER BY r.id DESC LIMIT ?3 OFFSET ?4"));
  if (query.products) {
    stmt->Bind(1, internal::ToJsonList({query.products->begin(), query.products->end()}));
  } else {
    stmt->BindNull(1);
  }
  stmt->Bind(2, query.since).Bind(3, query.limit).Bind(4, query.offset);
  return ReadRuns(*stmt);
}

Result<RunRecord> Catalog::GetRun(int64_t run_id) const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kRunColumns) + "WHERE r.id = ?"));
  stmt->Bind(1, run_id);
  PLEXUS_ASSIGN_OR_RETURN(auto runs, ReadRuns(*stmt));
  if (runs.empty()) return NotFound("no run " + std::to_string(run_id));
  return std::move(runs.front());
}

Result<std::vector<RunRecord>> Catalog::LatestFinishedRuns() const {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      std::string(kRunColumns) +
      "WHERE r.id IN (SELECT max(id) FROM runs WHERE status != 'running' GROUP BY product_id) "
      "ORDER BY r.id DESC"));
  return ReadRuns(*stmt);
}

Status Catalog::RecordPublication(const OutputPortRecord& port, int64_t rows, int64_t run_id) {
  std::lock_guard lock(mu_);
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT OR REPLACE INTO publications VALUES (?, ?, ?, ?, ?, ?)"));
  return stmt->Bind(1, port.product_id).Bind(2, port.name).Bind(3, int64_t{port.major})
      .Bind(4, rows).Bind(5, run_id).Bind(6, NowUtc()).Run();
}

Result<std::pair<int64_t, int64_t>> Catalog::Generation() const {
  std::lock_guard lock(mu_);
  // A counter moved by triggers on every table a reader caches (catalog.cc), by any
  // connection: the audit trail and token use leave it alone.
  PLEXUS_ASSIGN_OR_RETURN(
      auto stmt, db_->Cached("SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'generation'"));
  PLEXUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return std::make_pair(row ? stmt->Int(0) : 0, int64_t{0});
}

}  // namespace plexus::catalog
