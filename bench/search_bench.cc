// File: bench/search_bench.cc
//
// Catalog search at scale (issue 4): generates a catalog of N products (default 100,000) with
// about 20 columns each (2,000,000 columns), business names, descriptions, tags, owners and a
// glossary, applied through Catalog::Apply; times the index build (Catalog::RebuildSearchIndex,
// products/s); then runs a fixed mix of queries (common and rare words, several words, business
// names, prefixes, typos) two ways, interleaved, several rounds:
//   plexus  discovery::SearchIndex::Search as a consumer outside every domain: FTS5 match,
//           visibility, ranking with trust and usage, facets, highlights of the page, glossary
//   bare    the same FTS5 expression on a bare SQLite FTS5 table holding the same documents
//           (same tokenizer and BM25 weights): SELECT rowid ... ORDER BY bm25 LIMIT 20
// Reports p50 and p95 latency of each (per-query medians over the rounds) and their ratios
// (targets: plexus p95 < 20 ms, ratio <= 1.5).
//
//   build/plexus_search_bench --work build/bench-search --out bench/results
//       [--products 100000] [--rounds 5] [--reuse 1]
// The catalog in --work is kept between runs (generated and applied once per size); --reuse 1
// also keeps its search index and the bare table as the last run left them (no build rate).
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "plexus/catalog/catalog.h"
#include "plexus/discovery/search.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string work = "build/bench-search";
  std::string out = "bench/results";
  int products = 100000;
  int rounds = 5;
  bool reuse = false;  ///< keep the index and the bare table of the last run
};

size_t kBusinessWords = 0;  ///< Words() starts with this many business words, then jargon

// Business words, most common first: picked with a Zipf-like skew, as real vocabularies are.
const std::vector<std::string>& Words() {
  static const std::vector<std::string> words = [] {
    std::vector<std::string> w;
    std::istringstream in(
        "customer order payment product account invoice revenue sales date amount status "
        "region country store item price quantity discount shipment delivery return refund "
        "subscription contract supplier vendor inventory warehouse stock channel campaign "
        "marketing lead opportunity pipeline forecast budget cost margin profit tax currency "
        "transaction balance ledger journal entry employee department salary payroll hire "
        "contractor vacancy applicant interview training course enrolment student teacher "
        "grade exam patient doctor appointment diagnosis treatment prescription claim policy "
        "premium coverage risk fraud alert incident ticket support agent call chat email "
        "message notification device sensor reading temperature pressure energy meter tariff "
        "vehicle route trip driver passenger fleet fuel maintenance repair part component "
        "assembly factory machine batch lot quality defect inspection audit compliance "
        "regulation license permit property tenant lease rent mortgage loan credit debit card "
        "merchant terminal settlement chargeback dispute session visit page click impression "
        "conversion funnel cohort retention churn lifetime value segment persona household "
        "address postcode city latitude longitude timezone calendar holiday weather forecast "
        "demand supply plan schedule shift roster booking reservation room flight hotel "
        "airline seat fare loyalty points reward voucher coupon promotion bundle catalog "
        "category brand model variant size colour material review rating feedback survey "
        "response score nps complaint escalation resolution sla breach latency throughput "
        "capacity utilisation forecasted actual target variance quarterly monthly weekly daily "
        "hourly snapshot history current active inactive closed open pending approved rejected "
        "cancelled completed shipped delivered returned refunded paid unpaid overdue");
    for (std::string word; in >> word;) w.push_back(word);
    kBusinessWords = w.size();
    // A company's own jargon: system, team and product names, codes. Made of syllables,
    // deterministic; after the common words, so they are rarer.
    static const char* kSyllables[] = {"ka", "lo", "ri", "ven", "to", "mar", "sel", "qui",
                                       "dor", "an", "be", "cu", "pha", "zen", "tri", "ol",
                                       "gan", "es", "mi", "rux"};
    std::mt19937_64 rng(11);
    std::set<std::string> seen(w.begin(), w.end());
    while (w.size() < 4300) {
      std::string word;
      for (int n = 2 + static_cast<int>(rng() % 2); n > 0; n--) word += kSyllables[rng() % 20];
      if (seen.insert(word).second) w.push_back(word);
    }
    return w;
  }();
  return words;
}

