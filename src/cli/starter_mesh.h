// File: cli/starter_mesh.h
//
// The files `plexus init` writes: a mesh with one domain (sales) and one product
// (daily_revenue) built from a CSV seed, ready for apply, run and query.
#pragma once

#include <string>
#include <vector>

namespace plexus::cli {

struct StarterFile {
  std::string path;  ///< relative to the mesh folder
  std::string content;
};

std::vector<StarterFile> StarterMeshFiles();

}  // namespace plexus::cli
