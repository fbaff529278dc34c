// File: bench/governance_bench.cc
//
// Governance at scale (issue 5): 50 policies over a generated catalog of N products (default
// 10,000) with 20 columns each (200,000 columns) across about 50 domains of uneven size, applied
// through Catalog::Apply, then given what a running mesh accumulates: consumers, groups, grants
// (some revoked), pipeline runs (some failed), publications, quality results, column lineage.
// The policies are the built-in pack (11) and 39 written here as a mesh would write them:
// parameterised thresholds, joins across the views, aggregates per domain, a recursive one.
//
// Three things are timed, interleaved, over several rounds (round 0 warms the caches, finds the
// violations a few exemptions are written for, and is not counted):
//   plexus  Evaluator::FromCatalog + Evaluate, as `plexus governance report` calls them: what a
//           user waits for (guard, export from SQLite of the views the policies read, load into
//           DuckDB, prepare, run two at a time, exemptions, scores); also its CPU time (every
//           thread of the process), which a busy machine does not inflate as it does wall time.
//           Then `plexus serve`'s evaluations (ViewStore::kWarm: the views kept in memory by the
//           process, re-exported only where the catalog changed), end to end with the
//           evaluator's close: the first (none kept), again with the catalog unchanged, after
//           one product's run, after one product's apply
//   raw     the same 50 SQL texts, parameters inlined from their defaults, on a DuckDB that
//           already holds the views' rows (loaded once): no export, guard, exemptions or scores
//   export  Catalog::ReadGovernanceViews into a sink that reads every value and drops it
// The report gives the median and minimum of each, plexus's load and run apart, the ratio
// plexus / raw and each policy's raw time; --verbose adds, per policy, the guard's time, its
// guarded SQL run raw, and the policy evaluated alone by plexus (cold, then prepared), and the
// export's time per view. Target: plexus < 1000 ms at 10,000 products. The catalog is generated
// in --work (about a minute at 10,000 products); --reuse keeps a complete one.
//
//   build/plexus_governance_bench --work build/bench-governance --out bench/results
//       [--products 10000] [--rounds 5] [--reuse] [--verbose] [--profile N]
// --profile N runs plexus's path alone N times (no raw or export series), for a profiler.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include "plexus/access/sql_guard.h"
#include "plexus/catalog/catalog.h"
#include "plexus/engine/engine.h"
#include "plexus/governance/governance.h"
#include "plexus/spec/parse.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using plexus::Result;
using plexus::Status;
namespace catalog = plexus::catalog;
namespace engine = plexus::engine;
namespace governance = plexus::governance;
namespace spec = plexus::spec;

struct Options {
  std::string work = "build/bench-governance";
  std::string out = "bench/results";
  int products = 10000;
  int rounds = 5;
  bool reuse = false;
  bool verbose = false;
  int profile = 0;  ///< --profile N: only plexus's path, N times, for a profiler
};

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double Min(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
}

int Fail(const std::string& what) {
  std::cerr << "governance_bench: " << what << "\n";
  return 1;
}

// ---- The generated catalog ----------------------------------------------------------------------

/// A column a port may carry: its name, ODCS logical type, usual classification, business name and
/// the mask a careful domain gives it.
struct Attribute {
  const char* name;
  const char* logical_type;
  const char* classification;
  const char* business_name;
  const char* mask;
};

// pii, confidential, internal, public: drawn with weights 0.45, 0.6, 1.2, 1.0, so about one column
// in nine is personal data and one in thirteen confidential.
const std::vector<Attribute>& Attributes() {
  static const std::vector<Attribute> kAttributes = {
      {"email", "string", "pii", "Email address", "hash"},
      {"first_name", "string", "pii", "First name", "redact"},
      {"last_name", "string", "pii", "Last name", "redact"},
      {"phone", "string", "pii", "Phone number", "partial(4)"},
      {"birth_date", "date", "pii", "Date of birth", "year"},
      {"street_address", "string", "pii", "Street address", "redact"},
      {"postcode", "string", "pii", "Postcode", "partial(2)"},
      {"ip_address", "string", "pii", "IP address", "hash"},
      {"iban", "string", "pii", "IBAN", "partial(4)"},
      {"national_id", "string", "pii", "National identifier", "redact"},
      {"salary", "number", "confidential", "Salary", "null"},
      {"margin", "number", "confidential", "Margin", "null"},
      {"cost_price", "number", "confidential", "Cost price", "null"},
      {"credit_score", "integer", "confidential", "Credit score", "null"},
      {"contract_value", "number", "confidential", "Contract value", "null"},
      {"amount", "number", "internal", "Amount", ""},
      {"tax_amount", "number", "internal", "Tax amount", ""},
      {"discount", "number", "internal", "Discount", ""},
      {"quantity", "integer", "internal", "Quantity", ""},
      {"unit_price", "number", "internal", "Unit price", ""},
      {"status", "string", "internal", "Status", ""},
      {"channel", "string", "internal", "Sales channel", ""},
      {"segment", "string", "internal", "Customer segment", ""},
      {"score", "number", "internal", "Score", ""},
      {"campaign_id", "string", "internal", "Campaign", ""},
      {"store_id", "string", "internal", "Store", ""},
      {"device_id", "string", "internal", "Device", ""},
      {"sku", "string", "internal", "Stock keeping unit", ""},
      {"created_at", "timestamp", "internal", "Created at", ""},
      {"updated_at", "timestamp", "internal", "Updated at", ""},
      {"order_date", "date", "internal", "Order date", ""},
      {"event_time", "timestamp", "internal", "Event time", ""},
      {"is_active", "boolean", "internal", "Active", ""},
      {"country_code", "string", "public", "Country", ""},
      {"currency", "string", "public", "Currency", ""},
      {"region", "string", "public", "Region", ""},
      {"city", "string", "public", "City", ""},
      {"category", "string", "public", "Category", ""},
      {"brand", "string", "public", "Brand", ""},
      {"language", "string", "public", "Language", ""},
      {"latitude", "number", "public", "Latitude", ""},
      {"longitude", "number", "public", "Longitude", ""},
      {"weekday", "integer", "public", "Weekday", ""},
      {"fiscal_quarter", "string", "public", "Fiscal quarter", ""},
  };
  return kAttributes;
}

const std::vector<std::string> kAreas = {
    "sales",         "finance", "marketing", "customers", "orders",      "payments", "logistics",
    "inventory",     "people",  "support",   "risk",      "fraud",       "billing",  "pricing",
    "merchandising", "web",     "mobile",    "supply",    "procurement", "legal",    "claims",
    "fleet",         "energy",  "loyalty",   "partners"};
const std::vector<std::string> kRegions = {"emea", "apac", "amer", "latam", "nordics"};
const std::vector<std::string> kEntities = {
    "customer", "order",       "payment", "invoice", "shipment",     "product",
    "store",    "campaign",    "lead",    "account", "subscription", "ticket",
    "claim",    "policy",      "device",  "session", "employee",     "supplier",
    "contract", "transaction", "refund",  "booking", "trip",         "reading",
    "loan",     "visit",       "return",  "price",   "stock",        "offer"};
const std::vector<std::string> kQualifiers = {
    "daily",  "history",  "snapshot", "enriched", "summary", "events",   "facts",
    "scores", "forecast", "metrics",  "current",  "monthly", "cleansed", "aggregates"};
const std::vector<std::string> kPeople = {
    "anna",  "ben",  "chen", "dara",  "elif", "femi",   "goran", "hana",  "ines",
    "jonas", "kofi", "lena", "mateo", "nour", "omar",   "priya", "quinn", "rosa",
    "sven",  "tara", "umar", "vera",  "wei",  "ximena", "yusuf", "zoe"};
const std::vector<std::string> kTags = {"finance",    "gdpr",         "kpi",        "reporting",
                                        "ml-feature", "customer-360", "realtime",   "batch",
                                        "certified",  "experimental", "regulatory", "marketing",
                                        "operations", "golden-source"};
const std::vector<std::string> kWords = {
    "the",      "daily",  "record", "of",        "each",      "customer",    "order",
    "as",       "billed", "and",    "shipped",   "by",        "region",      "with",
    "its",      "status", "used",   "for",       "reporting", "forecasting", "revenue",
    "margin",   "churn",  "models", "one",       "row",       "per",         "event",
    "cleansed", "joined", "to",     "reference", "data",      "refreshed",   "every",
    "hour",     "from",   "source", "systems"};

/// Deterministic draws (one seed: the same catalog on every machine).
struct Generator {
  std::mt19937_64 rng{20240605};
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[rng() % v.size()];
  }
  std::string Sentence(int lo, int hi) {
    std::string s;
    for (int i = Int(lo, hi); i > 0; --i) s += (s.empty() ? "" : " ") + Pick(kWords);
    s[0] = static_cast<char>(std::toupper(s[0]));
    return s + ".";
  }
  /// A username: first name, an initial, a number (anna.k12).
  std::string Person(int n) {
    return kPeople[n % kPeople.size()] + "." + static_cast<char>('a' + n % 23) +
           std::to_string(n % 97);
  }
};

std::string DomainName(int d) {
  std::string name = kAreas[d % kAreas.size()];
  size_t round = d / kAreas.size();
  if (round == 0) return name;
  if (round <= kRegions.size()) return name + "_" + kRegions[round - 1];
  return name + "_" + std::to_string(round);
}

/// Products per domain: weights 1 / (d + 3), so the largest domain holds about 17 times the
/// smallest (at 10,000 products: about 1,100 and 65).
std::vector<int> DomainSizes(int products, int domains) {
  std::vector<double> w;
  double sum = 0;
  for (int d = 0; d < domains; ++d) sum += w.emplace_back(1.0 / (d + 3));
  std::vector<int> sizes;
  int given = 0;
  for (int d = 0; d < domains; ++d) {
    sizes.push_back(std::max(1, static_cast<int>(std::floor(products * w[d] / sum))));
    given += sizes.back();
  }
  for (int d = 0; given < products; d = (d + 1) % domains, ++given) ++sizes[d];
  for (int d = domains - 1; given > products; d = (d + domains - 1) % domains) {
    if (sizes[d] > 1) --sizes[d], --given;
  }
  return sizes;
}

spec::Domain MakeDomain(Generator& g, int d, int people) {
  spec::Domain domain;
  domain.name = DomainName(d);
  if (!g.Chance(0.1)) domain.description = g.Sentence(6, 14);
  int base = d * 11;
  for (int i = g.Chance(0.25) ? 1 : 2; i > 0; --i) domain.owners.push_back(g.Person(base + i));
  for (int i = g.Int(3, 8); i > 0; --i) domain.members.push_back(g.Person((base + 3 + i) % people));
  return domain;
}

