// Evaluating policies: the catalog's views loaded into an in-memory, hardened DuckDB (one
// table per view, appended row by row from the catalog's export), each policy's SQL checked by
// the access layer's guard against a resolver that knows the views only, prepared once per
// set of parameter values, and run; its rows become violations, exemptions applied, scores
// computed per policy and per domain.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <cstdlib>
#include <set>

#include "plexus/access/sql_guard.h"
#include "plexus/common/text.h"
#include "plexus/engine/engine.h"
#include "plexus/governance/governance.h"

namespace plexus::governance {

namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// Resolves the views' names, and nothing else: policy SQL reads the catalog views only.
class ViewResolver : public access::RelationResolver {
 public:
  Result<access::ResolvedRelation> Resolve(const access::TableName& name) const override {
    std::string table = AsciiLower(name.table);
    auto names = Evaluator::ViewNames();
    bool known = name.catalog.empty() && name.schema.empty() &&
                 std::find(names.begin(), names.end(), table) != names.end();
    if (!known) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      return PermissionDenied("policy SQL reads the catalog views only, and " + name.ToString() +
                              " is not one of them (" + list + ")");
    }
    return access::ResolvedRelation{"memory", "main", table, table, "", "", nullptr};
  }
};

/// Appends the exported rows to one table per view, a chunk at a time.
class TableLoader : public catalog::ViewSink {
 public:
  explicit TableLoader(engine::Connection& conn) : conn_(conn) {}

  Status BeginView(const catalog::GovernanceView& view) override {
    using Type = engine::ChunkAppender::Type;
    std::string ddl = "CREATE TABLE " + engine::QuoteIdentifier(view.name) + " (";
    types_.clear();
    for (size_t i = 0; i < view.columns.size(); ++i) {
      std::string_view type = view.columns[i].type;
      ddl += (i ? ", " : "") + engine::QuoteIdentifier(view.columns[i].name) + " " +
             std::string(type);
      types_.push_back(type == "BIGINT"    ? Type::kBigint
                       : type == "BOOLEAN" ? Type::kBoolean
                       : type == "DOUBLE"  ? Type::kDouble
                                           : Type::kVarchar);
    }
    PLEXUS_RETURN_IF_ERROR(conn_.Execute(ddl + ")"));
    PLEXUS_ASSIGN_OR_RETURN(appender_, conn_.MakeChunkAppender(view.name, types_));
    return Status::OK();
  }

  Status Row(const catalog::ViewRow& row) override {
    using Type = engine::ChunkAppender::Type;
    for (size_t i = 0; i < types_.size(); ++i) {
      int c = static_cast<int>(i);
      if (row.IsNull(c)) {
        appender_->SetNull(i);
        continue;
      }
      switch (types_[i]) {
        case Type::kBigint: appender_->SetInt64(i, row.Int(c)); break;
        case Type::kBoolean: appender_->SetBool(i, row.Int(c) != 0); break;
        case Type::kDouble: appender_->SetDouble(i, row.Real(c)); break;
        case Type::kVarchar: appender_->SetText(i, row.Text(c)); break;
      }
    }
    return appender_->EndRow();
  }

  Status EndView(const catalog::GovernanceView&) override {
    Status s = appender_->Close();
    appender_.reset();
    return s;
  }

 private:
  engine::Connection& conn_;
  std::vector<engine::ChunkAppender::Type> types_;
  std::unique_ptr<engine::ChunkAppender> appender_;
};

/// Rows of one view copied out of the export, for the loading thread: values in one buffer.
struct RowBatch {
  const catalog::GovernanceView* begin = nullptr;  ///< set: a view starts (no rows)
  const catalog::GovernanceView* end = nullptr;    ///< set: the view ends (no rows)
  struct Cell {
    bool null = true;
    int64_t number = 0;
    double real = 0;
    size_t offset = 0;
    size_t size = 0;
  };
  size_t columns = 0;
  std::vector<Cell> cells;  ///< rows * columns
  std::string text;         ///< the texts, one after the other
};

