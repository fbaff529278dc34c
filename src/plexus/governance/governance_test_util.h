// File: plexus/governance/governance_test_util.h
//
// What the governance tests share: a mesh compliant with every built-in policy ("shop": sales'
// orders and marketing's reach, which reads it), ways to break it, policy values, and a fixture
// with a catalog in a scratch home that applies a mesh through the governance gate.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "plexus/access/access_policy.h"
#include "plexus/catalog/catalog_test_util.h"
#include "plexus/governance/governance.h"

namespace plexus::governance::test_util {

constexpr const char* kOrdersContract = "urn:shop:sales:orders:orders";
constexpr const char* kReachContract = "urn:shop:marketing:reach:reach";
/// Both products state the same purpose, 40 characters long (the built-in asks for 20).
constexpr std::string_view kPurpose = "Orders placed in the web shop, one a row";
static_assert(kPurpose.size() == 40);

/// The UTC date `days` from today (YYYY-MM-DD).
inline std::string DayFromToday(int days) {
  std::time_t t = std::time(nullptr) + static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

/// The UTC date-time `seconds` from now, to the second (YYYY-MM-DDTHH:MM:SSZ).
inline std::string SecondsFromNow(int seconds) {
  std::time_t t = std::time(nullptr) + seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

inline spec::PolicyValue Number(double n) {
  spec::PolicyValue v;
  v.kind = spec::PolicyValue::Kind::kNumber;
  v.number = n;
  return v;
}

inline spec::PolicyValue List(std::vector<std::string> items) {
  spec::PolicyValue v;
  v.kind = spec::PolicyValue::Kind::kList;
  v.list = std::move(items);
  return v;
}

inline spec::PolicyValue Text(const std::string& text) {
  spec::PolicyValue v;
  v.kind = spec::PolicyValue::Kind::kText;
  v.text = text;
  return v;
}

/// A classified column; a primary key column carries a duplicateValues rule.
inline spec::Property Col(const std::string& name, const std::string& classification,
                   const std::string& mask = "", bool primary_key = false) {
  spec::Property p;
  p.name = name;
  p.logical_type = "string";
  p.classification = classification;
  p.mask = mask;
  p.primary_key = primary_key;
  p.required = primary_key;
  if (primary_key) {
    spec::QualityRule rule;
    rule.type = "library";
    rule.metric = "duplicateValues";
    rule.op = "mustBe";
    rule.operands = {0};
    rule.column = name;
    p.quality.push_back(rule);
  }
  return p;
}

inline spec::SlaProperty Latency() {
  spec::SlaProperty sla;
  sla.property = "latency";
  sla.value = "1";
  sla.unit = "d";
  return sla;
}

inline spec::Contract MakeContract(const std::string& id, const std::string& table,
                            std::vector<spec::Property> columns, const std::string& visibility) {
  spec::Contract c;
  c.api_version = "v3.1.0";
  c.kind = "DataContract";
  c.id = id;
  c.name = table;
  c.version = "1.0.0";
  c.status = "active";
  c.visibility = visibility;
  c.sla = {Latency()};
  spec::SchemaObject object;
  object.name = table;
  object.properties = std::move(columns);
  c.schema.push_back(std::move(object));
  return c;
}

inline spec::ProductBundle MakeProduct(const std::string& domain, const std::string& name,
                                std::vector<spec::TeamMember> team) {
  spec::ProductBundle bundle;
  spec::Product& p = bundle.product;
  p.api_version = "v1.0.0";
  p.kind = "DataProduct";
  p.id = "urn:shop:" + domain + ":" + name;
  p.name = name;
  p.domain = domain;
  p.version = "1.0.0";
  p.status = "active";
  p.purpose = std::string(kPurpose);
  p.team_name = domain + "-team";
  p.team = std::move(team);
  return bundle;
}

inline spec::OutputPort Port(const std::string& name, const std::string& contract_id) {
  spec::OutputPort out;
  out.name = name;
  out.type = "tables";
  out.version = "1.0.0";
  out.contract_id = contract_id;
  return out;
}

/// The mesh "shop", compliant with every built-in policy: domain sales, product orders (port
/// orders, public: order_id key, customer_id, email pii masked, amount confidential masked);
/// domain marketing, product reach, whose input port reads sales.orders.orders.
inline spec::Mesh CompliantMesh() {
  spec::Mesh mesh;
  mesh.name = "shop";
  mesh.access.default_visibility = "restricted";

  spec::Domain sales;
  sales.name = "sales";
  sales.owners = {"carol"};
  sales.members = {"dave"};
  spec::ProductBundle orders =
      MakeProduct("sales", "orders", {{"carol", "Carol", "owner"}, {"dave", "Dave", "member"}});
  orders.product.output_ports.push_back(Port("orders", kOrdersContract));
  orders.contracts[kOrdersContract] =
      MakeContract(kOrdersContract, "orders",
                   {Col("order_id", "internal", "", true), Col("customer_id", "internal"),
                    Col("email", "pii", "hash"), Col("amount", "confidential", "null")},
                   "public");
  sales.products.push_back(orders);
  mesh.domains.push_back(sales);

  spec::Domain marketing;
  marketing.name = "marketing";
  marketing.owners = {"erin"};
  marketing.members = {"frank"};
  spec::ProductBundle reach = MakeProduct(
      "marketing", "reach", {{"erin", "Erin", "owner"}, {"frank", "Frank", "data steward"}});
  spec::InputPort in;
  in.name = "orders";
  in.version = "1.0.0";
  in.contract_id = kOrdersContract;
  reach.product.input_ports.push_back(in);
  reach.product.output_ports.push_back(Port("reach", kReachContract));
  reach.contracts[kReachContract] = MakeContract(
      kReachContract, "reach", {Col("customer_id", "internal", "", true), Col("segment", "public")},
      "restricted");
  marketing.products.push_back(reach);
  mesh.domains.push_back(marketing);
  return mesh;
}

inline spec::Domain& DomainOf(spec::Mesh& mesh, const std::string& name) {
  for (auto& d : mesh.domains) {
    if (d.name == name) return d;
  }
  throw std::logic_error("no domain " + name);
}
inline spec::ProductBundle& Orders(spec::Mesh& mesh) { return DomainOf(mesh, "sales").products[0]; }
inline spec::Contract& OrdersContract(spec::Mesh& mesh) { return Orders(mesh).contracts[kOrdersContract]; }
inline spec::Property& OrdersColumn(spec::Mesh& mesh, const std::string& name) {
  for (auto& p : OrdersContract(mesh).schema[0].properties) {
    if (p.name == name) return p;
  }
  throw std::logic_error("no column " + name);
}

inline spec::Property& ReachColumn(spec::Mesh& mesh, const std::string& name) {
  for (auto& p :
       DomainOf(mesh, "marketing").products[0].contracts[kReachContract].schema[0].properties) {
    if (p.name == name) return p;
  }
  throw std::logic_error("no column " + name);
}

/// Marks every product as edited, as a changed product.odps.yaml would: the gate refuses only
/// what an apply creates or updates, and a mesh built in C++ has no source text to compare.
inline spec::Mesh Edited(spec::Mesh mesh, const std::string& edit = "edited") {
  for (auto& domain : mesh.domains) {
    for (auto& bundle : domain.products) bundle.product.source_text = "# " + edit + "\n";
  }
  return mesh;
}

inline std::string Problems(const std::vector<spec::Diagnostic>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.ToString() + "\n";
  return out;
}

/// The policies with a violation that counts (no exemption covers it).
inline std::set<std::string> Violated(const Evaluation& e) {
  std::set<std::string> out;
  for (const auto& v : e.violations) {
    if (v.exemption.empty()) out.insert(v.policy);
  }
  return out;
}

inline std::vector<Violation> Of(const Evaluation& e, const std::string& policy) {
  std::vector<Violation> out;
  for (const auto& v : e.violations) {
    if (v.policy == policy) out.push_back(v);
  }
  return out;
}

inline std::set<std::string> Entities(const Evaluation& e, const std::string& policy) {
  std::set<std::string> out;
  for (const auto& v : Of(e, policy)) out.insert(v.entity);
  return out;
}

inline const spec::Policy& Builtin(const std::string& id) {
  for (const auto& p : BuiltinPolicies()) {
    if (p.id == id) return p;
  }
  throw std::logic_error("no built-in policy " + id);
}

/// A number parameter with its default and the range a domain may set it in.
inline spec::PolicyParameter NumberParameter(const std::string& name, double value,
                                             std::optional<double> min = std::nullopt,
                                             std::optional<double> max = std::nullopt) {
  spec::PolicyParameter p;
  p.name = name;
  p.default_value = Number(value);
  p.min = min;
  p.max = max;
  return p;
}

/// A global policy, as a mesh's policy file would define it.
inline spec::Policy GlobalPolicy(const std::string& id, const std::string& sql,
                          const std::string& severity = "warn") {
  spec::Policy p;
  p.id = id;
  p.title = "Policy " + id;
  p.severity = severity;
  p.sql = sql;
  p.location = {"governance/policies.yaml", 3, 5};
  p.sql_location = {"governance/policies.yaml", 7, 10};
  return p;
}

inline spec::Exemption Exempt(const std::string& policy, const std::string& entity,
                       const std::string& expires) {
  spec::Exemption e;
  e.policy = policy;
  e.entity = entity;
  e.justification = "Masking lands with the next release";
  e.approved_by = "governance-board";
  e.expires = expires;
  return e;
}

/// What an apply through the governance gate did.
struct Gated {
  Status status;
  Evaluation evaluation;
  std::vector<std::string> lines;

  bool HasLine(const std::string& prefix) const {
    for (const auto& l : lines) {
      if (l.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
};

class GovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto home = catalog::Home::Prepare(catalog::testing::ScratchHome());
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    home_ = home->root();
    auto opened = catalog::Catalog::Open(*home);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    catalog_ = std::move(opened).value();
  }

  /// The mesh's policies, expecting them to resolve.
  static PolicySet Policies(const spec::Mesh& mesh) {
    std::vector<spec::Diagnostic> problems;
    auto set = ResolvePolicies(mesh, &problems);
    EXPECT_TRUE(set.ok()) << set.status().ToString() << "\n" << Problems(problems);
    return set.ok() ? *set : PolicySet{};
  }

  /// Applies `mesh` through the gate of its policies; a dry run rolls back whatever happens.
  Gated Apply(const spec::Mesh& mesh, bool dry_run) {
    Gated out;
    PolicySet set = Policies(mesh);
    out.status =
        catalog_
            ->Apply(mesh, "ops", MakeApplyGate(set, "ops", &out.lines, &out.evaluation), dry_run)
            .status();
    return out;
  }
  Gated Check(const spec::Mesh& mesh) { return Apply(mesh, /*dry_run=*/true); }

  /// `set` evaluated over the catalog as it is.
  Evaluation EvaluateCatalog(const PolicySet& set, const std::string& now = catalog::NowUtc()) {
    auto evaluator = Evaluator::FromCatalog(*catalog_, now);
    EXPECT_TRUE(evaluator.ok()) << evaluator.status().ToString();
    if (!evaluator.ok()) return {};
    auto evaluation = (*evaluator)->Evaluate(set, now);
    EXPECT_TRUE(evaluation.ok()) << evaluation.status().ToString();
    return evaluation.ok() ? *evaluation : Evaluation{};
  }

  std::string home_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

}  // namespace plexus::governance::test_util
