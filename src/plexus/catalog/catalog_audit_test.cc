// The audit chain (append-only, tamper-evident), Apply's access work (domain roles, service
// principals, visibility, masks, row filters), the mask salt, and the version 1 migration.
#include <gtest/gtest.h>

#include <algorithm>

#include "plexus/catalog/catalog_test_util.h"

namespace plexus::catalog {
namespace {

using testing::CatalogTest;
using testing::Exec;
using testing::OpenRaw;
using testing::QueryInt;
using testing::ShopMesh;

std::vector<std::string> Actions(const std::vector<AuditRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.action);
  return out;
}

/// Every kind of change, so the audit has one record of each.
void MakeChanges(Catalog& catalog) {
  PrincipalRecord alice;
  alice.name = "alice";
  ASSERT_TRUE(catalog.CreatePrincipal(alice, "root").ok());
  ASSERT_TRUE(catalog.SetPrincipalAdmin("alice", true, "root").ok());
  ASSERT_TRUE(catalog.SetPrincipalDisabled("alice", false, "root").ok());
  ASSERT_TRUE(catalog.SetPrincipalAttribute("alice", "region", "EU", "root").ok());
  ASSERT_TRUE(catalog.AddGroupMember("finance", "alice", "root").ok());
  ASSERT_TRUE(catalog.RemoveGroupMember("finance", "alice", "root").ok());
  auto token = catalog.IssueToken("alice", "ci", "", "root");
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(catalog.RevokeToken(token->substr(4, 8), "root").ok());
  ASSERT_TRUE(catalog.SetPassword("alice", "s3cret-pass", "root").ok());
  AccessRequestRecord r;
  r.target = "sales.orders";
  r.purpose = "forecast";
  auto first = catalog.CreateAccessRequest(r, "alice");
  auto second = catalog.CreateAccessRequest(r, "alice");
  ASSERT_TRUE(first.ok() && second.ok());
  auto approved = catalog.DecideAccessRequest(*first, true, "", "Carol");
  ASSERT_TRUE(approved.ok());
  ASSERT_TRUE(catalog.DecideAccessRequest(*second, false, "duplicate", "Carol").ok());
  GrantRecord g;
  g.grantee = "dave";
  g.target = "sales.orders.lines";
  auto grant = catalog.CreateGrant(g, "Carol");
  ASSERT_TRUE(grant.ok());
  ASSERT_TRUE(catalog.RevokeGrant(*grant, "Carol").ok());
  // The secrets, to check they were never written to the audit.
  AuditRecord secrets;
  secrets.action = "test.secrets";
  secrets.object = *token;
  ASSERT_TRUE(catalog.AppendAudit(secrets).ok());
}

TEST_F(CatalogTest, EveryChangeIsAuditedAndTheChainVerifies) {
  MakeChanges(*catalog_);
  AuditFilter all;
  all.limit = 0;
  auto records = catalog_->SearchAudit(all);
  ASSERT_TRUE(records.ok());
  std::vector<std::string> actions = Actions(*records);
  std::reverse(actions.begin(), actions.end());  // newest first
  EXPECT_EQ(actions, (std::vector<std::string>{
                         "apply", "principal.create", "principal.admin", "principal.disable",
                         "principal.attribute", "group.add", "group.remove", "token.issue",
                         "token.revoke", "password.set", "request.create", "request.create",
                         "request.approve", "request.deny", "grant.create", "grant.revoke",
                         "test.secrets"}));
  std::string token = records->front().object;
  for (const auto& r : *records) {
    if (r.action == "test.secrets") continue;
    EXPECT_EQ(r.detail.find(token.substr(13)), std::string::npos) << r.action;
    EXPECT_EQ(r.detail.find("s3cret-pass"), std::string::npos) << r.action;
    EXPECT_EQ(r.object.find("s3cret-pass"), std::string::npos) << r.action;
    EXPECT_EQ(r.decision, "allow");
  }
  auto verified = catalog_->VerifyAudit();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->message;
  EXPECT_EQ(verified->records, 17);
  EXPECT_EQ(records->back().prev_hash, std::string(64, '0'));
}

TEST_F(CatalogTest, SearchesTheAudit) {
  MakeChanges(*catalog_);
  AuditFilter f;
  f.action = "grant.";
  EXPECT_EQ(Actions(*catalog_->SearchAudit(f)),
            (std::vector<std::string>{"grant.revoke", "grant.create"}));
  f = AuditFilter{};
  f.principal = "CAROL";
  f.product = "sales.orders";
  EXPECT_EQ(Actions(*catalog_->SearchAudit(f)),
            (std::vector<std::string>{"grant.revoke", "grant.create", "request.deny",
                                      "request.approve"}));
  f = AuditFilter{};
  f.text = "duplicate";
  EXPECT_EQ(Actions(*catalog_->SearchAudit(f)), std::vector<std::string>{"request.deny"});
  f = AuditFilter{};
  f.limit = 2;
  f.since = "2000-01-01";
  f.until = "2999-01-01";
  EXPECT_EQ(catalog_->SearchAudit(f)->size(), 2u);
  f.until = "2000-01-02";
  EXPECT_TRUE(catalog_->SearchAudit(f)->empty());
  // A page continues below the last seq it gave, with the other filters still applied.
  f = AuditFilter{};
  f.principal = "CAROL";
  f.product = "sales.orders";
  f.limit = 3;
  auto first = catalog_->SearchAudit(f);
  ASSERT_EQ(first->size(), 3u);
  f.before_seq = first->back().seq;
  EXPECT_EQ(Actions(*catalog_->SearchAudit(f)), std::vector<std::string>{"request.approve"});
  AuditRecord refusal;
  refusal.action = "query";
  refusal.object = "SELECT * FROM sales.orders.orders";
  refusal.decision = "deny";
  refusal.detail = "no grant";
  refusal.products = {"sales.orders"};
  auto seq = catalog_->AppendAudit(refusal);
  ASSERT_TRUE(seq.ok());
  f = AuditFilter{};
  f.decision = "deny";
  auto denied = catalog_->SearchAudit(f);
  ASSERT_EQ(denied->size(), 1u);
  EXPECT_EQ(denied->front().seq, *seq);
  EXPECT_EQ(denied->front().principal, "-");
  EXPECT_EQ(denied->front().rows, -1);
}

// A consumer's SQL may hold bytes that are not UTF-8, or be cut for the audit inside a
// character: the record is still written (the query answered), with U+FFFD for those bytes,
// and the chain still verifies. It used to fail with nlohmann's "invalid UTF-8 byte".
TEST_F(CatalogTest, AuditRecordsTextThatIsNotUtf8) {
  AuditRecord record;
  record.principal = "alice";
  record.action = "query";
  record.object = "SELECT '\xff', 'caf\xc3\xa9', '\xc3";  // a stray byte, é, a cut é
  record.detail = "cli: bad \xed\xa0\x80 surrogate, overlong \xc0\xaf";
  auto seq = catalog_->AppendAudit(record);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  AuditFilter filter;
  filter.limit = 1;
  auto records = catalog_->SearchAudit(filter);
  ASSERT_TRUE(records.ok() && records->size() == 1);
  const std::string bad = "\xef\xbf\xbd";
  EXPECT_EQ((*records)[0].object, "SELECT '" + bad + "', 'caf\xc3\xa9', '" + bad);
  EXPECT_EQ((*records)[0].detail,
            "cli: bad " + bad + bad + bad + " surrogate, overlong " + bad + bad);
  auto verified = catalog_->VerifyAudit();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->message;
}

TEST_F(CatalogTest, AuditIsAppendOnly) {
  MakeChanges(*catalog_);
  auto raw = OpenRaw(home_);
  EXPECT_NE(Exec(raw, "UPDATE audit SET principal = 'mallory' WHERE seq = 3"), "");
  EXPECT_NE(Exec(raw, "DELETE FROM audit WHERE seq = 3"), "");
  EXPECT_TRUE(catalog_->VerifyAudit()->ok);
}

TEST_F(CatalogTest, VerifyFindsAnEditedRecord) {
  MakeChanges(*catalog_);
  auto raw = OpenRaw(home_);
  ASSERT_EQ(Exec(raw, "DROP TRIGGER audit_no_update"), "");
  ASSERT_EQ(Exec(raw, "UPDATE audit SET principal = 'mallory' WHERE seq = 5"), "");
  auto verified = catalog_->VerifyAudit();
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->ok);
  EXPECT_EQ(verified->first_bad_seq, 5);
  EXPECT_NE(verified->message.find("record 5"), std::string::npos) << verified->message;
}

