#include "plexus/server/pg_server.h"

#include <sys/socket.h>

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "plexus/access/query_service.h"
#include "plexus/catalog/crypto.h"
#include "plexus/server/pg_connection.h"
#include "plexus/server/pg_tls.h"

namespace plexus::server {

/// Connections over max_connections still get a thread (to say 53300 after TLS, as
/// PostgreSQL does), up to this many more; beyond, the socket is closed at once.
constexpr int kExtraThreads = 128;

struct PgServer::State {
  explicit State(catalog::Home h) : home(std::move(h)) {}
  catalog::Home home;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<access::QueryService> queries;
  std::unique_ptr<pg::MetadataCatalog> metadata;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io};
  asio::ssl::context tls{asio::ssl::context::tls_server};
  pg::ServerContext context;
  int port = 0;

  std::mutex mu;
  std::condition_variable idle;
  std::map<int32_t, std::shared_ptr<pg::Connection>> connections;  // guarded by mu
  int threads = 0;                                                  // guarded by mu
  int32_t next_pid = 0;                                             // guarded by mu
  bool stopping = false;                                            // guarded by mu
  std::thread accept_thread;
  std::thread watchdog_thread;

  void AcceptLoop(const std::shared_ptr<State>& self);
  void Serve(const std::shared_ptr<State>& self, asio::ip::tcp::socket socket);
  void Watchdog();
  void Cancel(int32_t pid, int32_t secret);
};

void PgServer::State::Cancel(int32_t pid, int32_t secret) {
  std::shared_ptr<pg::Connection> target;
  {
    std::lock_guard lock(mu);
    auto it = connections.find(pid);
    if (it != connections.end() && it->second->secret() == secret) target = it->second;
  }
  if (target != nullptr) target->Cancel();  // a wrong secret is ignored, as in PostgreSQL
}

void PgServer::State::Serve(const std::shared_ptr<State>& self, asio::ip::tcp::socket socket) {
  std::shared_ptr<pg::Connection> connection;
  {
    std::unique_lock lock(mu);
    if (stopping || threads >= context.options.max_connections + kExtraThreads) return;
    bool over_limit = static_cast<int>(connections.size()) >= context.options.max_connections;
    auto secret = catalog::internal::RandomBytes(4);
    int32_t secret_value = 0;
    if (secret.ok()) std::memcpy(&secret_value, secret->data(), 4);
    do {
      next_pid = next_pid >= 0x7ffffff0 ? 1000 : next_pid + 1;
    } while (connections.count(next_pid) != 0);
    connection = std::make_shared<pg::Connection>(&context, std::move(socket), next_pid,
                                                  secret_value, over_limit);
    if (!over_limit) connections[next_pid] = connection;
    ++threads;
  }
  std::thread([self, connection] {
    connection->Run();
    std::lock_guard lock(self->mu);
    auto it = self->connections.find(connection->pid());
    if (it != self->connections.end() && it->second == connection) self->connections.erase(it);
    --self->threads;
    self->idle.notify_all();
  }).detach();
}

void PgServer::State::AcceptLoop(const std::shared_ptr<State>& self) {
  while (true) {
    asio::ip::tcp::socket socket(io);
    std::error_code ec;
    acceptor.accept(socket, ec);
    {
      std::lock_guard lock(mu);
      if (stopping) return;
    }
    if (ec) {  // e.g. out of file descriptors: wait a little rather than spin
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    Serve(self, std::move(socket));
  }
}

void PgServer::State::Watchdog() {
  std::unique_lock lock(mu);
  while (!stopping) {
    idle.wait_for(lock, std::chrono::milliseconds(100));
    auto now = std::chrono::steady_clock::now();
    for (auto& [pid, connection] : connections) connection->Tick(now);
  }
}

PgServer::PgServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

PgServer::~PgServer() { Stop(); }

int PgServer::port() const { return state_->port; }
bool PgServer::tls() const { return state_->context.tls != nullptr; }

void PgServer::Stop() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopping) return;
    state_->stopping = true;
    for (auto& [pid, connection] : state_->connections) connection->Shutdown();
  }
  // Wakes the blocked accept(); close() alone does not on Linux.
  ::shutdown(state_->acceptor.native_handle(), SHUT_RDWR);
  if (state_->accept_thread.joinable()) state_->accept_thread.join();
  state_->idle.notify_all();
  if (state_->watchdog_thread.joinable()) state_->watchdog_thread.join();
  std::error_code ec;
  state_->acceptor.close(ec);
  std::unique_lock lock(state_->mu);
  state_->idle.wait(lock, [&] { return state_->threads == 0; });
}

namespace {

Status ConfigureTls(asio::ssl::context& tls, const std::string& cert, const std::string& key) {
  std::error_code ec;
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                  ec);
  tls.use_certificate_chain_file(cert, ec);
  if (ec) return InvalidArgument("cannot read the TLS certificate " + cert + ": " + ec.message());
  tls.use_private_key_file(key, asio::ssl::context::pem, ec);
  if (ec) return InvalidArgument("cannot read the TLS key " + key + ": " + ec.message());
  return Status::OK();
}

Status Listen(asio::ip::tcp::acceptor& acceptor, const PgOptions& options) {
  std::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return InvalidArgument("invalid --pg-host " + options.host + ": " + ec.message());
  asio::ip::tcp::endpoint endpoint(address, static_cast<uint16_t>(options.port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return IOError("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                   " for the PostgreSQL wire protocol: " + ec.message());
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<PgServer>> PgServer::Start(const catalog::Home& home,
                                                  const PgOptions& options, PgShared shared) {
  if (options.max_connections < 1) return InvalidArgument("--max-connections must be at least 1");
  if (options.port < 0 || options.port > 65535) return InvalidArgument("invalid --pg-port");
  auto state = std::make_shared<State>(home);
  PLEXUS_ASSIGN_OR_RETURN(auto files, pg::TlsFiles(home.root(), options.tls_cert, options.tls_key));
  PLEXUS_RETURN_IF_ERROR(ConfigureTls(state->tls, files.first, files.second));
  if (shared.catalog == nullptr) {
    PLEXUS_ASSIGN_OR_RETURN(state->catalog, catalog::Catalog::Open(home));
    shared.catalog = state->catalog.get();
  }
  if (shared.queries == nullptr) {
    PLEXUS_ASSIGN_OR_RETURN(state->queries, access::QueryService::Open(home, shared.catalog));
    shared.queries = state->queries.get();
  }
  PLEXUS_ASSIGN_OR_RETURN(state->metadata, pg::MetadataCatalog::Create(shared.queries));
  PLEXUS_RETURN_IF_ERROR(Listen(state->acceptor, options));
  state->port = state->acceptor.local_endpoint().port();
  state->context.catalog = shared.catalog;
  state->context.queries = shared.queries;
  state->context.metadata = state->metadata.get();
  state->context.options = options;
  state->context.tls = &state->tls;
  State* raw = state.get();
  state->context.cancel = [raw](int32_t pid, int32_t secret) { raw->Cancel(pid, secret); };
  state->accept_thread = std::thread([state] { state->AcceptLoop(state); });
  state->watchdog_thread = std::thread([raw] { raw->Watchdog(); });
  return std::unique_ptr<PgServer>(new PgServer(std::move(state)));
}

}  // namespace plexus::server
