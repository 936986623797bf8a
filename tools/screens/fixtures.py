#!/usr/bin/env python3
"""Render the small committed test fixtures in tests/fixtures/screens/.

    python3 tools/screens/fixtures.py [--out tests/fixtures/screens]

Writes dialog.png, terminal.png, two_column.png, table.png, chart.png, sign.png and
expected.json ({file: {"kind", "text": [lines in reading order], "width", "height",
"boxes"}}). The text is what Chromium measured as visible (render.py), checked against
the text each fixture meant to show. Needs Debian `chromium` and the fonts listed in
tools/screens/README.md; Python stdlib only.
"""

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from page import Page, esc, labels  # noqa: E402
from render import Browser, check_chromium  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "assets", "examples")


def dialog():
    p = Page(800, 500, "screen", "dialog")
    p.css.append("""
body{background:linear-gradient(160deg,#3d5a80,#293241);font-family:'DejaVu Sans',sans-serif}
.win{position:absolute;left:40px;top:30px;width:720px;height:440px;background:#f6f6f4;
  border-radius:6px;box-shadow:0 4px 16px rgba(0,0,0,.4);overflow:hidden}
.shade{position:absolute;inset:0;background:rgba(0,0,0,.18)}
.grid{position:absolute;left:0;top:34px;right:0;bottom:0;
  background-image:linear-gradient(#d7d7d7 1px,transparent 1px),linear-gradient(90deg,#d7d7d7 1px,transparent 1px);
  background-size:80px 22px}
.bar{height:34px;background:#e4e4e2;border-bottom:1px solid #c8c8c8}
.dlg{position:absolute;left:170px;top:130px;width:460px;background:#fff;border-radius:10px;
  box-shadow:0 8px 30px rgba(0,0,0,.45);padding:22px 24px 18px 24px}
.title{font-size:17px;font-weight:bold;color:#222;margin-bottom:10px}
.msg{font-size:14px;color:#333;line-height:1.45}
.btns{display:flex;gap:10px;margin-top:22px}
.btn{font-size:14px;padding:7px 16px;border:1px solid #b5b5b5;border-radius:6px;background:#f2f2f2;color:#222}
.sp{flex:1}
.def{background:#2f6fd6;border-color:#2a62bd;color:#fff;font-weight:bold}
""")
    p.body.append('<div class="win"><div class="bar"></div><div class="grid"></div><div class="shade"></div></div>')
    p.body.append(
        '<div class="dlg">'
        + p.t("Save Document?", cls="title")
        + p.t('Save changes to "budget 2027.ods" before closing?', cls="msg")
        + p.t("Your changes will be lost if you don't save them.", cls="msg")
        + '<div class="btns">'
        + p.t("Don't Save", cls="btn") + '<div class="sp"></div>'
        + p.t("Cancel", cls="btn") + p.t("Save", cls="btn def")
        + "</div></div>"
    )
    return p


def terminal():
    p = Page(800, 500, "screen", "terminal", theme="dark")
    p.css.append("""
body{background:#2b2b2b;font-family:'DejaVu Sans',sans-serif}
.tb{height:30px;background:#3c3c3c;color:#e6e6e6;font-size:13px;display:flex;align-items:center;justify-content:center}
.term{padding:10px 12px;font-family:'DejaVu Sans Mono',monospace;font-size:15px;line-height:1.45;color:#d8d8d8;background:#1c1c1c;height:470px}
.l{white-space:pre}
.pr{color:#8ae234;font-weight:bold}
.ok{color:#8ae234}
.cur{display:inline-block;width:9px;height:17px;background:#d8d8d8;vertical-align:-3px}
""")
    lines = [
        ("user@laptop:~/projects$", "ls"),
        (None, "budget.ods  notes.txt  photos  seesay"),
        ("user@laptop:~/projects$", "cd seesay"),
        ("user@laptop:~/projects/seesay$", "git status"),
        (None, "On branch main"),
        (None, "nothing to commit, working tree clean"),
        ("user@laptop:~/projects/seesay$", "cargo test --release"),
        (None, "   Compiling seesay v0.1.0"),
        (None, "    Finished release profile in 41.2s"),
        (None, "test result: ok. 42 passed; 0 failed"),
        ("user@laptop:~/projects/seesay$", ""),
    ]
    out = ['<div class="tb">' + p.t("user@laptop: ~/projects/seesay", tag="span") + "</div>", '<div class="term">']
    for prompt, cmd in lines:
        if prompt:
            inner = f'<span class="pr">{esc(prompt)}</span> {esc(cmd)}'
            if not cmd:
                inner += '<span class="cur"></span>'
            out.append(p.unit(inner, cls="l", text=(prompt + " " + cmd).strip()))
        else:
            out.append(p.t(cmd, cls="l"))
    out.append("</div>")
    p.body.append("".join(out))
    return p


