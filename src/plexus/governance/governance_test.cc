// Governance as a mesh's users meet it: a compliant mesh passes every built-in policy; each
// built-in catches the one mistake it is about, and the block ones refuse the apply and leave
// the catalog as it was; the mesh tunes policies and the domains tighten them within the
// ranges; exemptions cover a violation until they expire; policy SQL that is not a checked,
// read-only SELECT over the views is refused at load; scores, quarantine, and the policy set
// as the catalog stores it.
#include "plexus/governance/governance.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "plexus/access/access_policy.h"
#include "plexus/catalog/catalog_test_util.h"

namespace plexus::governance {
namespace {

constexpr const char* kOrdersContract = "urn:shop:sales:orders:orders";
constexpr const char* kReachContract = "urn:shop:marketing:reach:reach";
/// Both products state the same purpose, 40 characters long (the built-in asks for 20).
constexpr std::string_view kPurpose = "Orders placed in the web shop, one a row";
static_assert(kPurpose.size() == 40);

/// The UTC date `days` from today (YYYY-MM-DD).
std::string DayFromToday(int days) {
  std::time_t t = std::time(nullptr) + static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

/// The UTC date-time `seconds` from now, to the second (YYYY-MM-DDTHH:MM:SSZ).
std::string SecondsFromNow(int seconds) {
  std::time_t t = std::time(nullptr) + seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

spec::PolicyValue Number(double n) {
  spec::PolicyValue v;
  v.kind = spec::PolicyValue::Kind::kNumber;
  v.number = n;
  return v;
}

spec::PolicyValue List(std::vector<std::string> items) {
  spec::PolicyValue v;
  v.kind = spec::PolicyValue::Kind::kList;
  v.list = std::move(items);
  return v;
}

spec::PolicyValue Text(const std::string& text) {
  spec::PolicyValue v;
  v.kind = spec::PolicyValue::Kind::kText;
  v.text = text;
  return v;
}

/// A classified column; a primary key column carries a duplicateValues rule.
spec::Property Col(const std::string& name, const std::string& classification,
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

spec::SlaProperty Latency() {
  spec::SlaProperty sla;
  sla.property = "latency";
  sla.value = "1";
  sla.unit = "d";
  return sla;
}

spec::Contract MakeContract(const std::string& id, const std::string& table,
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

spec::ProductBundle MakeProduct(const std::string& domain, const std::string& name,
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

spec::OutputPort Port(const std::string& name, const std::string& contract_id) {
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
spec::Mesh CompliantMesh() {
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

spec::Domain& DomainOf(spec::Mesh& mesh, const std::string& name) {
  for (auto& d : mesh.domains) {
    if (d.name == name) return d;
  }
  throw std::logic_error("no domain " + name);
}
spec::ProductBundle& Orders(spec::Mesh& mesh) { return DomainOf(mesh, "sales").products[0]; }
spec::Contract& OrdersContract(spec::Mesh& mesh) { return Orders(mesh).contracts[kOrdersContract]; }
spec::Property& OrdersColumn(spec::Mesh& mesh, const std::string& name) {
  for (auto& p : OrdersContract(mesh).schema[0].properties) {
    if (p.name == name) return p;
  }
  throw std::logic_error("no column " + name);
}

spec::Property& ReachColumn(spec::Mesh& mesh, const std::string& name) {
  for (auto& p :
       DomainOf(mesh, "marketing").products[0].contracts[kReachContract].schema[0].properties) {
    if (p.name == name) return p;
  }
  throw std::logic_error("no column " + name);
}

/// Marks every product as edited, as a changed product.odps.yaml would: the gate refuses only
/// what an apply creates or updates, and a mesh built in C++ has no source text to compare.
spec::Mesh Edited(spec::Mesh mesh, const std::string& edit = "edited") {
  for (auto& domain : mesh.domains) {
    for (auto& bundle : domain.products) bundle.product.source_text = "# " + edit + "\n";
  }
  return mesh;
}

std::string Problems(const std::vector<spec::Diagnostic>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.ToString() + "\n";
  return out;
}

/// The policies with a violation that counts (no exemption covers it).
std::set<std::string> Violated(const Evaluation& e) {
  std::set<std::string> out;
  for (const auto& v : e.violations) {
    if (v.exemption.empty()) out.insert(v.policy);
  }
  return out;
}

std::vector<Violation> Of(const Evaluation& e, const std::string& policy) {
  std::vector<Violation> out;
  for (const auto& v : e.violations) {
    if (v.policy == policy) out.push_back(v);
  }
  return out;
}

std::set<std::string> Entities(const Evaluation& e, const std::string& policy) {
  std::set<std::string> out;
  for (const auto& v : Of(e, policy)) out.insert(v.entity);
  return out;
}

const spec::Policy& Builtin(const std::string& id) {
  for (const auto& p : BuiltinPolicies()) {
    if (p.id == id) return p;
  }
  throw std::logic_error("no built-in policy " + id);
}

/// A global policy, as a mesh's policy file would define it.
spec::Policy GlobalPolicy(const std::string& id, const std::string& sql,
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

spec::Exemption Exempt(const std::string& policy, const std::string& entity,
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

// ---- the built-in pack and the compliant mesh ---------------------------------------------

TEST(GovernanceBuiltinPackTest, HasTheElevenDocumentedPolicies) {
  std::set<std::string> ids;
  for (const auto& p : BuiltinPolicies()) {
    ids.insert(p.id);
    EXPECT_TRUE(p.builtin) << p.id;
    EXPECT_TRUE(p.enabled) << p.id;
    EXPECT_EQ(p.scope, "global") << p.id;
  }
  EXPECT_EQ(ids, (std::set<std::string>{"owner-team", "purpose", "port-contract",
                                        "columns-classified", "sensitive-masked", "freshness-sla",
                                        "snake-case", "no-deprecated-input", "semantic-versions",
                                        "primary-key-quality", "cross-domain-grant"}));
  EXPECT_EQ(BuiltinPolicies().size(), 11u);
}

TEST(GovernanceBuiltinPackTest, EveryBuiltinCompilesAgainstTheViews) {
  PolicySet set;
  set.policies = BuiltinPolicies();
  auto evaluator = Evaluator::Empty();
  ASSERT_TRUE(evaluator.ok()) << evaluator.status().ToString();
  Status compiled = (*evaluator)->Compile(set);
  EXPECT_TRUE(compiled.ok()) << compiled.ToString();
}

TEST_F(GovernanceTest, ACompliantMeshViolatesNoBuiltinPolicy) {
  Gated checked = Check(CompliantMesh());
  ASSERT_TRUE(checked.status.ok()) << checked.status.ToString();
  for (const auto& v : checked.evaluation.violations) {
    ADD_FAILURE() << v.policy << ": " << v.entity << ": " << v.message;
  }
  EXPECT_TRUE(checked.lines.empty());
  ASSERT_EQ(checked.evaluation.policies.size(), 11u);
  for (const auto& [id, standing] : checked.evaluation.policies) {
    EXPECT_EQ(standing.score, 100) << id;
    EXPECT_EQ(standing.products, 2) << id;
    EXPECT_EQ(standing.failing, 0) << id;
  }
  EXPECT_EQ(checked.evaluation.mesh.score, 100);
  EXPECT_EQ(checked.evaluation.domains.at("sales").score, 100);
  EXPECT_EQ(checked.evaluation.domains.at("marketing").score, 100);

  // Applied for real, the catalog's views say the same.
  Gated applied = Apply(CompliantMesh(), /*dry_run=*/false);
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  Evaluation stored = EvaluateCatalog(Policies(CompliantMesh()));
  EXPECT_TRUE(stored.violations.empty());
  EXPECT_EQ(stored.mesh.products, 2);
}

TEST_F(GovernanceTest, ADryRunLeavesNothingBehind) {
  Gated checked = Check(CompliantMesh());
  ASSERT_TRUE(checked.status.ok()) << checked.status.ToString();
  EXPECT_FALSE(catalog_->GetProduct("sales.orders").ok());
  auto stored = catalog_->GovernancePolicies();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, "");
  auto applied = EvaluateApplied(*catalog_, "schedule", "ops");
  EXPECT_EQ(applied.status().code(), StatusCode::kNotFound);
}

// ---- each built-in policy catches its mistake ----------------------------------------------

struct Mistake {
  std::string policy;
  std::function<void(spec::Mesh&)> make;
  std::string entity;   ///< the entity the violation names
  std::string product;  ///< the product it is counted against
  /// Other policies the mistake violates by its nature (a port without a contract has no SLA).
  std::set<std::string> also = {};
};

void PrintTo(const Mistake& m, std::ostream* os) { *os << m.policy; }

class GovernanceBuiltinPolicyTest : public GovernanceTest,
                                    public ::testing::WithParamInterface<Mistake> {};

TEST_P(GovernanceBuiltinPolicyTest, CatchesItsMistake) {
  const Mistake& mistake = GetParam();
  const spec::Policy& policy = Builtin(mistake.policy);
  spec::Mesh mesh = CompliantMesh();
  mistake.make(mesh);

  Gated checked = Check(mesh);
  std::set<std::string> expected = mistake.also;
  expected.insert(mistake.policy);
  EXPECT_EQ(Violated(checked.evaluation), expected);
  auto violations = Of(checked.evaluation, mistake.policy);
  ASSERT_EQ(violations.size(), 1u);
  const Violation& v = violations[0];
  EXPECT_EQ(v.entity, mistake.entity);
  EXPECT_EQ(v.severity, policy.severity);
  EXPECT_EQ(v.product, mistake.product);
  EXPECT_EQ(v.domain, mistake.product.substr(0, mistake.product.find('.')));
  EXPECT_FALSE(v.message.empty());
  EXPECT_TRUE(v.exemption.empty());
  EXPECT_FALSE(v.quarantine);
  EXPECT_EQ(checked.evaluation.policies.at(mistake.policy).failing, 1);

  // The catalog as a compliant apply left it; then the mistake applied for real.
  Gated first = Apply(CompliantMesh(), /*dry_run=*/false);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  auto evaluations_before = catalog_->ListGovernanceEvaluations(100);
  ASSERT_TRUE(evaluations_before.ok());
  Gated applied = Apply(Edited(mesh), /*dry_run=*/false);
  std::string line_prefix = (policy.severity == "block" ? "refused: " : "warning: ") +
                            mistake.policy + " (" + policy.severity + "): " + mistake.entity + ": ";
  EXPECT_TRUE(applied.HasLine(line_prefix)) << line_prefix;
  auto evaluations_after = catalog_->ListGovernanceEvaluations(100);
  ASSERT_TRUE(evaluations_after.ok());
  Evaluation now = EvaluateCatalog(Policies(CompliantMesh()));
  if (policy.severity == "block") {
    EXPECT_EQ(checked.status.code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(applied.status.code(), StatusCode::kFailedPrecondition) << applied.status.ToString();
    EXPECT_NE(applied.status.message().find(mistake.policy), std::string::npos)
        << applied.status.message();
    // Nothing of the refused apply is in the catalog: it is still the compliant mesh, and the
    // refused evaluation is not in the history.
    EXPECT_TRUE(now.violations.empty());
    EXPECT_EQ(evaluations_after->size(), evaluations_before->size());
    auto product = catalog_->GetProduct("sales.orders");
    ASSERT_TRUE(product.ok());
    EXPECT_EQ(product->version, "1.0.0");
  } else {
    EXPECT_TRUE(checked.status.ok()) << checked.status.ToString();
    EXPECT_TRUE(applied.status.ok()) << applied.status.ToString();
    EXPECT_EQ(Entities(now, mistake.policy), (std::set<std::string>{mistake.entity}));
    EXPECT_EQ(evaluations_after->size(), evaluations_before->size() + 1);
  }
}

const Mistake kMistakes[] = {
    {"owner-team", [](spec::Mesh& m) { Orders(m).product.team.clear(); }, "sales.orders",
     "sales.orders"},
    {"purpose", [](spec::Mesh& m) { Orders(m).product.purpose = "tbd"; }, "sales.orders",
     "sales.orders"},
    // The catalog takes a port whose contract the bundle lacks; without the contract there is
    // no SLA either. (PortContractTest below makes the same mistake alone.)
    {"port-contract",
     [](spec::Mesh& m) { Orders(m).product.output_ports[0].contract_id = "urn:shop:sales:gone"; },
     "sales.orders.orders",
     "sales.orders",
     {"freshness-sla"}},
    {"columns-classified",
     [](spec::Mesh& m) { OrdersColumn(m, "customer_id").classification = ""; },
     "sales.orders.orders.customer_id", "sales.orders"},
    {"sensitive-masked", [](spec::Mesh& m) { OrdersColumn(m, "email").mask = ""; },
     "sales.orders.orders.email", "sales.orders"},
    {"freshness-sla", [](spec::Mesh& m) { OrdersContract(m).sla.clear(); }, "sales.orders.orders",
     "sales.orders"},
    {"snake-case", [](spec::Mesh& m) { OrdersColumn(m, "customer_id").name = "CustomerId"; },
     "sales.orders.orders.CustomerId", "sales.orders"},
    {"no-deprecated-input", [](spec::Mesh& m) { OrdersContract(m).status = "deprecated"; },
     "marketing.reach.orders", "marketing.reach"},
    {"semantic-versions", [](spec::Mesh& m) { Orders(m).product.version = "1.0"; }, "sales.orders",
     "sales.orders"},
    {"primary-key-quality", [](spec::Mesh& m) { OrdersColumn(m, "order_id").quality.clear(); },
     "sales.orders.orders.order_id", "sales.orders"},
    {"cross-domain-grant", [](spec::Mesh& m) { OrdersContract(m).visibility = "restricted"; },
     "marketing.reach.orders", "marketing.reach"},
};

INSTANTIATE_TEST_SUITE_P(Builtins, GovernanceBuiltinPolicyTest, ::testing::ValuesIn(kMistakes),
                         [](const ::testing::TestParamInfo<Mistake>& info) {
                           std::string name = info.param.policy;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST(GovernanceBuiltinCoverageTest, EveryBuiltinHasAMistake) {
  std::set<std::string> covered;
  for (const auto& m : kMistakes) covered.insert(m.policy);
  for (const auto& p : BuiltinPolicies()) EXPECT_TRUE(covered.count(p.id)) << p.id;
}

// The contract row gone from under an applied port (the mesh cannot say it: a contract the
// bundle lacks takes the port's SLA and columns with it), so port-contract is the only policy
// that notices.
TEST_F(GovernanceTest, PortContractCatchesAPortWhoseContractIsNotApplied) {
  Gated applied = Apply(CompliantMesh(), /*dry_run=*/false);
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  auto raw = catalog::testing::OpenRaw(home_);
  ASSERT_EQ(catalog::testing::Exec(
                raw, std::string("DELETE FROM contracts WHERE id = '") + kOrdersContract + "'"),
            "");
  Evaluation e = EvaluateCatalog(Policies(CompliantMesh()));
  EXPECT_EQ(Violated(e), (std::set<std::string>{"port-contract"}));
  auto violations = Of(e, "port-contract");
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].entity, "sales.orders.orders");
  EXPECT_NE(violations[0].message.find(kOrdersContract), std::string::npos)
      << violations[0].message;
  EXPECT_EQ(e.mesh.block, 1);
}

TEST_F(GovernanceTest, AGrantToTheReadingDomainSettlesCrossDomainInput) {
  spec::Mesh mesh = CompliantMesh();
  OrdersContract(mesh).visibility = "restricted";
  Gated applied = Apply(mesh, /*dry_run=*/false);  // a warning: applied
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  PolicySet set = Policies(mesh);
  Evaluation before = EvaluateCatalog(set);
  EXPECT_EQ(Entities(before, "cross-domain-grant"),
            (std::set<std::string>{"marketing.reach.orders"}));
  auto violation = Of(before, "cross-domain-grant");
  ASSERT_EQ(violation.size(), 1u);
  EXPECT_NE(violation[0].message.find("svc_marketing"), std::string::npos);

  // A grant to another principal does not count.
  catalog::GrantRecord other;
  other.grantee = "frank";
  other.target = "sales.orders";
  other.purpose = "campaign reach";
  ASSERT_TRUE(catalog_->CreateGrant(other, "carol").ok());
  EXPECT_EQ(Entities(EvaluateCatalog(set), "cross-domain-grant").size(), 1u);

  catalog::GrantRecord grant;
  grant.grantee = "svc_marketing";
  grant.target = "sales.orders";
  grant.purpose = "campaign reach";
  auto id = catalog_->CreateGrant(grant, "carol");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  Evaluation after = EvaluateCatalog(set);
  EXPECT_TRUE(Of(after, "cross-domain-grant").empty());
  EXPECT_TRUE(after.violations.empty());

  // Revoked, the grant no longer settles it.
  ASSERT_TRUE(catalog_->RevokeGrant(*id, "carol").ok());
  EXPECT_EQ(Entities(EvaluateCatalog(set), "cross-domain-grant").size(), 1u);

  // A grant to a group the service principal belongs to settles it too.
  ASSERT_TRUE(catalog_->AddGroupMember("campaigns", "svc_marketing", "ops").ok());
  catalog::GrantRecord to_group;
  to_group.grantee = "campaigns";
  to_group.grantee_kind = "group";
  to_group.target = "sales.orders.orders";
  to_group.purpose = "campaign reach";
  ASSERT_TRUE(catalog_->CreateGrant(to_group, "carol").ok());
  EXPECT_TRUE(Of(EvaluateCatalog(set), "cross-domain-grant").empty());
}

TEST_F(GovernanceTest, ABlockViolationOfAProductTheApplyLeavesAloneDoesNotRefuseIt) {
  spec::Mesh broken = CompliantMesh();
  OrdersColumn(broken, "email").mask = "";
  // Applied without governance: the violation is in the catalog.
  ASSERT_TRUE(catalog_->Apply(broken, "ops").ok());
  // The next apply changes marketing.reach only.
  spec::Mesh next = broken;
  DomainOf(next, "marketing").products[0].product.source_text = "# reach edited\n";
  Gated applied = Apply(next, /*dry_run=*/false);
  EXPECT_TRUE(applied.status.ok()) << applied.status.ToString();
  EXPECT_TRUE(applied.HasLine("warning: sensitive-masked (block): sales.orders.orders.email: "));
  EXPECT_EQ(applied.evaluation.mesh.block, 1);
  // Changing sales.orders is refused until it is fixed.
  Gated refused = Apply(Edited(broken, "orders edited"), /*dry_run=*/false);
  EXPECT_EQ(refused.status.code(), StatusCode::kFailedPrecondition);
}

// ---- the mesh's settings and the domains' parameters ---------------------------------------

TEST_F(GovernanceTest, TheMeshRegradesAndTunesABuiltin) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting setting;
  setting.policy = "purpose";
  setting.severity = "block";
  setting.parameters["min_length"] = Number(41);
  mesh.governance.settings.push_back(setting);
  PolicySet set = Policies(mesh);
  ASSERT_NE(set.Find("purpose"), nullptr);
  EXPECT_EQ(set.Find("purpose")->severity, "block");
  EXPECT_EQ(set.Find("purpose")->parameters[0].default_value.number, 41);

  Gated checked = Check(mesh);
  EXPECT_EQ(checked.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(checked.status.message().find("purpose"), std::string::npos);
  EXPECT_EQ(Entities(checked.evaluation, "purpose"),
            (std::set<std::string>{"sales.orders", "marketing.reach"}));
  for (const auto& v : Of(checked.evaluation, "purpose")) {
    EXPECT_EQ(v.severity, "block");
    EXPECT_NE(v.message.find("has 40 characters; the mesh asks for at least 41"), std::string::npos)
        << v.message;
  }
  EXPECT_EQ(checked.evaluation.mesh.block, 2);
}

TEST_F(GovernanceTest, TheMeshSwitchesABuiltinOff) {
  spec::Mesh mesh = CompliantMesh();
  Orders(mesh).product.purpose = "tbd";
  ASSERT_EQ(Violated(Check(mesh).evaluation), (std::set<std::string>{"purpose"}));
  spec::PolicySetting off;
  off.policy = "purpose";
  off.enabled = false;
  mesh.governance.settings.push_back(off);
  PolicySet set = Policies(mesh);
  ASSERT_NE(set.Find("purpose"), nullptr);  // kept, switched off
  EXPECT_FALSE(set.Find("purpose")->enabled);
  Gated checked = Check(mesh);
  EXPECT_TRUE(checked.status.ok());
  EXPECT_TRUE(checked.evaluation.violations.empty());
  EXPECT_EQ(checked.evaluation.policies.count("purpose"), 0u);
  EXPECT_EQ(checked.evaluation.policies.size(), 10u);
}

TEST_F(GovernanceTest, TheWholeBuiltinPackCanBeSwitchedOff) {
  spec::Mesh mesh = CompliantMesh();
  Orders(mesh).product.purpose = "tbd";
  OrdersColumn(mesh, "email").mask = "";
  mesh.governance.builtin = false;
  PolicySet set = Policies(mesh);
  EXPECT_TRUE(set.policies.empty());
  Gated checked = Check(mesh);
  EXPECT_TRUE(checked.status.ok()) << checked.status.ToString();
  EXPECT_TRUE(checked.evaluation.violations.empty());
}

TEST_F(GovernanceTest, TheMeshMayNotTuneWhatAPolicyDoesNotHave) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting unknown;
  unknown.policy = "no-such-policy";
  unknown.enabled = false;
  spec::PolicySetting bad_parameter;
  bad_parameter.policy = "purpose";
  bad_parameter.parameters["max_length"] = Number(10);
  spec::PolicySetting bad_kind;
  bad_kind.policy = "owner-team";
  bad_kind.parameters["min_members"] = Text("two");
  mesh.governance.settings = {unknown, bad_parameter, bad_kind};
  std::vector<spec::Diagnostic> problems;
  auto set = ResolvePolicies(mesh, &problems);
  EXPECT_FALSE(set.ok());
  std::string all = Problems(problems);
  EXPECT_EQ(problems.size(), 3u) << all;
  EXPECT_NE(all.find("no policy no-such-policy"), std::string::npos) << all;
  EXPECT_NE(all.find("policy purpose has no parameter max_length"), std::string::npos) << all;
  EXPECT_NE(all.find("expected a value like 1, found two"), std::string::npos) << all;
}

TEST_F(GovernanceTest, ADomainTightensAParameterForItselfOnly) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting stricter;
  stricter.policy = "purpose";
  stricter.parameters["min_length"] = Number(60);
  DomainOf(mesh, "sales").policy_settings.push_back(stricter);
  PolicySet set = Policies(mesh);
  EXPECT_EQ(set.domain_parameters["sales"]["purpose"]["min_length"].number, 60);
  EXPECT_EQ(set.domain_parameters.count("marketing"), 0u);

  Gated checked = Check(mesh);
  EXPECT_TRUE(checked.status.ok()) << checked.status.ToString();  // purpose warns
  EXPECT_EQ(Entities(checked.evaluation, "purpose"), (std::set<std::string>{"sales.orders"}));
  auto v = Of(checked.evaluation, "purpose");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].message.find("at least 60"), std::string::npos) << v[0].message;
  EXPECT_EQ(Violated(checked.evaluation), (std::set<std::string>{"purpose"}));
  EXPECT_LT(checked.evaluation.domains.at("sales").score, 100);
  EXPECT_EQ(checked.evaluation.domains.at("marketing").score, 100);
}

TEST_F(GovernanceTest, ADomainAddsToAListParameter) {
  spec::Mesh mesh = CompliantMesh();
  // Both domains have an unmasked column classified restricted.
  OrdersColumn(mesh, "customer_id").classification = "restricted";
  ReachColumn(mesh, "segment").classification = "restricted";
  ASSERT_TRUE(Violated(Check(mesh).evaluation).empty());
  spec::PolicySetting more;
  more.policy = "sensitive-masked";
  more.parameters["classifications"] = List({"pii", "confidential", "restricted"});
  DomainOf(mesh, "marketing").policy_settings.push_back(more);
  Gated checked = Check(mesh);
  EXPECT_EQ(Entities(checked.evaluation, "sensitive-masked"),
            (std::set<std::string>{"marketing.reach.reach.segment"}));
  EXPECT_EQ(checked.status.code(), StatusCode::kFailedPrecondition);
}

TEST_F(GovernanceTest, ADomainParameterOutsideTheRangeIsRefused) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting setting;
  setting.policy = "purpose";
  setting.parameters["min_length"] = Number(5000);
  setting.parameter_locations["min_length"] = {"domains/sales/domain.yaml", 9, 19};
  DomainOf(mesh, "sales").policy_settings.push_back(setting);
  std::vector<spec::Diagnostic> problems;
  auto set = ResolvePolicies(mesh, &problems);
  ASSERT_FALSE(set.ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_NE(problems[0].message.find("between 1 and 1000"), std::string::npos)
      << problems[0].message;
  EXPECT_EQ(problems[0].field, "governance.parameters.purpose.min_length");
  EXPECT_EQ(problems[0].location.file, "domains/sales/domain.yaml");
  EXPECT_EQ(problems[0].location.line, 9);

  // Below the range too.
  DomainOf(mesh, "sales").policy_settings[0].parameters["min_length"] = Number(0);
  problems.clear();
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  EXPECT_NE(Problems(problems).find("between 1 and 1000"), std::string::npos);
}

TEST_F(GovernanceTest, ADomainMayNotDropAClassificationTheMeshMasks) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting looser;
  looser.policy = "sensitive-masked";
  looser.parameters["classifications"] = List({"confidential"});
  DomainOf(mesh, "sales").policy_settings.push_back(looser);
  std::vector<spec::Diagnostic> problems;
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_NE(problems[0].message.find("leaves out pii"), std::string::npos) << problems[0].message;

  // Nor add one the mesh does not allow.
  DomainOf(mesh, "sales").policy_settings[0].parameters["classifications"] =
      List({"pii", "confidential", "whatever"});
  problems.clear();
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  EXPECT_NE(Problems(problems).find("whatever is not a value the mesh allows"), std::string::npos)
      << Problems(problems);
}

TEST_F(GovernanceTest, ADomainPolicyMayNotTakeAGlobalPolicysId) {
  spec::Mesh mesh = CompliantMesh();
  mesh.governance.policies.push_back(
      GlobalPolicy("tags-required",
                   "SELECT qualified_name AS entity, 'no tags' AS message FROM products "
                   "WHERE id NOT IN (SELECT product_id FROM product_tags)"));
  spec::Policy weaker = GlobalPolicy("purpose", "SELECT '' AS entity, '' AS message WHERE false");
  spec::Policy other =
      GlobalPolicy("tags-required", "SELECT '' AS entity, '' AS message WHERE false");
  DomainOf(mesh, "sales").policies = {weaker, other};
  std::vector<spec::Diagnostic> problems;
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  ASSERT_EQ(problems.size(), 2u) << Problems(problems);
  for (const auto& p : problems) {
    EXPECT_NE(p.message.find("is a global policy's"), std::string::npos) << p.message;
  }
  EXPECT_NE(problems[0].message.find("purpose"), std::string::npos);
  EXPECT_NE(problems[1].message.find("tags-required"), std::string::npos);

  // A global policy may not take a built-in's id either.
  spec::Mesh global = CompliantMesh();
  global.governance.policies.push_back(
      GlobalPolicy("owner-team", "SELECT '' AS entity, '' AS message WHERE false"));
  problems.clear();
  EXPECT_FALSE(ResolvePolicies(global, &problems).ok());
  EXPECT_NE(Problems(problems).find("is a built-in policy's"), std::string::npos);
}

TEST_F(GovernanceTest, ADomainMayNotSetAParameterWithoutARange) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy policy = GlobalPolicy(
      "tags-required",
      "SELECT qualified_name AS entity, 'fewer than ' || $min_tags || ' tags' AS message "
      "FROM products p WHERE (SELECT count(*) FROM product_tags t WHERE t.product_id = p.id) "
      "< $min_tags");
  spec::PolicyParameter min_tags;
  min_tags.name = "min_tags";
  min_tags.default_value = Number(0);
  policy.parameters.push_back(min_tags);
  mesh.governance.policies.push_back(policy);
  spec::PolicySetting setting;
  setting.policy = "tags-required";
  setting.parameters["min_tags"] = Number(2);
  DomainOf(mesh, "sales").policy_settings.push_back(setting);
  std::vector<spec::Diagnostic> problems;
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_NE(problems[0].message.find("does not let domains set min_tags of tags-required"),
            std::string::npos)
      << problems[0].message;

  // The mesh itself may.
  mesh.domains[0].policy_settings.clear();
  mesh.governance.settings.push_back(setting);
  Gated checked = Check(mesh);
  EXPECT_EQ(Entities(checked.evaluation, "tags-required"),
            (std::set<std::string>{"sales.orders", "marketing.reach"}));
}

TEST_F(GovernanceTest, ADomainsOwnPolicyAppliesToItsProductsOnly) {
  spec::Mesh mesh = CompliantMesh();
  // Flags every product it sees: the domain's scope keeps only its own.
  spec::Policy own =
      GlobalPolicy("sales-usage",
                   "SELECT qualified_name AS entity, 'no usage notes' AS message FROM products "
                   "WHERE usage = ''");
  DomainOf(mesh, "sales").policies.push_back(own);
  PolicySet set = Policies(mesh);
  ASSERT_NE(set.Find("sales-usage"), nullptr);
  EXPECT_EQ(set.Find("sales-usage")->scope, "sales");
  Gated checked = Check(mesh);
  EXPECT_EQ(Entities(checked.evaluation, "sales-usage"), (std::set<std::string>{"sales.orders"}));
  EXPECT_EQ(checked.evaluation.policies.at("sales-usage").products, 1);
}

// Rows that name no domain (a principal, the mesh) are reported once whatever parameters the
// domains run the policy with, also when every domain sets its own.
TEST_F(GovernanceTest, ViolationsOutsideTheDomainsAreKeptWhenEveryDomainSetsItsOwnValue) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy policy =
      GlobalPolicy("service-principals",
                   "SELECT name AS entity, 'service principal' AS message "
                   "FROM principals WHERE kind = 'service' AND length(name) >= $min");
  spec::PolicyParameter min;
  min.name = "min";
  min.default_value = Number(1);
  min.min = 1;
  min.max = 100;
  policy.parameters.push_back(min);
  mesh.governance.policies.push_back(policy);
  std::set<std::string> expected = {"svc_marketing", "svc_sales"};
  EXPECT_EQ(Entities(Check(mesh).evaluation, "service-principals"), expected);

  spec::PolicySetting one;
  one.policy = "service-principals";
  one.parameters["min"] = Number(2);
  DomainOf(mesh, "sales").policy_settings.push_back(one);
  EXPECT_EQ(Entities(Check(mesh).evaluation, "service-principals"), expected);
  DomainOf(mesh, "marketing").policy_settings.push_back(one);
  Evaluation e = Check(mesh).evaluation;
  EXPECT_EQ(Entities(e, "service-principals"), expected);
  for (const auto& v : Of(e, "service-principals")) {
    EXPECT_EQ(v.domain, "");
    EXPECT_EQ(v.product, "");
  }
}

// ---- exemptions ----------------------------------------------------------------------------

class GovernanceExemptionTest : public GovernanceTest {
 protected:
  /// The compliant mesh with email unmasked (a block violation of sensitive-masked).
  static spec::Mesh Unmasked() {
    spec::Mesh mesh = CompliantMesh();
    OrdersColumn(mesh, "email").mask = "";
    return mesh;
  }

  void ExpectExempted(const Gated& checked, const std::string& expires) {
    EXPECT_TRUE(checked.status.ok()) << checked.status.ToString();
    auto v = Of(checked.evaluation, "sensitive-masked");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].entity, "sales.orders.orders.email");
    EXPECT_EQ(v[0].exemption, "Masking lands with the next release (approved by governance-board)");
    EXPECT_EQ(v[0].exemption_expires, expires);
    EXPECT_TRUE(Violated(checked.evaluation).empty());
    const Evaluation& e = checked.evaluation;
    EXPECT_EQ(e.mesh.block, 0);
    EXPECT_EQ(e.mesh.warn, 0);
    EXPECT_EQ(e.mesh.exempted, 1);
    EXPECT_EQ(e.Blocking(), 0);
    EXPECT_EQ(e.domains.at("sales").block, 0);
    EXPECT_EQ(e.domains.at("sales").exempted, 1);
    EXPECT_EQ(e.domains.at("sales").score, 100);
    EXPECT_EQ(e.policies.at("sensitive-masked").exempted, 1);
    EXPECT_EQ(e.policies.at("sensitive-masked").failing, 0);
    EXPECT_TRUE(checked.lines.empty());
  }

  void ExpectCounted(const Gated& checked) {
    EXPECT_EQ(checked.status.code(), StatusCode::kFailedPrecondition);
    auto v = Of(checked.evaluation, "sensitive-masked");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].exemption, "");
    EXPECT_EQ(checked.evaluation.mesh.block, 1);
    EXPECT_EQ(checked.evaluation.mesh.exempted, 0);
  }
};

