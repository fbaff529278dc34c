// A wire connection's statements: the simple query, session commands, result streaming.
// The extended protocol (Parse/Bind/Describe/Execute/Close/Sync) and COPY are in
// pg_connection_extended.cc.
#include <algorithm>

#include "plexus/access/sql_guard.h"
#include "plexus/observe/log.h"
#include "plexus/server/pg_connection.h"

namespace plexus::server::pg {

namespace {
constexpr size_t kFullChunkRows = 2048;  // DuckDB's vector size
constexpr size_t kPrefetchChunks = 4;    // fetched ahead of the socket: ~0.5-1 MB of rows
constexpr int64_t kRecheckMs = 60'000;   // an open portal's access is checked again this often

engine::ColumnInfo TextColumn(std::string name) {
  engine::ColumnInfo column;
  column.name = std::move(name);
  column.type_name = "VARCHAR";
  column.type_id = engine::TypeId::kVarchar;
  return column;
}
}  // namespace

std::vector<engine::ColumnInfo> SessionColumns(const Statement& statement) {
  if (statement.kind != StatementKind::kShow) return {};
  if (statement.name == "all") {
    return {TextColumn("name"), TextColumn("setting"), TextColumn("description")};
  }
  return {TextColumn(statement.name)};
}

char Connection::TransactionStatus() const { return transaction_; }

void Connection::BeginStatement() {
  cancel_requested_ = false;
  timed_out_ = false;
  int64_t now = SteadyMillis(Clock::now());
  int64_t timeout = StatementTimeoutMs();
  statement_deadline_ms_ = timeout > 0 ? now + timeout : -1;
  statement_since_ms_ = now;
}

void Connection::EndStatement() {
  statement_since_ms_ = -1;
  statement_deadline_ms_ = -1;
}

WireFailure Connection::FailureOf(const Status& status) {
  WireFailure failure;
  failure.fields.sqlstate = std::string(SqlStateFor(status.code()));
  failure.fields.message = access::ConsumerErrorMessage(status.message());
  return failure;
}

WireFailure Connection::FetchFailure(const Status& status) {
  if (cancel_requested_) {
    return {{"ERROR", "57014", "canceling statement due to user request", "", ""}, false};
  }
  if (timed_out_) {
    return {{"ERROR", "57014", "canceling statement due to statement timeout", "", ""}, false};
  }
  if (stopping_) {
    return {{"FATAL", "57P01", "terminating connection due to administrator command", "", ""},
            true};
  }
  return FailureOf(status);
}

void Connection::SendFailure(const WireFailure& failure) {
  last_sqlstate_ = failure.fields.sqlstate;
  if (transaction_ == 'T') transaction_ = 'E';
  out_.ErrorResponse(failure.fields);
}

void Connection::SendRowDescription(const std::vector<engine::ColumnInfo>& columns,
                                    const std::vector<int16_t>& formats) {
  RowEncoder encoder(columns, formats);
  std::vector<FieldDescription> fields;
  fields.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    const PgColumnType& type = encoder.column_types()[i];
    fields.push_back({columns[i].name, 0, 0, type.oid, type.size, type.typmod,
                      encoder.formats()[i]});
  }
  out_.RowDescription(fields);
}

void Connection::SendCompletion(const Statement& statement, int64_t rows) {
  std::string tag = statement.tag.empty() ? "SELECT" : statement.tag;
  last_rows_ = rows;
  out_.CommandComplete(tag + " " + std::to_string(rows));
}

// ---- Simple query ---------------------------------------------------------------------------

Status Connection::SimpleQuery(std::string_view body) {
  BodyReader reader(body);
  PLEXUS_ASSIGN_OR_RETURN(std::string sql, reader.CString());
  PLEXUS_RETURN_IF_ERROR(reader.ExpectEnd());
  statements_.erase("");  // a simple query drops the unnamed statement and portal
  portals_.erase("");
  for (const std::string& text : SplitStatements(sql)) {
    int64_t query_started = BeginQueryLog();
    auto failure = RunSimpleStatement(text);
    LogQuery(query_started, failure ? failure->fields.sqlstate : std::string());
    if (failure) {
      SendFailure(*failure);
      if (failure->fatal) {
        (void)Flush();
        return IOError("connection closed: " + failure->fields.message);
      }
      break;  // the rest of the string is not run, as in PostgreSQL
    }
    PLEXUS_RETURN_IF_ERROR(FlushIfFull());
  }
  out_.ReadyForQuery(TransactionStatus());
  return Flush();
}

