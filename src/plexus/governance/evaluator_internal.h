// File: plexus/governance/evaluator_internal.h
//
// Internal to the governance module: the evaluator's state (evaluator.cc loads the views and
// checks policies; evaluate.cc runs them in parallel and scores them).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/engine/engine.h"
#include "plexus/governance/governance.h"

namespace plexus::governance::internal {

/// The parameter values a policy runs with for one group of domains: the policy's (mesh)
/// values overridden by a domain's.
using ParameterValues = std::map<std::string, spec::PolicyValue>;

/// The values as one text: policies run once per distinct key.
std::string Key(const ParameterValues& values);
/// "id (file:line)", where the policy's SQL is written.
std::string Where(const spec::Policy& policy);
/// The parameter values of `policy` in `domain` (empty: the mesh's).
ParameterValues ValuesFor(const PolicySet& set, const spec::Policy& policy,
                          const std::string& domain);
/// Whether an exemption's expiry is still ahead of `now` (a date covers its whole day).
bool InForce(const spec::Exemption& e, const std::string& now);
/// True when the exemption's entity is `entity` or contains it.
bool Covers(const std::string& exempted, std::string_view entity);


/// True when `sql` holds `word` as a word (not inside a longer identifier).
bool NamesWord(std::string_view sql, std::string_view word);

/// Hashes strings and string_views alike (heterogeneous lookup).
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TextSet = std::unordered_set<std::string, TextHash, std::equal_to<>>;

/// A connection that runs policies, with the statements prepared on it. Each runs on one
/// thread at a time; the evaluator has one per core.
struct Runner {
  engine::Connection* conn = nullptr;
  /// policy id -> parameter key -> prepared statement
  std::map<std::string, std::map<std::string, std::unique_ptr<engine::PreparedStatement>>> prepared;
};

}  // namespace plexus::governance::internal

namespace plexus::governance {

struct Evaluator::State {
  std::unique_ptr<engine::Database> db;
  std::unique_ptr<engine::Connection> conn;    ///< loads the views; runners[0]
  std::unique_ptr<access::SqlGuard> guard;
  std::vector<std::unique_ptr<engine::Connection>> extra;  ///< the other runners' connections
  std::vector<std::unique_ptr<internal::Runner>> runners;
  /// Policy SQL -> what the guard made of it (guarded on the calling thread, before runs).
  std::map<std::string, access::GuardedQuery> guarded;
  /// The views loaded; empty: all of them.
  std::set<std::string> loaded;
  std::map<std::string, int64_t> rows;  ///< rows per loaded view (DuckDB's estimate)
  std::map<std::string, int64_t, std::less<>> products_by_domain;
  internal::TextSet products;  ///< domain.product
  double load_ms = 0;

  /// The guard's rewrite of `policy`'s SQL (checked on first use; not thread safe). Fails when
  /// it reads a view this evaluator did not load.
  Result<const access::GuardedQuery*> Guard(const spec::Policy& policy);
  /// The prepared statement of `policy` on `runner`, `values` bound. Guard must have run.
  Result<engine::PreparedStatement*> Prepare(internal::Runner& runner, const spec::Policy& policy,
                                             const internal::ParameterValues& values);
  /// Runs the policy's statement; its result must be (entity VARCHAR, message VARCHAR).
  Result<std::unique_ptr<engine::QueryResult>> Run(internal::Runner& runner,
                                                   const spec::Policy& policy,
                                                   const internal::ParameterValues& values);
  /// Run, naming the policy and where it is written on an error.
  Result<std::unique_ptr<engine::QueryResult>> RunNamed(internal::Runner& runner,
                                                        const spec::Policy& policy,
                                                        const internal::ParameterValues& values);
  /// At least `n` runners (one per connection).
  Status EnsureRunners(size_t n);
};

namespace internal {

/// The views `set`'s enabled policies read (guarded with `state`'s guard, which keeps what it
/// made of them), with the views those are computed from, and `products` (scores need it).
/// Empty when a policy's SQL does not pass the guard: then every view is loaded, and Evaluate
/// reports the policy.
std::set<std::string> ViewsRead(const PolicySet& set, Evaluator::State& state);

}  // namespace internal

}  // namespace plexus::governance