TEST_F(GovernanceExemptionTest, AnExemptionOfTheProductCoversItsColumns) {
  spec::Mesh mesh = Unmasked();
  ExpectCounted(Check(mesh));
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", DayFromToday(1)));
  ExpectExempted(Check(mesh), DayFromToday(1));
  Gated applied = Apply(Edited(mesh), /*dry_run=*/false);
  EXPECT_TRUE(applied.status.ok()) << applied.status.ToString();
}

TEST_F(GovernanceExemptionTest, AnExemptionOfTheColumn) {
  spec::Mesh mesh = Unmasked();
  mesh.governance.exemptions.push_back(
      Exempt("sensitive-masked", "sales.orders.orders.email", DayFromToday(1)));
  ExpectExempted(Check(mesh), DayFromToday(1));
}

TEST_F(GovernanceExemptionTest, AnExemptionCoversOnlyItsPolicyAndItsEntity) {
  spec::Mesh mesh = Unmasked();
  mesh.governance.exemptions.push_back(Exempt("purpose", "sales.orders", DayFromToday(1)));
  mesh.governance.exemptions.push_back(
      Exempt("sensitive-masked", "sales.orders.orders.amount", DayFromToday(1)));
  // Neither a prefix of the name that is not a whole part.
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.ord", DayFromToday(1)));
  ExpectCounted(Check(mesh));
}