std::optional<WireFailure> Connection::RunSimpleStatement(const std::string& text) {
  Statement statement = Classify(text);
  last_command_ = statement.tag;
  if (transaction_ == 'E' && statement.kind != StatementKind::kTransaction) {
    return WireFailure{{"ERROR", "25P02",
                        "current transaction is aborted, commands ignored until end of "
                        "transaction block", "", ""}, false};
  }
  switch (statement.kind) {
    case StatementKind::kEmpty:
      out_.EmptyQueryResponse();
      return std::nullopt;
    case StatementKind::kRefused:
      return Refuse(text, statement);
    case StatementKind::kData:
    case StatementKind::kCatalog:
      break;
    case StatementKind::kPrepare:
    case StatementKind::kExecute:
    case StatementKind::kDeallocate:
      return RunPreparedCommand(statement);
    case StatementKind::kDeclare:
    case StatementKind::kFetch:
    case StatementKind::kCloseCursor:
      return RunCursorCommand(statement, {}, nullptr);
    default:
      return RunSession(statement, true);
  }
  if (statement.kind == StatementKind::kData && statement.tag == "COPY") return RunCopy(statement);
  Portal portal;
  portal.statement = std::make_shared<WireStatement>();
  portal.statement->text = text;
  portal.statement->classified = std::move(statement);
  return RunPortalToEnd(portal);
}

std::optional<WireFailure> Connection::RunPortalToEnd(Portal& portal) {
  if (auto failure = StartPortal(portal)) return failure;
  SendRowDescription(portal.result()->columns(), {});
  auto more = SendRows(portal, 0);
  if (!more.ok()) return FetchFailure(more.status());
  SendCompletion(portal.statement->classified, portal.rows_sent);
  return std::nullopt;
}

// ---- Session commands -----------------------------------------------------------------------

std::optional<WireFailure> Connection::RunSession(const Statement& statement, bool describe) {
  WireError error;
  auto failed = [&] { return WireFailure{{"ERROR", error.sqlstate, error.message, "", ""}, false}; };
  auto report = [&](const std::string& name) {
    std::string value;
    WireError ignored;
    if (SessionSettings::IsReported(name) && settings_.Show(name, &value, &ignored)) {
      out_.ParameterStatus(SessionSettings::ReportedName(name), value);
    }
  };
  switch (statement.kind) {
    case StatementKind::kSet:
      if (!settings_.Set(statement.name, statement.value, &error)) return failed();
      report(statement.name);
      break;
    case StatementKind::kReset:
      if (!settings_.Reset(statement.name, &error)) return failed();
      if (statement.name == "all") {
        for (const auto& [name, value] : settings_.ReportedParameters()) {
          out_.ParameterStatus(name, value);
        }
      } else {
        report(statement.name);
      }
      break;
    case StatementKind::kShow: {
      std::vector<std::vector<std::string>> rows;
      if (statement.name == "all") {
        rows = settings_.ShowAll();
      } else {
        std::string value;
        if (!settings_.Show(statement.name, &value, &error)) return failed();
        rows.push_back({value});
      }
      if (describe) SendRowDescription(SessionColumns(statement), {});
      for (const auto& row : rows) {
        out_.BeginDataRow(static_cast<int16_t>(row.size()));
        for (const auto& cell : row) out_.DataValue(cell);
        out_.End();
      }
      out_.CommandComplete("SHOW");
      return std::nullopt;
    }
    case StatementKind::kTransaction:
      return RunTransaction(statement);
    default:
      break;
  }
  std::string tag = statement.tag;  // DISCARD ALL may drop the statement `statement` is in
  if (tag == "DISCARD ALL") statements_.clear();  // as DEALLOCATE ALL
  out_.CommandComplete(tag);
  return std::nullopt;
}

