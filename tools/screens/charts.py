"""Chart templates, drawn in inline SVG: bar, horizontal bar, grouped and stacked bars,
line, area, pie and donut, each with a title, axis labels, tick labels and a legend."""

import math

import words as W
from page import esc

SCHEMES = [
    ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"],
    ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"],
    ["#003f5c", "#58508d", "#bc5090", "#ff6361", "#ffa600", "#2f4b7c", "#a05195", "#d45087"],
    ["#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494", "#b3b3b3"],
    ["#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef", "#2171b5", "#4292c6", "#deebf7"],
    ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"],
]


def _cats(ctx, n_max):
    rng = ctx.rng
    k = rng.randrange(8)
    if k == 0:
        s = rng.randrange(12)
        cats = [W.MON[(s + i) % 12] for i in range(12)]
        axis = "Month"
    elif k == 1:
        y = rng.randint(2008, 2020)
        cats = [str(y + i) for i in range(12)]
        axis = "Year"
    elif k == 2:
        y = rng.randint(2022, 2025)
        cats = [f"Q{q} {y + i}" for i in range(3) for q in range(1, 5)]
        axis = "Quarter"
    elif k == 3:
        cats = ["North", "South", "East", "West", "Central", "Coast", "Islands"]
        axis = "Region"
    elif k == 4:
        cats = rng.sample(W.CITIES, 8)
        axis = "City"
    elif k == 5:
        cats = W.DY[:]
        axis = "Day"
    elif k == 6:
        cats = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
        axis = "Age group"
    else:
        cats = [W.cap(x) for x in rng.sample(W.NOUNS, 8)]
        axis = "Product"
    n = rng.randint(3, max(3, min(n_max, len(cats))))
    return cats[:n], axis


def _measure(ctx):
    rng = ctx.rng
    return ctx.pick([
        ("Sales", "Sales ($k)", ""), ("Revenue", "Revenue (million $)", ""), ("Visitors", "Visitors", ""),
        ("Rainfall", "Rainfall (mm)", ""), ("Temperature", "Temperature (°C)", ""), ("Share", "Share (%)", "%"),
        ("Orders", "Orders", ""), ("Users", "Active users (thousands)", ""), ("Downloads", "Downloads", ""),
        ("Energy use", "Energy (kWh)", ""), ("Response time", "Response time (ms)", ""), ("Students", "Students", ""),
    ])


def _series_names(ctx, n):
    rng = ctx.rng
    opts = [[str(y) for y in range(rng.randint(2019, 2024), 2030)], ["Online", "In store", "Phone", "Partners"],
            ["Plan", "Actual", "Forecast"], [W.cap(x) for x in rng.sample(W.NOUNS, 4)], rng.sample(W.CITIES, 4),
            ["Men", "Women", "Other"], ["Desktop", "Mobile", "Tablet"]]
    o = [x for x in ctx.pick(opts)]
    while len(o) < n:
        o.append(W.cap(W.pick(rng, W.NOUNS)))
    return o[:n]


def _nice(vmax, nticks):
    raw = vmax / max(1, nticks)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            step = m * mag
            break
    top = step * math.ceil(vmax / step)
    return step, top


def _fmt(v, step):
    if step >= 1 and float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.1f}"