std::string Classification(Generator& g, const Attribute& a) {
  if (g.Chance(0.09)) return "";
  if (g.Chance(0.005)) return "sensitive";
  std::string c = a.classification;
  if (g.Chance(0.015))
    c = c == "pii" ? "PII" : std::string(1, static_cast<char>(std::toupper(c[0]))) + c.substr(1);
  return c;
}

spec::Property MakeColumn(Generator& g, const Attribute& a) {
  spec::Property p;
  p.name = a.name;
  if (g.Chance(0.003)) {  // camelCase slips in
    auto under = p.name.find('_');
    if (under != std::string::npos && under + 1 < p.name.size()) {
      p.name = p.name.substr(0, under) + static_cast<char>(std::toupper(p.name[under + 1])) +
               p.name.substr(under + 2);
    }
  }
  p.logical_type = a.logical_type;
  if (p.logical_type == std::string("number") && g.Chance(0.6))
    p.physical_type = "DECIMAL(18,2)";
  else if (g.Chance(0.2))
    p.physical_type = p.logical_type == std::string("string") ? "VARCHAR" : "";
  p.classification = Classification(g, a);
  std::string lower = p.classification;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if ((lower == "pii" && g.Chance(0.9)) || (lower == "confidential" && g.Chance(0.75))) {
    p.mask = a.mask;
  } else if (lower == "public" && g.Chance(0.003)) {
    p.mask = "redact";
  }
  if (g.Chance(0.75)) p.business_name = a.business_name;
  double d = std::uniform_real_distribution<double>(0, 1)(g.rng);
  if (d < 0.8)
    p.description = g.Sentence(5, 14);
  else if (d < 0.88)
    p.description = a.name;
  return p;
}

spec::QualityRule Rule(const std::string& metric, const std::string& column,
                       const std::string& severity) {
  spec::QualityRule r;
  r.type = "library";
  r.metric = metric;
  r.column = column;
  r.severity = severity;
  r.dimension = metric == "duplicateValues" ? "uniqueness" : "completeness";
  r.op = metric == "rowCount" ? "mustBeGreaterThan" : "mustBe";
  r.operands = {0};
  r.operand_text = "0";
  return r;
}

/// One table of `columns` columns: a key first (a quality rule on it, mostly), then attributes
/// drawn by weight without repeats.
spec::SchemaObject MakeTable(Generator& g, const std::string& name, const std::string& entity,
                             int columns) {
  spec::SchemaObject t;
  t.name = name;
  spec::Property key;
  key.name = entity + "_id";
  key.logical_type = g.Chance(0.5) ? "string" : "integer";
  key.primary_key = g.Chance(0.96);
  key.required = true;
  key.classification = g.Chance(0.92) ? "internal" : "";
  key.business_name = g.Chance(0.8) ? "Identifier" : "";
  key.description = "Identifies the " + entity + ".";
  if (key.primary_key && g.Chance(0.82)) {
    key.quality.push_back(Rule("duplicateValues", key.name, "error"));
    if (g.Chance(0.5)) key.quality.push_back(Rule("nullValues", key.name, "error"));
  }
  t.properties.push_back(key);
  std::set<int> taken;
  static const double kWeights[] = {0.45, 0.6, 1.2, 1.0};
  std::vector<double> cumulative;
  double sum = 0;
  for (const auto& a : Attributes()) {
    std::string c = a.classification;
    sum += kWeights[c == "pii" ? 0 : c == "confidential" ? 1 : c == "internal" ? 2 : 3];
    cumulative.push_back(sum);
  }
  while (static_cast<int>(t.properties.size()) < columns) {
    double u = std::uniform_real_distribution<double>(0, sum)(g.rng);
    int i = static_cast<int>(std::lower_bound(cumulative.begin(), cumulative.end(), u) -
                             cumulative.begin());
    i = std::min(i, static_cast<int>(cumulative.size()) - 1);
    if (!taken.insert(i).second) continue;
    t.properties.push_back(MakeColumn(g, Attributes()[i]));
    if (t.properties.back().name == "status" && g.Chance(0.2)) {
      spec::QualityRule r = Rule("invalidValues", "status", "warning");
      r.valid_values = {"open", "closed", "pending"};
      t.properties.back().quality.push_back(r);
    }
  }
  if (g.Chance(0.4)) t.quality.push_back(Rule("rowCount", "", "error"));
  if (g.Chance(0.05) && t.properties.size() > 2) {
    spec::QualityRule r = Rule("duplicateValues", "", "warning");
    r.properties = {t.properties[1].name, t.properties[2].name};
    t.quality.push_back(r);
  }
  return t;
}

void AddSla(Generator& g, spec::Contract& c) {
  if (g.Chance(0.15)) return;
  if (g.Chance(0.9)) {
    bool hours = g.Chance(0.8);
    c.sla.push_back(
        {"latency", std::to_string(hours ? g.Int(1, 48) : g.Int(1, 3)), hours ? "h" : "d", "", {}});
  } else {
    c.sla.push_back({"freshness", std::to_string(g.Int(1, 12)), "h", "", {}});
  }
  c.sla.push_back({"frequency", "1", "d", "", {}});
  if (g.Chance(0.6)) c.sla.push_back({"retention", std::to_string(g.Int(1, 10)), "y", "", {}});
  if (g.Chance(0.5)) c.sla.push_back({"availability", "99.9", "%", "", {}});
}

std::string ProductStatus(Generator& g) {
  double u = std::uniform_real_distribution<double>(0, 1)(g.rng);
  return u < 0.78   ? "active"
         : u < 0.86 ? "draft"
         : u < 0.93 ? "deprecated"
         : u < 0.97 ? "proposed"
                    : "retired";
}

std::string Purpose(Generator& g) {
  double u = std::uniform_real_distribution<double>(0, 1)(g.rng);
  if (u < 0.88) return g.Sentence(8, 24);
  if (u < 0.92) return g.Chance(0.5) ? "TBD" : "todo";
  if (u < 0.95) return "Orders data.";
  return "";
}

/// The contract of one output port: its schema, SLA and access.
spec::Contract MakeContract(Generator& g, const std::string& id, const std::string& port,
                            const std::string& entity, int columns, const std::string& status) {
  spec::Contract c;
  c.api_version = "v3.1.0";
  c.kind = "DataContract";
  c.id = id;
  c.name = port;
  c.version = g.Chance(0.003) ? "2024-01" : "1." + std::to_string(g.Int(0, 9)) + ".0";
  c.status = status == "active" && g.Chance(0.03) ? "draft" : status;
  double v = std::uniform_real_distribution<double>(0, 1)(g.rng);
  c.visibility = v < 0.3 ? "public" : v < 0.85 ? "restricted" : v < 0.95 ? "private" : "";
  if (c.visibility == "restricted" && g.Chance(0.35))
    c.row_filter = "region = principal_attr('region')";
  c.schema.push_back(MakeTable(g, port, entity, columns));
  AddSla(g, c);
  if (status == "deprecated" && g.Chance(0.6)) {
    c.source_text = "slaProperties:\n  - property: endOfSupport\n    value: 2026-0" +
                    std::to_string(g.Int(1, 9)) + "-01\n";
  }
  return c;
}

/// One product of `domain`: 20 columns over one port, or two (14 + 6); a few have a third port
/// whose contract was never written.
spec::ProductBundle MakeProduct(Generator& g, const spec::Domain& domain, int index,
                                std::set<std::string>& names, int people) {
  spec::ProductBundle b;
  spec::Product& p = b.product;
  std::string entity = g.Pick(kEntities);
  p.name = entity + "_" + g.Pick(kQualifiers);
  if (!names.insert(p.name).second) {
    p.name += "_" + std::to_string(index);
    names.insert(p.name);
  }
  if (g.Chance(0.005))
    p.name[p.name.find('_') + 1] = static_cast<char>(std::toupper(p.name[p.name.find('_') + 1]));
  p.api_version = "v1.0.0";
  p.kind = "DataProduct";
  p.id = "urn:plexus:" + domain.name + ":" + p.name;
  p.domain = domain.name;
  p.version = g.Chance(0.005)
                  ? "1.2"
                  : "1." + std::to_string(g.Int(0, 12)) + "." + std::to_string(g.Int(0, 9));
  p.status = ProductStatus(g);
  p.purpose = Purpose(g);
  if (g.Chance(0.7)) p.usage = g.Sentence(5, 12);
  if (!g.Chance(0.15)) {
    for (int t = g.Int(1, 4); t > 0; --t) p.tags.push_back(g.Pick(kTags));
    if (g.Chance(0.02)) p.tags.push_back("Finance Reporting");
  }
  if (!g.Chance(0.05)) {
    p.team_name = domain.name + " " + entity + " team";
    int members = g.Chance(0.04) ? 0 : g.Int(1, 6);
    for (int m = 0; m < members; ++m) {
      std::string who = g.Chance(0.75) ? g.Pick(m == 0 ? domain.owners : domain.members)
                                       : g.Person(g.Int(0, people + 200));
      std::string role = m == 0 && g.Chance(0.9)   ? "owner"
                         : m == 1 && g.Chance(0.5) ? "data steward"
                                                   : "member";
      p.team.push_back({who, "", role});
    }
  }
  bool two = g.Chance(0.2);
  std::vector<std::pair<std::string, int>> ports = {{p.name, two ? 14 : 20}};
  if (two) ports.push_back({entity + "_kpis", 6});
  for (const auto& [port, columns] : ports) {
    spec::OutputPort out;
    out.name = port;
    out.type = "tables";
    out.version = g.Chance(0.1) ? "2." + std::to_string(g.Int(0, 4)) + ".0"
                                : "1." + std::to_string(g.Int(0, 9)) + ".0";
    out.contract_id = domain.name + "." + p.name + "." + port;
    if (g.Chance(0.85)) out.description = g.Sentence(6, 16);
    b.contracts[out.contract_id] =
        MakeContract(g, out.contract_id, port, entity, columns, p.status);
    p.output_ports.push_back(out);
  }
  if (g.Chance(0.005)) {
    spec::OutputPort out;
    out.name = entity + "_raw";
    out.version = "0.1.0";
    out.contract_id = g.Chance(0.5) ? "" : domain.name + "." + p.name + ".raw.missing";
    p.output_ports.push_back(out);
  }
  return b;
}

/// A port an input port may read: its product (domain and product index) and contract.
struct PortRef {
  int domain = 0;
  size_t product = 0;
  std::string contract_id;
  std::string version;
};

