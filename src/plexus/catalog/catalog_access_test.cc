// The catalog's access records: principals, groups, attributes, tokens, passwords, access
// requests and grants, as a user of the access layer sees them.
#include <gtest/gtest.h>

#include "plexus/catalog/catalog_test_util.h"
#include "plexus/catalog/crypto.h"

namespace plexus::catalog {
namespace {

using testing::CatalogTest;
using testing::Exec;
using testing::OpenRaw;
using testing::QueryInt;

constexpr const char* kFarFuture = "2999-01-01T00:00:00Z";

// ---- Principals and groups --------------------------------------------------------------------

TEST_F(CatalogTest, CreatesPrincipalWithAttributesAndGroups) {
  PrincipalRecord p;
  p.name = "Alice";
  p.kind = "user";
  p.attributes = {{"region", "EU"}};
  p.groups = {"analysts"};
  ASSERT_TRUE(catalog_->CreatePrincipal(p, "admin").ok());
  auto got = catalog_->GetPrincipal("alice");  // names are case-insensitive
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "Alice");
  EXPECT_EQ(got->kind, "user");
  EXPECT_EQ(got->attributes.at("region"), "EU");
  EXPECT_EQ(got->groups, std::vector<std::string>{"analysts"});
  EXPECT_EQ(got->created_by, "admin");
  EXPECT_FALSE(got->created_at.empty());
}

TEST_F(CatalogTest, RefusesDuplicateNameCaseInsensitively) {
  CreateUser("alice");
  PrincipalRecord p;
  p.name = "ALICE";
  Status again = catalog_->CreatePrincipal(p, "admin");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
}

TEST_F(CatalogTest, RefusesBadNamesAndKinds) {
  for (const std::string& name : std::vector<std::string>{"", "has space", "semi;colon",
                                                           std::string(64, 'a')}) {
    PrincipalRecord p;
    p.name = name;
    EXPECT_EQ(catalog_->CreatePrincipal(p, "admin").code(), StatusCode::kInvalidArgument) << name;
  }
  PrincipalRecord ok_name;
  ok_name.name = "bob.smith@example-corp_1";
  EXPECT_TRUE(catalog_->CreatePrincipal(ok_name, "admin").ok());
  PrincipalRecord robot;
  robot.name = "robot";
  robot.kind = "robot";
  EXPECT_EQ(catalog_->CreatePrincipal(robot, "admin").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->GetPrincipal("nobody").status().code(), StatusCode::kNotFound);
}

TEST_F(CatalogTest, SetsAdminDisabledAndAttributes) {
  CreateUser("alice");
  ASSERT_TRUE(catalog_->SetPrincipalAdmin("ALICE", true, "root").ok());
  ASSERT_TRUE(catalog_->SetPrincipalDisabled("alice", true, "root").ok());
  ASSERT_TRUE(catalog_->SetPrincipalAttribute("alice", "region", "EU", "root").ok());
  ASSERT_TRUE(catalog_->SetPrincipalAttribute("alice", "team", "growth", "root").ok());
  ASSERT_TRUE(catalog_->SetPrincipalAttribute("alice", "team", "", "root").ok());
  auto got = catalog_->GetPrincipal("alice");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->admin);
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->attributes, (std::map<std::string, std::string>{{"region", "EU"}}));
  EXPECT_EQ(catalog_->SetPrincipalAdmin("nobody", true, "root").code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->SetPrincipalAttribute("alice", "bad key", "x", "root").code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, GroupsExistWhileTheyHaveMembers) {
  CreateUser("alice");
  CreateUser("bob");
  ASSERT_TRUE(catalog_->AddGroupMember("finance", "alice", "root").ok());
  ASSERT_TRUE(catalog_->AddGroupMember("finance", "BOB", "root").ok());
  EXPECT_EQ(catalog_->AddGroupMember("finance", "alice", "root").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(catalog_->AddGroupMember("finance", "nobody", "root").code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->AddGroupMember("bad group", "alice", "root").code(),
            StatusCode::kInvalidArgument);
  auto groups = catalog_->ListGroups();
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->at("finance"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(catalog_->GetPrincipal("bob")->groups, std::vector<std::string>{"finance"});
  ASSERT_TRUE(catalog_->RemoveGroupMember("finance", "alice", "root").ok());
  ASSERT_TRUE(catalog_->RemoveGroupMember("finance", "bob", "root").ok());
  EXPECT_EQ(catalog_->RemoveGroupMember("finance", "bob", "root").code(), StatusCode::kNotFound);
  EXPECT_TRUE(catalog_->ListGroups()->empty());
}

TEST_F(CatalogTest, ListsPrincipals) {
  CreateUser("alice");
  auto all = catalog_->ListPrincipals();
  ASSERT_TRUE(all.ok());
  std::vector<std::string> names;
  for (const auto& p : *all) names.push_back(p.name);
  // Apply created the domain's people and its service principal.
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "Carol", "dave", "svc_sales"}));
}

