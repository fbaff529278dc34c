// File: plexus/spec/load_mesh.cc
//
// LoadMesh: walks a mesh folder (docs/mesh-format.md), parses every document (policy files
// included) while collecting the problems of all of them, then runs ValidateMesh on what could
// be read.
#include <algorithm>
#include <filesystem>
#include <iterator>
#include <set>

#include "plexus/spec/yaml_reader_internal.h"

namespace plexus::spec {
namespace {

namespace fs = std::filesystem;
using internal::YamlDocument;

/// Sub-folders of `dir` in name order, hidden ones left out; empty when `dir` does not exist.
std::vector<fs::path> SubFolders(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory(ec) && !name.empty() && name[0] != '.') out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Files of `dir` whose name ends with `suffix`, in name order.
std::vector<fs::path> FilesEndingWith(const fs::path& dir, std::string_view suffix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && name.size() > suffix.size() && name.ends_with(suffix)) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// True when the sub-folder `folder` of a domain holds some of the domain's own policy files
/// (`policy_files`, relative to the domain's `dir`) and no product.odps.yaml: a folder such as
/// `policies/` that is not a product.
bool IsPolicyFolder(const fs::path& dir, const fs::path& folder,
                    const std::vector<std::string>& policy_files) {
  std::error_code ec;
  if (fs::exists(folder / "product.odps.yaml", ec)) return false;
  std::string prefix = folder.string() + "/";
  return std::any_of(policy_files.begin(), policy_files.end(), [&](const std::string& file) {
    return (dir / file).lexically_normal().string().starts_with(prefix);
  });
}

/// Walks the mesh, recording problems; keeps the first I/O failure that is not about YAML.
class MeshLoader {
 public:
  explicit MeshLoader(std::vector<Diagnostic>* problems) : problems_(problems) {}

  /// Loads `path`; nullopt when it could not be read or parsed (the problem is recorded).
  std::optional<YamlDocument> Load(const fs::path& path) {
    auto doc = internal::LoadYaml(path.string(), problems_);
    if (doc.ok()) return std::move(doc).value();
    if (doc.status().code() != StatusCode::kInvalidArgument && io_status_.ok()) {
      io_status_ = doc.status();
    }
    return std::nullopt;
  }

  void Missing(const fs::path& file, std::string message) {
    problems_->push_back(Diagnostic{SourceLocation{file.string(), 0, 0}, "", std::move(message)});
  }

  std::optional<ProductBundle> LoadProduct(const fs::path& dir);
  Domain LoadDomain(const fs::path& dir);
  /// The glossary mesh.yaml names (if any) into mesh->glossary; a file that is not there is
  /// reported at mesh.yaml's `glossary`.
  void LoadGlossary(const fs::path& root, Mesh* mesh);
  /// The policies and exemptions of the files `listing` (mesh.yaml or a domain.yaml) names in
  /// `policies`, relative to `base`, read with `scope`; a file that is not there is reported
  /// at its entry. The mesh's global files come first, then each domain's in name order: a
  /// policy id defined twice is reported at the later definition.
  PolicyFile LoadPolicyFiles(const YamlDocument& listing, const fs::path& base,
                             const std::string& scope);
  const Status& io_status() const { return io_status_; }

 private:
  void LoadContracts(const fs::path& dir, ProductBundle* bundle);