/// Input ports, once every product exists: 65% of the products read 1 to 3 ports, 70% of them in
/// their own domain; 2% read a contract outside the mesh; a few read a later product (which makes
/// the odd cycle).
void AddInputPorts(Generator& g, spec::Mesh& mesh) {
  std::vector<PortRef> all;
  std::vector<std::vector<size_t>> by_domain(mesh.domains.size());
  for (size_t d = 0; d < mesh.domains.size(); ++d) {
    for (size_t i = 0; i < mesh.domains[d].products.size(); ++i) {
      for (const auto& out : mesh.domains[d].products[i].product.output_ports) {
        if (!mesh.domains[d].products[i].contracts.count(out.contract_id)) continue;
        by_domain[d].push_back(all.size());
        all.push_back({static_cast<int>(d), i, out.contract_id, out.version});
      }
    }
  }
  for (size_t d = 0; d < mesh.domains.size(); ++d) {
    for (size_t i = 0; i < mesh.domains[d].products.size(); ++i) {
      auto& product = mesh.domains[d].products[i].product;
      if (!g.Chance(0.65)) continue;
      for (int n = g.Int(1, 3); n > 0; --n) {
        spec::InputPort in;
        in.name = "in_" + std::to_string(n);
        if (g.Chance(0.02)) {
          in.contract_id = "external.crm.accounts";
          in.version = "1.0.0";
        } else {
          bool own = g.Chance(0.7) && by_domain[d].size() > 1;
          const PortRef& up = own ? all[g.Pick(by_domain[d])] : g.Pick(all);
          bool backwards = up.domain < static_cast<int>(d) ||
                           (up.domain == static_cast<int>(d) && up.product < i);
          if (up.domain == static_cast<int>(d) && up.product == i) continue;
          if (!backwards && !g.Chance(0.02)) continue;  // mostly a DAG: read what came before
          in.contract_id = up.contract_id;
          in.version = up.version;
        }
        product.input_ports.push_back(in);
      }
    }
  }
}

spec::Mesh GenerateMesh(int products) {
  Generator g;
  spec::Mesh mesh;
  mesh.name = "bench";
  mesh.access.default_visibility = "restricted";
  mesh.access.masks["restricted"] = {"null", {"admin"}, {}};
  int domains = std::max(1, products / 200);
  int people = domains * 11 + 40;
  std::vector<int> sizes = DomainSizes(products, domains);
  for (int d = 0; d < domains; ++d) {
    spec::Domain domain = MakeDomain(g, d, people);
    std::set<std::string> names;
    for (int i = 0; i < sizes[d]; ++i)
      domain.products.push_back(MakeProduct(g, domain, i, names, people));
    mesh.domains.push_back(std::move(domain));
  }
  AddInputPorts(g, mesh);
  return mesh;
}

// ---- What a running mesh accumulates after the apply --------------------------------------------

Status AddPrincipalsAndGroups(Generator& g, catalog::Catalog& c, const spec::Mesh& mesh) {
  for (int i = 0; i < 300; ++i) {
    catalog::PrincipalRecord p;
    p.name = "analyst_" + std::to_string(i);
    p.kind = "user";
    PLEXUS_RETURN_IF_ERROR(c.CreatePrincipal(p, "bench"));
  }
  for (size_t d = 0; d < mesh.domains.size(); d += 5) {
    std::string group = mesh.domains[d].name + "_readers";
    for (int n = g.Int(5, 20); n > 0; --n) {
      Status s = c.AddGroupMember(group, "analyst_" + std::to_string(g.Int(0, 299)), "bench");
      if (!s.ok() && s.code() != plexus::StatusCode::kAlreadyExists) return s;
    }
  }
  for (int i = 0; i < 4; ++i) {
    PLEXUS_RETURN_IF_ERROR(
        c.SetPrincipalAdmin(mesh.domains[i % mesh.domains.size()].owners[0], true, "bench"));
  }
  for (size_t d = 7; d < mesh.domains.size(); d += 19) {
    PLEXUS_RETURN_IF_ERROR(
        c.SetPrincipalDisabled(catalog::ServicePrincipalName(mesh.domains[d].name), true, "bench"));
  }
  return Status::OK();
}

/// The product (domain.product) and port a contract id names in the generated mesh.
struct ContractOwner {
  std::string domain, product, port, visibility;
};

std::map<std::string, ContractOwner> ContractOwners(const spec::Mesh& mesh) {
  std::map<std::string, ContractOwner> owners;
  for (const auto& d : mesh.domains) {
    for (const auto& b : d.products) {
      for (const auto& out : b.product.output_ports) {
        auto c = b.contracts.find(out.contract_id);
        if (c == b.contracts.end()) continue;
        owners[out.contract_id] = {d.name, b.product.name, out.name,
                                   spec::EffectiveVisibility(mesh.access, c->second)};
      }
    }
  }
  return owners;
}

std::string FutureDate(Generator& g) {
  return std::to_string(2027 + g.Int(0, 2)) + "-0" + std::to_string(g.Int(1, 9)) + "-15";
}

/// Grants: most cross-domain reads of restricted or private ports, to the reader's service
/// principal; consumers' grants on any product, some revoked, some without an expiry or with a
/// purpose nobody could audit.
Result<int> AddGrants(Generator& g, catalog::Catalog& c, const spec::Mesh& mesh) {
  auto owners = ContractOwners(mesh);
  int made = 0;
  std::set<std::string> given;
  for (const auto& d : mesh.domains) {
    for (const auto& b : d.products) {
      for (const auto& in : b.product.input_ports) {
        auto up = owners.find(in.contract_id);
        if (up == owners.end() || up->second.domain == d.name || up->second.visibility == "public")
          continue;
        if (!g.Chance(0.65)) continue;
        catalog::GrantRecord grant;
        grant.grantee = catalog::ServicePrincipalName(d.name);
        grant.target = up->second.domain + "." + up->second.product;
        if (g.Chance(0.3)) grant.target += "." + up->second.port;
        if (!given.insert(grant.grantee + " " + grant.target).second) continue;
        grant.purpose = "pipeline " + b.product.name + " reads it";
        if (g.Chance(0.5)) grant.expires_at = FutureDate(g);
        PLEXUS_RETURN_IF_ERROR(c.CreateGrant(grant, "bench").status());
        ++made;
      }
    }
  }
  std::vector<std::string> products;
  for (const auto& d : mesh.domains) {
    for (const auto& b : d.products) products.push_back(d.name + "." + b.product.name);
  }
  for (int i = 0; i < 1500; ++i) {
    catalog::GrantRecord grant;
    bool group = g.Chance(0.15);
    grant.grantee = group ? mesh.domains[(g.Int(0, 9) * 5) % mesh.domains.size()].name + "_readers"
                          : "analyst_" + std::to_string(g.Int(0, 299));
    if (group && g.Chance(0.2)) grant.grantee = "auditors_" + std::to_string(g.Int(0, 2));
    grant.grantee_kind = group ? "group" : "principal";
    grant.target = g.Pick(products);
    grant.purpose =
        g.Chance(0.1) ? "x" : "quarterly " + g.Pick(kTags) + " analysis for " + g.Pick(kAreas);
    if (g.Chance(0.6)) grant.expires_at = FutureDate(g);
    PLEXUS_ASSIGN_OR_RETURN(int64_t id, c.CreateGrant(grant, "bench"));
    if (g.Chance(0.05)) PLEXUS_RETURN_IF_ERROR(c.RevokeGrant(id, "bench"));
    ++made;
  }
  return made;
}

/// Runs (1 to 5 for 70% of the products, one in ten failed), publications of the ports built, and
/// the quality results of their last check.
/// The result of `rule` (the rule at `position` of `port`'s contract) checked by `run` at `at`.
catalog::QualityResultRecord CheckResult(int64_t run, const catalog::OutputPortRecord& port,
                                         int position, const spec::QualityRule& rule,
                                         const std::string& status, const std::string& at) {
  catalog::QualityResultRecord q;
  q.run_id = run;
  q.product_id = port.product_id;
  q.port = port.name;
  q.major = port.major;
  q.rule_position = position;
  q.rule = rule.metric;
  q.column = rule.column;
  q.check = rule.metric;
  q.status = status;
  q.severity = rule.severity;
  q.checked_at = at;
  return q;
}

Status AddRunsAndChecks(Generator& g, catalog::Catalog& c, const spec::Mesh& mesh) {
  std::vector<catalog::QualityResultRecord> results;
  std::string now = catalog::NowUtc();
  for (const auto& d : mesh.domains) {
    for (const auto& b : d.products) {
      if (!g.Chance(0.7)) continue;
      int64_t last = 0;
      bool ok = false;
      for (int r = g.Int(1, 5); r > 0; --r) {
        PLEXUS_ASSIGN_OR_RETURN(last, c.StartRun(b.product.id));
        ok = !g.Chance(0.1);
        PLEXUS_RETURN_IF_ERROR(c.FinishRun(last, ok ? "succeeded" : "failed",
                                           ok ? "" : "quality check failed: duplicateValues",
                                           1000));
      }
      if (!ok && g.Chance(0.5)) continue;
      for (const auto& out : b.product.output_ports) {
        auto contract = b.contracts.find(out.contract_id);
        if (contract == b.contracts.end() || !g.Chance(0.9)) continue;
        catalog::OutputPortRecord port;
        port.product_id = b.product.id;
        port.name = out.name;
        port.major = catalog::MajorOf(out.version);
        PLEXUS_RETURN_IF_ERROR(c.RecordPublication(port, g.Int(100, 5000000), last));
        int position = 0;
        auto record = [&](const spec::QualityRule& rule) {
          catalog::QualityResultRecord q = CheckResult(last, port, position++, rule,
                                                       g.Chance(0.08) ? "failed" : "passed", now);
          q.has_measured = true;
          q.measured = q.status == "failed" ? g.Int(1, 40) : 0;
          q.unit = "rows";
          results.push_back(q);
        };
        const auto& table = contract->second.schema.front();
        for (const auto& rule : table.quality) record(rule);
        for (const auto& prop : table.properties) {
          for (const auto& rule : prop.quality) record(rule);
        }
      }
    }
  }
  return c.RecordQualityResults(results);
}