/// A batch's row as the loader reads it.
class BatchRow : public catalog::ViewRow {
 public:
  BatchRow(const RowBatch& batch, size_t row) : batch_(batch), first_(row * batch.columns) {}
  bool IsNull(int c) const override { return cell(c).null; }
  int64_t Int(int c) const override { return cell(c).number; }
  double Real(int c) const override { return cell(c).real; }
  std::string_view Text(int c) const override {
    return std::string_view(batch_.text).substr(cell(c).offset, cell(c).size);
  }

 private:
  const RowBatch::Cell& cell(int c) const { return batch_.cells[first_ + static_cast<size_t>(c)]; }
  const RowBatch& batch_;
  size_t first_;
};

/// The export's side of the pipeline: copies rows into batches and hands them over through a
/// bounded queue (the loading thread appends one batch while the next is read from SQLite).
class BatchQueue : public catalog::ViewSink {
 public:
  static constexpr size_t kRows = 2048;
  static constexpr size_t kQueued = 8;

  Status BeginView(const catalog::GovernanceView& view) override {
    types_.clear();
    for (const auto& c : view.columns) types_.push_back(std::string_view(c.type));
    RowBatch begin;
    begin.begin = &view;
    Push(std::move(begin));
    Fresh();
    return Status::OK();
  }
  Status Row(const catalog::ViewRow& row) override {
    for (size_t i = 0; i < types_.size(); ++i) {
      int c = static_cast<int>(i);
      RowBatch::Cell cell;
      cell.null = row.IsNull(c);
      if (!cell.null) {
        if (types_[i] == "VARCHAR") {
          std::string_view text = row.Text(c);
          cell.offset = batch_.text.size();
          cell.size = text.size();
          batch_.text.append(text);
        } else if (types_[i] == "DOUBLE") {
          cell.real = row.Real(c);
        } else {
          cell.number = row.Int(c);
        }
      }
      batch_.cells.push_back(cell);
    }
    if (batch_.cells.size() >= kRows * types_.size()) {
      Push(std::move(batch_));
      Fresh();
    }
    return Status::OK();
  }
  Status EndView(const catalog::GovernanceView& view) override {
    if (!batch_.cells.empty()) Push(std::move(batch_));
    RowBatch end;
    end.end = &view;
    Push(std::move(end));
    return Status::OK();
  }

  /// The producer is done (with `status`); Pop then returns nullopt once the queue is empty.
  void Finish(Status status) {
    std::lock_guard lock(mu_);
    done_ = true;
    status_ = std::move(status);
    ready_.notify_all();
  }
  /// The consumer stops early: the producer's pushes return at once.
  void Abandon() {
    std::lock_guard lock(mu_);
    abandoned_ = true;
    queue_.clear();
    space_.notify_all();
  }
  std::optional<RowBatch> Pop() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) return std::nullopt;
    RowBatch batch = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    return batch;
  }
  Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  void Fresh() {
    batch_ = RowBatch();
    batch_.columns = types_.size();
    batch_.cells.reserve(kRows * types_.size());
  }
  void Push(RowBatch batch) {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return queue_.size() < kQueued || abandoned_; });
    if (abandoned_) return;
    queue_.push_back(std::move(batch));
    ready_.notify_one();
  }

  std::vector<std::string_view> types_;
  RowBatch batch_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<RowBatch> queue_;
  bool done_ = false;
  bool abandoned_ = false;
  Status status_;
};

/// The parameter values a policy runs with for one group of domains: the policy's (mesh)
/// values overridden by a domain's.
using ParameterValues = std::map<std::string, spec::PolicyValue>;

std::string Key(const ParameterValues& values) {
  std::string key;
  for (const auto& [name, value] : values) key += name + "=" + value.ToString() + ";";
  return key;
}

