// Where evaluations happen and what they leave: the apply gate, the evaluation of the applied
// policies (plexus serve's schedule, plexus governance report), the summary kept as history,
// and the report as JSON, a text table and an HTML page.
#include <cmath>
#include <iomanip>
#include <set>
#include <sstream>

#include "plexus/governance/governance.h"

namespace plexus::governance {

using nlohmann::json;

namespace {

double Round1(double v) { return std::round(v * 10.0) / 10.0; }

json StandingJson(const Standing& s) {
  return {{"score", Round1(s.score)}, {"block", s.block},         {"warn", s.warn},
          {"info", s.info},           {"exempted", s.exempted},   {"products", s.products},
          {"failing_products", s.failing}};
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Fixed(double v) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << v;
  return out.str();
}

/// "+2.5", "-1.0", "=" against the previous evaluation's score; "" when there is none.
std::string Trend(const json& entry) {
  if (!entry.contains("previous")) return "";
  double delta = entry["score"].get<double>() - entry["previous"].get<double>();
  if (std::fabs(delta) < 0.05) return "=";
  return (delta > 0 ? "+" : "") + Fixed(delta);
}

}  // namespace

json Evaluation::Summary() const {
  json out = {{"score", Round1(mesh.score)}, {"mesh", StandingJson(mesh)},
              {"domains", json::object()}, {"policies", json::object()},
              {"load_ms", Round1(load_ms)}, {"run_ms", Round1(run_ms)}};
  for (const auto& [domain, s] : domains) out["domains"][domain] = StandingJson(s);
  for (const auto& [policy, s] : policies) out["policies"][policy] = StandingJson(s);
  return out;
}

catalog::GovernanceEvaluationRecord Evaluation::ToRecord(const std::string& trigger,
                                                         const std::string& actor) const {
  catalog::GovernanceEvaluationRecord record;
  record.at = at;
  record.trigger = trigger;
  record.actor = actor;
  record.summary = Summary().dump();
  for (const auto& v : violations) {
    record.violations.push_back({v.policy, v.severity, v.domain, v.product, v.entity, v.message,
                                 v.exemption, v.exemption_expires, v.quarantine});
  }
  return record;
}

catalog::ApplyGate MakeApplyGate(const PolicySet& set, const std::string& actor,
                                 std::vector<std::string>* lines, Evaluation* out) {
  return [set, actor, lines, out](catalog::ApplyGateContext& context) -> Status {
    std::string now = catalog::NowUtc();
    PLEXUS_ASSIGN_OR_RETURN(auto evaluator, Evaluator::FromGate(context, now, &set));
    PLEXUS_ASSIGN_OR_RETURN(Evaluation evaluation, evaluator->Evaluate(set, now));
    // Only what this apply creates or updates can be refused: a product the apply leaves as
    // it was keeps its violations on the report, it does not stop other domains' changes.
    // A violation of a domain itself blocks an apply that changes one of its products.
    std::set<std::string> changed(context.report().created.begin(), context.report().created.end());
    changed.insert(context.report().updated.begin(), context.report().updated.end());
    std::set<std::string> changed_domains;
    for (const auto& product : changed) changed_domains.insert(product.substr(0, product.find('.')));
    std::vector<std::string> refused;
    for (const auto& v : evaluation.violations) {
      if (!v.exemption.empty() || v.severity == "info") continue;
      bool blocks = v.severity == "block" &&
                    (v.product.empty() ? changed_domains.count(v.domain) != 0
                                       : changed.count(v.product) != 0);
      std::string line = std::string(blocks ? "refused: " : "warning: ") + v.policy + " (" +
                         v.severity + "): " + v.entity + ": " + v.message;
      if (blocks) refused.push_back(v.policy);
      if (lines != nullptr) lines->push_back(std::move(line));
    }
    if (out != nullptr) *out = evaluation;
    if (!refused.empty()) {
      std::set<std::string> policies(refused.begin(), refused.end());
      std::string names;
      for (const auto& p : policies) names += (names.empty() ? "" : ", ") + p;
      return FailedPrecondition("nothing was applied: " + std::to_string(refused.size()) +
                                " block violation" + (refused.size() == 1 ? "" : "s") +
                                " of the mesh's policies (" + names + ")");
    }
    return context.Save(set.ToJson().dump(), evaluation.ToRecord("apply", actor));
  };
}

Result<Evaluation> EvaluateApplied(catalog::Catalog& catalog, const std::string& trigger,
                                   const std::string& actor, PolicySet* set_out,
                                   ViewStore store) {
  PLEXUS_ASSIGN_OR_RETURN(std::string stored, catalog.GovernancePolicies());
  if (stored.empty()) {
    return NotFound("no policies were applied yet: run plexus apply");
  }
  json parsed = json::parse(stored, nullptr, false);
  if (parsed.is_discarded()) return Internal("the catalog's stored policies are not JSON");
  PLEXUS_ASSIGN_OR_RETURN(PolicySet set, PolicySet::FromJson(parsed));
  std::string now = catalog::NowUtc();
  PLEXUS_ASSIGN_OR_RETURN(auto evaluator, Evaluator::FromCatalog(catalog, now, &set, store));
  PLEXUS_ASSIGN_OR_RETURN(Evaluation evaluation, evaluator->Evaluate(set, now));
  evaluator.reset();  // warm views go back for the next evaluation before the record is written
  if (!trigger.empty()) {
    PLEXUS_RETURN_IF_ERROR(
        catalog.RecordGovernanceEvaluation(evaluation.ToRecord(trigger, actor)).status());
  }
  if (set_out != nullptr) *set_out = std::move(set);
  return evaluation;
}

json ReportJson(const Evaluation& evaluation, const PolicySet& set,
                const std::vector<catalog::GovernanceEvaluationRecord>& history) {
  json previous;
  for (const auto& record : history) {
    if (record.at >= evaluation.at) continue;  // the evaluation itself, when recorded
    previous = json::parse(record.summary, nullptr, false);
    break;
  }
  json out = {{"at", evaluation.at},       {"score", Round1(evaluation.mesh.score)},
              {"mesh", StandingJson(evaluation.mesh)}, {"domains", json::array()},
              {"policies", json::array()}, {"violations", json::array()},
              {"trend", json::array()}};
  if (previous.is_object() && previous.contains("score")) out["previous"] = previous["score"];
  for (const auto& [domain, s] : evaluation.domains) {
    json entry = StandingJson(s);
    entry["domain"] = domain;
    if (previous.is_object() && previous["domains"].contains(domain)) {
      entry["previous"] = previous["domains"][domain]["score"];
    }
    entry["trend"] = Trend(entry);
    out["domains"].push_back(std::move(entry));
  }
  for (const auto& policy : set.policies) {
    json entry = {{"id", policy.id},           {"title", policy.title},
                  {"severity", policy.severity}, {"scope", policy.scope},
                  {"enabled", policy.enabled},   {"builtin", policy.builtin},
                  {"exemptible", policy.exemptible}, {"quarantine", policy.quarantine}};
    auto it = evaluation.policies.find(policy.id);
    if (it != evaluation.policies.end()) {
      entry.update(StandingJson(it->second));
      if (previous.is_object() && previous["policies"].contains(policy.id)) {
        entry["previous"] = previous["policies"][policy.id]["score"];
      }
      entry["trend"] = Trend(entry);
    }
    out["policies"].push_back(std::move(entry));
  }
  for (const auto& v : evaluation.violations) {
    json entry = {{"policy", v.policy}, {"severity", v.severity}, {"domain", v.domain},
                  {"product", v.product}, {"entity", v.entity},  {"message", v.message},
                  {"quarantine", v.quarantine}};
    if (!v.exemption.empty()) {
      entry["exemption"] = {{"justification", v.exemption}, {"expires", v.exemption_expires}};
    }
    out["violations"].push_back(std::move(entry));
  }
  for (const auto& record : history) {
    json summary = json::parse(record.summary, nullptr, false);
    if (!summary.is_object()) continue;
    json domains = json::object();
    const json scores = summary.value("domains", json::object());
    for (const auto& [domain, s] : scores.items()) {
      domains[domain] = s.value("score", 100.0);
    }
    out["trend"].push_back({{"at", record.at}, {"trigger", record.trigger},
                            {"score", summary.value("score", 100.0)}, {"domains", domains}});
  }
  return out;
}

Result<json> EvaluateReport(catalog::Catalog& catalog, const std::string& trigger,
                            const access::Principal& principal, ViewStore store) {
  PLEXUS_ASSIGN_OR_RETURN(auto history, catalog.ListGovernanceEvaluations(30));
  PolicySet set;
  PLEXUS_ASSIGN_OR_RETURN(Evaluation evaluation,
                          EvaluateApplied(catalog, trigger, principal.name, &set, store));
  json report = ReportJson(evaluation, set, history);
  RestrictReport(report, principal);
  return report;
}

void RestrictReport(json& report, const access::Principal& principal) {
  if (principal.admin) return;
  json kept = json::array();
  for (auto& v : report["violations"]) {
    if (principal.InDomain(v["domain"].get<std::string>())) kept.push_back(v);
  }
  report["violations"] = std::move(kept);
}

std::string ReportText(const json& report) {
  std::ostringstream out;
  out << "compliance " << Fixed(report["score"].get<double>()) << " / 100";
  if (report.contains("previous")) {
    json shown = {{"score", report["score"]}, {"previous", report["previous"]}};
    out << " (" << Trend(shown) << " since the previous evaluation)";
  }
  const json& mesh = report["mesh"];
  out << "  at " << report["at"].get<std::string>() << "\n"
      << mesh["block"].get<int64_t>() << " block, " << mesh["warn"].get<int64_t>() << " warn, "
      << mesh["info"].get<int64_t>() << " info, " << mesh["exempted"].get<int64_t>()
      << " exempted\n\n";
  out << std::left << std::setw(22) << "DOMAIN" << std::right << std::setw(7) << "SCORE"
      << std::setw(7) << "TREND" << std::setw(7) << "BLOCK" << std::setw(6) << "WARN"
      << std::setw(10) << "PRODUCTS" << std::setw(9) << "FAILING" << "\n";
  for (const auto& d : report["domains"]) {
    out << std::left << std::setw(22) << d["domain"].get<std::string>() << std::right
        << std::setw(7) << Fixed(d["score"].get<double>()) << std::setw(7)
        << d.value("trend", "") << std::setw(7) << d["block"].get<int64_t>() << std::setw(6)
        << d["warn"].get<int64_t>() << std::setw(10) << d["products"].get<int64_t>()
        << std::setw(9) << d["failing_products"].get<int64_t>() << "\n";
  }
  out << "\n" << std::left << std::setw(22) << "POLICY" << std::setw(9) << "SEVERITY"
      << std::right << std::setw(7) << "SCORE" << std::setw(7) << "TREND" << std::setw(11)
      << "VIOLATIONS" << "  TITLE\n";
  for (const auto& p : report["policies"]) {
    out << std::left << std::setw(22) << p["id"].get<std::string>() << std::setw(9)
        << (p["enabled"].get<bool>() ? p["severity"].get<std::string>() : std::string("off"))
        << std::right << std::setw(7)
        << (p.contains("score") ? Fixed(p["score"].get<double>()) : std::string("-"))
        << std::setw(7) << p.value("trend", "") << std::setw(11)
        << (p.contains("score") ? std::to_string(p["block"].get<int64_t>() + p["warn"].get<int64_t>() +
                                                 p["info"].get<int64_t>())
                                : std::string("-"))
        << "  " << p["title"].get<std::string>() << "\n";
  }
  if (!report["violations"].empty()) out << "\nVIOLATIONS\n";
  for (const auto& v : report["violations"]) {
    out << "  " << std::left << std::setw(6) << v["severity"].get<std::string>() << " "
        << v["policy"].get<std::string>() << "  " << v["entity"].get<std::string>() << ": "
        << v["message"].get<std::string>();
    if (v.contains("exemption")) {
      out << "  [exempt until " << v["exemption"]["expires"].get<std::string>() << ": "
          << v["exemption"]["justification"].get<std::string>() << "]";
    }
    if (v["quarantine"].get<bool>()) out << "  [quarantined]";
    out << "\n";
  }
  return out.str();
}

std::string ReportHtml(const json& report) {
  std::ostringstream out;
  out << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      << "<title>Plexus compliance report</title><style>"
      << "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
      << "table{border-collapse:collapse;margin:1rem 0}td,th{padding:.3rem .7rem;"
      << "border-bottom:1px solid #ddd;text-align:left}.block{color:#b00020}.warn{color:#a15c00}"
      << "</style></head><body>\n<h1>Compliance " << Fixed(report["score"].get<double>())
      << " / 100</h1>\n<p>Evaluated at " << Escape(report["at"].get<std::string>()) << ".</p>\n";
  out << "<h2>Domains</h2>\n<table><tr><th>Domain</th><th>Score</th><th>Trend</th><th>Block</th>"
      << "<th>Warn</th><th>Products</th><th>Failing</th></tr>\n";
  for (const auto& d : report["domains"]) {
    out << "<tr><td>" << Escape(d["domain"].get<std::string>()) << "</td><td>"
        << Fixed(d["score"].get<double>()) << "</td><td>" << Escape(d.value("trend", ""))
        << "</td><td>" << d["block"] << "</td><td>" << d["warn"] << "</td><td>" << d["products"]
        << "</td><td>" << d["failing_products"] << "</td></tr>\n";
  }
  out << "</table>\n<h2>Policies</h2>\n<table><tr><th>Policy</th><th>Severity</th><th>Score</th>"
      << "<th>Trend</th><th>Title</th></tr>\n";
  for (const auto& p : report["policies"]) {
    out << "<tr><td>" << Escape(p["id"].get<std::string>()) << "</td><td class=\""
        << Escape(p["severity"].get<std::string>()) << "\">"
        << (p["enabled"].get<bool>() ? Escape(p["severity"].get<std::string>()) : "off")
        << "</td><td>" << (p.contains("score") ? Fixed(p["score"].get<double>()) : "-")
        << "</td><td>" << Escape(p.value("trend", "")) << "</td><td>"
        << Escape(p["title"].get<std::string>()) << "</td></tr>\n";
  }
  out << "</table>\n<h2>Violations</h2>\n<table><tr><th>Severity</th><th>Policy</th>"
      << "<th>Entity</th><th>Message</th><th>Exemption</th></tr>\n";
  for (const auto& v : report["violations"]) {
    out << "<tr><td class=\"" << Escape(v["severity"].get<std::string>()) << "\">"
        << Escape(v["severity"].get<std::string>()) << "</td><td>"
        << Escape(v["policy"].get<std::string>()) << "</td><td>"
        << Escape(v["entity"].get<std::string>()) << "</td><td>"
        << Escape(v["message"].get<std::string>()) << "</td><td>"
        << (v.contains("exemption")
                ? Escape(v["exemption"]["justification"].get<std::string>() + ", until " +
                         v["exemption"]["expires"].get<std::string>())
                : "")
        << "</td></tr>\n";
  }
  out << "</table>\n<h2>Trend</h2>\n<table><tr><th>At</th><th>Trigger</th><th>Score</th></tr>\n";
  for (const auto& t : report["trend"]) {
    out << "<tr><td>" << Escape(t["at"].get<std::string>()) << "</td><td>"
        << Escape(t["trigger"].get<std::string>()) << "</td><td>"
        << Fixed(t["score"].get<double>()) << "</td></tr>\n";
  }
  out << "</table>\n</body></html>\n";
  return out.str();
}

}  // namespace plexus::governance
