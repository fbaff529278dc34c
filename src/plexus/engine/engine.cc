#include "plexus/engine/engine.h"

#include <duckdb.h>

#include "plexus/engine/chunk_builder_internal.h"
#include "plexus/engine/chunk_table.h"
#include "plexus/engine/type_node.h"
#include "plexus/engine/value_text.h"

namespace plexus::engine {
namespace {

// DuckDB prefixes messages with their class ("Catalog Error: ..."); the class decides the code.
Status FromDuckDbMessage(std::string_view message) {
  std::string text(message);
  auto starts = [&](std::string_view prefix) { return message.substr(0, prefix.size()) == prefix; };
  if (starts("Catalog Error")) return NotFound(text);
  if (starts("Permission Error")) return PermissionDenied(text);
  if (starts("IO Error")) return IOError(text);
  if (starts("Constraint Error") || starts("Transaction Error")) return FailedPrecondition(text);
  if (starts("Interrupt")) return FailedPrecondition("query interrupted");
  if (starts("INTERNAL Error") || starts("Fatal Error")) return Internal(text);
  return InvalidArgument(text);
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// ---- Database ---------------------------------------------------------------------------

struct Database::Handle {
  duckdb_database db = nullptr;
  ~Handle() {
    if (db) duckdb_close(&db);
  }
};

Database::Database(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) return Internal("duckdb_create_config");
  struct ConfigGuard {
    duckdb_config* c;
    ~ConfigGuard() { duckdb_destroy_config(c); }
  } config_guard{&config};

  auto set = [&](const char* name, const std::string& value) -> Status {
    if (duckdb_set_config(config, name, value.c_str()) != DuckDBSuccess) {
      return InvalidArgument(std::string("cannot set DuckDB option ") + name + "=" + value);
    }
    return Status::OK();
  };
  if (options.read_only) PLEXUS_RETURN_IF_ERROR(set("access_mode", "READ_ONLY"));
  if (options.threads > 0) PLEXUS_RETURN_IF_ERROR(set("threads", std::to_string(options.threads)));
  if (!options.memory_limit.empty()) PLEXUS_RETURN_IF_ERROR(set("memory_limit", options.memory_limit));
  if (!options.temp_directory.empty()) {
    PLEXUS_RETURN_IF_ERROR(set("temp_directory", options.temp_directory));
  }
  if (!options.vacuum) PLEXUS_RETURN_IF_ERROR(set("max_vacuum_tasks", "0"));
  if (options.hardened) {
    PLEXUS_RETURN_IF_ERROR(set("autoload_known_extensions", "false"));
    PLEXUS_RETURN_IF_ERROR(set("autoinstall_known_extensions", "false"));
    PLEXUS_RETURN_IF_ERROR(set("allow_community_extensions", "false"));
  }

  auto handle = std::make_unique<Handle>();
  char* error = nullptr;
  const char* path = options.path.empty() ? nullptr : options.path.c_str();
  if (duckdb_open_ext(path, &handle->db, config, &error) != DuckDBSuccess) {
    std::string message = error ? error : "unknown error";
    duckdb_free(error);
    handle->db = nullptr;
    return IOError("cannot open database " + (options.path.empty() ? ":memory:" : options.path) +
                   ": " + message);
  }
  std::unique_ptr<Database> db(new Database(std::move(handle)));
  if (options.hardened) {
    // allowed_directories must be set while external access is still on; switching external
    // access off is one-way, and LockConfiguration() later freezes everything.
    PLEXUS_ASSIGN_OR_RETURN(auto conn, db->Connect());
    std::string dirs = "[";
    for (size_t i = 0; i < options.allowed_directories.size(); i++) {
      if (i > 0) dirs += ", ";
      std::string dir = options.allowed_directories[i];
      if (!dir.empty() && dir.back() != '/') dir.push_back('/');
      dirs += QuoteLiteral(dir);
    }
    dirs += "]";
    PLEXUS_RETURN_IF_ERROR(conn->Execute("SET allowed_directories = " + dirs));
    PLEXUS_RETURN_IF_ERROR(conn->Execute("SET enable_external_access = false"));
  }
  return db;
}

// ---- Connection -------------------------------------------------------------------------

struct Connection::Handle {
  duckdb_connection conn = nullptr;
  ~Handle() {
    if (conn) duckdb_disconnect(&conn);
  }
};

Connection::Connection(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
Connection::~Connection() = default;

duckdb_connection ChunkTables::RawConnection(Connection& conn) { return conn.handle_->conn; }

Result<std::unique_ptr<Connection>> Database::Connect() {
  auto handle = std::make_unique<Connection::Handle>();
  if (duckdb_connect(handle_->db, &handle->conn) != DuckDBSuccess) {
    handle->conn = nullptr;
    return Internal("cannot connect to the database");
  }
  return std::unique_ptr<Connection>(new Connection(std::move(handle)));
}

Status Connection::Execute(std::string_view sql) {
  duckdb_result result;
  std::string text(sql);
  duckdb_state state = duckdb_query(handle_->conn, text.c_str(), &result);
  Status status;
  if (state != DuckDBSuccess) status = FromDuckDbMessage(duckdb_result_error(&result));
  duckdb_destroy_result(&result);
  return status;
}

// ---- QueryResult ------------------------------------------------------------------------

struct QueryResult::Handle {
  duckdb_result result{};
  std::vector<internal::TypeNode> nodes;  // one per column
  ~Handle() { duckdb_destroy_result(&result); }
};

QueryResult::QueryResult(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {
  idx_t n = duckdb_column_count(&handle_->result);
  for (idx_t i = 0; i < n; i++) {
    handle_->nodes.push_back(
        internal::MakeTypeNode(duckdb_column_logical_type(&handle_->result, i)));
    columns_.push_back(
        internal::MakeColumnInfo(duckdb_column_name(&handle_->result, i), handle_->nodes.back()));
  }
}
QueryResult::~QueryResult() = default;

int64_t QueryResult::rows_changed() const {
  return static_cast<int64_t>(duckdb_rows_changed(&handle_->result));
}

struct DataChunk::Handle {
  duckdb_data_chunk chunk = nullptr;
  const std::vector<internal::TypeNode>* nodes = nullptr;  // owned by the QueryResult
  std::vector<duckdb_vector> vectors;
  std::vector<uint64_t*> validity;
  ~Handle() {
    if (chunk) duckdb_destroy_data_chunk(&chunk);
  }
};

DataChunk::DataChunk(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {
  idx_t n = duckdb_data_chunk_get_column_count(handle_->chunk);
  for (idx_t i = 0; i < n; i++) {
    duckdb_vector v = duckdb_data_chunk_get_vector(handle_->chunk, i);
    handle_->vectors.push_back(v);
    handle_->validity.push_back(duckdb_vector_get_validity(v));
  }
}
DataChunk::~DataChunk() = default;

size_t DataChunk::size() const { return duckdb_data_chunk_get_size(handle_->chunk); }
size_t DataChunk::column_count() const { return handle_->vectors.size(); }

bool DataChunk::IsNull(size_t column, size_t row) const {
  uint64_t* validity = handle_->validity[column];
  return validity != nullptr && !duckdb_validity_row_is_valid(validity, row);
}

void DataChunk::AppendText(size_t column, size_t row, std::string& out) const {
  if (IsNull(column, row)) return;
  internal::AppendVectorValue(handle_->vectors[column], (*handle_->nodes)[column].type.get(), row,
                              out, false);
}

void DataChunk::AppendJson(size_t column, size_t row, std::string& out) const {
  internal::AppendJsonValue(handle_->vectors[column], (*handle_->nodes)[column].type.get(), row,
                            out);
}

std::string DataChunk::Text(size_t column, size_t row) const {
  std::string out;
  AppendText(column, row, out);
  return out;
}

VectorRef DataChunk::Column(size_t column) const {
  return VectorRef(handle_->vectors[column], &(*handle_->nodes)[column]);
}

int64_t DataChunk::GetInt64(size_t column, size_t row) const {
  if (IsNull(column, row)) return 0;
  return internal::IntegerValue(handle_->vectors[column], (*handle_->nodes)[column].type.get(),
                               row);
}

double DataChunk::GetDouble(size_t column, size_t row) const {
  if (IsNull(column, row)) return 0;
  return internal::NumericValue(handle_->vectors[column], (*handle_->nodes)[column].type.get(), row);
}

Result<std::unique_ptr<DataChunk>> QueryResult::Fetch() {
  duckdb_data_chunk chunk = duckdb_fetch_chunk(handle_->result);
  if (chunk == nullptr) {
    const char* error = duckdb_result_error(&handle_->result);
    if (error != nullptr && *error != '\0') return FromDuckDbMessage(error);
    return std::unique_ptr<DataChunk>();
  }
  auto h = std::make_unique<DataChunk::Handle>();
  h->chunk = chunk;
  h->nodes = &handle_->nodes;
  return std::unique_ptr<DataChunk>(new DataChunk(std::move(h)));
}

duckdb_result* internal::RawHandles::Result(QueryResult& result) {
  return &result.handle_->result;
}
duckdb_data_chunk internal::RawHandles::Chunk(const DataChunk& chunk) {
  return chunk.handle_->chunk;
}

// ---- PreparedStatement ------------------------------------------------------------------

struct PreparedStatement::Handle {
  duckdb_prepared_statement stmt = nullptr;
  ~Handle() { duckdb_destroy_prepare(&stmt); }
};

PreparedStatement::PreparedStatement(std::unique_ptr<Handle> handle)
    : handle_(std::move(handle)) {}
PreparedStatement::~PreparedStatement() = default;

Result<std::unique_ptr<PreparedStatement>> Connection::Prepare(std::string_view sql) {
  auto handle = std::make_unique<PreparedStatement::Handle>();
  std::string text(sql);
  if (duckdb_prepare(handle_->conn, text.c_str(), &handle->stmt) != DuckDBSuccess) {
    const char* error = duckdb_prepare_error(handle->stmt);
    return FromDuckDbMessage(error ? error : "cannot prepare statement");
  }
  return std::unique_ptr<PreparedStatement>(new PreparedStatement(std::move(handle)));
}

size_t PreparedStatement::parameter_count() const { return duckdb_nparams(handle_->stmt); }

namespace {
Status BindState(duckdb_state state, size_t index) {
  if (state == DuckDBSuccess) return Status::OK();
  return InvalidArgument("cannot bind parameter $" + std::to_string(index));
}
}  // namespace

Status PreparedStatement::BindNull(size_t i) { return BindState(duckdb_bind_null(handle_->stmt, i), i); }
Status PreparedStatement::BindInt64(size_t i, int64_t v) {
  return BindState(duckdb_bind_int64(handle_->stmt, i, v), i);
}
Status PreparedStatement::BindDouble(size_t i, double v) {
  return BindState(duckdb_bind_double(handle_->stmt, i, v), i);
}
Status PreparedStatement::BindText(size_t i, std::string_view v) {
  return BindState(duckdb_bind_varchar_length(handle_->stmt, i, v.data(), v.size()), i);
}

std::string PreparedStatement::parameter_name(size_t index) const {
  const char* name = duckdb_parameter_name(handle_->stmt, index);
  if (name == nullptr) return "";
  std::string out = name;
  duckdb_free(const_cast<char*>(name));
  return out;
}

Status PreparedStatement::BindTextList(size_t i, const std::vector<std::string>& values) {
  duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  std::vector<duckdb_value> items;
  items.reserve(values.size());
  for (const auto& v : values) items.push_back(duckdb_create_varchar_length(v.data(), v.size()));
  duckdb_value list = duckdb_create_list_value(varchar, items.data(), items.size());
  for (auto& item : items) duckdb_destroy_value(&item);
  duckdb_destroy_logical_type(&varchar);
  if (list == nullptr) return InvalidArgument("cannot bind parameter $" + std::to_string(i));
  duckdb_state state = duckdb_bind_value(handle_->stmt, i, list);
  duckdb_destroy_value(&list);
  return BindState(state, i);
}

TypeId PreparedStatement::parameter_type(size_t index) const {
  duckdb_logical_type type = duckdb_param_logical_type(handle_->stmt, index);
  if (type == nullptr) return TypeId::kUnknown;
  TypeId id = internal::TypeIdOf(type);
  duckdb_destroy_logical_type(&type);
  return id;
}

std::vector<ColumnInfo> PreparedStatement::columns() const {
  std::vector<ColumnInfo> columns;
  idx_t n = duckdb_prepared_statement_column_count(handle_->stmt);
  for (idx_t i = 0; i < n; i++) {
    internal::TypeNode node = internal::MakeTypeNode(
        duckdb_prepared_statement_column_logical_type(handle_->stmt, i));
    // The name is the caller's to free (duckdb_free), unlike a result's column names.
    const char* name = duckdb_prepared_statement_column_name(handle_->stmt, i);
    columns.push_back(internal::MakeColumnInfo(name ? name : "", node));
    if (name != nullptr) duckdb_free(const_cast<char*>(name));
  }
  return columns;
}

Status PreparedStatement::Bind(size_t i, const ParameterValue& value) {
  duckdb_prepared_statement stmt = handle_->stmt;
  switch (value.kind) {
    case ParameterValue::Kind::kNull: return BindNull(i);
    case ParameterValue::Kind::kBool:
      return BindState(duckdb_bind_boolean(stmt, i, value.bool_value), i);
    case ParameterValue::Kind::kInt64: return BindInt64(i, value.int_value);
    case ParameterValue::Kind::kDouble: return BindDouble(i, value.double_value);
    case ParameterValue::Kind::kText: return BindText(i, value.bytes);
    case ParameterValue::Kind::kBlob:
      return BindState(duckdb_bind_blob(stmt, i, value.bytes.data(), value.bytes.size()), i);
  }
  return InvalidArgument("unknown parameter kind");
}

ParameterValue ParameterValue::Bool(bool v) {
  ParameterValue p;
  p.kind = Kind::kBool;
  p.bool_value = v;
  return p;
}
ParameterValue ParameterValue::Int64(int64_t v) {
  ParameterValue p;
  p.kind = Kind::kInt64;
  p.int_value = v;
  return p;
}
ParameterValue ParameterValue::Double(double v) {
  ParameterValue p;
  p.kind = Kind::kDouble;
  p.double_value = v;
  return p;
}
ParameterValue ParameterValue::Text(std::string v) {
  ParameterValue p;
  p.kind = Kind::kText;
  p.bytes = std::move(v);
  return p;
}
ParameterValue ParameterValue::Blob(std::string v) {
  ParameterValue p;
  p.kind = Kind::kBlob;
  p.bytes = std::move(v);
  return p;
}

Result<std::unique_ptr<QueryResult>> PreparedStatement::Execute() {
  duckdb_pending_result pending = nullptr;
  if (duckdb_pending_prepared_streaming(handle_->stmt, &pending) != DuckDBSuccess) {
    std::string message = pending ? duckdb_pending_error(pending) : "cannot execute statement";
    duckdb_destroy_pending(&pending);
    return FromDuckDbMessage(message);
  }
  auto rh = std::make_unique<QueryResult::Handle>();
  duckdb_state state = duckdb_execute_pending(pending, &rh->result);
  duckdb_destroy_pending(&pending);
  if (state != DuckDBSuccess) return FromDuckDbMessage(duckdb_result_error(&rh->result));
  return std::unique_ptr<QueryResult>(new QueryResult(std::move(rh)));
}

Result<std::unique_ptr<QueryResult>> Connection::Query(std::string_view sql) {
  PLEXUS_ASSIGN_OR_RETURN(auto stmt, Prepare(sql));
  // The result keeps reading from the pending query; the prepared statement may go.
  return stmt->Execute();
}

Result<std::string> Connection::QueryScalar(std::string_view sql) {
  PLEXUS_ASSIGN_OR_RETURN(auto result, Query(sql));
  PLEXUS_ASSIGN_OR_RETURN(auto chunk, result->Fetch());
  if (!chunk || chunk->size() == 0 || chunk->column_count() == 0) {
    return NotFound("query returned no rows");
  }
  return chunk->Text(0, 0);
}

Status Connection::LockConfiguration() { return Execute("SET lock_configuration = true"); }

void Connection::Interrupt() { duckdb_interrupt(handle_->conn); }

Status Connection::EnableProgress() {
  return Execute("PRAGMA enable_progress_bar; PRAGMA disable_print_progress_bar");
}

QueryProgress Connection::Progress() const {
  duckdb_query_progress_type p = duckdb_query_progress(handle_->conn);
  return {p.percentage, p.rows_processed, p.total_rows_to_process};
}

// ---- Appender ---------------------------------------------------------------------------

struct Appender::Handle {
  duckdb_appender appender = nullptr;
  ~Handle() {
    if (appender) duckdb_appender_destroy(&appender);
  }
};

Appender::Appender(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
Appender::~Appender() = default;

Result<std::unique_ptr<Appender>> Connection::MakeAppender(std::string_view catalog,
                                                           std::string_view schema,
                                                           std::string_view table) {
  auto handle = std::make_unique<Appender::Handle>();
  std::string c(catalog), s(schema), t(table);
  if (duckdb_appender_create_ext(handle_->conn, c.empty() ? nullptr : c.c_str(),
                                 s.empty() ? nullptr : s.c_str(), t.c_str(),
                                 &handle->appender) != DuckDBSuccess) {
    std::string message = duckdb_appender_error(handle->appender);
    return FromDuckDbMessage(message);
  }
  return std::unique_ptr<Appender>(new Appender(std::move(handle)));
}

namespace {
Status AppendState(duckdb_state state, duckdb_appender appender) {
  if (state == DuckDBSuccess) return Status::OK();
  const char* error = duckdb_appender_error(appender);
  return FromDuckDbMessage(error ? error : "append failed");
}
}  // namespace

struct ChunkAppender::Handle {
  duckdb_appender appender = nullptr;
  std::vector<duckdb_logical_type> types;
  std::vector<ChunkAppender::Type> kinds;
  duckdb_data_chunk chunk = nullptr;
  std::vector<duckdb_vector> vectors;
  std::vector<void*> data;
  std::vector<uint64_t*> validity;
  idx_t row = 0;
  idx_t capacity = 0;

  /// Points at the chunk's vectors, with writable validity, after creation and each reset.
  void Bind() {
    for (size_t i = 0; i < kinds.size(); ++i) {
      vectors[i] = duckdb_data_chunk_get_vector(chunk, i);
      duckdb_vector_ensure_validity_writable(vectors[i]);
      validity[i] = duckdb_vector_get_validity(vectors[i]);
      data[i] = duckdb_vector_get_data(vectors[i]);
    }
  }
  ~Handle() {
    if (chunk) duckdb_destroy_data_chunk(&chunk);
    for (auto& type : types) duckdb_destroy_logical_type(&type);
    if (appender) duckdb_appender_destroy(&appender);
  }
};

ChunkAppender::ChunkAppender(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
ChunkAppender::~ChunkAppender() {
  if (handle_ && handle_->appender) (void)Close();
}


Result<std::unique_ptr<ChunkAppender>> Connection::MakeChunkAppender(
    std::string_view table, const std::vector<ChunkAppender::Type>& types) {
  return MakeChunkAppender("", "", table, types);
}

Result<std::unique_ptr<ChunkAppender>> Connection::MakeChunkAppender(
    std::string_view catalog, std::string_view schema, std::string_view table,
    const std::vector<ChunkAppender::Type>& types) {
  auto handle = std::make_unique<ChunkAppender::Handle>();
  std::string c(catalog), s(schema), t(table);
  if (duckdb_appender_create_ext(handle_->conn, c.empty() ? nullptr : c.c_str(),
                                 s.empty() ? nullptr : s.c_str(), t.c_str(),
                                 &handle->appender) != DuckDBSuccess) {
    std::string message = duckdb_appender_error(handle->appender);
    return FromDuckDbMessage(message);
  }
  for (ChunkAppender::Type type : types) {
    handle->types.push_back(duckdb_create_logical_type(DuckDbTypeOf(type)));
  }
  handle->kinds = types;
  handle->chunk = duckdb_create_data_chunk(handle->types.data(), handle->types.size());
  handle->capacity = duckdb_vector_size();
  handle->vectors.resize(types.size());
  handle->data.resize(types.size());
  handle->validity.resize(types.size());
  handle->Bind();
  return std::unique_ptr<ChunkAppender>(new ChunkAppender(std::move(handle)));
}

void ChunkAppender::SetNull(size_t c) {
  duckdb_validity_set_row_invalid(handle_->validity[c], handle_->row);
}
void ChunkAppender::SetInt64(size_t c, int64_t v) {
  duckdb_validity_set_row_valid(handle_->validity[c], handle_->row);
  static_cast<int64_t*>(handle_->data[c])[handle_->row] = v;
}
void ChunkAppender::SetBool(size_t c, bool v) {
  duckdb_validity_set_row_valid(handle_->validity[c], handle_->row);
  static_cast<bool*>(handle_->data[c])[handle_->row] = v;
}
void ChunkAppender::SetDouble(size_t c, double v) {
  duckdb_validity_set_row_valid(handle_->validity[c], handle_->row);
  static_cast<double*>(handle_->data[c])[handle_->row] = v;
}
void ChunkAppender::SetInt32(size_t c, int32_t v) {
  duckdb_validity_set_row_valid(handle_->validity[c], handle_->row);
  static_cast<int32_t*>(handle_->data[c])[handle_->row] = v;
}
void ChunkAppender::SetInt16(size_t c, int16_t v) {
  duckdb_validity_set_row_valid(handle_->validity[c], handle_->row);
  static_cast<int16_t*>(handle_->data[c])[handle_->row] = v;
}
void ChunkAppender::SetInt8(size_t c, int8_t v) {
  duckdb_validity_set_row_valid(handle_->validity[c], handle_->row);
  static_cast<int8_t*>(handle_->data[c])[handle_->row] = v;
}
void ChunkAppender::SetText(size_t c, std::string_view v) {
  duckdb_validity_set_row_valid(handle_->validity[c], handle_->row);
  duckdb_vector_assign_string_element_len(handle_->vectors[c], handle_->row, v.data(), v.size());
}

Status ChunkAppender::EndRow() {
  if (++handle_->row == handle_->capacity) return Flush();
  return Status::OK();
}

Status ChunkAppender::Flush() {
  if (handle_->row == 0) return Status::OK();
  duckdb_data_chunk_set_size(handle_->chunk, handle_->row);
  duckdb_state state = duckdb_append_data_chunk(handle_->appender, handle_->chunk);
  duckdb_data_chunk_reset(handle_->chunk);
  handle_->row = 0;
  handle_->Bind();
  return AppendState(state, handle_->appender);
}

Status ChunkAppender::Append(ChunkBuilder& chunk) {
  PLEXUS_RETURN_IF_ERROR(Flush());
  ChunkBuilder::Handle& h = *chunk.handle_;
  if (h.row == 0) return Status::OK();
  duckdb_data_chunk_set_size(h.chunk, h.row);
  duckdb_state state = duckdb_append_data_chunk(handle_->appender, h.chunk);
  chunk.Reset();
  return AppendState(state, handle_->appender);
}

Status ChunkAppender::Close() {
  Status flushed = Flush();
  duckdb_state state = duckdb_appender_close(handle_->appender);
  Status closed = AppendState(state, handle_->appender);
  duckdb_appender_destroy(&handle_->appender);
  handle_->appender = nullptr;
  return flushed.ok() ? closed : flushed;
}

Status Appender::AppendNull() {
  return AppendState(duckdb_append_null(handle_->appender), handle_->appender);
}
Status Appender::AppendInt64(int64_t v) {
  return AppendState(duckdb_append_int64(handle_->appender, v), handle_->appender);
}
Status Appender::AppendDouble(double v) {
  return AppendState(duckdb_append_double(handle_->appender, v), handle_->appender);
}
Status Appender::AppendText(std::string_view v) {
  return AppendState(duckdb_append_varchar_length(handle_->appender, v.data(), v.size()),
                     handle_->appender);
}
Status Appender::EndRow() {
  return AppendState(duckdb_appender_end_row(handle_->appender), handle_->appender);
}
Status Appender::Close() {
  return AppendState(duckdb_appender_close(handle_->appender), handle_->appender);
}

}  // namespace plexus::engine