std::string Where(const spec::Policy& p) {
  const auto& at = p.sql_location.line > 0 ? p.sql_location : p.location;
  if (at.line <= 0) return p.id;
  return p.id + " (" + at.file + ":" + std::to_string(at.line) + ")";
}

/// A UTC date-time (YYYY-MM-DDTHH:MM:SS[.fff]Z) as its second and the fraction of it: as text,
/// "12:00:00.500Z" sorts before "12:00:00Z" and "12:00:00.55Z" before "12:00:00.5Z".
std::pair<std::string, double> Instant(const std::string& t) {
  double fraction = 0;
  if (t.size() > 19 && t[19] == '.') {
    fraction = std::strtod(("0" + t.substr(19, t.find('Z', 19) - 19)).c_str(), nullptr);
  }
  return {t.substr(0, 19), fraction};
}

/// Whether an exemption's expiry is still ahead of `now` (a date covers its whole day).
bool InForce(const spec::Exemption& e, const std::string& now) {
  if (e.expires.size() == 10) return now.substr(0, 10) <= e.expires;
  return Instant(now) < Instant(e.expires);
}

/// True when the exemption's entity is `entity` or contains it (a domain or a product covers
/// what is under it).
bool Covers(const std::string& exempted, const std::string& entity) {
  return entity == exempted ||
         (entity.size() > exempted.size() && entity.compare(0, exempted.size(), exempted) == 0 &&
          entity[exempted.size()] == '.');
}

}  // namespace

struct Evaluator::State {
  std::unique_ptr<engine::Database> db;
  std::unique_ptr<engine::Connection> conn;
  std::unique_ptr<engine::Connection> parser;
  std::unique_ptr<access::SqlGuard> guard;
  /// policy id -> parameter key -> prepared statement
  std::map<std::string, std::map<std::string, std::unique_ptr<engine::PreparedStatement>>> prepared;
  std::map<std::string, int64_t, std::less<>> products_by_domain;
  std::set<std::string, std::less<>> products;  ///< domain.product
  double load_ms = 0;

  /// The guarded, prepared statement of `policy` (checked on first use); binds `values`.
  Result<engine::PreparedStatement*> Prepare(const spec::Policy& policy,
                                             const ParameterValues& values) {
    auto& slot = prepared[policy.id][Key(values)];
    if (!slot) {
      auto guarded = guard->Check(policy.sql, ViewResolver());
      if (!guarded.ok()) {
        return InvalidArgument(guarded.status().message());
      }
      auto stmt = conn->Prepare(guarded->sql);
      if (!stmt.ok()) {
        return InvalidArgument(access::ConsumerErrorMessage(stmt.status().message()));
      }
      for (size_t i = 1; i <= (*stmt)->parameter_count(); ++i) {
        std::string name = (*stmt)->parameter_name(i);
        auto it = values.find(name);
        if (it == values.end()) {
          return InvalidArgument("it uses $" + name + ", which is not one of its parameters");
        }
        const spec::PolicyValue& v = it->second;
        Status bound;
        switch (v.kind) {
          case spec::PolicyValue::Kind::kNumber:
            bound = (*stmt)->BindDouble(i, v.number);
            break;
          case spec::PolicyValue::Kind::kBool:
            bound = (*stmt)->Bind(i, engine::ParameterValue::Bool(v.boolean));
            break;
          case spec::PolicyValue::Kind::kList:
            bound = (*stmt)->BindTextList(i, v.list);
            break;
          case spec::PolicyValue::Kind::kText:
            bound = (*stmt)->BindText(i, v.text);
            break;
        }
        if (!bound.ok()) return bound;
      }
      slot = std::move(stmt).value();
    }
    return slot.get();
  }

  /// Runs the policy's statement, naming the policy and where it is written on an error.
  Result<std::unique_ptr<engine::QueryResult>> RunNamed(const spec::Policy& policy,
                                                        const ParameterValues& values) {
    auto result = Run(policy, values);
    if (!result.ok()) {
      return Status(result.status().code(),
                    "policy " + Where(policy) + ": " + result.status().message());
    }
    return result;
  }

