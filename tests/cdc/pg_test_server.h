// File: tests/cdc/pg_test_server.h
//
// A throwaway PostgreSQL 15 server for tests: initdb in a temporary folder, wal_level =
// logical, listening on a free port of 127.0.0.1 (trust authentication, loopback only),
// stopped and removed when the object goes. As root, the server runs as the `postgres` user
// (PostgreSQL refuses root). A server that cannot start is an error the test reports: no skip.
//
//   std::string error;
//   auto pg = PgTestServer::Start(&error);
//   ASSERT_TRUE(pg) << error;
//   pg->Sql("CREATE TABLE t (id int PRIMARY KEY)");
#pragma once

#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace plexus::testing {

class PgTestServer {
 public:
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

  static std::unique_ptr<PgTestServer> Start(std::string* error,
                                             const std::string& wal_level = "logical") {
    auto server = std::unique_ptr<PgTestServer>(new PgTestServer());
    char tmpl[] = "/tmp/plexus-pg-XXXXXX";
    if (!mkdtemp(tmpl)) {
      *error = "mkdtemp failed";
      return nullptr;
    }
    server->dir_ = tmpl;
    server->port_ = FreePort();
    std::string bin = kBinDir;
    if (!std::filesystem::exists(bin + "/initdb")) {
      *error = bin + "/initdb is missing: install postgresql-15 (scripts/bootstrap.sh)";
      return nullptr;
    }
    std::string as_user;
    if (geteuid() == 0) {
      passwd* pw = getpwnam("postgres");
      if (!pw) {
        *error = "running as root and there is no postgres user to run PostgreSQL as";
        return nullptr;
      }
      if (chown(tmpl, pw->pw_uid, pw->pw_gid) != 0) {
        *error = "cannot chown " + server->dir_;
        return nullptr;
      }
      as_user = "runuser -u postgres -- ";
    }
    std::string data = server->dir_ + "/data";
    std::string log = server->dir_ + "/server.log";
    if (!server->Run(as_user + bin + "/initdb -D " + data +
                         " -U postgres --auth=trust --no-sync -E UTF8 --locale=C",
                     error)) {
      return nullptr;
    }
    {
      std::ofstream conf(data + "/postgresql.conf", std::ios::app);
      conf << "listen_addresses = '127.0.0.1'\nport = " << server->port_
           << "\nunix_socket_directories = '" << server->dir_ << "'\nwal_level = " << wal_level
           << "\nmax_replication_slots = 20\nmax_wal_senders = 20\nfsync = off\n"
           << "full_page_writes = off\ntimezone = 'UTC'\n";
    }
    server->stop_ = as_user + bin + "/pg_ctl -D " + data + " -m immediate stop";
    if (!server->Run(as_user + bin + "/pg_ctl -D " + data + " -l " + log + " -w -t 60 start",
                     error)) {
      std::ifstream in(log);
      *error += "\n" + std::string(std::istreambuf_iterator<char>(in), {});
      server->stop_.clear();
      return nullptr;
    }
    return server;
  }

  ~PgTestServer() {
    if (!stop_.empty()) std::system((stop_ + " >/dev/null 2>&1").c_str());
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  int port() const { return port_; }
  std::string Dsn(const std::string& db = "postgres") const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + db;
  }

  /// Runs `sql` (several statements allowed); "" on success, else the server's message.
  std::string Sql(const std::string& sql) const {
    std::vector<std::vector<std::string>> rows;
    return Query(sql, &rows);
  }

  /// Runs `sql`; the last statement's rows as text ("" for NULL).
  std::string Query(const std::string& sql, std::vector<std::vector<std::string>>* rows) const {
    PGconn* conn = PQconnectdb(Dsn().c_str());
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
      error = PQerrorMessage(conn);
    } else {
      PGresult* r = PQexec(conn, sql.c_str());
      auto st = PQresultStatus(r);
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        error = PQresultErrorMessage(r);
      } else {
        for (int i = 0; i < PQntuples(r); ++i) {
          rows->emplace_back();
          for (int c = 0; c < PQnfields(r); ++c) rows->back().push_back(PQgetvalue(r, i, c));
        }
      }
      PQclear(r);
    }
    PQfinish(conn);
    return error;
  }

 private:
  PgTestServer() = default;

  bool Run(const std::string& command, std::string* error) {
    std::string out = dir_ + "/command.out";
    int rc = std::system((command + " >" + out + " 2>&1").c_str());
    if (rc == 0) return true;
    std::ifstream in(out);
    *error = "`" + command + "` failed (" + std::to_string(rc) +
             "): " + std::string(std::istreambuf_iterator<char>(in), {});
    return false;
  }

  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
  }

  std::string dir_;
  std::string stop_;
  int port_ = 0;
};

}  // namespace plexus::testing
