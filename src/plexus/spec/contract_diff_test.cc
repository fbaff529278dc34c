// Contract diff classification (each rule), semantic versions and lifecycle transitions.
#include "plexus/spec/contract_diff.h"

#include <gtest/gtest.h>

#include "plexus/spec/parse.h"
#include "plexus/spec/versions.h"

namespace plexus::spec {
namespace {

Property Column(std::string name, std::string type, bool required = false) {
  Property p;
  p.name = std::move(name);
  p.logical_type = "string";
  p.physical_type = std::move(type);
  p.required = required;
  return p;
}

Contract OrdersContract() {
  Contract c;
  c.id = "orders";
  c.version = "1.0.0";
  SchemaObject t;
  t.name = "orders";
  Property id = Column("order_id", "BIGINT", true);
  id.primary_key = true;
  id.primary_key_position = 1;
  t.properties = {id, Column("order_date", "DATE", true), Column("amount", "DECIMAL(12,2)"),
                  Column("status", "VARCHAR")};
  QualityRule rule;
  rule.metric = "invalidValues";
  rule.valid_values = {"placed", "shipped"};
  t.properties[3].quality.push_back(rule);
  c.schema.push_back(t);
  return c;
}

Property& Col(Contract& c, const std::string& name) {
  for (auto& p : c.schema[0].properties) {
    if (p.name == name) return p;
  }
  throw std::runtime_error("no column " + name);
}

#define EXPECT_ONE_CHANGE(before, after, expected_kind, expected_breaking)                    \
  do {                                                                                        \
    ContractDiff diff_ = DiffContracts(before, after);                                        \
    ASSERT_EQ(diff_.changes.size(), 1u) << (diff_.changes.empty() ? "no change"               \
                                                                   : diff_.changes[1].ToString()); \
    EXPECT_EQ(diff_.changes[0].kind, expected_kind) << diff_.changes[0].ToString();           \
    EXPECT_EQ(diff_.changes[0].breaking, expected_breaking) << diff_.changes[0].ToString();   \
    EXPECT_EQ(diff_.breaking(), expected_breaking);                                           \
  } while (0)

TEST(ContractDiff, SameContractHasNoChange) {
  EXPECT_TRUE(DiffContracts(OrdersContract(), OrdersContract()).empty());
}

TEST(ContractDiff, RemovedColumnIsBreakingAndNamed) {
  Contract after = OrdersContract();
  after.schema[0].properties.erase(after.schema[0].properties.begin() + 1);
  EXPECT_ONE_CHANGE(OrdersContract(), after, ChangeKind::kColumnRemoved, true);
  ContractDiff diff = DiffContracts(OrdersContract(), after);
  EXPECT_EQ(diff.changes[0].column, "order_date");
  EXPECT_EQ(diff.changes[0].ToString(), "breaking    orders.order_date: column removed");
}

TEST(ContractDiff, RenamedColumnIsBreaking) {
  Contract after = OrdersContract();
  Col(after, "order_date").name = "ordered_on";
  EXPECT_ONE_CHANGE(OrdersContract(), after, ChangeKind::kColumnRenamed, true);
  EXPECT_NE(DiffContracts(OrdersContract(), after).changes[0].detail.find("ordered_on"),
            std::string::npos);
}

TEST(ContractDiff, NewOptionalColumnIsCompatibleNewRequiredIsNot) {
  Contract optional = OrdersContract();
  optional.schema[0].properties.push_back(Column("channel", "VARCHAR"));
  EXPECT_ONE_CHANGE(OrdersContract(), optional, ChangeKind::kColumnAdded, false);
  Contract required = OrdersContract();
  required.schema[0].properties.push_back(Column("channel", "VARCHAR", true));
  EXPECT_ONE_CHANGE(OrdersContract(), required, ChangeKind::kColumnAdded, true);
}

TEST(ContractDiff, NarrowingTypesAreBreaking) {
  Contract a = OrdersContract();
  Col(a, "order_id").physical_type = "INTEGER";
  EXPECT_ONE_CHANGE(OrdersContract(), a, ChangeKind::kTypeNarrowed, true);
  Contract b = OrdersContract();
  Col(b, "amount").physical_type = "DECIMAL(10,2)";
  EXPECT_ONE_CHANGE(OrdersContract(), b, ChangeKind::kTypeNarrowed, true);
  Contract c = OrdersContract();
  Col(c, "status").physical_type = "INTEGER";
  EXPECT_ONE_CHANGE(OrdersContract(), c, ChangeKind::kTypeChanged, true);
}

TEST(ContractDiff, WideningTypesAreCompatible) {
  Contract a = OrdersContract();
  Col(a, "amount").physical_type = "decimal(14, 2)";
  EXPECT_ONE_CHANGE(OrdersContract(), a, ChangeKind::kTypeWidened, false);
  Contract b = OrdersContract();
  Col(b, "order_id").physical_type = "HUGEINT";
  EXPECT_ONE_CHANGE(OrdersContract(), b, ChangeKind::kTypeWidened, false);
  Contract c = OrdersContract();
  Col(c, "order_date").physical_type = "TIMESTAMP";
  EXPECT_ONE_CHANGE(OrdersContract(), c, ChangeKind::kTypeWidened, false);
}

TEST(ContractDiff, TypeNamesCompareByMeaning) {
  EXPECT_EQ(ClassifyTypeChange("INT8", "bigint"), TypeChange::kSame);
  EXPECT_EQ(ClassifyTypeChange("TEXT", "VARCHAR"), TypeChange::kSame);
  EXPECT_EQ(ClassifyTypeChange("NUMERIC", "DECIMAL(18,3)"), TypeChange::kSame);
  EXPECT_EQ(ClassifyTypeChange("INTEGER", "DECIMAL(12,2)"), TypeChange::kWidening);
  EXPECT_EQ(ClassifyTypeChange("BIGINT", "DECIMAL(12,2)"), TypeChange::kIncompatible);
  EXPECT_EQ(ClassifyTypeChange("INTEGER", "DOUBLE"), TypeChange::kWidening);
  EXPECT_EQ(ClassifyTypeChange("BIGINT", "DOUBLE"), TypeChange::kIncompatible);  // > 2^53
  EXPECT_EQ(ClassifyTypeChange("UINTEGER", "BIGINT"), TypeChange::kWidening);
  EXPECT_EQ(ClassifyTypeChange("BIGINT", "VARCHAR"), TypeChange::kIncompatible);
  EXPECT_EQ(ClassifyTypeChange("VARCHAR(10)", "VARCHAR"), TypeChange::kWidening);
  EXPECT_EQ(ClassifyTypeChange("DECIMAL(12,2)", "DECIMAL(12,3)"), TypeChange::kIncompatible);
}

TEST(ContractDiff, LogicalTypeWithoutPhysicalType) {
  Contract before = OrdersContract(), after = OrdersContract();
  Col(before, "status").physical_type = "";
  Col(after, "status").physical_type = "";
  Col(after, "status").logical_type = "integer";
  EXPECT_ONE_CHANGE(before, after, ChangeKind::kTypeChanged, true);
}

TEST(ContractDiff, OptionalToRequiredIsBreakingTheReverseIsNot) {
  Contract a = OrdersContract();
  Col(a, "amount").required = true;
  EXPECT_ONE_CHANGE(OrdersContract(), a, ChangeKind::kNowRequired, true);
  Contract b = OrdersContract();
  Col(b, "order_date").required = false;
  EXPECT_ONE_CHANGE(OrdersContract(), b, ChangeKind::kNowOptional, false);
}

TEST(ContractDiff, PrimaryKeyChangeIsBreaking) {
  Contract a = OrdersContract();
  Col(a, "order_date").primary_key = true;
  Col(a, "order_date").primary_key_position = 2;
  EXPECT_ONE_CHANGE(OrdersContract(), a, ChangeKind::kPrimaryKeyChanged, true);
}

TEST(ContractDiff, UniqueAddedIsBreakingRemovedIsNot) {
  Contract a = OrdersContract();
  Col(a, "status").unique = true;
  EXPECT_ONE_CHANGE(OrdersContract(), a, ChangeKind::kUniqueAdded, true);
  EXPECT_ONE_CHANGE(a, OrdersContract(), ChangeKind::kUniqueRemoved, false);
}

TEST(ContractDiff, RemovedValidValueIsBreakingAddedIsNot) {
  Contract fewer = OrdersContract();
  Col(fewer, "status").quality[0].valid_values = {"placed"};
  EXPECT_ONE_CHANGE(OrdersContract(), fewer, ChangeKind::kValidValueRemoved, true);
  Contract more = OrdersContract();
  Col(more, "status").quality[0].valid_values = {"placed", "shipped", "returned"};
  EXPECT_ONE_CHANGE(OrdersContract(), more, ChangeKind::kValidValueAdded, false);
}

TEST(ContractDiff, RemovedTableIsBreakingNewTableIsNot) {
  Contract more = OrdersContract();
  SchemaObject lines;
  lines.name = "order_lines";
  more.schema.push_back(lines);
  EXPECT_ONE_CHANGE(OrdersContract(), more, ChangeKind::kObjectAdded, false);
  EXPECT_ONE_CHANGE(more, OrdersContract(), ChangeKind::kObjectRemoved, true);
}

TEST(ContractDiff, DocumentationAndClassificationAreCompatible) {
  Contract docs = OrdersContract();
  Col(docs, "amount").description = "What was paid.";
  EXPECT_ONE_CHANGE(OrdersContract(), docs, ChangeKind::kDocumentation, false);
  Contract tagged = OrdersContract();
  tagged.tags = {"finance"};
  EXPECT_ONE_CHANGE(OrdersContract(), tagged, ChangeKind::kDocumentation, false);
  Contract classified = OrdersContract();
  Col(classified, "amount").classification = "restricted";
  EXPECT_ONE_CHANGE(OrdersContract(), classified, ChangeKind::kClassificationChanged, false);
}

TEST(ContractDiff, BreakingChangesComeFirst) {
  Contract after = OrdersContract();
  Col(after, "order_id").description = "changed";
  after.schema[0].properties.pop_back();
  ContractDiff diff = DiffContracts(OrdersContract(), after);
  ASSERT_EQ(diff.changes.size(), 2u);
  EXPECT_TRUE(diff.changes[0].breaking);
  EXPECT_FALSE(diff.changes[1].breaking);
}

TEST(ContractText, ParsesWhatTheCatalogStores) {
  std::string text = R"(apiVersion: v3.1.0
kind: DataContract
id: c1
version: 1.2.0
status: active
schema:
  - name: t
    properties:
      - name: a
        logicalType: integer
)";
  auto contract = ParseContractText(text, "c1 (as applied)", nullptr);
  ASSERT_TRUE(contract.ok()) << contract.status().ToString();
  EXPECT_EQ(contract->version, "1.2.0");
  ASSERT_EQ(contract->schema.size(), 1u);
  EXPECT_EQ(contract->schema[0].properties[0].name, "a");
  auto bad = ParseContractText("kind: [", "c1 (as applied)", nullptr);
  EXPECT_FALSE(bad.ok());
}

TEST(SemVer, ParsesAndCompares) {
  auto v = ParseSemVer("v2.1.3-rc.1+build5");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->major, 2);
  EXPECT_EQ(v->minor, 1);
  EXPECT_EQ(v->patch, 3);
  EXPECT_EQ(v->prerelease, "rc.1");
  EXPECT_EQ(ParseSemVer("2")->major, 2);
  EXPECT_FALSE(ParseSemVer("two").has_value());
  EXPECT_FALSE(ParseSemVer("1.2.3.4").has_value());
  EXPECT_FALSE(ParseSemVer("").has_value());
  EXPECT_LT(CompareSemVer(*ParseSemVer("1.9.0"), *ParseSemVer("1.10.0")), 0);
  EXPECT_LT(CompareSemVer(*ParseSemVer("2.0.0-rc.1"), *ParseSemVer("2.0.0")), 0);
  EXPECT_EQ(CompareSemVer(*ParseSemVer("1.0.0+a"), *ParseSemVer("1.0.0")), 0);
}

