// The oracle of the conformance test: validates YAML files against the official JSON schemas
// (draft 2019-09) with ajv and ajv-formats, after converting them to JSON with the `yaml`
// package (YAML 1.2 core schema, as the standards' tooling reads them).
//
//   node check_schemas.mjs --standards DIR FILE...
//
// Prints one JSON line per file: {"file", "kind": "odcs"|"odps", "schema", "valid", "errors"}.
// ODPS files (*.odps.yaml) are checked against odps v1.0.0 and ODCS files against odcs
// v3.1.0, whatever their apiVersion: each schema lists the older versions it reads (ODPS
// v0.9.0; ODCS v3.0.x), and three official examples labelled v3.0.2 fail the v3.0.2 schema
// while every example passes v3.1.0's.
// Also reports, for `--roundtrip A=B` pairs, whether A and B hold the same JSON value.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
const modules = process.env.PLEXUS_CONFORMANCE_MODULES;
const load = (name) => require(modules ? path.join(modules, name) : name);
const Ajv2019 = load("ajv/dist/2019").default;
const addFormats = load("ajv-formats").default;
const YAML = load("yaml");

const args = process.argv.slice(2);
let standards = "/work/shared/standards";
const files = [];
const pairs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--standards") standards = args[++i];
  else if (args[i] === "--roundtrip") pairs.push(args[++i].split("="));
  else files.push(args[i]);
}

const ajv = new Ajv2019({ allErrors: true, strict: false });
addFormats(ajv);
const validators = new Map();
function validatorFor(schemaFile) {
  if (!validators.has(schemaFile)) {
    const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
    delete schema.$id;  // the four ODCS schemas share ids; compile each on its own
    validators.set(schemaFile, ajv.compile(schema));
  }
  return validators.get(schemaFile);
}

function readJson(file) {
  const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"), { uniqueKeys: true });
  if (doc.errors.length > 0) return { error: doc.errors[0].message };
  return { value: doc.toJS({ maxAliasCount: -1 }) };
}

function schemaFor(file) {
  if (file.endsWith(".odps.yaml")) return path.join(standards, "odps/schema/odps-json-schema-v1.0.0.json");
  return path.join(standards, "odcs/schema/odcs-json-schema-v3.1.0.json");
}

for (const file of files) {
  const read = readJson(file);
  const kind = file.endsWith(".odps.yaml") ? "odps" : "odcs";
  if (read.error) {
    console.log(JSON.stringify({ file, kind, valid: false, errors: [read.error] }));
    continue;
  }
  const schema = schemaFor(file);
  const validate = validatorFor(schema);
  const valid = validate(read.value);
  const errors = valid ? [] : validate.errors.slice(0, 5).map((e) => `${e.instancePath} ${e.message}`);
  console.log(JSON.stringify({ file, kind, schema: path.basename(schema), valid, errors }));
}

for (const [a, b] of pairs) {
  const same = JSON.stringify(canonical(readJson(a).value)) === JSON.stringify(canonical(readJson(b).value));
  console.log(JSON.stringify({ roundtrip: a, formatted: b, same }));
}

function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object" && !(v instanceof Date)) {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  }
  return v;
}
