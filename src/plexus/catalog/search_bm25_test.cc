// The search index's relevance (search_bm25.h) is FTS5's bm25() exactly: every match of
// words, prefixes, phrases and alternatives scores what -bm25() with the same weights gives,
// also after another connection re-applies the mesh and rewrites documents at reused ids.
#include "plexus/catalog/search_bm25.h"

#include <gtest/gtest.h>

#include <map>

#include "plexus/catalog/catalog_test_util.h"

namespace plexus::catalog {
namespace {

using testing::OpenRaw;
using testing::RawDb;
using testing::ScratchHome;

/// Products whose texts differ in length and in how often they repeat the words.
spec::Mesh WordyMesh(int extra) {
  static const char* kWords[] = {"payment", "order", "customer", "refund", "invoice", "ledger"};
  spec::Mesh mesh;
  mesh.name = "wordy";
  mesh.access.default_visibility = "public";
  spec::Domain domain;
  domain.name = "sales";
  domain.owners = {"carol"};
  for (int p = 0; p < 12; p++) {
    spec::ProductBundle bundle;
    spec::Product& product = bundle.product;
    product.name = std::string(kWords[p % 6]) + "_" + std::to_string(p);
    product.id = "urn:wordy:" + product.name;
    product.version = "1.0.0";
    product.status = "active";
    for (int w = 0; w < 3 + (p * 7 + extra) % 11; w++) {
      product.purpose += std::string(kWords[(p + w * w) % 6]) + (w % 3 ? " of the " : " ");
    }
    product.tags = {kWords[(p + 2) % 6]};
    spec::OutputPort port;
    port.name = product.name;
    port.version = "1.0.0";
    port.contract_id = product.id + ":contract";
    product.output_ports.push_back(port);
    spec::Contract contract;
    contract.id = port.contract_id;
    contract.version = "1.0.0";
    contract.status = "active";
    spec::SchemaObject table;
    table.name = port.name;
    for (int c = 0; c < 2 + p % 4; c++) {
      table.properties.push_back(testing::Column(std::string(kWords[(p + c) % 6]) + "_id"));
    }
    contract.schema.push_back(table);
    bundle.contracts[contract.id] = contract;
    domain.products.push_back(std::move(bundle));
  }
  mesh.domains.push_back(domain);
  return mesh;
}

/// doc -> -bm25() with kSearchFields' weights, on a connection of its own.
std::map<int64_t, double> Bm25(const RawDb& db, const std::string& expression) {
  std::string sql = "SELECT rowid, -bm25(search_fts";
  for (const auto& field : kSearchFields) sql += ", " + std::to_string(field.weight);
  sql += ") FROM search_fts WHERE search_fts MATCH ?";
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  sqlite3_bind_text(stmt, 1, expression.c_str(), -1, SQLITE_TRANSIENT);
  std::map<int64_t, double> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    out[sqlite3_column_int64(stmt, 0)] = sqlite3_column_double(stmt, 1);
  }
  sqlite3_finalize(stmt);
  return out;
}

std::map<int64_t, double> Ours(const Catalog& catalog, const std::string& expression) {
  std::map<int64_t, double> out;
  Status status = catalog.MatchSearch(expression, [&](int64_t doc, double relevance) {
    out[doc] = relevance;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return out;
}

const char* kExpressions[] = {
    "\"payment\"*", "\"pay\"*", "\"refund\"", "\"order\"* AND \"customer\"*",
    "(\"order\"* AND \"of\"*) OR \"order of\"", "(\"invoice\" OR \"ledger\")", "\"sales\"*"};

void ExpectSameScores(const Catalog& catalog, const RawDb& raw) {
  for (const char* expression : kExpressions) {
    auto theirs = Bm25(raw, expression);
    auto ours = Ours(catalog, expression);
    ASSERT_FALSE(theirs.empty()) << expression;
    ASSERT_EQ(ours.size(), theirs.size()) << expression;
    for (const auto& [doc, score] : theirs) {
      EXPECT_DOUBLE_EQ(ours[doc], score) << expression << " doc " << doc;
    }
  }
}

TEST(SearchBm25Test, ScoresAreFts5Bm25) {
  std::string dir = ScratchHome();
  auto home = Home::Prepare(dir);
  ASSERT_TRUE(home.ok());
  auto catalog = Catalog::Open(*home);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  ASSERT_TRUE((*catalog)->Apply(WordyMesh(0), "ops").ok());
  RawDb raw = OpenRaw(dir);
  ExpectSameScores(**catalog, raw);
}

TEST(SearchBm25Test, ScoresFollowDocumentsAnotherConnectionRewrote) {
  std::string dir = ScratchHome();
  auto home = Home::Prepare(dir);
  ASSERT_TRUE(home.ok());
  auto catalog = Catalog::Open(*home);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  ASSERT_TRUE((*catalog)->Apply(WordyMesh(0), "ops").ok());
  RawDb raw = OpenRaw(dir);
  ExpectSameScores(**catalog, raw);  // the lengths are loaded now
  {
    auto other = Catalog::Open(*home);
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    for (int extra = 1; extra <= 5; extra++) {  // every text changes length, ids are reused
      ASSERT_TRUE((*other)->Apply(WordyMesh(extra), "ops").ok());
    }
    ASSERT_TRUE((*other)->RebuildSearchIndex().ok());
  }
  ExpectSameScores(**catalog, raw);
}

}  // namespace
}  // namespace plexus::catalog
