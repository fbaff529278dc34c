// ChunkTables: a C table function whose scan makes DuckDB's output chunk reference the vectors
// of the source's ChunkBuilder (duckdb_vector_reference_vector), read by a CREATE TABLE AS.
#include "plexus/engine/chunk_table.h"

#include <atomic>
#include <mutex>

#include "plexus/engine/chunk_builder_internal.h"

namespace plexus::engine {

/// What the table function reads: the columns and source of the Create running (none else).
struct ChunkTables::Feed {
  std::mutex mu;
  const std::vector<ChunkColumn>* columns = nullptr;  ///< set while a Create runs
  ChunkSource* source = nullptr;
  ChunkBuilder* last = nullptr;  ///< the chunk DuckDB read last, reset before the next
  Status failed;                 ///< the source's error, or a chunk of other types
};

namespace {

using Feed = ChunkTables::Feed;

Feed& FeedOf(void* extra_info) { return **static_cast<std::shared_ptr<Feed>*>(extra_info); }

void Bind(duckdb_bind_info info) {
  Feed& feed = FeedOf(duckdb_bind_get_extra_info(info));
  std::lock_guard lock(feed.mu);
  if (feed.columns == nullptr) {
    duckdb_bind_set_error(info, "no chunks are being loaded (ChunkTables::Create is not running)");
    return;
  }
  for (const auto& column : *feed.columns) {
    duckdb_logical_type type = duckdb_create_logical_type(DuckDbTypeOf(column.type));
    duckdb_bind_add_result_column(info, column.name.c_str(), type);
    duckdb_destroy_logical_type(&type);
  }
}

void Init(duckdb_init_info) {}

/// Points `output` at the next chunk's vectors; an empty output ends the scan.
void Scan(duckdb_function_info info, duckdb_data_chunk output) {
  Feed& feed = FeedOf(duckdb_function_get_extra_info(info));
  std::lock_guard lock(feed.mu);
  if (feed.source == nullptr) {
    duckdb_function_set_error(info, "no chunks are being loaded");
    return;
  }
  // DuckDB reset its output before asking again: the last chunk is no longer referenced.
  if (feed.last != nullptr) feed.last->Reset();
  feed.last = nullptr;
  Result<ChunkBuilder*> next = feed.source->Next();
  if (!next.ok() || *next == nullptr) {
    if (!next.ok()) {
      feed.failed = next.status();
      duckdb_function_set_error(info, next.status().message().c_str());
    }
    duckdb_data_chunk_set_size(output, 0);
    return;
  }
  ChunkBuilder::Handle& rows = ChunkTables::RowsOf(**next);
  const auto& columns = *feed.columns;
  bool same = rows.types.size() == columns.size();
  for (size_t i = 0; same && i < columns.size(); ++i) same = rows.types[i] == columns[i].type;
  if (!same) {
    feed.failed = InvalidArgument("a chunk's column types are not the table's");
    duckdb_function_set_error(info, feed.failed.message().c_str());
    return;
  }
  feed.last = *next;
  duckdb_data_chunk_set_size(rows.chunk, rows.row);
  for (size_t i = 0; i < columns.size(); ++i) {
    duckdb_vector_reference_vector(duckdb_data_chunk_get_vector(output, i),
                                   duckdb_data_chunk_get_vector(rows.chunk, i));
  }
  duckdb_data_chunk_set_size(output, rows.row);
}

}  // namespace

ChunkTables::ChunkTables(Connection& conn, std::shared_ptr<Feed> feed, std::string function)
    : conn_(conn), feed_(std::move(feed)), function_(std::move(function)) {}

ChunkTables::~ChunkTables() = default;

Result<std::unique_ptr<ChunkTables>> ChunkTables::Make(Connection& conn) {
  static std::atomic<uint64_t> made{0};
  std::string name = "plexus_chunk_table_" + std::to_string(++made);
  auto feed = std::make_shared<Feed>();
  duckdb_table_function function = duckdb_create_table_function();
  duckdb_table_function_set_name(function, name.c_str());
  // DuckDB owns this copy of the pointer (and deletes it with the function); the feed lives
  // as long as either holds it.
  duckdb_table_function_set_extra_info(function, new std::shared_ptr<Feed>(feed), [](void* p) {
    delete static_cast<std::shared_ptr<Feed>*>(p);
  });
  duckdb_table_function_set_bind(function, Bind);
  duckdb_table_function_set_init(function, Init);
  duckdb_table_function_set_function(function, Scan);
  duckdb_state state =
      duckdb_register_table_function(RawConnection(conn), function);
  duckdb_destroy_table_function(&function);
  if (state != DuckDBSuccess) return Internal("cannot register the table function " + name);
  return std::unique_ptr<ChunkTables>(new ChunkTables(conn, std::move(feed), std::move(name)));
}

Status ChunkTables::Create(std::string_view table, const std::vector<ChunkColumn>& columns,
                           ChunkSource& source) {
  if (columns.empty()) return InvalidArgument("a table needs at least one column");
  {
    std::lock_guard lock(feed_->mu);
    feed_->columns = &columns;
    feed_->source = &source;
    feed_->last = nullptr;
    feed_->failed = Status::OK();
  }
  Status made = conn_.Execute("CREATE TABLE " + QuoteIdentifier(table) + " AS SELECT * FROM " +
                              function_ + "()");
  std::lock_guard lock(feed_->mu);
  if (feed_->last != nullptr) feed_->last->Reset();  // the statement is over: not referenced
  feed_->columns = nullptr;
  feed_->source = nullptr;
  feed_->last = nullptr;
  return feed_->failed.ok() ? made : feed_->failed;
}

}  // namespace plexus::engine
