#!/usr/bin/env python3
"""The RDP graphics pipeline (MS-RDPEGFX): every xfreerdp that asks for it gets it, paints the
desktop's exact pixels (planar is lossless, so the client must equal grim), and frames carry
only what changed.

- /gfx, /gfx:RFX and /gfx:AVC420 (H.264 for photographic areas in motion, see the video tests)
  all confirm the pipeline (deskpod logs the version) and match grim on a terminal full of
  text; -gfx keeps RemoteFX surface bits.
- A terminal scrolling text sends SurfaceToSurface copies and the client still equals grim.
- Content that comes back (two screens shown in turn) is served from the client's cache.
- An app that commits identical pixels every frame makes deskpod send no tile data: the
  "unchanged" tile counter rises while the solid and planar counters stay put.
- A resize while the pipeline runs re-creates the surface (ResetGraphics) and the client
  shows the new size.
- Without the pipeline (RemoteFX surface bits), unchanged tiles are skipped as well.
- Photo-like content in motion goes as RemoteFX (lossy); once it stops, those tiles are sent
  again losslessly and the client ends with exactly the desktop's pixels.
- A window panned sideways is a horizontal SurfaceToSurface copy.
- A browser page scrolled under its scroll bar is copied (strips beside the bar) and exact.
"""
import re
import shlex
import subprocess
import time
import unittest

import harness as H

TERMINAL = "foot sh -c 'seq -w 1 4000 | paste -sd \" \" | fold -w 140; exec sleep infinity'"


def tiles(server, kind: str) -> float:
    return H.metric_value(server.metrics(), "deskpod_rdp_gfx_tiles_total", {"kind": kind}) or 0


def operations(server, kind: str) -> float:
    return H.metric_value(server.metrics(), "deskpod_rdp_gfx_operations_total",
                          {"kind": kind}) or 0


def codec_bytes(server, codec: str) -> float:
    return H.metric_value(server.metrics(), "deskpod_rdp_gfx_bytes_total",
                          {"codec": codec}) or 0


def planar_bytes(server) -> float:
    return codec_bytes(server, "planar")


