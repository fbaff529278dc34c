// A wire connection's SQL-level prepared statements: PREPARE name [(type, ...)] AS query,
// EXECUTE name [(constant, ...)], DEALLOCATE [PREPARE] name | ALL. psql has no other way to
// run a statement with parameters. They share the session's statements with Parse, as in
// PostgreSQL (a PREPAREd name may be Bound, a Parsed one EXECUTEd), and run through the same
// door as any query: Prepare() describes the query through the QueryService (the guard), and
// EXECUTE runs a portal whose parameters are the arguments decoded as Bind decodes them.
#include "plexus/server/pg_connection.h"

namespace plexus::server::pg {
namespace {

WireFailure Error(std::string sqlstate, std::string message, std::string detail = "") {
  return {{"ERROR", std::move(sqlstate), std::move(message), std::move(detail), ""}, false};
}

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

}  // namespace

std::optional<WireFailure> Connection::RunPreparedCommand(const Statement& statement) {
  switch (statement.kind) {
    case StatementKind::kPrepare:
      return PrepareNamed(statement);
    case StatementKind::kDeallocate:
      return Deallocate(statement);
    case StatementKind::kExecute: {
      Portal portal;
      if (auto failure = BindExecute(statement, portal)) return failure;
      return RunPortalToEnd(portal);
    }
    default:
      return Error("XX000", "not a prepared-statement command");
  }
}

std::optional<WireFailure> Connection::PrepareNamed(const Statement& statement) {
  if (statements_.count(statement.name) != 0) {
    return Error("42P05", "prepared statement " + Quoted(statement.name) + " already exists");
  }
  auto prepared = std::make_shared<WireStatement>();
  prepared->text = statement.sql;
  prepared->classified = Classify(statement.sql);
  const Statement& query = prepared->classified;
  if (query.kind == StatementKind::kRefused) return Refuse(statement.sql, query);
  if (query.kind == StatementKind::kEmpty) return Error("42601", "syntax error at end of input");
  if (!IsQuery(query)) {
    return Error("0A000", "PREPARE accepts a query here (SELECT, VALUES, WITH or TABLE), not " +
                              (query.tag.empty() ? std::string("this statement") : query.tag));
  }
  prepared->param_oids = statement.parameter_oids;
  if (auto failure = Prepare(*prepared)) return failure;  // the guard decides, now
  statements_[statement.name] = std::move(prepared);
  out_.CommandComplete("PREPARE");
  return std::nullopt;
}

std::optional<WireFailure> Connection::Deallocate(const Statement& statement) {
  if (statement.tag == "DEALLOCATE ALL") {
    statements_.clear();
  } else if (statements_.erase(statement.name) == 0) {
    return Error("26000", "prepared statement " + Quoted(statement.name) + " does not exist");
  }
  out_.CommandComplete(statement.tag);
  return std::nullopt;
}

std::optional<WireFailure> Connection::BindExecute(const Statement& execute, Portal& portal) {
  auto it = statements_.find(execute.name);
  if (it == statements_.end()) {
    return Error("26000", "prepared statement " + Quoted(execute.name) + " does not exist");
  }
  std::shared_ptr<WireStatement> target = it->second;
  if (!IsQuery(target->classified)) {
    return Error("0A000", "EXECUTE runs prepared queries only: " + Quoted(execute.name) +
                              " is not one");
  }
  size_t expected = target->param_oids.size();
  if (execute.arguments.size() != expected) {
    return Error("42601", "wrong number of parameters for prepared statement " +
                              Quoted(execute.name),
                 "Expected " + std::to_string(expected) + " parameters but got " +
                     std::to_string(execute.arguments.size()) + ".");
  }
  // Each argument as a text-format Bind value of the parameter's type (or of its own cast
  // when the statement left the type open).
  std::vector<int32_t> oids;
  std::vector<std::optional<std::string_view>> values;
  for (size_t i = 0; i < expected; ++i) {
    const LiteralArgument& arg = execute.arguments[i];
    oids.push_back(target->param_oids[i] != oid::kUnspecified ? target->param_oids[i]
                                                               : arg.type_oid);
    values.push_back(arg.is_null ? std::nullopt : std::optional<std::string_view>(arg.text));
  }
  std::vector<engine::ParameterValue> parameters;
  if (auto failure = DecodeParameters(oids, {}, values, &parameters)) return failure;
  portal.statement = std::move(target);
  portal.parameters = std::move(parameters);
  return std::nullopt;
}

}  // namespace plexus::server::pg
