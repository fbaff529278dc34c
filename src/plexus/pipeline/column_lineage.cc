#include "plexus/pipeline/column_lineage.h"

#include <nlohmann/json.hpp>

#include <set>

#include "plexus/common/text.h"
#include "plexus/engine/sql_parse.h"
#include "plexus/pipeline/processors.h"

namespace plexus::pipeline {
namespace {

using Json = nlohmann::json;
using Sources = std::set<ColumnSource>;

/// A column visible in a scope, with what it reads.
struct ScopeColumn {
  std::string name;  ///< lower case
  Sources sources;
};

/// A relation in FROM, or the result of a query node.
struct Relation {
  std::string alias;                     ///< lower case; empty for a node's result
  std::vector<ScopeColumn> columns;      ///< the columns known by name
  std::vector<std::string> open_inputs;  ///< inputs of unknown columns behind a `*`: X reads (in, X)
  bool opaque = false;                   ///< columns unknown and not traceable by name
  std::string base_input;                ///< an input read directly: any column name reads it
};

struct Scope {
  std::vector<Relation> relations;
  const Scope* parent = nullptr;
};

/// A shape the tracer does not follow: the caller falls back to whole inputs.
struct Unsure {};

std::string Lower(const Json& value) { return value.is_string() ? AsciiLower(value.get<std::string>()) : ""; }

std::string Member(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

Sources AsIndirect(const Sources& sources) {
  Sources out;
  for (ColumnSource s : sources) {
    s.direct = false;
    out.insert(std::move(s));
  }
  return out;
}

class Tracer {
 public:
  explicit Tracer(const std::map<std::string, std::vector<std::string>>& inputs) {
    for (const auto& [name, columns] : inputs) inputs_[AsciiLower(name)] = {name, columns};
  }

  Relation Node(const Json& node, const Scope* outer) {
    size_t mark = ctes_.size();
    if (auto ctes = node.find("cte_map"); ctes != node.end() && ctes->is_object()) {
      if (auto map = ctes->find("map"); map != ctes->end() && map->is_array()) {
        for (const auto& entry : *map) {
          ctes_.emplace_back(Lower(entry.at("key")), Node(entry.at("value").at("query").at("node"), outer));
        }
      }
    }
    std::string type = Member(node, "type");
    Relation out;
    if (type == "SELECT_NODE") {
      out = Select(node, outer);
    } else if (type == "SET_OPERATION_NODE") {
      out = SetOperation(node, outer);
    } else {
      throw Unsure{};
    }
    ctes_.resize(mark);
    return out;
  }

 private:
  Relation Select(const Json& node, const Scope* outer) {
    Scope scope;
    scope.parent = outer;
    Sources filter;
    From(node.at("from_table"), scope, filter);
    Relation out;
    std::map<std::string, Sources> aliases;  // select-list aliases later clauses may name
    for (const auto& item : node.at("select_list")) {
      if (Member(item, "class") == "STAR" && !item.value("columns", false)) {
        Star(item, scope, out);
        continue;
      }
      Sources sources = Expr(item, scope, aliases);
      std::string name = AsciiLower(Member(item, "alias"));
      if (name.empty() && Member(item, "class") == "COLUMN_REF") name = Lower(item.at("column_names").back());
      aliases[name] = sources;
      out.columns.push_back(ScopeColumn{name, std::move(sources)});
    }
    for (const char* key : {"where_clause", "having", "qualify", "group_expressions"}) {
      if (auto it = node.find(key); it != node.end() && !it->is_null()) {
        Sources read = Expr(*it, scope, aliases);
        filter.insert(read.begin(), read.end());
      }
    }
    Sources indirect = AsIndirect(filter);
    for (auto& column : out.columns) column.sources.insert(indirect.begin(), indirect.end());
    return out;
  }

  void Star(const Json& item, const Scope& scope, Relation& out) {
    std::string relation = AsciiLower(Member(item, "relation_name"));
    std::set<std::string> excluded;
    if (auto ex = item.find("exclude_list"); ex != item.end() && ex->is_array()) {
      for (const auto& name : *ex) {
        excluded.insert(name.is_string() ? AsciiLower(name.get<std::string>())
                                         : Lower(name.value("column_names", Json::array()).back()));
      }
    }
    // `* REPLACE (expr AS c)`: c reads what expr reads; `* RENAME (c AS d)`: d is c.
    std::map<std::string, Sources> replaced;
    if (auto list = item.find("replace_list"); list != item.end() && list->is_array()) {
      for (const auto& entry : *list) {
        replaced[Lower(entry.at("key"))] = Expr(entry.at("value"), scope, {});
      }
    }
    std::map<std::string, std::string> renamed;
    if (auto list = item.find("rename_list"); list != item.end() && list->is_array()) {
      for (const auto& entry : *list) {
        renamed[Lower(entry.at("key").at("column"))] = Lower(entry.at("value"));
      }
    }
    bool matched = false;
    std::set<std::string> placed;
    for (const auto& r : scope.relations) {
      if (!relation.empty() && r.alias != relation) continue;
      matched = true;
      if (r.opaque) throw Unsure{};
      for (ScopeColumn c : r.columns) {
        if (excluded.count(c.name)) continue;
        if (auto it = replaced.find(c.name); it != replaced.end()) c.sources = it->second;
        if (auto it = renamed.find(c.name); it != renamed.end()) c.name = it->second;
        placed.insert(c.name);
        out.columns.push_back(std::move(c));
      }
      out.open_inputs.insert(out.open_inputs.end(), r.open_inputs.begin(), r.open_inputs.end());
    }
    if (!matched) throw Unsure{};
    NamedBehindStar(scope, relation, replaced, renamed, placed, out);
  }

  /// Behind a `*` over inputs of unknown columns, the columns a REPLACE or RENAME names are
  /// now known: each reads what its expression, or the column it renames, reads.
  static void NamedBehindStar(const Scope& scope, const std::string& relation,
                              const std::map<std::string, Sources>& replaced,
                              const std::map<std::string, std::string>& renamed,
                              const std::set<std::string>& placed, Relation& out) {
    for (const auto& [name, sources] : replaced) {
      if (!placed.count(name) && !renamed.count(name)) {
        out.columns.push_back(ScopeColumn{name, sources});
      }
    }
    for (const auto& [from, to] : renamed) {
      if (placed.count(to)) continue;
      Sources sources;
      if (auto it = replaced.find(from); it != replaced.end()) sources = it->second;
      for (const auto& r : scope.relations) {
        if (sources.empty() && (relation.empty() || r.alias == relation)) {
          Sources read = InRelation(r, from);
          sources.insert(read.begin(), read.end());
        }
      }
      out.columns.push_back(ScopeColumn{to, std::move(sources)});
    }
  }

  /// UNION BY NAME: columns meet by name; a column one side lacks may come, by name, from the
  /// other side's inputs of unknown columns.
  static Relation UnionByName(Relation left, const Relation& right) {
    auto by_name = [](const std::vector<ScopeColumn>& columns, const std::string& name) {
      return std::find_if(columns.begin(), columns.end(),
                          [&](const ScopeColumn& c) { return c.name == name; });
    };
    for (auto& c : left.columns) {
      auto same = by_name(right.columns, c.name);
      if (same != right.columns.end()) c.sources.insert(same->sources.begin(), same->sources.end());
      if (same == right.columns.end()) {
        for (const auto& in : right.open_inputs) c.sources.insert(ColumnSource{in, c.name, true});
      }
    }
    for (const auto& c : right.columns) {
      if (by_name(left.columns, c.name) != left.columns.end()) continue;
      ScopeColumn added = c;
      for (const auto& in : left.open_inputs) added.sources.insert(ColumnSource{in, c.name, true});
      left.columns.push_back(std::move(added));
    }
    left.open_inputs.insert(left.open_inputs.end(), right.open_inputs.begin(),
                            right.open_inputs.end());
    return left;
  }

  Relation SetOperation(const Json& node, const Scope* outer) {
    Relation left = Node(node.at("left"), outer);
    Relation right = Node(node.at("right"), outer);
    if (Member(node, "setop_type") == "UNION_BY_NAME") return UnionByName(std::move(left), right);
    left.open_inputs.insert(left.open_inputs.end(), right.open_inputs.begin(), right.open_inputs.end());
    if (left.columns.size() == right.columns.size() && left.open_inputs.empty()) {
      for (size_t i = 0; i < left.columns.size(); ++i) {
        left.columns[i].sources.insert(right.columns[i].sources.begin(), right.columns[i].sources.end());
      }
      return left;
    }
    Sources all;
    for (const auto& c : right.columns) all.insert(c.sources.begin(), c.sources.end());
    for (auto& c : left.columns) c.sources.insert(all.begin(), all.end());
    return left;
  }

  void From(const Json& ref, Scope& scope, Sources& filter) {
    if (ref.is_null()) return;
    std::string type = Member(ref, "type");
    std::string alias = AsciiLower(Member(ref, "alias"));
    if (type == "EMPTY") return;
    if (type == "BASE_TABLE") {
      std::string table = AsciiLower(Member(ref, "table_name"));
      bool qualified = !Member(ref, "schema_name").empty() || !Member(ref, "catalog_name").empty();
      Relation r;
      r.alias = alias.empty() ? table : alias;
      if (const Relation* cte = qualified ? nullptr : FindCte(table)) {
        r.columns = cte->columns;
        r.open_inputs = cte->open_inputs;
        r.opaque = cte->opaque;
      } else if (auto it = inputs_.find(table); it != inputs_.end() && !qualified) {
        const auto& [name, columns] = it->second;
        for (const auto& c : columns) {
          r.columns.push_back(ScopeColumn{AsciiLower(c), {ColumnSource{name, c, true}}});
        }
        if (columns.empty()) r.open_inputs.push_back(name);
        r.base_input = name;  // a name its columns lack (a column being removed) still reads it
      } else {
        throw Unsure{};  // not an input: the guard would refuse it anyway
      }
      scope.relations.push_back(std::move(r));
    } else if (type == "SUBQUERY") {
      Relation r = Node(ref.at("subquery").at("node"), scope.parent);
      r.alias = alias;
      if (auto names = ref.find("column_name_alias"); names != ref.end() && names->is_array()) {
        for (size_t i = 0; i < names->size() && i < r.columns.size(); ++i) {
          r.columns[i].name = Lower((*names)[i]);
        }
      }
      scope.relations.push_back(std::move(r));
    } else if (type == "JOIN") {
      From(ref.at("left"), scope, filter);
      From(ref.at("right"), scope, filter);
      if (auto on = ref.find("condition"); on != ref.end() && !on->is_null()) {
        Sources read = Expr(*on, scope, {});
        filter.insert(read.begin(), read.end());
      }
      if (auto using_columns = ref.find("using_columns"); using_columns != ref.end()) {
        for (const auto& name : *using_columns) {
          for (const auto& r : scope.relations) {
            Sources read = InRelation(r, Lower(name));
            filter.insert(read.begin(), read.end());
          }
        }
      }
    } else if (type == "TABLE_FUNCTION" || type == "EXPRESSION_LIST") {
      Relation r;  // range(), unnest(), VALUES: reads no input
      r.alias = alias;
      r.opaque = true;
      scope.relations.push_back(std::move(r));
    } else {
      throw Unsure{};
    }
  }

  const Relation* FindCte(const std::string& name) const {
    for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it) {
      if (it->first == name) return &it->second;
    }
    return nullptr;
  }

  /// What column `column` of `r` reads; empty when `r` has no such column.
  static Sources InRelation(const Relation& r, const std::string& column) {
    for (const auto& c : r.columns) {
      if (c.name == column) return c.sources;
    }
    Sources out;
    if (!r.base_input.empty()) return {ColumnSource{r.base_input, column, true}};
    for (const auto& in : r.open_inputs) out.insert(ColumnSource{in, column, true});
    return out;
  }

  Sources Resolve(const Json& names, const Scope& scope, const std::map<std::string, Sources>& aliases) {
    if (!names.is_array() || names.empty()) throw Unsure{};
    if (names.size() >= 2) {
      std::string relation = Lower(names[0]);
      for (const Scope* s = &scope; s != nullptr; s = s->parent) {
        for (const auto& r : s->relations) {
          if (r.alias != relation) continue;
          Sources read = InRelation(r, Lower(names[1]));
          if (read.empty() && !r.opaque) throw Unsure{};
          return read;
        }
      }
    }
    // One part, or a struct field of a column (column.field).
    std::string column = Lower(names[0]);
    // DuckDB binds a column of FROM first, then an alias of the select list.
    for (const Scope* s = &scope; s != nullptr; s = s->parent) {
      for (const auto& r : s->relations) {
        for (const auto& c : r.columns) {
          if (c.name == column) return c.sources;
        }
      }
    }
    if (auto it = aliases.find(column); it != aliases.end()) return it->second;
    for (const Scope* s = &scope; s != nullptr; s = s->parent) {
      std::vector<std::string> open;
      for (const auto& r : s->relations) {
        if (!r.base_input.empty() && r.open_inputs.empty()) open.push_back(r.base_input);
        open.insert(open.end(), r.open_inputs.begin(), r.open_inputs.end());
      }
      Sources out;
      for (const auto& in : open) out.insert(ColumnSource{in, open.size() == 1 ? column : "*", true});
      if (!out.empty()) return out;
    }
    return {};  // a lambda parameter, or a name DuckDB binds to a constant (current_date)
  }

  Sources Expr(const Json& value, const Scope& scope, const std::map<std::string, Sources>& aliases) {
    Sources out;
    if (value.is_array()) {
      for (const auto& item : value) {
        Sources read = Expr(item, scope, aliases);
        out.insert(read.begin(), read.end());
      }
      return out;
    }
    if (!value.is_object()) return out;
    std::string cls = Member(value, "class");
    if (cls == "COLUMN_REF") return Resolve(value.at("column_names"), scope, aliases);
    if (cls == "SUBQUERY") {
      Relation r = Node(value.at("subquery").at("node"), &scope);
      for (const auto& c : r.columns) out.insert(c.sources.begin(), c.sources.end());
      for (const auto& in : r.open_inputs) out.insert(ColumnSource{in, "*", true});
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (it.key() == "subquery") continue;
      Sources read = Expr(it.value(), scope, aliases);
      out.insert(read.begin(), read.end());
    }
    return out;
  }

  std::map<std::string, std::pair<std::string, std::vector<std::string>>> inputs_;  // lower -> as written
  std::vector<std::pair<std::string, Relation>> ctes_;
};

/// Every input the text names in FROM (for the whole-input fallback); all of them when none.
std::vector<std::string> InputsNamed(const Json& value,
                                     const std::map<std::string, std::vector<std::string>>& inputs) {
  std::set<std::string> tables;
  std::vector<const Json*> stack{&value};
  while (!stack.empty()) {
    const Json* v = stack.back();
    stack.pop_back();
    if (v->is_object() && Member(*v, "type") == "BASE_TABLE") tables.insert(AsciiLower(Member(*v, "table_name")));
    if (v->is_structured()) {
      for (const auto& child : *v) stack.push_back(&child);
    }
  }
  std::vector<std::string> out;
  for (const auto& [name, columns] : inputs) {
    if (tables.empty() || tables.count(AsciiLower(name))) out.push_back(name);
  }
  return out;
}

Sources WholeInputs(const std::vector<std::string>& inputs) {
  Sources out;
  for (const auto& in : inputs) out.insert(ColumnSource{in, "*", true});
  return out;
}

std::vector<ColumnSource> Tidy(const Sources& sources) {
  std::vector<ColumnSource> out;
  for (const auto& s : sources) {
    // Read directly and by a filter: say it once, as direct.
    if (!s.direct && sources.count(ColumnSource{s.input, s.column, true})) continue;
    out.push_back(s);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<LineageParser>> LineageParser::Open() {
  return std::unique_ptr<LineageParser>(new LineageParser());
}

Result<std::vector<OutputColumn>> LineageParser::Compute(
    std::string_view sql, const std::map<std::string, std::vector<std::string>>& inputs,
    const std::vector<std::string>& output_columns) const {
  PLEXUS_ASSIGN_OR_RETURN(std::string serialized, engine::SerializeSql(sql));
  Json document = Json::parse(serialized, nullptr, false);
  if (!document.is_object() || document.value("error", false) || !document.contains("statements") ||
      document["statements"].size() != 1) {
    return InvalidArgument("not one SELECT: " + document.value("error_message", std::string()));
  }
  const Json& node = document["statements"][0]["node"];
  Relation traced;
  bool sure = true;
  try {
    traced = Tracer(inputs).Node(node, nullptr);
  } catch (const Unsure&) {
    sure = false;
  } catch (const Json::exception&) {
    sure = false;
  }
  Sources whole = WholeInputs(InputsNamed(node, inputs));
  std::vector<OutputColumn> out;
  if (output_columns.empty()) {
    for (const auto& c : traced.columns) out.push_back(OutputColumn{c.name, Tidy(sure ? c.sources : whole)});
    return out;
  }
  for (const auto& name : output_columns) {
    std::string lower = AsciiLower(name);
    Sources sources = whole;
    if (sure) {
      auto it = std::find_if(traced.columns.begin(), traced.columns.end(),
                             [&](const ScopeColumn& c) { return c.name == lower; });
      if (it != traced.columns.end()) {
        sources = it->sources;
      } else if (!traced.open_inputs.empty()) {
        sources.clear();
        for (const auto& in : traced.open_inputs) {
          sources.insert(ColumnSource{in, traced.open_inputs.size() == 1 ? name : "*", true});
        }
      }
    }
    out.push_back(OutputColumn{name, Tidy(sources)});
  }
  return out;
}

namespace {

/// The table of an output port in its contract: the schema object named like the port, or the
/// only one.
const spec::SchemaObject* PortTable(const spec::Contract& contract, const std::string& port) {
  for (const auto& object : contract.schema) {
    if (object.name == port) return &object;
  }
  return contract.schema.size() == 1 ? &contract.schema.front() : nullptr;
}

struct PortColumns {
  std::string product;  ///< domain.product
  std::string port;
  std::vector<std::string> columns;
};

/// The output's SELECT with its processor steps compiled in (types unknown: traced, never run),
/// so a rename, project or lookup step's columns trace to what they read.
Result<std::string> ChainSql(const spec::PipelineOutput& output, const spec::Pipeline& pipeline,
                             const std::vector<spec::ProcessorDefinition>& domain_processors,
                             const std::vector<spec::ProcessorDefinition>& mesh_processors) {
  ChainContext context;
  for (const auto& input : pipeline.inputs) context.inputs.push_back(input.name);
  PLEXUS_ASSIGN_OR_RETURN(std::string start, ChainStart(output, context.inputs));
  if (output.steps.empty()) return start;
  PLEXUS_ASSIGN_OR_RETURN(auto steps, ExpandChain(output.steps, domain_processors, mesh_processors));
  return CompileChain(start, steps, context);
}

std::vector<std::string> ColumnNames(const spec::SchemaObject* table) {
  std::vector<std::string> names;
  if (table != nullptr) {
    for (const auto& p : table->properties) names.push_back(p.name);
  }
  return names;
}

}  // namespace

Result<std::vector<catalog::ColumnLineageRecord>> MeshColumnLineage(const spec::Mesh& mesh) {
  std::map<std::string, PortColumns> by_contract;  // contract id -> the port it describes
  for (const auto& domain : mesh.domains) {
    for (const auto& bundle : domain.products) {
      for (const auto& out : bundle.product.output_ports) {
        auto it = bundle.contracts.find(out.contract_id);
        if (it == bundle.contracts.end()) continue;
        by_contract[out.contract_id] = PortColumns{domain.name + "." + bundle.product.name, out.name,
                                                   ColumnNames(PortTable(it->second, out.name))};
      }
    }
  }
  PLEXUS_ASSIGN_OR_RETURN(auto parser, LineageParser::Open());
  std::vector<catalog::ColumnLineageRecord> edges;
  for (const auto& domain : mesh.domains) {
    for (const auto& bundle : domain.products) {
      if (!bundle.pipeline) continue;
      const spec::Product& product = bundle.product;
      std::map<std::string, std::vector<std::string>> inputs;
      std::map<std::string, const PortColumns*> upstream;  // input name -> upstream port
      for (const auto& input : bundle.pipeline->inputs) {
        inputs[input.name] = {};
        if (input.input_port.empty()) continue;
        for (const auto& port : product.input_ports) {
          auto it = port.name == input.input_port ? by_contract.find(port.contract_id) : by_contract.end();
          if (it == by_contract.end()) continue;
          inputs[input.name] = it->second.columns;
          upstream[input.name] = &it->second;
        }
      }
      for (const auto& output : bundle.pipeline->outputs) {
        auto contract_id = std::find_if(product.output_ports.begin(), product.output_ports.end(),
                                        [&](const auto& p) { return p.name == output.port; });
        if (contract_id == product.output_ports.end()) continue;
        auto contract = bundle.contracts.find(contract_id->contract_id);
        std::vector<std::string> columns =
            contract == bundle.contracts.end() ? std::vector<std::string>{}
                                               : ColumnNames(PortTable(contract->second, output.port));
        auto sql = ChainSql(output, *bundle.pipeline, domain.processors, mesh.processors);
        auto traced = sql.ok() ? parser->Compute(*sql, inputs, columns)
                               : Result<std::vector<OutputColumn>>(sql.status());
        std::vector<OutputColumn> lineage;
        if (traced.ok()) {
          lineage = std::move(traced).value();
        } else {  // does not parse: each column may read anything
          for (const auto& c : columns) {
            OutputColumn oc{c, {}};
            for (const auto& [name, cols] : inputs) oc.sources.push_back(ColumnSource{name, "*", true});
            lineage.push_back(std::move(oc));
          }
        }
        for (const auto& column : lineage) {
          for (const auto& source : column.sources) {
            auto up = upstream.find(source.input);
            if (up == upstream.end()) continue;
            edges.push_back(catalog::ColumnLineageRecord{
                domain.name + "." + product.name, output.port, column.name, up->second->product,
                up->second->port, source.column, source.input, source.direct});
          }
        }
      }
    }
  }
  return edges;
}

}  // namespace plexus::pipeline
