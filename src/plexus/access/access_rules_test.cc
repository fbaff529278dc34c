// CheckAccessRules: visibility, masks by column and by classification, row
// filters and sql masks bound for real; each problem named by file (relative to
// the mesh), line and field.
#include "plexus/access/access_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plexus::access {
namespace {

constexpr std::string_view kMeshDir = "/meshes/acme";

spec::SourceLocation At(std::string_view relative, int line) {
  return {std::string(kMeshDir) + "/" + std::string(relative), line, 3};
}

spec::Property Column(std::string name, std::string logical_type, int line,
                      std::string classification = "", std::string mask = "") {
  spec::Property property;
  property.name = std::move(name);
  property.logical_type = std::move(logical_type);
  property.classification = std::move(classification);
  property.mask = std::move(mask);
  property.location = At("domains/crm/customers/contracts/customers.odcs.yaml", line);
  return property;
}

// A contract of customers (id, email pii, region, joined date) with
// `row_filter` at line 40.
spec::Contract Customers(std::string id, std::string row_filter) {
  spec::Contract contract;
  contract.id = std::move(id);
  contract.location = At("domains/crm/customers/contracts/customers.odcs.yaml", 1);
  spec::SchemaObject object;
  object.name = "customers";
  object.properties = {Column("id", "integer", 10), Column("email", "string", 14, "PII"),
                       Column("region", "string", 18), Column("joined", "date", 22)};
  contract.schema.push_back(std::move(object));
  contract.row_filter = std::move(row_filter);
  contract.row_filter_location = At("domains/crm/customers/contracts/customers.odcs.yaml", 40);
  return contract;
}

spec::Mesh MeshOf(std::vector<spec::Contract> contracts) {
  spec::Mesh mesh;
  mesh.dir = std::string(kMeshDir);
  mesh.location = At("mesh.yaml", 1);
  mesh.access.masks["pii"] = spec::MaskRule{"hash", {"admin"}, At("mesh.yaml", 5)};
  spec::ProductBundle bundle;
  bundle.product.name = "customers";
  for (spec::Contract &contract : contracts) {
    std::string id = contract.id;
    bundle.contracts.emplace(id, std::move(contract));
  }
  spec::Domain domain;
  domain.name = "crm";
  domain.products.push_back(std::move(bundle));
  mesh.domains.push_back(std::move(domain));
  return mesh;
}

std::vector<spec::Diagnostic> Check(const spec::Mesh &mesh) {
  std::vector<spec::Diagnostic> problems;
  Status status = CheckAccessRules(mesh, &problems);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return problems;
}

std::string Dump(const std::vector<spec::Diagnostic> &problems) {
  std::string out;
  for (const spec::Diagnostic &d : problems) out += d.ToString() + "\n";
  return out;
}

// Expects exactly one problem, on `field` of `file` at `line`, whose message
// holds `part`.
void ExpectOne(const std::vector<spec::Diagnostic> &problems, std::string_view file, int line,
               std::string_view field, std::string_view part) {
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].location.file, file);
  EXPECT_EQ(problems[0].location.line, line);
  EXPECT_EQ(problems[0].field, field);
  EXPECT_NE(problems[0].message.find(part), std::string::npos) << problems[0].ToString();
}

constexpr std::string_view kContractFile = "domains/crm/customers/contracts/customers.odcs.yaml";

TEST(AccessRulesTest, GoodRulesRaiseNothing) {
  spec::Contract contract =
      Customers("c1",
                "region = principal_attr('region') OR principal_in_group('admins') OR "
                "principal_name() = 'root' OR id IN (SELECT * FROM range(3))");
  contract.visibility = "restricted";
  contract.schema[0].properties[2].mask = "sql(left({column}, 1) || '*')";
  contract.schema[0].properties[3].mask = "year";
  EXPECT_EQ(Dump(Check(MeshOf({std::move(contract)}))), "");
}

TEST(AccessRulesTest, BadVisibility) {
  spec::Contract contract = Customers("c1", "");
  contract.visibility = "secret";
  ExpectOne(Check(MeshOf({std::move(contract)})), kContractFile, 1, "customProperties.visibility",
            "visibility 'secret' is not public, restricted or private");
}

TEST(AccessRulesTest, YearMaskOnAVarchar) {
  spec::Contract contract = Customers("c1", "");
  contract.schema[0].properties[2].mask = "year";
  ExpectOne(Check(MeshOf({std::move(contract)})), kContractFile, 18, "customProperties.mask",
            "column region: mask 'year' needs a DATE or TIMESTAMP column, not "
            "VARCHAR");
}

TEST(AccessRulesTest, MeshMaskByClassificationIsCheckedAgainstEachColumn) {
  spec::Mesh mesh = MeshOf({Customers("c1", "")});
  mesh.access.masks["pii"] =
      spec::MaskRule{"year", {}, At("mesh.yaml", 5)};  // email is classified PII
  ExpectOne(Check(mesh), kContractFile, 14, "customProperties.mask",
            "needs a DATE or TIMESTAMP column, not VARCHAR (mesh.yaml "
            "access.masks.pii)");
}