/// Column lineage: each input port copies 2 to 5 of its upstream's columns into its product's first
/// port (one in five is only read by a join or filter).
Status AddColumnLineage(Generator& g, catalog::Catalog& c, const spec::Mesh& mesh) {
  std::map<std::string, const spec::SchemaObject*> tables;
  std::map<std::string, ContractOwner> owners = ContractOwners(mesh);
  for (const auto& d : mesh.domains) {
    for (const auto& b : d.products) {
      for (const auto& [id, contract] : b.contracts) tables[id] = &contract.schema.front();
    }
  }
  std::vector<catalog::ColumnLineageRecord> edges;
  std::vector<std::string> downstream;
  for (const auto& d : mesh.domains) {
    for (const auto& b : d.products) {
      const auto& first = b.product.output_ports.front();
      auto mine = tables.find(first.contract_id);
      if (mine == tables.end()) continue;
      for (const auto& in : b.product.input_ports) {
        auto up = tables.find(in.contract_id);
        if (up == tables.end()) continue;
        const auto& from = owners[in.contract_id];
        if (downstream.empty() || downstream.back() != d.name + "." + b.product.name) {
          downstream.push_back(d.name + "." + b.product.name);
        }
        for (int n = g.Int(2, 5); n > 0; --n) {
          const auto& uc = g.Pick(up->second->properties);
          const auto& dc = g.Pick(mine->second->properties);
          edges.push_back({d.name + "." + b.product.name, first.name, dc.name,
                           from.domain + "." + from.product, from.port, uc.name, in.name,
                           !g.Chance(0.2)});
        }
      }
    }
  }
  return c.ReplaceColumnLineage(downstream, edges);
}

/// Generates the mesh, applies it, then adds what a running mesh accumulates. Returns seconds.
Result<double> GenerateCatalog(catalog::Catalog& c, int products) {
  auto start = Clock::now();
  std::cerr << "governance_bench: generating " << products << " products\n";
  spec::Mesh mesh = GenerateMesh(products);
  std::cerr << "governance_bench: applying (about 1 ms per product)\n";
  PLEXUS_RETURN_IF_ERROR(c.Apply(mesh, "bench").status());
  std::cerr << "governance_bench: applied in " << MillisSince(start) / 1000
            << " s; adding principals, grants, runs, checks, lineage\n";
  Generator g;
  g.rng.seed(77);
  PLEXUS_RETURN_IF_ERROR(AddPrincipalsAndGroups(g, c, mesh));
  PLEXUS_RETURN_IF_ERROR(AddGrants(g, c, mesh).status());
  PLEXUS_RETURN_IF_ERROR(AddRunsAndChecks(g, c, mesh));
  PLEXUS_RETURN_IF_ERROR(AddColumnLineage(g, c, mesh));
  return MillisSince(start) / 1000;
}

// ---- The policies -------------------------------------------------------------------------------

