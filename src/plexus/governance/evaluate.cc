// Running the enabled policies: each policy's SQL is guarded on the calling thread, then the
// policies run in parallel, one DuckDB connection per core (most views fit in one row group,
// which DuckDB scans on one thread, so two policies at once use both cores). Each policy's rows
// become violations on the thread that ran it (exemptions applied, sorted, failing products
// counted); the outcomes are merged in policy order and scored.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <unordered_map>

#include "plexus/common/text.h"
#include "plexus/governance/evaluator_internal.h"

namespace plexus::governance {

using internal::ParameterValues;

namespace {

using Clock = std::chrono::steady_clock;

/// One enabled policy to run: its groups of domains by parameter values.
struct Task {
  const spec::Policy* policy = nullptr;
  std::map<std::string, std::vector<std::string>> groups;  ///< parameter key -> domains
  std::map<std::string, ParameterValues> values_of;
  std::string mesh_key;
  std::vector<const spec::Exemption*> exemptions;  ///< in force now
};

/// What running one policy gave.
struct Outcome {
  Status status;
  std::vector<Violation> violations;  ///< by entity, then message
  std::map<std::string, int64_t> failing;  ///< domain -> products failing (-1: all of them)
};

Task MakeTask(const PolicySet& set, const spec::Policy& policy,
              const std::vector<std::string>& domains, const std::string& now) {
  Task task;
  task.policy = &policy;
  for (const auto& domain : domains) {
    if (policy.scope != "global" && policy.scope != domain) continue;
    ParameterValues values = internal::ValuesFor(set, policy, domain);
    std::string key = internal::Key(values);
    task.groups[key].push_back(domain);
    task.values_of[key] = std::move(values);
  }
  ParameterValues mesh = internal::ValuesFor(set, policy, "");
  task.mesh_key = internal::Key(mesh);
  task.values_of.emplace(task.mesh_key, std::move(mesh));
  // The mesh's values always run for a global policy: they report the rows that name no
  // domain, also when every domain runs the policy with values of its own.
  if (policy.scope == "global" || task.groups.empty()) task.groups[task.mesh_key];
  if (policy.exemptible) {
    for (const auto& e : set.exemptions) {
      if (e.policy == policy.id && internal::InForce(e, now)) task.exemptions.push_back(&e);
    }
  }
  return task;
}

/// Runs one policy on `runner` and turns its rows into violations.
class PolicyRun {
 public:
  PolicyRun(Evaluator::State& state, const Task& task) : state_(state), task_(task) {}

  Outcome Go(internal::Runner& runner) {
    Outcome out;
    for (const auto& [key, group] : task_.groups) {
      out.status = RunGroup(runner, key, group, out.violations);
      if (!out.status.ok()) return out;
    }
    std::sort(out.violations.begin(), out.violations.end(),
              [](const Violation& a, const Violation& b) {
                return std::tie(a.entity, a.message) < std::tie(b.entity, b.message);
              });
    // A violation on a domain fails every product of it.
    // Sorted by entity, the violations come grouped by domain.
    std::unordered_map<std::string_view, std::unordered_set<std::string_view>> failing;
    std::unordered_set<std::string_view>* domain_failing = nullptr;
    std::string_view last_domain;
    for (const auto& v : out.violations) {
      if (v.exemption.empty() && !v.domain.empty()) {
        if (domain_failing == nullptr || v.domain != last_domain) {
          last_domain = v.domain;
          domain_failing = &failing[last_domain];
        }
        domain_failing->insert(v.product.empty() ? std::string_view("*") : v.product);
      }
    }
    for (const auto& [domain, products] : failing) {
      out.failing[std::string(domain)] =
          products.count("*") ? -1 : static_cast<int64_t>(products.size());
    }
    return out;
  }