@H.needs_deskpod
class GfxTest(H.IntegrationTest):
    def gfx_client(self, server, name: str, flags=("/gfx",), **kw) -> H.RdpClient:
        """xfreerdp with exactly `flags` for its codecs, its window found."""
        client = H.RdpClient(self.stack, self.workdir, name, server.rdp_port,
                             kw.pop("size", server.size), codec="none", extra=list(flags), **kw)
        client.find_window()
        return client

    def pipeline_lines(self, server) -> list[str]:
        return re.findall(r"graphics pipeline (\S+) confirmed: codec (.+?) \(",
                          server.proc.output())

    def test_every_pipeline_request_gets_the_pipeline_and_exact_pixels(self):
        server = self.start_server(TERMINAL)
        # No codec flags at all: xfreerdp 2.11 then asks for the pipeline as mstsc does.
        variants = [("default", []), ("gfx", ["/gfx"]), ("gfx-rfx", ["/gfx:RFX"]),
                    ("gfx-avc420", ["/gfx:AVC420"])]
        for n, (tag, flags) in enumerate(variants, start=1):
            with self.subTest(flags=flags):
                client = self.gfx_client(server, tag, flags)
                H.wait_until(lambda: len(self.pipeline_lines(server)) >= n, 20,
                             f"deskpod to confirm the graphics pipeline for {flags}")
                version, codec = self.pipeline_lines(server)[-1]
                print(f"{flags}: pipeline {version}, codec {codec}")
                diff = self.assert_client_matches_desktop(server, client, tag, max_differing=0.0,
                                                          max_mean=0.0)
                print(f"{flags}: client vs desktop: {diff}")
                client.proc.stop()
        self.assertGreater(tiles(server, "planar"), 0)
        # xfreerdp 2.11 announces the pipeline even with -gfx (its command line turns the
        # pipeline on for the switch whatever its sign), so it gets the pipeline too.
        client = self.connect(server, name="minus-gfx", codec="rfx")
        H.wait_until(lambda: len(self.pipeline_lines(server)) == len(variants) + 1, 20,
                     "deskpod to confirm the pipeline for -gfx")
        self.assert_client_matches_desktop(server, client, "minus-gfx", max_differing=0.0,
                                           max_mean=0.0)

    def test_rdp_gfx_off_keeps_surface_bits(self):
        server = self.start_server(TERMINAL, extra=["--rdp-gfx", "off"])
        client = self.gfx_client(server, "gfx-off")
        self.assert_client_matches_desktop(server, client, "gfx-off")
        self.assertEqual(self.pipeline_lines(server), [])
        # xfreerdp /gfx offers no RemoteFX surface bits: planar bitmaps it is.
        self.assertRegex(server.proc.output(), r"activated \d+x\d+ codec bitmap")

    def test_without_the_pipeline_unchanged_tiles_are_skipped_too(self):
        # RemoteFX surface bits (the pipeline off) and an app that commits the same pixels
        # every frame: after the first picture, nothing more goes to the client.
        server = self.start_server(
            f"{shlex.quote(str(H.TEST_CLIENT))} --color 2b6e4f --repaint",
            extra=["--rdp-gfx", "off"])
        client = self.connect(server, name="rfx-repaint", codec="rfx")
        self.assert_client_matches_desktop(server, client, "rfx-repaint", expect_color="2b6e4f")
        self.assertRegex(server.proc.output(), r"activated \d+x\d+ codec RemoteFX")

        def figures():
            m = server.metrics()
            return (H.metric_value(m, "deskpod_frames_captured_total"),
                    H.metric_value(m, "deskpod_rdp_tiles_unchanged_total"),
                    H.metric_value(m, "deskpod_frames_sent_total", {"protocol": "rdp"}))
        captured0, unchanged0, sent0 = figures()
        time.sleep(3)
        captured1, unchanged1, sent1 = figures()
        print(f"3 s of identical repaints over RemoteFX: {captured1 - captured0:.0f} frames "
              f"captured, {unchanged1 - unchanged0:.0f} tiles skipped, {sent1 - sent0:.0f} "
              "frames sent")
        self.assertGreater(captured1 - captured0, 10, "the app did not keep repainting")
        self.assertGreater(unchanged1 - unchanged0, 0)
        self.assertEqual(sent1 - sent0, 0, "frames the client already had were sent again")

    def test_terminal_scroll_is_copied_and_stays_exact(self):
        # 400 lines at about 40 a second once the client is connected; then still.
        go = self.workdir / "go"
        server = self.start_server(
            f"foot sh -c 'while [ ! -e {go} ]; do sleep 0.1; done; for i in $(seq 1 400); do "
            "echo \"line $i: the quick brown fox jumps over the lazy dog, $i times\"; "
            "sleep 0.025; done; exec sleep infinity'")
        client = self.gfx_client(server, "scroll")
        self.assert_client_matches_desktop(server, client, "scroll-start")
        go.touch()
        H.wait_until(lambda: operations(server, "surface_to_surface") > 10, 40,
                     "scrolls sent as SurfaceToSurface")
        diff = self.assert_client_matches_desktop(server, client, "scroll", max_differing=0.0,
                                                  max_mean=0.0, timeout=60)
        print(f"terminal scroll: {operations(server, 'surface_to_surface'):.0f} SurfaceToSurface "
              f"copies, {planar_bytes(server) / 1024:.0f} KiB planar in all; "
              f"client vs desktop: {diff}")

    def test_content_that_comes_back_is_served_from_the_cache(self):
        # A terminal switching between two screens of text every 0.7 s (like switching
        # between two windows): after the first round, both come from the client's cache.
        # The script starts switching when the test says so (once the client is connected) and
        # logs each switch, so the figures below count switches, whatever the machine's speed.
        go, shown, stop = (self.workdir / n for n in ("go", "shown", "stop"))
        script = self.workdir / "switch.sh"
        script.write_text(
            f"while [ ! -e {go} ]; do sleep 0.1; done\n"
            f"while [ ! -e {stop} ]; do\n"
            "  for first in 1 7000; do\n"
            "    clear; seq $first $((first + 2000)) | paste -sd ' ' | fold -w 140 | head -50\n"
            f"    echo $first >> {shown}; sleep 0.7\n"
            "  done\n"
            "done\n"
            "exec sleep infinity\n")
        server = self.start_server(f"foot sh {shlex.quote(str(script))}")
        client = self.gfx_client(server, "cache")
        self.assert_client_matches_desktop(server, client, "cache-start")

        def switches() -> int:
            return len(shown.read_text().splitlines()) if shown.exists() else 0

        def figures():
            return operations(server, "cache_to_surface"), planar_bytes(server)
        start_hits, start_bytes = figures()
        go.touch()
        # The first round: both screens sent (and cached); the third switch shows the first
        # screen again, so it waits until the second screen's tiles have gone out.
        H.wait_until(lambda: switches() >= 3, 30, "the first round of switches")
        hits_before, bytes_before = figures()
        H.wait_until(lambda: switches() >= 9, 60, "six more switches")
        hits_after, bytes_after = figures()
        stop.touch()
        first = bytes_before - start_bytes
        print(f"first round: {first / 1024:.0f} KiB planar, {hits_before - start_hits:.0f} "
              f"cache hits; the next six switches: {(bytes_after - bytes_before) / 1024:.0f} "
              f"KiB planar, {hits_after - hits_before:.0f} cache hits")
        self.assertGreater(hits_after - hits_before, 100, "switches were not served from the cache")
        self.assertLess(bytes_after - bytes_before, 0.25 * first,
                        "switching back cost as much as the first time")
        # When the switching stops, the client shows exactly the desktop's pixels.
        self.assert_client_matches_desktop(server, client, "cache", max_differing=0.0,
                                           max_mean=0.0, timeout=30)

    def test_identical_repaints_send_no_tile_data(self):
        server = self.start_server(
            f"{shlex.quote(str(H.TEST_CLIENT))} --color 3a5f8c --repaint")
        client = self.gfx_client(server, "repaint")
        self.assert_client_matches_desktop(server, client, "repaint", expect_color="3a5f8c")
        sent_before = tiles(server, "solid") + tiles(server, "planar")
        unchanged_before = tiles(server, "unchanged")
        frames_before = H.metric_value(server.metrics(), "deskpod_frames_captured_total")
        time.sleep(3)
        frames = H.metric_value(server.metrics(), "deskpod_frames_captured_total") - frames_before
        unchanged = tiles(server, "unchanged") - unchanged_before
        sent = tiles(server, "solid") + tiles(server, "planar") - sent_before
        print(f"3 s of identical repaints: {frames:.0f} frames captured, {unchanged:.0f} tiles "
              f"found unchanged, {sent:.0f} tiles sent")
        self.assertGreater(frames, 10, "the app did not keep repainting")
        self.assertGreater(unchanged, 0)
        self.assertEqual(sent, 0, "tiles the client already had were sent again")

    def video_settles(self, tag: str, flags: list[str], codec: str, on_confirmed=None,
                      frames: int = 360, during=None, **client_kw):
        """`frames` photo-like frames once `flags`' client is connected (the test says when),
        then still: the moving tiles go as `codec`, then settle to the exact pixels.
        `during(server, client)` runs while the video plays."""
        go = self.workdir / "go"
        server = self.start_server(
            f"sh -c 'while [ ! -e {go} ]; do sleep 0.1; done; "
            f"exec {shlex.quote(str(H.TEST_CLIENT))} --video {frames}'")
        client = self.gfx_client(server, tag, flags, **client_kw)
        H.wait_until(lambda: self.pipeline_lines(server), 20, "the pipeline to be confirmed")
        if on_confirmed:
            on_confirmed(server)
        self.assert_client_matches_desktop(server, client, f"{tag}-start")
        go.touch()
        if during:
            during(server, client)
        # The client draws a frame per frame callback: on a loaded machine (the sanitizer
        # builds, two suites at once) the frames take far longer than at 60 a second.
        H.wait_until(lambda: f"video: {frames} frames drawn" in server.proc.output(), 180,
                     f"the test client to draw its {frames} video frames")
        counts = {k: tiles(server, k) for k in ("planar", codec, "refined")}
        self.assertGreater(counts[codec], 100, f"the moving tiles did not go as {codec}: {counts}")
        H.wait_until(lambda: tiles(server, "refined") > 0, 40,
                     "the lossy tiles to be refined once the video stopped")
        diff = self.assert_client_matches_desktop(server, client, tag, max_differing=0.0,
                                                  max_mean=0.0, timeout=30)
        print(f"{tag}: {tiles(server, codec):.0f} {codec} tiles "
              f"({codec_bytes(server, codec) / 1024:.0f} KiB), "
              f"{tiles(server, 'planar'):.0f} planar ({planar_bytes(server) / 1024:.0f} KiB), "
              f"{tiles(server, 'refined'):.0f} refined; client vs desktop: {diff}")
        return server

    def test_moving_photos_go_lossy_then_settle_to_exact_pixels(self):
        # xfreerdp /gfx takes no H.264: RemoteFX.
        self.video_settles("video", ["/gfx"], "remotefx")

    def test_moving_photos_go_as_h264_to_clients_that_take_it_then_settle(self):
        # xfreerdp asking for AVC420: the moving tiles go as H.264 instead, none as RemoteFX.
        def named_encoder(server):
            self.assertEqual(self.pipeline_lines(server)[-1][1], "gfx planar+avc420")
            self.assertRegex(server.proc.output(),
                             r"codec gfx planar\+avc420 \((x264|openh264)\)")

        server = self.video_settles("video-avc420", ["/gfx:AVC420"], "avc420", named_encoder)
        self.assertEqual(tiles(server, "remotefx"), 0, "RemoteFX for a client that takes H.264")

    def test_clients_asking_for_avc444_get_avc420_and_exact_text(self):
        # AVC444 keeps full chroma for what H.264 carries; here H.264 carries only moving
        # pictures, which settle to exact pixels, and text never goes through it
        # (docs/rdp.md, "H.264"). A client that asks for AVC444 takes AVC420 too.
        def version_10(server):
            version, codec = self.pipeline_lines(server)[-1]
            self.assertTrue(version.startswith("10."), f"pipeline {version}, not 10.x")
            self.assertEqual(codec, "gfx planar+avc420")

        server = self.video_settles("video-avc444", ["/gfx:AVC444"], "avc420", version_10)
        self.assertEqual(tiles(server, "remotefx"), 0, "RemoteFX for a client that takes H.264")

    def test_h264_follows_a_live_resize(self):
        # The client's window shrinks while the video plays: the surface is made again at the
        # new size, with a new encoder, and the video goes on as H.264 there.
        seen = {}

        def resize(server, client):
            H.wait_until(lambda: tiles(server, "avc420") > 50, 60, "H.264 before the resize")
            client.resize_window_until(server, 900, 600)
            client.size = "900x600"
            seen["before"] = tiles(server, "avc420")

        xvfb = H.Xvfb(self.stack, self.workdir, "1280x1024", name="resize-xvfb")
        server = self.video_settles("video-resize", ["/gfx:AVC420", "/dynamic-resolution"],
                                    "avc420", frames=900, during=resize, xvfb=xvfb)
        self.assertGreater(tiles(server, "avc420") - seen["before"], 50,
                           "no H.264 after the resize")
        self.assertEqual(H.image_size(self.workdir / "video-resize-desktop.png"), (900, 600))

    def test_text_in_motion_stays_lossless(self):
        # Text changing 300 times once the client is connected (the test says when).
        go = self.workdir / "go"
        server = self.start_server(
            f"foot sh -c 'while [ ! -e {go} ]; do sleep 0.1; done; for i in $(seq 1 300); do "
            "printf \"\\033[H\\033[2J\"; "
            "seq $i $((i + 2000)) | paste -sd \" \" | fold -w 140 | head -40; sleep 0.02; done; "
            "exec sleep infinity'")
        client = self.gfx_client(server, "text-motion")
        self.assert_client_matches_desktop(server, client, "text-motion-start")
        go.touch()
        H.wait_until(lambda: planar_bytes(server) > 200_000, 40, "the changing text to be sent")
        self.assert_client_matches_desktop(server, client, "text-motion", max_differing=0.0,
                                           max_mean=0.0, timeout=40)
        self.assertEqual(tiles(server, "remotefx"), 0, "text was sent lossily")

    def test_sideways_pan_is_a_horizontal_copy(self):
        # less -S shows long lines unwrapped; each Right arrow pans them 6 columns.
        server = self.start_server(
            "foot sh -c 'seq -w 1 40000 | paste -sd \" \" | fold -w 900 > wide.txt; "
            "exec less -S -#6 wide.txt'")
        client = self.gfx_client(server, "pan")
        # less shows a screen of text (without it the desktop would be empty and match).
        H.wait_until(lambda: planar_bytes(server) > 100_000, 30, "less to show the text")
        self.assert_client_matches_desktop(server, client, "pan-before", max_differing=0.0,
                                           max_mean=0.0)
        copies_before = operations(server, "surface_to_surface")
        planar_before = planar_bytes(server)
        client.focus()
        for _ in range(12):
            client.key("Right")
            time.sleep(0.3)
        H.wait_until(lambda: operations(server, "surface_to_surface") >= copies_before + 8, 20,
                     "the pans to be sent as SurfaceToSurface copies")
        diff = self.assert_client_matches_desktop(server, client, "pan-after", max_differing=0.0,
                                                  max_mean=0.0)
        print(f"12 pans: {operations(server, 'surface_to_surface') - copies_before:.0f} copies, "
              f"{(planar_bytes(server) - planar_before) / 1024:.0f} KiB planar; "
              f"client vs desktop: {diff}")

    def test_a_browser_page_scrolling_under_its_scroll_bar_is_copied(self):
        # Chromium on deskpod's Wayland, a long page that scrolls itself 4 px every 33 ms for
        # 3 s once it has loaded (after the client connected), then stays.
        page = self.workdir / "scroll.html"
        page.write_text(
            "<!doctype html><meta charset=utf-8><body style='font:16px sans-serif;"
            "max-width:50em;margin:2em auto'><script>let h='';"
            "for(let s=1;s<=200;s++){h+=`<h2>Section ${s}</h2><p>`;"
            "for(let i=0;i<60;i++)h+=`word${(s*7+i*13)%97} `;h+='</p>';}"
            "document.body.innerHTML=h;setTimeout(()=>{const t=setInterval("
            "()=>window.scrollBy(0,4),33);setTimeout(()=>clearInterval(t),3000);},6000);"
            "</script>")
        server = self.start_server(
            f"{shlex.quote(str(H.config.CHROMIUM))} --ozone-platform=wayland --no-sandbox "
            f"--no-first-run --disable-gpu --user-data-dir={shlex.quote(str(self.workdir))}/prof "
            f"--kiosk --app=file://{page}")
        client = self.gfx_client(server, "browser")
        H.wait_until(lambda: operations(server, "surface_to_surface") > 30, 60,
                     "the page's scroll to be sent as SurfaceToSurface copies")
        diff = self.assert_client_matches_desktop(server, client, "browser", max_differing=0.0,
                                                  max_mean=0.0, timeout=40)
        print(f"browser scroll: {operations(server, 'surface_to_surface'):.0f} copies, "
              f"{planar_bytes(server) / 1024:.0f} KiB planar in all; client vs desktop: {diff}")

    def test_resize_recreates_the_surface(self):
        server = self.start_server(H.solid_session("7a3b2c"), size="1024x768")
        xvfb = H.Xvfb(self.stack, self.workdir, "1600x1200", name="resize-xvfb")
        client = self.gfx_client(server, "resize", ("/gfx", "/dynamic-resolution"),
                                 size="800x600", xvfb=xvfb)
        self.assert_client_matches_desktop(server, client, "before", expect_color="7a3b2c")
        tries = [0]

        def resized():
            m = server.metrics()
            if (H.metric_value(m, "deskpod_desktop_width"),
                    H.metric_value(m, "deskpod_desktop_height")) == (1024, 768):
                return True
            # xfreerdp may drop a resize made too early; wiggle to make a new X event.
            if tries[0] % 5 == 0:
                w = 1024 - (2 if tries[0] % 10 else 0)
                subprocess.run(["xdotool", "windowsize", client.window, str(w), "768"],
                               env=xvfb.env(), check=True, capture_output=True, timeout=10)
            tries[0] += 1
            return False
        H.wait_until(resized, 40, "the desktop to become 1024x768", interval=1.0)
        H.wait_until(lambda: "graphics pipeline reset" in server.proc.output(), 20,
                     "deskpod to reset the pipeline for the new size")
        client.size = "1024x768"
        self.assert_client_matches_desktop(server, client, "after", expect_color="7a3b2c")
        self.assertEqual(H.image_size(self.workdir / "after-desktop.png"), (1024, 768))
        self.assertEqual(H.image_size(self.workdir / "after-client.png"), (1024, 768))


if __name__ == "__main__":
    unittest.main(verbosity=2)
