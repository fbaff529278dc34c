// File: plexus/server/server_file.h
//
// How the CLI finds a running `plexus serve` of its home: the server writes
// <home>/server.json (mode 0600: it holds a token of the home's admin) when it starts and
// removes it when it stops; a file whose process is gone (a crash) is stale and ignored.
//
//   PLEXUS_ASSIGN_OR_RETURN(auto published, PublishedServer::Publish(home, catalog, urls));
//   ... serve ...               // the destructor removes the file and revokes the token
//
//   auto found = FindServer(home_dir);  // the CLI: kNotFound when no live server
//
// The admin token is the local CLI's identity through the server: whoever can read the
// home's files is its owner (the same rule as the local CLI without a token). It is issued
// for the home's admin `admin` when the server starts, expires after kServerTokenDays, and
// is revoked when the server stops.
#pragma once

#include <memory>
#include <string>

#include "plexus/catalog/catalog.h"
#include "plexus/catalog/home.h"
#include "plexus/common/status.h"

namespace plexus::server {

/// What <home>/server.json says.
struct ServerFile {
  int64_t pid = 0;
  std::string http_url;     ///< http://127.0.0.1:8080
  std::string pg_url;       ///< postgresql://127.0.0.1:5433/plexus; empty when not served
  std::string admin_token;  ///< the home's admin, for the local CLI
};

inline constexpr int kServerTokenDays = 30;

/// <home>/server.json
std::string ServerFilePath(const std::string& home_root);

/// The live server of a home: kNotFound when there is no file, or its process is gone;
/// kInvalidArgument when the file is not one we wrote.
Result<ServerFile> FindServer(const std::string& home_root);

/// A published server file; removes it and revokes its token when destroyed. The catalog
/// must outlive it.
class PublishedServer {
 public:
  /// Issues the admin token (creating the home's admin `admin` when missing) and writes the
  /// file with this process's pid, atomically and with mode 0600.
  static Result<std::unique_ptr<PublishedServer>> Publish(const catalog::Home& home,
                                                          catalog::Catalog* catalog,
                                                          const std::string& http_url,
                                                          const std::string& pg_url = "");
  ~PublishedServer();
  PublishedServer(const PublishedServer&) = delete;
  PublishedServer& operator=(const PublishedServer&) = delete;

 private:
  PublishedServer(std::string path, catalog::Catalog* catalog, std::string token_id)
      : path_(std::move(path)), catalog_(catalog), token_id_(std::move(token_id)) {}
  std::string path_;
  catalog::Catalog* catalog_;
  std::string token_id_;
};

}  // namespace plexus::server
