// Unknown-field check: each object becomes a TypeScript object literal typed with its
// Kubernetes API type (npm kubernetes-types; ServiceMonitor from
// @kubernetes-models/prometheus-operator), and tsc's excess-property check reports any field the
// API does not have (e.g. "readinessprobe"), with the object and path. Offline.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const yaml = require("js-yaml");

const TYPES = {
  "v1": "kubernetes-types/core/v1",
  "apps/v1": "kubernetes-types/apps/v1",
  "policy/v1": "kubernetes-types/policy/v1",
  "networking.k8s.io/v1": "kubernetes-types/networking/v1",
  "batch/v1": "kubernetes-types/batch/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-types/rbac/v1",
};

const docs = [];
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, "utf8"))) if (doc) docs.push([file, doc]);
}
const lines = [];
const imports = new Map();
const names = [];
docs.forEach(([file, doc], i) => {
  let type;
  if (doc.apiVersion === "monitoring.coreos.com/v1") {
    imports.set(`${doc.kind}Model`, `import type { I${doc.kind} as ${doc.kind}Model } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${doc.kind}";`);
    type = `${doc.kind}Model`;
  } else {
    const mod = TYPES[doc.apiVersion];
    if (!mod) throw new Error(`${file}: no types for ${doc.apiVersion}`);
    const alias = `${doc.kind}_${doc.apiVersion.replace(/[^a-z0-9]/gi, "_")}`;
    imports.set(alias, `import type { ${doc.kind} as ${alias} } from "${mod}";`);
    type = alias;
  }
  names.push(`${file}: ${doc.kind}/${doc.metadata.name}`);
  lines.push(`// object ${i}: ${names[i]}`);
  lines.push(`export const o${i}: ${type} = ${JSON.stringify(doc, null, 1)};`);
});
// Inside this directory so that node_modules resolves.
const dir = fs.mkdtempSync(path.join(__dirname, ".strict-"));
const src = path.join(dir, "objects.ts");
fs.writeFileSync(src, [...imports.values(), ...lines].join("\n") + "\n");
const tsc = require.resolve("typescript/bin/tsc");
let ok = true;
try {
  execFileSync(process.execPath, [tsc, "--noEmit", "--strict", "--skipLibCheck", "--moduleResolution", "node",
    "--module", "commonjs", "--target", "es2020", "--typeRoots", "[]", "--baseUrl", __dirname, src],
    { cwd: __dirname, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_PATH: path.join(__dirname, "node_modules") } });
} catch (e) {
  ok = false;
  const text = e.stdout.toString() + e.stderr.toString();
  const srcLines = fs.readFileSync(src, "utf8").split("\n");
  for (const m of text.matchAll(/objects\.ts\((\d+),\d+\): (error .*)/g)) {
    let n = Number(m[1]) - 1;
    while (n > 0 && !srcLines[n].startsWith("// object ")) n--;
    console.log(`FAIL ${srcLines[n].slice(3)}: ${m[2]}`);
  }
  if (!/objects\.ts\(/.test(text)) console.log(text);
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(`${docs.length} objects checked for unknown fields: ${ok ? "none" : "see FAIL lines"}`);
process.exit(ok && docs.length > 0 ? 0 : 1);
