"""Kubernetes manifests: every overlay renders with kubectl's built-in kustomize, the rendered
objects validate offline against the Kubernetes API schemas (npm kubernetes-models, and
kubernetes-types through tsc for unknown fields), and what the manifests tell deskpod (ports,
probe paths, DESKPOD_* variables, uid, paths) matches the binary's --help and the image."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from deploy_common import (DESKPOD_BIN, SOURCE_ROOT, env_names, help_options, help_text,
                           kubectls, log, run, schema_tools)

K8S = SOURCE_ROOT / "k8s"
NEW_TENANT = SOURCE_ROOT / "scripts" / "new-tenant"


def yaml_objects(text: str, tools: Path) -> list[dict]:
    """Multi-document YAML to objects (js-yaml from the schema tools; no Python YAML needed)."""
    r = subprocess.run(["node", "-e", "const y=require('js-yaml');let s='';process.stdin.on('data',"
                        "d=>s+=d).on('end',()=>console.log(JSON.stringify(y.loadAll(s).filter(Boolean))))"],
                       input=text, capture_output=True, text=True, cwd=tools, check=True, timeout=60)
    return json.loads(r.stdout)


class Manifests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kubectls = kubectls()
        if not cls.kubectls:
            raise AssertionError("kubectl is missing (Debian package kubernetes-client; "
                                 "scripts/bootstrap installs it)")
        cls.tools = schema_tools()
        cls.tmp = Path(tempfile.mkdtemp(prefix="deskpod-k8s-"))
        # A copy of k8s/ whose overlays get their (git-ignored) secrets, plus a tenant made here.
        cls.k8s = cls.tmp / "k8s"
        shutil.copytree(K8S, cls.k8s, ignore=shutil.ignore_patterns("secrets"))
        cls.overlays = sorted(p for p in (cls.k8s / "overlays").iterdir() if p.is_dir())
        for overlay in cls.overlays:
            r = run([NEW_TENANT, "--dir", cls.k8s / "overlays", overlay.name])
            assert r.returncode == 0, f"new-tenant {overlay.name}: {r.stderr}"
        r = run([NEW_TENANT, "--dir", cls.k8s / "overlays", "--namespace", "team-a", "--size",
                 "1280x800", "--memory", "3Gi", "alice"])
        assert r.returncode == 0, r.stderr
        cls.overlays.append(cls.k8s / "overlays" / "alice")
        cls.rendered = {}
        for overlay in [*cls.overlays, cls.k8s / "monitoring"]:
            r = run([cls.kubectls[0], "kustomize", overlay])
            assert r.returncode == 0, f"kubectl kustomize {overlay} failed:\n{r.stderr}"
            cls.rendered[overlay.name] = r.stdout
        cls.objects = {name: yaml_objects(text, cls.tools) for name, text in cls.rendered.items()}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tenant_overlays(self):
        return [o.name for o in self.overlays]

    def find(self, name, kind):
        found = [o for o in self.objects[name] if o["kind"] == kind]
        self.assertEqual(len(found), 1, f"{name}: expected one {kind}, got {len(found)}")
        return found[0]

    # ---- rendering and schemas --------------------------------------------------------------

    def test_every_overlay_renders_with_every_kubectl(self):
        self.assertIn("example-tenant", self.tenant_overlays())
        for kubectl in self.kubectls:
            version = run([kubectl, "version", "--client"]).stdout.strip().splitlines()[:1]
            for overlay in [*self.overlays, self.k8s / "monitoring"]:
                r = run([kubectl, "kustomize", overlay])
                self.assertEqual(r.returncode, 0, f"{kubectl} ({version}) kustomize {overlay}:\n"
                                 f"{r.stderr}")
                objs = yaml_objects(r.stdout, self.tools)
                kinds = sorted(o["kind"] for o in objs)
                if overlay.name != "monitoring":
                    self.assertEqual(kinds, sorted(["ServiceAccount", "Secret", "Secret", "Service",
                                                    "PersistentVolumeClaim", "Deployment",
                                                    "PodDisruptionBudget", "NetworkPolicy"]),
                                     f"{kubectl} {overlay}")
            log(f"{kubectl} {version}: {len(self.overlays) + 1} kustomizations render")

    def test_objects_validate_against_api_schemas(self):
        files = []
        for name, text in self.rendered.items():
            # kubectl wraps long base64 values over lines; the API server's decoder ignores the
            # newlines, the schema's "byte" format does not.
            objs = yaml_objects(text, self.tools)
            for o in objs:
                if o["kind"] == "Secret":
                    o["data"] = {k: re.sub(r"\s", "", v) for k, v in o.get("data", {}).items()}
            path = self.tmp / f"{name}.json.yaml"
            path.write_text("\n---\n".join(json.dumps(o) for o in objs))
            files.append(path)
        r = run(["node", self.tools / "validate.cjs", *files], cwd=self.tools)
        log(r.stdout.strip().splitlines()[-1] if r.stdout else r.stderr)
        self.assertEqual(r.returncode, 0, f"schema validation failed:\n{r.stdout}\n{r.stderr}")
        r = run(["node", self.tools / "strict.cjs", *files], cwd=self.tools)
        self.assertEqual(r.returncode, 0, f"unknown fields:\n{r.stdout}\n{r.stderr}")

    def test_validators_reject_broken_objects(self):
        """The checks above can fail: a wrong type and an unknown field are both reported."""
        bad = self.tmp / "bad.yaml"
        dep = json.loads(json.dumps(self.find("example-tenant", "Deployment")))
        dep["spec"]["replicas"] = "one"
        dep["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
        bad.write_text(json.dumps(dep))
        r = run(["node", self.tools / "validate.cjs", bad], cwd=self.tools)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/spec/replicas", r.stdout)
        r = run(["node", self.tools / "strict.cjs", bad], cwd=self.tools)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("readinessprobe", r.stdout)

    # ---- consistency with the binary and the image ------------------------------------------

    def test_env_ports_and_probes_match_deskpod(self):
        options = help_options()
        for required in ("rdp", "guac", "http", "password-file", "tls-cert", "tls-key",
                         "state-dir", "size", "log-format", "log-level"):
            self.assertIn(required, options, f"deskpod --help no longer lists --{required}")
        valid_env = env_names(options)
        text = help_text()
        for path in ("/healthz", "/readyz", "/metrics"):
            self.assertIn(path, text, f"deskpod --help does not mention {path}")
        for name in self.tenant_overlays():
            dep = self.find(name, "Deployment")
            pod = dep["spec"]["template"]["spec"]
            (c,) = pod["containers"]
            env = {e["name"]: e.get("value") for e in c["env"]}
            unknown = sorted(n for n in env if n.startswith("DESKPOD_") and n not in valid_env)
            self.assertEqual(unknown, [], f"{name}: deskpod accepts no such variables")
            ports = {p["name"]: p["containerPort"] for p in c["ports"]}
            self.assertEqual(ports, {"rdp": 3389, "guac": 4822, "http": 8080})
            for var, port_name in (("DESKPOD_RDP", "rdp"), ("DESKPOD_GUAC", "guac"),
                                   ("DESKPOD_HTTP", "http")):
                host, port = env[var].rsplit(":", 1)
                self.assertEqual(host, "0.0.0.0", f"{name}: {var} must listen on all addresses")
                self.assertEqual(int(port), ports[port_name], f"{name}: {var} vs containerPort")
            self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
            self.assertEqual(c["startupProbe"]["httpGet"]["path"], "/healthz")
            self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                self.assertEqual(c[probe]["httpGet"]["port"], "http")
            # Values deskpod would reject: sizes and log settings in their accepted forms.
            self.assertRegex(env["DESKPOD_SIZE"], r"^\d+x\d+$")
            self.assertIn(env["DESKPOD_LOG_FORMAT"], options["log-format"].split("|"))
            self.assertIn(env["DESKPOD_LOG_LEVEL"], options["log-level"].split("|"))
            # Every file or directory deskpod is told about sits on a mounted volume (the root
            # filesystem is read-only), and the secret files come from the right Secrets.
            mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
            volumes = {v["name"]: v for v in pod["volumes"]}

            def volume_of(path):
                best = max((m for m in mounts if path == m or path.startswith(m + "/")),
                           key=len, default=None)
                self.assertIsNotNone(best, f"{name}: {path} is on the read-only root filesystem")
                return volumes[mounts[best]]

            self.assertEqual(volume_of(env["DESKPOD_PASSWORD_FILE"])["secret"]["secretName"],
                             f"{name}-deskpod-password")
            self.assertEqual(volume_of(env["DESKPOD_TLS_CERT"])["secret"]["secretName"],
                             f"{name}-deskpod-tls")
            self.assertIn("persistentVolumeClaim", volume_of(env["DESKPOD_STATE_DIR"]))
            self.assertIn("persistentVolumeClaim", volume_of(env["HOME"]))
            self.assertIn("emptyDir", volume_of(env["XDG_RUNTIME_DIR"]))
            self.assertIn("emptyDir", volume_of("/tmp/.X11-unix"))
            self.assertEqual(volume_of(env["HOME"])["persistentVolumeClaim"]["claimName"],
                             f"{name}-deskpod-home")
            secrets = {o["metadata"]["name"]: o for o in self.objects[name] if o["kind"] == "Secret"}
            self.assertIn("password", secrets[f"{name}-deskpod-password"]["data"])
            self.assertEqual(secrets[f"{name}-deskpod-tls"]["type"], "kubernetes.io/tls")
            # The image's user: runAsUser, the runtime dir's uid and the Containerfile agree.
            uid = pod["securityContext"]["runAsUser"]
            self.assertEqual(env["XDG_RUNTIME_DIR"], f"/run/user/{uid}")
            containerfile = (SOURCE_ROOT / "container" / "Containerfile").read_text()
            self.assertIn(f"USER {uid}:{uid}", containerfile)
            self.assertIn(f"uid={uid}", (SOURCE_ROOT / "container" / "build-rootfs.sh").read_text())
            exposed = set(re.findall(r"(\d+)/tcp", re.search(r"^EXPOSE (.*)$", containerfile,
                                                              re.M).group(1)))
            self.assertEqual(exposed, {str(p) for p in ports.values()})
            # Service ports point at the named container ports.
            svc = self.find(name, "Service")
            self.assertEqual({p["name"]: (p["port"], p["targetPort"]) for p in svc["spec"]["ports"]},
                             {n: (p, n) for n, p in ports.items()})

    def test_restricted_security_context(self):
        for name in self.tenant_overlays():
            pod = self.find(name, "Deployment")["spec"]["template"]["spec"]
            (c,) = pod["containers"]
            sc = c["securityContext"]
            self.assertTrue(pod["securityContext"]["runAsNonRoot"])
            self.assertEqual(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault")
            self.assertIs(sc["allowPrivilegeEscalation"], False)
            self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
            self.assertIs(sc["readOnlyRootFilesystem"], True)
            self.assertFalse(pod["automountServiceAccountToken"])
            self.assertFalse(pod["enableServiceLinks"])
            for kind in ("requests", "limits"):
                self.assertIn("cpu", c["resources"][kind])
                self.assertIn("memory", c["resources"][kind])
            self.assertEqual(self.find(name, "Deployment")["spec"]["replicas"], 1)

    def test_selectors_are_per_tenant(self):
        """Each tenant's Service, PDB and NetworkPolicy select only its own pod, and the
        NetworkPolicy's peers (Guacamole, DNS) are not narrowed by the tenant's labels."""
        for name in self.tenant_overlays():
            dep = self.find(name, "Deployment")
            pod_labels = dep["spec"]["template"]["metadata"]["labels"]
            self.assertEqual(pod_labels.get("deskpod.io/tenant"), name)
            for kind, selector in (("Service", lambda o: o["spec"]["selector"]),
                                   ("PodDisruptionBudget", lambda o: o["spec"]["selector"]["matchLabels"]),
                                   ("NetworkPolicy", lambda o: o["spec"]["podSelector"]["matchLabels"]),
                                   ("Deployment", lambda o: o["spec"]["selector"]["matchLabels"])):
                sel = selector(self.find(name, kind))
                self.assertEqual(sel.get("deskpod.io/tenant"), name, f"{name} {kind}")
                self.assertTrue(set(sel.items()) <= set(pod_labels.items()), f"{name} {kind}")
            np = self.find(name, "NetworkPolicy")
            self.assertEqual(sorted(np["spec"]["policyTypes"]), ["Egress", "Ingress"])
            by_port = {}
            for rule in np["spec"]["ingress"]:
                for p in rule["ports"]:
                    by_port[p["port"]] = rule["from"]
            self.assertEqual(set(by_port), {3389, 4822, 8080})
            guac = by_port[4822][0]
            self.assertEqual(guac["podSelector"]["matchExpressions"][0]["values"], ["guacamole"])
            self.assertNotIn("matchLabels", guac["podSelector"])
            namespaces = [f["namespaceSelector"]["matchLabels"] for f in by_port[8080]]
            self.assertIn({"kubernetes.io/metadata.name": "monitoring"}, namespaces)
            egress_ports = {(p["port"], p["protocol"]) for r in np["spec"]["egress"] for p in r["ports"]}
            self.assertEqual(egress_ports, {(53, "UDP"), (53, "TCP")})
            for rule in np["spec"]["egress"]:
                for peer in rule["to"]:
                    self.assertNotIn("matchLabels", peer.get("podSelector", {}))

    def test_servicemonitor_scrapes_the_http_port(self):
        sm = self.find("monitoring", "ServiceMonitor")
        self.assertEqual(sm["spec"]["endpoints"][0]["port"], "http")
        self.assertEqual(sm["spec"]["endpoints"][0]["path"], "/metrics")
        svc = self.find("example-tenant", "Service")
        self.assertTrue(set(sm["spec"]["selector"]["matchLabels"].items())
                        <= set(svc["metadata"]["labels"].items()))
        cm = self.find("monitoring", "ConfigMap")
        self.assertEqual(cm["metadata"]["labels"]["grafana_dashboard"], "1")
        json.loads(cm["data"]["deskpod-dashboard.json"])

    def test_dashboard_is_generated(self):
        committed = (K8S / "monitoring" / "deskpod-dashboard.json").read_text()
        copy = self.tmp / "dash"
        copy.mkdir()
        shutil.copy2(K8S / "monitoring" / "make-dashboard.py", copy)
        run(["python3", copy / "make-dashboard.py"], check=True)
        self.assertEqual((copy / "deskpod-dashboard.json").read_text(), committed,
                         "run python3 k8s/monitoring/make-dashboard.py and commit the result")

    # ---- scripts/new-tenant ------------------------------------------------------------------

    def test_example_tenant_is_what_new_tenant_writes(self):
        d = self.tmp / "gen"
        r = run([NEW_TENANT, "--dir", d, "example-tenant"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for f in ("kustomization.yaml", "resources.yaml"):
            got = (d / "example-tenant" / f).read_text()
            got = re.sub(r"^  - \S*k8s/base$", "  - ../../base", got, flags=re.M)
            self.assertEqual(got, (K8S / "overlays" / "example-tenant" / f).read_text(),
                             f"k8s/overlays/example-tenant/{f} differs from scripts/new-tenant's")

    def test_new_tenant_secrets(self):
        d = self.tmp / "nt"
        r = run([NEW_TENANT, "--dir", d, "bob"])
        self.assertEqual(r.returncode, 0, r.stderr)
        secrets = d / "bob" / "secrets"
        self.assertEqual(secrets.stat().st_mode & 0o777, 0o700)
        for f in ("password", "tls.crt", "tls.key"):
            self.assertEqual((secrets / f).stat().st_mode & 0o777, 0o600, f)
        password = (secrets / "password").read_text()
        self.assertRegex(password, r"^[A-Za-z0-9]{24}$")
        san = run(["openssl", "x509", "-in", secrets / "tls.crt", "-noout", "-ext",
                   "subjectAltName"], check=True).stdout
        self.assertIn("DNS:bob-deskpod.desktops.svc", san)
        # The key matches the certificate.
        pub = lambda args: run(["openssl", *args], check=True).stdout  # noqa: E731
        self.assertEqual(pub(["x509", "-in", secrets / "tls.crt", "-noout", "-pubkey"]),
                         pub(["pkey", "-in", secrets / "tls.key", "-pubout"]))
        # Re-running keeps the secrets; --rotate replaces them.
        run([NEW_TENANT, "--dir", d, "bob"], check=True)
        self.assertEqual((secrets / "password").read_text(), password)
        run([NEW_TENANT, "--dir", d, "--rotate", "bob"], check=True)
        self.assertNotEqual((secrets / "password").read_text(), password)
        # Bad names are refused before anything is written.
        for bad in ("Bob", "-x", "x-", "a_b", "a" * 41, ""):
            r = run([NEW_TENANT, "--dir", d, bad])
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertFalse((d / bad).exists() and bad, bad)
        self.assertEqual(run([NEW_TENANT, "--help"]).returncode, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