TEST_F(GovernanceExemptionTest, AnExemptionCoversTheWholeDayItExpires) {
  spec::Mesh mesh = Unmasked();
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", DayFromToday(0)));
  ExpectExempted(Check(mesh), DayFromToday(0));
}

TEST_F(GovernanceExemptionTest, AnExpiredExemptionCoversNothing) {
  spec::Mesh mesh = Unmasked();
  mesh.governance.exemptions.push_back(
      Exempt("sensitive-masked", "sales.orders", DayFromToday(-1)));
  ExpectCounted(Check(mesh));
}

TEST_F(GovernanceExemptionTest, ADateTimeExpiryLapsesByItself) {
  spec::Mesh mesh = Unmasked();
  std::string expires = SecondsFromNow(2);
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", expires));
  ExpectExempted(Check(mesh), expires);
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  ExpectCounted(Check(mesh));
}

// An expiry written to the second ends at that second, not at the end of it: the evaluation's
// time has milliseconds.
TEST_F(GovernanceExemptionTest, ADateTimeExpiryEndsAtItsSecond) {
  spec::Mesh mesh = Unmasked();
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  PolicySet set = Policies(mesh);
  set.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", "2030-01-01T12:00:00Z"));
  set.exemptions.push_back(
      Exempt("sensitive-masked", "sales.orders.orders.amount", "2030-01-01T12:00:00.5Z"));
  auto evaluator = Evaluator::FromCatalog(*catalog_, catalog::NowUtc());
  ASSERT_TRUE(evaluator.ok());
  auto at = [&](const std::string& now) {
    auto e = (*evaluator)->Evaluate(set, now);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? e->mesh.exempted : -1;
  };
  EXPECT_EQ(at("2030-01-01T11:59:59.999Z"), 1);
  EXPECT_EQ(at("2030-01-01T12:00:00.000Z"), 0);
  EXPECT_EQ(at("2030-01-01T12:00:00.500Z"), 0);
  EXPECT_EQ(at("2030-01-01T12:00:00Z"), 0);
  // Fractions of a second compare as numbers.
  OrdersColumn(mesh, "amount").mask = "";
  ASSERT_TRUE(catalog_->Apply(Edited(mesh), "ops").ok());
  auto again = Evaluator::FromCatalog(*catalog_, catalog::NowUtc());
  ASSERT_TRUE(again.ok());
  auto amount_exempted = [&](const std::string& now) {
    auto e = (*again)->Evaluate(set, now);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (!e.ok()) return false;
    for (const auto& v : e->violations) {
      if (v.entity == "sales.orders.orders.amount") return !v.exemption.empty();
    }
    ADD_FAILURE() << "no violation of amount";
    return false;
  };
  EXPECT_TRUE(amount_exempted("2030-01-01T11:00:00.499Z"));
  EXPECT_TRUE(amount_exempted("2030-01-01T12:00:00.499Z"));
  EXPECT_FALSE(amount_exempted("2030-01-01T12:00:00.550Z"));
}

