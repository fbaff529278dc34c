#include "plexus/server/pg_scram.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "plexus/catalog/crypto.h"

namespace plexus::server::pg {
namespace {

namespace crypto = catalog::internal;

/// The client side of SCRAM-SHA-256, as libpq computes it.
struct ScramClient {
  std::string password;
  std::string client_nonce = "rOprNGfwEbeRWgbNEkqO";
  std::string gs2 = "n,,";
  std::string first_bare() const { return "n=,r=" + client_nonce; }
  std::string first() const { return gs2 + first_bare(); }

  /// The client-final-message answering `server_first`; `server_signature` gets what the
  /// server must answer with.
  std::string Final(const std::string& server_first, std::string* server_signature) const {
    std::string nonce, salt_b64;
    int iterations = 0;
    size_t start = 0;
    while (start <= server_first.size()) {
      size_t comma = server_first.find(',', start);
      std::string part = server_first.substr(start, comma - start);
      if (part.rfind("r=", 0) == 0) nonce = part.substr(2);
      if (part.rfind("s=", 0) == 0) salt_b64 = part.substr(2);
      if (part.rfind("i=", 0) == 0) iterations = std::stoi(part.substr(2));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    std::string salt = *crypto::FromBase64(salt_b64);
    unsigned char salted[32];
    PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                      reinterpret_cast<const unsigned char*>(salt.data()),
                      static_cast<int>(salt.size()), iterations, EVP_sha256(), 32, salted);
    std::string salted_password(reinterpret_cast<char*>(salted), 32);
    std::string client_key = crypto::HmacSha256(salted_password, "Client Key");
    std::string stored_key = crypto::Sha256(client_key);
    std::string without_proof = "c=" + crypto::Base64(gs2) + ",r=" + nonce;
    std::string auth = first_bare() + "," + server_first + "," + without_proof;
    std::string proof = crypto::HmacSha256(stored_key, auth);
    for (size_t i = 0; i < proof.size(); ++i) proof[i] ^= client_key[i];
    std::string server_key = crypto::HmacSha256(salted_password, "Server Key");
    if (server_signature) {
      *server_signature = "v=" + crypto::Base64(crypto::HmacSha256(server_key, auth));
    }
    return without_proof + ",p=" + crypto::Base64(proof);
  }
};

std::string Verifier(const std::string& password) {
  return crypto::ScramVerifier(password, "0123456789abcdef", crypto::kScramIterations);
}

TEST(PgScram, TheRightPasswordSignsInAndTheServerProvesItKnowsTheVerifier) {
  for (std::string gs2 : {"n,,", "y,,"}) {
    auto exchange = ScramExchange::Start("alice", Verifier("s3cret"));
    ScramClient client{"s3cret"};
    client.gs2 = gs2;
    auto server_first = exchange.ClientFirst(client.first());
    ASSERT_TRUE(server_first.ok()) << server_first.status().ToString();
    EXPECT_EQ(server_first->rfind("r=" + client.client_nonce, 0), 0u);
    EXPECT_NE(server_first->find(",i=4096"), std::string::npos);
    std::string expected_signature;
    auto server_final = exchange.ClientFinal(client.Final(*server_first, &expected_signature));
    ASSERT_TRUE(server_final.ok()) << server_final.status().ToString();
    EXPECT_EQ(*server_final, expected_signature);
  }
}

TEST(PgScram, AWrongPasswordAndAnUnknownUserFailAlike) {
  auto wrong = ScramExchange::Start("alice", Verifier("s3cret"));
  ScramClient client{"guess"};
  auto first = wrong.ClientFirst(client.first());
  ASSERT_TRUE(first.ok());
  auto refused = wrong.ClientFinal(client.Final(*first, nullptr));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(refused.status().message(), "password authentication failed for user \"alice\"");

  auto unknown = ScramExchange::Start("mallory", std::nullopt);
  auto fake_first = unknown.ClientFirst(client.first());
  ASSERT_TRUE(fake_first.ok());  // a salt and iterations as for a real user
  EXPECT_NE(fake_first->find(",s="), std::string::npos);
  EXPECT_NE(fake_first->find(",i=4096"), std::string::npos);
  auto fake_refused = unknown.ClientFinal(client.Final(*fake_first, nullptr));
  ASSERT_FALSE(fake_refused.ok());
  EXPECT_EQ(fake_refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(fake_refused.status().message(),
            "password authentication failed for user \"mallory\"");

  // The same unknown user gets the same salt each time, like a real one.
  auto again = ScramExchange::Start("mallory", std::nullopt).ClientFirst(client.first());
  auto salt = [](const std::string& s) { return s.substr(s.find(",s=")); };
  EXPECT_EQ(salt(*again), salt(*fake_first));
}

TEST(PgScram, MalformedMessagesAreRefused) {
  ScramClient client{"s3cret"};
  for (std::string bad : {"", "x,,n=,r=abc", "p=tls-server-end-point,,n=,r=abc", "n,,r=abc",
                          "n,,n=,r=", "n,,n=", "n,b,n=,r=abc"}) {
    auto exchange = ScramExchange::Start("alice", Verifier("s3cret"));
    EXPECT_FALSE(exchange.ClientFirst(bad).ok()) << bad;
  }
  auto exchange = ScramExchange::Start("alice", Verifier("s3cret"));
  EXPECT_FALSE(exchange.ClientFinal("c=biws,r=x,p=AAAA").ok());  // before the first message
  auto first = exchange.ClientFirst(client.first());
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(exchange.ClientFirst(client.first()).ok());  // twice
  std::string good = client.Final(*first, nullptr);
  for (std::string bad : {std::string("c=biws,r=other,p=") + good.substr(good.find(",p=") + 3),
                          std::string("c=eSws") + good.substr(good.find(",r=")),
                          std::string("c=biws,r=x"), std::string("garbage"),
                          good.substr(0, good.find(",p=")) + ",p=!!notbase64"}) {
    auto result = exchange.ClientFinal(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(exchange.ClientFinal(good).ok());
}

}  // namespace
}  // namespace plexus::server::pg
