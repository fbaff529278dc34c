// File: plexus/spec/validate.cc
//
// ValidateMesh: the checks that need more than one document (or Plexus's own rules on top of
// the standards): SQL names, folders, cross-references between products, contracts and
// pipelines, primary keys, duplicate names, logical and physical types.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "plexus/spec/glossary.h"
#include "plexus/spec/parse.h"
#include "plexus/spec/validate_internal.h"

namespace plexus::spec {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kLogicalTypes = {"string", "date",   "timestamp", "time",
                                                "number", "integer", "object",   "array",
                                                "boolean"};

std::string Indexed(const std::string& list, size_t index) {
  return list + "[" + std::to_string(index) + "]";
}

std::string FolderName(const std::string& dir) {
  return fs::path(dir).lexically_normal().filename().string();
}

/// Where a top-level `key:` is written in a document's source text; the document's own location
/// when the text is not there (a model built in code).
SourceLocation KeyLocation(const SourceLocation& document, const std::string& text,
                           const std::string& key) {
  std::string wanted = key + ":";
  int line = 1;
  for (size_t start = 0; start < text.size(); ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text.compare(start, wanted.size(), wanted) == 0) {
      return SourceLocation{document.file, line, 1};
    }
    start = end + 1;
  }
  return document;
}

/// The output port a contract id belongs to, for resolving input ports.
struct PortRef {
  const Domain* domain;
  const ProductBundle* bundle;
  const OutputPort* port;
};

class MeshValidator {
 public:
  MeshValidator(const Mesh& mesh, std::vector<Diagnostic>* problems)
      : mesh_(mesh), problems_(problems), glossary_(mesh.glossary) {}

  void Run();

 private:
  void Add(const SourceLocation& at, std::string field, std::string message) {
    problems_->push_back(Diagnostic{at, std::move(field), std::move(message)});
  }
  void CheckSqlName(const SourceLocation& at, const std::string& field, const std::string& what,
                    const std::string& name);
  void IndexContracts();
  void CheckDomain(const Domain& domain);
  void CheckProduct(const Domain& domain, const ProductBundle& bundle);
  void CheckOutputPorts(const ProductBundle& bundle);
  void CheckPortTable(const ProductBundle& bundle, const OutputPort& port, const Contract& c);
  void CheckInputPorts(const ProductBundle& bundle);
  void CheckContract(const Contract& contract);
  void CheckProperties(const Contract& contract, size_t object_index);
  void CheckGlossaryLinks(const Property& property, const std::string& path);
  void CheckPipeline(const ProductBundle& bundle, const Pipeline& pipeline);
  void CheckPipelineInputs(const ProductBundle& bundle, const Pipeline& pipeline);

  const Mesh& mesh_;
  std::vector<Diagnostic>* problems_;
  std::map<std::string, PortRef> port_by_contract_;
  GlossaryIndex glossary_;
};

void MeshValidator::CheckSqlName(const SourceLocation& at, const std::string& field,
                                 const std::string& what, const std::string& name) {
  if (IsSqlName(name)) return;
  if (name.empty()) {
    Add(at, field, what + " needs a name");
    return;
  }
  Add(at, field,
      "'" + name + "' is not a valid " + what +
          " name (lowercase letters, digits and _, starting with a letter, no __, at most 63 "
          "characters)");
}

void MeshValidator::IndexContracts() {
  std::map<std::string, const Contract*> seen;
  for (const Domain& domain : mesh_.domains) {
    for (const ProductBundle& bundle : domain.products) {
      for (const auto& [id, contract] : bundle.contracts) {
        auto [it, inserted] = seen.emplace(id, &contract);
        if (!inserted) {
          Add(KeyLocation(contract.location, contract.source_text, "id"), "id",
              "contract id '" + id + "' is already used by " + it->second->location.file);
        }
      }
      for (const OutputPort& port : bundle.product.output_ports) {
        if (bundle.contracts.count(port.contract_id) > 0) {
          port_by_contract_.emplace(port.contract_id, PortRef{&domain, &bundle, &port});
        }
      }
    }
  }
}

void MeshValidator::Run() {
  IndexContracts();
  (void)ValidateGlossary(mesh_.glossary, problems_);
  internal::CheckProcessorDefinitions(mesh_, problems_);
  std::set<std::string> domain_names;
  for (const Domain& domain : mesh_.domains) {
    if (!domain.name.empty() && !domain_names.insert(domain.name).second) {
      Add(KeyLocation(domain.location, domain.source_text, "name"), "name",
          "domain '" + domain.name + "' is declared twice");
    }
    CheckDomain(domain);
  }
}

void MeshValidator::CheckDomain(const Domain& domain) {
  SourceLocation at = KeyLocation(domain.location, domain.source_text, "name");
  CheckSqlName(at, "name", "domain", domain.name);
  if (!domain.dir.empty() && !domain.name.empty() && FolderName(domain.dir) != domain.name) {
    Add(at, "name",
        "domain '" + domain.name + "' must live in a folder of the same name, not '" +
            FolderName(domain.dir) + "'");
  }
  std::set<std::string> product_names;
  for (const ProductBundle& bundle : domain.products) {
    const Product& product = bundle.product;
    if (!product.name.empty() && !product_names.insert(product.name).second) {
      Add(KeyLocation(product.location, product.source_text, "name"), "name",
          "product '" + product.name + "' is declared twice in domain '" + domain.name + "'");
    }
    CheckProduct(domain, bundle);
  }
}