TEST(AccessRulesTest, MeshRulesThemselves) {
  spec::Mesh mesh = MeshOf({});
  mesh.access.masks["secret"] = spec::MaskRule{"shred", {}, At("mesh.yaml", 7)};
  ExpectOne(Check(mesh), "mesh.yaml", 7, "access.masks.secret.mask", "unknown mask 'shred'");
  mesh = MeshOf({});
  mesh.access.default_visibility = "everyone";
  ExpectOne(Check(mesh), "mesh.yaml", 1, "access.defaultVisibility", "'everyone'");
}

TEST(AccessRulesTest, RowFilterWithAnUnknownColumn) {
  ExpectOne(Check(MeshOf({Customers("c1", "country = principal_attr('country')")})), kContractFile,
            40, "customProperties.rowFilter", "may name only the port's own columns, not country");
  ExpectOne(Check(MeshOf({Customers("c1", "customers.region = 'EU'")})), kContractFile, 40,
            "customProperties.rowFilter", "not customers.region");
}

TEST(AccessRulesTest, RowFilterThatDoesNotBind) {
  // Bound for real by DuckDB: the engine's first line, no echo of the SQL.
  std::vector<spec::Diagnostic> problems =
      Check(MeshOf({Customers("c1", "length(region, 2) > principal_attr('n')")}));
  ExpectOne(problems, kContractFile, 40, "customProperties.rowFilter",
            "row filter: Binder Error: No function matches");
  EXPECT_EQ(problems[0].message.find('\n'), std::string::npos) << problems[0].message;
  EXPECT_EQ(problems[0].message.find("salt"), std::string::npos) << problems[0].message;
  problems = Check(MeshOf({Customers("c1", "joined > 'not a date'")}));
  ExpectOne(problems, kContractFile, 40, "customProperties.rowFilter", "Conversion Error");
  EXPECT_EQ(problems[0].message.find('\n'), std::string::npos) << problems[0].message;
}

TEST(AccessRulesTest, RowFilterReadingAFile) {
  ExpectOne(Check(MeshOf({Customers("c1", "region IN (SELECT * FROM read_csv('r.csv'))")})),
            kContractFile, 40, "customProperties.rowFilter",
            "table function read_csv is not allowed");
  ExpectOne(Check(MeshOf({Customers("c1", "read_csv('r.csv') IS NOT NULL")})), kContractFile, 40,
            "customProperties.rowFilter", "function read_csv is not allowed");
}

TEST(AccessRulesTest, RowFilterReadingAnotherTable) {
  ExpectOne(Check(MeshOf({Customers("c1", "region IN (SELECT region FROM crm.regions.allowed)")})),
            kContractFile, 40, "customProperties.rowFilter",
            "row filter: a row filter or mask may not read a table (it reads crm.regions.allowed)");
  ExpectOne(Check(MeshOf({Customers("c1", "EXISTS (SELECT 1 FROM port)")})), kContractFile, 40,
            "customProperties.rowFilter", "may not read a table");
}

TEST(AccessRulesTest, RowFilterCallingAFunctionOffTheAllowlist) {
  ExpectOne(Check(MeshOf({Customers("c1", "region = current_setting('region')")})), kContractFile,
            40, "customProperties.rowFilter", "function current_setting is not allowed");
}

TEST(AccessRulesTest, RowFilterThatDoesNotParseOrLeavesItsBrackets) {
  ExpectOne(Check(MeshOf({Customers("c1", "region = = 'EU'")})), kContractFile, 40,
            "customProperties.rowFilter", "syntax error");
  ExpectOne(Check(MeshOf({Customers("c1", "true) OR (true")})), kContractFile, 40,
            "customProperties.rowFilter", "unbalanced");
}

TEST(AccessRulesTest, SqlMaskIsBoundForReal) {
  spec::Contract contract = Customers("c1", "");
  contract.schema[0].properties[2].mask = "sql({column} || nope)";
  ExpectOne(Check(MeshOf({contract})), kContractFile, 18, "customProperties.mask",
            "may name only the port's own columns, not nope");
  contract.schema[0].properties[2].mask = "sql({column} + 1)";
  ExpectOne(Check(MeshOf({contract})), kContractFile, 18, "customProperties.mask",
            "column region: mask sql({column} + 1): ");
  contract.schema[0].properties[2].mask = "sql((SELECT max(x) FROM secret))";
  ExpectOne(Check(MeshOf({contract})), kContractFile, 18, "customProperties.mask",
            "may not read a table");
  contract.schema[0].properties[2].mask = "sql(getvariable({column}))";
  ExpectOne(Check(MeshOf({contract})), kContractFile, 18, "customProperties.mask",
            "function getvariable is not allowed");
}

TEST(AccessRulesTest, EveryContractIsChecked) {
  spec::Contract bad_filter = Customers("c2", "nope = 1");
  spec::Contract bad_visibility = Customers("c1", "");
  bad_visibility.visibility = "Public";
  std::vector<spec::Diagnostic> problems = Check(MeshOf({bad_visibility, bad_filter}));
  ASSERT_EQ(problems.size(), 2u) << Dump(problems);
  EXPECT_EQ(problems[0].field, "customProperties.visibility");
  EXPECT_EQ(problems[1].field, "customProperties.rowFilter");
}

}  // namespace
}  // namespace plexus::access