 private:
  Status RunGroup(internal::Runner& runner, const std::string& key,
                  const std::vector<std::string>& group, std::vector<Violation>& out) {
    const spec::Policy& policy = *task_.policy;
    // With one group, the mesh's, every row is this run's; else a row belongs to the group of
    // its domain (rows naming no domain to the mesh's group).
    bool every_row = task_.groups.size() == 1 && key == task_.mesh_key;
    std::set<std::string_view> members(group.begin(), group.end());
    PLEXUS_ASSIGN_OR_RETURN(auto result,
                            state_.RunNamed(runner, policy, task_.values_of.at(key)));
    while (true) {
      PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
      if (!chunk) break;
      engine::VectorRef entities = chunk->Column(0), messages = chunk->Column(1);
      for (size_t row = 0; row < chunk->size(); ++row) {
        std::string_view entity = entities.IsNull(row) ? "" : entities.String(row);
        size_t dot = entity.find('.');
        std::string_view domain = entity.substr(0, dot);
        if (!domains_.Has(domain)) domain = {};
        bool mine = every_row || (domain.empty() ? key == task_.mesh_key : members.count(domain));
        if (!mine || (policy.scope != "global" && domain != policy.scope)) continue;
        Violation& v = out.emplace_back();
        v.policy = policy.id;
        v.severity = policy.severity;
        v.entity = entity;
        v.message = messages.IsNull(row) ? "" : messages.String(row);
        v.domain = domain;
        if (dot != std::string_view::npos) {
          std::string_view product = entity.substr(0, entity.find('.', dot + 1));
          if (products_.Has(product)) v.product = product;
        }
        Exempt(v);
      }
    }
    return Status::OK();
  }

  void Exempt(Violation& v) const {
    for (const spec::Exemption* e : task_.exemptions) {
      if (internal::Covers(e->entity, v.entity)) {
        v.exemption = e->justification + " (approved by " + e->approved_by + ")";
        v.exemption_expires = e->expires;
        break;
      }
    }
    v.quarantine = task_.policy->quarantine && v.exemption.empty() && !v.product.empty();
  }

  /// Whether a text is in `Set`, the last answer kept: a policy's rows mostly come grouped by
  /// domain and product, so most lookups are the one before.
  template <typename Set>
  class LastLookup {
   public:
    explicit LastLookup(const Set& set) : set_(set) {}
    bool Has(std::string_view text) {
      if (!asked_ || text != last_) {
        asked_ = true;
        last_.assign(text);
        found_ = set_.count(text) != 0;
      }
      return found_;
    }

   private:
    const Set& set_;
    bool asked_ = false;
    std::string last_;
    bool found_ = false;
  };