/// Cumulative Zipf-Mandelbrot weights 1 / (i + 1 + q) over n items, normalised.
std::vector<double> ZipfCumulative(size_t n, double q) {
  std::vector<double> c;
  double sum = 0;
  for (size_t i = 0; i < n; i++) c.push_back(sum += 1.0 / (i + 1 + q));
  for (double& x : c) x /= sum;
  return c;
}

// Text is drawn as a company's catalog reads: each domain has its topic (60 business words,
// 200 of its own jargon), which three words in four come from, most common first (Zipf); the
// fourth comes from the whole vocabulary (Zipf-Mandelbrot, q = 20: a flat head, as business
// nouns are rarer than "the"); every third word is a stopword.
struct Generator {
  std::mt19937_64 rng{42};
  const std::vector<std::string>* topic = nullptr;
  size_t Pick(const std::vector<double>& cumulative) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    size_t i = std::lower_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin();
    return std::min(i, cumulative.size() - 1);
  }
  std::string Word() {
    static const std::vector<double> global = ZipfCumulative(Words().size(), 20);
    static const std::vector<double> local = ZipfCumulative(260, 0);
    if (topic != nullptr && rng() % 4 != 0) return (*topic)[Pick(local) % topic->size()];
    return Words()[Pick(global)];
  }
  /// A domain's topic: business words (common ones likelier) and jargon, shuffled.
  std::vector<std::string> Topic() {
    (void)Words();  // sets kBusinessWords
    static const std::vector<double> business = ZipfCumulative(kBusinessWords, 20);
    std::set<std::string> picked;
    while (picked.size() < 60) picked.insert(Words()[Pick(business)]);
    while (picked.size() < 260) {
      picked.insert(Words()[kBusinessWords + rng() % (Words().size() - kBusinessWords)]);
    }
    std::vector<std::string> out(picked.begin(), picked.end());
    std::shuffle(out.begin(), out.end(), rng);
    return out;
  }
  /// Any word, each as likely: what a person looks for is a term, not a frequent one.
  std::string AnyWord() { return Words()[rng() % Words().size()]; }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  std::string Sentence(int lo, int hi) {
    static const char* kGlue[] = {"the", "of", "per", "for", "and", "by", "with", "each"};
    std::string s;
    int n = Int(lo, hi);
    for (int i = 0; i < n; i++) {
      s += (i ? " " : "") + ((i % 3 == 1) ? std::string(kGlue[Int(0, 7)]) : Word());
    }
    return s + ".";
  }
};

/// Usernames as people have them: a word and a number (jsmith42), one token.
std::string Owner(int n) { return Words()[kBusinessWords + n % 997] + std::to_string(n); }

