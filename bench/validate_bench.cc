// File: bench/validate_bench.cc
//
// How fast Plexus validates contracts, against a bare yaml-cpp parse of the same files:
// generates N ODCS v3.1.0 contracts (default 10,000; 5 to 40 columns each, with quality
// rules, servers, SLAs, team, roles and custom properties), then times, interleaved over
// several rounds, (a) reading each file and YAML::Load, (b) spec::ParseContractFile (read,
// parse, every schema check). Reports contracts/s for both and the ratio (target <= 3x).
//
//   build-3a/plexus_validate_bench --out bench/results [--count 10000] [--rounds 5]
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "plexus/spec/parse.h"

namespace {

namespace fs = std::filesystem;

struct Options {
  std::string out = "bench/results";
  std::string work;
  int count = 10000;
  int rounds = 5;
};

std::string Contract(int n) {
  static const char* kTypes[][2] = {{"string", "VARCHAR"}, {"integer", "BIGINT"},
                                    {"number", "DECIMAL(12,2)"}, {"date", "DATE"},
                                    {"timestamp", "TIMESTAMP"}, {"boolean", "BOOLEAN"}};
  std::ostringstream y;
  y << "apiVersion: v3.1.0\nkind: DataContract\nid: contract-" << n << "\nname: table_" << n
    << "\nversion: 1." << n % 7 << ".0\nstatus: active\ndomain: domain_" << n % 13
    << "\ndataProduct: product_" << n << "\ntags: [bench, generated]\n"
    << "description:\n  purpose: Generated contract number " << n
    << " for the validation benchmark.\n  usage: Benchmarks only.\nschema:\n"
    << "  - name: table_" << n << "\n    physicalType: table\n    description: Rows of table "
    << n << ".\n    properties:\n";
  int columns = 5 + n % 36;
  for (int c = 0; c < columns; ++c) {
    const auto& type = kTypes[(n + c) % 6];
    y << "      - name: column_" << c << "\n        logicalType: " << type[0]
      << "\n        physicalType: " << type[1] << "\n        description: Column " << c
      << " of table " << n << ".\n";
    if (c == 0) y << "        required: true\n        primaryKey: true\n        primaryKeyPosition: 1\n";
    if (c % 5 == 1) {
      y << "        quality:\n          - metric: nullValues\n            mustBe: 0\n"
        << "            dimension: completeness\n            severity: error\n";
    }
    if (c % 7 == 2) {
      y << "        customProperties:\n          - property: source\n            value: crm\n";
    }
  }
  y << "    quality:\n      - type: library\n        metric: rowCount\n"
    << "        mustBeGreaterThan: 0\n      - type: sql\n        query: SELECT count(*) FROM t\n"
    << "        mustBeLessThan: 1000000\n"
    << "servers:\n  - server: prod\n    type: postgres\n    host: db.internal\n    port: 5432\n"
    << "    database: warehouse\n    schema: public\n"
    << "team:\n  name: team_" << n % 13 << "\n  members:\n    - username: owner" << n % 50
    << "\n      role: owner\n"
    << "roles:\n  - role: reader\n    access: read\n"
    << "slaProperties:\n  - property: latency\n    value: 4\n    unit: h\n"
    << "customProperties:\n  - property: tier\n    value: gold\n";
  return y.str();
}

std::vector<std::string> Generate(const Options& options) {
  fs::create_directories(options.work);
  std::vector<std::string> files;
  for (int n = 0; n < options.count; ++n) {
    fs::path path = fs::path(options.work) / ("contract_" + std::to_string(n) + ".odcs.yaml");
    if (!fs::exists(path)) std::ofstream(path, std::ios::binary) << Contract(n);
    files.push_back(path.string());
  }
  return files;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Seconds to read and YAML::Load every file (the floor any YAML validator pays).
double BareParse(const std::vector<std::string>& files) {
  auto start = std::chrono::steady_clock::now();
  size_t nodes = 0;
  for (const std::string& file : files) nodes += YAML::Load(ReadAll(file)).size();
  if (nodes == 0) std::cerr << "bench: nothing parsed\n";
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Seconds to ParseContractFile every file; fails loudly when one does not validate.
double PlexusValidate(const std::vector<std::string>& files) {
  auto start = std::chrono::steady_clock::now();
  for (const std::string& file : files) {
    std::vector<plexus::spec::Diagnostic> problems;
    if (!plexus::spec::ParseContractFile(file, &problems).ok()) {
      std::cerr << "bench: " << file << " does not validate: " << problems[0].ToString() << "\n";
      std::exit(1);
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void Report(const Options& options, size_t bytes, double bare, double plexus) {
  double ratio = plexus / bare;
  nlohmann::ordered_json j = {
      {"contracts", options.count},
      {"bytes", bytes},
      {"rounds", options.rounds},
      {"bare_yaml_cpp_seconds", bare},
      {"plexus_validate_seconds", plexus},
      {"bare_yaml_cpp_contracts_per_s", options.count / bare},
      {"plexus_validate_contracts_per_s", options.count / plexus},
      {"ratio", ratio},
      {"target_ratio", 3.0},
      {"meets_target", ratio <= 3.0}};
  fs::create_directories(options.out);
  std::ofstream(fs::path(options.out) / "validate_bench.json") << j.dump(2) << "\n";
  std::ostringstream md;
  md.precision(3);
  md << "# Contract validation benchmark\n\n" << options.count << " generated ODCS v3.1.0 contracts ("
     << bytes / 1024 << " KiB), median of " << options.rounds << " interleaved rounds.\n\n"
     << "| | seconds | contracts/s |\n|---|---:|---:|\n"
     << "| bare yaml-cpp parse (read + YAML::Load) | " << bare << " | "
     << static_cast<long>(options.count / bare) << " |\n"
     << "| plexus validation (ParseContractFile) | " << plexus << " | "
     << static_cast<long>(options.count / plexus) << " |\n\n"
     << "Ratio plexus / bare: **" << ratio << "x** (target <= 3x: "
     << (ratio <= 3.0 ? "met" : "NOT met") << ").\n";
  std::ofstream(fs::path(options.out) / "validate_bench.md") << md.str();
  std::cout << md.str();
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--out") options.out = argv[i + 1];
    else if (flag == "--work") options.work = argv[i + 1];
    else if (flag == "--count") options.count = std::stoi(argv[i + 1]);
    else if (flag == "--rounds") options.rounds = std::stoi(argv[i + 1]);
    else { std::cerr << "usage: plexus_validate_bench [--out DIR] [--work DIR] [--count N] [--rounds R]\n"; return 2; }
  }
  if (options.work.empty()) {
    options.work = (fs::temp_directory_path() / ("plexus-validate-bench-" + std::to_string(options.count))).string();
  }
  std::vector<std::string> files = Generate(options);
  size_t bytes = 0;
  for (const std::string& file : files) bytes += fs::file_size(file);
  BareParse(files);  // warm the page cache
  std::vector<double> bare, plexus;
  for (int round = 0; round < options.rounds; ++round) {
    bare.push_back(BareParse(files));
    plexus.push_back(PlexusValidate(files));
  }
  Report(options, bytes, Median(bare), Median(plexus));
  return 0;
}
