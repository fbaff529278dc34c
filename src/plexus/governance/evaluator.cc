// Evaluating policies: the catalog's views loaded into an in-memory, hardened DuckDB (one
// table per view, view_loader.cc; only the views the policies read when the policy set is
// known), each policy's SQL checked by the access layer's guard against a resolver that knows
// the views only, prepared once per set of parameter values and connection; evaluate.cc runs
// them and scores the violations.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "plexus/common/text.h"
#include "plexus/governance/evaluator_internal.h"

namespace plexus::governance {

namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// Resolves the views' names, and nothing else: policy SQL reads the catalog views only.
class ViewResolver : public access::RelationResolver {
 public:
  /// `database`: the DuckDB database holding the views' tables.
  explicit ViewResolver(std::string database) : database_(std::move(database)) {}
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
    return access::ResolvedRelation{database_, "main", table, table, "", "", nullptr};
  }

 private:
  std::string database_;
};

/// A UTC date-time (YYYY-MM-DDTHH:MM:SS[.fff]Z) as its second and the fraction of it: as text,
/// "12:00:00.500Z" sorts before "12:00:00Z" and "12:00:00.55Z" before "12:00:00.5Z".
std::pair<std::string, double> Instant(const std::string& t) {
  double fraction = 0;
  if (t.size() > 19 && t[19] == '.') {
    fraction = std::strtod(("0" + t.substr(19, t.find('Z', 19) - 19)).c_str(), nullptr);
  }
  return {t.substr(0, 19), fraction};
}

bool IsView(const std::string& name) {
  for (const auto& view : catalog::GovernanceViews()) {
    if (name == view.name) return true;
  }
  return false;
}

Status Bind(engine::PreparedStatement& stmt, const internal::ParameterValues& values) {
  for (size_t i = 1; i <= stmt.parameter_count(); ++i) {
    std::string name = stmt.parameter_name(i);
    auto it = values.find(name);
    if (it == values.end()) {
      return InvalidArgument("it uses $" + name + ", which is not one of its parameters");
    }
    const spec::PolicyValue& v = it->second;
    switch (v.kind) {
      case spec::PolicyValue::Kind::kNumber:
        PLEXUS_RETURN_IF_ERROR(stmt.BindDouble(i, v.number));
        break;
      case spec::PolicyValue::Kind::kBool:
        PLEXUS_RETURN_IF_ERROR(stmt.Bind(i, engine::ParameterValue::Bool(v.boolean)));
        break;
      case spec::PolicyValue::Kind::kList:
        PLEXUS_RETURN_IF_ERROR(stmt.BindTextList(i, v.list));
        break;
      case spec::PolicyValue::Kind::kText:
        PLEXUS_RETURN_IF_ERROR(stmt.BindText(i, v.text));
        break;
    }
  }
  return Status::OK();
}

}  // namespace

namespace internal {

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

bool InForce(const spec::Exemption& e, const std::string& now) {
  if (e.expires.size() == 10) return now.substr(0, 10) <= e.expires;
  return Instant(now) < Instant(e.expires);
}

bool Covers(const std::string& exempted, std::string_view entity) {
  return entity == exempted ||
         (entity.size() > exempted.size() && entity.compare(0, exempted.size(), exempted) == 0 &&
          entity[exempted.size()] == '.');
}

std::set<std::string> ViewsRead(const PolicySet& set, Evaluator::State& state) {
  std::set<std::string> read = {"products"};
  for (const auto& policy : set.policies) {
    if (!policy.enabled) continue;
    auto guarded = state.Guard(policy);
    if (!guarded.ok()) return {};
    for (const auto& r : (*guarded)->relations) read.insert(AsciiLower(r));
  }
  // A computed view reads views before it: walking back, each one read adds those its SQL
  // names (a name too many only loads a view more).
  const auto& views = catalog::GovernanceViews();
  for (auto view = views.rbegin(); view != views.rend(); ++view) {
    if (view->derived == nullptr || !read.count(view->name)) continue;
    for (const auto& other : views) {
      if (&other != &*view && NamesWord(view->derived, other.name)) read.insert(other.name);
    }
  }
  return read;
}

}  // namespace internal

Result<const access::GuardedQuery*> Evaluator::State::Guard(const spec::Policy& policy) {
  auto found = guarded.find(policy.sql);
  if (found == guarded.end()) {
    auto checked = guard->Check(policy.sql, ViewResolver(catalog_name));
    if (!checked.ok()) return InvalidArgument(checked.status().message());
    found = guarded.emplace(policy.sql, std::move(checked).value()).first;
  }
  for (const auto& r : found->second.relations) {
    std::string view = AsciiLower(r);
    if (!loaded.empty() && !loaded.count(view) && IsView(view)) {
      return FailedPrecondition("it reads " + view + ", which this evaluation did not load "
                                "(the views were loaded for another policy set)");
    }
  }
  return &found->second;
}