class Chart:
    def __init__(self, ctx):
        self.ctx = ctx
        rng = ctx.rng
        self.W, self.H = ctx.p.width, ctx.p.height
        dark = ctx.theme == "dark"
        self.bg = ctx.pick(["#1e1e1e", "#121417", "#24272e", "#1b2430"]) if dark else ctx.pick(["#ffffff", "#ffffff", "#fbfbf8", "#f7f9fc"])
        self.fg = "#e6e6e6" if dark else ctx.pick(["#222222", "#333333", "#1a2733"])
        self.muted = "#a8a8a8" if dark else "#555555"
        self.grid = "#3a3d44" if dark else "#e3e3e3"
        self.colors = list(ctx.pick(SCHEMES))
        if ctx.chance(0.3):
            rng.shuffle(self.colors)
        self.font = ctx.pick([ctx.sans, ctx.sans, ctx.serif])
        # charts exported at a larger size usually have larger text
        self.fs = max(11, min(20, round(ctx.fs * max(1.0, self.W / 1200))))
        self.tfs = self.fs + rng.randint(6, 14)
        self.els = []
        ctx.css(f"body{{background:{self.bg}}} svg text{{font-family:'{self.font}',sans-serif}}")

    def text(self, s, x, y, size=None, anchor="start", weight="normal", fill=None):
        size = size or self.fs
        fill = fill or self.fg
        self.els.append(self.ctx.unit(esc(s), tag="text", text=s,
                                      attrs=f'x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" fill="{fill}"'))

    def raw(self, s):
        self.els.append(s)

    def svg(self):
        return (f'<svg width="{self.W}" height="{self.H}" xmlns="http://www.w3.org/2000/svg" style="position:absolute;left:0;top:0">'
                f'<rect width="100%" height="100%" fill="{self.bg}"/>{"".join(self.els)}</svg>')

    def header(self, title, subtitle=None):
        al = self.ctx.pick(["middle", "start"])
        x = self.W / 2 if al == "middle" else 30
        y = 18 + self.tfs
        self.text(title, x, y, self.tfs, al, "bold")
        if subtitle:
            y += self.fs + 10
            self.text(subtitle, x, y, self.fs, al, fill=self.muted)
        return y + 16

    def legend_row(self, names, y, x0=None):
        # measure roughly to centre the row
        widths = [len(n) * self.fs * 0.62 + self.fs + 30 for n in names]
        x = x0 if x0 is not None else max(20, (self.W - sum(widths)) / 2)
        for n, w_, c in zip(names, widths, self.colors):
            self.raw(f'<rect x="{x:.1f}" y="{y - self.fs * 0.8:.1f}" width="{self.fs * 0.9:.1f}" height="{self.fs * 0.9:.1f}" fill="{c}"/>')
            self.text(n, x + self.fs * 1.3, y, self.fs, fill=self.fg)
            x += w_
        return y + self.fs + 12

    def legend_col(self, names, x, y):
        for n, c in zip(names, self.colors):
            self.raw(f'<rect x="{x:.1f}" y="{y - self.fs * 0.8:.1f}" width="{self.fs * 0.9:.1f}" height="{self.fs * 0.9:.1f}" fill="{c}"/>')
            self.text(n, x + self.fs * 1.3, y, self.fs)
            y += self.fs + 10


def _title(ctx, measure, axis, series=None):
    rng = ctx.rng
    what = measure[0]
    return ctx.pick([f"{what} by {axis.lower()}", f"{what} per {axis.lower()}, {rng.randint(2020, 2027)}",
                     f"{W.company(rng)}: {what.lower()} by {axis.lower()}", f"{what} in {W.pick(rng, W.CITIES)}",
                     f"{W.cap(W.pick(rng, W.ADJS))} {what.lower()} by {axis.lower()}"])


