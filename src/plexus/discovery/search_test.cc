// Catalog search over small meshes built in C++ and applied to a fresh catalog: what matches
// (business names, every word, prefixes, typos, words near nothing), text that is never syntax,
// visibility (results, totals and facets), facets and their filters, paging, and ranking by
// relevance, usage, trust and status; the index following a re-apply.
#include "plexus/discovery/search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "plexus/catalog/catalog_test_util.h"
#include "plexus/discovery/usage.h"

namespace plexus::discovery {
namespace {

using catalog::testing::ScratchHome;

struct ColumnSpec {
  std::string name;
  std::string business;
  std::string description;
  std::string classification;
};

struct PortSpec {
  std::string name;
  std::string visibility;  ///< empty: the mesh default (restricted)
  std::vector<ColumnSpec> columns;
  std::string version = "1.0.0";  ///< of the port and its contract
};

struct ProductSpec {
  std::string domain;
  std::string name;
  std::string purpose;
  std::vector<std::string> tags;
  std::vector<PortSpec> ports;
  std::string status = "active";
  std::string owner{};  ///< a team member with the role owner; empty: none
};

/// A mesh of the products; each domain's owner and member is "<domain>_owner".
spec::Mesh MeshOf(const std::vector<ProductSpec>& products) {
  spec::Mesh mesh;
  mesh.name = "test";
  mesh.access.default_visibility = "restricted";
  for (const auto& p : products) {
    auto domain = std::find_if(mesh.domains.begin(), mesh.domains.end(),
                               [&](const spec::Domain& d) { return d.name == p.domain; });
    if (domain == mesh.domains.end()) {
      spec::Domain d;
      d.name = p.domain;
      d.owners = {p.domain + "_owner"};
      d.members = {p.domain + "_owner"};
      mesh.domains.push_back(d);
      domain = mesh.domains.end() - 1;
    }
    spec::ProductBundle bundle;
    spec::Product& product = bundle.product;
    product.id = "urn:test:" + p.domain + ":" + p.name;
    product.name = p.name;
    product.version = "1.0.0";
    product.status = p.status;
    product.purpose = p.purpose;
    product.tags = p.tags;
    if (!p.owner.empty()) product.team = {{p.owner, p.owner, "owner"}};
    product.source_text = p.name + p.purpose + p.status;
    for (const auto& port : p.ports) {
      spec::OutputPort out;
      out.name = port.name;
      out.version = port.version;
      out.contract_id = product.id + ":" + port.name;
      product.output_ports.push_back(out);
      spec::Contract contract;
      contract.id = out.contract_id;
      contract.version = port.version;
      contract.status = "active";
      contract.visibility = port.visibility;
      spec::SchemaObject table;
      table.name = port.name;
      for (const auto& c : port.columns) {
        spec::Property property = catalog::testing::Column(c.name, c.classification);
        property.business_name = c.business;
        property.description = c.description;
        table.properties.push_back(property);
        contract.source_text += c.name + c.business + c.description + ";";
      }
      contract.schema.push_back(table);
      bundle.contracts[contract.id] = contract;
    }
    domain->products.push_back(bundle);
  }
  return mesh;
}

/// The shop: orders (a public port and a private one), customers, leads (restricted), and
/// hr's salaries (private) next to its public headcount.
std::vector<ProductSpec> Shop() {
  // clang-format off
  return {
      {"sales", "orders", "Every order placed in the shop.", {"sales", "finance"},
       {{"orders", "public",
         {{"order_id", "Order id", "Identifies the order.", "internal"},
          {"customer_id", "Customer id", "Who placed it.", "internal"},
          {"ordered_at", "Order date", "The day it was placed.", "internal"},
          {"amount", "Order amount", "What it cost.", "confidential"}}},
        {"refunds", "private",
         {{"refund_id", "Refund id", "", "internal"},
          {"refund_reason", "Refund reason", "Why the money went back.", "secret"}}}},
       "active", "sam"},
      {"crm", "customers", "Who the customers are.", {"crm"},
       {{"customers", "public",
         {{"customer_id", "Customer id", "Identifies the customer.", "internal"},
          {"email", "Email address", "Where to write.", "pii"},
          {"signed_up_on", "Sign-up date", "The day they joined.", "internal"}}}},
       "active", "cleo"},
      {"crm", "leads", "Prospects that are not yet customers.", {"crm", "sales"},
       {{"leads", "restricted",
         {{"lead_id", "Lead id", "", "internal"},
          {"score", "Lead score", "How warm.", "internal"}}}},
       "active", "cleo"},
      {"hr", "salaries", "What every employee is paid: the payroll.", {"finance", "payroll"},
       {{"salaries", "private",
         {{"employee_id", "Employee id", "", "internal"},
          {"salary", "Annual salary", "Before tax.", "secret"}}}},
       "active", "hank"},
      {"hr", "headcount", "How many employees each team has.", {"hr"},
       {{"headcount", "public",
         {{"team_name", "Team", "", "internal"},
          {"employees", "Number of employees", "", "internal"}}}},
       "active", "hank"},
  };
  // clang-format on
}

/// Two products alike in every word but their names' last letter: equal relevance.
std::vector<ProductSpec> Twins(const std::string& status_a = "active",
                               const std::string& status_b = "active") {
  auto twin = [](const std::string& name, const std::string& status) {
    return ProductSpec{"stock",
                       name,
                       "Units on hand, by place.",
                       {"inventory"},
                       {{name,
                         "public",
                         {{"warehouse_code", "Warehouse", "Where.", "internal"},
                          {"units", "Units on hand", "How many.", "internal"}}}},
                       status};
  };
  return {twin("stock_a", status_a), twin("stock_b", status_b)};
}

access::Principal Outsider() {
  access::Principal p;
  p.name = "olga";
  p.kind = "user";
  return p;
}

access::Principal MemberOf(const std::string& domain) {
  access::Principal p;
  p.name = domain + "_owner";
  p.kind = "user";
  p.domain_roles[domain] = "member";
  return p;
}

std::vector<std::string> Products(const SearchResponse& found) {
  std::vector<std::string> out;
  for (const auto& r : found.results) out.push_back(r.product);
  return out;
}

/// facet value -> count.
std::map<std::string, int64_t> Facet(const SearchResponse& found, const std::string& facet) {
  std::map<std::string, int64_t> out;
  auto it = found.facets.find(facet);
  if (it == found.facets.end()) return out;
  for (const auto& v : it->second) out[v.value] = v.count;
  return out;
}

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto home = catalog::Home::Prepare(ScratchHome());
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    auto opened = catalog::Catalog::Open(*home);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    catalog_ = std::move(opened).value();
    index_ = std::make_unique<SearchIndex>(catalog_.get());
    index_->set_usage_interval(std::chrono::seconds(0));
  }