LEFT = [
    "The town council met on Tuesday evening to discuss the new bicycle lanes along the "
    "river road. Most residents who spoke were in favour, although several shop owners "
    "worried about deliveries.",
    "A final vote is planned for next month, after the traffic study is published and "
    "the public has had two weeks to comment.",
]
RIGHT = [
    "Volunteers at the community garden harvested more than two hundred kilograms of "
    "tomatoes this summer. The produce was shared with the food bank and the school kitchen.",
    "New members are welcome every Saturday morning; gloves and tools are provided, and "
    "no experience is needed.",
]


def two_column():
    p = Page(800, 500, "document", "two_column")
    p.css.append("""
body{background:#fff;font-family:'Liberation Serif','DejaVu Serif',serif;color:#111}
.pg{padding:26px 40px}
h1{font-size:24px;margin:0 0 4px 0;text-align:center}
.sub{font-size:13px;text-align:center;color:#444;border-bottom:1px solid #999;padding-bottom:8px;margin-bottom:14px}
.cols{display:flex;gap:36px}
.col{flex:1}
p{font-size:15px;line-height:1.45;margin:0 0 10px 0;text-align:justify}
h2{font-size:17px;margin:0 0 6px 0}
""")
    body = ['<div class="pg">', p.t("The River Valley Courier", tag="h1"),
            p.t("Local news - Thursday, 14 May 2026", cls="sub"), '<div class="cols"><div class="col">',
            p.t("Council weighs bicycle lanes", tag="h2")]
    body += [p.t(s, tag="p") for s in LEFT]
    body.append('</div><div class="col">')
    body.append(p.t("Garden shares its harvest", tag="h2"))
    body += [p.t(s, tag="p") for s in RIGHT]
    body.append("</div></div></div>")
    p.body.append("".join(body))
    return p


def table():
    p = Page(800, 500, "screen", "table")
    p.css.append("""
body{background:#f3f5f8;font-family:'Liberation Sans','DejaVu Sans',sans-serif;color:#1d2733}
.top{height:48px;background:#1f4e79;color:#fff;display:flex;align-items:center;padding:0 24px;font-size:18px;font-weight:bold}
.card{margin:24px;background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:18px 22px}
h2{font-size:19px;margin:0 0 14px 0}
table{border-collapse:collapse;width:100%;font-size:15px}
th{text-align:left;background:#e8edf3;padding:9px 12px;border-bottom:2px solid #b8c3d1;white-space:nowrap}
td{padding:9px 12px;border-bottom:1px solid #e1e6ec;white-space:nowrap}
td.n,th.n{text-align:right}
""")
    rows = [
        ("Region", "Orders", "Revenue", "Growth"),
        ("North", "1,204", "$48,300", "+4.2%"),
        ("South", "987", "$39,150", "-1.3%"),
        ("East", "1,530", "$61,020", "+7.8%"),
        ("West", "842", "$33,700", "+0.9%"),
    ]
    h = ['<div class="top">' + p.t("Sales Dashboard", tag="span") + "</div>", '<div class="card">',
         p.t("Orders by region, April 2026", tag="h2"), "<table>"]
    for i, r in enumerate(rows):
        cell = "th" if i == 0 else "td"
        inner = "".join(f'<{cell}{" class=n" if j else ""}>{esc(c)}</{cell}>' for j, c in enumerate(r))
        h.append(p.unit(inner, tag="tr", text=" ".join(r)))
    h.append("</table></div>")
    p.body.append("".join(h))
    return p


def chart():
    p = Page(800, 500, "chart", "bar")
    p.css.append("body{background:#fff;font-family:'DejaVu Sans',sans-serif}")
    vals = [("Jan", 62), ("Feb", 48), ("Mar", 71), ("Apr", 55), ("May", 38), ("Jun", 24)]
    x0, y0, x1, y1 = 110, 80, 740, 420  # plot area
    ymax = 80
    s = [f'<svg width="800" height="500" xmlns="http://www.w3.org/2000/svg">']
    s.append(p.unit("Monthly rainfall in 2026", tag="text",
                    attrs='x="400" y="40" text-anchor="middle" font-size="22" font-weight="bold" fill="#222"',
                    text="Monthly rainfall in 2026"))
    s.append(p.unit("Rainfall (mm)", tag="text", attrs='x="40" y="66" font-size="14" fill="#333"',
                    text="Rainfall (mm)"))
    for v in range(ymax, -1, -20):  # read top to bottom
        y = y1 - (y1 - y0) * v / ymax
        s.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#e2e2e2"/>')
        s.append(p.unit(str(v), tag="text",
                        attrs=f'x="{x0 - 10}" y="{y + 5:.1f}" text-anchor="end" font-size="14" fill="#444"', text=str(v)))
    bw = (x1 - x0) / len(vals)
    for i, (m, v) in enumerate(vals):
        h = (y1 - y0) * v / ymax
        bx = x0 + i * bw + bw * 0.2
        s.append(f'<rect x="{bx:.1f}" y="{y1 - h:.1f}" width="{bw * 0.6:.1f}" height="{h:.1f}" fill="#3b7dd8"/>')
    # month labels read left to right, after the value axis
    for i, (m, v) in enumerate(vals):
        s.append(p.unit(m, tag="text", attrs=f'x="{x0 + (i + 0.5) * bw:.1f}" y="{y1 + 22}" text-anchor="middle" font-size="14" fill="#444"', text=m))
    s.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#333"/>')
    s.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333"/>')
    s.append(p.unit("Month", tag="text", attrs=f'x="{(x0 + x1) / 2}" y="{y1 + 52}" text-anchor="middle" font-size="15" fill="#333"', text="Month"))
    s.append("</svg>")
    p.body.append("".join(s))
    return p


