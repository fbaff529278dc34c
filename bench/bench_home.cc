#include "bench_home.h"

#include <algorithm>
#include <cmath>

namespace plexus::bench {

Result<std::unique_ptr<BenchHome>>
BenchHome::Open(const std::string &home_dir) {
  PLEXUS_ASSIGN_OR_RETURN(auto home, catalog::Home::Prepare(home_dir));
  std::unique_ptr<BenchHome> bench(new BenchHome(home));
  PLEXUS_ASSIGN_OR_RETURN(bench->catalog_, catalog::Catalog::Open(home));
  PLEXUS_ASSIGN_OR_RETURN(bench->ports_, bench->catalog_->ListOutputPorts());
  // QueryService::Open's options, without the configuration lock (nothing else
  // runs here).
  engine::DatabaseOptions options;
  options.hardened = true;
  options.allowed_directories = {home.DataDir(), home.TempDir()};
  options.temp_directory = home.TempDir();
  PLEXUS_ASSIGN_OR_RETURN(bench->raw_db_, engine::Database::Open(options));
  PLEXUS_ASSIGN_OR_RETURN(bench->raw_, bench->raw_db_->Connect());
  std::vector<std::string> attached;
  for (const auto &port : bench->ports_) {
    if (std::find(attached.begin(), attached.end(), port.domain) !=
        attached.end())
      continue;
    attached.push_back(port.domain);
    PLEXUS_RETURN_IF_ERROR(bench->raw_->Execute(
        "ATTACH " + engine::QuoteLiteral(home.DomainDataPath(port.domain)) +
        " AS " +
        engine::QuoteIdentifier(catalog::Home::AttachName(port.domain)) +
        " (READ_ONLY)"));
  }
  return bench;
}

namespace {

/// Every group named in a port column's clearFor: members read that column
/// unmasked.
std::vector<std::string>
ClearGroups(const std::vector<catalog::OutputPortRecord> &ports) {
  std::vector<std::string> groups;
  for (const auto &port : ports) {
    for (const auto &column : port.columns) {
      for (const auto &group : column.mask_clear_for) {
        if (group == "admin" || group == "service")
          continue;
        if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
          groups.push_back(group);
        }
      }
    }
  }
  return groups;
}

Status AddToGroup(catalog::Catalog &catalog,
                  const catalog::PrincipalRecord &principal,
                  const std::string &group) {
  if (std::find(principal.groups.begin(), principal.groups.end(), group) !=
      principal.groups.end()) {
    return Status::OK();
  }
  return catalog.AddGroupMember(group, principal.name, "bench");
}

} // namespace

Result<access::Principal> BenchHome::ClearReader() {
  const std::string name =
      "admin"; // the CLI's local mesh admin (cli/common.cc)
  auto record = catalog_->GetPrincipal(name);
  if (!record.ok() && record.status().code() == StatusCode::kNotFound) {
    catalog::PrincipalRecord admin;
    admin.name = name;
    admin.kind = "user";
    admin.admin = true;
    PLEXUS_RETURN_IF_ERROR(catalog_->CreatePrincipal(admin, "bench"));
    record = catalog_->GetPrincipal(name);
  }
  PLEXUS_RETURN_IF_ERROR(record.status());
  if (!record->admin)
    PLEXUS_RETURN_IF_ERROR(catalog_->SetPrincipalAdmin(name, true, "bench"));
  for (const auto &group : ClearGroups(ports_)) {
    PLEXUS_RETURN_IF_ERROR(AddToGroup(*catalog_, *record, group));
  }
  // Row filters: rowFilterExempt of the example mesh names `admin`; check every
  // port anyway.
  PLEXUS_ASSIGN_OR_RETURN(auto principal,
                          access::LoadPrincipal(*catalog_, name));
  for (const auto &port : ports_) {
    if (!port.row_filter.empty() &&
        !principal.HasAnyRole(port.row_filter_exempt)) {
      return FailedPrecondition(
          "the mesh admin is not exempt from the row filter of " +
          port.SqlName() + ": the guarded side would read fewer rows");
    }
  }
  return principal;
}

Result<access::Principal>
BenchHome::Consumer(const std::string &name, const std::string &country,
                    const std::vector<std::string> &granted) {
  auto record = catalog_->GetPrincipal(name);
  if (!record.ok() && record.status().code() == StatusCode::kNotFound) {
    catalog::PrincipalRecord consumer;
    consumer.name = name;
    consumer.kind = "user";
    consumer.attributes["country"] = country;
    PLEXUS_RETURN_IF_ERROR(catalog_->CreatePrincipal(consumer, "bench"));
    record = catalog_->GetPrincipal(name);
  }
  PLEXUS_RETURN_IF_ERROR(record.status());
  if (record->attributes["country"] != country) {
    PLEXUS_RETURN_IF_ERROR(
        catalog_->SetPrincipalAttribute(name, "country", country, "bench"));
  }
  for (const auto &product : granted) {
    PLEXUS_ASSIGN_OR_RETURN(
        auto grants, catalog_->ListGrants(name, product, catalog::NowUtc()));
    if (!grants.empty())
      continue;
    catalog::GrantRecord grant;
    grant.grantee = name;
    grant.grantee_kind = "principal";
    grant.target = product;
    grant.purpose = "benchmark";
    PLEXUS_RETURN_IF_ERROR(catalog_->CreateGrant(grant, "bench").status());
  }
  return access::LoadPrincipal(*catalog_, name);
}

Result<std::unique_ptr<access::QueryService>> BenchHome::OpenService() {
  return access::QueryService::Open(home_, catalog_.get());
}

std::string Physical(std::string sql,
                     const std::vector<catalog::OutputPortRecord> &ports) {
  for (const auto &port : ports) {
    std::string from = port.SqlName();
    std::string to = catalog::Home::AttachName(port.domain) + ".main." +
                     port.PhysicalTable();
    for (size_t at = sql.find(from); at != std::string::npos;
         at = sql.find(from, at + to.size())) {
      sql.replace(at, from.size(), to);
    }
  }
  return sql;
}

Result<int64_t> Drain(engine::QueryResult &result) {
  int64_t rows = 0;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result.Fetch());
    if (!chunk)
      return rows;
    rows += static_cast<int64_t>(chunk->size());
  }
}

Result<std::vector<std::string>> Rows(engine::QueryResult &result, bool sort) {
  std::vector<std::string> rows;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result.Fetch());
    if (!chunk)
      break;
    for (size_t row = 0; row < chunk->size(); row++) {
      std::string line;
      for (size_t column = 0; column < chunk->column_count(); column++) {
        if (column > 0)
          line += '\t';
        if (chunk->IsNull(column, row))
          line += "\\N";
        else
          chunk->AppendText(column, row, line);
      }
      rows.push_back(std::move(line));
    }
  }
  if (sort)
    std::sort(rows.begin(), rows.end());
  return rows;
}

double Median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double Quantile(std::vector<double> values, double q) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  auto rank =
      static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

} // namespace plexus::bench