TEST_F(GovernanceExemptionTest, APolicyThatIsNotExemptibleRefusesExemptions) {
  spec::Mesh mesh = Unmasked();
  spec::PolicySetting strict;
  strict.policy = "sensitive-masked";
  strict.exemptible = false;
  mesh.governance.settings.push_back(strict);
  mesh.governance.exemptions.push_back(Exempt("sensitive-masked", "sales.orders", DayFromToday(1)));
  mesh.governance.exemptions.back().location = {"governance/exemptions.yaml", 4, 5};
  std::vector<spec::Diagnostic> problems;
  EXPECT_FALSE(ResolvePolicies(mesh, &problems).ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  EXPECT_NE(problems[0].message.find("sensitive-masked is not exemptible"), std::string::npos)
      << problems[0].message;
  EXPECT_EQ(problems[0].location.line, 4);

  // Likewise a global policy written not exemptible; and an exemption of an unknown policy.
  spec::Mesh other = CompliantMesh();
  spec::Policy policy =
      GlobalPolicy("no-draft",
                   "SELECT qualified_name AS entity, 'draft' AS message FROM products "
                   "WHERE status = 'draft'");
  policy.exemptible = false;
  other.governance.policies.push_back(policy);
  other.governance.exemptions.push_back(Exempt("no-draft", "sales.orders", DayFromToday(1)));
  other.governance.exemptions.push_back(Exempt("no-such", "sales.orders", DayFromToday(1)));
  problems.clear();
  EXPECT_FALSE(ResolvePolicies(other, &problems).ok());
  std::string all = Problems(problems);
  EXPECT_NE(all.find("no-draft is not exemptible"), std::string::npos) << all;
  EXPECT_NE(all.find("no policy no-such"), std::string::npos) << all;
}

// ---- policy SQL checked at load ------------------------------------------------------------

struct BadSql {
  std::string name;
  std::string sql;
  std::string reason;  ///< a part of the problem's message
};

void PrintTo(const BadSql& b, std::ostream* os) { *os << b.name; }

class GovernanceBadPolicySqlTest : public ::testing::TestWithParam<BadSql> {};

TEST_P(GovernanceBadPolicySqlTest, IsRefusedAtLoad) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy policy = GlobalPolicy("house-rule", GetParam().sql);
  mesh.governance.policies.push_back(policy);
  std::vector<spec::Diagnostic> problems;
  auto set = LoadPolicies(mesh, &problems);
  ASSERT_FALSE(set.ok());
  ASSERT_EQ(problems.size(), 1u) << Problems(problems);
  const spec::Diagnostic& p = problems[0];
  EXPECT_EQ(p.field, "policies.house-rule.sql");
  EXPECT_EQ(p.location.file, "governance/policies.yaml");
  EXPECT_EQ(p.location.line, 7);  // the policy's sql
  EXPECT_EQ(p.message.rfind("policy house-rule: ", 0), 0u) << p.message;
  EXPECT_NE(p.message.find(GetParam().reason), std::string::npos) << p.message;
  EXPECT_NE(p.ToString().find("governance/policies.yaml:7"), std::string::npos) << p.ToString();
}