// 39 policies as a mesh's governance files would hold them, next to the built-in 11.
constexpr const char* kBenchPolicies = R"yaml(apiVersion: plexus/v1
kind: Policies
policies:
  - id: team-owner-role
    title: Every team names an owner
    severity: warn
    sql: |
      SELECT p.qualified_name AS entity, 'team ' || p.team_name || ' names no member with role owner' AS message
      FROM products p
      WHERE p.team_name <> ''
        AND NOT EXISTS (SELECT 1 FROM team_members t WHERE t.product_id = p.id AND lower(t.role) = 'owner')
  - id: wide-products-steward
    title: Wide products have a data steward
    severity: info
    parameters:
      min_columns: {description: Columns from which a steward is needed, default: 15, min: 1, max: 1000}
    sql: |
      SELECT p.qualified_name AS entity, 'has ' || c.n || ' columns but no data steward in its team' AS message
      FROM products p
      JOIN (SELECT product_id, count(*) AS n FROM columns GROUP BY product_id) c ON c.product_id = p.id
      WHERE c.n > $min_columns
        AND NOT EXISTS (SELECT 1 FROM team_members t WHERE t.product_id = p.id AND lower(t.role) = 'data steward')
  - id: domain-untagged-products
    title: A domain has few products without tags
    severity: warn
    parameters:
      max_untagged: {description: Products without tags a domain may have, default: 10, min: 0, max: 10000}
    sql: |
      SELECT p.domain AS entity, count(*) || ' products without tags; the mesh allows ' || $max_untagged AS message
      FROM products p
      WHERE NOT EXISTS (SELECT 1 FROM product_tags t WHERE t.product_id = p.id)
      GROUP BY p.domain HAVING count(*) > $max_untagged
  - id: public-port-pii
    title: Public ports show no personal data in the clear
    severity: block
    sql: |
      SELECT c.qualified_name AS entity, 'pii column on a public port without a mask' AS message
      FROM columns c
      JOIN ports p ON p.product_id = c.product_id AND p.name = c.port AND p.major = c.major
      WHERE p.visibility = 'public' AND lower(c.classification) = 'pii' AND c.mask = ''
  - id: restricted-pii-row-filter
    title: Restricted ports with personal data have a row filter or are private
    severity: warn
    parameters:
      min_pii_columns: {description: pii columns from which a row filter is needed, default: 3, min: 1, max: 100}
    sql: |
      SELECT p.qualified_name AS entity,
             'restricted port with ' || count(*) || ' pii columns and no row filter: set rowFilter or make it private' AS message
      FROM ports p
      JOIN columns c ON c.product_id = p.product_id AND c.port = p.name AND c.major = p.major
      WHERE p.visibility = 'restricted' AND p.row_filter = '' AND lower(c.classification) = 'pii'
      GROUP BY p.qualified_name HAVING count(*) >= $min_pii_columns
  - id: sensitive-business-name
    title: Sensitive columns have a business name
    severity: warn
    parameters:
      classifications: {description: Classifications that need one, default: [pii, confidential], allowed: [pii, confidential, restricted, internal]}
    sql: |
      SELECT qualified_name AS entity, lower(classification) || ' column without a businessName' AS message
      FROM columns
      WHERE list_contains($classifications, lower(classification)) AND trim(business_name) = ''
  - id: column-description
    title: Columns are described
    severity: info
    parameters:
      min_length: {description: Fewest characters of a description, default: 10, min: 1, max: 500}
    sql: |
      SELECT qualified_name AS entity, 'description has ' || length(trim(description)) || ' characters; at least ' || $min_length AS message
      FROM columns WHERE length(trim(description)) < $min_length
  - id: popular-availability-sla
    title: Products many others read declare their availability
    severity: warn
    parameters:
      max_consumers: {description: Readers from which availability must be declared, default: 3, min: 0, max: 1000}
    sql: |
      SELECT l.upstream AS entity, count(DISTINCT l.downstream) || ' products read it but it declares no availability SLA' AS message
      FROM lineage l JOIN products p ON p.qualified_name = l.upstream
      WHERE NOT EXISTS (SELECT 1 FROM sla_properties s WHERE s.product_id = p.id AND lower(s.property) = 'availability')
      GROUP BY l.upstream HAVING count(DISTINCT l.downstream) > $max_consumers
  - id: popular-quality-rules
    title: Products many others read have error-level quality rules
    severity: warn
    parameters:
      max_consumers: {description: Readers from which a rule is needed, default: 2, min: 0, max: 1000}
    sql: |
      SELECT p.qualified_name AS entity, 'read by ' || d.n || ' products but has no quality rule of severity error' AS message
      FROM products p
      JOIN (SELECT upstream, count(DISTINCT downstream) AS n FROM lineage GROUP BY upstream) d ON d.upstream = p.qualified_name
      WHERE d.n > $max_consumers
        AND NOT EXISTS (SELECT 1 FROM quality_rules q WHERE q.product_id = p.id AND q.severity = 'error')
  - id: latency-objective
    title: Latency objectives are at most a day
    severity: warn
    parameters:
      max_hours: {description: Longest latency allowed (hours), default: 24, min: 1, max: 720}
    sql: |
      SELECT s.domain || '.' || s.product || '.' || s.port AS entity,
             'latency of ' || s.value || ' ' || s.unit || ' exceeds the mesh''s ' || $max_hours || ' hours' AS message
      FROM sla_properties s
      WHERE lower(s.property) = 'latency'
        AND TRY_CAST(s.value AS DOUBLE) * CASE lower(s.unit) WHEN 'm' THEN 1.0 / 60 WHEN 'h' THEN 1 WHEN 'd' THEN 24
                                                        WHEN 'w' THEN 168 ELSE 24 END > $max_hours
  - id: pii-retention
    title: Ports holding personal data declare a retention
    severity: warn
    sql: |
      SELECT p.qualified_name AS entity, 'holds pii but declares no retention in slaProperties' AS message
      FROM ports p
      WHERE EXISTS (SELECT 1 FROM columns c WHERE c.product_id = p.product_id AND c.port = p.name
                      AND c.major = p.major AND lower(c.classification) = 'pii')
        AND NOT EXISTS (SELECT 1 FROM sla_properties s WHERE s.product_id = p.product_id AND s.port = p.name
                          AND s.major = p.major AND lower(s.property) = 'retention')
  - id: retention-limit
    title: Personal data is kept no longer than the mesh allows
    severity: block
    parameters:
      max_years: {description: Longest retention of pii (years), default: 7, min: 1, max: 100}
    sql: |
      SELECT s.domain || '.' || s.product || '.' || s.port AS entity,
             'keeps pii ' || s.value || ' ' || s.unit || '; the mesh allows ' || $max_years || ' years' AS message
      FROM sla_properties s
      WHERE lower(s.property) = 'retention'
        AND TRY_CAST(s.value AS DOUBLE) * CASE lower(s.unit) WHEN 'y' THEN 1 WHEN 'm' THEN 1.0 / 12 WHEN 'd' THEN 1.0 / 365 ELSE 1 END > $max_years
        AND EXISTS (SELECT 1 FROM columns c WHERE c.product_id = s.product_id AND c.port = s.port
                      AND c.major = s.major AND lower(c.classification) = 'pii')
  - id: slo-met
    title: Freshness objectives are met
    severity: warn
    sql: |
      SELECT domain || '.' || product || '.' || port AS entity,
             property || ' objective of ' || round(objective_seconds / 3600, 1) || ' h breached: last published ' ||
             round(age_seconds / 3600, 1) || ' h ago' AS message
      FROM slo_status WHERE status = 'breached'
  - id: last-run-succeeded
    title: A product's last run succeeded
    severity: warn
    sql: |
      SELECT domain || '.' || product AS entity, 'last run failed: ' || arg_max(reason, id) AS message
      FROM runs GROUP BY domain, product HAVING arg_max(status, id) = 'failed'
  - id: run-failure-rate
    title: Runs rarely fail
    severity: info
    parameters:
      max_failure_share: {description: Share of runs that may fail, default: 0.2, min: 0, max: 1}
      min_runs: {description: Runs before the share counts, default: 3, min: 1, max: 1000}
    sql: |
      SELECT domain || '.' || product AS entity, count_if(status = 'failed') || ' of ' || count(*) || ' runs failed' AS message
      FROM runs GROUP BY domain, product
      HAVING count(*) >= $min_runs AND count_if(status = 'failed') > $max_failure_share * count(*)
  - id: quality-checks-pass
    title: The last check of every error-level rule passed
    severity: warn
    sql: |
      SELECT domain || '.' || product || '.' || port || CASE WHEN column_name <> '' THEN '.' || column_name ELSE '' END AS entity,
             check_name || ' failed (measured ' || measured || ')' AS message
      FROM (SELECT domain, product, port, column_name, check_name, measured, status, severity,
                   row_number() OVER (PARTITION BY product_id, port, major, rule_position ORDER BY id DESC) AS newest
            FROM quality_results) r
      WHERE newest = 1 AND status = 'failed' AND severity = 'error'
  - id: port-quality-rules
    title: Every port has quality rules
    severity: warn
    parameters:
      min_rules: {description: Fewest rules a port may have, default: 1, min: 0, max: 100}
    sql: |
      SELECT p.qualified_name AS entity, 'has ' || coalesce(q.n, 0) || ' quality rule(s); at least ' || $min_rules AS message
      FROM ports p
      LEFT JOIN (SELECT product_id, port, major, count(DISTINCT position) AS n FROM quality_rules GROUP BY ALL) q
        ON q.product_id = p.product_id AND q.port = p.name AND q.major = p.major
      WHERE p.has_contract AND coalesce(q.n, 0) < $min_rules
  - id: domain-quality-coverage
    title: Most of a domain's ports have quality rules
    severity: info
    parameters:
      min_share: {description: Share of ports with a rule, default: 0.8, min: 0, max: 1}
    sql: |
      SELECT p.domain AS entity,
             'only ' || round(100 * avg(CASE WHEN q.product_id IS NULL THEN 0 ELSE 1 END), 1) || '% of its ports have quality rules' AS message
      FROM ports p
      LEFT JOIN (SELECT DISTINCT product_id, port, major FROM quality_rules) q
        ON q.product_id = p.product_id AND q.port = p.name AND q.major = p.major
      GROUP BY p.domain HAVING avg(CASE WHEN q.product_id IS NULL THEN 0 ELSE 1 END) < $min_share
  - id: domain-size
    title: Domains stay a size one team can own
    severity: info
    parameters:
      max_products: {description: Most products a domain may have, default: 500, min: 1, max: 100000}
    sql: |
      SELECT domain AS entity, count(*) || ' products; the mesh suggests at most ' || $max_products AS message
      FROM products GROUP BY domain HAVING count(*) > $max_products
  - id: domain-owners
    title: Domains have enough owners
    severity: block
    parameters:
      min_owners: {description: Fewest owners of a domain, default: 2, min: 1, max: 20}
    sql: |
      SELECT d.name AS entity, 'has ' || count(m.principal) || ' owner(s); at least ' || $min_owners AS message
      FROM domains d LEFT JOIN members m ON m.domain = d.name AND m.role = 'owner'
      GROUP BY d.name HAVING count(m.principal) < $min_owners
  - id: service-principal-enabled
    title: Domains' service principals are enabled
    severity: warn
    sql: |
      SELECT m.domain AS entity, 'service principal ' || m.principal || ' is disabled: its pipelines cannot run' AS message
      FROM members m JOIN principals p ON lower(p.name) = lower(m.principal)
      WHERE m.role = 'service' AND p.disabled
  - id: team-members-known
    title: Team members are known principals
    severity: info
    sql: |
      SELECT t.domain || '.' || t.product AS entity, 'team member ' || t.username || ' is not a known principal' AS message
      FROM team_members t
      WHERE t.username <> '' AND NOT EXISTS (SELECT 1 FROM principals p WHERE lower(p.name) = lower(t.username))
  - id: team-owner-in-domain
    title: A product's owner belongs to its domain
    severity: info
    sql: |
      SELECT t.domain || '.' || t.product AS entity, 'owner ' || t.username || ' is not an owner or member of domain ' || t.domain AS message
      FROM team_members t
      WHERE lower(t.role) = 'owner'
        AND NOT EXISTS (SELECT 1 FROM members m WHERE m.domain = t.domain AND lower(m.principal) = lower(t.username))
  - id: grant-expiry
    title: Grants to people expire within a year
    severity: warn
    parameters:
      max_days: {description: Longest a grant to a person may last (days), default: 365, min: 1, max: 3650}
    sql: |
      SELECT g.target AS entity,
             'grant ' || g.id || ' to ' || g.grantee ||
             CASE WHEN g.expires_at = '' THEN ' never expires' ELSE ' expires ' || g.expires_at END ||
             '; grants to people expire within ' || $max_days || ' days' AS message
      FROM grants g LEFT JOIN principals p ON lower(p.name) = lower(g.grantee)
      WHERE g.active AND coalesce(p.kind, 'group') <> 'service'
        AND (g.expires_at = '' OR CAST(left(g.expires_at, 10) AS DATE) > current_date + to_days(CAST($max_days AS INTEGER)))
  - id: grant-purpose
    title: Grants state their purpose
    severity: warn
    parameters:
      min_length: {description: Fewest characters of a purpose, default: 15, min: 1, max: 500}
    sql: |
      SELECT g.target AS entity, 'grant ' || g.id || ' to ' || g.grantee || ' states no purpose anyone could audit' AS message
      FROM grants g WHERE g.active AND length(trim(g.purpose)) < $min_length
  - id: grant-on-ending-product
    title: No grant in force on a deprecated or retired product
    severity: info
    sql: |
      SELECT g.target AS entity, 'grant ' || g.id || ' to ' || g.grantee || ' is on a ' || p.status || ' product' AS message
      FROM grants g
      JOIN products p ON p.qualified_name = split_part(g.target, '.', 1) || '.' || split_part(g.target, '.', 2)
      WHERE g.active AND p.status IN ('deprecated', 'retired')
  - id: grant-to-empty-group
    title: Grants go to groups with members
    severity: info
    sql: |
      SELECT g.target AS entity, 'grant ' || g.id || ' to group ' || g.grantee || ', which has no members' AS message
      FROM grants g
      WHERE g.active AND g.grantee_kind = 'group'
        AND NOT EXISTS (SELECT 1 FROM group_members m WHERE lower(m.group_name) = lower(g.grantee))
  - id: private-cross-domain-input
    title: No domain reads another domain's private port
    severity: block
    sql: |
      SELECT domain || '.' || product || '.' || name AS entity,
             'reads private port ' || upstream_domain || '.' || upstream_product || '.' || upstream_port || ' of another domain' AS message
      FROM input_ports WHERE upstream_visibility = 'private' AND upstream_domain <> domain
  - id: input-maturity
    title: Active products read no draft upstream
    severity: warn
    parameters:
      statuses: {description: Upstream statuses an active product may not read, default: [draft, proposed], allowed: [draft, proposed, deprecated]}
    sql: |
      SELECT i.domain || '.' || i.product || '.' || i.name AS entity,
             'active product reads ' || i.upstream_domain || '.' || i.upstream_product || ', which is ' || i.upstream_status AS message
      FROM input_ports i JOIN products p ON p.id = i.product_id
      WHERE p.status = 'active' AND list_contains($statuses, lower(i.upstream_status))
  - id: no-lineage-cycles
    title: No two products read each other
    severity: block
    sql: |
      SELECT a.downstream AS entity, 'reads ' || a.upstream || ', which reads it back' AS message
      FROM lineage a JOIN lineage b ON b.upstream = a.downstream AND b.downstream = a.upstream
      WHERE a.upstream <> a.downstream
  - id: lineage-depth
    title: Lineage chains stay short
    severity: info
    parameters:
      max_depth: {description: Most hops upstream of a product, default: 6, min: 1, max: 50}
    sql: |
      WITH RECURSIVE chain(product, depth) AS (
        SELECT DISTINCT downstream, 1 FROM lineage
        UNION
        SELECT l.downstream, c.depth + 1 FROM chain c JOIN lineage l ON l.upstream = c.product
        WHERE c.depth <= $max_depth)
      SELECT product AS entity, 'is more than ' || $max_depth || ' hops downstream of a source' AS message
      FROM chain GROUP BY product HAVING max(depth) > $max_depth
  - id: deprecated-end-of-support
    title: Deprecated versions announce their end of support
    severity: warn
    sql: |
      SELECT domain || '.' || product || '.' || port AS entity, 'major ' || major || ' is deprecated without an endOfSupport date' AS message
      FROM versions WHERE lower(status) = 'deprecated' AND end_of_support = ''
  - id: contract-status-matches
    title: Active products publish active contracts
    severity: warn
    sql: |
      SELECT p.qualified_name AS entity, 'product is active but contract ' || p.contract_id || ' is ' || c.status AS message
      FROM ports p JOIN contracts c ON c.id = p.contract_id JOIN products pr ON pr.id = p.product_id
      WHERE pr.status = 'active' AND lower(c.status) IN ('draft', 'proposed')
  - id: retired-not-read
    title: Nobody reads a retired product
    severity: warn
    sql: |
      SELECT l.downstream AS entity, 'reads ' || l.upstream || ', which is retired' AS message
      FROM lineage l JOIN products p ON p.qualified_name = l.upstream WHERE p.status = 'retired'
  - id: primary-key-declared
    title: Every port declares a primary key
    severity: warn
    sql: |
      SELECT p.qualified_name AS entity, 'no primary key column' AS message
      FROM ports p
      WHERE p.has_contract
        AND NOT EXISTS (SELECT 1 FROM columns c WHERE c.product_id = p.product_id AND c.port = p.name
                          AND c.major = p.major AND c.primary_key)
  - id: classification-vocabulary
    title: Classifications come from the mesh's vocabulary
    severity: warn
    parameters:
      allowed: {description: The classifications in use, default: [public, internal, confidential, pii, restricted], allowed: [public, internal, confidential, pii, restricted, sensitive, secret]}
    sql: |
      SELECT qualified_name AS entity,
             'classification ' || classification || ' is not one of ' || array_to_string($allowed, ', ') AS message
      FROM columns WHERE classification <> '' AND NOT list_contains($allowed, classification)
  - id: pii-lineage
    title: Columns copied from personal data stay classified
    severity: block
    sql: |
      SELECT c.qualified_name AS entity,
             'copied from pii column ' || l.upstream || '.' || l.upstream_port || '.' || l.upstream_column ||
             ' but classified ' || CASE WHEN c.classification = '' THEN 'nothing' ELSE c.classification END AS message
      FROM column_lineage l
      JOIN columns u ON u.domain || '.' || u.product = l.upstream AND u.port = l.upstream_port AND u.name = l.upstream_column
      JOIN columns c ON c.domain || '.' || c.product = l.downstream AND c.port = l.downstream_port AND c.name = l.downstream_column
      WHERE l.direct AND lower(u.classification) = 'pii' AND lower(c.classification) NOT IN ('pii', 'confidential')
  - id: purpose-placeholder
    title: No placeholder purpose
    severity: warn
    parameters:
      placeholders: {description: Texts that are no purpose, default: [tbd, todo, n/a, wip, tba], allowed: [tbd, todo, n/a, wip, tba, none, "-"]}
    sql: |
      SELECT qualified_name AS entity, 'purpose is a placeholder: ' || purpose AS message
      FROM products WHERE list_contains($placeholders, lower(trim(purpose)))
  - id: mesh-admins
    title: Few mesh admins
    severity: warn
    parameters:
      max_admins: {description: Most mesh admins, default: 3, min: 1, max: 100}
    sql: |
      SELECT 'mesh' AS entity, count(*) || ' enabled mesh admins; the mesh allows ' || $max_admins AS message
      FROM principals WHERE admin AND NOT disabled HAVING count(*) > $max_admins
)yaml";

