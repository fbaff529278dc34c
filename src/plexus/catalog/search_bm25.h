// File: plexus/catalog/search_bm25.h
//
// The search index's relevance (issue 4): FTS5's own BM25, computed exactly as its bm25()
// does, but reading each document's length from memory. bm25() asks FTS5 for the length of
// every matching document (xColumnSize: a lookup in the %_docsize table through a statement of
// its own), which is about nine tenths of its cost on a word found in 40,000 documents.
//
//   plexus_bm25(search_fts, weight...)  ==  -bm25(search_fts, weight...)   (higher is better)
//
// The lengths are loaded from %_docsize and kept with the catalog generation they were read
// at (Catalog::Generation, which Apply and RebuildSearchIndex move); a document the loaded
// lengths do not know is measured by FTS5 as bm25() does, so a score is never approximate.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plexus/common/status.h"

namespace plexus::catalog::internal {

class SqliteDb;

class SearchBm25 {
 public:
  /// Registers the FTS5 function `name` on `db`, scoring with `scorer`'s lengths (the
  /// function keeps `scorer` alive until the connection closes).
  static Status Register(sqlite3* db, const std::string& name,
                         const std::shared_ptr<SearchBm25>& scorer);

  /// Loads every document's length (tokens over all fields) of FTS5 table `table`, unless
  /// already loaded at `generation`. Call it in the read transaction the match runs in.
  Status Load(SqliteDb& db, const std::string& table, int64_t generation);

  /// Tokens in document `rowid` over all fields; 0 when not loaded.
  uint32_t Length(int64_t rowid) const {
    return rowid >= 0 && rowid < static_cast<int64_t>(lengths_.size()) ? lengths_[rowid] : 0;
  }

 private:
  std::vector<uint32_t> lengths_;  ///< rowid -> tokens (0: unknown)
  int64_t generation_ = -1;
};

}  // namespace plexus::catalog::internal
