#include "plexus/discovery/usage.h"

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "plexus/common/text.h"
#include "plexus/engine/sql_parse.h"

namespace plexus::discovery {
namespace {

constexpr int kBatch = 5000;  ///< audit records read and counted per transaction

void CollectColumns(const nlohmann::json& node, std::set<std::string>& out, int depth) {
  if (depth > 200) return;
  if (node.is_object()) {
    auto cls = node.find("class");
    if (cls != node.end() && cls->is_string()) {
      if (*cls == "COLUMN_REF") {
        auto names = node.find("column_names");
        if (names != node.end() && names->is_array() && !names->empty() &&
            names->back().is_string()) {
          out.insert(AsciiLower(names->back().get<std::string>()));
        }
      } else if (*cls == "STAR") {
        out.insert("*");
      }
    }
    for (const auto& [key, value] : node.items()) CollectColumns(value, out, depth + 1);
  } else if (node.is_array()) {
    for (const auto& value : node) CollectColumns(value, out, depth + 1);
  }
}

}  // namespace

std::string DaysAgo(int days) {
  std::time_t t = std::time(nullptr) - static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

std::set<std::string> ColumnsNamed(const std::string& serialized) {
  std::set<std::string> out;
  auto document = nlohmann::json::parse(serialized, nullptr, false);
  if (!document.is_object() || document.value("error", false)) return out;
  CollectColumns(document["statements"], out, 0);
  return out;
}

UsageCounter::UsageCounter(catalog::Catalog* catalog) : catalog_(catalog) {}

Result<std::unique_ptr<UsageCounter>> UsageCounter::Open(catalog::Catalog* catalog) {
  return std::unique_ptr<UsageCounter>(new UsageCounter(catalog));
}

UsageCounter::~UsageCounter() = default;

std::set<std::string> UsageCounter::Parse(const std::string& sql) {
  auto parsed = engine::SerializeSql(sql);
  return parsed.ok() ? ColumnsNamed(*parsed) : std::set<std::string>{};
}

Result<int64_t> UsageCounter::Count() {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  // The ports' columns of the products read, by domain.product (lower case): port.column.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> columns_of;
  auto columns = [&](const std::string& product)
      -> const std::vector<std::pair<std::string, std::string>>& {
    auto it = columns_of.find(product);
    if (it != columns_of.end()) return it->second;
    auto& list = columns_of[product];
    auto record = catalog_->GetProduct(product);
    if (record.ok()) {
      // Every major of every port: a column the majors share is listed once.
      std::set<std::pair<std::string, std::string>> seen;
      for (const auto& port : record->outputs) {
        for (const auto& c : port.columns) {
          if (seen.emplace(port.name, c.name).second) list.emplace_back(port.name, c.name);
        }
      }
    }
    return list;
  };
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(int64_t cursor, catalog_->UsageCursor());
    PLEXUS_ASSIGN_OR_RETURN(auto records, catalog_->ReadAuditAfter(cursor, kBatch));
    if (records.empty()) return total;
    std::map<std::tuple<std::string, std::string, std::string>, catalog::UsageRead> reads;
    for (const auto& r : records) {
      bool query = r.action == "query", done = r.action == "query.done";
      if ((!query && !done) || r.decision != "allow" || r.products.empty() ||
          r.detail.find("previewed by") != std::string::npos) {
        continue;
      }
      std::string day = r.at.substr(0, 10);
      std::set<std::string> named = query ? Parse(r.object) : std::set<std::string>{};
      for (const auto& product : r.products) {
        auto& read = reads[{product, AsciiLower(r.principal), day}];
        read.product = product;
        read.principal = r.principal;
        read.day = day;
        read.last_at = std::max(read.last_at, r.at);
        if (done) {
          read.rows += std::max<int64_t>(0, r.rows);
          continue;
        }
        read.queries++;
        for (const auto& [port, column] : columns(product)) {
          if (named.count("*") || named.count(AsciiLower(column))) {
            read.columns[port + "." + column]++;
          }
        }
      }
    }
    std::vector<catalog::UsageRead> batch;
    for (auto& [key, read] : reads) batch.push_back(std::move(read));
    Status recorded = catalog_->RecordUsage(batch, cursor, records.back().seq);
    // Another process counted these meanwhile: read on from where it stopped.
    if (!recorded.ok() && recorded.code() != StatusCode::kFailedPrecondition) return recorded;
    total += static_cast<int64_t>(records.size());
    if (records.size() < static_cast<size_t>(kBatch)) return total;
  }
}

}  // namespace plexus::discovery