void MeshValidator::CheckProduct(const Domain& domain, const ProductBundle& bundle) {
  const Product& product = bundle.product;
  SourceLocation name_at = KeyLocation(product.location, product.source_text, "name");
  CheckSqlName(name_at, "name", "product", product.name);
  if (!bundle.dir.empty() && !product.name.empty() && FolderName(bundle.dir) != product.name) {
    Add(name_at, "name",
        "product '" + product.name + "' must live in a folder of the same name, not '" +
            FolderName(bundle.dir) + "'");
  }
  if (product.domain != domain.name) {
    Add(KeyLocation(product.location, product.source_text, "domain"), "domain",
        product.domain.empty() ? "required field is missing (the product's domain is '" +
                                     domain.name + "')"
                               : "'" + product.domain + "' does not match the domain folder '" +
                                     domain.name + "'");
  }
  CheckOutputPorts(bundle);
  CheckInputPorts(bundle);
  for (const auto& [id, contract] : bundle.contracts) CheckContract(contract);
  if (bundle.pipeline) {
    CheckPipeline(bundle, *bundle.pipeline);
    internal::CheckPipelineSteps(mesh_, domain, bundle, *bundle.pipeline, problems_);
  }
}

void MeshValidator::CheckOutputPorts(const ProductBundle& bundle) {
  const Product& product = bundle.product;
  std::set<std::string> names;
  for (size_t i = 0; i < product.output_ports.size(); ++i) {
    const OutputPort& port = product.output_ports[i];
    std::string path = Indexed("outputPorts", i);
    CheckSqlName(port.location, path + ".name", "output port", port.name);
    if (!port.name.empty() && !names.insert(port.name).second) {
      Add(port.location, path + ".name", "output port '" + port.name + "' is declared twice");
    }
    if (port.contract_id.empty()) {
      Add(port.location, path + ".contractId", "required field is missing");
      continue;
    }
    auto contract = bundle.contracts.find(port.contract_id);
    if (contract == bundle.contracts.end()) {
      Add(port.location, path + ".contractId",
          "no contract with id '" + port.contract_id + "' in this product's contracts/ folder");
      continue;
    }
    CheckPortTable(bundle, port, contract->second);
  }
}

void MeshValidator::CheckPortTable(const ProductBundle& bundle, const OutputPort& port,
                                   const Contract& contract) {
  size_t named = 0;
  for (const SchemaObject& object : contract.schema) named += object.name == port.name ? 1 : 0;
  if (named == 1 || (named == 0 && contract.schema.size() == 1)) return;
  std::string message =
      named > 1 ? "several schema objects are named '" + port.name + "'"
                : "no schema object for output port '" + port.name + "': name one like the port" +
                      (contract.schema.empty() ? "" : " or keep a single one");
  Add(KeyLocation(contract.location, contract.source_text, "schema"), "schema", message);
}

void MeshValidator::CheckInputPorts(const ProductBundle& bundle) {
  const Product& product = bundle.product;
  std::set<std::string> names;
  for (size_t i = 0; i < product.input_ports.size(); ++i) {
    const InputPort& port = product.input_ports[i];
    std::string path = Indexed("inputPorts", i);
    if (!port.name.empty() && !names.insert(port.name).second) {
      Add(port.location, path + ".name", "input port '" + port.name + "' is declared twice");
    }
    if (port.contract_id.empty()) {
      Add(port.location, path + ".contractId", "required field is missing");
      continue;
    }
    auto upstream = port_by_contract_.find(port.contract_id);
    if (upstream == port_by_contract_.end()) {
      Add(port.location, path + ".contractId",
          "no output port in the mesh has the contract '" + port.contract_id + "'");
    } else if (upstream->second.bundle == &bundle) {
      Add(port.location, path + ".contractId",
          "'" + port.contract_id + "' is an output port of this same product; an input port "
          "reads another product");
    }
  }
}

void MeshValidator::CheckContract(const Contract& contract) {
  static const std::set<std::string> kStatuses = {"proposed", "draft", "active", "deprecated",
                                                  "retired"};
  if (!contract.status.empty() && kStatuses.count(contract.status) == 0) {
    Add(KeyLocation(contract.location, contract.source_text, "status"), "status",
        "'" + contract.status +
            "' is not a Plexus status (expected one of: proposed, draft, active, deprecated, "
            "retired)");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < contract.schema.size(); ++i) {
    const SchemaObject& object = contract.schema[i];
    if (!object.name.empty() && !names.insert(object.name).second) {
      Add(object.location, Indexed("schema", i) + ".name",
          "schema object '" + object.name + "' is declared twice");
    }
    CheckProperties(contract, i);
  }
}