  void Apply(const std::vector<ProductSpec>& products) {
    auto applied = catalog_->Apply(MeshOf(products), "ops");
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }

  SearchResponse Find(const std::string& text, const access::Principal& who = Outsider(),
                      std::map<std::string, std::vector<std::string>> filters = {},
                      size_t limit = 20, size_t offset = 0) {
    SearchOptions options;
    options.text = text;
    options.filters = std::move(filters);
    options.limit = limit;
    options.offset = offset;
    auto found = index_->Search(who, options);
    EXPECT_TRUE(found.ok()) << "\"" << text << "\": " << found.status().ToString();
    return found.ok() ? *found : SearchResponse{};
  }

  /// `n` allowed queries of `product` by `principal` in the audit trail, counted into usage.
  void Read(const std::string& product, const std::string& principal, int n) {
    for (int i = 0; i < n; i++) {
      catalog::AuditRecord r;
      r.principal = principal;
      r.action = "query";
      r.object = "SELECT units FROM " + product + "." + product.substr(product.find('.') + 1);
      r.products = {product};
      r.decision = "allow";
      r.detail = "cli";
      ASSERT_TRUE(catalog_->AppendAudit(r).ok());
    }
    auto counter = UsageCounter::Open(catalog_.get());
    ASSERT_TRUE(counter.ok()) << counter.status().ToString();
    ASSERT_TRUE((*counter)->Count().ok());
  }

  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<SearchIndex> index_;
};

