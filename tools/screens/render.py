"""Drive one headless Chromium over --remote-debugging-pipe (Python stdlib only).

Chromium reads DevTools protocol messages (JSON, NUL-terminated) on fd 3 and writes
its answers on fd 4, so no websocket is needed. One browser renders many pages:

    with Browser() as b:
        png, info = b.render(html_path, width, height)

`info` is what MEASURE_JS returns: for every element marked `data-t="N"` (a reading
unit: a title, a paragraph, a table row, a button), its words that are really visible
(inside the viewport and not covered: checked with elementFromPoint), grouped into
visual lines, each with its box; plus the boxes of `data-photo` elements and a list of
visible text that no `data-t` element holds (a template bug).
"""

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile

CHROMIUM = os.environ.get("CHROMIUM", "chromium")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
    "--font-render-hinting=none",
    "--force-color-profile=srgb",
    "--allow-file-access-from-files",
    "--remote-debugging-pipe",
]

# Runs in the page after load. Returns {"units": {id: [[words, box], ...]}, "photos": [...],
# "stray": [...]}; a box is [x, y, w, h] in CSS px (device scale 1).
MEASURE_JS = r"""
(() => {
  const W = window.innerWidth, H = window.innerHeight;
  function visibleAt(node, r) {
    if (r.width < 1 || r.height < 1) return false;
    if (r.left < -0.5 || r.top < -0.5 || r.right > W + 0.5 || r.bottom > H + 0.5) return false;
    // the centre and four inner points must all hit the text's element (or an element
    // inside it): clipped, covered or off-screen words are not visible
    const owner = node.parentElement;
    const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
    const pts = [[cx, cy], [cx, r.top + 0.25 * r.height], [cx, r.bottom - 0.25 * r.height],
                 [r.left + Math.min(3, 0.25 * r.width), cy], [r.right - Math.min(3, 0.25 * r.width), cy]];
    for (const [x, y] of pts) {
      const el = document.elementFromPoint(x, y);
      if (!el) return false;
      // (an ancestor does not count: clipped text lets the hit fall through to it)
      if (!(el === owner || owner.contains(el))) return false;
    }
    return true;
  }
  function wordsOf(root) {
    const out = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const s = node.nodeValue;
      const cs = getComputedStyle(node.parentElement);
      if (cs.visibility === 'hidden' || cs.display === 'none' || parseFloat(cs.opacity) === 0) continue;
      const re = /\S+/g;
      let m;
      while ((m = re.exec(s))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = range.getClientRects();
        if (rects.length === 0) continue;
        if (rects.length > 1 && Math.abs(rects[rects.length - 1].top - rects[0].top) > 2) {
          // a word broken over lines (overflow-wrap): one piece per visual line
          let start = 0, top = null;
          const piece = (a, b) => {
            const rg = document.createRange();
            rg.setStart(node, m.index + a);
            rg.setEnd(node, m.index + b);
            const r = rg.getBoundingClientRect();
            out.push({w: m[0].slice(a, b), r: r, vis: visibleAt(node, r)});
          };
          for (let k = 0; k < m[0].length; k++) {
            const rg = document.createRange();
            rg.setStart(node, m.index + k);
            rg.setEnd(node, m.index + k + 1);
            const t = rg.getBoundingClientRect().top;
            if (top !== null && Math.abs(t - top) > 2) { piece(start, k); start = k; }
            top = t;
          }
          piece(start, m[0].length);
          continue;
        }
        const r = range.getBoundingClientRect();
        out.push({w: m[0], r: r, vis: visibleAt(node, r)});
      }
    }
    return out;
  }
  function lines(words) {
    const res = [];
    let cur = null, prev = null;
    for (const o of words) {
      // a new visual line: back to the left and down (wrap), or up (next column)
      const brk = prev && (((o.r.left < prev.r.right - 2) && (o.r.top > prev.r.top + 0.5 * prev.r.height))
                           || (o.r.bottom < prev.r.top + 0.5 * prev.r.height)
                           || (o.r.top > prev.r.bottom + 0.5 * prev.r.height));
      if (!cur || brk) { cur = []; res.push(cur); }
      cur.push(o);
      prev = o;
    }
    return res.map(ws => {
      const vis = ws.filter(o => o.vis);
      if (vis.length === 0) return null;
      let x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
      for (const o of vis) {
        x0 = Math.min(x0, o.r.left); y0 = Math.min(y0, o.r.top);
        x1 = Math.max(x1, o.r.right); y1 = Math.max(y1, o.r.bottom);
      }
      return [vis.map(o => o.w), [Math.round(x0), Math.round(y0), Math.round(x1 - x0), Math.round(y1 - y0)],
              vis.length === ws.length];
    }).filter(l => l);
  }
  const units = {};
  for (const el of document.querySelectorAll('[data-t]')) {
    units[el.getAttribute('data-t')] = lines(wordsOf(el));
  }
  const stray = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    if (!node.nodeValue.trim()) continue;
    if (node.parentElement.closest('[data-t]')) continue;
    if (node.parentElement.closest('style,script')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (visibleAt(node, r)) stray.push(node.nodeValue.trim().slice(0, 40));
  }
  const photos = [], photos_visible = [];
  for (const el of document.querySelectorAll('[data-photo]')) {
    const r = el.getBoundingClientRect();
    const x0 = Math.max(0, r.left), y0 = Math.max(0, r.top);
    const x1 = Math.min(W, r.right), y1 = Math.min(H, r.bottom);
    if (x1 - x0 > 8 && y1 - y0 > 8) {
      // how much of it is not covered (a wallpaper behind a window is mostly hidden)
      let hit = 0;
      for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) {
        const e = document.elementFromPoint(x0 + (x1 - x0) * (i + 0.5) / 12, y0 + (y1 - y0) * (j + 0.5) / 12);
        if (e === el) hit++;
      }
      photos.push([Math.round(x0), Math.round(y0), Math.round(x1 - x0), Math.round(y1 - y0)]);
      photos_visible.push(Math.round(100 * hit / 144) / 100);
    }
  }
  return JSON.stringify({units, photos, photos_visible, stray, W, H});
})()
"""


