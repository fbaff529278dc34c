#include "plexus/server/pg_scram.h"

#include <vector>

#include "plexus/catalog/crypto.h"

namespace plexus::server::pg {
namespace {

namespace crypto = catalog::internal;

Status Malformed(std::string_view what) {
  return InvalidArgument("malformed SCRAM message: " + std::string(what));
}

/// Splits "a=1,b=2" on commas.
std::vector<std::string_view> SplitAttributes(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return parts;
}

/// The value of attribute `name` ("r=abc" -> "abc"), or nullopt when `part` is another one.
std::optional<std::string_view> Attribute(std::string_view part, char name) {
  if (part.size() < 2 || part[0] != name || part[1] != '=') return std::nullopt;
  return part.substr(2);
}

bool PrintableNonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

/// A secret of this process: made-up salts for unknown users are HMACs of their names with it,
/// so asking twice gives the same salt (as for a real user) and no one can predict it.
const std::string& MockSecret() {
  static const std::string secret = [] {
    auto bytes = crypto::RandomBytes(32);
    return bytes.ok() ? *bytes : std::string(32, 'x');
  }();
  return secret;
}

}  // namespace

std::string PasswordFailedMessage(std::string_view user) {
  return "password authentication failed for user \"" + std::string(user) + "\"";
}

ScramExchange ScramExchange::Start(std::string user, std::optional<std::string> verifier) {
  ScramExchange exchange;
  exchange.user_ = std::move(user);
  std::optional<crypto::ScramKeys> keys;
  if (verifier) keys = crypto::ParseScramVerifier(*verifier);
  if (keys) {
    exchange.real_ = true;
    exchange.iterations_ = keys->iterations;
    exchange.salt_ = keys->salt;
    exchange.stored_key_ = keys->stored_key;
    exchange.server_key_ = keys->server_key;
  } else {
    exchange.iterations_ = crypto::kScramIterations;
    exchange.salt_ = crypto::HmacSha256(MockSecret(), "salt:" + exchange.user_).substr(0, 16);
    exchange.stored_key_ = crypto::HmacSha256(MockSecret(), "stored:" + exchange.user_);
    exchange.server_key_ = crypto::HmacSha256(MockSecret(), "server:" + exchange.user_);
  }
  return exchange;
}

Result<std::string> ScramExchange::ClientFirst(std::string_view message) {
  if (first_done_) return Malformed("client-first-message sent twice");
  // gs2-header: cbind-flag "," [authzid] ","
  if (message.empty()) return Malformed("empty client-first-message");
  char flag = message[0];
  if (flag == 'p') {
    return InvalidArgument("SCRAM channel binding is not supported: use SCRAM-SHA-256");
  }
  if ((flag != 'n' && flag != 'y') || message.size() < 2 || message[1] != ',') {
    return Malformed("unexpected channel-binding flag");
  }
  size_t second_comma = message.find(',', 2);
  if (second_comma == std::string_view::npos) return Malformed("no gs2 header");
  std::string_view authzid = message.substr(2, second_comma - 2);
  if (!authzid.empty() && authzid.substr(0, 2) != "a=") return Malformed("bad authzid");
  gs2_header_ = std::string(message.substr(0, second_comma + 1));
  client_first_bare_ = std::string(message.substr(second_comma + 1));
  auto parts = SplitAttributes(client_first_bare_);
  // The user name is the startup packet's; PostgreSQL clients send "n=" (empty) here.
  if (parts.size() < 2 || !Attribute(parts[0], 'n')) return Malformed("expected n=");
  auto client_nonce = Attribute(parts[1], 'r');
  if (!client_nonce || !PrintableNonce(*client_nonce)) return Malformed("bad client nonce");
  PLEXUS_ASSIGN_OR_RETURN(std::string random, crypto::RandomBytes(18));
  nonce_ = std::string(*client_nonce) + crypto::Base64(random);
  server_first_ = "r=" + nonce_ + ",s=" + crypto::Base64(salt_) + ",i=" +
                  std::to_string(iterations_);
  first_done_ = true;
  return server_first_;
}

Result<std::string> ScramExchange::ClientFinal(std::string_view message) {
  if (!first_done_) return Malformed("client-final-message before client-first-message");
  size_t proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return Malformed("no proof");
  std::string_view without_proof = message.substr(0, proof_at);
  auto parts = SplitAttributes(without_proof);
  if (parts.size() < 2) return Malformed("expected c= and r=");
  auto binding = Attribute(parts[0], 'c');
  auto nonce = Attribute(parts[1], 'r');
  if (!binding || !nonce) return Malformed("expected c= and r=");
  auto decoded_binding = crypto::FromBase64(*binding);
  if (!decoded_binding || *decoded_binding != gs2_header_) {
    return Malformed("channel binding does not match the gs2 header");
  }
  if (*nonce != nonce_) return Malformed("nonce does not match");
  auto proof = crypto::FromBase64(message.substr(proof_at + 3));
  if (!proof || proof->size() != stored_key_.size()) return Malformed("bad proof");
  std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  std::string client_key = crypto::HmacSha256(stored_key_, auth_message);  // ClientSignature
  for (size_t i = 0; i < client_key.size(); ++i) client_key[i] ^= (*proof)[i];
  bool match = crypto::ConstantTimeEquals(crypto::Sha256(client_key), stored_key_);
  if (!match || !real_) return Unauthenticated(PasswordFailedMessage(user_));
  return "v=" + crypto::Base64(crypto::HmacSha256(server_key_, auth_message));
}

}  // namespace plexus::server::pg