  /// Runs the policy's statement; its result must be (entity VARCHAR, message VARCHAR). The
  /// shape is known once parameters are bound, so it is checked on the result.
  Result<std::unique_ptr<engine::QueryResult>> Run(const spec::Policy& policy,
                                                   const ParameterValues& values) {
    PLEXUS_ASSIGN_OR_RETURN(engine::PreparedStatement * stmt, Prepare(policy, values));
    auto result = stmt->Execute();
    if (!result.ok()) {
      return InvalidArgument(access::ConsumerErrorMessage(result.status().message()));
    }
    const auto& columns = (*result)->columns();
    bool shape = columns.size() == 2 && AsciiLower(columns[0].name) == "entity" &&
                 AsciiLower(columns[1].name) == "message" && columns[0].type_name == "VARCHAR" &&
                 columns[1].type_name == "VARCHAR";
    if (!shape) {
      std::string got;
      for (const auto& c : columns) got += (got.empty() ? "" : ", ") + c.name + " " + c.type_name;
      return InvalidArgument("it must return two VARCHAR columns, entity and message; it "
                             "returns (" + got + ")");
    }
    return std::move(result).value();
  }
};

Status LoadViews(const std::function<Status(catalog::ViewSink&)>& read, engine::Connection& conn) {
  // The export (SQLite) runs on its own thread while this one appends (DuckDB): on two cores
  // the load takes about as long as the slower of the two.
  BatchQueue queue;
  std::thread producer([&] { queue.Finish(read(queue)); });
  TableLoader loader(conn);
  Status loaded;
  while (auto batch = queue.Pop()) {
    if (!loaded.ok()) continue;
    if (batch->begin != nullptr) {
      loaded = loader.BeginView(*batch->begin);
    } else if (batch->end != nullptr) {
      loaded = loader.EndView(*batch->end);
    } else {
      size_t rows = batch->columns == 0 ? 0 : batch->cells.size() / batch->columns;
      for (size_t row = 0; row < rows && loaded.ok(); ++row) {
        loaded = loader.Row(BatchRow(*batch, row));
      }
    }
    if (!loaded.ok()) queue.Abandon();
  }
  producer.join();
  PLEXUS_RETURN_IF_ERROR(loaded);
  PLEXUS_RETURN_IF_ERROR(queue.status());
  // The views computed in DuckDB, in order (each reads views before it), then the internal
  // tables they were computed from are dropped.
  for (const auto& view : catalog::GovernanceViews()) {
    if (view.derived == nullptr) continue;
    PLEXUS_RETURN_IF_ERROR(conn.Execute("CREATE TABLE " + engine::QuoteIdentifier(view.name) +
                                        " AS " + view.derived));
  }
  for (const auto& view : catalog::GovernanceViews()) {
    if (view.internal) {
      PLEXUS_RETURN_IF_ERROR(conn.Execute("DROP TABLE " + engine::QuoteIdentifier(view.name)));
    }
  }
  return Status::OK();
}

Evaluator::Evaluator(std::unique_ptr<State> state) : state_(std::move(state)) {}
Evaluator::~Evaluator() = default;

std::vector<std::string> Evaluator::ViewNames() {
  std::vector<std::string> names;
  for (const auto& view : catalog::GovernanceViews()) {
    if (!view.internal) names.push_back(view.name);
  }
  return names;
}

