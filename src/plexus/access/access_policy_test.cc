// AccessPolicy over a real catalog (the shop mesh of catalog_test_util.h): a port's columns are
// read when a decision first needs them, masks and row filters still apply, a catalog that
// cannot give the columns refuses the statement, and a policy never serves columns of a later
// apply than its listing. Grants are found by target. A load after publications alone reads
// only them; after anything else (a grant revoked, a quarantine), everything.
#include "plexus/access/access_policy.h"

#include <gtest/gtest.h>

#include "plexus/catalog/catalog_test_util.h"

namespace plexus::access {
namespace {

using catalog::testing::CatalogTest;
using catalog::testing::Exec;
using catalog::testing::OpenRaw;

/// A user principal outside every domain.
catalog::PrincipalRecord User(const std::string& name) {
  catalog::PrincipalRecord record;
  record.name = name;
  record.kind = "user";
  return record;
}

class AccessPolicyTest : public CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    auto ports = catalog_->ListOutputPorts();
    ASSERT_TRUE(ports.ok()) << ports.status().ToString();
    for (const auto& port : *ports) Publish(port);
    catalog::PrincipalRecord erin = User("erin");  // outside domain sales
    erin.attributes["region"] = "EU";
    erin_ = PrincipalFrom(erin);
    catalog::PrincipalRecord carol = User("carol");
    carol.domain_roles["sales"] = "member";
    carol_ = PrincipalFrom(carol);
  }

  void Publish(const catalog::OutputPortRecord& port) {
    auto run = catalog_->StartRun(port.product_id);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    Status published = catalog_->RecordPublication(port, 3, *run);
    ASSERT_TRUE(published.ok()) << published.ToString();
  }

  std::shared_ptr<const AccessPolicy> Load(const AccessPolicy* previous = nullptr) {
    auto policy = AccessPolicy::Load(*catalog_, previous);
    EXPECT_TRUE(policy.ok()) << policy.status().ToString();
    return policy.ok() ? *policy : nullptr;
  }

  /// sales.orders.orders as `who` sees it with `policy`.
  static Result<ResolvedRelation> Orders(const std::shared_ptr<const AccessPolicy>& policy,
                                         const Principal& who) {
    PrincipalResolver resolver(policy, who, catalog::NowUtc());
    return resolver.Resolve(TableName{"sales", "orders", "orders"});
  }

  /// Plays a catalog that can no longer give the columns (or can again).
  void HideColumns(bool hidden) {
    auto raw = OpenRaw(home_);
    EXPECT_EQ(Exec(raw, hidden ? "ALTER TABLE columns RENAME TO columns_away"
                               : "ALTER TABLE columns_away RENAME TO columns"),
              "");
  }

  Principal erin_, carol_;
};

/// `resolved` is refused with `code`, its message holding `text`.
void ExpectRefused(const Result<ResolvedRelation>& resolved, StatusCode code,
                   const std::string& text) {
  ASSERT_FALSE(resolved.ok()) << "resolved with secured_select '" << resolved->secured_select
                              << "'";
  EXPECT_EQ(resolved.status().code(), code);
  EXPECT_NE(resolved.status().message().find(text), std::string::npos)
      << resolved.status().message();
}

std::vector<std::string> Names(const std::vector<PlainColumn>& columns) {
  std::vector<std::string> names;
  for (const auto& column : columns) names.push_back(column.name);
  return names;
}

TEST_F(AccessPolicyTest, LoadsWithoutReadingAnyColumn) {
  HideColumns(true);  // Load must not need them
  auto policy = Load();
  ASSERT_NE(policy, nullptr);
  ASSERT_EQ(policy->ports().count("sales.orders.orders"), 1u);
  EXPECT_TRUE(policy->ports().at("sales.orders.orders").front().columns.empty());
  // The domain reads in the clear: no column is needed for that decision either.
  auto clear = Orders(policy, carol_);
  ASSERT_TRUE(clear.ok()) << clear.status().ToString();
  EXPECT_EQ(clear->secured_select, "");
}

TEST_F(AccessPolicyTest, MasksAndRowFilterApplyWithColumnsReadOnFirstUse) {
  auto policy = Load();
  ASSERT_NE(policy, nullptr);
  auto secured = Orders(policy, erin_);
  ASSERT_TRUE(secured.ok()) << secured.status().ToString();
  const std::string& select = secured->secured_select;
  EXPECT_NE(select.find("sha256"), std::string::npos) << select;  // email: the mesh's pii rule
  EXPECT_NE(select.find("principal_attr('region')"), std::string::npos) << select;
  EXPECT_NE(select.find("orders__orders__v1"), std::string::npos) << select;
  EXPECT_EQ(Names(secured->clear_columns), std::vector<std::string>{"id"});
  auto columns = policy->Columns(policy->ports().at("sales.orders.orders").front());
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  ASSERT_EQ((*columns)->size(), 3u);
  EXPECT_EQ((*columns)->at(1).name, "email");
  EXPECT_FALSE((*columns)->at(1).mask.empty());
  // Kept: the same policy answers again without the catalog.
  HideColumns(true);
  auto again = Orders(policy, erin_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->secured_select, select);
}