std::optional<WireFailure> Connection::RunTransaction(const Statement& statement) {
  std::string tag = statement.tag;
  auto warn = [&](std::string sqlstate, std::string message) {
    out_.NoticeResponse({"WARNING", std::move(sqlstate), std::move(message), "", ""});
  };
  switch (statement.transaction) {
    case TransactionEffect::kBegin:
      if (transaction_ != 'I') warn("25001", "there is already a transaction in progress");
      if (transaction_ == 'I') transaction_ = 'T';
      break;
    case TransactionEffect::kCommit:
      if (transaction_ == 'I') warn("25P01", "there is no transaction in progress");
      if (transaction_ == 'E') tag = "ROLLBACK";
      transaction_ = 'I';
      break;
    case TransactionEffect::kRollback:
      if (transaction_ == 'I') warn("25P01", "there is no transaction in progress");
      transaction_ = 'I';
      break;
    case TransactionEffect::kRollbackToSavepoint:
      if (transaction_ == 'E') transaction_ = 'T';
      break;
    default:
      if (transaction_ == 'E') {
        return WireFailure{{"ERROR", "25P02",
                            "current transaction is aborted, commands ignored until end of "
                            "transaction block", "", ""}, false};
      }
      break;
  }
  // The end of a transaction closes its portals and cursors (a held cursor may stay).
  if (transaction_ == 'I') {
    ClosePortals(statement.transaction == TransactionEffect::kRollback || tag == "ROLLBACK");
  }
  out_.CommandComplete(tag);
  return std::nullopt;
}

// ---- Running a query ------------------------------------------------------------------------

std::optional<WireFailure> Connection::RefreshPrincipal() {
  Status refreshed = ctx_->queries->Refresh();  // new publications, grants, principals' rights
  if (!refreshed.ok()) return FailureOf(refreshed);
  auto policy = ctx_->queries->policy();
  if (policy == principal_policy_) return std::nullopt;
  auto principal = access::LoadPrincipal(*ctx_->catalog, principal_.name);
  if (!principal.ok()) {
    return WireFailure{{"FATAL", "28000",
                        "principal \"" + principal_.name + "\" can no longer sign in", "", ""},
                       true};
  }
  principal_ = std::move(principal).value();
  principal_policy_ = std::move(policy);
  return std::nullopt;
}

std::optional<WireFailure> Connection::Refuse(std::string_view text, const Statement& statement) {
  access::QueryRequest request{&principal_, "wire", "", {}, nullptr};
  Status audited = ctx_->queries->AuditRefusal(
      request, text, Status(StatusCode::kPermissionDenied, statement.error.message));
  if (audited.code() == StatusCode::kInternal) return FailureOf(audited);
  return WireFailure{{"ERROR", statement.error.sqlstate, statement.error.message, "", ""}, false};
}

std::optional<WireFailure> Connection::StartPortal(Portal& portal) {
  if (auto failure = RefreshPrincipal()) return failure;
  BeginStatement();  // a cancel or the timeout may stop the query from here on
  auto failure = OpenPortal(portal);
  if (failure) EndStatement();
  portal.policy = principal_policy_;
  portal.checked_ms = SteadyMillis(Clock::now());
  return failure;
}

std::optional<WireFailure> Connection::RecheckPortal(Portal& portal) {
  if (portal.done || portal.cursor == nullptr) return std::nullopt;
  if (auto failure = RefreshPrincipal()) return failure;
  int64_t now = SteadyMillis(Clock::now());
  if (portal.policy == principal_policy_ && now - portal.checked_ms < kRecheckMs) {
    return std::nullopt;
  }
  access::QueryRequest request{&principal_, "wire", "", {}, &interrupter_};
  auto shape = ctx_->queries->Describe(request, portal.statement->classified.sql);
  if (!shape.ok()) {
    FinishPortal(portal, shape.status());
    return FailureOf(shape.status());
  }
  portal.policy = principal_policy_;
  portal.checked_ms = now;
  return std::nullopt;
}

std::optional<WireFailure> Connection::OpenPortal(Portal& portal) {
  const Statement& statement = portal.statement->classified;
  if (statement.kind == StatementKind::kData) {
    access::QueryRequest request{&principal_, "wire", "", {}, &interrupter_};
    auto cursor = ctx_->queries->Query(request, statement.sql, portal.parameters);
    if (!cursor.ok()) return FetchFailure(cursor.status());
    portal.cursor = std::move(cursor).value();
    for (const auto& warning : portal.cursor->query.warnings) {
      out_.NoticeResponse({"WARNING", "01P01", warning, "", ""});
    }
  } else if (portal.statement->catalog_statement != nullptr) {
    auto cursor = portal.statement->catalog_statement->Execute(portal.parameters);
    if (!cursor.ok()) return FailureOf(cursor.status());
    portal.catalog_cursor = std::move(cursor).value();
  } else {
    if (ctx_->metadata == nullptr) return FailureOf(Internal("the metadata catalog is not open"));
    auto cursor = ctx_->metadata->Query(principal_, statement.sql, portal.parameters);
    if (!cursor.ok()) return FailureOf(cursor.status());
    portal.catalog_cursor = std::move(cursor).value();
  }
  portal.encoder = std::make_unique<RowEncoder>(portal.result()->columns(), portal.result_formats);
  portal.started = true;
  return std::nullopt;
}

