// Evaluating policies: the catalog's views loaded into an in-memory, hardened DuckDB (one
// table per view, appended row by row from the catalog's export), each policy's SQL checked by
// the access layer's guard against a resolver that knows the views only, prepared once per
// set of parameter values, and run; its rows become violations, exemptions applied, scores
// computed per policy and per domain.
#include <algorithm>
#include <chrono>
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

/// Appends the exported rows to one table per view.
class TableLoader : public catalog::ViewSink {
 public:
  explicit TableLoader(engine::Connection& conn) : conn_(conn) {}

  Status BeginView(const catalog::GovernanceView& view) override {
    std::string ddl = "CREATE TABLE " + engine::QuoteIdentifier(view.name) + " (";
    types_.clear();
    for (size_t i = 0; i < view.columns.size(); ++i) {
      ddl += (i ? ", " : "") + engine::QuoteIdentifier(view.columns[i].name) + " " +
             view.columns[i].type;
      types_.push_back(view.columns[i].type);
    }
    PLEXUS_RETURN_IF_ERROR(conn_.Execute(ddl + ")"));
    PLEXUS_ASSIGN_OR_RETURN(appender_, conn_.MakeAppender("memory", "main", view.name));
    return Status::OK();
  }

  Status Row(const catalog::ViewRow& row) override {
    for (size_t i = 0; i < types_.size(); ++i) {
      int c = static_cast<int>(i);
      const std::string& type = types_[i];
      if (row.IsNull(c)) {
        PLEXUS_RETURN_IF_ERROR(appender_->AppendNull());
      } else if (type == "BIGINT") {
        PLEXUS_RETURN_IF_ERROR(appender_->AppendInt64(row.Int(c)));
      } else if (type == "BOOLEAN") {
        PLEXUS_RETURN_IF_ERROR(appender_->AppendBool(row.Int(c) != 0));
      } else if (type == "DOUBLE") {
        PLEXUS_RETURN_IF_ERROR(appender_->AppendDouble(row.Real(c)));
      } else {
        PLEXUS_RETURN_IF_ERROR(appender_->AppendText(row.Text(c)));
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
  std::vector<std::string> types_;
  std::unique_ptr<engine::Appender> appender_;
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
  std::map<std::string, int64_t> products_by_domain;
  std::set<std::string> products;  ///< domain.product
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

Evaluator::Evaluator(std::unique_ptr<State> state) : state_(std::move(state)) {}
Evaluator::~Evaluator() = default;

std::vector<std::string> Evaluator::ViewNames() {
  std::vector<std::string> names;
  for (const auto& view : catalog::GovernanceViews()) names.push_back(view.name);
  return names;
}

double Evaluator::load_ms() const { return state_->load_ms; }

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
  PLEXUS_ASSIGN_OR_RETURN(auto result, state.conn->Query("SELECT domain, qualified_name FROM products"));
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

Result<std::unique_ptr<Evaluator>> Evaluator::FromCatalog(const catalog::Catalog& catalog,
                                                          const std::string& now) {
  auto start = Clock::now();
  PLEXUS_ASSIGN_OR_RETURN(auto state, Open());
  TableLoader loader(*state->conn);
  PLEXUS_RETURN_IF_ERROR(catalog.ReadGovernanceViews(now, loader));
  PLEXUS_RETURN_IF_ERROR(Seal(*state));
  state->load_ms = MillisSince(start);
  return std::unique_ptr<Evaluator>(new Evaluator(std::move(state)));
}

Result<std::unique_ptr<Evaluator>> Evaluator::FromGate(catalog::ApplyGateContext& context,
                                                       const std::string& now) {
  auto start = Clock::now();
  PLEXUS_ASSIGN_OR_RETURN(auto state, Open());
  TableLoader loader(*state->conn);
  PLEXUS_RETURN_IF_ERROR(context.ReadViews(now, loader));
  PLEXUS_RETURN_IF_ERROR(Seal(*state));
  state->load_ms = MillisSince(start);
  return std::unique_ptr<Evaluator>(new Evaluator(std::move(state)));
}

Result<std::unique_ptr<Evaluator>> Evaluator::Empty() {
  PLEXUS_ASSIGN_OR_RETURN(auto state, Open());
  TableLoader loader(*state->conn);
  for (const auto& view : catalog::GovernanceViews()) {
    PLEXUS_RETURN_IF_ERROR(loader.BeginView(view));
    PLEXUS_RETURN_IF_ERROR(loader.EndView(view));
  }
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
    for (const auto& [key, group] : groups) {
      PLEXUS_ASSIGN_OR_RETURN(auto result, state_->RunNamed(policy, values_of[key]));
      while (true) {
        PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
        if (!chunk) break;
        for (size_t row = 0; row < chunk->size(); ++row) {
          Violation v;
          v.policy = policy.id;
          v.severity = policy.severity;
          v.entity = chunk->IsNull(0, row) ? "" : chunk->Text(0, row);
          v.message = chunk->IsNull(1, row) ? "" : chunk->Text(1, row);
          size_t dot = v.entity.find('.');
          v.domain = v.entity.substr(0, dot);
          if (!state_->products_by_domain.count(v.domain)) v.domain.clear();
          if (dot != std::string::npos) {
            size_t second = v.entity.find('.', dot + 1);
            std::string product = v.entity.substr(0, second);
            if (state_->products.count(product)) v.product = product;
          }
          // Each group keeps the rows of its own domains; rows naming no domain go to the
          // mesh's group (the one with the mesh's values), once.
          bool mine = v.domain.empty()
                          ? key == mesh_key
                          : std::find(group.begin(), group.end(), v.domain) != group.end();
          if (!mine) continue;
          if (policy.scope != "global" && v.domain != policy.scope) continue;
          if (policy.exemptible) {
            for (const auto& e : set.exemptions) {
              if (e.policy == policy.id && Covers(e.entity, v.entity) && InForce(e, now)) {
                v.exemption = e.justification + " (approved by " + e.approved_by + ")";
                v.exemption_expires = e.expires;
                break;
              }
            }
          }
          v.quarantine = policy.quarantine && v.exemption.empty() && !v.product.empty();
          if (v.exemption.empty()) {
            // A violation on a domain fails every product of it.
            if (v.product.empty() && !v.domain.empty()) {
              failing[policy.id][v.domain].insert("*");
            } else if (!v.product.empty()) {
              failing[policy.id][v.domain].insert(v.product);
            }
          }
          out.violations.push_back(std::move(v));
        }
      }
    }
  }
  std::sort(out.violations.begin(), out.violations.end(), [](const Violation& a, const Violation& b) {
    return std::tie(a.policy, a.entity, a.message) < std::tie(b.policy, b.entity, b.message);
  });

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
