// File: plexus/server/pg_tls.h (server-internal)
//
// TLS for the wire protocol: the server's certificate and key, from files the operator gives,
// or a self-signed certificate for localhost made once in <home>/tls/ (server.crt, server.key
// with mode 0600) and reused, so `plexus serve` speaks TLS out of the box. Clients that verify
// the server (sslmode=verify-full) need the operator's certificate; sslmode=require works with
// either. Thread safety: call before serving.
#pragma once

#include <string>
#include <utility>

#include "plexus/common/status.h"

namespace plexus::server::pg {

/// The certificate and key file paths to use: the given ones (both or neither), or the
/// home's self-signed pair, generated when missing (RSA 2048, CN and SAN localhost and
/// 127.0.0.1, valid ten years).
Result<std::pair<std::string, std::string>> TlsFiles(const std::string& home_root,
                                                     const std::string& cert,
                                                     const std::string& key);

/// Writes a new self-signed certificate and its key (0600) for localhost.
Status WriteSelfSignedCertificate(const std::string& cert_path, const std::string& key_path);

}  // namespace plexus::server::pg
