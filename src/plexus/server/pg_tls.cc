#include "plexus/server/pg_tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace plexus::server::pg {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;
using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;

Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return Internal("cannot make a certificate extension");
  int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return added == 1 ? Status::OK() : Internal("cannot add a certificate extension");
}

Result<Certificate> MakeCertificate(EVP_PKEY* key) {
  Certificate cert(X509_new(), &X509_free);
  if (!cert) return Internal("cannot allocate a certificate");
  X509_set_version(cert.get(), 2);
  auto serial = std::unique_ptr<BIGNUM, decltype(&BN_free)>(BN_new(), &BN_free);
  BN_rand(serial.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Plexus"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  PLEXUS_RETURN_IF_ERROR(
      AddExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"));
  PLEXUS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return Internal("cannot sign the certificate");
  return cert;
}

}  // namespace

Status WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path) {
  Key key(EVP_RSA_gen(2048), &EVP_PKEY_free);
  if (!key) return Internal("cannot generate an RSA key");
  PLEXUS_ASSIGN_OR_RETURN(Certificate cert, MakeCertificate(key.get()));
  std::string key_tmp = key_path + ".tmp";
  {
    mode_t old_mask = umask(077);  // the key is never readable by others, not even briefly
    File file(std::fopen(key_tmp.c_str(), "w"));
    umask(old_mask);
    if (!file) return IOError("cannot write " + key_tmp);
    if (PEM_write_PrivateKey(file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      return IOError("cannot write the key to " + key_tmp);
    }
  }
  chmod(key_tmp.c_str(), 0600);
  {
    File file(std::fopen(cert_path.c_str(), "w"));
    if (!file) return IOError("cannot write " + cert_path);
    if (PEM_write_X509(file.get(), cert.get()) != 1) return IOError("cannot write " + cert_path);
  }
  std::error_code ec;
  std::filesystem::rename(key_tmp, key_path, ec);
  if (ec) return IOError("cannot write " + key_path + ": " + ec.message());
  return Status::OK();
}

Result<std::pair<std::string, std::string>> TlsFiles(const std::string& home_root,
                                                     const std::string& cert,
                                                     const std::string& key) {
  if (cert.empty() != key.empty()) {
    return InvalidArgument("give both --tls-cert and --tls-key, or neither (self-signed)");
  }
  if (!cert.empty()) return std::make_pair(cert, key);
  namespace fs = std::filesystem;
  std::string dir = home_root + "/tls";
  std::string cert_path = dir + "/server.crt", key_path = dir + "/server.key";
  std::error_code ec;
  if (fs::exists(cert_path, ec) && fs::exists(key_path, ec)) {
    return std::make_pair(cert_path, key_path);
  }
  fs::create_directories(dir, ec);
  if (ec) return IOError("cannot create " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  PLEXUS_RETURN_IF_ERROR(WriteSelfSignedCertificate(cert_path, key_path));
  return std::make_pair(cert_path, key_path);
}

}  // namespace plexus::server::pg
