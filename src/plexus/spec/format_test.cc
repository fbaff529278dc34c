// File: plexus/spec/format_test.cc
//
// `plexus fmt` keeps every field: the official examples (in /work/shared/standards, or
// $PLEXUS_STANDARDS_DIR) and the real-world contracts in testdata/real_world read back to the
// same value after formatting, and formatting twice changes nothing.
#include "plexus/spec/format.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "plexus/spec/spec_test_util.h"

namespace plexus::spec {
namespace {

namespace fs = std::filesystem;
using testing::Dump;
using testing::ScratchDir;
using testing::WriteFile;

/// The value a YAML 1.2 reader sees, as text: type-tagged scalars, maps with sorted keys.
/// Two documents are semantically equal when their values print the same.
std::string ValueOf(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsSequence()) {
    std::string out = "[";
    for (const YAML::Node& item : node) out += ValueOf(item) + ",";
    return out + "]";
  }
  if (node.IsMap()) {
    std::map<std::string, std::string> sorted;
    for (const auto& entry : node) sorted[ValueOf(entry.first)] = ValueOf(entry.second);
    std::string out = "{";
    for (const auto& [key, value] : sorted) out += key + ":" + value + ",";
    return out + "}";
  }
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return "str(" + text + ")";
  static const std::regex kBool("true|True|TRUE|false|False|FALSE");
  static const std::regex kNumber("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(text, kBool)) return "bool(" + text + ")";
  if (std::regex_match(text, kNumber)) return "num(" + std::to_string(std::stod(text)) + ")";
  return "str(" + text + ")";
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path StandardsDir() {
  const char* env = std::getenv("PLEXUS_STANDARDS_DIR");
  return env != nullptr ? fs::path(env) : fs::path("/work/shared/standards");
}

std::vector<fs::path> YamlFilesIn(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Formats `file` and checks the result reads back to the same value and is a fixed point.
void ExpectLosslessRoundTrip(const fs::path& file) {
  SCOPED_TRACE(file.string());
  std::vector<Diagnostic> problems;
  Result<std::string> formatted = FormatFile(file.string(), &problems);
  ASSERT_TRUE(formatted.ok()) << formatted.status().ToString() << "\n" << Dump(problems);
  EXPECT_EQ(ValueOf(YAML::Load(ReadAll(file))), ValueOf(YAML::Load(*formatted)))
      << "formatted text:\n" << *formatted;
  Result<std::string> again = FormatText(*formatted, file.string(), &problems);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *formatted) << "formatting is not idempotent";
}

TEST(SpecFormatTest, EveryOfficialExampleRoundTripsLosslessly) {
  if (!fs::exists(StandardsDir() / "odcs/examples")) {
    GTEST_SKIP() << "standards folder " << StandardsDir().string()
                 << " not found (set PLEXUS_STANDARDS_DIR): official examples not round-tripped";
  }
  std::vector<fs::path> files = YamlFilesIn(StandardsDir() / "odcs/examples");
  std::vector<fs::path> products = YamlFilesIn(StandardsDir() / "odps/examples");
  files.insert(files.end(), products.begin(), products.end());
  ASSERT_GE(files.size(), 10u);
  for (const fs::path& file : files) ExpectLosslessRoundTrip(file);
}

TEST(SpecFormatTest, EveryRealWorldContractRoundTripsLosslessly) {
  std::vector<fs::path> files =
      YamlFilesIn(fs::path(PLEXUS_SOURCE_DIR) / "src/plexus/spec/testdata/real_world");
  ASSERT_GE(files.size(), 4u);
  for (const fs::path& file : files) ExpectLosslessRoundTrip(file);
}

TEST(SpecFormatTest, ExampleMeshContractsAndGlossaryRoundTrip) {
  // Property-level authoritativeDefinitions (glossary links) and the glossary file itself.
  fs::path mesh = fs::path(PLEXUS_SOURCE_DIR) / "examples/jaffle-mesh";
  std::vector<fs::path> files = {mesh / "glossary.yaml", mesh / "mesh.yaml"};
  for (const auto& entry : fs::recursive_directory_iterator(mesh / "domains")) {
    if (entry.path().string().ends_with(".odcs.yaml")) files.push_back(entry.path());
  }
  ASSERT_GE(files.size(), 6u);
  for (const fs::path& file : files) ExpectLosslessRoundTrip(file);
}

TEST(SpecFormatTest, WritesKeysInTheStandardsOrderAndKeepsTypesAndText) {
  std::string path = WriteFile(ScratchDir() / "c.odcs.yaml",
                               "status: active   # a comment fmt drops\n"
                               "id: orders-contract\n"
                               "version: '2'\n"
                               "kind: DataContract\n"
                               "apiVersion: v3.1.0\n"
                               "customProperties:\n"
                               "  - value: yes\n"
                               "    property: owner-approved\n"
                               "  - {property: note, value: 'yes'}\n"
                               "  - property: empty\n"
                               "    value: ~\n"
                               "description:\n"
                               "  usage: \"line one\\nline two\\n\"\n"
                               "  purpose: >-\n"
                               "    Orders: one row\n"
                               "    per order.\n");
  std::vector<Diagnostic> problems;
  Result<std::string> formatted = FormatFile(path, &problems);
  ASSERT_TRUE(formatted.ok()) << Dump(problems);
  EXPECT_EQ(*formatted,
            "apiVersion: v3.1.0\n"
            "kind: DataContract\n"
            "id: orders-contract\n"
            "version: \"2\"\n"
            "status: active\n"
            "description:\n"
            "  purpose: \"Orders: one row per order.\"\n"
            "  usage: |\n"
            "    line one\n"
            "    line two\n"
            "customProperties:\n"
            "  - property: owner-approved\n"
            "    value: yes\n"
            "  - property: note\n"
            "    value: \"yes\"\n"
            "  - property: empty\n"
            "    value: null\n");
}

TEST(SpecFormatTest, KeepsNestedListsEmptyCollectionsAndOddText) {
  std::string path = WriteFile(ScratchDir() / "pipeline.yaml",
                               "b: [[1, 2], [], {}]\n"
                               "a: {x: '-dash', y: '#hash', z: 'trailing ', w: '007', v: ''}\n"
                               "c: \"tab\\there\\n  indented first line\\n\"\n");
  std::vector<Diagnostic> problems;
  Result<std::string> formatted = FormatFile(path, &problems);
  ASSERT_TRUE(formatted.ok()) << Dump(problems);
  // Not a contract: the keys keep their order.
  EXPECT_EQ(formatted->rfind("b:\n", 0), 0u) << *formatted;
  EXPECT_EQ(ValueOf(YAML::Load(ReadAll(path))), ValueOf(YAML::Load(*formatted))) << *formatted;
}

TEST(SpecFormatTest, RefusesWhatItCannotFormatFaithfully) {
  std::vector<Diagnostic> problems;
  Result<std::string> duplicate = FormatText("a:\n  b: 1\n  b: 2\n", "x.yaml", &problems);
  ASSERT_FALSE(duplicate.ok());
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].ToString(), "x.yaml:3:3: a.b: duplicate key");

  problems.clear();
  Result<std::string> invalid = FormatText(
      "apiVersion: v3.1.0\nkind: DataContract\nid: c\nversion: 1.0.0\nstatus: active\n"
      "schema:\n  - name: t\n    properties:\n      - name: x\n        logicalType: text\n",
      "c.odcs.yaml", &problems);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].field, "schema[0].properties[0].logicalType") << Dump(problems);

  problems.clear();
  EXPECT_FALSE(FormatText("a: [1, 2\n", "y.yaml", &problems).ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("YAML syntax error"), std::string::npos);
}

}  // namespace
}  // namespace plexus::spec