plexus::spec::Mesh GenerateMesh(int products) {
  Generator g;
  plexus::spec::Mesh mesh;
  mesh.name = "bench";
  mesh.access.default_visibility = "restricted";
  const int domains = std::max(1, products / 500);
  static const char* kClass[] = {"public", "internal", "internal", "confidential", "pii"};
  static const char* kVisibility[] = {"restricted", "restricted", "restricted", "restricted",
                                      "restricted", "restricted", "restricted", "public",
                                      "public", "private"};
  static const char* kStatus[] = {"active", "active", "active", "active", "active",
                                  "active", "draft", "deprecated"};
  std::vector<std::vector<std::string>> topics;
  for (int d = 0; d < domains; d++) {
    topics.push_back(g.Topic());
    plexus::spec::Domain domain;
    domain.name = "domain_" + std::to_string(d) + "_" + g.Word();
    domain.owners = {Owner(d)};
    mesh.domains.push_back(domain);
  }
  for (int p = 0; p < products; p++) {
    auto& domain = mesh.domains[p % domains];
    g.topic = &topics[p % domains];
    plexus::spec::ProductBundle bundle;
    auto& product = bundle.product;
    product.name = g.Word() + "_" + g.Word() + "_" + std::to_string(p);
    product.id = "urn:bench:" + domain.name + ":" + product.name;
    product.version = "1.0.0";
    product.status = kStatus[g.Int(0, 7)];
    product.purpose = g.Sentence(8, 24);
    product.usage = g.Sentence(4, 12);
    product.team_name = domain.name + " team";
    product.team.push_back({Owner(p % 2000), "", "owner"});
    for (int t = g.Int(1, 4); t > 0; t--) product.tags.push_back(g.Word());
    plexus::spec::OutputPort port;
    port.name = product.name;
    port.version = "1.0.0";
    port.contract_id = product.id + ":contract";
    port.description = g.Sentence(5, 12);
    product.output_ports.push_back(port);
    plexus::spec::Contract contract;
    contract.id = port.contract_id;
    contract.version = "1.0.0";
    contract.status = "active";
    contract.visibility = kVisibility[g.Int(0, 9)];
    plexus::spec::SchemaObject table;
    table.name = port.name;
    int columns = g.Int(10, 30);
    for (int c = 0; c < columns; c++) {
      plexus::spec::Property prop;
      std::string a = g.Word(), b = g.Word();
      prop.name = a + "_" + b + "_" + std::to_string(c);
      prop.business_name = a + " " + b;
      prop.business_name[0] = static_cast<char>(std::toupper(prop.business_name[0]));
      prop.description = g.Sentence(4, 12);
      prop.logical_type = "string";
      prop.classification = kClass[g.Int(0, 4)];
      table.properties.push_back(prop);
    }
    contract.schema.push_back(table);
    bundle.contracts[contract.id] = contract;
    domain.products.push_back(std::move(bundle));
  }
  return mesh;
}

// The query mix: terms (any word alike), common words, two and three words (a business name
// is two), prefixes as typed, typos, tags and owners.
std::vector<std::string> Queries() {
  Generator g;
  g.rng.seed(7);
  std::vector<std::string> q;
  for (int i = 0; i < 30; i++) q.push_back(g.AnyWord());
  for (int i = 0; i < 10; i++) q.push_back(g.Word());
  for (int i = 0; i < 15; i++) q.push_back(g.Word() + " " + g.AnyWord());
  for (int i = 0; i < 10; i++) q.push_back(g.AnyWord() + " " + g.AnyWord());
  for (int i = 0; i < 5; i++) q.push_back(g.Word() + " " + g.Word() + " " + g.AnyWord());
  for (int i = 0; i < 10; i++) {
    std::string word = g.AnyWord();
    q.push_back(word.substr(0, std::max<size_t>(3, word.size() * 2 / 3)));
  }
  for (int i = 0; i < 10; i++) {
    std::string word;
    while (word.size() < 5) word = g.AnyWord();
    std::swap(word[1], word[2]);
    q.push_back(word);
  }
  for (int i = 0; i < 5; i++) q.push_back(g.Word() + " " + g.Word());
  for (int i = 0; i < 5; i++) q.push_back(Owner(i * 37));
  return q;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * v.size())) - 1;
  return v[std::min(i, v.size() - 1)];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