class CDPError(RuntimeError):
    pass


class Browser:
    def __init__(self, chromium=CHROMIUM, timeout=60):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="seesay-screens-")
        r_parent, w_child = os.pipe()  # browser -> us (its fd 4)
        r_child, w_parent = os.pipe()  # us -> browser (its fd 3)
        args = [chromium] + FLAGS + ["--user-data-dir=" + self.profile, "about:blank"]

        def preexec():
            import fcntl
            a = fcntl.fcntl(r_child, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(w_child, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4, r_child, w_child),
            preexec_fn=preexec,
            close_fds=True,
        )
        # preexec puts the pipe ends on fds 3/4; pass_fds keeps them open through exec.
        os.close(r_child)
        os.close(w_child)
        self.rfd, self.wfd = r_parent, w_parent
        self.buf = b""
        self.next_id = 0
        self.events = []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"]
        if page:
            tid = page[0]["targetId"]
        else:
            tid = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=tid, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)
        self.size = None

    # --- protocol -------------------------------------------------------------------------
    def _send(self, msg):
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]

    def _recv(self):
        while b"\0" not in self.buf:
            ready, _, _ = select.select([self.rfd], [], [], self.timeout)
            if not ready:
                raise CDPError(f"no answer from chromium in {self.timeout} s")
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise CDPError("chromium closed the pipe")
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, session=False, **params):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self._send(msg)
        while True:
            m = self._recv()
            if m.get("id") == mid:
                if "error" in m:
                    raise CDPError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, name):
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == name:
                    del self.events[i]
                    return e
            m = self._recv()
            if "method" in m:
                self.events.append(m)

    # --- rendering ------------------------------------------------------------------------
    def render(self, path, width, height, fmt="png", quality=None):
        if self.size != (width, height):
            self.call("Emulation.setDeviceMetricsOverride", session=True,
                      width=width, height=height, deviceScaleFactor=1, mobile=False)
            self.size = (width, height)
        self.events.clear()
        url = "file://" + os.path.abspath(path)
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")
        # fonts and two frames, so that layout and paint are done
        self.call("Runtime.evaluate", session=True, awaitPromise=True, expression=(
            "document.fonts.ready.then(() => new Promise(r => "
            "requestAnimationFrame(() => requestAnimationFrame(() => r(1)))))"))
        res = self.call("Runtime.evaluate", session=True, expression=MEASURE_JS,
                        returnByValue=True)
        if "exceptionDetails" in res:
            raise CDPError("measure: " + json.dumps(res["exceptionDetails"])[:500])
        info = json.loads(res["result"]["value"])
        params = {"format": fmt, "captureBeyondViewport": False, "fromSurface": True}
        if quality is not None:
            params["quality"] = quality
        shot = self.call("Page.captureScreenshot", session=True, **params)
        return base64.b64decode(shot["data"]), info

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def png_size(data):
    """(width, height) of a PNG from its IHDR."""
    import struct
    return struct.unpack(">II", data[16:24])


def check_chromium():
    if not shutil.which(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} not found: install the Debian package 'chromium'")