// ---- what matches ---------------------------------------------------------------------------

TEST_F(SearchTest, AColumnsBusinessNameFindsItsProductFirst) {
  Apply(Shop());
  EXPECT_EQ(Products(Find("Sign-up date")).at(0), "crm.customers");
  EXPECT_EQ(Products(Find("Lead score")).at(0), "crm.leads");
  EXPECT_EQ(Products(Find("order amount")).at(0), "sales.orders");
  EXPECT_EQ(Products(Find("number of employees")).at(0), "hr.headcount");
  EXPECT_EQ(Products(Find("email address")), std::vector<std::string>{"crm.customers"});
}

TEST_F(SearchTest, EveryWordMustMatch) {
  Apply(Shop());
  auto one = Find("customer email");
  EXPECT_EQ(one.total, 1);
  EXPECT_EQ(Products(one), std::vector<std::string>{"crm.customers"});
  auto none = Find("email employees");  // each word matches a product, never the same one
  EXPECT_EQ(none.total, 0);
  EXPECT_TRUE(none.results.empty());
  EXPECT_TRUE(none.ignored.empty());
}

TEST_F(SearchTest, AWordIsAPrefix) {
  Apply(Shop());
  auto found = Find("cust");
  auto names = Products(found);
  std::set<std::string> products(names.begin(), names.end());
  EXPECT_EQ(products, (std::set<std::string>{"crm.customers", "crm.leads", "sales.orders"}));
  EXPECT_TRUE(found.corrections.empty());
  EXPECT_EQ(Products(Find("headc")), std::vector<std::string>{"hr.headcount"});
}

TEST_F(SearchTest, ATypoIsCorrectedAndSaid) {
  Apply(Shop());
  auto found = Find("custmer emial");
  ASSERT_EQ(found.corrections.size(), 2u);
  EXPECT_TRUE(found.corrections[0].starts_with("custmer: customer")) << found.corrections[0];
  EXPECT_TRUE(found.corrections[1].starts_with("emial: email")) << found.corrections[1];
  EXPECT_EQ(Products(found), std::vector<std::string>{"crm.customers"});
  // A transposition is one edit; eight letters and more allow two.
  EXPECT_EQ(Products(Find("prospecst")), std::vector<std::string>{"crm.leads"});
  auto two = Find("prozpekts");
  EXPECT_EQ(Products(two), std::vector<std::string>{"crm.leads"});
  EXPECT_EQ(two.corrections, std::vector<std::string>{"prozpekts: prospects"});
  // Under eight letters, two edits are too many: "emaol" is one, "enaol" two.
  EXPECT_EQ(Find("emaol").total, 1);
  EXPECT_EQ(Find("enaol").ignored, std::vector<std::string>{"enaol"});
}

TEST_F(SearchTest, AWordNearNothingIsLeftOutAndSaid) {
  Apply(Shop());
  auto alone = Find("zqxjvk");
  EXPECT_EQ(alone.ignored, std::vector<std::string>{"zqxjvk"});
  EXPECT_EQ(alone.total, 0);
  EXPECT_TRUE(alone.expression.empty());
  auto with = Find("zqxjvk email");
  EXPECT_EQ(with.ignored, std::vector<std::string>{"zqxjvk"});
  EXPECT_EQ(Products(with), std::vector<std::string>{"crm.customers"});
}