def _xy_chart(ctx, kind):
    rng = ctx.rng
    ch = Chart(ctx)
    measure = _measure(ctx)
    horiz = kind == "hbar"
    nser = 1
    if kind in ("grouped_bar", "stacked_bar"):
        nser = rng.randint(2, 4)
    elif kind in ("line", "area"):
        nser = rng.randint(1, 3) if kind == "line" else rng.randint(1, 2)
    names = _series_names(ctx, nser)
    fs = ch.fs
    plot_w_guess = ch.W - 200
    maxlab = 9 if horiz else 6
    n_max = 12 if (kind in ("line", "area") and not horiz) else (10 if horiz else max(3, int(plot_w_guess / (fs * maxlab * 0.62 + 14))))
    cats, axis = _cats(ctx, n_max)
    if not horiz:
        labw = max(len(c) for c in cats) * fs * 0.62 + 10
        n_fit = max(3, int(plot_w_guess / labw))
        cats = cats[:n_fit]
    n = len(cats)
    base = rng.uniform(10, 5000) if measure[2] != "%" else rng.uniform(10, 60)
    data = []
    for s in range(nser):
        v = base * rng.uniform(0.5, 1.2)
        row = []
        for i in range(n):
            if kind in ("line", "area"):
                v = max(base * 0.05, v * rng.uniform(0.8, 1.25))
            else:
                v = base * rng.uniform(0.15, 1.0)
            row.append(v)
        data.append(row)
    vmax = max(sum(col) for col in zip(*data)) if kind == "stacked_bar" else max(max(r) for r in data)
    step, top = _nice(vmax * 1.05, rng.randint(4, 7))
    ticks = [i * step for i in range(int(round(top / step)) + 1)]
    tick_lab = [_fmt(t, step) + measure[2] for t in ticks]

    y = ch.header(_title(ctx, measure, axis), ctx.pick([None, None, f"{W.cap(W.pick(rng, W.ADJS))} {W.pick(rng, W.NOUNS)} data", f"Source: {W.company(rng)}"]))
    legend = ctx.pick(["top", "right", "bottom"]) if nser > 1 else (ctx.pick(["none", "none", "top"]))
    if legend == "top":
        y = ch.legend_row(names, y + 6)
    tickw = max(len(t) for t in tick_lab) * fs * 0.62 + 14
    catw = max(len(c) for c in cats) * fs * 0.62 + 14
    # axis title above the value axis (read before the ticks)
    if horiz:
        x0 = 24 + catw
    else:
        ch.text(measure[1], 24, y + fs, fs, fill=ch.muted)
        y += fs + 12
        x0 = 24 + tickw
    right = ch.W - 30 - (max(len(nm) for nm in names) * fs * 0.62 + fs + 40 if legend == "right" else 0)
    bottom = ch.H - 40 - (fs + 18) - (fs + 16 if legend == "bottom" else 0) - (fs + 8)
    y0, y1 = y + 8, bottom
    x1 = right
    # grid and value ticks, read top to bottom (or left to right for hbar)
    if not horiz:
        for t, lab in reversed(list(zip(ticks, tick_lab))):
            yy = y1 - (y1 - y0) * t / top
            ch.raw(f'<line x1="{x0}" y1="{yy:.1f}" x2="{x1}" y2="{yy:.1f}" stroke="{ch.grid}"/>')
            ch.text(lab, x0 - 8, yy + fs * 0.35, fs, "end", fill=ch.muted)
        bw = (x1 - x0) / n
        for i, c in enumerate(cats):
            cx = x0 + (i + 0.5) * bw
            if kind in ("bar", "grouped_bar", "stacked_bar"):
                if kind == "bar":
                    h = (y1 - y0) * data[0][i] / top
                    col = ch.colors[0] if ctx.chance(0.85) else ch.colors[i % len(ch.colors)]
                    ch.raw(f'<rect x="{cx - bw * 0.32:.1f}" y="{y1 - h:.1f}" width="{bw * 0.64:.1f}" height="{h:.1f}" fill="{col}" rx="{ctx.pick([0, 0, 2, 4])}"/>')
                elif kind == "grouped_bar":
                    gw = bw * 0.8 / nser
                    for s in range(nser):
                        h = (y1 - y0) * data[s][i] / top
                        ch.raw(f'<rect x="{cx - bw * 0.4 + s * gw:.1f}" y="{y1 - h:.1f}" width="{gw * 0.92:.1f}" height="{h:.1f}" fill="{ch.colors[s]}"/>')
                else:
                    acc = 0
                    for s in range(nser):
                        h = (y1 - y0) * data[s][i] / top
                        ch.raw(f'<rect x="{cx - bw * 0.32:.1f}" y="{y1 - acc - h:.1f}" width="{bw * 0.64:.1f}" height="{h:.1f}" fill="{ch.colors[s]}"/>')
                        acc += h
        if kind in ("line", "area"):
            for s in range(nser):
                pts = [(x0 + (i + 0.5) * bw, y1 - (y1 - y0) * data[s][i] / top) for i in range(n)]
                d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{yy:.1f}" for i, (x, yy) in enumerate(pts))
                if kind == "area":
                    ch.raw(f'<path d="{d} L{pts[-1][0]:.1f},{y1} L{pts[0][0]:.1f},{y1} Z" fill="{ch.colors[s]}" fill-opacity="0.35"/>')
                ch.raw(f'<path d="{d}" fill="none" stroke="{ch.colors[s]}" stroke-width="{ctx.pick([2, 2.5, 3])}"/>')
                if ctx.chance(0.6):
                    for x, yy in pts:
                        ch.raw(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3.5" fill="{ch.colors[s]}"/>')
        ch.raw(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{ch.muted}"/>')
        for i, c in enumerate(cats):
            ch.text(c, x0 + (i + 0.5) * bw, y1 + fs + 8, fs, "middle", fill=ch.muted)
        ch.text(axis, (x0 + x1) / 2, y1 + 2 * fs + 22, fs, "middle", fill=ch.muted)
        if kind == "bar" and ctx.chance(0.4):
            # value labels on the bars, read after the axis
            for i in range(n):
                h = (y1 - y0) * data[0][i] / top
                ch.text(_fmt(round(data[0][i]), 1) + measure[2], x0 + (i + 0.5) * bw, y1 - h - 6, max(11, fs - 1), "middle")
    else:
        bh = (y1 - y0) / n
        for i, c in enumerate(cats):
            cy = y0 + (i + 0.5) * bh
            w_ = (x1 - x0) * data[0][i] / top
            ch.raw(f'<rect x="{x0}" y="{cy - bh * 0.32:.1f}" width="{w_:.1f}" height="{bh * 0.64:.1f}" fill="{ch.colors[0]}"/>')
            ch.text(c, x0 - 8, cy + fs * 0.35, fs, "end", fill=ch.fg)
        for t, lab in zip(ticks, tick_lab):
            xx = x0 + (x1 - x0) * t / top
            ch.raw(f'<line x1="{xx:.1f}" y1="{y0}" x2="{xx:.1f}" y2="{y1}" stroke="{ch.grid}"/>')
        # tick labels, thinned so they do not touch
        lastx = -1e9
        for t, lab in zip(ticks, tick_lab):
            xx = x0 + (x1 - x0) * t / top
            if xx - lastx < len(lab) * fs * 0.62 + 12:
                continue
            lastx = xx
            ch.text(lab, xx, y1 + fs + 8, fs, "middle", fill=ch.muted)
        ch.text(measure[1], (x0 + x1) / 2, y1 + 2 * fs + 22, fs, "middle", fill=ch.muted)
    if legend == "right":
        ch.legend_col(names, right + 24, y0 + fs)
    if legend == "bottom":
        ch.legend_row(names, ch.H - 24 - (fs + 8))
    if ctx.chance(0.4):
        ch.text(f"Source: {W.company(rng)}, {rng.randint(2020, 2027)}", 24, ch.H - 14, max(11, fs - 2), fill=ch.muted)
    return ch.svg()


def _pie(ctx, donut):
    rng = ctx.rng
    ch = Chart(ctx)
    fs = ch.fs
    kind = ctx.pick(["budget", "share", "traffic", "time"])
    if kind == "budget":
        names = rng.sample(["Rent", "Food", "Transport", "Savings", "Bills", "Leisure", "Health", "Education", "Other"], rng.randint(3, 7))
        title = ctx.pick(["Monthly budget", "Household spending", f"Where the money goes, {rng.randint(2020, 2027)}"])
    elif kind == "share":
        names = [W.company(rng) for _ in range(rng.randint(3, 6))]
        title = ctx.pick(["Market share", f"Market share of {W.plural(W.pick(rng, W.NOUNS))}", "Share of sales"])
    elif kind == "traffic":
        names = rng.sample(["Search", "Direct", "Social", "Email", "Referral", "Ads"], rng.randint(3, 6))
        title = ctx.pick(["Traffic sources", "Where visitors come from", "Website visits by channel"])
    else:
        names = rng.sample(["Sleep", "Work", "Commute", "Meals", "Exercise", "Family", "Reading", "Screens"], rng.randint(3, 7))
        title = ctx.pick(["A typical day", "Time use", "How I spend my day"])
    names = list(dict.fromkeys(names))
    vals = [rng.uniform(1, 10) for _ in names]
    tot = sum(vals)
    pct = [round(100 * v / tot) for v in vals]
    y = ch.header(title, ctx.pick([None, f"Total: {W.money(rng, 1000, 90000)}" if kind == "budget" else None, f"Survey of {rng.randint(100, 5000):,} people"]))
    legend = ctx.pick(["right", "bottom", "labels"])
    avail_h = ch.H - y - (fs + 40 if legend == "bottom" else 30)
    r = min(avail_h / 2 - (fs * 2 if legend == "labels" else 10), (ch.W - (300 if legend == "right" else 200)) / 2) * 0.92
    r = max(60, r)
    cx = ch.W / 2 - (120 if legend == "right" else 0)
    cy = y + avail_h / 2
    a = -math.pi / 2
    mids = []
    for i, v in enumerate(vals):
        da = 2 * math.pi * v / tot
        x_a, y_a = cx + r * math.cos(a), cy + r * math.sin(a)
        x_b, y_b = cx + r * math.cos(a + da), cy + r * math.sin(a + da)
        large = 1 if da > math.pi else 0
        ch.raw(f'<path d="M{cx:.1f},{cy:.1f} L{x_a:.1f},{y_a:.1f} A{r:.1f},{r:.1f} 0 {large} 1 {x_b:.1f},{y_b:.1f} Z" fill="{ch.colors[i % 8]}" '
               f'stroke="{ch.bg}" stroke-width="2"/>')
        mids.append(a + da / 2)
        a += da
    if donut:
        ch.raw(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r * 0.55:.1f}" fill="{ch.bg}"/>')
        if ctx.chance(0.6):
            ch.text(f"{ctx.pick(['Total', 'All', '100%'])}", cx, cy + fs * 0.35, fs + 4, "middle", "bold")
    labels = [f"{n} {p}%" for n, p in zip(names, pct)]
    if legend == "labels":
        for lab, m in zip(labels, mids):
            lx, ly = cx + (r + 14) * math.cos(m), cy + (r + 14) * math.sin(m)
            anchor = "start" if math.cos(m) > 0.15 else ("end" if math.cos(m) < -0.15 else "middle")
            ch.text(lab, lx, ly + fs * 0.35 + (fs * 0.5 if math.sin(m) > 0.9 else 0), fs, anchor)
    elif legend == "right":
        ch.legend_col(labels, cx + r + 50, cy - (len(labels) * (fs + 10)) / 2 + fs)
    else:
        ch.legend_row(labels, ch.H - 26)
    return ch.svg()


def bar(ctx):
    return _xy_chart(ctx, "bar")


def hbar(ctx):
    return _xy_chart(ctx, "hbar")


def grouped_bar(ctx):
    return _xy_chart(ctx, "grouped_bar")


def stacked_bar(ctx):
    return _xy_chart(ctx, "stacked_bar")


def line(ctx):
    return _xy_chart(ctx, "line")


def area(ctx):
    return _xy_chart(ctx, "area")


def pie(ctx):
    return _pie(ctx, False)


def donut(ctx):
    return _pie(ctx, True)


CHARTS = {"bar": bar, "hbar": hbar, "grouped_bar": grouped_bar, "stacked_bar": stacked_bar, "line": line,
          "area": area, "pie": pie, "donut": donut}