/// CPU time of this thread, ms: on a machine shared with other work, wall time also counts
/// the time the thread waited for a core; CPU time does not.
double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int Fail(const std::string& what) {
  std::cerr << "search_bench: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--work") o.work = argv[i + 1];
    else if (a == "--out") o.out = argv[i + 1];
    else if (a == "--products") o.products = std::stoi(argv[i + 1]);
    else if (a == "--rounds") o.rounds = std::stoi(argv[i + 1]);
    else if (a == "--reuse") o.reuse = std::string(argv[i + 1]) == "1";
    else return Fail("unknown option " + a);
  }
  fs::create_directories(o.out);
  std::string home_dir = o.work + "/home-" + std::to_string(o.products);
  bool fresh = !fs::exists(home_dir + "/catalog.db");
  auto home = plexus::catalog::Home::Prepare(home_dir);
  if (!home.ok()) return Fail(home.status().ToString());
  auto catalog = plexus::catalog::Catalog::Open(*home);
  if (!catalog.ok()) return Fail(catalog.status().ToString());
  double apply_seconds = 0;
  if (fresh) {
    std::cerr << "search_bench: generating and applying " << o.products << " products\n";
    auto mesh = GenerateMesh(o.products);
    auto start = Clock::now();
    auto applied = (*catalog)->Apply(mesh, "bench");
    if (!applied.ok()) {
      fs::remove_all(home_dir);
      return Fail(applied.status().ToString());
    }
    apply_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::cerr << "search_bench: apply took " << apply_seconds << " s\n";
  }
  std::string bare_path = o.work + "/bare-" + std::to_string(o.products) + ".db";
  bool reuse = o.reuse && !fresh && fs::exists(bare_path);
  double build_seconds = 0, build_rate = 0;
  if (!reuse) {
    auto start = Clock::now();
    auto indexed = (*catalog)->RebuildSearchIndex();
    if (!indexed.ok()) return Fail(indexed.status().ToString());
    build_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    build_rate = *indexed / build_seconds;
    std::cerr << "search_bench: indexed " << *indexed << " products in " << build_seconds
              << " s (" << build_rate << " products/s)\n";
    fs::remove(bare_path);
  }

  // The bare side: the same documents in a plain FTS5 table of its own file.
  sqlite3* bare = nullptr;
  sqlite3_open(bare_path.c_str(), &bare);
  std::string weights;
  for (const auto& f : plexus::catalog::kSearchFields) weights += ", " + std::to_string(f.weight);
  std::string setup = reuse ? std::string() :
      "ATTACH '" + home_dir + "/catalog.db' AS c; "
      "CREATE VIRTUAL TABLE bare USING fts5(name, tags, description, columns, business, "
      "glossary, owners, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'); "
      "INSERT INTO bare (rowid, name, tags, description, columns, business, glossary, owners) "
      "SELECT rowid, name, tags, description, columns, business, glossary, owners "
      "FROM c.search_fts; DETACH c;";
  char* error = nullptr;
  if (sqlite3_exec(bare, setup.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    return Fail(std::string("bare table: ") + (error ? error : "?"));
  }
  sqlite3_stmt* bare_query = nullptr;
  std::string bare_sql = "SELECT rowid, bm25(bare" + weights +
                         ") AS r FROM bare WHERE bare MATCH ? ORDER BY r LIMIT 20";
  sqlite3_prepare_v2(bare, bare_sql.c_str(), -1, &bare_query, nullptr);

  plexus::discovery::SearchIndex index(catalog->get());
  plexus::access::Principal consumer;
  consumer.name = "consumer";
  consumer.kind = "user";
  std::vector<std::string> queries = Queries();
  std::vector<std::string> expressions;
  for (const auto& q : queries) {
    auto e = index.Expression(consumer, q);
    if (!e.ok()) return Fail(e.status().ToString());
    expressions.push_back(*e);
  }
  std::vector<std::vector<double>> ours(queries.size()), theirs(queries.size());
  std::vector<std::vector<double>> ours_cpu(queries.size()), theirs_cpu(queries.size());
  std::vector<int64_t> totals(queries.size());
  plexus::discovery::SearchOptions options;
  options.limit = 20;
  options.highlight = std::getenv("BENCH_SEARCH_NO_HIGHLIGHT") == nullptr;
  for (int round = 0; round <= o.rounds; round++) {  // round 0 warms the caches
    for (size_t i = 0; i < queries.size(); i++) {
      options.text = queries[i];
      double c0 = ThreadCpuMs();
      auto t0 = Clock::now();
      auto found = index.Search(consumer, options);
      auto t1 = Clock::now();
      double c1 = ThreadCpuMs();
      if (!found.ok()) return Fail(queries[i] + ": " + found.status().ToString());
      totals[i] = found->total;
      sqlite3_reset(bare_query);
      sqlite3_bind_text(bare_query, 1, expressions[i].c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(bare_query) == SQLITE_ROW) {
      }
      auto t2 = Clock::now();
      double c2 = ThreadCpuMs();
      if (round == 0) continue;
      ours[i].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      theirs[i].push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
      ours_cpu[i].push_back(c1 - c0);
      theirs_cpu[i].push_back(c2 - c1);
    }
  }
  sqlite3_finalize(bare_query);
  sqlite3_close(bare);
  std::vector<double> ours_ms, theirs_ms, ours_cpu_ms, theirs_cpu_ms;
  double log_ratio = 0;
  nlohmann::json per_query = nlohmann::json::array();
  for (size_t i = 0; i < queries.size(); i++) {
    ours_ms.push_back(Median(ours[i]));
    theirs_ms.push_back(Median(theirs[i]));
    ours_cpu_ms.push_back(Median(ours_cpu[i]));
    theirs_cpu_ms.push_back(Median(theirs_cpu[i]));
    log_ratio += std::log(ours_ms.back() / std::max(1e-3, theirs_ms.back()));
    per_query.push_back({{"query", queries[i]}, {"expression", expressions[i]},
                         {"matches", totals[i]}, {"plexus_ms", ours_ms.back()},
                         {"bare_ms", theirs_ms.back()}, {"plexus_cpu_ms", ours_cpu_ms.back()},
                         {"bare_cpu_ms", theirs_cpu_ms.back()}});
  }
  double p50 = Percentile(ours_ms, 0.5), p95 = Percentile(ours_ms, 0.95);
  double c50 = Percentile(ours_cpu_ms, 0.5), c95 = Percentile(ours_cpu_ms, 0.95);
  double bc50 = Percentile(theirs_cpu_ms, 0.5), bc95 = Percentile(theirs_cpu_ms, 0.95);
  double b50 = Percentile(theirs_ms, 0.5), b95 = Percentile(theirs_ms, 0.95);
  double geomean = std::exp(log_ratio / queries.size());
  nlohmann::json report = {
      {"products", o.products},
      {"columns_approx", o.products * 20},
      {"apply_seconds", apply_seconds},
      {"index_build_seconds", build_seconds},
      {"index_build_products_per_second", build_rate},
      {"queries", queries.size()},
      {"rounds", o.rounds},
      {"plexus_p50_ms", p50},
      {"plexus_p95_ms", p95},
      {"bare_p50_ms", b50},
      {"bare_p95_ms", b95},
      {"ratio_p50", p50 / b50},
      {"ratio_p95", p95 / b95},
      {"ratio_geomean", geomean},
      {"plexus_cpu_p50_ms", c50},
      {"plexus_cpu_p95_ms", c95},
      {"bare_cpu_p50_ms", bc50},
      {"bare_cpu_p95_ms", bc95},
      {"per_query", per_query}};
  std::ofstream(o.out + "/search.json") << report.dump(2) << "\n";
  std::ostringstream md;
  md << "# Search at scale (issue 4)\n\n"
     << o.products << " products, about " << o.products * 20 << " columns; " << queries.size()
     << " queries, median of " << o.rounds << " rounds each.\n\n"
     << "| | p50 ms | p95 ms |\n|---|---|---|\n"
     << "| plexus search | " << p50 << " | " << p95 << " |\n"
     << "| bare FTS5 | " << b50 << " | " << b95 << " |\n"
     << "| ratio | " << p50 / b50 << " | " << p95 / b95 << " |\n\n"
     << "CPU time of the searching thread (what the wall time is when no other work waits for "
        "the cores):\n\n| | p50 ms | p95 ms |\n|---|---|---|\n"
     << "| plexus search | " << c50 << " | " << c95 << " |\n"
     << "| bare FTS5 | " << bc50 << " | " << bc95 << " |\n"
     << "| ratio | " << c50 / bc50 << " | " << c95 / bc95 << " |\n\n"
     << "Per-query ratio, geometric mean: " << geomean << ". Index build: "
     << (reuse ? std::string("not measured (--reuse 1)")
               : std::to_string(build_rate) + " products/s (" + std::to_string(build_seconds) +
                     " s)")
     << ". Targets: p95 < 20 ms, ratio <= 1.5.\n";
  std::ofstream(o.out + "/search.md") << md.str();
  std::cout << md.str();
  return 0;
}