TEST_F(SearchTest, OperatorsQuotesAndControlCharactersAreText) {
  Apply(Shop());
  const std::vector<std::string> hostile = {"",
                                            " ",
                                            "\t\n",
                                            "orders AND (",
                                            "\"unbalanced",
                                            "NOT",
                                            "NOT orders",
                                            "orders OR",
                                            "orders NOT email",
                                            "*",
                                            "cust*",
                                            "^orders",
                                            "orders^",
                                            "name:orders",
                                            "columns:email",
                                            "{name columns}:email",
                                            "NEAR(orders customer)",
                                            "NEAR(orders, 2",
                                            "(((((",
                                            ")))",
                                            "\"\"",
                                            "''",
                                            "'; DROP TABLE search_fts; --",
                                            "-orders",
                                            "+orders",
                                            "orders -email",
                                            "a",
                                            "\x01\x02\x03orders\x7f\x1b[31m",
                                            std::string("ord\0ers", 7),
                                            "\xff\xfe\xfd",
                                            "\xc3(",
                                            "naïve Çustomer",
                                            std::string(5000, 'x'),
                                            "a b c d e f g h i j k l m n o p q r",
                                            std::string(kMarkOpen) + "email" + kMarkClose,
                                            "%_\\",
                                            "AND AND AND",
                                            "OR",
                                            "NEAR"};
  for (const auto& text : hostile) {
    SearchOptions options;
    options.text = text;
    auto found = index_->Search(MemberOf("hr"), options);
    ASSERT_TRUE(found.ok()) << "\"" << text << "\": " << found.status().ToString();
  }
  // Treated as words: the operators' words are looked for like any other.
  EXPECT_EQ(Find("").total, 0);
  EXPECT_EQ(Find("((( )))").total, 0);
  EXPECT_EQ(Products(Find("\"email\"")), std::vector<std::string>{"crm.customers"});
  EXPECT_EQ(Products(Find("email AND (")), std::vector<std::string>{"crm.customers"});
  EXPECT_EQ(Products(Find("\x01"
                          "email\x7f")),
            std::vector<std::string>{"crm.customers"});
  // ...and the index still answers afterwards.
  EXPECT_EQ(Products(Find("Sign-up date")).at(0), "crm.customers");
}

TEST_F(SearchTest, HighlightsMarkTheMatchedWordsOfTheMatchingLines) {
  Apply(Shop());
  auto found = Find("email");
  ASSERT_EQ(found.results.size(), 1u);
  std::map<std::string, std::string> by_field(found.results[0].highlights.begin(),
                                              found.results[0].highlights.end());
  EXPECT_EQ(by_field["columns"], std::string(kMarkOpen) + "email" + kMarkClose);
  EXPECT_EQ(RenderHighlight(by_field["business"], "[", "]", false),
            "[Email] address: Where to write.");
  EXPECT_EQ(found.results[0].ports, std::vector<std::string>{"customers"});
}

TEST_F(SearchTest, RenderHighlightEscapesHtml) {
  std::string marked = std::string("a <b> & \"") + kMarkOpen + "c" + kMarkClose;
  EXPECT_EQ(RenderHighlight(marked, "[", "]", false), "a <b> & \"[c]");
  EXPECT_EQ(RenderHighlight(marked, "<mark>", "</mark>", true),
            "a &lt;b&gt; &amp; &quot;<mark>c</mark>");
}

// ---- visibility -----------------------------------------------------------------------------

TEST_F(SearchTest, AnOutsiderNeverSeesAPrivatePortsProduct) {
  Apply(Shop());
  for (const std::string text : {"salary", "payroll", "annual salary", "salaries"}) {
    auto outsider = Find(text, Outsider());
    EXPECT_EQ(outsider.total, 0) << text;
    EXPECT_TRUE(outsider.results.empty()) << text;
    for (const char* facet : kFacets) EXPECT_TRUE(Facet(outsider, facet).empty()) << facet;
    auto member = Find(text, MemberOf("hr"));
    EXPECT_EQ(Products(member), std::vector<std::string>{"hr.salaries"}) << text;
    EXPECT_EQ(member.total, 1);
  }
  // A word both a private and a public product hold: the outsider counts only the public one.
  auto outsider = Find("employee", Outsider());
  EXPECT_EQ(Products(outsider), std::vector<std::string>{"hr.headcount"});
  EXPECT_EQ(outsider.total, 1);
  EXPECT_EQ(Facet(outsider, "domain"), (std::map<std::string, int64_t>{{"hr", 1}}));
  EXPECT_EQ(Facet(outsider, "tag"), (std::map<std::string, int64_t>{{"hr", 1}}));
  EXPECT_EQ(Facet(outsider, "classification"), (std::map<std::string, int64_t>{{"internal", 1}}));
  EXPECT_EQ(Facet(outsider, "owner"), (std::map<std::string, int64_t>{{"hank", 1}}));
  auto member = Find("employee", MemberOf("hr"));
  EXPECT_EQ(member.total, 2);
  EXPECT_EQ(Facet(member, "domain"), (std::map<std::string, int64_t>{{"hr", 2}}));
  EXPECT_EQ(Facet(member, "tag")["payroll"], 1);
  // Another domain's member is an outsider here.
  EXPECT_EQ(Find("payroll", MemberOf("sales")).total, 0);
}