void MeshValidator::CheckProperties(const Contract& contract, size_t object_index) {
  const SchemaObject& object = contract.schema[object_index];
  std::set<std::string> names;
  for (size_t j = 0; j < object.properties.size(); ++j) {
    const Property& p = object.properties[j];
    std::string path = Indexed(Indexed("schema", object_index) + ".properties", j);
    if (!p.name.empty() && !names.insert(p.name).second) {
      Add(p.location, path + ".name", "property '" + p.name + "' is declared twice");
    }
    if (p.primary_key && !p.required) {
      Add(p.location, path + ".required",
          "primary key column '" + p.name + "' must be required (add required: true)");
    }
    bool known = p.logical_type.empty() ||
                 std::find(kLogicalTypes.begin(), kLogicalTypes.end(), p.logical_type) !=
                     kLogicalTypes.end();
    if (!known) {
      Add(p.location, path + ".logicalType",
          "'" + p.logical_type + "' is not an ODCS logical type");
    }
    if (!p.physical_type.empty() &&
        p.physical_type.find_first_not_of(" \t\r\n") == std::string::npos) {
      Add(p.location, path + ".physicalType", "must not be empty");
    }
    CheckGlossaryLinks(p, path);
  }
}

/// Every `glossary:<id>` authoritativeDefinition names a term of the mesh's glossary.
void MeshValidator::CheckGlossaryLinks(const Property& property, const std::string& path) {
  const auto& definitions = property.authoritative_definitions;
  for (size_t k = 0; k < definitions.size(); ++k) {
    if (!definitions[k].url.starts_with(kGlossaryUrlPrefix)) continue;
    std::string id = GlossaryIdOfUrl(definitions[k].url);
    if (glossary_.Find(id) != nullptr) continue;
    Add(definitions[k].location, Indexed(path + ".authoritativeDefinitions", k) + ".url",
        "unknown glossary term '" + id + "' " +
            (mesh_.glossary_file.empty()
                 ? "(the mesh has no glossary: name one in mesh.yaml, glossary: glossary.yaml)"
                 : "(see " + mesh_.glossary_file + ")"));
  }
}

void MeshValidator::CheckPipelineInputs(const ProductBundle& bundle, const Pipeline& pipeline) {
  std::set<std::string> names;
  for (size_t i = 0; i < pipeline.inputs.size(); ++i) {
    const PipelineInput& input = pipeline.inputs[i];
    std::string path = Indexed("inputs", i);
    CheckSqlName(input.location, path + ".name", "pipeline input", input.name);
    if (!input.name.empty() && !names.insert(input.name).second) {
      Add(input.location, path + ".name", "input '" + input.name + "' is declared twice");
    }
    if (!input.input_port.empty()) {
      const auto& ports = bundle.product.input_ports;
      bool found = std::any_of(ports.begin(), ports.end(),
                               [&](const InputPort& p) { return p.name == input.input_port; });
      if (!found) {
        Add(input.location, path + ".inputPort",
            "the product has no input port named '" + input.input_port + "'");
      }
    }
    std::error_code ec;
    if (!input.file.empty() && !bundle.dir.empty() &&
        !fs::exists(fs::path(bundle.dir) / input.file, ec)) {
      Add(input.location, path + ".file",
          "no such file: " + (fs::path(bundle.dir) / input.file).string());
    }
  }
}

void MeshValidator::CheckPipeline(const ProductBundle& bundle, const Pipeline& pipeline) {
  CheckPipelineInputs(bundle, pipeline);
  const auto& ports = bundle.product.output_ports;
  std::set<std::string> built;
  for (size_t i = 0; i < pipeline.outputs.size(); ++i) {
    const PipelineOutput& output = pipeline.outputs[i];
    std::string path = Indexed("outputs", i);
    bool found = std::any_of(ports.begin(), ports.end(),
                             [&](const OutputPort& p) { return p.name == output.port; });
    if (!found && !output.port.empty()) {
      Add(output.location, path + ".port",
          "the product has no output port named '" + output.port + "'");
    }
    if (!output.port.empty() && !built.insert(output.port).second) {
      Add(output.location, path + ".port", "output port '" + output.port + "' is built twice");
    }
    if (output.sql.empty() && output.from.empty() && pipeline.inputs.size() != 1) {
      Add(output.location, path + ".sql",
          "required field is missing (sql may be left out only with `from` or exactly one "
          "input)");
    }
  }
  for (const OutputPort& port : ports) {
    if (!port.name.empty() && built.count(port.name) == 0) {
      Add(KeyLocation(pipeline.location, pipeline.source_text, "outputs"), "outputs",
          "output port '" + port.name + "' has no pipeline output that builds it");
    }
  }
}

}  // namespace

Status ValidateMesh(const Mesh& mesh, std::vector<Diagnostic>* problems) {
  std::vector<Diagnostic> local;
  std::vector<Diagnostic>* sink = problems != nullptr ? problems : &local;
  size_t first = sink->size();
  MeshValidator(mesh, sink).Run();
  return ProblemsStatus(*sink, first);
}

}  // namespace plexus::spec
