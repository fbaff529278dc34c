// A wire connection's SQL-level cursors: DECLARE name CURSOR FOR query, FETCH / MOVE, CLOSE.
// psql's FETCH_COUNT and psycopg2's named cursors read big answers through them a page at a
// time. A cursor is a portal (pg_connection.h) named by DECLARE: its query goes through the
// same door as any other (the guard decides at DECLARE, the audit record of the query is
// written then, and its rows count is recorded when the cursor closes or runs out), and
// FETCH streams the open answer chunk by chunk, as Execute with a row limit does.
#include "plexus/server/pg_connection.h"

namespace plexus::server::pg {
namespace {

WireFailure Error(std::string sqlstate, std::string message) {
  return {{"ERROR", std::move(sqlstate), std::move(message), "", ""}, false};
}

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

}  // namespace

std::optional<WireFailure> Connection::RunCursorCommand(
    const Statement& statement, std::vector<engine::ParameterValue> parameters,
    const std::vector<int16_t>* formats) {
  switch (statement.kind) {
    case StatementKind::kDeclare:
      return DeclareCursor(statement, std::move(parameters));
    case StatementKind::kFetch:
      return FetchCursor(statement, formats);
    case StatementKind::kCloseCursor:
      return CloseCursor(statement);
    default:
      return Error("XX000", "not a cursor command");
  }
}

std::optional<WireFailure> Connection::DeclareCursor(const Statement& declare,
                                                     std::vector<engine::ParameterValue> parameters) {
  if (!declare.hold && transaction_ == 'I') {
    return Error("25P01", "DECLARE CURSOR can only be used in transaction blocks");
  }
  if (portals_.count(declare.name) != 0) {
    return Error("42P03", "cursor " + Quoted(declare.name) + " already exists");
  }
  auto query = std::make_shared<WireStatement>();
  query->text = declare.sql;
  query->classified = Classify(declare.sql);
  if (query->classified.kind == StatementKind::kRefused) {
    return Refuse(declare.sql, query->classified);
  }
  if (!IsQuery(query->classified)) {
    return Error("42601", "DECLARE CURSOR needs a query (SELECT, VALUES, WITH or TABLE)");
  }
  Portal portal;
  portal.statement = query;
  portal.parameters = std::move(parameters);
  if (declare.binary) portal.result_formats = {1};  // one format: every column
  portal.hold = declare.hold;
  if (auto failure = StartPortal(portal)) return failure;
  EndStatement();  // each FETCH is a statement of its own (cancel, statement timeout)
  query->columns = portal.result()->columns();
  query->returns_rows = true;
  portals_.emplace(declare.name, std::move(portal));
  out_.CommandComplete("DECLARE CURSOR");
  return std::nullopt;
}

std::optional<WireFailure> Connection::FetchCursor(const Statement& fetch,
                                                   const std::vector<int16_t>* formats) {
  auto it = portals_.find(fetch.name);
  if (it == portals_.end()) {
    return Error("34000", "cursor " + Quoted(fetch.name) + " does not exist");
  }
  Portal& portal = it->second;
  if (!IsQuery(portal.statement->classified)) {
    return Error("55000", "portal " + Quoted(fetch.name) + " does not return rows");
  }
  if (!portal.started && !portal.done) {  // a portal Bound but never executed
    if (auto failure = StartPortal(portal)) return failure;
    portal.statement->columns = portal.result()->columns();
  } else if (auto failure = RecheckPortal(portal)) {
    if (!failure->fatal) portals_.erase(it);  // refused: the cursor is gone
    return failure;
  }
  bool move = fetch.tag == "MOVE";
  // The simple protocol describes FETCH's rows here; the extended one did at Describe, in
  // the FETCH portal's formats, which the rows then use.
  std::unique_ptr<RowEncoder> own_encoder;
  if (formats == nullptr) {
    if (!move) SendRowDescription(portal.statement->columns, portal.result_formats);
  } else if (*formats != portal.result_formats && portal.encoder != nullptr) {
    own_encoder = std::make_unique<RowEncoder>(portal.statement->columns, *formats);
    std::swap(own_encoder, portal.encoder);
  }
  portal.last_batch = 0;
  Result<bool> more = false;
  if (!portal.done) more = SendRows(portal, fetch.count < 0 ? 0 : fetch.count, move);
  if (own_encoder != nullptr) std::swap(own_encoder, portal.encoder);
  if (!more.ok()) return FetchFailure(more.status());
  last_rows_ = portal.last_batch;
  out_.CommandComplete(fetch.tag + " " + std::to_string(portal.last_batch));
  return std::nullopt;
}

std::optional<WireFailure> Connection::CloseCursor(const Statement& close) {
  auto close_one = [&](std::map<std::string, Portal>::iterator it) {
    if (it->second.started && !it->second.done) FinishPortal(it->second, Status::OK());
    return portals_.erase(it);
  };
  if (close.name.empty()) {  // CLOSE ALL: every named portal (the unnamed one may be running)
    for (auto it = portals_.begin(); it != portals_.end();) {
      it = it->first.empty() ? std::next(it) : close_one(it);
    }
  } else {
    auto it = portals_.find(close.name);
    if (it == portals_.end()) {
      return Error("34000", "cursor " + Quoted(close.name) + " does not exist");
    }
    close_one(it);
  }
  out_.CommandComplete(close.tag);
  return std::nullopt;
}

void Connection::ClosePortals(bool rollback) {
  for (auto it = portals_.begin(); it != portals_.end();) {
    Portal& portal = it->second;
    if (portal.hold && !(rollback && !portal.held)) {
      portal.held = true;
      ++it;
      continue;
    }
    if (portal.started && !portal.done) FinishPortal(portal, Status::OK());
    it = portals_.erase(it);
  }
}

}  // namespace plexus::server::pg