TEST_F(CatalogTest, VerifyFindsAnEditWithARecomputedHash) {
  MakeChanges(*catalog_);
  auto raw = OpenRaw(home_);
  ASSERT_EQ(Exec(raw, "DROP TRIGGER audit_no_update"), "");
  // The attacker rehashes record 4 after editing it: the next record's link breaks.
  ASSERT_EQ(Exec(raw, "UPDATE audit SET detail = 'x', hash = '" + std::string(64, 'a') +
                          "' WHERE seq = 4"), "");
  auto verified = catalog_->VerifyAudit();
  EXPECT_FALSE(verified->ok);
  EXPECT_EQ(verified->first_bad_seq, 4);
}

TEST_F(CatalogTest, VerifyFindsADeletedOrMovedRecord) {
  MakeChanges(*catalog_);
  auto raw = OpenRaw(home_);
  ASSERT_EQ(Exec(raw, "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_no_update"), "");
  ASSERT_EQ(Exec(raw, "DELETE FROM audit WHERE seq = 6"), "");
  auto verified = catalog_->VerifyAudit();
  EXPECT_FALSE(verified->ok);
  EXPECT_EQ(verified->first_bad_seq, 7);
  // Renumbering to hide the gap breaks the link instead.
  ASSERT_EQ(Exec(raw, "UPDATE audit SET seq = seq - 1 WHERE seq > 6"), "");
  verified = catalog_->VerifyAudit();
  EXPECT_FALSE(verified->ok);
  EXPECT_EQ(verified->first_bad_seq, 6);
  // So does deleting the first record.
  ASSERT_EQ(Exec(raw, "DELETE FROM audit WHERE seq = 1"), "");
  EXPECT_EQ(catalog_->VerifyAudit()->first_bad_seq, 2);
}