TEST_F(SearchTest, APrivatePortOfAVisibleProductStaysHidden) {
  Apply(Shop());
  // The refunds port is private: its words find nothing, its port and classification are not
  // shown, though its product is (by its public port).
  EXPECT_EQ(Find("refund", Outsider()).total, 0);
  auto outsider = Find("orders", Outsider());
  auto orders = std::find_if(outsider.results.begin(), outsider.results.end(),
                             [](const SearchResult& r) { return r.product == "sales.orders"; });
  ASSERT_NE(orders, outsider.results.end());
  EXPECT_EQ(orders->ports, std::vector<std::string>{"orders"});
  EXPECT_EQ(Facet(outsider, "classification").count("secret"), 0u);
  auto member = Find("refund reason", MemberOf("sales"));
  ASSERT_EQ(Products(member), std::vector<std::string>{"sales.orders"});
  EXPECT_EQ(member.results[0].ports.at(0), "refunds");
  EXPECT_EQ(Facet(Find("orders", MemberOf("sales")), "classification")["secret"], 1);
  // A restricted port is known to exist (its data needs a grant): it is found.
  EXPECT_EQ(Products(Find("lead score", Outsider())).at(0), "crm.leads");
}

TEST_F(SearchTest, AProductWithoutPortsIsKnownToItsDomainOnly) {
  auto shop = Shop();
  shop.push_back({"ideas", "backlog", "Zeppelin ideas nobody built yet.", {"ideas"}, {}});
  Apply(shop);
  EXPECT_EQ(Find("zeppelin", Outsider()).total, 0);
  EXPECT_EQ(Products(Find("zeppelin", MemberOf("ideas"))),
            std::vector<std::string>{"ideas.backlog"});
}

// The vocabulary of typo corrections holds every document's words, private ones too: an outsider
// who misspells a word only a private port holds is told the word. Disabled until the
// corrections are drawn from what the principal may see (reported to the lead).
TEST_F(SearchTest, CorrectionsNeverNameAWordOnlyAPrivatePortHolds) {
  Apply(Shop());
  // A prefix of the private "payroll" reads like a word nothing holds...
  EXPECT_EQ(Find("payrol", Outsider()).ignored, std::vector<std::string>{"payrol"});
  // ...and a misspelling of it is not corrected to it.
  auto typo = Find("payrill", Outsider());
  for (const auto& c : typo.corrections) EXPECT_EQ(c.find("payroll"), std::string::npos) << c;
}

// ---- facets, filters, paging ----------------------------------------------------------------