TEST_F(AccessPolicyTest, CatalogFailureWhileReadingColumnsDenies) {
  auto policy = Load();
  ASSERT_NE(policy, nullptr);
  HideColumns(true);
  ExpectRefused(Orders(policy, erin_), StatusCode::kInternal,
                "columns of sales.orders.orders could not be read");
  const auto& port = policy->ports().at("sales.orders.orders").front();
  EXPECT_FALSE(policy->SecuredSelectFor(erin_, port).ok());  // never "" (read as is)
  EXPECT_FALSE(policy->ClearColumnsFor(erin_, port).ok());
  // A failure is not kept: once the catalog answers, the same policy does.
  HideColumns(false);
  auto recovered = Orders(policy, erin_);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_NE(recovered->secured_select.find("sha256"), std::string::npos);
}

TEST_F(AccessPolicyTest, ColumnsChangedAfterTheListingAreRefusedNotMixedIn) {
  auto policy = Load();
  ASSERT_NE(policy, nullptr);
  // Another process unmasks the columns after the policy listed the ports.
  auto raw = OpenRaw(home_);
  ASSERT_EQ(Exec(raw, "UPDATE columns SET mask = '' WHERE port = 'orders'"), "");
  ExpectRefused(Orders(policy, erin_), StatusCode::kFailedPrecondition,
                "changed since the access policy was read");
  // A policy loaded now sees the new columns: no mask, the row filter still.
  auto fresh = Orders(Load(policy.get()), erin_);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->secured_select.find("sha256"), std::string::npos) << fresh->secured_select;
  EXPECT_NE(fresh->secured_select.find("principal_attr('region')"), std::string::npos);
  EXPECT_EQ(Names(fresh->clear_columns), (std::vector<std::string>{"id", "email", "amount"}));
}

TEST_F(AccessPolicyTest, ColumnsReadBeforeAChangeStayThoseOfThePolicysListing) {
  auto policy = Load();
  ASSERT_NE(policy, nullptr);
  auto before = Orders(policy, erin_);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  auto raw = OpenRaw(home_);
  ASSERT_EQ(Exec(raw, "UPDATE columns SET mask = '' WHERE port = 'orders'"), "");
  auto after = Orders(policy, erin_);  // one snapshot: the masks of the listing's generation
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->secured_select, before->secured_select);
}

TEST_F(AccessPolicyTest, APublicationKeepsTheColumnsAlreadyRead) {
  auto first = Load();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(Orders(first, erin_).ok());
  auto generation = catalog_->Generation();
  ASSERT_TRUE(generation.ok());
  Publish(first->ports().at("sales.orders.orders").front());  // a run, a CDC micro-batch
  auto moved = catalog_->Generation();
  ASSERT_TRUE(moved.ok());
  EXPECT_NE(*moved, *generation);  // what makes the query service load the policy again
  HideColumns(true);
  auto next = Load(first.get());
  ASSERT_NE(next, nullptr);
  auto secured = Orders(next, erin_);  // the columns read by `first`, not the catalog's
  ASSERT_TRUE(secured.ok()) << secured.status().ToString();
  EXPECT_NE(secured->secured_select.find("sha256"), std::string::npos);
  auto alone = Orders(Load(), erin_);  // without `first`, the columns must be read: refused
  EXPECT_FALSE(alone.ok());
}

TEST_F(AccessPolicyTest, APublicationAloneIsReadWithoutListingThePortsAgain) {
  auto raw = OpenRaw(home_);
  ASSERT_EQ(Exec(raw, "DELETE FROM publications WHERE port = 'orders'"), "");
  auto first = Load();
  ASSERT_NE(first, nullptr);
  ExpectRefused(Orders(first, carol_), StatusCode::kFailedPrecondition,
                "has no published data yet");
  Publish(first->ports().at("sales.orders.orders").front());  // a run, a CDC micro-batch
  // Only the publications are read: a catalog whose ports cannot be listed still refreshes.
  ASSERT_EQ(Exec(raw, "ALTER TABLE output_ports RENAME TO output_ports_away"), "");
  auto next = Load(first.get());
  ASSERT_EQ(Exec(raw, "ALTER TABLE output_ports_away RENAME TO output_ports"), "");
  ASSERT_NE(next, nullptr);
  auto published = Orders(next, carol_);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_EQ(next->PublishedRows(next->ports().at("sales.orders.orders").front()), 3);
  ExpectRefused(Orders(first, carol_), StatusCode::kFailedPrecondition,  // policies immutable
                "has no published data yet");
  // A publication removed (its port dropped in the same change or not) is seen as well.
  ASSERT_EQ(Exec(raw, "DELETE FROM publications WHERE port = 'orders'"), "");
  ExpectRefused(Orders(Load(next.get()), carol_), StatusCode::kFailedPrecondition,
                "has no published data yet");
}

