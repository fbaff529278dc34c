// File: plexus/spec/parse.h
//
// Reading and checking what a domain writes: ODPS v1.0.0 products, ODCS v3.1.0 contracts
// (v3.0.x accepted), and Plexus's mesh.yaml, domain.yaml, pipeline.yaml and policy files.
//
//   std::vector<plexus::spec::Diagnostic> problems;
//   auto mesh = plexus::spec::LoadMesh("examples/jaffle", &problems);
//   if (!mesh.ok()) for (const auto& p : problems) std::cerr << p.ToString() << "\n";
//
// Every function collects ALL the problems it finds (it does not stop at the first one),
// appends them to `problems` (which may be null when the caller only wants the Status), and
// then fails with kInvalidArgument whose message is the first problem plus
// " (and N more problems)". A file that cannot be read fails with kNotFound / kIOError naming
// its path. Thread safety: free functions over values; safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/common/status.h"
#include "plexus/spec/model.h"

namespace plexus::spec {

/// One problem in a document: where it is, which field (a path such as
/// `outputPorts[0].contractId` or `schema[0].properties[2].logicalType`; empty for the whole
/// document) and what is wrong, in words for the person who wrote the file.
struct Diagnostic {
  SourceLocation location;
  std::string field;
  std::string message;

  /// `file:line:column: field: message`; the position is left out when unknown (line 0) and
  /// the field when empty.
  std::string ToString() const;
};

/// Parses an ODPS v1.0.0 product file and checks it against the ODPS schema for the fields
/// the model types (required fields, kind, apiVersion, status, YAML types, unknown keys).
Result<Product> ParseProductFile(const std::string& path, std::vector<Diagnostic>* problems);

/// Parses an ODCS contract file (v3.1.0; v3.0.0-v3.0.2 accepted) and checks it against the
/// ODCS schema: required fields, kind, apiVersion, status, YAML types, unknown keys, schema
/// objects and properties, logical types, quality rules, relationships, servers and SLAs.
Result<Contract> ParseContractFile(const std::string& path, std::vector<Diagnostic>* problems);

/// Parses an ODCS contract from its text, as ParseContractFile does; `name` stands for the file
/// in diagnostics (e.g. "orders (as applied)"). The catalog keeps contracts as text.
Result<Contract> ParseContractText(const std::string& text, const std::string& name,
                                   std::vector<Diagnostic>* problems);

/// Parses a Plexus pipeline.yaml (docs/mesh-format.md). References to ports and files are
/// checked by ValidateMesh, which knows the product.
Result<Pipeline> ParsePipelineFile(const std::string& path, std::vector<Diagnostic>* problems);
/// Parses a pipeline.yaml from its text; `name` stands for the file in diagnostics.
Result<Pipeline> ParsePipelineText(const std::string& text, const std::string& name,
                                   std::vector<Diagnostic>* problems);

/// The `processors` of a mesh.yaml or domain.yaml from its text (other keys are not read), each
/// of `scope` ("mesh" or the domain's name); `name` stands for the file in diagnostics and
/// locations. The catalog keeps the applied files' text and hands a run the processors a
/// product sees (domain first, then mesh) for ExpandSteps (processors.h).
Result<std::vector<ProcessorDefinition>> ParseProcessorsText(const std::string& text,
                                                             const std::string& name,
                                                             const std::string& scope,
                                                             std::vector<Diagnostic>* problems);

/// A pipeline.yaml duration in seconds: `500ms`, `30s`, `15m`, `2h`, `1d`, or a bare number of
/// seconds (`90`, `0.5`); nullopt when `text` is none of these. Not checked to be positive.
std::optional<double> ParseDurationSeconds(std::string_view text);

/// Parses a policy file (`kind: Policies`, docs/governance.md); `scope` is "global" or the
/// domain, and becomes each policy's Policy::scope. Checks the keys, apiVersion and kind, each
/// policy's id ([a-z][a-z0-9-]*, at most 63, unique in the file), title, severity, sql and
/// parameters (a default of the right type within min/max or among `allowed`), and each
/// exemption's fields and `expires` date; a domain's file may not hold exemptions.
Result<PolicyFile> ParsePolicyFile(const std::string& path, const std::string& scope,
                                   std::vector<Diagnostic>* problems);
/// The same from text; `name` stands for the file in diagnostics (the built-in pack is parsed
/// from text).
Result<PolicyFile> ParsePolicyText(const std::string& text, const std::string& name,
                                   const std::string& scope, std::vector<Diagnostic>* problems);

/// Loads the mesh in `dir`: mesh.yaml, domains/*/domain.yaml, domains/*/*/product.odps.yaml,
/// domains/*/*/contracts/*.odcs.yaml and domains/*/*/pipeline.yaml, and the policy files
/// mesh.yaml and each domain.yaml name (Mesh::governance, Domain::policies; a policy id defined
/// twice in the mesh is reported at the second definition). Fills absolute dirs, parses every
/// file (collecting the problems of all of them), then runs ValidateMesh.
/// Diagnostics name files relative to `dir`; the model's locations keep absolute paths.
/// Domains and products come in name order. kNotFound when `dir` has no mesh.yaml.
Result<Mesh> LoadMesh(const std::string& dir, std::vector<Diagnostic>* problems);

/// The semantic cross-checks of a loaded mesh: SQL names, folder names, product domains,
/// contract references of output and input ports, unique contract ids, pipeline inputs and
/// outputs, primary keys required, no duplicate names, each output port's table found in its
/// contract, logical and physical types. OK when there is nothing to report.
Status ValidateMesh(const Mesh& mesh, std::vector<Diagnostic>* problems);

/// True when `name` is a Plexus SQL name: ^[a-z][a-z0-9_]*$, no "__", at most 63 characters.
bool IsSqlName(const std::string& name);

/// The status every function returns for the problems it added from index `first` on: OK when
/// there are none, else kInvalidArgument "<first problem> (and N more problems)".
Status ProblemsStatus(const std::vector<Diagnostic>& problems, size_t first = 0);

}  // namespace plexus::spec