INSTANTIATE_TEST_SUITE_P(
    Policies, GovernanceBadPolicySqlTest,
    ::testing::Values(
        BadSql{"does_not_parse", "SELEC qualified_name AS entity, 'x' AS message FROM products",
               "syntax error"},
        BadSql{"reads_a_table_that_is_not_a_view",
               "SELECT name AS entity, 'x' AS message FROM secrets", "secrets is not one of them"},
        BadSql{"reads_the_catalogs_tables_by_schema",
               "SELECT name AS entity, 'x' AS message FROM main.products", "is not one of them"},
        BadSql{"calls_a_table_function",
               "SELECT column0 AS entity, 'x' AS message FROM read_csv('/etc/passwd')",
               "table function read_csv is not allowed"},
        BadSql{"has_a_second_statement",
               "SELECT qualified_name AS entity, 'x' AS message FROM products; "
               "SELECT qualified_name AS entity, 'y' AS message FROM products",
               "only one statement is accepted"},
        BadSql{"returns_one_column", "SELECT qualified_name AS entity FROM products",
               "must return two VARCHAR columns, entity and message; it returns (entity VARCHAR)"},
        BadSql{"returns_a_bigint_entity", "SELECT major AS entity, name AS message FROM ports",
               "it returns (entity BIGINT, message VARCHAR)"},
        BadSql{"names_the_columns_otherwise",
               "SELECT qualified_name AS what, name AS message FROM products",
               "it returns (what VARCHAR, message VARCHAR)"},
        BadSql{"uses_an_unknown_parameter",
               "SELECT qualified_name AS entity, 'x' AS message FROM products "
               "WHERE length(purpose) < $min_length",
               "uses $min_length, which is not one of its parameters"},
        BadSql{"writes", "DELETE FROM products", "only SELECT queries are accepted"}),
    [](const ::testing::TestParamInfo<BadSql>& info) { return info.param.name; });