  std::vector<Diagnostic>* problems_;
  Status io_status_;
  internal::PolicyIds policy_ids_;  ///< every policy id read so far, where it was defined
};

void MeshLoader::LoadContracts(const fs::path& dir, ProductBundle* bundle) {
  for (const fs::path& file : FilesEndingWith(dir / "contracts", ".odcs.yaml")) {
    std::optional<YamlDocument> doc = Load(file);
    if (!doc) continue;
    Contract contract = internal::ReadContract(*doc, problems_);
    if (contract.id.empty()) continue;  // reported as a missing required field
    auto [it, inserted] = bundle->contracts.emplace(contract.id, contract);
    if (!inserted) {
      problems_->push_back(Diagnostic{SourceLocation{file.string(), 1, 1}, "id",
                                      "contract id '" + contract.id + "' is already used by " +
                                          it->second.location.file});
    }
  }
}

std::optional<ProductBundle> MeshLoader::LoadProduct(const fs::path& dir) {
  ProductBundle bundle;
  bundle.dir = dir.string();
  fs::path product_file = dir / "product.odps.yaml";
  std::error_code ec;
  if (!fs::exists(product_file, ec)) {
    Missing(product_file, "a product folder needs a product.odps.yaml");
    return std::nullopt;
  }
  // A product that cannot be parsed at all is left out: its problem is recorded, and checking
  // the mesh around an empty product would only add noise.
  std::optional<YamlDocument> doc = Load(product_file);
  if (!doc) return std::nullopt;
  bundle.product = internal::ReadProduct(*doc, problems_);
  LoadContracts(dir, &bundle);
  fs::path pipeline_file = dir / "pipeline.yaml";
  if (fs::exists(pipeline_file, ec)) {
    if (std::optional<YamlDocument> pipeline = Load(pipeline_file)) {
      bundle.pipeline = internal::ReadPipeline(*pipeline, problems_);
    }
  }
  return bundle;
}

Domain MeshLoader::LoadDomain(const fs::path& dir) {
  Domain domain;
  fs::path domain_file = dir / "domain.yaml";
  std::error_code ec;
  if (!fs::exists(domain_file, ec)) {
    Missing(domain_file, "a domain folder needs a domain.yaml");
    domain.name = dir.filename().string();
    domain.location = SourceLocation{domain_file.string(), 0, 0};
  } else if (std::optional<YamlDocument> doc = Load(domain_file)) {
    domain = internal::ReadDomain(*doc, problems_);
    domain.policies = LoadPolicyFiles(*doc, dir, domain.name).policies;
  }
  domain.dir = dir.string();
  for (const fs::path& product_dir : SubFolders(dir)) {
    if (IsPolicyFolder(dir, product_dir, domain.policy_files)) continue;
    if (std::optional<ProductBundle> bundle = LoadProduct(product_dir)) {
      domain.products.push_back(std::move(*bundle));
    }
  }
  return domain;
}

void MeshLoader::LoadGlossary(const fs::path& root, Mesh* mesh) {
  if (mesh->glossary_file.empty()) return;
  fs::path file = (root / mesh->glossary_file).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    problems_->push_back(
        Diagnostic{mesh->glossary_location, "glossary", "no such glossary file: " + file.string()});
    return;
  }
  if (std::optional<YamlDocument> doc = Load(file)) {
    mesh->glossary = internal::ReadGlossary(*doc, problems_);
  }
}

PolicyFile MeshLoader::LoadPolicyFiles(const YamlDocument& listing, const fs::path& base,
                                       const std::string& scope) {
  PolicyFile all;
  internal::YamlReader reader(listing.file, problems_);
  // The listing's reader filled policy_files from the same entries and reported those that
  // are not text; here each entry's position is wanted too.
  std::vector<YAML::Node> entries;
  if (YAML::Node list = reader.Find(listing.root, "policies"); list.IsSequence()) {
    for (auto it = list.begin(); it != list.end(); ++it) entries.push_back(*it);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].IsScalar()) continue;
    fs::path file = (base / entries[i].Scalar()).lexically_normal();
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      reader.Report(entries[i], internal::ItemPath("policies", i),
                    "no such file: " + file.string());
      continue;
    }
    if (std::optional<YamlDocument> doc = Load(file)) {
      PolicyFile one = internal::ReadPolicies(*doc, scope, &policy_ids_, problems_);
      std::move(one.policies.begin(), one.policies.end(), std::back_inserter(all.policies));
      std::move(one.exemptions.begin(), one.exemptions.end(), std::back_inserter(all.exemptions));
    }
  }
  return all;
}

/// Drops validation problems already reported by the parser for the same file and field.
void AppendNew(const std::vector<Diagnostic>& parsed, std::vector<Diagnostic>* validated,
               std::vector<Diagnostic>* out) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const Diagnostic& d : parsed) seen.emplace(d.location.file, d.field);
  out->insert(out->end(), parsed.begin(), parsed.end());
  for (Diagnostic& d : *validated) {
    if (d.field.empty() || seen.count({d.location.file, d.field}) == 0) out->push_back(d);
  }
}

/// Names files relative to the mesh folder, as a person working in it writes them.
void Relativize(const fs::path& root, std::vector<Diagnostic>::iterator begin,
                std::vector<Diagnostic>::iterator end) {
  std::string prefix = root.string() + "/";
  for (auto it = begin; it != end; ++it) {
    if (it->location.file.rfind(prefix, 0) == 0) it->location.file.erase(0, prefix.size());
    for (size_t at = it->message.find(prefix); at != std::string::npos;
         at = it->message.find(prefix, at)) {
      it->message.erase(at, prefix.size());
    }
  }
}

}  // namespace

Result<Mesh> LoadMesh(const std::string& dir, std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) return IOError(dir + ": " + ec.message());
  fs::path mesh_file = root / "mesh.yaml";
  if (!fs::exists(mesh_file, ec)) return NotFound(mesh_file.string() + ": no mesh.yaml in " + dir);

  std::vector<Diagnostic> parsed;
  MeshLoader loader(&parsed);
  Mesh mesh;
  std::optional<YamlDocument> mesh_doc = loader.Load(mesh_file);
  if (mesh_doc) mesh = internal::ReadMeshFile(*mesh_doc, &parsed);
  PLEXUS_RETURN_IF_ERROR(loader.io_status());
  mesh.dir = root.string();
  loader.LoadGlossary(root, &mesh);
  if (mesh_doc) {
    PolicyFile global = loader.LoadPolicyFiles(*mesh_doc, root, "global");
    mesh.governance.policies = std::move(global.policies);
    mesh.governance.exemptions = std::move(global.exemptions);
  }
  for (const fs::path& domain_dir : SubFolders(root / "domains")) {
    mesh.domains.push_back(loader.LoadDomain(domain_dir));
  }
  PLEXUS_RETURN_IF_ERROR(loader.io_status());

  std::vector<Diagnostic> validated;
  (void)ValidateMesh(mesh, &validated);  // the verdict comes from the problem list below
  AppendNew(parsed, &validated, sink);
  Relativize(root, sink->begin() + static_cast<std::ptrdiff_t>(first), sink->end());
  PLEXUS_RETURN_IF_ERROR(ProblemsStatus(*sink, first));
  return mesh;
}

}  // namespace plexus::spec
