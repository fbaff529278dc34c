// File: plexus/spec/policy_test.cc
//
// Governance as a mesh writes it: policy files parse into policies and exemptions, each
// problem is named by file, line and field, mesh.yaml and domain.yaml `governance` fill the
// settings, LoadMesh reads the global and domain policy files, and contracts keep their SLAs.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "plexus/spec/parse.h"
#include "plexus/spec/spec_test_util.h"

namespace plexus::spec {
namespace {

namespace fs = std::filesystem;
using testing::CopyMiniMesh;
using testing::Dump;
using testing::ScratchDir;
using testing::ExpectProblem;
using testing::WithField;
using testing::WriteFile;

/// The first three lines of every policy file below; its first policy starts on line 4.
constexpr char kHeader[] = "apiVersion: plexus/v1\nkind: Policies\npolicies:\n";

/// Parses `text` as a policy file of `scope`, which must fail; returns the problems.
std::vector<Diagnostic> PolicyProblems(const std::string& text,
                                       const std::string& scope = "global") {
  std::vector<Diagnostic> problems;
  Result<PolicyFile> file = ParsePolicyText(text, "policies.yaml", scope, &problems);
  EXPECT_FALSE(file.ok()) << "expected problems in:\n" << text;
  return problems;
}


/// A policy file whose one policy has `lines` (each indented four spaces, from line 5 on) after
/// its id (line 4).
std::string OnePolicy(const std::string& lines) {
  return std::string(kHeader) + "  - id: purpose-length\n" + lines;
}

TEST(SpecPolicyTest, GoodFileFillsEveryField) {
  fs::path path = fs::path(PLEXUS_SOURCE_DIR) / "src/plexus/spec/testdata/governance/policies.yaml";
  std::vector<Diagnostic> problems;
  Result<PolicyFile> file = ParsePolicyFile(path.string(), "global", &problems);
  ASSERT_TRUE(file.ok()) << Dump(problems);
  ASSERT_EQ(file->policies.size(), 2u);

  const Policy& p = file->policies[0];
  EXPECT_EQ(p.id, "purpose-length");
  EXPECT_EQ(p.title, "Products explain their purpose");
  EXPECT_EQ(p.rationale, "Consumers choose by purpose.");
  EXPECT_EQ(p.severity, "block");
  EXPECT_EQ(p.scope, "global");
  EXPECT_TRUE(p.enabled);
  EXPECT_FALSE(p.exemptible);
  EXPECT_TRUE(p.quarantine);
  EXPECT_FALSE(p.builtin);
  EXPECT_EQ(p.location.line, 4);
  EXPECT_EQ(p.location.column, 5);
  EXPECT_EQ(p.sql_location.line, 25);
  EXPECT_NE(p.sql.find("length(purpose) < $min_length"), std::string::npos) << p.sql;

  ASSERT_EQ(p.parameters.size(), 4u);
  const PolicyParameter& min_length = p.parameters[0];
  EXPECT_EQ(min_length.name, "min_length");
  EXPECT_EQ(min_length.description, "Fewest characters.");
  EXPECT_EQ(min_length.default_value.kind, PolicyValue::Kind::kNumber);
  EXPECT_EQ(min_length.default_value.number, 20);
  EXPECT_EQ(min_length.min, 10);
  EXPECT_EQ(min_length.max, 200);
  EXPECT_EQ(min_length.location.line, 12);
  const PolicyParameter& classifications = p.parameters[1];
  EXPECT_EQ(classifications.default_value.kind, PolicyValue::Kind::kList);
  EXPECT_EQ(classifications.default_value.list, (std::vector<std::string>{"pii", "confidential"}));
  EXPECT_EQ(classifications.allowed,
            (std::vector<std::string>{"pii", "confidential", "restricted", "internal"}));
  EXPECT_FALSE(classifications.min.has_value());
  EXPECT_EQ(p.parameters[2].default_value.kind, PolicyValue::Kind::kText);
  EXPECT_EQ(p.parameters[2].default_value.text, "owner");
  EXPECT_EQ(p.parameters[3].default_value.kind, PolicyValue::Kind::kBool);
  EXPECT_FALSE(p.parameters[3].default_value.boolean);

  const Policy& defaults = file->policies[1];
  EXPECT_EQ(defaults.severity, "warn");
  EXPECT_TRUE(defaults.enabled);
  EXPECT_TRUE(defaults.exemptible);
  EXPECT_FALSE(defaults.quarantine);
  EXPECT_TRUE(defaults.parameters.empty());

  ASSERT_EQ(file->exemptions.size(), 2u);
  const Exemption& e = file->exemptions[0];
  EXPECT_EQ(e.policy, "purpose-length");
  EXPECT_EQ(e.entity, "marketing.customer_lifetime_value");
  EXPECT_EQ(e.justification, "Rewritten next sprint.");
  EXPECT_EQ(e.approved_by, "governance-board");
  EXPECT_EQ(e.expires, "2027-01-31");
  EXPECT_EQ(e.location.line, 32);
  EXPECT_EQ(file->exemptions[1].expires, "2026-12-31T23:59:59.500Z");
}

TEST(SpecPolicyTest, ValuesReadAsWritten) {
  PolicyValue number;
  number.kind = PolicyValue::Kind::kNumber;
  number.number = 2.5;
  EXPECT_EQ(number.ToString(), "2.5");
  number.number = 10;
  EXPECT_EQ(number.ToString(), "10");
  PolicyValue text;
  text.text = "pii";
  EXPECT_EQ(text.ToString(), "pii");
  PolicyValue flag;
  flag.kind = PolicyValue::Kind::kBool;
  flag.boolean = true;
  EXPECT_EQ(flag.ToString(), "true");
  PolicyValue list;
  list.kind = PolicyValue::Kind::kList;
  EXPECT_EQ(list.ToString(), "[]");
  list.list = {"pii", "confidential"};
  EXPECT_EQ(list.ToString(), "[pii, confidential]");
}

TEST(SpecPolicyTest, ADomainFileKeepsItsScopeAndMayQuarantine) {
  std::vector<Diagnostic> problems;
  Result<PolicyFile> file = ParsePolicyText(
      OnePolicy("    title: T\n    quarantine: true\n    exemptible: false\n    sql: SELECT 1\n"),
      "sales.yaml", "sales", &problems);
  ASSERT_TRUE(file.ok()) << Dump(problems);
  ASSERT_EQ(file->policies.size(), 1u);
  EXPECT_EQ(file->policies[0].scope, "sales");
  EXPECT_TRUE(file->policies[0].quarantine);
  EXPECT_FALSE(file->policies[0].exemptible);
}

TEST(SpecPolicyTest, EachProblemNamesItsLineAndField) {
  struct Case {
    std::string text;
    std::string field;
    int line;
    std::string words;
  };
  const std::string kEnd = "    title: T\n    sql: SELECT 1\n";
  const std::vector<Case> cases = {
      {std::string(kHeader) + "  - id: Purpose_Length\n" + kEnd, "policies[0].id", 4,
       "not a valid policy id"},
      {std::string(kHeader) + "  - id: " + std::string(64, 'a') + "\n" + kEnd, "policies[0].id", 4,
       "at most 63 characters"},
      {OnePolicy("    title: T\n"), "policies[0].sql", 4, "required field is missing"},
      {OnePolicy("    title: T\n    sql: '  '\n"), "policies[0].sql", 6, "must not be empty"},
      {OnePolicy("    severity: fatal\n" + kEnd), "policies[0].severity", 5,
       "'fatal' is not allowed"},
      {OnePolicy("    sevrity: warn\n" + kEnd), "policies[0].sevrity", 5,
       "did you mean 'severity'"},
      {OnePolicy("    enabled: sometimes\n" + kEnd), "policies[0].enabled", 5,
       "expected true or false"},
      {OnePolicy("    parameters:\n      n:\n        default: 5\n        min: 10\n" + kEnd),
       "policies[0].parameters.n.default", 7, "default 5 is below min 10"},
      {OnePolicy("    parameters:\n      n:\n        default: 300\n        max: 200\n" + kEnd),
       "policies[0].parameters.n.default", 7, "default 300 is above max 200"},
      {OnePolicy("    parameters:\n      n:\n        default: 5\n        min: 10\n"
                 "        max: 2.5\n" +
                 kEnd),
       "policies[0].parameters.n.min", 8, "min 10 is above max 2.5"},
      {OnePolicy("    parameters:\n      n:\n        default: pii\n        min: 1\n" + kEnd),
       "policies[0].parameters.n.min", 8,
       "min applies to number parameters only (the default is text)"},
      {OnePolicy("    parameters:\n      n:\n        default: 3\n        allowed: [a, b]\n" + kEnd),
       "policies[0].parameters.n.allowed", 8, "allowed applies to text and list parameters only"},
      {OnePolicy("    parameters:\n      n:\n        default: [pii, secret]\n"
                 "        allowed: [pii, internal]\n" +
                 kEnd),
       "policies[0].parameters.n.default", 7, "'secret' is not among the allowed values"},
      {OnePolicy("    parameters:\n      n:\n        description: No default.\n" + kEnd),
       "policies[0].parameters.n.default", 7, "required field is missing"},
      {OnePolicy("    parameters:\n      n:\n        default: {a: 1}\n" + kEnd),
       "policies[0].parameters.n.default", 7, "expected a number, text, true or false"},
      {OnePolicy("    parameters:\n      Min-Length:\n        default: 1\n" + kEnd),
       "policies[0].parameters.Min-Length", 6, "not a valid parameter name"},
      {std::string(kHeader) + "  - id: a\n" + kEnd + "  - id: a\n" + kEnd, "policies[1].id", 7,
       "policy id 'a' is already defined in policies.yaml:4"},
      {"apiVersion: plexus/v1\nkind: Policy\n", "kind", 2, "'Policy' is not allowed"},
      {std::string(kHeader) +
           "exemptions:\n  - policy: a\n    entity: sales\n"
           "    justification: Because.\n    approvedBy: board\n    expires: 2027-02-30\n",
       "exemptions[0].expires", 9, "'2027-02-30' is not a date"},
      {std::string(kHeader) + "exemptions:\n  - policy: a\n    entity: sales\n"
                              "    justification: Because.\n    approvedBy: board\n    expires: "
                              "2027-01-31T25:00:00Z\n",
       "exemptions[0].expires", 9, "is not a date"},
      {std::string(kHeader) +
           "exemptions:\n  - policy: a\n    entity: sales\n"
           "    justification: ''\n    approvedBy: board\n    expires: 2027-01-31\n",
       "exemptions[0].justification", 7, "must not be empty"},
      {std::string(kHeader) + "exemptions:\n  - policy: a\n    entity: sales\n"
                              "    expires: 2027-01-31\n",
       "exemptions[0].approvedBy", 5, "required field is missing"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    ExpectProblem(PolicyProblems(c.text), "policies.yaml", c.field, c.line, c.words);
  }
}

TEST(SpecPolicyTest, ExemptionsInADomainFileAreRefused) {
  std::string text = OnePolicy("    title: T\n    sql: SELECT 1\n") +
                     "exemptions:\n  - policy: purpose-length\n    entity: sales\n";
  ExpectProblem(PolicyProblems(text, "sales"), "policies.yaml", "exemptions", 7,
                "exemptions are approved in the mesh's governance files, not in a domain's");
}

TEST(SpecPolicyTest, EveryProblemOfAFileIsCollected) {
  std::string text = std::string(kHeader) +
                     "  - id: Bad\n"          // 4
                     "    severity: fatal\n"  // 5
                     "    colour: red\n"      // 6
                     "  - id: ok\n"           // 7
                     "    title: ''\n"        // 8
                     "    sql: SELECT 1\n";   // 9
  std::vector<Diagnostic> problems = PolicyProblems(text);
  ExpectProblem(problems, "policies.yaml", "policies[0].id", 4, "not a valid policy id");
  ExpectProblem(problems, "policies.yaml", "policies[0].severity", 5, "not allowed");
  ExpectProblem(problems, "policies.yaml", "policies[0].colour", 6, "unknown field");
  ExpectProblem(problems, "policies.yaml", "policies[0].title", 4, "required field is missing");
  ExpectProblem(problems, "policies.yaml", "policies[0].sql", 4, "required field is missing");
  ExpectProblem(problems, "policies.yaml", "policies[1].title", 8, "must not be empty");
  EXPECT_EQ(problems.size(), 6u) << Dump(problems);
}

/// A copy of the mini mesh whose mesh.yaml is `mesh_yaml`.
fs::path MeshWith(const std::string& mesh_yaml) {
  fs::path dir = CopyMiniMesh();
  WriteFile(dir / "mesh.yaml", mesh_yaml);
  return dir;
}

constexpr char kMeshHeader[] = "apiVersion: plexus/v1\nkind: Mesh\nname: jaffle-mini\n";
constexpr char kOrdersDomain[] =
    "apiVersion: plexus/v1\nkind: Domain\nname: orders\nowners: [carol]\nmembers: [carol]\n";

TEST(SpecPolicyTest, MeshGovernanceFillsTheSettings) {
  fs::path dir = MeshWith(std::string(kMeshHeader) +
                          "governance:\n"              // 4
                          "  builtin: false\n"         // 5
                          "  policies:\n"              // 6
                          "    snake-case: off\n"      // 7
                          "    purpose-length:\n"      // 8
                          "      enabled: true\n"      // 9
                          "      severity: block\n"    // 10
                          "      exemptible: false\n"  // 11
                          "      quarantine: true\n"   // 12
                          "      parameters: {min_length: 30, classes: [pii], label: gold}\n");
  std::vector<Diagnostic> problems;
  Result<Mesh> mesh = LoadMesh(dir.string(), &problems);
  ASSERT_TRUE(mesh.ok()) << Dump(problems);
  const MeshGovernance& g = mesh->governance;
  EXPECT_FALSE(g.builtin);
  ASSERT_EQ(g.settings.size(), 2u);
  EXPECT_EQ(g.settings[0].policy, "snake-case");
  EXPECT_EQ(g.settings[0].enabled, false);
  EXPECT_EQ(g.settings[0].severity, "");
  EXPECT_EQ(g.settings[0].location.line, 7);

  const PolicySetting& s = g.settings[1];
  EXPECT_EQ(s.policy, "purpose-length");
  EXPECT_EQ(s.location.line, 8);
  EXPECT_EQ(s.enabled, true);
  EXPECT_EQ(s.severity, "block");
  EXPECT_EQ(s.exemptible, false);
  EXPECT_EQ(s.quarantine, true);
  ASSERT_EQ(s.parameters.size(), 3u);
  EXPECT_EQ(s.parameters.at("min_length").kind, PolicyValue::Kind::kNumber);
  EXPECT_EQ(s.parameters.at("min_length").number, 30);
  EXPECT_EQ(s.parameters.at("classes").ToString(), "[pii]");
  EXPECT_EQ(s.parameters.at("label").text, "gold");
  EXPECT_EQ(s.parameter_locations.at("min_length").line, 13);
  EXPECT_EQ(s.parameter_locations.at("min_length").column, 32);
}

TEST(SpecPolicyTest, MeshGovernanceProblemsNameTheirLines) {
  fs::path dir = MeshWith(std::string(kMeshHeader) +
                          "governance:\n"                // 4
                          "  builtin: maybe\n"           // 5
                          "  policies:\n"                // 6
                          "    snake-case: sometimes\n"  // 7
                          "    purpose-length:\n"        // 8
                          "      severity: fatal\n"      // 9
                          "      grade: high\n"          // 10
                          "  extra: 1\n");               // 11
  std::vector<Diagnostic> problems;
  ASSERT_FALSE(LoadMesh(dir.string(), &problems).ok());
  ExpectProblem(problems, "mesh.yaml", "governance.builtin", 5, "expected true or false");
  ExpectProblem(problems, "mesh.yaml", "governance.policies.snake-case", 7,
                "expected on, off or a map of settings, found 'sometimes'");
  ExpectProblem(problems, "mesh.yaml", "governance.policies.purpose-length.severity", 9,
                "'fatal' is not allowed");
  ExpectProblem(problems, "mesh.yaml", "governance.policies.purpose-length.grade", 10,
                "unknown field");
  ExpectProblem(problems, "mesh.yaml", "governance.extra", 11, "unknown field");
}

TEST(SpecPolicyTest, DomainGovernanceSetsParametersOnly) {
  fs::path dir = CopyMiniMesh();
  WriteFile(dir / "domains/orders/domain.yaml", std::string(kOrdersDomain) +
                                                    "governance:\n"    // 6
                                                    "  parameters:\n"  // 7
                                                    "    purpose-length: {min_length: 40}\n");
  std::vector<Diagnostic> problems;
  Result<Mesh> mesh = LoadMesh(dir.string(), &problems);
  ASSERT_TRUE(mesh.ok()) << Dump(problems);
  const Domain& orders = mesh->domains[1];
  ASSERT_EQ(orders.name, "orders");
  ASSERT_EQ(orders.policy_settings.size(), 1u);
  const PolicySetting& s = orders.policy_settings[0];
  EXPECT_EQ(s.policy, "purpose-length");
  EXPECT_EQ(s.location.line, 8);
  EXPECT_FALSE(s.enabled.has_value());
  EXPECT_EQ(s.parameters.at("min_length").number, 40);
  EXPECT_EQ(s.parameter_locations.at("min_length").line, 8);

  WriteFile(dir / "domains/orders/domain.yaml", std::string(kOrdersDomain) +
                                                    "governance:\n"               // 6
                                                    "  policies:\n"               // 7
                                                    "    snake-case: off\n"       // 8
                                                    "  parameters:\n"             // 9
                                                    "    purpose-length: 40\n");  // 10
  problems.clear();
  ASSERT_FALSE(LoadMesh(dir.string(), &problems).ok());
  ExpectProblem(problems, "domains/orders/domain.yaml", "governance.policies", 7,
                "a domain sets parameters only; switching or re-grading policies is the mesh's");
  ExpectProblem(problems, "domains/orders/domain.yaml", "governance.parameters.purpose-length", 10,
                "expected a map");
}

constexpr char kHousePolicies[] =
    "apiVersion: plexus/v1\nkind: Policies\npolicies:\n"
    "  - id: purpose-length\n"  // 4
    "    title: Products explain their purpose\n"
    "    sql: SELECT 1\n"
    "exemptions:\n"
    "  - policy: purpose-length\n"
    "    entity: orders.orders\n"
    "    justification: Being rewritten.\n"
    "    approvedBy: governance-board\n"
    "    expires: 2027-01-31\n";

TEST(SpecPolicyTest, LoadMeshReadsGlobalAndDomainPolicyFiles) {
  fs::path dir = MeshWith(std::string(kMeshHeader) + "policies: [governance/house.yaml]\n");
  WriteFile(dir / "governance/house.yaml", kHousePolicies);
  WriteFile(dir / "domains/orders/domain.yaml",
            std::string(kOrdersDomain) + "policies: [policies/orders.yaml]\n");
  WriteFile(dir / "domains/orders/policies/orders.yaml",
            std::string(kHeader) +
                "  - id: orders-have-amounts\n    title: T\n"
                "    quarantine: true\n    sql: SELECT 2\n");
  std::vector<Diagnostic> problems;
  Result<Mesh> mesh = LoadMesh(dir.string(), &problems);
  ASSERT_TRUE(mesh.ok()) << Dump(problems);
  ASSERT_EQ(mesh->governance.policies.size(), 1u);
  EXPECT_EQ(mesh->governance.policies[0].id, "purpose-length");
  EXPECT_EQ(mesh->governance.policies[0].scope, "global");
  EXPECT_EQ(mesh->governance.policies[0].location.file, (dir / "governance/house.yaml").string());
  ASSERT_EQ(mesh->governance.exemptions.size(), 1u);
  EXPECT_EQ(mesh->governance.exemptions[0].entity, "orders.orders");

  const Domain& orders = mesh->domains[1];
  EXPECT_EQ(orders.products.size(), 1u) << "policies/ is the domain's, not a product folder";
  ASSERT_EQ(orders.policies.size(), 1u);
  EXPECT_EQ(orders.policies[0].id, "orders-have-amounts");
  EXPECT_EQ(orders.policies[0].scope, "orders");
  EXPECT_TRUE(orders.policies[0].quarantine);
  EXPECT_TRUE(mesh->domains[0].policies.empty());
}

TEST(SpecPolicyTest, LoadMeshReportsAMissingPolicyFileAtItsEntry) {
  fs::path dir = MeshWith(std::string(kMeshHeader) +
                          "policies:\n"                      // 4
                          "  - governance/house.yaml\n"      // 5
                          "  - governance/missing.yaml\n");  // 6
  WriteFile(dir / "governance/house.yaml", kHousePolicies);
  WriteFile(dir / "domains/orders/domain.yaml",
            std::string(kOrdersDomain) + "policies: [policies/gone.yaml]\n");  // 6
  std::vector<Diagnostic> problems;
  Result<Mesh> mesh = LoadMesh(dir.string(), &problems);
  ASSERT_FALSE(mesh.ok());
  ExpectProblem(problems, "mesh.yaml", "policies[1]", 6, "no such file: governance/missing.yaml");
  EXPECT_EQ(WithField(problems, "policies[1]")[0].location.file, "mesh.yaml");
  ExpectProblem(problems, "domains/orders/domain.yaml", "policies[0]", 6,
                "no such file: domains/orders/policies/gone.yaml");
  EXPECT_EQ(problems.size(), 2u) << Dump(problems);
}

TEST(SpecPolicyTest, LoadMeshReportsAPolicyIdDefinedTwiceAtTheSecond) {
  fs::path dir = MeshWith(std::string(kMeshHeader) + "policies: [governance/house.yaml]\n");
  WriteFile(dir / "governance/house.yaml", kHousePolicies);
  WriteFile(dir / "domains/orders/domain.yaml",
            std::string(kOrdersDomain) + "policies: [policies/orders.yaml]\n");
  WriteFile(dir / "domains/orders/policies/orders.yaml",
            std::string(kHeader) + "  - id: purpose-length\n    title: T\n    sql: SELECT 2\n");
  std::vector<Diagnostic> problems;
  ASSERT_FALSE(LoadMesh(dir.string(), &problems).ok());
  ExpectProblem(problems, "domains/orders/policies/orders.yaml", "policies[0].id", 4,
                "policy id 'purpose-length' is already defined in governance/house.yaml:4");
  EXPECT_EQ(problems.size(), 1u) << Dump(problems);
}

TEST(SpecPolicyTest, ContractSlaPropertiesFillTheModel) {
  std::string path = WriteFile(ScratchDir() / "sla.odcs.yaml",
                               "apiVersion: v3.1.0\n"
                               "kind: DataContract\n"
                               "id: sla-v1\n"
                               "version: 1.0.0\n"
                               "status: active\n"
                               "slaProperties:\n"         // 6
                               "  - property: latency\n"  // 7
                               "    value: 4\n"
                               "    unit: d\n"
                               "    element: orders.order_date\n"
                               "  - property: availability\n"  // 11
                               "    value: 99.90\n"
                               "  - property: generalAvailability\n"  // 13
                               "    value: '2022-05-12T09:30:10Z'\n");
  std::vector<Diagnostic> problems;
  Result<Contract> contract = ParseContractFile(path, &problems);
  ASSERT_TRUE(contract.ok()) << Dump(problems);
  ASSERT_EQ(contract->sla.size(), 3u);
  const SlaProperty& latency = contract->sla[0];
  EXPECT_EQ(latency.property, "latency");
  EXPECT_EQ(latency.value, "4");
  EXPECT_EQ(latency.unit, "d");
  EXPECT_EQ(latency.element, "orders.order_date");
  EXPECT_EQ(latency.location.line, 7);
  EXPECT_EQ(contract->sla[1].value, "99.90");
  EXPECT_EQ(contract->sla[1].unit, "");
  EXPECT_EQ(contract->sla[1].location.line, 11);
  EXPECT_EQ(contract->sla[2].value, "2022-05-12T09:30:10Z");
}

}  // namespace
}  // namespace plexus::spec