TEST(GovernanceLoadPoliciesTest, AcceptsAPolicyThatReadsTheViewsWithItsParameters) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy policy =
      GlobalPolicy("house-rule",
                   "SELECT p.qualified_name AS entity, 'few tags' AS message FROM products p "
                   "LEFT JOIN product_tags t ON t.product_id = p.id GROUP BY p.qualified_name "
                   "HAVING count(t.tag) < $min_tags");
  spec::PolicyParameter min_tags;
  min_tags.name = "min_tags";
  min_tags.default_value = Number(1);
  min_tags.min = 0;
  min_tags.max = 10;
  policy.parameters.push_back(min_tags);
  mesh.governance.policies.push_back(policy);
  std::vector<spec::Diagnostic> problems;
  auto set = LoadPolicies(mesh, &problems);
  ASSERT_TRUE(set.ok()) << Problems(problems);
  EXPECT_EQ(set->policies.size(), 12u);
  // In id order.
  for (size_t i = 1; i < set->policies.size(); ++i) {
    EXPECT_LT(set->policies[i - 1].id, set->policies[i].id);
  }
}

// ---- scores --------------------------------------------------------------------------------

TEST_F(GovernanceTest, ScoresShowWhichDomainFails) {
  spec::Mesh mesh = CompliantMesh();
  OrdersColumn(mesh, "email").mask = "";  // block
  Orders(mesh).product.purpose = "tbd";   // warn
  Gated checked = Check(mesh);
  const Evaluation& e = checked.evaluation;
  EXPECT_EQ(e.mesh.block, 1);
  EXPECT_EQ(e.Blocking(), 1);
  EXPECT_EQ(e.mesh.warn, 1);
  EXPECT_EQ(e.mesh.products, 2);
  EXPECT_EQ(e.mesh.failing, 1);
  const Standing& sales = e.domains.at("sales");
  const Standing& marketing = e.domains.at("marketing");
  // 4 block policies weigh 3, 7 warn policies 2: sales fails one of each.
  EXPECT_NEAR(sales.score, 100.0 * (26 - 3 - 2) / 26, 1e-9);
  EXPECT_EQ(sales.block, 1);
  EXPECT_EQ(sales.warn, 1);
  EXPECT_EQ(sales.failing, 1);
  EXPECT_EQ(marketing.score, 100);
  EXPECT_EQ(marketing.block + marketing.warn, 0);
  EXPECT_NEAR(e.mesh.score, 100.0 * (52 - 3 - 2) / 52, 1e-9);
  EXPECT_EQ(e.policies.at("sensitive-masked").score, 50);
  EXPECT_EQ(e.policies.at("sensitive-masked").failing, 1);
  EXPECT_EQ(e.policies.at("owner-team").score, 100);

  nlohmann::json summary = e.Summary();
  EXPECT_EQ(summary["domains"]["sales"]["score"].get<double>(), 80.8);
  EXPECT_EQ(summary["domains"]["marketing"]["score"].get<double>(), 100);
  EXPECT_EQ(summary["domains"]["sales"]["block"].get<int64_t>(), 1);
  EXPECT_EQ(summary["mesh"]["block"].get<int64_t>(), 1);
  EXPECT_EQ(summary["score"].get<double>(), 90.4);
  EXPECT_EQ(summary["policies"]["sensitive-masked"]["failing_products"].get<int64_t>(), 1);
  EXPECT_FALSE(summary.contains("violations"));
}

