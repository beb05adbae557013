"""Run-time observability of the real binary: /metrics has every family docs/observability.md
and the Grafana dashboard use, with protocol labels and scrape-time queue depths; SIGUSR1 and
SIGUSR2 change the log level of a running deskpod; JSON log lines carry the level."""

from __future__ import annotations

import json
import os
import re
import signal
import unittest

from deploy_common import SOURCE_ROOT
import harness  # tests/integration/harness/ (deploy_common puts it on sys.path)

FAMILIES = {
    "deskpod_build_info": "gauge",
    "deskpod_clients_connected": "gauge",
    "deskpod_sessions_total": "counter",
    "deskpod_clients_refused_total": "counter",
    "deskpod_auth_failures_total": "counter",
    "deskpod_frames_captured_total": "counter",
    "deskpod_frames_coalesced_total": "counter",
    "deskpod_frames_encoded_total": "counter",
    "deskpod_frames_sent_total": "counter",
    "deskpod_bytes_sent_total": "counter",
    "deskpod_encode_seconds": "histogram",
    "deskpod_capture_to_send_seconds": "histogram",
    "deskpod_clipboard_transfers_total": "counter",
    "deskpod_clipboard_bytes_total": "counter",
    "deskpod_clipboard_refused_total": "counter",
    "deskpod_input_events_total": "counter",
    "deskpod_input_dropped_total": "counter",
    "deskpod_desktop_width": "gauge",
    "deskpod_desktop_height": "gauge",
    "deskpod_session_running": "gauge",
    "deskpod_queue_depth": "gauge",
    "deskpod_queue_capacity": "gauge",
    "deskpod_queue_dropped_total": "counter",
}
PER_PROTOCOL = ["deskpod_clients_connected", "deskpod_sessions_total",
                "deskpod_auth_failures_total", "deskpod_frames_sent_total",
                "deskpod_frames_encoded_total", "deskpod_bytes_sent_total",
                "deskpod_clients_refused_total"]


class Observability(harness.IntegrationTest):
    def start(self, **kw):
        return harness.Deskpod(self.stack, self.workdir, "sleep 600", size="800x600",
                               extra=["--no-xwayland", "--log-format", "json"],
                               log_level="info", **kw)

    def test_metrics_families(self):
        server = self.start()
        text = server.metrics()
        types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
        for name, kind in FAMILIES.items():
            self.assertEqual(types.get(name), kind, f"{name} missing or not a {kind}")
        for name in PER_PROTOCOL:
            for proto in ("rdp", "guac", "web"):
                self.assertRegex(text, rf'(?m)^{name}{{protocol="{proto}"}} \d+$')
        for q, cap in (("to_bridge", 64), ("to_compositor", 8192), ("frame_pool", 4)):
            self.assertRegex(text, rf'(?m)^deskpod_queue_capacity{{queue="{q}"}} {cap}$')
            self.assertRegex(text, rf'(?m)^deskpod_queue_depth{{queue="{q}"}} \d+$')
        self.assertRegex(text, r'(?m)^deskpod_session_running 1$')
        # Prometheus naming: counters end in _total, histograms are in seconds.
        for name, kind in types.items():
            if kind == "counter":
                self.assertTrue(name.endswith("_total"), name)
            if kind == "histogram":
                self.assertTrue(name.endswith("_seconds"), name)
        # Every family is documented, and every metric the dashboard queries exists.
        doc = (SOURCE_ROOT / "docs" / "observability.md").read_text()
        for name in FAMILIES:
            self.assertIn(f"`{name}", doc, f"docs/observability.md does not describe {name}")
        dashboard = json.loads((SOURCE_ROOT / "k8s" / "monitoring" / "deskpod-dashboard.json")
                               .read_text())
        exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
        exprs.append(dashboard["templating"]["list"][1]["query"]["query"])
        for expr in exprs:
            for metric in re.findall(r"\b(deskpod_[a-z_]+?)(?:_bucket)?\b[{,)]", expr):
                if metric.startswith("deskpod_io_"):  # the tenant label, not a metric
                    continue
                base = metric[:-len("_bucket")] if metric.endswith("_bucket") else metric
                self.assertIn(base, types, f"dashboard queries unknown metric {metric}: {expr}")

    def test_log_level_signals(self):
        server = self.start()
        pid = server.proc.pid

        def lines():
            out = []
            for line in server.proc.output().splitlines():
                if line.startswith("{"):
                    out.append(json.loads(line))
            return out

        def wait_for(msg):
            harness.wait_until(lambda: any(r.get("msg", "").startswith(msg) for r in lines()),
                               10, f"log line '{msg}'")

        os.kill(pid, signal.SIGUSR1)
        wait_for("log level info -> debug")
        os.kill(pid, signal.SIGUSR1)
        wait_for("log level debug -> error")
        os.kill(pid, signal.SIGUSR1)
        wait_for("log level error -> warn")
        os.kill(pid, signal.SIGUSR2)
        wait_for("log level warn -> info")
        # Still serving, and SIGTERM still ends it cleanly (the signal thread must not block it).
        self.assertEqual(server.healthz(), 200)
        server.proc.signal(signal.SIGTERM)
        self.assertEqual(server.proc.wait(30), 0)
        records = lines()
        self.assertTrue(all({"ts", "level", "scope", "msg"} <= set(r) for r in records))


if __name__ == "__main__":
    unittest.main(verbosity=2)