TEST_F(SearchTest, FacetsCountProductsAndFiltersAreDisjunctive) {
  Apply(Shop());
  auto all = Find("customer");
  EXPECT_EQ(all.total, 3);
  EXPECT_EQ(Facet(all, "domain"), (std::map<std::string, int64_t>{{"crm", 2}, {"sales", 1}}));
  EXPECT_EQ(Facet(all, "tag"),
            (std::map<std::string, int64_t>{{"crm", 2}, {"sales", 2}, {"finance", 1}}));
  EXPECT_EQ(Facet(all, "status"), (std::map<std::string, int64_t>{{"active", 3}}));
  EXPECT_EQ(Facet(all, "owner"), (std::map<std::string, int64_t>{{"cleo", 2}, {"sam", 1}}));
  EXPECT_EQ(Facet(all, "classification")["pii"], 1);
  // Most products first.
  EXPECT_EQ(all.facets["domain"].at(0).value, "crm");

  // domain=crm: its own facet keeps the other values; the others count crm's products only.
  auto crm = Find("customer", Outsider(), {{"domain", {"crm"}}});
  EXPECT_EQ(crm.total, 2);
  EXPECT_EQ(Products(crm).size(), 2u);
  EXPECT_EQ(Facet(crm, "domain"), Facet(all, "domain"));
  EXPECT_EQ(Facet(crm, "tag"), (std::map<std::string, int64_t>{{"crm", 2}, {"sales", 1}}));
  EXPECT_EQ(Facet(crm, "owner"), (std::map<std::string, int64_t>{{"cleo", 2}}));

  // Values of one facet: any of them; facets: all of them; case does not matter.
  EXPECT_EQ(Find("customer", Outsider(), {{"domain", {"CRM", "sales"}}}).total, 3);
  auto both = Find("customer", Outsider(), {{"domain", {"crm"}}, {"tag", {"sales"}}});
  EXPECT_EQ(Products(both), std::vector<std::string>{"crm.leads"});
  EXPECT_EQ(Facet(both, "tag"), (std::map<std::string, int64_t>{{"crm", 2}, {"sales", 1}}));
  EXPECT_EQ(Facet(both, "domain"), (std::map<std::string, int64_t>{{"crm", 1}, {"sales", 1}}));
  EXPECT_EQ(Products(Find("customer", Outsider(), {{"classification", {"PII"}}})),
            std::vector<std::string>{"crm.customers"});
  EXPECT_EQ(Products(Find("customer", Outsider(), {{"owner", {"sam"}}})),
            std::vector<std::string>{"sales.orders"});
  EXPECT_EQ(Find("customer", Outsider(), {{"status", {"deprecated"}}}).total, 0);
  EXPECT_EQ(Find("customer", Outsider(), {{"domain", {"nowhere"}}}).total, 0);
  // A facet value only a private port has filters like an unknown one for an outsider.
  EXPECT_EQ(Find("orders", Outsider(), {{"classification", {"secret"}}}).total, 0);
  EXPECT_EQ(Find("orders", MemberOf("sales"), {{"classification", {"secret"}}}).total, 1);

  SearchOptions unknown;
  unknown.text = "customer";
  unknown.filters["colour"] = {"red"};
  auto refused = index_->Search(Outsider(), unknown);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SearchTest, PagesCoverEveryResultOnceWithAStableTotal) {
  std::vector<ProductSpec> many;
  for (int i = 0; i < 25; i++) {
    std::string name = "gadget_" + std::string(1, static_cast<char>('a' + i));
    many.push_back({"parts",
                    name,
                    "A gadget.",
                    {"gadgets"},
                    {{name, "public", {{"widget_" + std::to_string(i), "Widget", "", ""}}}}});
  }
  Apply(many);
  auto whole = Find("gadget", Outsider(), {}, 100);
  ASSERT_EQ(whole.total, 25);
  ASSERT_EQ(whole.results.size(), 25u);
  std::vector<std::string> paged;
  for (size_t offset : {0, 10, 20}) {
    auto page = Find("gadget", Outsider(), {}, 10, offset);
    EXPECT_EQ(page.total, 25);
    EXPECT_EQ(page.results.size(), offset == 20 ? 5u : 10u);
    EXPECT_EQ(Facet(page, "domain")["parts"], 25);
    for (const auto& p : Products(page)) paged.push_back(p);
  }
  EXPECT_EQ(paged, Products(whole));
  auto beyond = Find("gadget", Outsider(), {}, 10, 40);
  EXPECT_EQ(beyond.total, 25);
  EXPECT_TRUE(beyond.results.empty());
}

// ---- ranking --------------------------------------------------------------------------------

TEST_F(SearchTest, TwinsTieByName) {
  Apply(Twins());
  auto found = Find("warehouse");
  ASSERT_EQ(Products(found), (std::vector<std::string>{"stock.stock_a", "stock.stock_b"}));
  EXPECT_DOUBLE_EQ(found.results[0].score, found.results[1].score);
}