TEST_F(GovernanceTest, TheAppliedEvaluationIsKeptWithItsViolations) {
  spec::Mesh mesh = CompliantMesh();
  Orders(mesh).product.purpose = "tbd";
  Gated applied = Apply(mesh, /*dry_run=*/false);
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();
  auto latest = catalog_->LatestGovernanceEvaluation();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->trigger, "apply");
  EXPECT_EQ(latest->actor, "ops");
  ASSERT_EQ(latest->violations.size(), 1u);
  EXPECT_EQ(latest->violations[0].policy, "purpose");
  EXPECT_EQ(latest->violations[0].entity, "sales.orders");
  auto summary = nlohmann::json::parse(latest->summary);
  EXPECT_LT(summary["domains"]["sales"]["score"].get<double>(), 100);

  // plexus governance report: the applied policies evaluated again, and recorded.
  PolicySet set;
  auto again = EvaluateApplied(*catalog_, "report", "carol", &set);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Entities(*again, "purpose"), (std::set<std::string>{"sales.orders"}));
  EXPECT_EQ(set.policies.size(), 11u);
  auto history = catalog_->ListGovernanceEvaluations(10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].trigger, "report");
}

// ---- quarantine ----------------------------------------------------------------------------

TEST_F(GovernanceTest, AQuarantiningPolicyTakesAProductOutOfServiceUntilItIsSettled) {
  spec::Mesh mesh = CompliantMesh();
  spec::Policy review =
      GlobalPolicy("under-review",
                   "SELECT qualified_name AS entity, 'flagged by the audit' AS message "
                   "FROM products WHERE qualified_name = 'sales.orders'");
  review.quarantine = true;
  mesh.governance.policies.push_back(review);
  Gated applied = Apply(mesh, /*dry_run=*/false);  // a warning: applied
  ASSERT_TRUE(applied.status.ok()) << applied.status.ToString();

  auto evaluation = EvaluateApplied(*catalog_, "schedule", "ops");
  ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
  auto v = Of(*evaluation, "under-review");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].quarantine);
  auto quarantined = catalog_->QuarantinedProducts();
  ASSERT_TRUE(quarantined.ok());
  EXPECT_EQ(
      *quarantined,
      (std::map<std::string, std::string>{{"sales.orders", "under-review: flagged by the audit"}}));
  auto policy = access::AccessPolicy::Load(*catalog_);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  ASSERT_NE((*policy)->Quarantined("sales.orders"), nullptr);
  EXPECT_NE((*policy)->Quarantined("sales.orders")->find("under-review"), std::string::npos);
  EXPECT_EQ((*policy)->Quarantined("marketing.reach"), nullptr);

  // An exemption, applied: the next evaluation lifts the quarantine.
  mesh.governance.exemptions.push_back(Exempt("under-review", "sales.orders", DayFromToday(7)));
  Gated exempted = Apply(mesh, /*dry_run=*/false);
  ASSERT_TRUE(exempted.status.ok()) << exempted.status.ToString();
  auto settled = EvaluateApplied(*catalog_, "schedule", "ops");
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  v = Of(*settled, "under-review");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0].quarantine);
  EXPECT_FALSE(v[0].exemption.empty());
  quarantined = catalog_->QuarantinedProducts();
  ASSERT_TRUE(quarantined.ok());
  EXPECT_TRUE(quarantined->empty());
  policy = access::AccessPolicy::Load(*catalog_);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ((*policy)->Quarantined("sales.orders"), nullptr);

  // The exemption gone again, the quarantine is back; the policy switched off, it is gone.
  mesh.governance.exemptions.clear();
  ASSERT_TRUE(Apply(mesh, /*dry_run=*/false).status.ok());
  ASSERT_TRUE(EvaluateApplied(*catalog_, "schedule", "ops").ok());
  EXPECT_EQ(catalog_->QuarantinedProducts()->count("sales.orders"), 1u);
  spec::PolicySetting off;
  off.policy = "under-review";
  off.enabled = false;
  mesh.governance.settings.push_back(off);
  ASSERT_TRUE(Apply(mesh, /*dry_run=*/false).status.ok());
  ASSERT_TRUE(EvaluateApplied(*catalog_, "schedule", "ops").ok());
  EXPECT_TRUE(catalog_->QuarantinedProducts()->empty());
}

