// File: plexus/spec/conformance_test.cc
//
// The official ODCS and ODPS examples and ODCS negatives (in /work/shared/standards, or
// $PLEXUS_STANDARDS_DIR): every example parses clean, every negative is refused. Skipped,
// with a message, when the standards folder is not there.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "plexus/spec/parse.h"
#include "plexus/spec/spec_test_util.h"

namespace plexus::spec {
namespace {

namespace fs = std::filesystem;
using testing::Dump;
using testing::ScratchDir;
using testing::WriteFile;

fs::path StandardsDir() {
  const char* env = std::getenv("PLEXUS_STANDARDS_DIR");
  return env != nullptr ? fs::path(env) : fs::path("/work/shared/standards");
}

std::vector<fs::path> YamlFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

#define PLEXUS_REQUIRE_STANDARDS(sub)                                                 \
  if (!fs::exists(StandardsDir() / (sub))) {                                          \
    GTEST_SKIP() << "standards folder " << (StandardsDir() / (sub)).string()          \
                 << " not found (set PLEXUS_STANDARDS_DIR): conformance not checked"; \
  }

TEST(SpecConformanceTest, EveryOdcsExampleParsesWithoutProblems) {
  PLEXUS_REQUIRE_STANDARDS("odcs/examples");
  std::vector<fs::path> files = YamlFiles(StandardsDir() / "odcs/examples");
  ASSERT_FALSE(files.empty());
  for (const fs::path& file : files) {
    std::vector<Diagnostic> problems;
    Result<Contract> contract = ParseContractFile(file.string(), &problems);
    EXPECT_TRUE(contract.ok()) << file << "\n" << Dump(problems);
    if (contract.ok()) {
      EXPECT_FALSE(contract->id.empty()) << file;
    }
  }
}

TEST(SpecConformanceTest, EveryOdpsExampleParsesWithoutProblems) {
  // The examples are v0.9.0, which the ODPS v1.0.0 schema reads (its apiVersion enum lists it).
  PLEXUS_REQUIRE_STANDARDS("odps/examples");
  std::vector<fs::path> files = YamlFiles(StandardsDir() / "odps/examples");
  ASSERT_FALSE(files.empty());
  for (const fs::path& file : files) {
    std::vector<Diagnostic> problems;
    Result<Product> product = ParseProductFile(file.string(), &problems);
    EXPECT_TRUE(product.ok()) << file << "\n" << Dump(problems);
    if (product.ok()) {
      EXPECT_FALSE(product->output_ports.empty()) << file;
    }
    // The same document as v1.0.0 is accepted too.
    std::string text = std::regex_replace(ReadAll(file), std::regex("apiVersion: v0\\.9\\.0"),
                                          "apiVersion: v1.0.0");
    std::string copy = WriteFile(ScratchDir() / file.filename(), text);
    problems.clear();
    EXPECT_TRUE(ParseProductFile(copy, &problems).ok()) << copy << "\n" << Dump(problems);
  }
}

/// For each known negative, a field its refusal must name (a new negative must only be refused).
const std::map<std::string, std::string>& ExpectedNegativeFields() {
  static const std::map<std::string, std::string> kFields = {
      {"additional-unknown-property", "unknownRootField"},
      {"invalid-api-version", "apiVersion"},
      {"invalid-kind", "kind"},
      {"missing-required-fields", "id"},
      {"schema-property-missing-name", "schema[0].properties[0].name"},
      {"schema-property-invalid-logicaltype", "schema[0].properties[0].logicalType"},
      {"invalid-quality-type", "quality[0].type"},
      {"invalid-quality-dimension", "quality[0].dimension"},
      {"invalid-quality-metric", "quality[0].metric"},
      {"quality-sql-missing-query", "quality[0].query"},
      {"quality-custom-missing-implementation", "quality[0].implementation"},
      {"quality-library-missing-metric", "quality[0].metric"},
      {"quality-multiple-operators", "quality[0]"},
      {"quality-mustbebetween-wrong-size", "quality[0].mustBeBetween"},
      {"quality-element-field", "quality[0].element"},
      {"relationship-property-level-with-from", "relationships[0].from"},
      {"relationship-schema-level-missing-from-to", "relationships[0].from"},
      {"server-invalid-type", "servers[0].type"},
      {"server-missing-required-fields", "servers[0].server"},
      {"server-missing-conditional-fields", "servers[0].stagingDir"},
      {"sla-missing-required-value", "slaProperties[0].value"},
  };
  return kFields;
}

bool NamesField(const std::vector<Diagnostic>& problems, const std::string& suffix) {
  for (const Diagnostic& d : problems) {
    if (d.field.size() >= suffix.size() &&
        d.field.compare(d.field.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

TEST(SpecConformanceTest, EveryOdcsNegativeIsRefused) {
  PLEXUS_REQUIRE_STANDARDS("odcs/negative");
  std::vector<fs::path> files = YamlFiles(StandardsDir() / "odcs/negative");
  ASSERT_FALSE(files.empty());
  for (const fs::path& file : files) {
    std::vector<Diagnostic> problems;
    Result<Contract> contract = ParseContractFile(file.string(), &problems);
    EXPECT_FALSE(contract.ok()) << file << " was accepted";
    EXPECT_EQ(contract.status().code(), StatusCode::kInvalidArgument) << file;
    for (const Diagnostic& d : problems) {
      EXPECT_GT(d.location.line, 0) << file << ": " << d.ToString();
    }
    std::string name = file.filename().string();
    name = name.substr(0, name.find(".odcs.yaml"));
    auto expected = ExpectedNegativeFields().find(name);
    if (expected != ExpectedNegativeFields().end()) {
      EXPECT_TRUE(NamesField(problems, expected->second))
          << file << " refused, but not for " << expected->second << ":\n" << Dump(problems);
    }
  }
}

}  // namespace
}  // namespace plexus::spec