Result<governance::PolicySet> BenchPolicySet() {
  std::vector<spec::Diagnostic> problems;
  auto file = spec::ParsePolicyText(kBenchPolicies, "bench policies", "global", &problems);
  if (!file.ok()) {
    std::string all;
    for (const auto& p : problems) all += "\n  " + p.ToString();
    return plexus::InvalidArgument("bench policies: " + file.status().message() + all);
  }
  governance::PolicySet set;
  set.policies = governance::BuiltinPolicies();
  for (auto& p : file->policies) set.policies.push_back(std::move(p));
  std::sort(set.policies.begin(), set.policies.end(),
            [](const spec::Policy& a, const spec::Policy& b) { return a.id < b.id; });
  return set;
}

/// A parameter's value as a DuckDB literal of the type the evaluator binds it as.
std::string Literal(const spec::PolicyValue& v) {
  switch (v.kind) {
    case spec::PolicyValue::Kind::kNumber: {
      std::ostringstream s;
      s.precision(17);
      s << "CAST(" << v.number << " AS DOUBLE)";
      return s.str();
    }
    case spec::PolicyValue::Kind::kBool:
      return v.boolean ? "true" : "false";
    case spec::PolicyValue::Kind::kList: {
      std::string out = "CAST([";
      for (size_t i = 0; i < v.list.size(); ++i)
        out += (i ? ", " : "") + engine::QuoteLiteral(v.list[i]);
      return out + "] AS VARCHAR[])";
    }
    case spec::PolicyValue::Kind::kText:
      return engine::QuoteLiteral(v.text);
  }
  return "NULL";
}

/// The policy's SQL with each $parameter replaced by its default as a literal (outside quotes).
std::string InlineParameters(const spec::Policy& policy) {
  std::map<std::string, std::string> values;
  for (const auto& p : policy.parameters) values[p.name] = Literal(p.default_value);
  const std::string& sql = policy.sql;
  std::string out;
  bool quoted = false;
  for (size_t i = 0; i < sql.size();) {
    char c = sql[i];
    if (c == '\'') quoted = !quoted;
    if (c == '$' && !quoted) {
      size_t end = i + 1;
      while (end < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_'))
        ++end;
      auto it = values.find(sql.substr(i + 1, end - i - 1));
      if (it != values.end()) {
        out += it->second;
        i = end;
        continue;
      }
    }
    out += c;
    ++i;
  }
  return out;
}

/// Exemptions as a mesh has them: a few dozen, each for a product that fails a policy, most in
/// force, some expired.
std::vector<spec::Exemption> ExemptionsFor(const governance::Evaluation& e) {
  std::vector<spec::Exemption> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < e.violations.size() && out.size() < 40; i += 97) {
    const auto& v = e.violations[i];
    if (v.product.empty() || !seen.insert(v.policy + " " + v.product).second) continue;
    out.push_back({v.policy,
                   v.product,
                   "migration planned with the consumers",
                   "mesh-council",
                   out.size() % 5 == 4 ? "2020-01-01" : "2099-12-31",
                   {}});
  }
  return out;
}

// ---- The views, in a DuckDB of our own, and the export alone ------------------------------------

/// Reads every value of every row, as the loader would, and drops it: the export's own cost. Keeps
/// each view's rows and milliseconds.
class ExportOnly : public catalog::ViewSink {
 public:
  struct ViewCost {
    int64_t rows = 0;
    double ms = 0;
  };

  Status BeginView(const catalog::GovernanceView& view) override {
    types_.clear();
    for (const auto& c : view.columns) types_.push_back(c.type);
    start_ = Clock::now();
    return Status::OK();
  }
  Status Row(const catalog::ViewRow& row) override {
    for (size_t i = 0; i < types_.size(); ++i) {
      int c = static_cast<int>(i);
      if (row.IsNull(c)) continue;
      if (types_[i] == "VARCHAR")
        checksum_ += row.Text(c).size();
      else if (types_[i] == "DOUBLE")
        checksum_ += static_cast<int64_t>(row.Real(c));
      else
        checksum_ += row.Int(c);
    }
    ++rows_;
    return Status::OK();
  }
  Status EndView(const catalog::GovernanceView& view) override {
    views_[view.name] = {rows_, MillisSince(start_)};
    rows_ = 0;
    return Status::OK();
  }
  const std::map<std::string, ViewCost>& views() const { return views_; }
  int64_t checksum() const { return checksum_; }

 private:
  std::vector<std::string> types_;
  Clock::time_point start_;
  int64_t rows_ = 0;
  int64_t checksum_ = 0;
  std::map<std::string, ViewCost> views_;
};

/// Runs one SQL text and reads every chunk, every value (as the evaluator reads them); returns the
/// rows.
Result<int64_t> RunAll(engine::Connection& conn, const std::string& sql, size_t* bytes) {
  PLEXUS_ASSIGN_OR_RETURN(auto result, conn.Query(sql));
  int64_t rows = 0;
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
    if (!chunk) break;
    engine::VectorRef entity = chunk->Column(0), message = chunk->Column(1);
    for (size_t r = 0; r < chunk->size(); ++r, ++rows) {
      if (!entity.IsNull(r)) *bytes += entity.String(r).size();
      if (!message.IsNull(r)) *bytes += message.String(r).size();
    }
  }
  return rows;
}