// ---- the policy set as the catalog stores it -----------------------------------------------

TEST_F(GovernanceTest, ThePolicySetSurvivesJson) {
  spec::Mesh mesh = CompliantMesh();
  spec::PolicySetting tuned;
  tuned.policy = "purpose";
  tuned.severity = "block";
  tuned.parameters["min_length"] = Number(25);
  mesh.governance.settings.push_back(tuned);
  spec::Policy review =
      GlobalPolicy("under-review",
                   "SELECT qualified_name AS entity, $note AS message FROM products "
                   "WHERE list_contains($watched, qualified_name) AND $on");
  review.quarantine = true;
  review.exemptible = true;
  review.rationale = "Audits flag products.";
  spec::PolicyParameter note;
  note.name = "note";
  note.description = "what the violation says";
  note.default_value = Text("flagged");
  note.allowed = {"flagged", "under audit"};
  spec::PolicyParameter watched;
  watched.name = "watched";
  watched.default_value = List({"sales.orders"});
  watched.allowed = {"sales.orders", "marketing.reach"};
  spec::PolicyParameter on;
  on.name = "on";
  on.default_value.kind = spec::PolicyValue::Kind::kBool;
  on.default_value.boolean = true;
  review.parameters = {note, watched, on};
  mesh.governance.policies.push_back(review);
  spec::PolicySetting stricter;
  stricter.policy = "purpose";
  stricter.parameters["min_length"] = Number(60);
  spec::PolicySetting watch_more;
  watch_more.policy = "under-review";
  watch_more.parameters["watched"] = List({"sales.orders", "marketing.reach"});
  watch_more.parameters["note"] = Text("under audit");
  DomainOf(mesh, "marketing").policy_settings = {stricter, watch_more};
  mesh.governance.exemptions.push_back(Exempt("purpose", "sales.orders", DayFromToday(3)));
  mesh.governance.exemptions.back().location = {"governance/exemptions.yaml", 2, 3};

  std::vector<spec::Diagnostic> problems;
  auto loaded = LoadPolicies(mesh, &problems);
  ASSERT_TRUE(loaded.ok()) << Problems(problems);
  const PolicySet& set = *loaded;
  auto restored = PolicySet::FromJson(nlohmann::json::parse(set.ToJson().dump()));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->ToJson(), set.ToJson());

  ASSERT_EQ(restored->policies.size(), 12u);
  const spec::Policy* purpose = restored->Find("purpose");
  ASSERT_NE(purpose, nullptr);
  EXPECT_EQ(purpose->severity, "block");
  EXPECT_TRUE(purpose->builtin);
  ASSERT_EQ(purpose->parameters.size(), 1u);
  EXPECT_EQ(purpose->parameters[0].default_value.number, 25);
  EXPECT_EQ(purpose->parameters[0].min, 1);
  EXPECT_EQ(purpose->parameters[0].max, 1000);
  EXPECT_EQ(purpose->sql, Builtin("purpose").sql);
  const spec::Policy* restored_review = restored->Find("under-review");
  ASSERT_NE(restored_review, nullptr);
  EXPECT_TRUE(restored_review->quarantine);
  EXPECT_FALSE(restored_review->builtin);
  EXPECT_EQ(restored_review->rationale, "Audits flag products.");
  EXPECT_EQ(restored_review->sql_location.line, 7);
  ASSERT_EQ(restored_review->parameters.size(), 3u);
  EXPECT_EQ(restored_review->parameters[0].default_value.text, "flagged");
  EXPECT_EQ(restored_review->parameters[0].allowed, note.allowed);
  EXPECT_EQ(restored_review->parameters[1].default_value.kind, spec::PolicyValue::Kind::kList);
  EXPECT_EQ(restored_review->parameters[1].default_value.list,
            std::vector<std::string>{"sales.orders"});
  EXPECT_EQ(restored_review->parameters[2].default_value.kind, spec::PolicyValue::Kind::kBool);
  EXPECT_TRUE(restored_review->parameters[2].default_value.boolean);
  auto& marketing = restored->domain_parameters.at("marketing");
  EXPECT_EQ(marketing.at("purpose").at("min_length").number, 60);
  EXPECT_EQ(marketing.at("under-review").at("watched").list,
            (std::vector<std::string>{"sales.orders", "marketing.reach"}));
  EXPECT_EQ(marketing.at("under-review").at("note").text, "under audit");
  ASSERT_EQ(restored->exemptions.size(), 1u);
  const spec::Exemption& e = restored->exemptions[0];
  EXPECT_EQ(e.policy, "purpose");
  EXPECT_EQ(e.entity, "sales.orders");
  EXPECT_EQ(e.justification, "Masking lands with the next release");
  EXPECT_EQ(e.approved_by, "governance-board");
  EXPECT_EQ(e.expires, DayFromToday(3));
  EXPECT_EQ(e.location.line, 2);

  // What matters: the stored set judges the mesh as the loaded one does.
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  Evaluation original = EvaluateCatalog(set);
  Evaluation again = EvaluateCatalog(*restored);
  ASSERT_EQ(original.violations.size(), again.violations.size());
  for (size_t i = 0; i < original.violations.size(); ++i) {
    EXPECT_EQ(original.violations[i].policy, again.violations[i].policy);
    EXPECT_EQ(original.violations[i].entity, again.violations[i].entity);
    EXPECT_EQ(original.violations[i].message, again.violations[i].message);
    EXPECT_EQ(original.violations[i].exemption, again.violations[i].exemption);
  }
  EXPECT_EQ(Entities(again, "under-review"),
            (std::set<std::string>{"sales.orders", "marketing.reach"}));
  for (const auto& v : Of(again, "under-review")) {
    EXPECT_EQ(v.message, v.domain == "marketing" ? "under audit" : "flagged") << v.entity;
  }
  // marketing's 40-character purpose fails its own 60; sales' passes the mesh's 25.
  EXPECT_EQ(Entities(again, "purpose"), (std::set<std::string>{"marketing.reach"}));
}

TEST(GovernancePolicySetJsonTest, RefusesAStoredSetItCannotRead) {
  EXPECT_FALSE(PolicySet::FromJson(nlohmann::json::object()).ok());
  EXPECT_FALSE(
      PolicySet::FromJson(nlohmann::json::parse(R"({"policies": [{"title": "x"}]})")).ok());
  auto bad_value = PolicySet::FromJson(nlohmann::json::parse(
      R"({"policies": [{"id": "p", "parameters": [{"name": "n", "default": null}]}]})"));
  EXPECT_FALSE(bad_value.ok());
}

}  // namespace
}  // namespace plexus::governance
