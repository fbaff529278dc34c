// File: plexus/discovery/usage.h
//
// Usage (issue 4): who reads each product, how often, which columns, counted from the audit
// trail. Every allowed `query` record counts one query for each product it touched, for its
// principal and day; `query.done` records add their rows. The columns read are the ports'
// columns the statement names (DuckDB's own parser: json_serialize_sql); `*` reads them all.
// Owners' previews (`plexus query --as`) are not usage. Counts land in the catalog
// (catalog_usage.cc) with a cursor moved in the same transaction, so each audit record is
// counted once, whichever process counts.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto counter, UsageCounter::Open(catalog));
//   PLEXUS_ASSIGN_OR_RETURN(int64_t records, counter->Count());
//   PLEXUS_ASSIGN_OR_RETURN(auto usage, catalog->GetProductUsage("orders.orders", ""));
//
// Thread safety: one Count at a time per counter (it serialises itself).
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "plexus/catalog/catalog.h"

namespace plexus::discovery {

/// The UTC date `days` days before today (YYYY-MM-DD): the `since` of a usage window.
std::string DaysAgo(int days);

/// The column names (lower case) a SELECT names, "*" for a star; empty when it does not parse.
/// `serialized` is json_serialize_sql's output for it.
std::set<std::string> ColumnsNamed(const std::string& serialized);

class UsageCounter {
 public:
  /// DuckDB's parser (engine/sql_parse.h) reads the audited statements.
  static Result<std::unique_ptr<UsageCounter>> Open(catalog::Catalog* catalog);
  ~UsageCounter();

  /// Counts the audit records appended since the last count; returns how many were read.
  Result<int64_t> Count();

 private:
  explicit UsageCounter(catalog::Catalog* catalog);
  std::set<std::string> Parse(const std::string& sql);

  catalog::Catalog* catalog_;
  std::mutex mu_;
};

}  // namespace plexus::discovery
