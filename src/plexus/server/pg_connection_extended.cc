// A wire connection's extended query protocol (Parse, Bind, Describe, Execute, Close, Sync)
// and COPY (SELECT ...) TO STDOUT.
#include <algorithm>
#include <cctype>

#include "plexus/server/pg_connection.h"

namespace plexus::server::pg {
namespace {

WireFailure Error(std::string sqlstate, std::string message) {
  return {{"ERROR", std::move(sqlstate), std::move(message), "", ""}, false};
}

/// An extended-protocol error: sent, then every message up to Sync is skipped.
#define PLEXUS_PG_FAIL(failure)  \
  do {                           \
    SendFailure(failure);        \
    skip_to_sync_ = true;        \
    return Status::OK();         \
  } while (false)

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

}  // namespace

// ---- Parse ----------------------------------------------------------------------------------

std::optional<WireFailure> Connection::Prepare(WireStatement& statement) {
  const Statement& classified = statement.classified;
  std::vector<engine::TypeId> types;
  if (auto failure = RefreshPrincipal()) return failure;
  switch (classified.kind) {
    case StatementKind::kRefused:
      return Refuse(statement.text, classified);
    case StatementKind::kData: {
      if (classified.tag == "COPY") break;  // no rows: CopyData
      access::QueryRequest request{&principal_, "wire", "", {}, &interrupter_};
      auto shape = ctx_->queries->Describe(request, classified.sql);
      if (!shape.ok()) return FailureOf(shape.status());
      statement.columns = shape->columns;
      types = shape->parameter_types;
      statement.returns_rows = true;
      break;
    }
    case StatementKind::kCatalog: {
      if (ctx_->metadata == nullptr) return FailureOf(Internal("the metadata catalog is not open"));
      auto prepared = ctx_->metadata->Prepare(principal_, classified.sql);
      if (!prepared.ok()) return FailureOf(prepared.status());
      statement.catalog_statement = std::move(prepared).value();
      statement.columns = statement.catalog_statement->columns();
      for (size_t i = 1; i <= statement.catalog_statement->parameter_count(); ++i) {
        types.push_back(statement.catalog_statement->parameter_type(i));
      }
      statement.returns_rows = true;
      break;
    }
    case StatementKind::kDeclare: {  // its parameters are its query's
      WireStatement query;
      query.text = classified.sql;
      query.classified = Classify(classified.sql);
      query.param_oids = statement.param_oids;
      if (query.classified.kind != StatementKind::kRefused && !IsQuery(query.classified)) {
        return Error("42601", "DECLARE CURSOR needs a query (SELECT, VALUES, WITH or TABLE)");
      }
      if (auto failure = Prepare(query)) return failure;
      statement.param_oids = query.param_oids;
      return std::nullopt;
    }
    case StatementKind::kFetch: {  // described as the cursor's rows, when it is open now
      auto cursor = portals_.find(classified.name);
      statement.returns_rows = classified.tag == "FETCH" && cursor != portals_.end() &&
                               cursor->second.statement->returns_rows;
      if (statement.returns_rows) statement.columns = cursor->second.statement->columns;
      break;
    }
    case StatementKind::kExecute: {  // described as the statement it names
      auto target = statements_.find(classified.name);
      if (target == statements_.end()) {
        return Error("26000", "prepared statement " + Quoted(classified.name) + " does not exist");
      }
      statement.columns = target->second->columns;
      statement.returns_rows = target->second->returns_rows;
      break;
    }
    default:
      statement.columns = SessionColumns(classified);
      statement.returns_rows = !statement.columns.empty();
  }
  statement.param_oids.resize(types.size(), oid::kUnspecified);
  for (size_t i = 0; i < types.size(); ++i) {
    if (statement.param_oids[i] == oid::kUnspecified) statement.param_oids[i] = ParameterOid(types[i]);
  }
  return std::nullopt;
}

Status Connection::Parse(std::string_view body) {
  BodyReader reader(body);
  PLEXUS_ASSIGN_OR_RETURN(std::string name, reader.CString());
  PLEXUS_ASSIGN_OR_RETURN(std::string sql, reader.CString());
  PLEXUS_ASSIGN_OR_RETURN(int16_t count, reader.Int16());
  auto statement = std::make_shared<WireStatement>();
  for (int16_t i = 0; i < count; ++i) {
    PLEXUS_ASSIGN_OR_RETURN(int32_t type_oid, reader.Int32());
    statement->param_oids.push_back(type_oid);
  }
  PLEXUS_RETURN_IF_ERROR(reader.ExpectEnd());
  if (!name.empty() && statements_.count(name) != 0) {
    PLEXUS_PG_FAIL(Error("42P05", "prepared statement " + Quoted(name) + " already exists"));
  }
  auto texts = SplitStatements(sql);
  if (texts.size() > 1) {
    PLEXUS_PG_FAIL(Error("42601", "cannot insert multiple commands into a prepared statement"));
  }
  statement->text = texts.empty() ? "" : texts[0];
  statement->classified = Classify(statement->text);
  if (transaction_ == 'E' && statement->classified.kind != StatementKind::kTransaction) {
    PLEXUS_PG_FAIL(Error("25P02", "current transaction is aborted, commands ignored until end "
                                  "of transaction block"));
  }
  if (auto failure = Prepare(*statement)) PLEXUS_PG_FAIL(*failure);
  statements_[name] = std::move(statement);
  out_.ParseComplete();
  return Status::OK();
}

// ---- Bind -----------------------------------------------------------------------------------

namespace {
Result<std::vector<int16_t>> ReadFormats(BodyReader& reader) {
  PLEXUS_ASSIGN_OR_RETURN(int16_t count, reader.Int16());
  if (count < 0) return InvalidArgument("negative format count in Bind");
  std::vector<int16_t> formats;
  for (int16_t i = 0; i < count; ++i) {
    PLEXUS_ASSIGN_OR_RETURN(int16_t format, reader.Int16());
    formats.push_back(format);
  }
  return formats;
}
}  // namespace

std::optional<WireFailure> DecodeParameters(const std::vector<int32_t>& oids,
                                            const std::vector<int16_t>& formats,
                                            const std::vector<std::optional<std::string_view>>& values,
                                            std::vector<engine::ParameterValue>* out) {
  for (size_t i = 0; i < values.size(); ++i) {
    int16_t format = formats.empty() ? 0 : formats[formats.size() == 1 ? 0 : i];
    auto value = DecodeParameter(i < oids.size() ? oids[i] : oid::kUnspecified, format, values[i]);
    if (!value.ok()) return Error("22P02", value.status().message());
    out->push_back(std::move(value).value());
  }
  return std::nullopt;
}

Status Connection::Bind(std::string_view body) {
  BodyReader reader(body);
  PLEXUS_ASSIGN_OR_RETURN(std::string portal_name, reader.CString());
  PLEXUS_ASSIGN_OR_RETURN(std::string statement_name, reader.CString());
  PLEXUS_ASSIGN_OR_RETURN(std::vector<int16_t> param_formats, ReadFormats(reader));
  PLEXUS_ASSIGN_OR_RETURN(int16_t count, reader.Int16());
  std::vector<std::optional<std::string_view>> values;
  for (int16_t i = 0; i < count; ++i) {
    PLEXUS_ASSIGN_OR_RETURN(int32_t length, reader.Int32());
    if (length < -1) return InvalidArgument("invalid parameter length in Bind");
    if (length == -1) {
      values.emplace_back(std::nullopt);
    } else {
      PLEXUS_ASSIGN_OR_RETURN(std::string_view value, reader.Bytes(static_cast<size_t>(length)));
      values.emplace_back(value);
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(std::vector<int16_t> result_formats, ReadFormats(reader));
  PLEXUS_RETURN_IF_ERROR(reader.ExpectEnd());

  auto it = statements_.find(statement_name);
  if (it == statements_.end()) {
    PLEXUS_PG_FAIL(Error("26000", "prepared statement " + Quoted(statement_name) +
                                      " does not exist"));
  }
  const auto& statement = it->second;
  if (values.size() != statement->param_oids.size()) {
    PLEXUS_PG_FAIL(Error("08P01", "bind message supplies " + std::to_string(values.size()) +
                                      " parameters, but prepared statement " +
                                      Quoted(statement_name) + " requires " +
                                      std::to_string(statement->param_oids.size())));
  }
  if (param_formats.size() > 1 && param_formats.size() != values.size()) {
    PLEXUS_PG_FAIL(Error("08P01", "bind message has " + std::to_string(param_formats.size()) +
                                      " parameter formats but " + std::to_string(values.size()) +
                                      " parameters"));
  }
  if (!RowEncoder::ValidFormats(result_formats, statement->columns.size())) {
    PLEXUS_PG_FAIL(Error("08P01", "bind message has " + std::to_string(result_formats.size()) +
                                      " result formats but query has " +
                                      std::to_string(statement->columns.size()) + " columns"));
  }
  if (!portal_name.empty() && portals_.count(portal_name) != 0) {
    PLEXUS_PG_FAIL(Error("42P03", "cursor " + Quoted(portal_name) + " already exists"));
  }
  Portal portal;
  portal.statement = statement;
  portal.result_formats = std::move(result_formats);
  if (auto failure = DecodeParameters(statement->param_oids, param_formats, values,
                                      &portal.parameters)) {
    PLEXUS_PG_FAIL(*failure);
  }
  portals_.erase(portal_name);
  portals_.emplace(portal_name, std::move(portal));
  out_.BindComplete();
  return Status::OK();
}

// ---- Describe, Execute, Close, Sync ---------------------------------------------------------

Status Connection::Describe(std::string_view body) {
  BodyReader reader(body);
  PLEXUS_ASSIGN_OR_RETURN(uint8_t what, reader.Byte());
  PLEXUS_ASSIGN_OR_RETURN(std::string name, reader.CString());
  PLEXUS_RETURN_IF_ERROR(reader.ExpectEnd());
  if (what == 'S') {
    auto it = statements_.find(name);
    if (it == statements_.end()) {
      PLEXUS_PG_FAIL(Error("26000", "prepared statement " + Quoted(name) + " does not exist"));
    }
    out_.ParameterDescription(it->second->param_oids);
    if (it->second->returns_rows) {
      SendRowDescription(it->second->columns, {});
    } else {
      out_.NoData();
    }
    return Status::OK();
  }
  if (what != 'P') return InvalidArgument("Describe of an unknown kind of object");
  auto it = portals_.find(name);
  if (it == portals_.end()) PLEXUS_PG_FAIL(Error("34000", "portal " + Quoted(name) + " does not exist"));
  if (it->second.statement->returns_rows) {
    SendRowDescription(it->second.statement->columns, it->second.result_formats);
  } else {
    out_.NoData();
  }
  return Status::OK();
}

Status Connection::Execute(std::string_view body) {
  BodyReader reader(body);
  PLEXUS_ASSIGN_OR_RETURN(std::string name, reader.CString());
  PLEXUS_ASSIGN_OR_RETURN(int32_t max_rows, reader.Int32());
  PLEXUS_RETURN_IF_ERROR(reader.ExpectEnd());
  auto it = portals_.find(name);
  if (it == portals_.end()) PLEXUS_PG_FAIL(Error("34000", "portal " + Quoted(name) + " does not exist"));
  Portal& portal = it->second;
  // Holds the statement while it runs: a command below may drop the portal or the name.
  std::shared_ptr<WireStatement> running = portal.statement;
  const Statement& statement = running->classified;
  last_command_ = statement.tag;
  if (transaction_ == 'E' && statement.kind != StatementKind::kTransaction) {
    PLEXUS_PG_FAIL(Error("25P02", "current transaction is aborted, commands ignored until end "
                                  "of transaction block"));
  }
  std::optional<WireFailure> failure;
  if (statement.kind == StatementKind::kEmpty) {
    out_.EmptyQueryResponse();
  } else if (statement.kind == StatementKind::kData && statement.tag == "COPY") {
    failure = RunCopy(statement);
  } else if (statement.kind == StatementKind::kPrepare ||
             statement.kind == StatementKind::kDeallocate) {
    failure = RunPreparedCommand(statement);
  } else if (statement.kind == StatementKind::kDeclare ||
             statement.kind == StatementKind::kFetch ||
             statement.kind == StatementKind::kCloseCursor) {
    std::vector<int16_t> formats = portal.result_formats;  // CLOSE may drop the portal
    failure = RunCursorCommand(statement, portal.parameters, &formats);
  } else if (statement.kind == StatementKind::kExecute) {  // first Execute of EXECUTE name(...)
    failure = BindExecute(statement, portal);               // the portal now runs that statement
    if (!failure && portal.statement->columns.size() != running->columns.size()) {
      portal.statement = running;  // as described at Parse; it fails again if run again
      failure = Error("0A000", "cached plan must not change result type");
    }
    if (!failure) failure = ExecutePortal(portal, max_rows);
  } else if (statement.kind != StatementKind::kData && statement.kind != StatementKind::kCatalog) {
    failure = RunSession(statement, false);
  } else if (portal.done) {
    SendCompletion(statement, 0);
  } else {
    failure = ExecutePortal(portal, max_rows);
  }
  if (failure) {
    if (failure->fatal) {
      SendFailure(*failure);
      (void)Flush();
      return IOError("connection closed: " + failure->fields.message);
    }
    PLEXUS_PG_FAIL(*failure);
  }
  return Status::OK();
}

std::optional<WireFailure> Connection::ExecutePortal(Portal& portal, int32_t max_rows) {
  if (!portal.started) {
    if (auto failure = StartPortal(portal)) return failure;
  } else if (auto failure = RecheckPortal(portal)) {
    return failure;
  }
  auto more = SendRows(portal, max_rows > 0 ? max_rows : 0);
  if (!more.ok()) return FetchFailure(more.status());
  if (*more) {
    out_.PortalSuspended();
  } else {
    SendCompletion(portal.statement->classified, portal.last_batch);  // this Execute's rows
  }
  return std::nullopt;
}

Status Connection::Close(std::string_view body) {
  BodyReader reader(body);
  PLEXUS_ASSIGN_OR_RETURN(uint8_t what, reader.Byte());
  PLEXUS_ASSIGN_OR_RETURN(std::string name, reader.CString());
  PLEXUS_RETURN_IF_ERROR(reader.ExpectEnd());
  if (what == 'S') {
    statements_.erase(name);
  } else if (what == 'P') {
    portals_.erase(name);
  } else {
    return InvalidArgument("Close of an unknown kind of object");
  }
  out_.CloseComplete();
  return Status::OK();
}

Status Connection::Sync() {
  skip_to_sync_ = false;
  // Outside a transaction block each Sync ends the implicit transaction, and its portals.
  if (transaction_ == 'I') ClosePortals(false);
  out_.ReadyForQuery(TransactionStatus());
  return Flush();
}

// ---- COPY (SELECT ...) TO STDOUT --------------------------------------------------------------

namespace {

struct CopyRequest {
  CopyOptions options = CopyOptions::Text();
  bool header = false;
};

/// The options after TO STDOUT: WITH (FORMAT csv, HEADER, DELIMITER ',', NULL '') or the old
/// spelling CSV HEADER. Words are compared in lower case; quoted values keep their case.
Result<CopyRequest> ParseCopyOptions(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto push = [&] {
    if (!word.empty()) words.push_back(word);
    word.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'') {
      push();
      size_t end = i + 1;
      std::string literal;
      while (end < text.size() && !(text[end] == '\'' && (end + 1 >= text.size() || text[end + 1] != '\''))) {
        if (text[end] == '\'') ++end;
        literal.push_back(text[end++]);
      }
      words.push_back("'" + literal);
      i = end;
    } else if (std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == ',' ||
               c == ';' || c == '=') {
      push();
    } else {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  push();
  CopyRequest request;
  auto literal = [&](size_t i) -> Result<std::string> {
    if (i >= words.size() || words[i].empty() || words[i][0] != '\'') {
      return InvalidArgument("COPY option " + words[i - 1] + " needs a quoted value");
    }
    return words[i].substr(1);
  };
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "with" || w == "stdout") continue;
    if (w == "csv" || (w == "format" && i + 1 < words.size() && words[i + 1] == "csv")) {
      char delimiter = request.options.delimiter == '\t' ? ',' : request.options.delimiter;
      request.options = CopyOptions::Csv();
      request.options.delimiter = delimiter;
      if (w == "format") ++i;
    } else if (w == "format" && i + 1 < words.size() && words[i + 1] == "text") {
      ++i;
    } else if (w == "format" || w == "binary") {
      return Status(StatusCode::kInvalidArgument, "COPY format binary is not supported: use text or csv");
    } else if (w == "header") {
      request.header = !(i + 1 < words.size() &&
                         (words[i + 1] == "false" || words[i + 1] == "off" || words[i + 1] == "0"));
      if (i + 1 < words.size() && (words[i + 1] == "true" || words[i + 1] == "on" ||
                                   words[i + 1] == "1" || !request.header)) {
        ++i;
      }
    } else if (w == "delimiter") {
      PLEXUS_ASSIGN_OR_RETURN(std::string value, literal(++i));
      if (value.size() != 1) return InvalidArgument("COPY delimiter must be a single one-byte character");
      request.options.delimiter = value[0];
    } else if (w == "null") {
      PLEXUS_ASSIGN_OR_RETURN(request.options.null_string, literal(++i));
    } else {
      return InvalidArgument("COPY option \"" + w + "\" is not supported");
    }
  }
  if (request.header && request.options.format != CopyOptions::Format::kCsv) {
    return InvalidArgument("COPY HEADER available only in CSV mode");
  }
  return request;
}

}  // namespace

std::optional<WireFailure> Connection::RunCopy(const Statement& statement) {
  auto copy = ParseCopyOptions(statement.value);
  if (!copy.ok()) return Error("0A000", copy.status().message());
  Portal portal;
  portal.statement = std::make_shared<WireStatement>();
  portal.statement->classified = statement;
  if (auto failure = StartPortal(portal)) return failure;
  const auto& columns = portal.result()->columns();
  out_.CopyOutResponse(static_cast<int16_t>(columns.size()));
  if (copy->header) {
    std::string line;
    portal.encoder->AppendCsvHeader(copy->options, line);
    out_.CopyData(line);
  }
  Status status;
  while (true) {
    auto chunk = NextChunk(portal);
    if (!chunk.ok()) {
      status = chunk.status();
      break;
    }
    if (*chunk == nullptr) break;
    portal.encoder->AppendCopyData(**chunk, 0, (*chunk)->size(), copy->options, out_.buffer());
    portal.rows_sent += static_cast<int64_t>((*chunk)->size());
    status = FlushIfFull();
    if (!status.ok()) break;
  }
  EndStatement();
  FinishPortal(portal, status);
  if (!status.ok()) return FetchFailure(status);
  out_.CopyDone();
  out_.CommandComplete("COPY " + std::to_string(portal.rows_sent));
  return std::nullopt;
}

}  // namespace plexus::server::pg
