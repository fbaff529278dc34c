// File: plexus/spec/spec_test_util.h
//
// Test-only helpers for the spec module's tests: scratch folders, writing YAML files,
// copying the mini mesh in testdata/, finding a diagnostic by field.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "plexus/spec/parse.h"

namespace plexus::spec::testing {

/// The valid mini mesh under src/plexus/spec/testdata/mesh.
inline std::filesystem::path MiniMeshDir() {
  return std::filesystem::path(PLEXUS_SOURCE_DIR) / "src/plexus/spec/testdata/mesh";
}

/// A fresh, empty folder for the current test (removed at the start of the next run).
inline std::filesystem::path ScratchDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "plexus_spec_test" /
                              (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Writes `text` to `path`, creating its folders.
inline std::string WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

/// A copy of the mini mesh in a scratch folder, for tests that break it.
inline std::filesystem::path CopyMiniMesh() {
  std::filesystem::path dir = ScratchDir() / "mesh";
  std::filesystem::copy(MiniMeshDir(), dir, std::filesystem::copy_options::recursive);
  return dir;
}

/// A diagnostic built field by field (GCC 12 misreads nested aggregate initialisation at -O3).
inline Diagnostic Problem(const std::string& file, int line, int column, const std::string& field,
                          const std::string& message) {
  Diagnostic d;
  d.location.file = file;
  d.location.line = line;
  d.location.column = column;
  d.field = field;
  d.message = message;
  return d;
}

/// The problems whose field is `field`.
inline std::vector<Diagnostic> WithField(const std::vector<Diagnostic>& problems,
                                         const std::string& field) {
  std::vector<Diagnostic> out;
  for (const Diagnostic& d : problems) {
    if (d.field == field) out.push_back(d);
  }
  return out;
}

/// Every problem on its own line, for failure messages.
inline std::string Dump(const std::vector<Diagnostic>& problems) {
  std::string out;
  for (const Diagnostic& d : problems) out += d.ToString() + "\n";
  return out;
}

/// Expects exactly one problem on `field`, at `line` of a file named `file_suffix`, saying `words`.
inline void ExpectProblem(const std::vector<Diagnostic>& problems, const std::string& file_suffix,
                          const std::string& field, int line, const std::string& words) {
  std::vector<Diagnostic> found = WithField(problems, field);
  ASSERT_EQ(found.size(), 1u) << "field " << field << " in:\n" << Dump(problems);
  EXPECT_TRUE(found[0].location.file.ends_with(file_suffix)) << found[0].ToString();
  EXPECT_EQ(found[0].location.line, line) << found[0].ToString();
  EXPECT_NE(found[0].message.find(words), std::string::npos) << found[0].ToString();
}

}  // namespace plexus::spec::testing