TEST_F(SearchTest, TheMoreReadTwinRanksFirst) {
  Apply(Twins());
  Read("stock.stock_b", "ann", 3);
  Read("stock.stock_b", "ben", 2);
  Read("stock.stock_a", "ann", 1);
  auto found = Find("warehouse");
  ASSERT_EQ(Products(found), (std::vector<std::string>{"stock.stock_b", "stock.stock_a"}));
  EXPECT_EQ(found.results[0].queries_30d, 5);
  EXPECT_EQ(found.results[0].readers_30d, 2);
  EXPECT_EQ(found.results[1].queries_30d, 1);
  EXPECT_EQ(found.results[1].readers_30d, 1);
  EXPECT_GT(found.results[0].score, found.results[1].score);
  EXPECT_DOUBLE_EQ(found.results[0].relevance, found.results[1].relevance);
}

TEST_F(SearchTest, UsageWeighsAtMostOneAndAHalf) {
  Apply(Twins());
  Read("stock.stock_b", "ann", 200);  // 1 + 0.1 ln(201) = 1.53: capped at 1.5
  auto found = Find("warehouse");
  ASSERT_EQ(found.results.size(), 2u);
  EXPECT_NEAR(found.results[0].score / found.results[1].score, 1.5, 1e-9);
}

TEST_F(SearchTest, ThePublishedTwinRanksFirst) {
  Apply(Twins());
  auto product = catalog_->GetProduct("stock.stock_b");
  ASSERT_TRUE(product.ok());
  auto run = catalog_->StartRun(product->id);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(catalog_->RecordPublication(product->outputs.at(0), 10, *run).ok());
  auto found = Find("warehouse");
  ASSERT_EQ(Products(found), (std::vector<std::string>{"stock.stock_b", "stock.stock_a"}));
  EXPECT_NEAR(found.results[0].trust - found.results[1].trust, 30, 1e-9);
}

/// A quality result of stock_b's port, checked now.
catalog::QualityResultRecord QualityOfB(const catalog::ProductRecord& b,
                                        const std::string& status) {
  catalog::QualityResultRecord r;
  r.product_id = b.id;
  r.port = b.outputs.at(0).name;
  r.major = b.outputs.at(0).major;
  r.rule = "units are counted";
  r.check = "nullValues";
  r.status = status;
  r.severity = "error";
  return r;
}

TEST_F(SearchTest, QualityChecksMoveTrust) {
  Apply(Twins());
  auto b = catalog_->GetProduct("stock.stock_b");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(catalog_->RecordQualityResults({QualityOfB(*b, "failed")}).ok());
  auto found = Find("warehouse");
  ASSERT_EQ(Products(found), (std::vector<std::string>{"stock.stock_a", "stock.stock_b"}));
  EXPECT_NEAR(found.results[0].trust - found.results[1].trust, 20, 1e-9);  // 0.5 -> 0 of 40
}

// `plexus test` records quality results without a run's publication, and quality_results is not
// among the tables that move the catalog's generation: a long-lived index (the server's) keeps
// the trust it computed before. Disabled until the index notices (reported to the lead).
TEST_F(SearchTest, ALongLivedIndexSeesNewQualityResults) {
  Apply(Twins());
  EXPECT_EQ(Find("warehouse").results.at(1).product, "stock.stock_b");  // the snapshot is taken
  auto b = catalog_->GetProduct("stock.stock_b");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(catalog_->RecordQualityResults({QualityOfB(*b, "passed")}).ok());
  auto found = Find("warehouse");
  ASSERT_EQ(found.results.size(), 2u);
  EXPECT_EQ(found.results[0].product, "stock.stock_b");
  EXPECT_NEAR(found.results[0].trust - found.results[1].trust, 20, 1e-9);  // 0.5 -> 1 of 40
}

