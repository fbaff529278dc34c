// File: plexus/spec/processors_test.cc
//
// ExpandSteps: uses replaced by the processor's steps with parameters substituted (defaults,
// whole-value substitution of lists, nested uses, domain before mesh), and each misuse refused
// naming the use's file and line. CheckStepArgument: the argument shape of each built-in.
#include "plexus/spec/processors.h"

#include <gtest/gtest.h>

namespace plexus::spec {
namespace {

StepValue Text(const std::string& text, int line = 0) {
  StepValue v;
  v.text = text;
  v.location = SourceLocation{"p.yaml", line, 1};
  return v;
}

StepValue List(std::vector<StepValue> items) {
  StepValue v;
  v.kind = StepValue::Kind::kList;
  v.items = std::move(items);
  return v;
}

StepValue Map(std::vector<std::pair<std::string, StepValue>> fields) {
  StepValue v;
  v.kind = StepValue::Kind::kMap;
  v.fields = std::move(fields);
  return v;
}

ProcessorStep Step(const std::string& kind, StepValue value, int line = 0) {
  ProcessorStep step;
  step.kind = kind;
  step.value = std::move(value);
  step.location = SourceLocation{"pipeline.yaml", line, 7};
  return step;
}

ProcessorStep Use(const std::string& name, std::vector<std::pair<std::string, StepValue>> with,
                  int line) {
  ProcessorStep step = Step("use", Text(name), line);
  step.with = std::move(with);
  return step;
}

ProcessorParameter Parameter(const std::string& name, std::optional<std::string> default_value) {
  ProcessorParameter p;
  p.name = name;
  p.default_value = std::move(default_value);
  return p;
}

ProcessorDefinition Definition(const std::string& name, const std::string& scope,
                               std::vector<ProcessorParameter> parameters,
                               std::vector<ProcessorStep> steps) {
  ProcessorDefinition d;
  d.name = name;
  d.scope = scope;
  d.parameters = std::move(parameters);
  d.steps = std::move(steps);
  return d;
}

std::string ErrorOf(const Result<std::vector<ProcessorStep>>& result) {
  return result.ok() ? "ok" : result.status().message();
}

TEST(SpecProcessorsTest, BuiltinStepsPassThrough) {
  std::vector<ProcessorStep> steps = {Step("filter", Text("amount > 0")),
                                      Step("project", List({Text("id"), Text("amount")}))};
  auto expanded = ExpandSteps(steps, {}, {});
  ASSERT_TRUE(expanded.ok()) << expanded.status().ToString();
  ASSERT_EQ(expanded->size(), 2u);
  EXPECT_EQ((*expanded)[0].kind, "filter");
  EXPECT_EQ((*expanded)[0].value.text, "amount > 0");
  EXPECT_EQ((*expanded)[1].value.items[1].text, "amount");
}

TEST(SpecProcessorsTest, UseIsReplacedWithParametersSubstituted) {
  std::vector<ProcessorDefinition> mesh = {Definition(
      "clean_emails", "mesh", {Parameter("column", std::nullopt), Parameter("mask", "hash")},
      {Step("filter", Text("${column} IS NOT NULL AND ${column} LIKE '%@%'")),
       Step("cast", Map({{"${column}", Text("VARCHAR")}})),
       Step("mask", Map({{"${column}", Text("${mask}")}}))})};
  std::vector<ProcessorStep> steps = {Step("filter", Text("id > 0")),
                                      Use("clean_emails", {{"column", Text("email")}}, 12)};
  auto expanded = ExpandSteps(steps, {}, mesh);
  ASSERT_TRUE(expanded.ok()) << expanded.status().ToString();
  ASSERT_EQ(expanded->size(), 4u);
  EXPECT_EQ((*expanded)[1].value.text, "email IS NOT NULL AND email LIKE '%@%'");
  EXPECT_EQ((*expanded)[2].value.fields[0].first, "email");
  EXPECT_EQ((*expanded)[3].value.fields[0].first, "email");
  EXPECT_EQ((*expanded)[3].value.fields[0].second.text, "hash");  // the default
  // `with` wins over the default.
  steps[1].with.emplace_back("mask", Text("partial(4)"));
  expanded = ExpandSteps(steps, {}, mesh);
  ASSERT_TRUE(expanded.ok()) << expanded.status().ToString();
  EXPECT_EQ((*expanded)[3].value.fields[0].second.text, "partial(4)");
}

TEST(SpecProcessorsTest, AWholePlaceholderTakesAListValue) {
  std::vector<ProcessorDefinition> domain = {
      Definition("latest_by_key", "orders", {Parameter("key", std::nullopt), Parameter("ts", "updated_at")},
                 {Step("dedupe", Map({{"key", Text("${key}")}, {"latest", Text("${ts}")}}))})};
  auto expanded =
      ExpandSteps({Use("latest_by_key", {{"key", List({Text("a"), Text("b")})}}, 3)}, domain, {});
  ASSERT_TRUE(expanded.ok()) << expanded.status().ToString();
  ASSERT_EQ(expanded->size(), 1u);
  const StepValue* key = (*expanded)[0].value.Field("key");
  ASSERT_NE(key, nullptr);
  ASSERT_EQ(key->kind, StepValue::Kind::kList);
  EXPECT_EQ(key->items[1].text, "b");
  EXPECT_EQ((*expanded)[0].value.Field("latest")->text, "updated_at");
  // A list spliced into a longer text is refused.
  domain[0].steps[0].value.fields[0].second = Text("k_${key}");
  EXPECT_NE(ErrorOf(ExpandSteps({Use("latest_by_key", {{"key", List({Text("a")})}}, 3)}, domain,
                                {}))
                .find("parameter 'key' is a list or a map and cannot be part of a longer text"),
            std::string::npos);
}

TEST(SpecProcessorsTest, NestedUsesExpandAndTheDomainComesFirst) {
  std::vector<ProcessorDefinition> mesh = {
      Definition("positive", "mesh", {Parameter("column", "amount")},
                 {Step("filter", Text("${column} > 0"))}),
      Definition("tidy", "mesh", {}, {Step("filter", Text("mesh tidy"))})};
  std::vector<ProcessorDefinition> domain = {
      Definition("tidy", "orders", {Parameter("col", std::nullopt)},
                 {Use("positive", {{"column", Text("${col}")}}, 4),
                  Step("project", List({Text("${col}")}))})};
  auto expanded = ExpandSteps({Use("tidy", {{"col", Text("total")}}, 9)}, domain, mesh);
  ASSERT_TRUE(expanded.ok()) << expanded.status().ToString();
  ASSERT_EQ(expanded->size(), 2u);
  EXPECT_EQ((*expanded)[0].value.text, "total > 0");
  EXPECT_EQ((*expanded)[1].value.items[0].text, "total");
}

TEST(SpecProcessorsTest, AMeshProcessorSeesMeshProcessorsOnly) {
  std::vector<ProcessorDefinition> mesh = {
      Definition("outer", "mesh", {}, {Use("inner", {}, 5)})};
  std::vector<ProcessorDefinition> domain = {
      Definition("inner", "orders", {}, {Step("filter", Text("true"))})};
  EXPECT_EQ(ErrorOf(ExpandSteps({Use("outer", {}, 2)}, domain, mesh)),
            "pipeline.yaml:5:7: processor 'inner' is not defined in mesh.yaml");
}

TEST(SpecProcessorsTest, MisusesNameTheUse) {
  std::vector<ProcessorDefinition> mesh = {
      Definition("needs", "mesh", {Parameter("column", std::nullopt)},
                 {Step("filter", Text("${column} > ${limit}"))}),
      Definition("plain", "mesh", {}, {Step("filter", Text("x > 0"))})};
  EXPECT_EQ(ErrorOf(ExpandSteps({Use("nothing", {}, 8)}, {}, mesh)),
            "pipeline.yaml:8:7: processor 'nothing' is not defined (in domain.yaml or mesh.yaml)");
  EXPECT_EQ(ErrorOf(ExpandSteps({Use("plain", {{"colour", Text("red")}}, 8)}, {}, mesh)),
            "pipeline.yaml:8:7: use of processor 'plain': 'colour' is not one of its parameters");
  EXPECT_EQ(ErrorOf(ExpandSteps({Use("needs", {}, 8)}, {}, mesh)),
            "pipeline.yaml:8:7: use of processor 'needs': parameter 'column' has no default: set "
            "it in `with`");
  EXPECT_NE(ErrorOf(ExpandSteps({Use("needs", {{"column", Text("a")}}, 8)}, {}, mesh))
                .find("${limit} names no parameter of the processor"),
            std::string::npos);
}

TEST(SpecProcessorsTest, CyclesAreRefused) {
  std::vector<ProcessorDefinition> domain = {
      Definition("a", "orders", {}, {Use("b", {}, 2)}),
      Definition("b", "orders", {}, {Step("filter", Text("true")), Use("a", {}, 3)})};
  EXPECT_EQ(ErrorOf(ExpandSteps({Use("a", {}, 7)}, domain, {})),
            "pipeline.yaml:3:7: use of processor 'a': processors use each other in a cycle (a -> "
            "b -> a)");
  domain = {Definition("self", "orders", {}, {Use("self", {}, 2)})};
  EXPECT_NE(ErrorOf(ExpandSteps({Use("self", {}, 7)}, domain, {})).find("(self -> self)"),
            std::string::npos);
}

std::vector<std::string> Problems(const ProcessorStep& step, bool placeholders = false) {
  std::vector<std::string> out;
  for (const Diagnostic& d : CheckStepArgument(step, "steps[0]", placeholders)) {
    out.push_back(d.field + ": " + d.message);
  }
  return out;
}

TEST(SpecProcessorsTest, ArgumentShapes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Problems(Step("filter", Text("a > 1"))), V{});
  EXPECT_EQ(Problems(Step("filter", Text(" "))), V{"steps[0].filter: must not be empty"});
  EXPECT_EQ(Problems(Step("sql", List({}))), V{"steps[0].sql: expected text, found a list"});
  EXPECT_EQ(Problems(Step("project", Text("a"))),
            V{"steps[0].project: expected a list of columns or expressions, found text"});
  EXPECT_EQ(Problems(Step("project", List({Text("a"), Map({})}))),
            V{"steps[0].project[1]: expected text, found a map"});
  EXPECT_EQ(Problems(Step("rename", Map({{"a", List({})}}))),
            V{"steps[0].rename.a: expected text, found a list"});
  EXPECT_EQ(Problems(Step("cast", List({}))),
            V{"steps[0].cast: expected a map of column: type, found a list"});
  EXPECT_EQ(Problems(Step("dedupe", Map({{"key", List({Text("id")})}, {"latest", Text("ts")}}))),
            V{});
  EXPECT_EQ(Problems(Step("dedupe", Map({{"latest", Text("ts")}, {"keys", Text("id")}}))),
            (V{"steps[0].dedupe.keys: unknown field (expected one of: key, latest)",
               "steps[0].dedupe.key: required field is missing"}));
  EXPECT_EQ(Problems(Step("mask", Map({{"email", Text("hash")}, {"phone", Text("partial(4)")}}))),
            V{});
  EXPECT_EQ(Problems(Step("mask", Map({{"email", Text("scramble")}}))),
            V{"steps[0].mask.email: 'scramble' is not a mask (expected redact, hash, partial(N), "
              "null, year or sql(EXPR))"});
  EXPECT_EQ(Problems(Step("hash", List({Text("email")}))), V{});
  EXPECT_EQ(Problems(Step("union", List({}))),
            V{"steps[0].union: expected at least one input names"});
  EXPECT_EQ(Problems(Step("lookup", Map({{"input", Text("c")}, {"on", Text("id")}}))), V{});
  EXPECT_EQ(Problems(Step("lookup", Map({{"input", Text("c")}, {"columns", Text("x")}}))),
            (V{"steps[0].lookup.on: required field is missing",
               "steps[0].lookup.columns: expected a list of columns, found text"}));
  EXPECT_EQ(Problems(Step("pivot", Text("x"))),
            V{"steps[0]: unknown step 'pivot' (expected one of: sql, filter, project, rename, "
              "cast, dedupe, mask, hash, union, lookup, use)"});
  // In a definition, a whole placeholder stands for any shape.
  EXPECT_EQ(Problems(Step("project", Text("${columns}")), true), V{});
  EXPECT_EQ(Problems(Step("project", Text("${columns}")), false).size(), 1u);
}

TEST(SpecProcessorsTest, RowWiseSteps) {
  for (std::string_view kind : {"filter", "project", "rename", "cast", "mask", "hash", "lookup"}) {
    EXPECT_TRUE(IsRowWiseStep(kind)) << kind;
  }
  for (std::string_view kind : {"sql", "dedupe", "union", "use"}) {
    EXPECT_FALSE(IsRowWiseStep(kind)) << kind;
  }
}

}  // namespace
}  // namespace plexus::spec