Result<engine::PreparedStatement*> Evaluator::State::Prepare(
    internal::Runner& runner, const spec::Policy& policy, const internal::ParameterValues& values) {
  auto& slot = runner.prepared[policy.id][internal::Key(values)];
  if (!slot) {
    auto found = guarded.find(policy.sql);
    if (found == guarded.end()) return Internal("policy " + policy.id + " was not guarded");
    auto stmt = runner.conn->Prepare(found->second.sql);
    if (!stmt.ok()) {
      return InvalidArgument(access::ConsumerErrorMessage(stmt.status().message()));
    }
    PLEXUS_RETURN_IF_ERROR(Bind(**stmt, values));
    slot = std::move(stmt).value();
  }
  return slot.get();
}

Result<std::unique_ptr<engine::QueryResult>> Evaluator::State::RunNamed(
    internal::Runner& runner, const spec::Policy& policy, const internal::ParameterValues& values) {
  auto result = Run(runner, policy, values);
  if (!result.ok()) {
    return Status(result.status().code(),
                  "policy " + internal::Where(policy) + ": " + result.status().message());
  }
  return result;
}

Result<std::unique_ptr<engine::QueryResult>> Evaluator::State::Run(
    internal::Runner& runner, const spec::Policy& policy, const internal::ParameterValues& values) {
  PLEXUS_ASSIGN_OR_RETURN(engine::PreparedStatement * stmt, Prepare(runner, policy, values));
  auto result = stmt->Execute();
  if (!result.ok()) {
    return InvalidArgument(access::ConsumerErrorMessage(result.status().message()));
  }
  // The shape is known once parameters are bound, so it is checked on the result.
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

Status Evaluator::State::EnsureRunners(size_t n) {
  if (runners.empty()) {
    runners.push_back(std::make_unique<internal::Runner>());
    runners.back()->conn = conn.get();
  }
  while (runners.size() < n) {
    PLEXUS_ASSIGN_OR_RETURN(auto c, db->Connect());
    extra.push_back(std::move(c));
    runners.push_back(std::make_unique<internal::Runner>());
    runners.back()->conn = extra.back().get();
  }
  return Status::OK();
}

Evaluator::Evaluator(std::unique_ptr<State> state) : state_(std::move(state)) {}
Evaluator::~Evaluator() {
  if (state_ == nullptr || state_->lease == nullptr) return;
  // Kept for the next evaluation once nothing of this one uses it.
  state_->runners.clear();
  state_->extra.clear();
  state_->conn.reset();
  state_->lease->Keep(std::move(state_->db));
}

std::vector<std::string> Evaluator::ViewNames() {
  std::vector<std::string> names;
  for (const auto& view : catalog::GovernanceViews()) {
    if (!view.internal) names.push_back(view.name);
  }
  return names;
}

namespace {

/// A new in-memory database for the views, or `warm`'s warm views (a home's root).
Result<std::unique_ptr<Evaluator::State>> Open(const std::string& warm) {
  auto state = std::make_unique<Evaluator::State>();
  if (warm.empty()) {
    engine::DatabaseOptions options;
    options.hardened = true;
    options.threads = 1;
    PLEXUS_ASSIGN_OR_RETURN(state->db, engine::Database::Open(options));
    PLEXUS_ASSIGN_OR_RETURN(state->conn, state->db->Connect());
  } else {
    PLEXUS_RETURN_IF_ERROR(internal::OpenMirror(warm, *state));
    state->store = "warm";
  }
  state->guard = std::make_unique<access::SqlGuard>();
  PLEXUS_RETURN_IF_ERROR(state->EnsureRunners(1));
  return state;
}

/// Locks the database once the views are loaded; reads the products per domain and the views'
/// sizes.
Status Seal(Evaluator::State& state) {
  if (!state.sealed) PLEXUS_RETURN_IF_ERROR(state.conn->LockConfiguration());
  state.sealed = true;
  PLEXUS_ASSIGN_OR_RETURN(
      auto sizes, state.conn->Query("SELECT table_name, estimated_size FROM duckdb_tables()"));
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, sizes->Fetch());
    if (!chunk) break;
    for (size_t row = 0; row < chunk->size(); ++row) {
      state.rows[chunk->Text(0, row)] = chunk->GetInt64(1, row);
    }
  }
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

namespace {

/// The views `read` exports (those `set` reads, when given), in `warm`'s warm views or, when
/// empty, in a new in-memory database.
Result<std::unique_ptr<Evaluator::State>> LoadState(
    const std::function<Status(catalog::ViewSink&)>& read, const PolicySet* set,
    const std::string& warm) {
  PLEXUS_ASSIGN_OR_RETURN(auto state, Open(warm));
  if (set != nullptr) state->loaded = internal::ViewsRead(*set, *state);
  // One connection per core computes views (and later runs policies).
  unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  PLEXUS_RETURN_IF_ERROR(state->EnsureRunners(cores));
  std::vector<engine::Connection*> helpers;
  for (size_t r = 1; r < state->runners.size(); ++r) helpers.push_back(state->runners[r]->conn);
  Status loaded = warm.empty() ? LoadViews(read, *state->conn, state->loaded, helpers)
                               : internal::RefreshMirror(read, *state, helpers);
  if (loaded.ok()) loaded = Seal(*state);
  if (!loaded.ok()) {
    if (state->lease) state->lease->Discard();  // the next evaluation loads every view
    return loaded;
  }
  if (warm.empty()) {
    for (const auto& view : catalog::GovernanceViews()) {
      if (state->loaded.empty() || state->loaded.count(view.name)) {
        state->refreshed.push_back(view.name);
      }
    }
    std::sort(state->refreshed.begin(), state->refreshed.end());
  }
  return state;
}

}  // namespace

Result<std::unique_ptr<Evaluator>> Evaluator::Load(
    const std::function<Status(catalog::ViewSink&)>& read, const PolicySet* set,
    const std::string& warm) {
  auto start = Clock::now();
  std::string why;
  if (!warm.empty()) {
    auto state = LoadState(read, set, warm);
    if (state.ok()) {
      (*state)->load_ms = MillisSince(start);
      return std::unique_ptr<Evaluator>(new Evaluator(std::move(state).value()));
    }
    // Never stale nor partial views: this evaluation loads them all in memory.
    why = " (the warm views could not be used: " + state.status().message() + ")";
  }
  PLEXUS_ASSIGN_OR_RETURN(auto state, LoadState(read, set, ""));
  state->store += why;
  state->load_ms = MillisSince(start);
  return std::unique_ptr<Evaluator>(new Evaluator(std::move(state)));
}

Result<std::unique_ptr<Evaluator>> Evaluator::FromCatalog(const catalog::Catalog& catalog,
                                                          const std::string& now,
                                                          const PolicySet* set, ViewStore store) {
  return Load([&](catalog::ViewSink& sink) { return catalog.ReadGovernanceViews(now, sink); },
              set, store == ViewStore::kWarm ? catalog.home().root() : "");
}

Result<std::unique_ptr<Evaluator>> Evaluator::FromGate(catalog::ApplyGateContext& context,
                                                       const std::string& now,
                                                       const PolicySet* set) {
  return Load([&](catalog::ViewSink& sink) { return context.ReadViews(now, sink); }, set);
}

void Evaluator::DropWarm(const catalog::Catalog& catalog) {
  internal::DropKept(catalog.home().root());
}

Result<std::unique_ptr<Evaluator>> Evaluator::Empty() {
  return Load(
      [](catalog::ViewSink& sink) {
        for (const auto& view : catalog::GovernanceViews()) {
          if (view.select == nullptr) continue;
          PLEXUS_RETURN_IF_ERROR(sink.BeginView(view));
          PLEXUS_RETURN_IF_ERROR(sink.EndView(view));
        }
        return Status::OK();
      },
      nullptr);
}

Status Evaluator::Check(const PolicySet& set, const spec::Policy& policy) {
  PLEXUS_RETURN_IF_ERROR(state_->Guard(policy).status());
  internal::Runner& runner = *state_->runners[0];
  PLEXUS_RETURN_IF_ERROR(
      state_->Run(runner, policy, internal::ValuesFor(set, policy, "")).status());
  for (const auto& [domain, _] : set.domain_parameters) {
    PLEXUS_RETURN_IF_ERROR(
        state_->Run(runner, policy, internal::ValuesFor(set, policy, domain)).status());
  }
  return Status::OK();
}

Status Evaluator::Compile(const PolicySet& set) {
  for (const auto& policy : set.policies) {
    Status checked = Check(set, policy);
    if (!checked.ok()) {
      return Status(checked.code(), "policy " + internal::Where(policy) + ": " + checked.message());
    }
  }
  return Status::OK();
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
