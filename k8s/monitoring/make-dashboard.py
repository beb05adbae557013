#!/usr/bin/env python3
"""Writes deskpod-dashboard.json (Grafana, schemaVersion 39) from the panel list below.
Run after changing it: python3 k8s/monitoring/make-dashboard.py. tests/deploy/test_k8s.py checks
that the committed JSON is what this script writes and that every metric it queries exists."""
import json
from pathlib import Path

SEL = 'deskpod_io_tenant=~"$tenant"'
PANELS = [
    # (title, unit, [(expr, legend)], kind)
    ("Viewers connected", "short",
     [(f"sum by (protocol) (deskpod_clients_connected{{{SEL}}})", "{{protocol}}")], "timeseries"),
    ("Viewer sessions started / min", "short",
     [(f"sum by (protocol) (rate(deskpod_sessions_total{{{SEL}}}[5m])) * 60", "{{protocol}}")], "timeseries"),
    ("Frames / s", "fps",
     [(f"sum(rate(deskpod_frames_captured_total{{{SEL}}}[5m]))", "captured"),
      (f"sum(rate(deskpod_frames_encoded_total{{{SEL}}}[5m]))", "encoded"),
      (f"sum(rate(deskpod_frames_sent_total{{{SEL}}}[5m]))", "sent"),
      (f"sum(rate(deskpod_frames_coalesced_total{{{SEL}}}[5m]))", "coalesced")], "timeseries"),
    ("Encode time p50 / p95", "s",
     [(f"histogram_quantile(0.5, sum by (le, protocol) (rate(deskpod_encode_seconds_bucket{{{SEL}}}[5m])))", "p50 {{protocol}}"),
      (f"histogram_quantile(0.95, sum by (le, protocol) (rate(deskpod_encode_seconds_bucket{{{SEL}}}[5m])))", "p95 {{protocol}}")], "timeseries"),
    ("Capture to send p50 / p95", "s",
     [(f"histogram_quantile(0.5, sum by (le, protocol) (rate(deskpod_capture_to_send_seconds_bucket{{{SEL}}}[5m])))", "p50 {{protocol}}"),
      (f"histogram_quantile(0.95, sum by (le, protocol) (rate(deskpod_capture_to_send_seconds_bucket{{{SEL}}}[5m])))", "p95 {{protocol}}")], "timeseries"),
    ("Bytes sent / s", "Bps",
     [(f"sum by (protocol) (rate(deskpod_bytes_sent_total{{{SEL}}}[5m]))", "{{protocol}}")], "timeseries"),
    ("Auth failures and refusals / min", "short",
     [(f"sum by (protocol) (rate(deskpod_auth_failures_total{{{SEL}}}[5m])) * 60", "auth failed {{protocol}}"),
      (f"sum by (protocol) (rate(deskpod_clients_refused_total{{{SEL}}}[5m])) * 60", "refused {{protocol}}")], "timeseries"),
    ("Clipboard transfers / min", "short",
     [(f"sum by (protocol, direction) (rate(deskpod_clipboard_transfers_total{{{SEL}}}[5m])) * 60", "{{protocol}} {{direction}}"),
      (f"sum(rate(deskpod_clipboard_refused_total{{{SEL}}}[5m])) * 60", "refused (too large)")], "timeseries"),
    ("Queue fill", "percentunit",
     [(f"max by (queue) (deskpod_queue_depth{{{SEL}}} / deskpod_queue_capacity{{{SEL}}})", "{{queue}}")], "timeseries"),
    ("Dropped input and queue overflow / s", "short",
     [(f"sum(rate(deskpod_input_dropped_total{{{SEL}}}[5m]))", "input dropped"),
      (f"sum by (queue) (rate(deskpod_queue_dropped_total{{{SEL}}}[5m]))", "{{queue}} full")], "timeseries"),
    ("Input events / s", "short",
     [(f"sum(rate(deskpod_input_events_total{{{SEL}}}[5m]))", "applied")], "timeseries"),
    ("Session running", "short",
     [(f"min(deskpod_session_running{{{SEL}}})", "session")], "stat"),
]


def panel(i, title, unit, targets, kind):
    return {
        "id": i + 1,
        "type": kind,
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": [
            {"refId": chr(ord("A") + n), "expr": expr, "legendFormat": legend,
             "datasource": {"type": "prometheus", "uid": "${datasource}"}}
            for n, (expr, legend) in enumerate(targets)
        ],
    }


dashboard = {
    "title": "deskpod",
    "uid": "deskpod",
    "description": "deskpod desktops: viewers, frames, latency, bytes, clipboard, queues (docs/observability.md)",
    "tags": ["deskpod"],
    "schemaVersion": 39,
    "version": 1,
    "editable": True,
    "time": {"from": "now-6h", "to": "now"},
    "refresh": "30s",
    "templating": {"list": [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"},
        {"name": "tenant", "type": "query", "label": "Tenant", "includeAll": True, "multi": True,
         "allValue": ".*", "current": {"text": "All", "value": "$__all"},
         "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "query": {"query": "label_values(deskpod_build_info, deskpod_io_tenant)", "refId": "tenant"},
         "refresh": 2},
    ]},
    "panels": [panel(i, *p) for i, p in enumerate(PANELS)],
}

out = Path(__file__).resolve().parent / "deskpod-dashboard.json"
out.write_text(json.dumps(dashboard, indent=2) + "\n")
