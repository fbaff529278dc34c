// A wire connection: I/O, startup, TLS, sign-in, the message loop.
#include "plexus/server/pg_connection.h"

#include <algorithm>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "plexus/observe/log.h"
#include "plexus/server/pg_scram.h"

namespace plexus::server::pg {
namespace {

constexpr size_t kFlushBytes = 64 * 1024;
/// A write that makes no progress for this long ends the connection (unless the idle or the
/// statement timeout is shorter): the client has stopped reading.
constexpr int64_t kWriteStallMs = 60 * 1000;
constexpr std::string_view kServerVersion = "15.0 (Plexus)";

/// A Status from the client's side of the socket: the connection simply ends.
Status Closed(const std::string& why) { return IOError("connection closed: " + why); }

}  // namespace

int64_t SteadyMillis(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

engine::QueryResult* Portal::result() {
  if (cursor != nullptr) return cursor->result.get();
  if (catalog_cursor != nullptr) return &catalog_cursor->result();
  return nullptr;
}

Connection::Connection(ServerContext* context, asio::ip::tcp::socket socket, int32_t pid,
                       int32_t secret, bool over_limit)
    : ctx_(context), socket_(std::move(socket)), pid_(pid), secret_(secret),
      over_limit_(over_limit) {}

Connection::~Connection() = default;

// ---- I/O ------------------------------------------------------------------------------------

Status Connection::ReadMore() {
  char data[16 * 1024];
  std::error_code ec;
  idle_since_ms_ = SteadyMillis(Clock::now());
  size_t n = tls_ ? tls_->read_some(asio::buffer(data), ec) : socket_.read_some(asio::buffer(data), ec);
  idle_since_ms_ = -1;
  if (ec || n == 0) return Closed(ec ? ec.message() : "end of stream");
  in_.append(data, n);
  return Status::OK();
}

Status Connection::Flush() {
  if (out_.size() == 0) return Status::OK();
  write_limit_ms_ = WriteLimitMs();
  write_progress_ms_ = SteadyMillis(Clock::now());
  // Shutdown() cuts off a write it sees in progress; one that starts after it (its last words,
  // 57P01) sends only what fits, as the watchdog no longer runs to cut it off.
  if (stopping_) {
    std::error_code ec;
    socket_.non_blocking(true, ec);
  }
  Status status = WriteAll(out_.buffer());
  write_progress_ms_ = -1;
  out_.Clear();
  if (!status.ok() && write_stalled_) {
    return Closed("the client read nothing for " + std::to_string(write_limit_ms_) + " ms");
  }
  return status;
}

Status Connection::WriteAll(std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    std::error_code ec;
    auto piece = asio::buffer(data.data() + done, data.size() - done);
    size_t n = tls_ ? tls_->write_some(piece, ec) : socket_.write_some(piece, ec);
    if (ec) return Closed(ec.message());
    done += n;
    write_progress_ms_ = SteadyMillis(Clock::now());
  }
  return Status::OK();
}

int64_t Connection::StatementTimeoutMs() const {
  return settings_.statement_timeout_ms() > 0 ? settings_.statement_timeout_ms()
                                              : ctx_->options.statement_timeout_ms;
}

int64_t Connection::WriteLimitMs() const {
  int64_t limit = kWriteStallMs;
  for (int64_t timeout : {ctx_->options.idle_timeout_ms, StatementTimeoutMs()}) {
    if (timeout > 0) limit = std::min(limit, timeout);
  }
  return limit;
}

Status Connection::FlushIfFull() {
  return out_.size() >= kFlushBytes ? Flush() : Status::OK();
}

Result<Message> Connection::NextMessage() {
  while (true) {
    // The type byte decides the limit; it is known as soon as one byte arrived.
    size_t limit = in_.empty() ? ctx_->limits.max_message
                               : MaxMessageSize(in_[0], ctx_->limits);
    if (!signed_in_ && limit > ctx_->limits.max_auth_message) {
      limit = ctx_->limits.max_auth_message;
    }
    PLEXUS_ASSIGN_OR_RETURN(auto message, ReadMessage(in_, limit));
    if (message) return std::move(*message);
    PLEXUS_RETURN_IF_ERROR(Flush());  // the client waits for our answers before sending more
    PLEXUS_RETURN_IF_ERROR(ReadMore());
  }
}

void Connection::SendFatal(std::string_view sqlstate, const std::string& message) {
  out_.ErrorResponse({"FATAL", std::string(sqlstate), message, "", ""});
  (void)Flush();
}

// ---- Thread body ------------------------------------------------------------------------------

void Connection::Run() {
  connection_id_ = observe::NewRequestId();
  std::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  try {
    Status status = Startup();
    if (status.ok()) status = MessageLoop();
    if (!status.ok() && status.code() == StatusCode::kInvalidArgument) {
      SendFatal(kProtocolViolation, status.message());  // malformed input: say why, then close
    }
  } catch (const std::exception& e) {
    SendFatal("XX000", std::string("internal error: ") + e.what());
  } catch (...) {
    SendFatal("XX000", "internal error");
  }
  if (signed_in_) LogConnection(false);
  portals_.clear();  // cursors go back to the service before the connection ends
  statements_.clear();
  // TLS shutdown sends close_notify, then waits for the client's: reading nothing more lets
  // it end at once, whatever the client does.
  socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
  if (tls_) tls_->shutdown(ec);
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

void Connection::Cancel() {
  cancel_requested_ = true;
  if (statement_since_ms_ >= 0) interrupter_.Interrupt();
}

void Connection::Tick(Clock::time_point now) {
  int64_t now_ms = SteadyMillis(now);
  int64_t idle = idle_since_ms_;
  if (signed_in_ && ctx_->options.idle_timeout_ms > 0 && idle >= 0 &&
      now_ms - idle > ctx_->options.idle_timeout_ms && !idle_expired_.exchange(true)) {
    std::error_code ec;  // the reader wakes with end of stream; writing still works
    socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
  }
  int64_t deadline = statement_deadline_ms_;
  if (statement_since_ms_ >= 0 && deadline >= 0 && now_ms > deadline) {
    timed_out_ = true;
    interrupter_.Interrupt();
  }
  int64_t writing = write_progress_ms_;
  int64_t write_limit = write_limit_ms_;
  if (writing >= 0 && write_limit > 0 && now_ms - writing > write_limit &&
      !write_stalled_.exchange(true)) {
    std::error_code ec;  // the blocked write fails; nothing more can be said to this client
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    interrupter_.Interrupt();
  }
}

void Connection::Shutdown() {
  stopping_ = true;
  interrupter_.Interrupt();
  std::error_code ec;
  // A write in progress may be blocked on a client that does not read: cut it off too.
  socket_.shutdown(write_progress_ms_ >= 0 ? asio::ip::tcp::socket::shutdown_both
                                           : asio::ip::tcp::socket::shutdown_receive,
                   ec);
}

// ---- Startup ----------------------------------------------------------------------------------

Status Connection::StartTls() {
  if (!in_.empty()) {  // bytes sent before the handshake could be injected by a third party
    return InvalidArgument("received unencrypted data after SSL request");
  }
  out_.SingleByte('S');
  PLEXUS_RETURN_IF_ERROR(Flush());
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *ctx_->tls);
  std::error_code ec;
  idle_since_ms_ = SteadyMillis(Clock::now());
  tls_->handshake(asio::ssl::stream_base::server, ec);
  idle_since_ms_ = -1;
  if (ec) {
    tls_.reset();
    return Closed("TLS handshake failed: " + ec.message());
  }
  return Status::OK();
}

Result<std::optional<StartupPacket>> Connection::NegotiateStartup() {
  while (true) {
    PLEXUS_ASSIGN_OR_RETURN(auto packet, ReadStartupPacket(in_, ctx_->limits));
    if (!packet) {
      PLEXUS_RETURN_IF_ERROR(ReadMore());
      continue;
    }
    switch (packet->kind) {
      case StartupPacket::Kind::kSslRequest:
        if (tls_ != nullptr) return InvalidArgument("SSL request on an encrypted connection");
        if (ctx_->tls == nullptr) {
          out_.SingleByte('N');
          PLEXUS_RETURN_IF_ERROR(Flush());
        } else {
          PLEXUS_RETURN_IF_ERROR(StartTls());
        }
        continue;
      case StartupPacket::Kind::kGssEncRequest:
        out_.SingleByte('N');
        PLEXUS_RETURN_IF_ERROR(Flush());
        continue;
      case StartupPacket::Kind::kCancel:
        if (ctx_->cancel) ctx_->cancel(packet->cancel_pid, packet->cancel_secret);
        return std::optional<StartupPacket>();  // no answer: the connection just ends
      case StartupPacket::Kind::kStartup:
        return packet;
    }
  }
}

Status Connection::Startup() {
  PLEXUS_ASSIGN_OR_RETURN(auto startup, NegotiateStartup());
  if (!startup) return Closed("cancel request handled");
  std::string user = startup->Parameter("user");
  std::string database = startup->Parameter("database");
  if (database.empty()) database = user;
  if (over_limit_) {
    SendFatal("53300", "sorry, too many clients already");
    return Closed("too many clients");
  }
  if (ctx_->options.require_tls && tls_ == nullptr) {
    SendFatal("28000", "this server accepts only TLS connections: connect with sslmode=require");
    return Closed("TLS required");
  }
  if (user.empty()) {
    SendFatal("28000", "no PostgreSQL user name specified in startup packet");
    return Closed("no user");
  }
  if (startup->Parameter("replication") == "true" ||
      startup->Parameter("replication") == "database") {
    SendFatal("0A000", "replication connections are not supported");
    return Closed("replication");
  }
  PLEXUS_RETURN_IF_ERROR(Authenticate(user));
  if (database != "plexus") {
    SendFatal("3D000", "database \"" + database + "\" does not exist (connect to \"plexus\")");
    return Closed("unknown database");
  }
  return SendStartupAnswer(*startup);
}

Status Connection::SendStartupAnswer(const StartupPacket& startup) {
  for (const auto& [name, value] : startup.parameters) {
    if (name == "user" || name == "database" || name == "options" || name == "replication") {
      continue;
    }
    settings_.SetFromStartup(name, value);
  }
  out_.AuthenticationOk();
  bool version_sent = false;
  for (const auto& [name, value] : settings_.ReportedParameters()) {
    if (name == "server_version") version_sent = true;
    if (name == "session_authorization" || name == "is_superuser") continue;
    out_.ParameterStatus(name, value);
  }
  if (!version_sent) out_.ParameterStatus("server_version", kServerVersion);
  out_.ParameterStatus("session_authorization", principal_.name);
  out_.ParameterStatus("is_superuser", "off");
  out_.BackendKeyData(pid_, secret_);
  out_.ReadyForQuery('I');
  signed_in_ = true;
  LogConnection(true);
  return Flush();
}

// ---- Sign-in -----------------------------------------------------------------------------------

Status Connection::Authenticate(const std::string& user) {
  Status status = ctx_->options.allow_cleartext_password && tls_ != nullptr
                      ? AuthenticateCleartext(user)
                      : AuthenticateScram(user);
  if (status.code() == StatusCode::kUnauthenticated) {
    observe::Log(observe::LogLevel::kWarn, "pg.auth_failed",
                 {{"connection_id", connection_id_}, {"user", user}, {"tls", tls_ != nullptr}});
    SendFatal(kInvalidPassword, PasswordFailedMessage(user));
    return Closed("authentication failed");
  }
  PLEXUS_RETURN_IF_ERROR(status);
  auto principal = access::LoadPrincipal(*ctx_->catalog, user);
  if (!principal.ok()) {  // disabled between the verifier and now
    SendFatal(kInvalidPassword, PasswordFailedMessage(user));
    return Closed("authentication failed");
  }
  principal_ = std::move(principal).value();
  principal_policy_ = ctx_->queries->policy();
  return Status::OK();
}

namespace {
/// The verifier of an enabled principal; nullopt otherwise (the exchange then runs fake).
std::optional<std::string> VerifierOf(const catalog::Catalog& catalog, const std::string& user) {
  auto record = catalog.GetPrincipal(user);
  if (!record.ok() || record->disabled) return std::nullopt;
  auto verifier = catalog.GetScramVerifier(user);
  if (!verifier.ok()) return std::nullopt;
  return *verifier;
}

/// The body of a SASLInitialResponse: the mechanism, then the client-first-message.
Result<std::string> ReadSaslInitial(std::string_view body) {
  BodyReader reader(body);
  PLEXUS_ASSIGN_OR_RETURN(std::string mechanism, reader.CString());
  if (mechanism != "SCRAM-SHA-256") {
    return InvalidArgument("SASL mechanism " + mechanism + " is not supported: use SCRAM-SHA-256");
  }
  PLEXUS_ASSIGN_OR_RETURN(int32_t length, reader.Int32());
  if (length < 0) return InvalidArgument("malformed SASLInitialResponse: no client message");
  PLEXUS_ASSIGN_OR_RETURN(std::string_view data, reader.Bytes(static_cast<size_t>(length)));
  PLEXUS_RETURN_IF_ERROR(reader.ExpectEnd());
  return std::string(data);
}

Status ExpectPasswordMessage(const Message& message) {
  if (message.type != 'p') {
    return InvalidArgument(std::string("expected a password or SASL message, got type '") +
                           message.type + "'");
  }
  return Status::OK();
}
}  // namespace

Status Connection::AuthenticateScram(const std::string& user) {
  out_.AuthenticationSasl({"SCRAM-SHA-256"});
  auto exchange = ScramExchange::Start(user, VerifierOf(*ctx_->catalog, user));
  PLEXUS_ASSIGN_OR_RETURN(Message initial, NextMessage());
  PLEXUS_RETURN_IF_ERROR(ExpectPasswordMessage(initial));
  PLEXUS_ASSIGN_OR_RETURN(std::string client_first, ReadSaslInitial(initial.body));
  PLEXUS_ASSIGN_OR_RETURN(std::string server_first, exchange.ClientFirst(client_first));
  out_.AuthenticationSaslContinue(server_first);
  PLEXUS_ASSIGN_OR_RETURN(Message response, NextMessage());
  PLEXUS_RETURN_IF_ERROR(ExpectPasswordMessage(response));
  PLEXUS_ASSIGN_OR_RETURN(std::string server_final, exchange.ClientFinal(response.body));
  out_.AuthenticationSaslFinal(server_final);
  return Status::OK();
}

Status Connection::AuthenticateCleartext(const std::string& user) {
  out_.AuthenticationCleartextPassword();
  PLEXUS_ASSIGN_OR_RETURN(Message message, NextMessage());
  PLEXUS_RETURN_IF_ERROR(ExpectPasswordMessage(message));
  BodyReader reader(message.body);
  PLEXUS_ASSIGN_OR_RETURN(std::string password, reader.CString());
  PLEXUS_RETURN_IF_ERROR(reader.ExpectEnd());
  if (!VerifierOf(*ctx_->catalog, user)) return Unauthenticated("unknown user");
  return ctx_->catalog->VerifyPassword(user, password);
}

// ---- Message loop ------------------------------------------------------------------------------

Status Connection::MessageLoop() {
  while (!stopping_) {
    auto next = NextMessage();
    if (!next.ok()) {
      if (idle_expired_) {
        SendFatal("57P05", "terminating connection due to idle-session timeout");
      } else if (stopping_) {
        SendFatal("57P01", "terminating connection due to administrator command");
      }
      return next.status();
    }
    Message message = std::move(next).value();
    if (skip_to_sync_ && message.type != 'S' && message.type != 'X') continue;
    int64_t query_started = message.type == 'E' ? BeginQueryLog() : -1;
    Status status;
    switch (message.type) {
      case 'Q': status = SimpleQuery(message.body); break;
      case 'P': status = Parse(message.body); break;
      case 'B': status = Bind(message.body); break;
      case 'D': status = Describe(message.body); break;
      case 'E': status = Execute(message.body); break;
      case 'C': status = Close(message.body); break;
      case 'S': status = Sync(); break;
      case 'H': status = Flush(); break;
      case 'X': return Flush();
      case 'd': case 'c': case 'f': break;  // COPY FROM messages outside COPY: ignored
      case 'F':
        SendFailure({{"ERROR", "0A000", "function calls are not supported", "", ""}, false});
        skip_to_sync_ = false;
        out_.ReadyForQuery(TransactionStatus());
        break;
      default:
        return InvalidArgument(std::string("invalid frontend message type ") +
                               std::to_string(static_cast<uint8_t>(message.type)));
    }
    if (message.type == 'E') LogQuery(query_started, last_sqlstate_);
    PLEXUS_RETURN_IF_ERROR(status);
  }
  return Status::OK();
}

}  // namespace plexus::server::pg