std::string ReadFirstLine(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) {
      auto colon = line.find(':');
      if (colon == std::string::npos) return line;
      size_t start = line.find_first_not_of(" \t", colon + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

nlohmann::json MachineNotes(engine::Connection& conn) {
  auto duckdb = conn.QueryScalar("SELECT library_version FROM pragma_version()");
  std::ifstream os("/proc/sys/kernel/osrelease");
  std::string kernel;
  std::getline(os, kernel);
  return {{"cpu", ReadFirstLine("/proc/cpuinfo", "model name")},
          {"cores", std::thread::hardware_concurrency()},
          {"memory", ReadFirstLine("/proc/meminfo", "MemTotal")},
          {"kernel", kernel},
          {"load_average", ReadFirstLine("/proc/loadavg", "")},
          {"duckdb", duckdb.ok() ? *duckdb : ""},
          {"compiler", __VERSION__}};
}

// ---- Measuring ----------------------------------------------------------------------------------

struct Series {
  std::vector<double> plexus, load, run, raw, exported;
  /// serve's evaluations (ViewStore::kWarm), end to end with the evaluator's close: the first
  /// (no views kept), again with the catalog unchanged, after a run (a run, its publication
  /// and quality results recorded for one product), after an apply (one product re-applied,
  /// its purpose changed). `plexus` is the one-shot command's (every view loaded in memory).
  std::vector<double> cold, warm, after_run, after_apply;
  std::vector<double> cpu;  ///< CPU milliseconds of every thread of the process during plexus
  std::map<std::string, std::vector<double>> raw_by_policy;
};

struct Baseline {
  std::unique_ptr<engine::Database> db;
  std::unique_ptr<engine::Connection> conn;
  std::vector<std::pair<std::string, std::string>> sql;  ///< policy id, raw SQL
  size_t bytes = 0;  ///< of the rows read, so the reads are not optimised away
};

Result<Baseline> OpenBaseline(const catalog::Catalog& c, const governance::PolicySet& set,
                              double* load_ms) {
  Baseline b;
  PLEXUS_ASSIGN_OR_RETURN(b.db, engine::Database::Open({}));
  PLEXUS_ASSIGN_OR_RETURN(b.conn, b.db->Connect());
  auto start = Clock::now();
  std::string now = catalog::NowUtc();
  PLEXUS_RETURN_IF_ERROR(governance::LoadViews(
      [&](catalog::ViewSink& sink) { return c.ReadGovernanceViews(now, sink); }, *b.conn));
  *load_ms = MillisSince(start);
  for (const auto& p : set.policies) {
    if (p.enabled) b.sql.emplace_back(p.id, InlineParameters(p));
  }
  return b;
}

/// User and system CPU time of the whole process (every thread), in milliseconds: on a busy
/// machine, the work done, which the wall clock hides behind the other processes' load.
double ProcessCpuMillis() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

/// FromCatalog + Evaluate + the evaluator's close (which keeps warm views), in ms.
Result<double> TimeEvaluation(const catalog::Catalog& c, const governance::PolicySet& set,
                              governance::ViewStore store, const char* expect) {
  std::string now = catalog::NowUtc();
  auto t = Clock::now();
  PLEXUS_ASSIGN_OR_RETURN(auto evaluator, governance::Evaluator::FromCatalog(c, now, &set, store));
  PLEXUS_ASSIGN_OR_RETURN(governance::Evaluation e, evaluator->Evaluate(set, now));
  evaluator.reset();
  double ms = MillisSince(t);
  if (e.store != expect) {
    return plexus::Internal("the views were in " + e.store + ", not in " + expect);
  }
  return ms;
}

/// What one pipeline run of `product` records: the run, its first port's publication, a result
/// per quality rule of it.
Status RecordRun(catalog::Catalog& c, const spec::ProductBundle& b) {
  PLEXUS_ASSIGN_OR_RETURN(int64_t run, c.StartRun(b.product.id));
  PLEXUS_RETURN_IF_ERROR(c.FinishRun(run, "succeeded", "", 1000));
  const auto& out = b.product.output_ports.front();
  catalog::OutputPortRecord port;
  port.product_id = b.product.id;
  port.name = out.name;
  port.major = catalog::MajorOf(out.version);
  PLEXUS_RETURN_IF_ERROR(c.RecordPublication(port, 1000, run));
  std::vector<catalog::QualityResultRecord> results;
  auto contract = b.contracts.find(out.contract_id);
  if (contract != b.contracts.end()) {
    int position = 0;
    for (const auto& prop : contract->second.schema.front().properties) {
      for (const auto& rule : prop.quality) {
        results.push_back(CheckResult(run, port, position++, rule, "passed", catalog::NowUtc()));
      }
    }
  }
  return c.RecordQualityResults(results);
}

/// `one` (the generated mesh, its first domain's first product only) re-applied, the
/// product's purpose changed (`round` in it).
Status ApplyOne(catalog::Catalog& c, spec::Mesh one, int round) {
  spec::Product& p = one.domains[0].products[0].product;
  p.purpose = "Changed by the benchmark, round " + std::to_string(round) + ".";
  p.source_text += "\n# round " + std::to_string(round) + "\n";
  PLEXUS_ASSIGN_OR_RETURN(catalog::ApplyReport report, c.Apply(one, "bench"));
  if (report.updated.size() != 1) return plexus::Internal("the product was not updated");
  return Status::OK();
}

/// serve's cases (Series::cold, warm, after_run, after_apply), each preceded by what makes
/// it. `mesh`: the generated mesh, its first domain's first product only (it is run and
/// re-applied).
Status WarmCases(catalog::Catalog& c, const governance::PolicySet& set, const spec::Mesh& mesh,
                 int round, Series* series) {
  using governance::ViewStore;
  governance::Evaluator::DropWarm(c);
  PLEXUS_ASSIGN_OR_RETURN(double cold, TimeEvaluation(c, set, ViewStore::kWarm, "warm"));
  PLEXUS_ASSIGN_OR_RETURN(double warm, TimeEvaluation(c, set, ViewStore::kWarm, "warm"));
  PLEXUS_RETURN_IF_ERROR(RecordRun(c, mesh.domains[0].products[0]));
  PLEXUS_ASSIGN_OR_RETURN(double after_run, TimeEvaluation(c, set, ViewStore::kWarm, "warm"));
  PLEXUS_RETURN_IF_ERROR(ApplyOne(c, mesh, round));
  PLEXUS_ASSIGN_OR_RETURN(double after_apply, TimeEvaluation(c, set, ViewStore::kWarm, "warm"));
  if (series != nullptr) {
    series->cold.push_back(cold);
    series->warm.push_back(warm);
    series->after_run.push_back(after_run);
    series->after_apply.push_back(after_apply);
  }
  return Status::OK();
}

/// One round: export alone, plexus end to end, the raw SQL; interleaved so noise hits each.
Status Round(const catalog::Catalog& c, const governance::PolicySet& set, Baseline& b,
             Series* series, governance::Evaluation* last) {
  ExportOnly sink;
  auto t0 = Clock::now();
  PLEXUS_RETURN_IF_ERROR(c.ReadGovernanceViews(catalog::NowUtc(), sink));
  double exported = MillisSince(t0);

  std::string now = catalog::NowUtc();
  double cpu0 = ProcessCpuMillis();
  auto t1 = Clock::now();
  PLEXUS_ASSIGN_OR_RETURN(auto evaluator, governance::Evaluator::FromCatalog(c, now, &set));
  PLEXUS_ASSIGN_OR_RETURN(governance::Evaluation e, evaluator->Evaluate(set, now));
  double plexus = MillisSince(t1);
  double cpu = ProcessCpuMillis() - cpu0;
  evaluator.reset();

  double raw = 0;
  std::map<std::string, double> by_policy;
  for (const auto& [id, sql] : b.sql) {
    auto t = Clock::now();
    auto rows = RunAll(*b.conn, sql, &b.bytes);
    if (!rows.ok()) return rows.status().WithPrefix("raw " + id);
    by_policy[id] = MillisSince(t);
    raw += by_policy[id];
  }
  if (series != nullptr) {
    series->exported.push_back(exported);
    series->plexus.push_back(plexus);
    series->cpu.push_back(cpu);
    series->load.push_back(e.load_ms);
    series->run.push_back(e.run_ms);
    series->raw.push_back(raw);
    for (const auto& [id, ms] : by_policy) series->raw_by_policy[id].push_back(ms);
  }
  if (last != nullptr) *last = std::move(e);
  return Status::OK();
}

/// Resolves the views' names only, as the evaluator's resolver does.
class ViewNames : public plexus::access::RelationResolver {
 public:
  Result<plexus::access::ResolvedRelation> Resolve(
      const plexus::access::TableName& name) const override {
    return plexus::access::ResolvedRelation{"memory", "main", name.table, name.table,
                                            "",       "",     nullptr};
  }
};

/// --verbose: where one policy's time goes.
struct PolicyCost {
  double cold = 0;      ///< Evaluate of it alone, first time: guard, prepare, run, collect
  double prepared = 0;  ///< the same again: run, collect
  double guard = 0;     ///< SqlGuard::Check alone
  double guarded = 0;   ///< the guard's SQL run on the raw side (the plan plexus runs)
};

/// Each policy alone on one evaluator, twice; and its SQL through the guard, run raw.
Result<std::map<std::string, PolicyCost>> PerPolicyPlexus(const catalog::Catalog& c,
                                                          const governance::PolicySet& set,
                                                          Baseline& b) {
  std::string now = catalog::NowUtc();
  PLEXUS_ASSIGN_OR_RETURN(auto evaluator, governance::Evaluator::FromCatalog(c, now, &set));
  PLEXUS_ASSIGN_OR_RETURN(auto parser, b.db->Connect());
  plexus::access::SqlGuard guard;
  std::map<std::string, PolicyCost> out;
  for (const auto& p : set.policies) {
    governance::PolicySet one;
    one.policies.push_back(p);
    one.exemptions = set.exemptions;
    PolicyCost& cost = out[p.id];
    auto t0 = Clock::now();
    PLEXUS_ASSIGN_OR_RETURN(auto guarded, guard.Check(InlineParameters(p), ViewNames()));
    cost.guard = MillisSince(t0);
    auto t1 = Clock::now();
    PLEXUS_RETURN_IF_ERROR(RunAll(*b.conn, guarded.sql, &b.bytes).status());
    cost.guarded = MillisSince(t1);
    auto t2 = Clock::now();
    PLEXUS_RETURN_IF_ERROR(evaluator->Evaluate(one, now).status());
    cost.cold = MillisSince(t2);
    auto t3 = Clock::now();
    PLEXUS_RETURN_IF_ERROR(evaluator->Evaluate(one, now).status());
    cost.prepared = MillisSince(t3);
  }
  return out;
}

Status ParseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--reuse")
      o.reuse = true;
    else if (a == "--verbose")
      o.verbose = true;
    else if (a == "--work" && has_value)
      o.work = argv[++i];
    else if (a == "--out" && has_value)
      o.out = argv[++i];
    else if (a == "--products" && has_value)
      o.products = std::stoi(argv[++i]);
    else if (a == "--rounds" && has_value)
      o.rounds = std::max(1, std::stoi(argv[++i]));
    else if (a == "--profile" && has_value)
      o.profile = std::max(1, std::stoi(argv[++i]));
    else
      return plexus::InvalidArgument("unknown option or missing value: " + a);
  }
  return Status::OK();
}

/// The catalog in --work: reused when --reuse and complete, else generated afresh.
Result<std::unique_ptr<catalog::Catalog>> PrepareCatalog(const Options& o, double* setup_seconds,
                                                         bool* reused) {
  std::string home_dir = o.work + "/home-" + std::to_string(o.products);
  std::string ready = home_dir + "/.bench-ready";
  *reused = o.reuse && fs::exists(ready);
  if (!*reused) fs::remove_all(home_dir);
  PLEXUS_ASSIGN_OR_RETURN(auto home, catalog::Home::Prepare(home_dir));
  PLEXUS_ASSIGN_OR_RETURN(auto c, catalog::Catalog::Open(home));
  if (!*reused) {
    PLEXUS_ASSIGN_OR_RETURN(*setup_seconds, GenerateCatalog(*c, o.products));
    std::ofstream(ready) << "products " << o.products << "\n";
  }
  return c;
}

struct Counts {
  std::map<std::string, int64_t> views;       ///< rows per view
  std::map<std::string, int64_t> violations;  ///< per policy, from the warm-up evaluation
  int64_t exempted = 0;
};

nlohmann::json Stat(const std::vector<double>& v) {
  return {{"median", Median(v)}, {"min", Min(v)}};
}

nlohmann::json BuildReport(const Options& o, const governance::PolicySet& set, const Series& s,
                           const Counts& counts, const ExportOnly& exported,
                           const std::map<std::string, PolicyCost>& per_policy,
                           double setup_seconds, bool reused, double baseline_load_ms,
                           nlohmann::json machine) {
  nlohmann::json policies = nlohmann::json::array();
  for (const auto& p : set.policies) {
    nlohmann::json row = {
        {"id", p.id},
        {"builtin", p.builtin},
        {"severity", p.severity},
        {"violations", counts.violations.count(p.id) ? counts.violations.at(p.id) : 0},
        {"raw_ms",
         Median(s.raw_by_policy.count(p.id) ? s.raw_by_policy.at(p.id) : std::vector<double>{})}};
    if (auto it = per_policy.find(p.id); it != per_policy.end()) {
      row["plexus_cold_ms"] = it->second.cold;
      row["plexus_prepared_ms"] = it->second.prepared;
      row["guard_ms"] = it->second.guard;
      row["guarded_sql_raw_ms"] = it->second.guarded;
    }
    policies.push_back(row);
  }
  nlohmann::json views = nlohmann::json::array();
  for (const auto& [name, cost] : exported.views()) {
    views.push_back({{"view", name}, {"rows", cost.rows}, {"export_ms", cost.ms}});
  }
  int64_t violations = 0;
  for (const auto& [_, n] : counts.violations) violations += n;
  double a = Median(s.plexus), b = Median(s.raw);
  return {{"at", catalog::NowUtc()},
          {"products", counts.views.at("products")},
          {"ports", counts.views.at("output_port_rows")},
          {"columns", counts.views.at("columns")},
          {"domains", counts.views.at("domains")},
          {"policies", set.policies.size()},
          {"builtin_policies", governance::BuiltinPolicies().size()},
          {"exemptions", set.exemptions.size()},
          {"violations", violations},
          {"violations_exempted", counts.exempted},
          {"rounds", o.rounds},
          {"plexus_ms", Stat(s.plexus)},
          {"cold_ms", Stat(s.cold)},
          {"warm_ms", Stat(s.warm)},
          {"after_run_ms", Stat(s.after_run)},
          {"after_apply_ms", Stat(s.after_apply)},
          {"ratios", {{"plexus", a / b},
                      {"cold", Median(s.cold) / b},
                      {"warm", Median(s.warm) / b},
                      {"after_run", Median(s.after_run) / b},
                      {"after_apply", Median(s.after_apply) / b}}},
          {"plexus_load_ms", Stat(s.load)},
          {"plexus_run_ms", Stat(s.run)},
          {"plexus_cpu_ms", Stat(s.cpu)},
          {"raw_ms", Stat(s.raw)},
          {"export_ms", Stat(s.exported)},
          {"ratio", a / b},
          {"ratio_min", Min(s.plexus) / Min(s.raw)},
          {"target_ms", 1000},
          {"target_met", a < 1000},
          {"target_met_by_case", {{"plexus", a < 1000},
                                  {"cold", Median(s.cold) < 1000},
                                  {"warm", Median(s.warm) < 1000},
                                  {"after_run", Median(s.after_run) < 1000},
                                  {"after_apply", Median(s.after_apply) < 1000}}},
          {"raw_side_load_ms", baseline_load_ms},
          {"setup_seconds", setup_seconds},
          {"catalog_reused", reused},
          {"views", views},
          {"per_policy", policies},
          {"machine", machine}};
}