// ---- Apply ------------------------------------------------------------------------------------

TEST_F(CatalogTest, ApplyCreatesDomainRolesAndServicePrincipal) {
  auto carol = catalog_->GetPrincipal("carol");
  ASSERT_TRUE(carol.ok()) << carol.status().ToString();
  EXPECT_EQ(carol->name, "Carol");
  EXPECT_EQ(carol->kind, "user");
  EXPECT_EQ(carol->created_by, "apply");
  EXPECT_EQ(carol->domain_roles.at("sales"), "owner");  // owner, though also in members
  EXPECT_EQ(catalog_->GetPrincipal("dave")->domain_roles.at("sales"), "member");
  auto svc = catalog_->GetPrincipal(ServicePrincipalName("sales"));
  ASSERT_TRUE(svc.ok());
  EXPECT_EQ(svc->name, "svc_sales");
  EXPECT_EQ(svc->kind, "service");
  EXPECT_EQ(svc->domain_roles.at("sales"), "service");
  AuditFilter f;
  f.action = "apply";
  auto applied = catalog_->SearchAudit(f);
  ASSERT_EQ(applied->size(), 1u);
  EXPECT_EQ(applied->front().principal, "ops");
  EXPECT_EQ(applied->front().object, "shop");
  EXPECT_EQ(applied->front().products, std::vector<std::string>{"sales.orders"});

  // dave leaves the domain; then the domain leaves the mesh.
  spec::Mesh mesh = ShopMesh();
  mesh.domains[0].members = {"carol"};
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  EXPECT_TRUE(catalog_->GetPrincipal("dave")->domain_roles.empty());
  EXPECT_EQ(catalog_->GetPrincipal("carol")->domain_roles.at("sales"), "owner");
  mesh.domains[0].name = "ops";
  mesh.domains[0].products.clear();
  ASSERT_TRUE(catalog_->Apply(mesh, "ops").ok());
  EXPECT_EQ(catalog_->GetPrincipal("carol")->domain_roles,
            (std::map<std::string, std::string>{{"ops", "owner"}}));
  EXPECT_TRUE(catalog_->GetPrincipal("svc_sales")->domain_roles.empty());
  EXPECT_TRUE(catalog_->VerifyAudit()->ok);
}

TEST_F(CatalogTest, ApplyRefusesABadNameInDomainYaml) {
  spec::Mesh mesh = ShopMesh();
  mesh.domains[0].members.push_back("eve smith");
  auto applied = catalog_->Apply(mesh, "ops");
  EXPECT_EQ(applied.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->GetPrincipal("eve smith").status().code(), StatusCode::kNotFound);
}