def sign():
    """A CC0 photo (rocket.jpg: DSCOVR launch, public domain; scaled to 480x320) with a
    "NO PARKING" sign on a post in the foreground, dimmed, blurred and tinted to sit in
    the dusk light of the photo."""
    p = Page(480, 320, "photo", "sign")
    photo = os.path.join(EXAMPLES, "rocket.jpg")
    p.css.append("""
body{background:#000}
.ph{position:absolute;left:0;top:0;width:480px;height:320px}
.post{position:absolute;left:357px;top:180px;width:9px;height:150px;
  background:linear-gradient(90deg,#3d4148,#8a9099 40%,#4a4e56);filter:blur(0.5px)}
.sign{position:absolute;left:280px;top:66px;width:160px;height:126px;background:#e9e8e2;
  border:6px solid #b8161c;border-radius:6px;transform:perspective(500px) rotateY(-16deg) rotate(-2deg);
  box-shadow:2px 3px 7px rgba(0,0,0,.5);display:flex;align-items:center;justify-content:center;
  filter:blur(0.5px) brightness(0.8) contrast(0.92) saturate(0.9)}
.words{text-align:center;font-family:'Liberation Sans Narrow','Liberation Sans',sans-serif;
  font-weight:bold;color:#b8161c;font-size:36px;line-height:1.05}
.light{position:absolute;inset:0;background:linear-gradient(120deg,rgba(255,255,255,.08),rgba(10,20,60,.22));pointer-events:none}
""")
    p.body.append(
        f'<img class="ph" src="file://{esc(photo)}">'
        '<div class="post"></div>'
        '<div class="sign">' + p.unit('<div>NO</div><div>PARKING</div>', cls="words", text="NO PARKING")
        + '<div class="light"></div></div>'
    )
    p.meta["source_photo"] = "assets/examples/rocket.jpg"
    return p


def dump_expected(expected):
    """JSON with one text line (and one box) per line, for readable diffs."""
    out = ["{"]
    for i, (name, e) in enumerate(expected.items()):
        out.append(f" {json.dumps(name)}: {{")
        out.append(f'  "kind": {json.dumps(e["kind"])}, "template": {json.dumps(e["template"])}, '
                   f'"width": {e["width"]}, "height": {e["height"]},')
        for key in ("text", "boxes"):
            items = [json.dumps(x, ensure_ascii=False) for x in e[key]]
            out.append(f'  "{key}": [\n   ' + ",\n   ".join(items) + "\n  ]" + ("," if key == "text" else ""))
        out.append(" }" + ("," if i < len(expected) - 1 else ""))
    out.append("}")
    text = "\n".join(out) + "\n"
    assert json.loads(text) == expected
    return text


FIXTURES = [
    ("dialog.png", dialog),
    ("terminal.png", terminal),
    ("two_column.png", two_column),
    ("table.png", table),
    ("chart.png", chart),
    ("sign.png", sign),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "screens"))
    args = ap.parse_args()
    check_chromium()
    os.makedirs(args.out, exist_ok=True)
    expected = {}
    tmp = tempfile.mkdtemp(prefix="seesay-fixtures-")
    with Browser() as b:
        for name, fn in FIXTURES:
            p = fn()
            src = os.path.join(tmp, name + ".html")
            with open(src, "w") as f:
                f.write(p.html())
            png, info = b.render(src, p.width, p.height)
            if info["stray"]:
                raise SystemExit(f"{name}: text outside reading units: {info['stray']}")
            row = labels(p, info, name)
            # every unit must be fully visible in a fixture
            want = " ".join(" ".join(u.split()) for u in p.units).split()
            if row["words"] != want:
                raise SystemExit(f"{name}: visible words differ from the intended text:\n{row['words']}\n{want}")
            with open(os.path.join(args.out, name), "wb") as f:
                f.write(png)
            expected[name] = {k: row[k] for k in ("kind", "template", "width", "height", "text", "boxes")}
            print(f"{name}: {len(png) // 1024} KB, {len(row['text'])} lines")
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        f.write(dump_expected(expected))
    for fn in os.listdir(tmp):
        os.unlink(os.path.join(tmp, fn))
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
