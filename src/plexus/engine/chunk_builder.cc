// ChunkBuilder: a DuckDB data chunk filled through its vectors' memory (values, validity, and
// duckdb_string_t entries that point at the caller's texts), appended by ChunkAppender::Append.
#include "plexus/engine/chunk_builder.h"

#include <algorithm>
#include <cstring>

#include "plexus/engine/chunk_builder_internal.h"

namespace plexus::engine {

namespace {

/// Points at the chunk's vectors, with writable validity masks (all rows valid).
void Bind(ChunkBuilder::Handle& h) {
  for (size_t i = 0; i < h.data.size(); ++i) {
    duckdb_vector vector = duckdb_data_chunk_get_vector(h.chunk, i);
    duckdb_vector_ensure_validity_writable(vector);
    h.validity[i] = duckdb_vector_get_validity(vector);
    h.data[i] = duckdb_vector_get_data(vector);
  }
}

}  // namespace

std::string_view TextArena::Add(std::string_view text) {
  while (block_ < blocks_.size() && used_ + text.size() > blocks_[block_].size) {
    ++block_;
    used_ = 0;
  }
  if (block_ == blocks_.size()) {
    size_t size = std::max(kBlock, text.size());
    blocks_.push_back({std::unique_ptr<char[]>(new char[size]), size});  // not zeroed
  }
  char* at = blocks_[block_].bytes.get() + used_;
  std::memcpy(at, text.data(), text.size());
  used_ += text.size();
  return {at, text.size()};
}

ChunkBuilder::ChunkBuilder(const std::vector<ChunkAppender::Type>& types)
    : handle_(std::make_unique<Handle>()) {
  std::vector<duckdb_logical_type> logical;
  for (ChunkAppender::Type type : types) logical.push_back(duckdb_create_logical_type(DuckDbTypeOf(type)));
  handle_->chunk = duckdb_create_data_chunk(logical.data(), logical.size());
  for (auto& type : logical) duckdb_destroy_logical_type(&type);
  handle_->capacity = duckdb_vector_size();
  handle_->types = types;
  handle_->data.resize(types.size());
  handle_->validity.resize(types.size());
  Bind(*handle_);
}

ChunkBuilder::~ChunkBuilder() = default;

size_t ChunkBuilder::capacity() const { return handle_->capacity; }
size_t ChunkBuilder::size() const { return handle_->row; }

// A fresh or reset chunk's rows are all valid: only NULLs are written to the masks.
void ChunkBuilder::SetNull(size_t c) {
  duckdb_validity_set_row_invalid(handle_->validity[c], handle_->row);
}
void ChunkBuilder::SetInt64(size_t c, int64_t v) {
  void* data = handle_->data[c];
  idx_t r = handle_->row;
  switch (handle_->types[c]) {
    case ChunkAppender::Type::kInteger: static_cast<int32_t*>(data)[r] = static_cast<int32_t>(v); break;
    case ChunkAppender::Type::kSmallint: static_cast<int16_t*>(data)[r] = static_cast<int16_t>(v); break;
    case ChunkAppender::Type::kTinyint: static_cast<int8_t*>(data)[r] = static_cast<int8_t>(v); break;
    default: static_cast<int64_t*>(data)[r] = v; break;
  }
}
void ChunkBuilder::SetBool(size_t c, bool v) {
  static_cast<bool*>(handle_->data[c])[handle_->row] = v;
}
void ChunkBuilder::SetDouble(size_t c, double v) {
  static_cast<double*>(handle_->data[c])[handle_->row] = v;
}

void ChunkBuilder::SetText(size_t c, std::string_view v) {
  constexpr size_t kInline = sizeof(duckdb_string_t::value.inlined.inlined);
  SetTextRef(c, v.size() <= kInline ? v : handle_->arena.Add(v));
}

void ChunkBuilder::SetTextRef(size_t c, std::string_view v) {
  // DuckDB's string_t: a length, then up to 12 bytes inline (zero-padded, as DuckDB compares
  // the padding), else a 4-byte prefix and a pointer. A text is at most SQLite's 1e9 bytes
  // (SQLITE_MAX_LENGTH), so its length fits string_t's 32 bits.
  constexpr size_t kInline = sizeof(duckdb_string_t::value.inlined.inlined);
  auto& s = static_cast<duckdb_string_t*>(handle_->data[c])[handle_->row];
  if (v.size() <= kInline) {
    s.value.inlined.length = static_cast<uint32_t>(v.size());
    std::memset(s.value.inlined.inlined, 0, kInline);
    if (!v.empty()) std::memcpy(s.value.inlined.inlined, v.data(), v.size());
  } else {
    s.value.pointer.length = static_cast<uint32_t>(v.size());
    std::memcpy(s.value.pointer.prefix, v.data(), sizeof(s.value.pointer.prefix));
    s.value.pointer.ptr = const_cast<char*>(v.data());
  }
}

bool ChunkBuilder::EndRow() { return ++handle_->row == handle_->capacity; }

void ChunkBuilder::Reset() {
  duckdb_data_chunk_reset(handle_->chunk);
  handle_->arena.Clear();
  handle_->row = 0;
  Bind(*handle_);
}

}  // namespace plexus::engine