void Connection::FinishPortal(Portal& portal, const Status& status) {
  portal.done = true;
  portal.prefetch.reset();  // joins its thread: nothing reads the result after this
  portal.chunk.reset();
  if (portal.cursor != nullptr) portal.cursor->Finish(portal.rows_sent, status);
  portal.cursor.reset();  // the session goes back to the pool now
  portal.catalog_cursor.reset();
}

Result<std::unique_ptr<engine::DataChunk>> Connection::NextChunk(Portal& portal) {
  if (portal.prefetch != nullptr) return portal.prefetch->Next();
  auto chunk = portal.result()->Fetch();
  // A full first chunk of a data query: the answer is big, so DuckDB fetches the rest on its
  // own thread while this one encodes and sends (a small answer never starts a thread).
  if (chunk.ok() && *chunk != nullptr && portal.cursor != nullptr &&
      (*chunk)->size() >= kFullChunkRows) {
    portal.prefetch = std::make_unique<ChunkPrefetcher>(portal.result(), kPrefetchChunks);
  }
  return chunk;
}

Result<bool> Connection::SendRows(Portal& portal, int64_t max_rows, bool discard) {
  if (statement_since_ms_ < 0) BeginStatement();
  int64_t sent = 0;
  Status status;
  bool suspended = false;
  while (!portal.done) {
    if (portal.chunk == nullptr || portal.row >= portal.chunk->size()) {
      portal.chunk.reset();
      auto chunk = NextChunk(portal);
      if (!chunk.ok()) {
        status = chunk.status();
        break;
      }
      if (*chunk == nullptr) break;
      portal.chunk = std::move(chunk).value();
      portal.row = 0;
    }
    size_t n = portal.chunk->size() - portal.row;
    if (max_rows > 0) n = std::min<size_t>(n, static_cast<size_t>(max_rows - sent));
    if (!discard) {
      portal.encoder->AppendDataRows(*portal.chunk, portal.row, portal.row + n, out_.buffer());
      portal.rows_sent += static_cast<int64_t>(n);
    }
    portal.row += n;
    sent += static_cast<int64_t>(n);
    status = discard ? Status::OK() : FlushIfFull();
    if (!status.ok()) break;
    if (max_rows > 0 && sent >= max_rows) {
      suspended = true;
      break;
    }
  }
  EndStatement();
  portal.last_batch = sent;
  if (!status.ok()) {
    FinishPortal(portal, status);
    return status;
  }
  if (!suspended) FinishPortal(portal, Status::OK());
  return suspended;
}

// ---- Log lines ------------------------------------------------------------------------------

int64_t Connection::BeginQueryLog() {
  last_command_.clear();
  last_rows_ = -1;
  last_sqlstate_.clear();
  return SteadyMillis(Clock::now());
}

void Connection::LogQuery(int64_t started_ms, const std::string& sqlstate) {
  ++queries_;
  if (!observe::LogEnabled(sqlstate.empty() ? observe::LogLevel::kInfo : observe::LogLevel::kWarn)) {
    return;
  }
  nlohmann::json fields = {{"connection_id", connection_id_}, {"pid", pid_},
                           {"user", principal_.name},
                           {"command", last_command_.empty() ? "-" : last_command_},
                           {"ms", SteadyMillis(Clock::now()) - started_ms}};
  if (last_rows_ >= 0) fields["rows"] = last_rows_;
  if (!sqlstate.empty()) fields["sqlstate"] = sqlstate;
  observe::Log(sqlstate.empty() ? observe::LogLevel::kInfo : observe::LogLevel::kWarn,
               "pg.query", fields);
}

void Connection::LogConnection(bool open) {
  std::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  nlohmann::json fields = {{"connection_id", connection_id_}, {"pid", pid_},
                           {"user", principal_.name}, {"tls", tls_ != nullptr}};
  if (!ec) fields["remote"] = remote.address().to_string() + ":" + std::to_string(remote.port());
  if (open) {
    observe::Log(observe::LogLevel::kInfo, "pg.connect", fields);
    return;
  }
  fields["queries"] = queries_;
  fields["seconds"] = std::chrono::duration<double>(Clock::now() - opened_at_).count();
  observe::Log(observe::LogLevel::kInfo, "pg.disconnect", fields);
}

}  // namespace plexus::server::pg
