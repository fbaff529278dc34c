// File: plexus/observe/observe_home_test_util.h (tests only)
//
// A scratch copy of the example mesh (examples/jaffle-mesh) applied to a fresh home, with its
// column lineage stored as `plexus apply` does, for tests that run real pipelines.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "plexus/catalog/catalog.h"
#include "plexus/pipeline/column_lineage.h"
#include "plexus/spec/parse.h"

namespace plexus::observe::testing {

/// A fresh folder for the current test.
inline std::filesystem::path ScratchDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::path(::testing::TempDir()) / "plexus_observe_test" /
             (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct AppliedMesh {
  std::filesystem::path mesh_dir;
  catalog::Home home;
  std::unique_ptr<catalog::Catalog> catalog;
  spec::Mesh mesh;
};

/// Copies the example mesh into the test's folder, lets `edit_files` change its files and
/// `edit` its model (e.g. the observability settings), applies it to a fresh home and stores
/// its column lineage.
template <typename EditFiles, typename Edit>
inline AppliedMesh ApplyExampleMesh(EditFiles edit_files, Edit edit) {
  auto dir = ScratchDir();
  auto mesh_dir = dir / "mesh";
  std::filesystem::copy(std::filesystem::path(PLEXUS_SOURCE_DIR) / "examples/jaffle-mesh",
                        mesh_dir, std::filesystem::copy_options::recursive);
  edit_files(mesh_dir);
  std::vector<spec::Diagnostic> problems;
  auto mesh = spec::LoadMesh(mesh_dir.string(), &problems);
  EXPECT_TRUE(mesh.ok()) << mesh.status().message();
  edit(*mesh);
  auto home = catalog::Home::Prepare((dir / "home").string());
  EXPECT_TRUE(home.ok());
  auto catalog = catalog::Catalog::Open(*home);
  EXPECT_TRUE(catalog.ok()) << catalog.status().message();
  auto applied = (*catalog)->Apply(*mesh);
  EXPECT_TRUE(applied.ok()) << applied.status().message();
  auto edges = pipeline::MeshColumnLineage(*mesh);
  EXPECT_TRUE(edges.ok()) << edges.status().message();
  std::vector<std::string> products;
  for (const auto& d : mesh->domains) {
    for (const auto& b : d.products) products.push_back(d.name + "." + b.product.name);
  }
  EXPECT_TRUE((*catalog)->ReplaceColumnLineage(products, *edges).ok());
  return {mesh_dir, *home, std::move(*catalog), std::move(*mesh)};
}

template <typename Edit>
inline AppliedMesh ApplyExampleMesh(Edit edit) {
  return ApplyExampleMesh([](const std::filesystem::path&) {}, edit);
}

/// The example mesh with its files changed by `edit_files` before it is applied.
template <typename EditFiles>
inline AppliedMesh ApplyExampleFiles(EditFiles edit_files) {
  return ApplyExampleMesh(edit_files, [](spec::Mesh&) {});
}

}  // namespace plexus::observe::testing
