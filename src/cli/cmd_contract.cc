// File: cli/cmd_contract.cc
//
// plexus fmt FILE... [--check | --write]
// plexus contract export FILE --format duckdb|postgres|jsonschema [--object NAME]
// plexus contract infer DATAFILE [--name N] [--id ID] [--format csv|json|ndjson|parquet]
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/cli.h"
#include "plexus/common/file.h"
#include "plexus/spec/format.h"
#include "tools/contract_tools.h"

namespace plexus::cli {
namespace {

struct FmtOptions {
  std::vector<std::string> files;
  bool check = false;
  bool write = false;
};

Status WriteFileText(const std::string& path, const std::string& text) {
  std::string temp = path + ".plexus-fmt.tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return IOError(temp + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);  // atomic: a reader sees the old or the new file
  if (ec) return IOError(path + ": " + ec.message());
  return Status::OK();
}

/// Formats every file; prints, checks or rewrites as asked. The first unreadable or invalid
/// file's problems are printed and the others still processed.
Status Fmt(const FmtOptions& options) {
  std::vector<spec::Diagnostic> problems;
  std::vector<std::string> changed;
  Status first;
  for (const std::string& file : options.files) {
    Result<std::string> formatted = spec::FormatFile(file, &problems);
    if (!formatted.ok()) {
      if (first.ok()) first = formatted.status();
      continue;
    }
    if (!options.check && !options.write) {
      std::cout << *formatted;
      continue;
    }
    PLEXUS_ASSIGN_OR_RETURN(std::string original, ReadFileText(file));
    if (original == *formatted) continue;
    changed.push_back(file);
    if (options.write) {
      PLEXUS_RETURN_IF_ERROR(WriteFileText(file, *formatted));
      std::cout << "formatted " << file << "\n";
    } else {
      std::cout << file << ": not in canonical form (plexus fmt --write " << file << ")\n";
    }
  }
  PrintProblems(problems);
  if (!first.ok()) return first;
  if (options.check && !changed.empty()) {
    return FailedPrecondition(std::to_string(changed.size()) + " of " +
                              std::to_string(options.files.size()) +
                              " files would be reformatted");
  }
  return Status::OK();
}

struct ExportOptions {
  std::string file;
  std::string format;
  std::string object;
};

Status Export(const ExportOptions& options) {
  std::vector<spec::Diagnostic> problems;
  Result<spec::Contract> contract = spec::ParseContractFile(options.file, &problems);
  if (!contract.ok()) {
    PrintProblems(problems);
    return contract.status();
  }
  if (options.format == "jsonschema") {
    PLEXUS_ASSIGN_OR_RETURN(std::string schema,
                            tools::ContractJsonSchema(*contract, options.object));
    std::cout << schema;
    return Status::OK();
  }
  tools::DdlDialect dialect =
      options.format == "postgres" ? tools::DdlDialect::kPostgres : tools::DdlDialect::kDuckDb;
  if (!options.object.empty()) {
    std::erase_if(contract->schema,
                  [&](const spec::SchemaObject& o) { return o.name != options.object; });
    if (contract->schema.empty()) {
      return NotFound(options.file + ": no schema object named '" + options.object + "'");
    }
  }
  std::cout << tools::ContractDdl(*contract, dialect);
  return Status::OK();
}

void SetupExport(CLI::App& sub, Context& ctx) {
  auto options = std::make_shared<ExportOptions>();
  sub.add_option("file", options->file, "An .odcs.yaml contract")->required();
  sub.add_option("--format", options->format, "duckdb, postgres or jsonschema")
      ->required()
      ->check(CLI::IsMember({"duckdb", "postgres", "jsonschema"}));
  sub.add_option("--object", options->object, "Only this schema object (table)");
  sub.callback([&ctx, options] { ctx.action = [options] { return Export(*options); }; });
}

void SetupInfer(CLI::App& sub, Context& ctx) {
  auto file = std::make_shared<std::string>();
  auto options = std::make_shared<tools::InferOptions>();
  sub.add_option("datafile", *file, "A CSV, JSON, NDJSON or Parquet file")->required();
  sub.add_option("--name", options->name, "Contract and table name (default: the file's name)");
  sub.add_option("--id", options->id, "Contract id (default: <name>-contract)");
  sub.add_option("--format", options->format, "csv, json, ndjson or parquet (default: by extension)")
      ->check(CLI::IsMember({"csv", "json", "ndjson", "parquet"}));
  sub.callback([&ctx, file, options] {
    ctx.action = [file, options]() -> Status {
      PLEXUS_ASSIGN_OR_RETURN(std::string yaml, tools::InferContract(*file, *options));
      std::cout << yaml;
      return Status::OK();
    };
  });
}

}  // namespace

void SetupFmt(CLI::App& sub, Context& ctx) {
  auto options = std::make_shared<FmtOptions>();
  sub.add_option("files", options->files, "YAML files (.odcs.yaml, .odps.yaml, Plexus files)")
      ->required();
  auto* check = sub.add_flag("--check", options->check,
                             "Exit 1, naming them, when files are not in canonical form");
  sub.add_flag("--write", options->write, "Rewrite the files that are not in canonical form")
      ->excludes(check);
  sub.callback([&ctx, options] { ctx.action = [options] { return Fmt(*options); }; });
}

void SetupContract(CLI::App& sub, Context& ctx) {
  sub.require_subcommand(1);
  SetupExport(*sub.add_subcommand("export", "Print a contract's tables as DDL or JSON Schema"),
              ctx);
  SetupInfer(*sub.add_subcommand("infer", "Draft an ODCS v3.1.0 contract from a data file"),
             ctx);
}

}  // namespace plexus::cli
