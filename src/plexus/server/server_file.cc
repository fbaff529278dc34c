#include "plexus/server/server_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "plexus/common/file.h"

namespace plexus::server {
namespace {

using nlohmann::json;

constexpr const char* kAdmin = "admin";  // the home's mesh admin, as the local CLI names it

bool ProcessAlive(int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

/// YYYY-MM-DD, `days` from now (UTC).
std::string DateInDays(int days) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                       std::chrono::hours(24 * days));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday);
  return buf;
}

/// Writes `text` to `path` with mode 0600 through a temporary file and a rename.
Status WritePrivate(const std::string& path, const std::string& text) {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IOError("cannot write " + temp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(temp.c_str());
      return IOError("cannot write " + temp);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return IOError("cannot write " + path);
  }
  return Status::OK();
}

/// The admin's token for the local CLI: "plx_<id>_<secret>"; `id` receives its id.
Result<std::string> IssueAdminToken(catalog::Catalog& catalog, std::string& id) {
  auto admin = catalog.GetPrincipal(kAdmin);
  if (!admin.ok() && admin.status().code() == StatusCode::kNotFound) {
    catalog::PrincipalRecord record;
    record.name = kAdmin;
    record.kind = "user";
    record.admin = true;
    PLEXUS_RETURN_IF_ERROR(catalog.CreatePrincipal(record, "local"));
  } else if (!admin.ok()) {
    return admin.status();
  }
  std::string label = "plexus serve (pid " + std::to_string(::getpid()) + "), local CLI";
  PLEXUS_ASSIGN_OR_RETURN(std::string secret,
                          catalog.IssueToken(kAdmin, label, DateInDays(kServerTokenDays), kAdmin));
  size_t start = secret.find('_') + 1;
  id = secret.substr(start, secret.find('_', start) - start);
  return secret;
}

}  // namespace

std::string ServerFilePath(const std::string& home_root) { return home_root + "/server.json"; }

Result<ServerFile> FindServer(const std::string& home_root) {
  std::string path = ServerFilePath(home_root);
  if (!std::filesystem::exists(path)) return NotFound("no server.json in " + home_root);
  PLEXUS_ASSIGN_OR_RETURN(std::string text, ReadFileText(path));
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.value("pid", json()).is_number_integer() ||
      !doc.value("http_url", json()).is_string()) {
    return InvalidArgument(path + " is not a plexus server file");
  }
  ServerFile file;
  file.pid = doc["pid"].get<int64_t>();
  file.http_url = doc["http_url"].get<std::string>();
  file.pg_url = doc.value("pg_url", "");
  file.admin_token = doc.value("admin_token", "");
  if (!ProcessAlive(file.pid)) return NotFound(path + " is stale: process gone");
  return file;
}

Result<std::unique_ptr<PublishedServer>> PublishedServer::Publish(const catalog::Home& home,
                                                                  catalog::Catalog* catalog,
                                                                  const std::string& http_url,
                                                                  const std::string& pg_url) {
  std::string token_id;
  PLEXUS_ASSIGN_OR_RETURN(std::string token, IssueAdminToken(*catalog, token_id));
  std::unique_ptr<PublishedServer> published(
      new PublishedServer(ServerFilePath(home.root()), catalog, token_id));
  json doc = {{"pid", static_cast<int64_t>(::getpid())},
              {"http_url", http_url},
              {"pg_url", pg_url},
              {"admin_token", token}};
  PLEXUS_RETURN_IF_ERROR(WritePrivate(published->path_, doc.dump(2) + "\n"));
  return published;
}

PublishedServer::~PublishedServer() {
  auto found = FindServer(std::filesystem::path(path_).parent_path().string());
  if (found.ok() && found->pid == ::getpid()) ::unlink(path_.c_str());
  (void)catalog_->RevokeToken(token_id_, kAdmin);  // best effort at exit
}

}  // namespace plexus::server
