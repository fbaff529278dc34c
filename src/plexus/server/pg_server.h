// File: plexus/server/pg_server.h
//
// The PostgreSQL wire protocol server: psql, JDBC, psycopg2, node-postgres and every other
// PostgreSQL client read the mesh through it. One thread per connection (DuckDB queries block
// anyway), TLS through OpenSSL after an SSLRequest, SCRAM-SHA-256 sign-in against the
// catalog's verifiers, and every statement through access::QueryService (door "wire") or the
// per-principal metadata catalog (pg_metadata.h).
//
//   PgOptions options;                 // 127.0.0.1:5433, TLS required
//   options.tls_cert = ...; options.tls_key = ...;
//   PLEXUS_ASSIGN_OR_RETURN(auto server, PgServer::Start(home, options));
//   ... server->port() ...; server->Stop();   // or destroy it
//
// Limits: max_connections (the one over gets 53300 and is closed), statement_timeout and
// cancel requests (57014), idle_timeout (57P05), message sizes (08P01). A bad client gets an
// error and is closed; the others carry on. Thread safety: Start, port and Stop may be called
// from any thread.
#pragma once

#include <memory>
#include <string>

#include "plexus/catalog/catalog.h"
#include "plexus/common/status.h"

namespace plexus::access {
class QueryService;
}

namespace plexus::server {

struct PgOptions {
  std::string host = "127.0.0.1";
  int port = 5433;  ///< 0: any free port (see PgServer::port)
  /// PEM certificate and key. Both empty: a self-signed certificate for localhost, made once
  /// in <home>/tls/server.crt and server.key (0600) and reused.
  std::string tls_cert;
  std::string tls_key;
  /// Refuse clients that do not ask for TLS (28000). On by default: passwords and data
  /// never cross the network in clear.
  bool require_tls = true;
  /// Ask for the password in clear (inside TLS only) instead of SCRAM, for clients that cannot
  /// do SCRAM. Off by default.
  bool allow_cleartext_password = false;
  int max_connections = 200;
  int64_t statement_timeout_ms = 0;  ///< 0: none; a session's SET statement_timeout wins
  int64_t idle_timeout_ms = 0;       ///< 0: none; an idle session is closed after this
};

/// What the wire server may share with the other doors: when set, the caller owns them and
/// keeps them alive longer than the server; when null, Start opens its own.
struct PgShared {
  catalog::Catalog* catalog = nullptr;
  access::QueryService* queries = nullptr;
};

/// A running wire protocol server; stops when destroyed.
class PgServer {
 public:
  /// Opens the catalog and the query service of `home`, prepares TLS and binds
  /// `options.host:port`. Serves on background threads.
  static Result<std::unique_ptr<PgServer>> Start(const catalog::Home& home,
                                                 const PgOptions& options, PgShared shared = {});
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  /// The port bound (the chosen one when options.port was 0).
  int port() const;
  /// True when TLS is offered (always, once started).
  bool tls() const;
  /// Stops accepting, closes every connection (their queries are interrupted) and waits for
  /// their threads. Idempotent.
  void Stop();

  struct State;  // pg_server.cc; shared with the connections

 private:
  explicit PgServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace plexus::server