TEST(Lifecycle, TransitionsRunForwardAndRetiredStaysRetired) {
  EXPECT_TRUE(CheckStatusTransition("draft", "active", "product p").ok());
  EXPECT_TRUE(CheckStatusTransition("active", "deprecated", "product p").ok());
  EXPECT_TRUE(CheckStatusTransition("deprecated", "retired", "product p").ok());
  EXPECT_TRUE(CheckStatusTransition("deprecated", "active", "product p").ok());
  EXPECT_TRUE(CheckStatusTransition("active", "retired", "product p").ok());
  Status back = CheckStatusTransition("retired", "active", "product p");
  EXPECT_FALSE(back.ok());
  EXPECT_NE(back.message().find("product p cannot go from retired to active"), std::string::npos);
  EXPECT_FALSE(CheckStatusTransition("active", "draft", "product p").ok());
  EXPECT_TRUE(CheckStatusTransition("production", "draft", "contract c").ok());  // free text
}

TEST(Lifecycle, DatesFromTheContract) {
  ContractLifecycle life = ReadContractLifecycle(R"(
slaProperties:
  - property: endOfSupport
    value: 2030-01-31
  - property: endOfLife
    value: 2030-12-31
customProperties:
  - property: previousMajors
    value:
      - major: 1
        status: deprecated
        endOfLife: 2026-06-30
)");
  EXPECT_EQ(life.end_of_support, "2030-01-31");
  EXPECT_EQ(life.end_of_life, "2030-12-31");
  ASSERT_EQ(life.previous_majors.size(), 1u);
  EXPECT_EQ(life.previous_majors[0].major, 1);
  EXPECT_EQ(life.previous_majors[0].status, "deprecated");
  EXPECT_EQ(StatusOn("active", "2030-01-31", "2030-12-31", "2029-12-01"), "active");
  EXPECT_EQ(StatusOn("active", "2030-01-31", "2030-12-31", "2030-01-31T10:00:00Z"), "deprecated");
  EXPECT_EQ(StatusOn("active", "2030-01-31", "2030-12-31", "2031-01-01"), "retired");
}

}  // namespace
}  // namespace plexus::spec