// ---- Tokens -----------------------------------------------------------------------------------

TEST_F(CatalogTest, TokenRoundTrip) {
  CreateUser("alice");
  auto secret = catalog_->IssueToken("alice", "laptop", "", "root");
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(secret->rfind("plx_", 0), 0u);
  auto who = catalog_->AuthenticateToken(*secret);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->name, "alice");
  auto tokens = catalog_->ListTokens("alice");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ(secret->substr(4, 8), tokens->front().id);
  EXPECT_EQ(tokens->front().label, "laptop");
  EXPECT_FALSE(tokens->front().last_used_at.empty());
  // Only the hash is stored: the secret appears nowhere in the catalog file's token table.
  auto raw = OpenRaw(home_);
  EXPECT_EQ(QueryInt(raw, "SELECT count(*) FROM tokens WHERE instr(secret_sha256 || label || "
                         "id, '" + secret->substr(13) + "') > 0"), 0);
  EXPECT_EQ(QueryInt(raw, "SELECT count(*) FROM tokens WHERE secret_sha256 = '" +
                         internal::Sha256Hex(*secret) + "'"), 1);
}

TEST_F(CatalogTest, RefusedTokensAllSayTheSame) {
  CreateUser("alice");
  CreateUser("bob");
  auto revoked = catalog_->IssueToken("alice", "", "", "root");
  auto expired = catalog_->IssueToken("alice", "", kFarFuture, "root");
  auto disabled = catalog_->IssueToken("bob", "", "", "root");
  ASSERT_TRUE(revoked.ok() && expired.ok() && disabled.ok());
  ASSERT_TRUE(catalog_->RevokeToken(revoked->substr(4, 8), "root").ok());
  EXPECT_EQ(catalog_->RevokeToken(revoked->substr(4, 8), "root").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog_->RevokeToken("zzzzzzzz", "root").code(), StatusCode::kNotFound);
  auto raw = OpenRaw(home_);
  ASSERT_EQ(Exec(raw, "UPDATE tokens SET expires_at = '2001-01-01T00:00:00.000Z' WHERE id = '" +
                          expired->substr(4, 8) + "'"), "");
  ASSERT_TRUE(catalog_->SetPrincipalDisabled("bob", true, "root").ok());
  std::string tampered = *disabled;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  for (const std::string& secret : {*revoked, *expired, *disabled, tampered,
                                    std::string("plx_nope"), std::string("")}) {
    auto who = catalog_->AuthenticateToken(secret);
    ASSERT_FALSE(who.ok()) << secret;
    EXPECT_EQ(who.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(who.status().message(), "invalid or expired token");
  }
  ASSERT_TRUE(catalog_->SetPrincipalDisabled("bob", false, "root").ok());
  EXPECT_TRUE(catalog_->AuthenticateToken(*disabled).ok());
}

TEST_F(CatalogTest, TokenExpiryMustBeAFutureDate) {
  CreateUser("alice");
  EXPECT_EQ(catalog_->IssueToken("alice", "", "2001-01-01", "root").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->IssueToken("alice", "", "next tuesday", "root").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->IssueToken("nobody", "", "", "root").status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(catalog_->IssueToken("alice", "", "2999-12-31", "root").ok());
  EXPECT_EQ(catalog_->ListTokens("alice")->front().expires_at, "2999-12-31T00:00:00.000Z");
}

// ---- Passwords --------------------------------------------------------------------------------

TEST_F(CatalogTest, PasswordIsStoredAsScramVerifier) {
  CreateUser("alice");
  EXPECT_EQ(catalog_->GetScramVerifier("alice").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(catalog_->SetPassword("alice", "correct horse", "root").ok());
  auto verifier = catalog_->GetScramVerifier("alice");
  ASSERT_TRUE(verifier.ok());
  EXPECT_EQ(verifier->rfind("SCRAM-SHA-256$4096:", 0), 0u) << *verifier;
  EXPECT_EQ(verifier->find("correct horse"), std::string::npos);
  EXPECT_TRUE(catalog_->VerifyPassword("alice", "correct horse").ok());
  Status wrong = catalog_->VerifyPassword("alice", "battery staple");
  EXPECT_EQ(wrong.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(catalog_->VerifyPassword("nobody", "x").message(), wrong.message());
  ASSERT_TRUE(catalog_->SetPrincipalDisabled("alice", true, "root").ok());
  EXPECT_EQ(catalog_->VerifyPassword("alice", "correct horse").code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(catalog_->SetPassword("alice", "", "root").code(), StatusCode::kInvalidArgument);
}

// RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096
// iterations. A server holding only our verifier must accept the RFC's ClientProof and produce
// its ServerSignature.
TEST(CatalogScramTest, VerifierMatchesRfc7677Example) {
  auto salt = internal::FromBase64("W22ZaJ0SNY7soEsUEjb6gQ==");
  ASSERT_TRUE(salt.has_value());
  std::string verifier = internal::ScramVerifier("pencil", *salt, 4096);
  auto keys = internal::ParseScramVerifier(verifier);
  ASSERT_TRUE(keys.has_value()) << verifier;
  EXPECT_EQ(keys->iterations, 4096);
  EXPECT_EQ(keys->salt, *salt);
  const std::string nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const std::string auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=" + nonce +
                                   ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=" + nonce;
  auto proof = internal::FromBase64("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  ASSERT_TRUE(proof.has_value());
  std::string client_signature = internal::HmacSha256(keys->stored_key, auth_message);
  std::string client_key(32, '\0');
  for (size_t i = 0; i < 32; ++i) client_key[i] = (*proof)[i] ^ client_signature[i];
  EXPECT_EQ(internal::Sha256(client_key), keys->stored_key);
  EXPECT_EQ(internal::Base64(internal::HmacSha256(keys->server_key, auth_message)),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  EXPECT_EQ(verifier,
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
            "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
            "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
}

TEST(CatalogScramTest, RejectsMalformedVerifiers) {
  for (const std::string text :
       {"", "md5abc", "SCRAM-SHA-256$x:AA==$AA==:AA==", "SCRAM-SHA-256$4096:AA==$AA==",
        "SCRAM-SHA-256$4096:A$AA==:AA=="}) {
    EXPECT_FALSE(internal::ParseScramVerifier(text).has_value()) << text;
  }
}

// ---- Access requests and grants ---------------------------------------------------------------

TEST_F(CatalogTest, RequestNeedsPurposeExistingTargetAndFutureExpiry) {
  CreateUser("alice");
  AccessRequestRecord r;
  r.principal = "alice";
  r.target = "sales.orders";
  r.purpose = "  ";
  EXPECT_EQ(catalog_->CreateAccessRequest(r, "alice").status().code(),
            StatusCode::kInvalidArgument);
  r.purpose = "churn model";
  for (const std::string target : {"sales.nothing", "sales.orders.nothing", "sales", "x.y.z.w"}) {
    r.target = target;
    EXPECT_EQ(catalog_->CreateAccessRequest(r, "alice").status().code(), StatusCode::kNotFound)
        << target;
  }
  r.target = "Sales.Orders.Orders";
  r.expires_at = "2001-01-01";
  EXPECT_EQ(catalog_->CreateAccessRequest(r, "alice").status().code(),
            StatusCode::kInvalidArgument);
  r.expires_at = "2001-02-30";
  EXPECT_EQ(catalog_->CreateAccessRequest(r, "alice").status().code(),
            StatusCode::kInvalidArgument);
  r.expires_at = "";
  auto id = catalog_->CreateAccessRequest(r, "alice");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto stored = catalog_->GetAccessRequest(*id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->target, "sales.orders.orders");
  EXPECT_EQ(stored->status, "pending");
  EXPECT_EQ(catalog_->ListAccessRequests("alice", "", "pending")->size(), 1u);
  EXPECT_TRUE(catalog_->ListAccessRequests("", "", "approved")->empty());
}

TEST_F(CatalogTest, ApprovedRequestBecomesActiveGrant) {
  CreateUser("alice");
  AccessRequestRecord r;
  r.principal = "alice";
  r.target = "sales.orders";
  r.purpose = "churn model";
  r.expires_at = "2999-06-30";
  auto id = catalog_->CreateAccessRequest(r, "alice");
  ASSERT_TRUE(id.ok());
  auto decided = catalog_->DecideAccessRequest(*id, true, "ok for Q3", "Carol");
  ASSERT_TRUE(decided.ok()) << decided.status().ToString();
  EXPECT_EQ(decided->status, "approved");
  EXPECT_EQ(decided->decided_by, "Carol");
  ASSERT_GT(decided->grant_id, 0);
  EXPECT_EQ(catalog_->GetAccessRequest(*id)->grant_id, decided->grant_id);
  auto grant = catalog_->GetGrant(decided->grant_id);
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(grant->grantee, "alice");
  EXPECT_EQ(grant->grantee_kind, "principal");
  EXPECT_EQ(grant->purpose, "churn model");
  EXPECT_EQ(grant->expires_at, "2999-06-30T00:00:00.000Z");
  EXPECT_EQ(grant->request_id, *id);
  auto active = catalog_->ListGrants("alice", "sales.orders", NowUtc());
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_TRUE(catalog_->ListGrants("alice", "", "2999-07-01")->empty());
  EXPECT_EQ(catalog_->DecideAccessRequest(*id, false, "", "Carol").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(CatalogTest, DeniedRequestGrantsNothing) {
  CreateUser("alice");
  AccessRequestRecord r;
  r.target = "sales.orders.lines";
  r.purpose = "curiosity";
  auto id = catalog_->CreateAccessRequest(r, "alice");  // for the actor
  ASSERT_TRUE(id.ok());
  auto decided = catalog_->DecideAccessRequest(*id, false, "no business need", "Carol");
  ASSERT_TRUE(decided.ok());
  EXPECT_EQ(decided->status, "denied");
  EXPECT_EQ(decided->grant_id, 0);
  EXPECT_EQ(decided->reason, "no business need");
  EXPECT_TRUE(catalog_->ListGrants("alice", "", "")->empty());
  EXPECT_EQ(catalog_->DecideAccessRequest(999, true, "", "Carol").status().code(),
            StatusCode::kNotFound);
}

TEST_F(CatalogTest, ExpiredAndRevokedGrantsAreNotActive) {
  CreateUser("alice");
  GrantRecord g;
  g.grantee = "alice";
  g.target = "sales.orders";
  g.purpose = "reporting";
  g.expires_at = kFarFuture;
  auto expiring = catalog_->CreateGrant(g, "Carol");
  ASSERT_TRUE(expiring.ok()) << expiring.status().ToString();
  g.expires_at = "";
  auto revoked = catalog_->CreateGrant(g, "Carol");
  g.grantee = "finance";
  g.grantee_kind = "group";
  auto group = catalog_->CreateGrant(g, "Carol");
  ASSERT_TRUE(revoked.ok() && group.ok());
  EXPECT_EQ(catalog_->ListGrants("", "", NowUtc())->size(), 3u);
  // The expiry passes.
  auto raw = OpenRaw(home_);
  ASSERT_EQ(Exec(raw, "UPDATE grants SET expires_at = '2001-01-01T00:00:00.000Z' WHERE id = " +
                          std::to_string(*expiring)), "");
  ASSERT_TRUE(catalog_->RevokeGrant(*revoked, "Carol").ok());
  EXPECT_EQ(catalog_->RevokeGrant(*revoked, "Carol").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog_->RevokeGrant(999, "Carol").code(), StatusCode::kNotFound);
  auto active = catalog_->ListGrants("", "", NowUtc());
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ(active->front().grantee, "finance");
  EXPECT_EQ(catalog_->GetGrant(*revoked)->revoked_by, "Carol");
  EXPECT_EQ(catalog_->ListGrants("", "", "")->size(), 3u);  // history stays
}

TEST_F(CatalogTest, GrantChecksGranteeAndTarget) {
  GrantRecord g;
  g.grantee = "nobody";
  g.target = "sales.orders";
  EXPECT_EQ(catalog_->CreateGrant(g, "Carol").status().code(), StatusCode::kNotFound);
  g.grantee = "dave";
  g.target = "sales.nothing";
  EXPECT_EQ(catalog_->CreateGrant(g, "Carol").status().code(), StatusCode::kNotFound);
  g.target = "sales.orders";
  g.grantee_kind = "team";
  EXPECT_EQ(catalog_->CreateGrant(g, "Carol").status().code(), StatusCode::kInvalidArgument);
  g.grantee_kind = "principal";
  g.expires_at = "2001-01-01";
  EXPECT_EQ(catalog_->CreateGrant(g, "Carol").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plexus::catalog