std::string Markdown(const nlohmann::json& r) {
  auto ms = [](const nlohmann::json& s) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(1);
    out << s["median"].get<double>() << " | " << s["min"].get<double>();
    return out.str();
  };
  std::ostringstream md;
  md.setf(std::ios::fixed);
  md.precision(2);
  md << "# Governance at scale (issue 5)\n\n"
     << r["products"] << " products, " << r["ports"] << " ports, " << r["columns"] << " columns in "
     << r["domains"] << " domains; " << r["policies"] << " policies (" << r["builtin_policies"]
     << " built-in), " << r["exemptions"] << " exemptions, " << r["violations"] << " violations; "
     << r["rounds"] << " rounds.\n\n"
     << "| | median ms | min ms |\n|---|---:|---:|\n"
     << "| plexus: FromCatalog + Evaluate (a one-shot command: every view loaded) | "
     << ms(r["plexus_ms"]) << " |\n"
     << "| &nbsp; of which load (export + DuckDB append) | " << ms(r["plexus_load_ms"]) << " |\n"
     << "| &nbsp; of which run (guard, prepare, run, exemptions, scores) | "
     << ms(r["plexus_run_ms"]) << " |\n"
     << "| &nbsp; CPU time during it (all threads; wall time is lower on 2 cores) | "
     << ms(r["plexus_cpu_ms"]) << " |\n"
     << "| export alone (SQLite views, values read and dropped) | " << ms(r["export_ms"]) << " |\n"
     << "| raw: the same SQL on DuckDB already loaded | " << ms(r["raw_ms"]) << " |\n\n"
     << "plexus serve's evaluations, the views kept warm (FromCatalog + Evaluate + close):\n\n"
     << "| case | median ms | min ms | / raw | < 1 s |\n|---|---:|---:|---:|---|\n";
  for (const auto& [key, label] : std::vector<std::pair<std::string, std::string>>{
           {"cold", "the first: no views kept, every view loaded"},
           {"warm", "again, the catalog unchanged"},
           {"after_run", "after one product's run (run, publication, quality results)"},
           {"after_apply", "after one product's apply"}}) {
    md << "| " << label << " | " << ms(r[key + "_ms"]) << " | " << r["ratios"][key].get<double>()
       << "x | " << (r["target_met_by_case"][key].get<bool>() ? "yes" : "**no**") << " |\n";
  }
  md << "\n"
     << "Ratio plexus / raw: **" << r["ratio"].get<double>() << "x** (of minimums "
     << r["ratio_min"].get<double>()
     << "x). Target plexus < 1000 ms: " << (r["target_met"].get<bool>() ? "met" : "**not met**")
     << ".\n\n"
     << "Machine: " << r["machine"]["cpu"].get<std::string>() << ", " << r["machine"]["cores"]
     << " cores, DuckDB " << r["machine"]["duckdb"].get<std::string>()
     << "; load average as it ended: " << r["machine"]["load_average"].get<std::string>()
     << ".\n";
  return md.str();
}

void PrintSlowest(const nlohmann::json& r, bool verbose) {
  std::vector<nlohmann::json> rows(r["per_policy"].begin(), r["per_policy"].end());
  std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    const char* key = verbose ? "plexus_cold_ms" : "raw_ms";
    return a[key].template get<double>() > b[key].template get<double>();
  });
  std::cout << "\nPer policy ("
            << (verbose ? "all, by plexus cold time" : "slowest 10, by raw time") << "):\n";
  std::printf("  %-28s %10s %9s", "policy", "violations", "raw ms");
  if (verbose) std::printf(" %9s %9s %9s %9s", "guard", "guarded", "cold", "prepared");
  std::printf("\n");
  size_t n = verbose ? rows.size() : std::min<size_t>(10, rows.size());
  for (size_t i = 0; i < n; ++i) {
    const auto& p = rows[i];
    std::printf("  %-28s %10lld %9.2f", p["id"].get<std::string>().c_str(),
                static_cast<long long>(p["violations"].get<int64_t>()), p["raw_ms"].get<double>());
    if (verbose) {
      std::printf(" %9.2f %9.2f %9.2f %9.2f", p["guard_ms"].get<double>(),
                  p["guarded_sql_raw_ms"].get<double>(), p["plexus_cold_ms"].get<double>(),
                  p["plexus_prepared_ms"].get<double>());
    }
    std::printf("\n");
  }
  if (verbose) {
    double raw = 0, guard = 0, guarded = 0, cold = 0, prepared = 0;
    for (const auto& p : rows) {
      raw += p["raw_ms"].get<double>();
      guard += p["guard_ms"].get<double>();
      guarded += p["guarded_sql_raw_ms"].get<double>();
      cold += p["plexus_cold_ms"].get<double>();
      prepared += p["plexus_prepared_ms"].get<double>();
    }
    std::printf("  %-28s %10s %9.2f %9.2f %9.2f %9.2f %9.2f\n", "total", "", raw, guard, guarded,
                cold, prepared);
    std::cout << "\nPer view (export):\n";
    for (const auto& v : r["views"]) {
      std::printf("  %-20s %9lld rows %9.2f ms\n", v["view"].get<std::string>().c_str(),
                  static_cast<long long>(v["rows"].get<int64_t>()), v["export_ms"].get<double>());
    }
  }
}

/// --profile N: plexus's path alone (FromCatalog + Evaluate), N times, each round's times on
/// stdout: nothing else runs in the process, so a profiler sees only it.
Status Profile(const catalog::Catalog& c, const governance::PolicySet& set, int rounds) {
  for (int r = 0; r < rounds; ++r) {
    std::string now = catalog::NowUtc();
    double cpu0 = ProcessCpuMillis();
    auto t = Clock::now();
    PLEXUS_ASSIGN_OR_RETURN(auto evaluator, governance::Evaluator::FromCatalog(c, now, &set));
    PLEXUS_ASSIGN_OR_RETURN(governance::Evaluation e, evaluator->Evaluate(set, now));
    double ms = MillisSince(t), cpu = ProcessCpuMillis() - cpu0;
    // A digest of every violation's fields, in order: two builds must give the same.
    size_t digest = 0;
    for (const auto& v : e.violations) {
      for (const std::string* f : {&v.policy, &v.severity, &v.domain, &v.product, &v.entity,
                                   &v.message, &v.exemption, &v.exemption_expires}) {
        digest = digest * 1000003 ^ std::hash<std::string>{}(*f);
      }
      digest = digest * 31 + v.quarantine;
    }
    std::cout << "round " << r << ": " << ms << " ms (load " << e.load_ms << ", run " << e.run_ms
              << "), cpu " << cpu << " ms, " << e.violations.size() << " violations, digest "
              << std::hex << digest << std::dec << "\n";
  }
  return Status::OK();
}

Status Main(const Options& o) {
  fs::create_directories(o.work);
  fs::create_directories(o.out);
  double setup_seconds = 0;
  bool reused = false;
  PLEXUS_ASSIGN_OR_RETURN(auto c, PrepareCatalog(o, &setup_seconds, &reused));
  PLEXUS_ASSIGN_OR_RETURN(governance::PolicySet set, BenchPolicySet());
  {
    PLEXUS_ASSIGN_OR_RETURN(auto empty, governance::Evaluator::Empty());
    PLEXUS_RETURN_IF_ERROR(empty->Compile(set));
  }
  if (o.profile > 0) return Profile(*c, set, o.profile);
  double baseline_load_ms = 0;
  PLEXUS_ASSIGN_OR_RETURN(Baseline baseline, OpenBaseline(*c, set, &baseline_load_ms));

  // Round 0 warms the caches and finds violations to exempt, as a mesh would have.
  governance::Evaluation first;
  PLEXUS_RETURN_IF_ERROR(Round(*c, set, baseline, nullptr, &first));
  set.exemptions = ExemptionsFor(first);
  Counts counts;
  for (const auto& v : first.violations) ++counts.violations[v.policy];
  for (const auto& [id, sql] : baseline.sql) {  // the raw side returns the same rows
    PLEXUS_ASSIGN_OR_RETURN(int64_t rows, RunAll(*baseline.conn, sql, &baseline.bytes));
    if (rows != counts.violations[id]) {
      std::cerr << "governance_bench: warning: " << id << " returns " << rows << " rows raw, "
                << counts.violations[id] << " violations in plexus\n";
    }
  }
  spec::Mesh mesh = GenerateMesh(o.products);  // the product a run and an apply touch
  mesh.domains.resize(1);
  mesh.domains[0].products.resize(1);
  PLEXUS_RETURN_IF_ERROR(WarmCases(*c, set, mesh, 0, nullptr));  // warms the caches
  Series series;
  governance::Evaluation last;
  for (int r = 0; r < o.rounds; ++r) {
    PLEXUS_RETURN_IF_ERROR(Round(*c, set, baseline, &series, &last));
    PLEXUS_RETURN_IF_ERROR(WarmCases(*c, set, mesh, r + 1, &series));
  }
  for (const auto& v : last.violations) counts.exempted += v.exemption.empty() ? 0 : 1;
  ExportOnly exported;
  PLEXUS_RETURN_IF_ERROR(c->ReadGovernanceViews(catalog::NowUtc(), exported));
  for (const auto& [name, cost] : exported.views()) counts.views[name] = cost.rows;
  std::map<std::string, PolicyCost> per_policy;
  if (o.verbose) {
    PLEXUS_ASSIGN_OR_RETURN(per_policy, PerPolicyPlexus(*c, set, baseline));
  }

  nlohmann::json report = BuildReport(o, set, series, counts, exported, per_policy, setup_seconds,
                                      reused, baseline_load_ms, MachineNotes(*baseline.conn));
  std::ofstream(o.out + "/governance.json") << report.dump(2) << "\n";
  std::string md = Markdown(report);
  std::ofstream(o.out + "/governance.md") << md;
  std::cout << md;
  PrintSlowest(report, o.verbose);
  return Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  Status parsed = ParseOptions(argc, argv, o);
  if (!parsed.ok()) return Fail(parsed.message());
  Status s = Main(o);
  if (!s.ok()) return Fail(s.ToString());
  return 0;
}
