// File: plexus/catalog/crypto.h (catalog-internal)
//
// The cryptography of credentials and the audit chain, over OpenSSL's libcrypto: a CSPRNG,
// SHA-256, HMAC-SHA-256, constant-time comparison, base64, and SCRAM-SHA-256 verifiers in
// PostgreSQL's text form (RFC 5802 / RFC 7677). Thread safe: no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "plexus/common/status.h"

namespace plexus::catalog::internal {

/// `n` bytes from OpenSSL's CSPRNG (RAND_bytes); kInternal when it cannot supply them.
Result<std::string> RandomBytes(size_t n);
/// Raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view data);
/// Lower-case hex of SHA-256(data): 64 characters.
std::string Sha256Hex(std::string_view data);
/// Raw 32-byte HMAC-SHA-256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);
/// Lower-case hex.
std::string Hex(std::string_view bytes);
/// Standard base64 with padding (RFC 4648 section 4).
std::string Base64(std::string_view bytes);
/// URL-safe base64 without padding (RFC 4648 section 5).
std::string Base64Url(std::string_view bytes);
/// Decodes standard base64 (padding required); nullopt when malformed.
std::optional<std::string> FromBase64(std::string_view text);
/// Equal contents, in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// A SCRAM-SHA-256 verifier's parts (raw bytes).
struct ScramKeys {
  int iterations = 0;
  std::string salt;
  std::string stored_key;
  std::string server_key;
};

constexpr int kScramIterations = 4096;

/// The verifier of `password` with this salt, as PostgreSQL stores it:
/// "SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>", where
/// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations), ClientKey =
/// HMAC(SaltedPassword, "Client Key"), StoredKey = SHA-256(ClientKey), ServerKey =
/// HMAC(SaltedPassword, "Server Key"). The password is used as given (no SASLprep).
std::string ScramVerifier(std::string_view password, std::string_view salt, int iterations);
/// The parts of a verifier in that form; nullopt when malformed.
std::optional<ScramKeys> ParseScramVerifier(std::string_view verifier);

}  // namespace plexus::catalog::internal
