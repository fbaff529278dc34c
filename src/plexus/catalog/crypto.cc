#include "plexus/catalog/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdint>

namespace plexus::catalog::internal {

namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string Base64With(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    size_t left = bytes.size() - i;
    if (left > 1) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (left > 2) n |= static_cast<uint8_t>(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (left > 1) out += alphabet[(n >> 6) & 63];
    if (left > 2) out += alphabet[n & 63];
  }
  while (pad && out.size() % 4 != 0) out += '=';
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Internal("the system's random number generator failed");
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string Sha256Hex(std::string_view data) { return Hex(Sha256(data)); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(data), data.size(), mac,
       &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out += kDigits[static_cast<uint8_t>(c) >> 4];
    out += kDigits[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

std::string Base64(std::string_view bytes) { return Base64With(bytes, kBase64Alphabet, true); }

std::string Base64Url(std::string_view bytes) {
  static constexpr char kUrlAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return Base64With(bytes, kUrlAlphabet, false);
}

std::optional<std::string> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') return std::nullopt;
    uint32_t n = 0;
    for (int k = 0; k < 4 - pad; ++k) {
      int v = Base64Value(text[i + k]);
      if (v < 0) return std::nullopt;
      n |= static_cast<uint32_t>(v) << (18 - 6 * k);
    }
    out += static_cast<char>((n >> 16) & 255);
    if (pad < 2) out += static_cast<char>((n >> 8) & 255);
    if (pad < 1) out += static_cast<char>(n & 255);
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string ScramVerifier(std::string_view password, std::string_view salt, int iterations) {
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), Bytes(salt),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof(salted),
                    salted);
  std::string_view salted_password(reinterpret_cast<const char*>(salted), sizeof(salted));
  std::string stored_key = Sha256(HmacSha256(salted_password, "Client Key"));
  std::string server_key = HmacSha256(salted_password, "Server Key");
  OPENSSL_cleanse(salted, sizeof(salted));
  return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + Base64(salt) + "$" +
         Base64(stored_key) + ":" + Base64(server_key);
}

std::optional<ScramKeys> ParseScramVerifier(std::string_view verifier) {
  constexpr std::string_view kPrefix = "SCRAM-SHA-256$";
  if (verifier.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  verifier.remove_prefix(kPrefix.size());
  size_t colon = verifier.find(':'), dollar = verifier.find('$');
  if (colon == std::string_view::npos || dollar == std::string_view::npos || dollar < colon) {
    return std::nullopt;
  }
  size_t colon2 = verifier.find(':', dollar);
  if (colon2 == std::string_view::npos) return std::nullopt;
  ScramKeys keys;
  for (char c : verifier.substr(0, colon)) {
    if (c < '0' || c > '9' || keys.iterations > 10'000'000) return std::nullopt;
    keys.iterations = keys.iterations * 10 + (c - '0');
  }
  auto salt = FromBase64(verifier.substr(colon + 1, dollar - colon - 1));
  auto stored = FromBase64(verifier.substr(dollar + 1, colon2 - dollar - 1));
  auto server = FromBase64(verifier.substr(colon2 + 1));
  if (keys.iterations <= 0 || !salt || !stored || !server) return std::nullopt;
  keys.salt = *salt;
  keys.stored_key = *stored;
  keys.server_key = *server;
  return keys;
}

}  // namespace plexus::catalog::internal