namespace {

engine::DatabaseOptions HardenedInMemory() {
  engine::DatabaseOptions options;
  options.hardened = true;
  return options;
}

Result<std::unique_ptr<Evaluator::State>> Open() {
  auto state = std::make_unique<Evaluator::State>();
  PLEXUS_ASSIGN_OR_RETURN(state->db, engine::Database::Open(HardenedInMemory()));
  PLEXUS_ASSIGN_OR_RETURN(state->conn, state->db->Connect());
  PLEXUS_ASSIGN_OR_RETURN(state->parser, state->db->Connect());
  return state;
}

/// Locks the database once the views are loaded and reads the products per domain.
Status Seal(Evaluator::State& state) {
  PLEXUS_RETURN_IF_ERROR(state.conn->LockConfiguration());
  state.guard = std::make_unique<access::SqlGuard>(state.parser.get());
  PLEXUS_ASSIGN_OR_RETURN(auto result,
                          state.conn->Query("SELECT domain, qualified_name FROM products"));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
    if (!chunk) break;
    for (size_t row = 0; row < chunk->size(); ++row) {
      ++state.products_by_domain[chunk->Text(0, row)];
      state.products.insert(chunk->Text(1, row));
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Evaluator>> Evaluator::Load(
    const std::function<Status(catalog::ViewSink&)>& read) {
  auto start = Clock::now();
  PLEXUS_ASSIGN_OR_RETURN(auto state, Open());
  PLEXUS_RETURN_IF_ERROR(LoadViews(read, *state->conn));
  PLEXUS_RETURN_IF_ERROR(Seal(*state));
  state->load_ms = MillisSince(start);
  return std::unique_ptr<Evaluator>(new Evaluator(std::move(state)));
}

Result<std::unique_ptr<Evaluator>> Evaluator::FromCatalog(const catalog::Catalog& catalog,
                                                          const std::string& now) {
  return Load([&](catalog::ViewSink& sink) { return catalog.ReadGovernanceViews(now, sink); });
}

Result<std::unique_ptr<Evaluator>> Evaluator::FromGate(catalog::ApplyGateContext& context,
                                                       const std::string& now) {
  return Load([&](catalog::ViewSink& sink) { return context.ReadViews(now, sink); });
}

Result<std::unique_ptr<Evaluator>> Evaluator::Empty() {
  PLEXUS_ASSIGN_OR_RETURN(auto state, Open());
  PLEXUS_RETURN_IF_ERROR(LoadViews(
      [](catalog::ViewSink& sink) {
        for (const auto& view : catalog::GovernanceViews()) {
          if (view.select == nullptr) continue;
          PLEXUS_RETURN_IF_ERROR(sink.BeginView(view));
          PLEXUS_RETURN_IF_ERROR(sink.EndView(view));
        }
        return Status::OK();
      },
      *state->conn));
  PLEXUS_RETURN_IF_ERROR(Seal(*state));
  return std::unique_ptr<Evaluator>(new Evaluator(std::move(state)));
}

namespace {

/// The parameter values of `policy` in `domain` (empty: the mesh's).
ParameterValues ValuesFor(const PolicySet& set, const spec::Policy& policy,
                          const std::string& domain) {
  ParameterValues values;
  for (const auto& p : policy.parameters) values[p.name] = p.default_value;
  if (domain.empty()) return values;
  auto d = set.domain_parameters.find(domain);
  if (d == set.domain_parameters.end()) return values;
  auto p = d->second.find(policy.id);
  if (p == d->second.end()) return values;
  for (const auto& [name, value] : p->second) values[name] = value;
  return values;
}

}  // namespace

Status Evaluator::Check(const PolicySet& set, const spec::Policy& policy) {
  PLEXUS_RETURN_IF_ERROR(state_->Run(policy, ValuesFor(set, policy, "")).status());
  for (const auto& [domain, _] : set.domain_parameters) {
    PLEXUS_RETURN_IF_ERROR(state_->Run(policy, ValuesFor(set, policy, domain)).status());
  }
  return Status::OK();
}

Status Evaluator::Compile(const PolicySet& set) {
  for (const auto& policy : set.policies) {
    Status checked = Check(set, policy);
    if (!checked.ok()) {
      return Status(checked.code(), "policy " + Where(policy) + ": " + checked.message());
    }
  }
  return Status::OK();
}

Result<Evaluation> Evaluator::Evaluate(const PolicySet& set, const std::string& now) {
  auto start = Clock::now();
  Evaluation out;
  out.at = now;
  out.load_ms = state_->load_ms;
  // Which domains run a policy with their own parameters: they are left out of the mesh's run.
  std::vector<std::string> domains;
  for (const auto& [domain, _] : state_->products_by_domain) domains.push_back(domain);

  // failing[policy][domain] = products with a violation that counts.
  std::map<std::string, std::map<std::string, std::set<std::string>>> failing;
  for (const auto& policy : set.policies) {
    if (!policy.enabled) continue;
    std::map<std::string, std::vector<std::string>> groups;  // parameter key -> domains
    std::map<std::string, ParameterValues> values_of;
    for (const auto& domain : domains) {
      if (policy.scope != "global" && policy.scope != domain) continue;
      ParameterValues values = ValuesFor(set, policy, domain);
      std::string key = Key(values);
      groups[key].push_back(domain);
      values_of[key] = std::move(values);
    }
    std::string mesh_key = Key(ValuesFor(set, policy, ""));
    values_of.emplace(mesh_key, ValuesFor(set, policy, ""));
    // The mesh's values always run for a global policy: they report the rows that name no
    // domain, also when every domain runs the policy with values of its own.
    if (policy.scope == "global" || groups.empty()) groups[mesh_key];
    // The exemptions of this policy in force now (none when it is not exemptible).
    std::vector<const spec::Exemption*> exemptions;
    if (policy.exemptible) {
      for (const auto& e : set.exemptions) {
        if (e.policy == policy.id && InForce(e, now)) exemptions.push_back(&e);
      }
    }
    auto& policy_failing = failing[policy.id];
    size_t first = out.violations.size();
    for (const auto& [key, group] : groups) {
      // With one group, the mesh's, every row is this run's; else a row belongs to the group
      // of its domain (rows naming no domain to the mesh's group).
      bool every_row = groups.size() == 1 && key == mesh_key;
      std::set<std::string_view> members(group.begin(), group.end());
      PLEXUS_ASSIGN_OR_RETURN(auto result, state_->RunNamed(policy, values_of[key]));
      while (true) {
        PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
        if (!chunk) break;
        for (size_t row = 0; row < chunk->size(); ++row) {
          Violation v;
          v.entity = chunk->IsNull(0, row) ? "" : chunk->Text(0, row);
          std::string_view entity = v.entity;
          size_t dot = entity.find('.');
          std::string_view domain = entity.substr(0, dot);
          if (!state_->products_by_domain.count(domain)) domain = {};
          if (!every_row && !(domain.empty() ? key == mesh_key : members.count(domain) != 0)) {
            continue;
          }
          if (policy.scope != "global" && domain != policy.scope) continue;
          v.policy = policy.id;
          v.severity = policy.severity;
          v.message = chunk->IsNull(1, row) ? "" : chunk->Text(1, row);
          v.domain = domain;
          if (dot != std::string_view::npos) {
            std::string_view product = entity.substr(0, entity.find('.', dot + 1));
            if (state_->products.count(product)) v.product = product;
          }
          for (const spec::Exemption* e : exemptions) {
            if (Covers(e->entity, v.entity)) {
              v.exemption = e->justification + " (approved by " + e->approved_by + ")";
              v.exemption_expires = e->expires;
              break;
            }
          }
          v.quarantine = policy.quarantine && v.exemption.empty() && !v.product.empty();
          if (v.exemption.empty() && !v.domain.empty()) {
            // A violation on a domain fails every product of it.
            policy_failing[v.domain].insert(v.product.empty() ? "*" : v.product);
          }
          out.violations.push_back(std::move(v));
        }
      }
    }
    // Policies come in id order: sorting each one's rows orders them all.
    std::sort(out.violations.begin() + static_cast<std::ptrdiff_t>(first), out.violations.end(),
              [](const Violation& a, const Violation& b) {
                return std::tie(a.entity, a.message) < std::tie(b.entity, b.message);
              });
  }

  // Scores: per policy and domain, the share of the domain's products without a violation that
  // counts. A domain's score is the mean of its policies' shares weighed by severity; the
  // mesh's weighs them by severity and by the domains' products.
  std::map<std::string, std::pair<double, double>> domain_sums;  // weighted shares, weights
  double mesh_weighted = 0, mesh_weights = 0;
  for (const auto& policy : set.policies) {
    if (!policy.enabled) continue;
    Standing& ps = out.policies[policy.id];
    for (const auto& [domain, products] : state_->products_by_domain) {
      if (policy.scope != "global" && policy.scope != domain) continue;
      const auto& fails = failing[policy.id][domain];
      int64_t failed = fails.count("*") ? products : static_cast<int64_t>(fails.size());
      ps.products += products;
      ps.failing += failed;
      double share = 1.0 - static_cast<double>(failed) / products;
      double weight = SeverityWeight(policy.severity);
      domain_sums[domain].first += share * weight;
      domain_sums[domain].second += weight;
      mesh_weighted += share * weight * products;
      mesh_weights += weight * products;
    }
    ps.score = ps.products == 0 ? 100.0 : 100.0 * (1.0 - static_cast<double>(ps.failing) / ps.products);
  }
  for (const auto& [domain, products] : state_->products_by_domain) {
    Standing& ds = out.domains[domain];
    ds.products = products;
    const auto& [weighted, weights] = domain_sums[domain];
    ds.score = weights == 0 ? 100.0 : 100.0 * weighted / weights;
  }
  std::map<std::string, std::set<std::string>> failing_products;  // domain -> products
  for (const auto& v : out.violations) {
    Standing* ds = v.domain.empty() ? nullptr : &out.domains[v.domain];
    Standing& ps = out.policies[v.policy];
    if (!v.exemption.empty()) {
      ++ps.exempted;
      ++out.mesh.exempted;
      if (ds) ++ds->exempted;
      continue;
    }
    auto bump = [&](Standing& s) {
      if (v.severity == "block") ++s.block;
      else if (v.severity == "warn") ++s.warn;
      else ++s.info;
    };
    bump(ps);
    bump(out.mesh);
    if (ds) {
      bump(*ds);
      failing_products[v.domain].insert(v.product.empty() ? "*" : v.product);
    }
  }
  for (auto& [domain, ds] : out.domains) {
    const auto& fails = failing_products[domain];
    ds.failing = fails.count("*") ? ds.products : static_cast<int64_t>(fails.size());
    out.mesh.products += ds.products;
    out.mesh.failing += ds.failing;
  }
  out.mesh.score = mesh_weights == 0 ? 100.0 : 100.0 * mesh_weighted / mesh_weights;
  out.run_ms = MillisSince(start);
  return out;
}

Result<PolicySet> LoadPolicies(const spec::Mesh& mesh, std::vector<spec::Diagnostic>* problems) {
  std::vector<spec::Diagnostic> local;
  std::vector<spec::Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  PLEXUS_ASSIGN_OR_RETURN(PolicySet set, ResolvePolicies(mesh, sink));
  PLEXUS_ASSIGN_OR_RETURN(auto evaluator, Evaluator::Empty());
  for (const auto& policy : set.policies) {
    Status compiled = evaluator->Check(set, policy);
    if (!compiled.ok()) {
      sink->push_back({policy.sql_location.line > 0 ? policy.sql_location : policy.location,
                       "policies." + policy.id + ".sql",
                       "policy " + policy.id + ": " + compiled.message()});
    }
  }
  PLEXUS_RETURN_IF_ERROR(spec::ProblemsStatus(*sink, first));
  return set;
}

}  // namespace plexus::governance
