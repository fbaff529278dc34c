// products, show: reading the catalog.
#include <algorithm>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "cli/cli.h"
#include "plexus/discovery/usage.h"

namespace plexus::cli {

Result<std::vector<catalog::ProductRecord>> VisibleProducts(const Context& ctx,
                                                            catalog::Catalog& catalog) {
  PLEXUS_ASSIGN_OR_RETURN(access::Principal principal, ctx.SignIn(catalog));
  PLEXUS_ASSIGN_OR_RETURN(auto all, catalog.ListProducts());
  std::vector<catalog::ProductRecord> visible;
  for (auto& product : all) {
    auto shown = access::AccessPolicy::Visible(principal, std::move(product));
    if (shown.ok()) visible.push_back(std::move(shown).value());
  }
  return visible;
}

Result<catalog::ProductRecord> VisibleProduct(const Context& ctx, catalog::Catalog& catalog,
                                              const std::string& ref) {
  PLEXUS_ASSIGN_OR_RETURN(access::Principal principal, ctx.SignIn(catalog));
  auto product = catalog.GetProduct(ref);
  auto visible = product.ok() ? access::AccessPolicy::Visible(principal, std::move(product).value())
                              : Result<catalog::ProductRecord>(product.status());
  if (!visible.ok()) return NotFound("unknown data product " + ref + " (see plexus products)");
  return visible;
}

namespace {

std::string Join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

std::string RowsText(const catalog::OutputPortRecord& port) {
  return port.rows < 0 ? "not published" : std::to_string(port.rows) + " rows";
}

/// `plexus products`: one page of the products the principal may see.
struct ProductsArgs {
  size_t limit = 50;
  size_t offset = 0;
  bool all = false;
};

std::string PortsText(const catalog::ProductRecord& p) {
  std::vector<std::string> ports;
  std::map<std::string, int> newest;  // the plain SQL name serves the newest major
  for (const auto& o : p.outputs) newest[o.name] = std::max(newest[o.name], o.major);
  for (const auto& o : p.outputs) {
    std::string status = catalog::ServedStatus(o);
    bool shown_status = status == "deprecated" || status == "retired";
    ports.push_back(o.SqlName() +
                    (o.major < newest[o.name] ? "__v" + std::to_string(o.major) : "") + " (" +
                    RowsText(o) + (shown_status ? ", " + status : "") + ")");
  }
  return Join(ports);
}

/// Lists the visible products, `args.offset` of them skipped (visibility comes before paging,
/// so pages say nothing of hidden products), without reading any column: which ports a
/// principal may know of is judged from the ports themselves, so no access policy is loaded.
Status Products(const Context& ctx, const ProductsArgs& args) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(access::Principal principal, ctx.SignIn(*catalog));
  size_t seen = 0, shown = 0;
  bool more = false;
  PLEXUS_RETURN_IF_ERROR(catalog->ForEachProductSummary([&](catalog::ProductRecord&& product) {
    auto visible = access::AccessPolicy::Visible(principal, std::move(product));
    if (!visible.ok()) return true;
    if (seen++ < args.offset) return true;
    if (!args.all && shown == args.limit) {
      more = true;
      return false;
    }
    if (shown++ == 0) {
      std::cout << std::left << std::setw(44) << "PRODUCT" << std::setw(10) << "VERSION"
                << std::setw(10) << "STATUS" << "OUTPUT PORTS (SQL name, rows)\n";
    }
    const auto& p = *visible;
    std::cout << std::left << std::setw(44) << p.QualifiedName() << std::setw(10) << p.version
              << std::setw(10) << p.status << PortsText(p) << "\n";
    return true;
  }));
  if (seen == 0) {
    std::cout << "no products registered: run plexus apply\n";
  } else if (shown == 0) {
    std::cout << "no products after the first " << args.offset << "\n";
  } else if (more) {
    std::cout << "(products " << args.offset + 1 << "-" << args.offset + shown
              << "; the next page: --offset " << args.offset + shown << ", or --all)\n";
  }
  return Status::OK();
}

/// Each column with its constraints; below it, its business name and the glossary terms it is
/// linked to (`term_names`: id -> name), when it has any.
void PrintColumns(const catalog::OutputPortRecord& port,
                  const std::map<std::string, std::string>& term_names) {
  std::cout << "    " << std::left << std::setw(26) << "column" << std::setw(16) << "type"
            << std::setw(22) << "constraints" << std::setw(14) << "class" << "description\n";
  for (const auto& c : port.columns) {
    std::vector<std::string> flags;
    if (c.primary_key) flags.push_back("primary key");
    if (c.required && !c.primary_key) flags.push_back("required");
    if (c.unique) flags.push_back("unique");
    std::cout << "    " << std::left << std::setw(26) << c.name << std::setw(16) << c.engine_type
              << std::setw(22) << Join(flags) << std::setw(14) << c.classification
              << c.description << "\n";
    std::vector<std::string> terms;
    for (const auto& id : c.terms) {
      auto name = term_names.find(id);
      terms.push_back(name == term_names.end() ? id : name->second + " (" + id + ")");
    }
    if (c.business_name.empty() && terms.empty()) continue;
    std::cout << "      " << (c.business_name.empty() ? "" : "business name: " + c.business_name)
              << (c.business_name.empty() || terms.empty() ? "" : "; ")
              << (terms.empty() ? "" : (terms.size() == 1 ? "term: " : "terms: ") + Join(terms))
              << "\n";
  }
}

/// Who read the product in the last 30 days, how often, and its columns read most (counted
/// from the audit trail first, so the figures are up to now).
Status PrintUsage(catalog::Catalog& catalog, const std::string& product) {
  constexpr int kDays = 30;
  constexpr size_t kShown = 5;
  PLEXUS_ASSIGN_OR_RETURN(auto counter, discovery::UsageCounter::Open(&catalog));
  PLEXUS_RETURN_IF_ERROR(counter->Count().status());
  PLEXUS_ASSIGN_OR_RETURN(auto usage,
                          catalog.GetProductUsage(product, discovery::DaysAgo(kDays)));
  std::cout << "  usage (last " << kDays << " days): " << usage.total.queries << " queries by "
            << usage.total.readers << (usage.total.readers == 1 ? " principal" : " principals")
            << ", " << usage.total.rows << " rows"
            << (usage.total.last_at.empty() ? "" : ", last read " + usage.total.last_at) << "\n";
  if (!usage.readers.empty()) {
    std::cout << "    readers:";
    for (size_t i = 0; i < usage.readers.size() && i < kShown; i++) {
      std::cout << (i ? ", " : " ") << usage.readers[i].principal << " ("
                << usage.readers[i].queries << ")";
    }
    std::cout << (usage.readers.size() > kShown ? ", ..." : "") << "\n";
  }
  if (!usage.columns.empty()) {
    std::cout << "    columns read most:";
    for (size_t i = 0; i < usage.columns.size() && i < kShown; i++) {
      std::cout << (i ? ", " : " ") << usage.columns[i].port << "." << usage.columns[i].column
                << " (" << usage.columns[i].queries << ")";
    }
    std::cout << (usage.columns.size() > kShown ? ", ..." : "") << "\n";
  }
  return Status::OK();
}

/// The product's standing in the newest evaluation of the mesh's policies: its violations (on
/// the product and the ports the caller may see), exemptions and quarantine. An input port's
/// violations are left out when its upstream is hidden from the caller (`hidden_inputs`): their
/// messages name the upstream product.
Status PrintGovernance(catalog::Catalog& catalog, const catalog::ProductRecord& p,
                       const std::set<std::string>& hidden_inputs) {
  auto evaluation = catalog.LatestGovernanceEvaluation();
  if (evaluation.status().code() == StatusCode::kNotFound) return Status::OK();
  PLEXUS_RETURN_IF_ERROR(evaluation.status());
  std::set<std::string> ports;
  for (const auto& o : p.outputs) ports.insert(o.SqlName());
  std::vector<const catalog::PolicyViolationRecord*> shown;
  for (const auto& v : evaluation->violations) {
    if (v.product != p.QualifiedName()) continue;
    // On a port or its column: shown when the caller sees the port (an input port's are).
    std::string port = v.entity.substr(0, v.entity.find('.', v.product.size() + 1));
    bool input = std::any_of(p.inputs.begin(), p.inputs.end(), [&](const auto& in) {
      return p.QualifiedName() + "." + in.name == port && !hidden_inputs.count(in.name);
    });
    if (port == v.product || ports.count(port) || input) shown.push_back(&v);
  }
  std::cout << "  governance (evaluated " << evaluation->at << "): "
            << (shown.empty() ? "no violation of the mesh's policies" : "") << "\n";
  for (const auto* v : shown) {
    std::cout << "    " << std::left << std::setw(6) << v->severity << " " << v->policy << "  "
              << v->entity << ": " << v->message
              << (v->exemption.empty() ? "" : "  [exempt until " + v->exemption_expires + "]")
              << (v->quarantine ? "  [quarantined]" : "") << "\n";
  }
  return Status::OK();
}

constexpr const char* kHiddenUpstream = "a port you may not see";

/// Where an input port reads from, named only when the caller may see that upstream port
/// (as the HTTP answer does): a private product is never named to an outsider.
std::string UpstreamText(const Context& ctx, catalog::Catalog& catalog,
                         const catalog::InputPortRecord& in) {
  if (in.upstream_domain.empty()) return "contract " + in.contract_id;
  auto upstream = in.upstream_product_id.empty()
                      ? Result<catalog::ProductRecord>(NotFound("no upstream product"))
                      : VisibleProduct(ctx, catalog, in.upstream_product_id);
  bool seen = upstream.ok() &&
              std::any_of(upstream->outputs.begin(), upstream->outputs.end(),
                          [&](const auto& o) { return o.name == in.upstream_port; });
  if (!seen) return kHiddenUpstream;
  return in.upstream_domain + "." + in.upstream_product + "." + in.upstream_port;
}

Status Show(const Context& ctx, const std::string& ref) {
  PLEXUS_ASSIGN_OR_RETURN(auto catalog, ctx.OpenCatalog());
  PLEXUS_ASSIGN_OR_RETURN(auto p, VisibleProduct(ctx, *catalog, ref));
  std::map<std::string, std::string> term_names;
  PLEXUS_ASSIGN_OR_RETURN(auto terms, catalog->ListGlossaryTerms());
  for (const auto& term : terms) term_names[term.id] = term.name;
  std::cout << p.QualifiedName() << "  (version " << p.version << ", " << p.status << ")\n"
            << "  id:       " << p.id << "\n"
            << "  purpose:  " << p.purpose << "\n";
  if (!p.usage.empty()) std::cout << "  usage:    " << p.usage << "\n";
  std::cout << "  team:     " << p.team_name << " (owners: " << Join(p.owners) << ")\n"
            << "  tags:     " << Join(p.tags) << "\n"
            << "  applied:  " << p.applied_at << "\n";
  std::set<std::string> hidden_inputs;
  for (const auto& in : p.inputs) {
    std::string upstream = UpstreamText(ctx, *catalog, in);
    if (upstream == kHiddenUpstream) hidden_inputs.insert(in.name);
    std::cout << "  input port " << in.name << " " << in.version << " <- " << upstream << "\n";
  }
  for (const auto& o : p.outputs) {
    std::cout << "  output port " << o.SqlName() << "  version " << o.version << " (major "
              << o.major << "), contract " << o.contract_id << " " << o.contract_version << ", "
              << RowsText(o) << (o.published_at.empty() ? "" : " at " + o.published_at) << "\n";
    PrintColumns(o, term_names);
  }
  // CDC (issue 7): a paused pipeline, and the contract bumps proposed for source columns.
  PLEXUS_ASSIGN_OR_RETURN(auto cdc_state, catalog->GetPipelineState(p.id));
  if (cdc_state.paused) {
    std::cout << "  pipeline PAUSED since " << cdc_state.since << ": " << cdc_state.reason << "\n";
  }
  PLEXUS_ASSIGN_OR_RETURN(auto proposals, catalog->ListSchemaProposals(p.id));
  for (const auto& pr : proposals) {
    std::cout << "  proposed: contract of port " << pr.port << " " << pr.proposed_version
              << " adds column " << pr.column << " " << pr.type << " (seen at the source "
              << pr.at << ")\n";
  }
  PLEXUS_ASSIGN_OR_RETURN(auto runs, catalog->ListRuns(p.id, 5));
  for (const auto& r : runs) {
    std::cout << "  run " << r.id << "  " << r.started_at << "  " << r.status << "  " << r.rows
              << " rows" << (r.reason.empty() ? "" : "  " + r.reason) << "\n";
  }
  PLEXUS_ASSIGN_OR_RETURN(auto quality, catalog->ListQualityResults(p.id));
  std::string port;
  for (const auto& q : quality) {
    if (q.port != port) {
      port = q.port;
      std::cout << "  quality of " << p.QualifiedName() << "." << q.port << " (last checked "
                << q.checked_at << (q.run_id > 0 ? " by run " + std::to_string(q.run_id)
                                                  : " by plexus test")
                << ")\n";
    }
    std::cout << "    " << QualityLine(q) << "\n";
  }
  PLEXUS_RETURN_IF_ERROR(PrintTrustAndSlos(*catalog, p));  // issue 9 (cmd_slo.cc)
  PLEXUS_RETURN_IF_ERROR(PrintGovernance(*catalog, p, hidden_inputs));
  return PrintUsage(*catalog, p.QualifiedName());
}

}  // namespace

void SetupProducts(CLI::App& sub, Context& ctx) {
  auto args = std::make_shared<ProductsArgs>();
  sub.add_option("--limit,-n", args->limit, "Products to show")->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sub.add_option("--offset", args->offset, "Products to skip (the next page)");
  sub.add_flag("--all", args->all, "Every product, no paging");
  sub.callback([&ctx, args] { ctx.action = [&ctx, args] { return Products(ctx, *args); }; });
}

void SetupShow(CLI::App& sub, Context& ctx) {
  auto ref = std::make_shared<std::string>();
  sub.add_option("product", *ref, "domain.product or id")->required();
  sub.callback([&ctx, ref] { ctx.action = [&ctx, ref] { return Show(ctx, *ref); }; });
}

}  // namespace plexus::cli