  Evaluator::State& state_;
  const Task& task_;
  LastLookup<decltype(Evaluator::State::products_by_domain)> domains_{state_.products_by_domain};
  LastLookup<internal::TextSet> products_{state_.products};
};

/// The order to start the tasks in: those reading the most rows first, so that no long one
/// starts last while the other runners idle.
std::vector<size_t> StartOrder(Evaluator::State& state, const std::vector<Task>& tasks) {
  std::vector<std::pair<int64_t, size_t>> costs;
  for (size_t i = 0; i < tasks.size(); ++i) {
    int64_t rows = 0;
    auto guarded = state.Guard(*tasks[i].policy);
    if (guarded.ok()) {
      for (const auto& r : (*guarded)->relations) {
        auto found = state.rows.find(AsciiLower(r));
        if (found != state.rows.end()) rows += found->second;
      }
    }
    costs.emplace_back(-rows, i);
  }
  std::sort(costs.begin(), costs.end());
  std::vector<size_t> order;
  for (const auto& [_, i] : costs) order.push_back(i);
  return order;
}

/// Runs every task, `runners` at once (the calling thread is one of them); outcomes by task.
std::vector<Outcome> RunAll(Evaluator::State& state, const std::vector<Task>& tasks) {
  std::vector<Outcome> outcomes(tasks.size());
  std::vector<size_t> order = StartOrder(state, tasks);
  std::atomic<size_t> next{0};
  auto work = [&](internal::Runner& runner) {
    for (size_t n = next++; n < order.size(); n = next++) {
      outcomes[order[n]] = PolicyRun(state, tasks[order[n]]).Go(runner);
    }
  };
  std::vector<std::thread> threads;
  for (size_t r = 1; r < state.runners.size(); ++r) {
    threads.emplace_back(work, std::ref(*state.runners[r]));
  }
  work(*state.runners[0]);
  for (auto& t : threads) t.join();
  return outcomes;
}

/// How many policies run at once: one per core, at most 4.
size_t Parallelism(size_t tasks) {
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max<size_t>(1, std::min({cores, size_t{4}, tasks}));
}

/// Per policy and domain, the share of the domain's products without a violation that counts.
/// A domain's score is the mean of its policies' shares weighed by severity; the mesh's weighs
/// them by severity and by the domains' products.
void Score(const Evaluator::State& state, const PolicySet& set,
           const std::map<std::string, std::map<std::string, int64_t>>& failing, Evaluation& out) {
  std::map<std::string, std::pair<double, double>> domain_sums;  // weighted shares, weights
  double mesh_weighted = 0, mesh_weights = 0;
  for (const auto& policy : set.policies) {
    if (!policy.enabled) continue;
    Standing& ps = out.policies[policy.id];
    auto fails = failing.find(policy.id);
    for (const auto& [domain, products] : state.products_by_domain) {
      if (policy.scope != "global" && policy.scope != domain) continue;
      int64_t failed = 0;
      if (fails != failing.end()) {
        auto d = fails->second.find(domain);
        if (d != fails->second.end()) failed = d->second < 0 ? products : d->second;
      }
      ps.products += products;
      ps.failing += failed;
      double share = 1.0 - static_cast<double>(failed) / products;
      double weight = SeverityWeight(policy.severity);
      domain_sums[domain].first += share * weight;
      domain_sums[domain].second += weight;
      mesh_weighted += share * weight * products;
      mesh_weights += weight * products;
    }
    ps.score =
        ps.products == 0 ? 100.0 : 100.0 * (1.0 - static_cast<double>(ps.failing) / ps.products);
  }
  for (const auto& [domain, products] : state.products_by_domain) {
    Standing& ds = out.domains[domain];
    ds.products = products;
    const auto& [weighted, weights] = domain_sums[domain];
    ds.score = weights == 0 ? 100.0 : 100.0 * weighted / weights;
  }
  out.mesh.score = mesh_weights == 0 ? 100.0 : 100.0 * mesh_weighted / mesh_weights;
}

/// The violations counted per policy, per domain and for the mesh; failing products per domain.
void Count(Evaluation& out) {
  std::unordered_map<std::string_view, std::unordered_set<std::string_view>> failing_products;
  // The violations come by policy, and mostly grouped by domain: the last standings found are
  // tried first.
  const Violation* last = nullptr;
  Standing* policy_standing = nullptr;
  Standing* domain_standing = nullptr;
  std::unordered_set<std::string_view>* domain_failing = nullptr;
  for (const auto& v : out.violations) {
    if (last == nullptr || v.policy != last->policy) policy_standing = &out.policies[v.policy];
    if (last == nullptr || v.domain != last->domain) {
      domain_standing = v.domain.empty() ? nullptr : &out.domains[v.domain];
      domain_failing = v.domain.empty() ? nullptr : &failing_products[v.domain];
    }
    last = &v;
    Standing* ds = domain_standing;
    Standing& ps = *policy_standing;
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
      domain_failing->insert(v.product.empty() ? std::string_view("*") : v.product);
    }
  }
  for (auto& [domain, ds] : out.domains) {
    auto fails = failing_products.find(domain);
    if (fails != failing_products.end()) {
      ds.failing = fails->second.count("*") ? ds.products
                                            : static_cast<int64_t>(fails->second.size());
    }
    out.mesh.products += ds.products;
    out.mesh.failing += ds.failing;
  }
}

}  // namespace

Result<Evaluation> Evaluator::Evaluate(const PolicySet& set, const std::string& now) {
  auto start = Clock::now();
  Evaluation out;
  out.at = now;
  out.load_ms = state_->load_ms;
  out.store = state_->store;
  out.refreshed = state_->refreshed;
  std::vector<std::string> domains;
  for (const auto& [domain, _] : state_->products_by_domain) domains.push_back(domain);
  // Guarded here, on this thread (the guard's connection is not shared), in policy order: the
  // first policy that does not pass is the error.
  std::vector<Task> tasks;
  for (const auto& policy : set.policies) {
    if (!policy.enabled) continue;
    auto guarded = state_->Guard(policy);
    if (!guarded.ok()) {
      return Status(guarded.status().code(),
                    "policy " + internal::Where(policy) + ": " + guarded.status().message());
    }
    tasks.push_back(MakeTask(set, policy, domains, now));
  }
  PLEXUS_RETURN_IF_ERROR(state_->EnsureRunners(Parallelism(tasks.size())));
  std::vector<Outcome> outcomes = RunAll(*state_, tasks);
  std::map<std::string, std::map<std::string, int64_t>> failing;  // policy -> domain -> count
  size_t total = 0;
  for (const auto& o : outcomes) {
    PLEXUS_RETURN_IF_ERROR(o.status);
    total += o.violations.size();
  }
  out.violations.reserve(total);
  for (size_t i = 0; i < tasks.size(); ++i) {
    std::move(outcomes[i].violations.begin(), outcomes[i].violations.end(),
              std::back_inserter(out.violations));
    failing[tasks[i].policy->id] = std::move(outcomes[i].failing);
  }
  Score(*state_, set, failing, out);
  Count(out);
  out.run_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return out;
}

}  // namespace plexus::governance