TEST_F(SearchTest, DeprecatedAndRetiredRankBelowActive) {
  Apply(Twins("deprecated", "active"));
  auto found = Find("warehouse");
  ASSERT_EQ(Products(found), (std::vector<std::string>{"stock.stock_b", "stock.stock_a"}));
  EXPECT_NEAR(found.results[1].score / found.results[0].score, 0.6, 1e-9);
  EXPECT_EQ(found.results[1].status, "deprecated");
  Apply(Twins("active", "retired"));
  found = Find("warehouse");
  ASSERT_EQ(Products(found), (std::vector<std::string>{"stock.stock_a", "stock.stock_b"}));
  EXPECT_NEAR(found.results[1].score / found.results[0].score, 0.3, 1e-9);
}

TEST_F(SearchTest, TrustFollowsDescriptionsQualityAndPublication) {
  catalog::SearchDocRecord doc;
  EXPECT_DOUBLE_EQ(TrustOf(doc), 20);  // never checked: half the quality share
  doc.documented = 1;
  doc.quality = 1;
  doc.published = true;
  EXPECT_DOUBLE_EQ(TrustOf(doc), 100);
  doc.quality = 0;
  doc.documented = 0.5;
  doc.published = false;
  EXPECT_DOUBLE_EQ(TrustOf(doc), 15);
}

// ---- the index follows the catalog ----------------------------------------------------------

TEST_F(SearchTest, ARenamedColumnIsFoundByItsNewNameOnly) {
  auto twins = Twins();
  Apply(twins);
  EXPECT_EQ(Find("warehouse").total, 2);  // the index snapshot is taken now
  for (auto& t : twins) {                 // a breaking change: a new major, which the index shows
    t.ports[0].columns[0] = {"depot_code", "Depot", "Where.", "internal"};
    t.ports[0].version = "2.0.0";
  }
  Apply(twins);
  EXPECT_EQ(Find("warehouse").total, 0);
  EXPECT_EQ(Find("depot").total, 2);
  EXPECT_EQ(Find("depot code").total, 2);
}

TEST_F(SearchTest, GlossaryTermsMatchingTheWordsAreListed) {
  auto mesh = MeshOf(Shop());
  spec::GlossaryTerm term;
  term.id = "churn";
  term.name = "Churn";
  term.definition = "Customers who stopped ordering.";
  mesh.glossary.push_back(term);
  auto applied = catalog_->Apply(mesh, "ops");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  auto found = Find("churn");
  ASSERT_EQ(found.terms.size(), 1u);
  EXPECT_EQ(found.terms[0].id, "churn");
  EXPECT_EQ(found.terms[0].name, std::string(kMarkOpen) + "Churn" + kMarkClose);
}

// ---- words and distances --------------------------------------------------------------------

TEST(SearchWordsTest, SplitsLikeTheIndex) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SearchWords("Sign-up date"), (V{"sign", "up", "date"}));
  EXPECT_EQ(SearchWords("order_date ORDERS"), (V{"order", "date", "orders"}));
  EXPECT_EQ(SearchWords("  \"NEAR(a, b)\" *^: "), (V{"near", "a", "b"}));
  EXPECT_EQ(SearchWords("naïve"), (V{"naïve"}));
  EXPECT_TRUE(SearchWords("").empty());
  EXPECT_TRUE(SearchWords("()*\"^:\x01\x7f").empty());
  EXPECT_EQ(SearchWords("a b c d e f g h i j k l m n o p q r s").size(), 16u);
}

TEST(EditDistanceTest, CountsEditsUpToAMaximum) {
  EXPECT_EQ(EditDistance("customer", "customer", 2), 0);
  EXPECT_EQ(EditDistance("custmer", "customer", 2), 1);   // a deletion
  EXPECT_EQ(EditDistance("custoemr", "customer", 2), 1);  // a transposition
  EXPECT_EQ(EditDistance("kitten", "sitting", 3), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting", 2), 3);  // above max: max + 1
  EXPECT_EQ(EditDistance("", "abc", 5), 3);
  EXPECT_EQ(EditDistance("abc", "", 1), 2);
  EXPECT_EQ(EditDistance("ab", "ba", 0), 1);
}

}  // namespace
}  // namespace plexus::discovery