TEST_F(AccessPolicyTest, ARevokedGrantOrAQuarantineAmongPublicationsTakesEffectAtOnce) {
  auto raw = OpenRaw(home_);
  ASSERT_EQ(Exec(raw, "UPDATE output_ports SET visibility = 'restricted' WHERE name = 'orders'"),
            "");
  catalog::GrantRecord grant;
  grant.grantee = "analysts";
  grant.grantee_kind = "group";
  grant.target = "sales.orders";
  grant.purpose = "churn model";
  auto id = catalog_->CreateGrant(grant, "Carol");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  catalog::PrincipalRecord record = User("erin");
  record.attributes["region"] = "EU";
  record.groups = {"analysts"};
  Principal analyst = PrincipalFrom(record);
  auto first = Load();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(Orders(first, analyst).ok());
  const auto& port = first->ports().at("sales.orders.orders").front();
  Publish(port);
  ASSERT_TRUE(catalog_->RevokeGrant(*id, "Carol").ok());
  Publish(port);
  auto revoked = Load(first.get());
  ASSERT_NE(revoked, nullptr);
  ExpectRefused(Orders(revoked, analyst), StatusCode::kPermissionDenied, "it is restricted");
  ASSERT_EQ(Exec(raw, "INSERT INTO governance_quarantine VALUES ('sales.orders', 'x: y')"), "");
  Publish(port);
  auto quarantined = Load(revoked.get());
  ASSERT_NE(quarantined, nullptr);
  ASSERT_NE(quarantined->Quarantined("sales.orders"), nullptr);
  EXPECT_EQ(*quarantined->Quarantined("sales.orders"), "x: y");
}

// ---- a policy from records: grants by target -----------------------------------------------

TEST(AccessPolicyGrantsTest, GrantsOnTheProductOrThePortDecideWithTheLongestExpiry) {
  catalog::OutputPortRecord port;
  port.product_id = "urn:p";
  port.domain = "sales";
  port.product = "orders";
  port.name = "orders";
  port.major = 1;
  port.visibility = "restricted";
  port.columns.emplace_back();
  port.columns.back().name = "id";
  auto grant = [](std::string grantee, std::string kind, std::string target,
                  std::string expires, std::string revoked = "") {
    catalog::GrantRecord g;
    g.grantee = std::move(grantee);
    g.grantee_kind = std::move(kind);
    g.target = std::move(target);
    g.expires_at = std::move(expires);
    g.revoked_at = std::move(revoked);
    return g;
  };
  AccessPolicy policy({port},
                      {grant("analysts", "group", "sales.orders", "2031-01-01T00:00:00Z"),
                       grant("bob", "principal", "sales.orders.orders", "2030-01-01T00:00:00Z"),
                       grant("bob", "principal", "sales.orders.lines", ""),
                       grant("zoe", "principal", "sales.orders", "", "2026-01-01T00:00:00Z"),
                       grant("ann", "principal", "sales.orders", "2020-01-01T00:00:00Z")},
                      "salt");
  auto principal = [](std::string name, std::vector<std::string> groups = {}) {
    catalog::PrincipalRecord record = User(name);
    record.groups = std::move(groups);
    return PrincipalFrom(record);
  };
  const std::string now = "2027-06-01T00:00:00Z";
  std::string expiry;
  EXPECT_EQ(policy.Decide(principal("bob"), port, now, &expiry), PortAccess::kSecured);
  EXPECT_EQ(expiry, "2030-01-01T00:00:00Z");
  expiry.clear();
  EXPECT_EQ(policy.Decide(principal("bob", {"analysts"}), port, now, &expiry),
            PortAccess::kSecured);
  EXPECT_EQ(expiry, "2031-01-01T00:00:00Z");  // the grant that lasts longest
  EXPECT_EQ(policy.Decide(principal("zoe"), port, now), PortAccess::kDenied);  // revoked
  EXPECT_EQ(policy.Decide(principal("ann"), port, now), PortAccess::kDenied);  // expired
  EXPECT_EQ(policy.Decide(principal("carl"), port, now), PortAccess::kDenied);
  // Its columns are those given.
  auto columns = policy.Columns(port);
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  EXPECT_EQ((*columns)->size(), 1u);
  catalog::OutputPortRecord unknown = port;
  unknown.major = 2;
  EXPECT_FALSE(policy.Columns(unknown).ok());
}

}  // namespace
}  // namespace plexus::access