TEST_F(CatalogTest, ApplyStoresVisibilityRowFilterAndMasks) {
  auto ports = catalog_->ListOutputPorts();
  ASSERT_TRUE(ports.ok());
  ASSERT_EQ(ports->size(), 2u);
  const OutputPortRecord& lines = (*ports)[0];
  const OutputPortRecord& orders = (*ports)[1];
  ASSERT_EQ(orders.name, "orders");
  EXPECT_EQ(orders.visibility, "public");
  EXPECT_EQ(orders.row_filter, "region = principal_attr('region')");
  EXPECT_EQ(orders.row_filter_exempt, (std::vector<std::string>{"admin", "auditors"}));
  EXPECT_EQ(lines.visibility, "private");  // the mesh's default
  EXPECT_TRUE(lines.row_filter.empty());
  EXPECT_TRUE(lines.row_filter_exempt.empty());
  ASSERT_EQ(orders.columns.size(), 3u);
  EXPECT_EQ(orders.columns[0].mask, "");
  EXPECT_TRUE(orders.columns[0].mask_clear_for.empty());
  EXPECT_EQ(orders.columns[1].mask, "hash");  // the mesh's rule for pii (written PII)
  EXPECT_EQ(orders.columns[1].mask_clear_for, std::vector<std::string>{"finance"});
  EXPECT_EQ(orders.columns[2].mask, "null");  // its own mask wins
  EXPECT_EQ(orders.columns[2].mask_clear_for, std::vector<std::string>{"finance"});
  auto product = catalog_->GetProduct("sales.orders");
  ASSERT_TRUE(product.ok());
  EXPECT_EQ(product->outputs[1].columns[1].mask, "hash");
}

// ---- Mask salt and migration ------------------------------------------------------------------

TEST_F(CatalogTest, MaskSaltIsRandomAndStable) {
  auto salt = catalog_->MaskSalt();
  ASSERT_TRUE(salt.ok());
  EXPECT_EQ(salt->size(), 64u);
  EXPECT_EQ(salt->find_first_not_of("0123456789abcdef"), std::string::npos);
  catalog_.reset();
  auto reopened = Catalog::Open(*Home::Prepare(home_));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->MaskSalt(), *salt);
  std::string other_home = home_ + "/other";
  auto other = Catalog::Open(*Home::Prepare(other_home));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*(*other)->MaskSalt(), *salt);
}

TEST(CatalogMigrationTest, UpgradesAVersion1Catalog) {
  std::string home = testing::ScratchHome();
  {
    auto raw = OpenRaw(home);
    ASSERT_EQ(Exec(raw, R"sql(
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      INSERT INTO schema_version VALUES (1);
      CREATE TABLE output_ports (product_id TEXT NOT NULL, name TEXT NOT NULL,
        major INTEGER NOT NULL, version TEXT, description TEXT, contract_id TEXT,
        contract_version TEXT, status TEXT, PRIMARY KEY (product_id, name, major));
      CREATE TABLE columns (product_id TEXT NOT NULL, port TEXT NOT NULL,
        major INTEGER NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, logical_type TEXT,
        physical_type TEXT, engine_type TEXT, required INTEGER, primary_key INTEGER,
        is_unique INTEGER, classification TEXT, description TEXT, business_name TEXT,
        PRIMARY KEY (product_id, port, major, position));
    )sql"), "");
  }
  auto catalog = Catalog::Open(*Home::Prepare(home));
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  ASSERT_TRUE((*catalog)->Apply(ShopMesh()).ok());
  auto ports = (*catalog)->ListOutputPorts();
  ASSERT_TRUE(ports.ok());
  EXPECT_EQ((*ports)[1].visibility, "public");
  EXPECT_EQ((*ports)[1].columns[1].mask, "hash");
  EXPECT_TRUE((*catalog)->MaskSalt().ok());
  auto raw = OpenRaw(home);
  EXPECT_EQ(QueryInt(raw, "SELECT max(version) FROM schema_version"), 2);
  EXPECT_EQ(QueryInt(raw, "SELECT count(*) FROM audit WHERE principal = 'local'"), 1);
}

}  // namespace
}  // namespace plexus::catalog
