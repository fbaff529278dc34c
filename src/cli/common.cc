#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/cli.h"
#include "plexus/server/server_file.h"

namespace plexus::cli {

Result<std::unique_ptr<catalog::Catalog>> Context::OpenCatalog() const {
  PLEXUS_ASSIGN_OR_RETURN(catalog::Home home, OpenHome());
  return catalog::Catalog::Open(home);
}

Result<access::Principal> Context::SignIn(catalog::Catalog& catalog) const {
  std::optional<std::string> secret = global.token;
  if (!secret.has_value()) {
    if (const char* env = std::getenv("PLEXUS_TOKEN"); env != nullptr) secret = env;
  }
  if (secret.has_value()) return access::AuthenticateToken(catalog, *secret);
  return LocalAdmin(catalog);
}

Result<std::optional<server::RemoteServer>> Context::Server() const {
  std::optional<std::string> token = global.token;
  if (!token.has_value()) {
    if (const char* env = std::getenv("PLEXUS_TOKEN"); env != nullptr) token = env;
  }
  std::string url = global.server;
  if (url.empty()) {
    if (const char* env = std::getenv("PLEXUS_SERVER"); env != nullptr) url = env;
  }
  auto found = server::FindServer(HomeDir());
  if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
  if (url.empty()) {
    if (!found.ok()) return std::optional<server::RemoteServer>();
    url = found->http_url;
  }
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  if (!token.has_value()) {
    // The home's admin token: only for the server that holds this very home.
    if (!found.ok() || found->http_url != url || found->admin_token.empty()) {
      return InvalidArgument("talking to the server at " + url +
                             " needs a token: --token or PLEXUS_TOKEN");
    }
    token = found->admin_token;
  }
  return std::optional<server::RemoteServer>(server::RemoteServer{url, *token});
}

Result<access::Principal> LocalAdmin(catalog::Catalog& catalog) {
  auto admin = catalog.GetPrincipal(kLocalAdmin);
  if (!admin.ok() && admin.status().code() == StatusCode::kNotFound) {
    catalog::PrincipalRecord record;
    record.name = kLocalAdmin;
    record.kind = "user";
    record.admin = true;
    PLEXUS_RETURN_IF_ERROR(catalog.CreatePrincipal(record, "local"));
  }
  return access::LoadPrincipal(catalog, kLocalAdmin);
}

Status AsActor(const Context& ctx, const AdminWork& work) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(access::Principal actor, ctx.SignIn(*catalog));
  access::AccessAdmin admin(catalog.get());
  return work(admin, actor);
}

void AdminLeaf(CLI::App* sub, Context& ctx, std::function<AdminWork()> make) {
  sub->callback([&ctx, make] { ctx.action = [&ctx, make] { return AsActor(ctx, make()); }; });
}

void PrintProblems(const std::vector<spec::Diagnostic>& problems) {
  for (const auto& problem : problems) std::cerr << problem.ToString() << "\n";
}

struct ProgressLine::State {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool drawn = false;
  std::string label, detail;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::thread watcher;
  FiguresSource source;

  static int Columns() {
    winsize size{};
    return ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
  }

  /// The bar's text from the source, sized to the terminal (mu held).
  std::string Figures(double elapsed) {
    observe::ProgressFigures figures = source();
    if (figures.elapsed_s <= 0) figures.elapsed_s = elapsed;
    int width = std::clamp(Columns() - static_cast<int>(label.size()) - 48, 0, 30);
    std::string text = observe::FormatProgress(figures, width < 8 ? 0 : width);
    return text.empty() ? "" : "  " + text;
  }

  /// Redraws the line (mu held).
  void Draw() {
    if (label.empty()) return;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto elapsed = static_cast<int64_t>(seconds);
    std::string figures = source ? Figures(seconds) : "";
    std::string line = label + (detail.empty() ? "" : "  " + detail) + figures;
    if (figures.find("ETA") == std::string::npos) line += "  (" + std::to_string(elapsed) + "s)";
    if (static_cast<int>(line.size()) >= Columns()) line.resize(Columns() - 1);  // no wrapping
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    drawn = true;
  }
  void Erase() {
    if (!drawn) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn = false;
  }
};

ProgressLine::ProgressLine() : active_(isatty(STDERR_FILENO) != 0) {
  if (!active_) return;
  state_ = std::make_unique<State>();
  state_->watcher = std::thread([s = state_.get()] {
    std::unique_lock lock(s->mu);
    while (!s->stop) {
      s->cv.wait_for(lock, std::chrono::milliseconds(150));
      if (!s->stop) s->Draw();
    }
  });
}

ProgressLine::~ProgressLine() {
  if (!active_) return;
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
    state_->Erase();
  }
  state_->cv.notify_all();
  state_->watcher.join();
}

void ProgressLine::Begin(const std::string& label) {
  if (!active_) return;
  std::lock_guard lock(state_->mu);
  state_->label = label;
  state_->detail.clear();
  state_->start = std::chrono::steady_clock::now();
  state_->Draw();
}

void ProgressLine::Show(const std::string& detail) {
  if (!active_) return;
  std::lock_guard lock(state_->mu);
  state_->detail = detail;
  state_->Draw();
}

void ProgressLine::ShowEvents(int64_t events, int64_t batches) {
  if (!active_) return;
  double seconds = 0;
  {
    std::lock_guard lock(state_->mu);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - state_->start)
                  .count();
  }
  auto rate = static_cast<int64_t>(seconds > 0 ? static_cast<double>(events) / seconds : 0);
  Show(std::to_string(events) + " events applied, " + std::to_string(rate) + " events/s, " +
       std::to_string(batches) + (batches == 1 ? " batch" : " batches"));
}

void ProgressLine::Track(FiguresSource source) {
  if (!active_) return;
  std::lock_guard lock(state_->mu);
  state_->source = std::move(source);
}

void ProgressLine::Clear() {
  if (!active_) return;
  std::lock_guard lock(state_->mu);
  state_->label.clear();
  state_->detail.clear();
  state_->Erase();
}

Result<std::unique_ptr<observe::ObserveService>> ObserveLocalRuns(const catalog::Home& home,
                                                                  catalog::Catalog* catalog) {
  observe::ObserveOptions options;
  options.evaluate = false;  // SLOs are plexus serve's
  return observe::ObserveService::Start(home, catalog, options);
}

}  // namespace plexus::cli
