// File: plexus/server/pg_scram.h
//
// The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it in SASL
// messages, checked against the verifier the catalog stores
// (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>), never a password.
// No channel binding: the server offers SCRAM-SHA-256 only and accepts the gs2 flags 'n' and
// 'y'.
//
//   auto scram = pg::ScramExchange::Start(user, verifier);   // nullopt verifier: fake run
//   PLEXUS_ASSIGN_OR_RETURN(std::string server_first, scram.ClientFirst(client_first));
//   PLEXUS_ASSIGN_OR_RETURN(std::string server_final, scram.ClientFinal(client_final));
//
// An unknown user, a disabled one or one without a password runs the same exchange with a
// made-up salt (stable per user name) and fails at the proof with the same message as a
// wrong password: the client cannot tell the cases apart. Thread safety: one exchange per
// connection; Start may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "plexus/common/status.h"

namespace plexus::server::pg {

/// SQLSTATE of a failed password check (invalid_password).
constexpr std::string_view kInvalidPassword = "28P01";

/// The message of every failed sign-in for `user`.
std::string PasswordFailedMessage(std::string_view user);

class ScramExchange {
 public:
  /// `verifier` in PostgreSQL's text form; nullopt (or a malformed one) runs a fake exchange.
  static ScramExchange Start(std::string user, std::optional<std::string> verifier);

  /// Takes the client-first-message ("n,,n=user,r=nonce"); returns the server-first-message.
  /// kInvalidArgument when malformed (a protocol violation).
  Result<std::string> ClientFirst(std::string_view message);
  /// Takes the client-final-message ("c=biws,r=nonce,p=proof"); returns the
  /// server-final-message ("v=signature"). kUnauthenticated with PasswordFailedMessage when
  /// the proof is wrong or the user is not real; kInvalidArgument when malformed.
  Result<std::string> ClientFinal(std::string_view message);

 private:
  ScramExchange() = default;
  std::string user_;
  bool real_ = false;
  int iterations_ = 0;
  std::string salt_, stored_key_, server_key_;
  std::string gs2_header_, client_first_bare_, server_first_, nonce_;
  bool first_done_ = false;
};

}  // namespace plexus::server::pg
