"""Shared pieces of the templates: the per-picture context (random source, palette,
fonts, photos), drawn icons and controls (no text in them), and window/browser chrome."""

import os

import words as W
from page import esc

SANS = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans", "Nimbus Sans", "Noto Sans Display",
        "URW Gothic"]
SERIF = ["DejaVu Serif", "Liberation Serif", "Noto Serif", "FreeSerif", "Nimbus Roman", "C059", "P052",
         "URW Bookman"]
MONO = ["DejaVu Sans Mono", "Liberation Mono", "FreeMono", "Nimbus Mono PS"]

SIZES = [(800, 600), (1024, 768), (1280, 720), (1280, 800), (1280, 1024), (1366, 768), (1440, 900),
         (1536, 864), (1600, 900), (1680, 1050), (1920, 1080), (1024, 640), (900, 700), (1200, 800)]


def hsl(h, s, l, a=None):
    h = (h % 1.0) * 360
    if a is None:
        return f"hsl({h:.0f},{s:.0f}%,{l:.0f}%)"
    return f"hsla({h:.0f},{s:.0f}%,{l:.0f}%,{a:.2f})"


class Pal(dict):
    """A palette: colours by name, also as attributes (pal.fg) for use inside f-strings."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k) from None


def palette(rng, theme):
    h = rng.random()
    ha = rng.random() if rng.random() < 0.7 else h
    s = rng.uniform(0, 25)
    sa = rng.uniform(50, 85)
    if theme == "light":
        p = dict(
            bg=hsl(h, s, rng.uniform(96, 100)), panel=hsl(h, s, rng.uniform(91, 95)),
            panel2=hsl(h, s, rng.uniform(85, 90)), fg=hsl(h, s, rng.uniform(8, 22)),
            muted=hsl(h, s * 0.6, rng.uniform(36, 46)), border=hsl(h, s, rng.uniform(78, 86)),
            accent=hsl(ha, sa, rng.uniform(34, 46)), on_accent="#ffffff",
            sel=hsl(ha, sa, rng.uniform(88, 93)), link=hsl(ha, sa, rng.uniform(30, 40)),
            danger=hsl(0.0, 70, 44), ok=hsl(0.36, 60, 32), shadow="rgba(0,0,0,.18)",
            field=hsl(h, s, 100), dim="rgba(0,0,0,.35)")
    else:
        p = dict(
            bg=hsl(h, s, rng.uniform(8, 14)), panel=hsl(h, s, rng.uniform(15, 20)),
            panel2=hsl(h, s, rng.uniform(21, 26)), fg=hsl(h, s * 0.5, rng.uniform(86, 95)),
            muted=hsl(h, s * 0.5, rng.uniform(62, 70)), border=hsl(h, s, rng.uniform(27, 34)),
            accent=hsl(ha, sa, rng.uniform(52, 62)), on_accent=hsl(ha, 30, 8),
            sel=hsl(ha, sa * 0.6, rng.uniform(24, 30)), link=hsl(ha, sa, rng.uniform(66, 74)),
            danger=hsl(0.0, 70, 60), ok=hsl(0.36, 55, 55), shadow="rgba(0,0,0,.5)",
            field=hsl(h, s, rng.uniform(11, 16)), dim="rgba(0,0,0,.55)")
    p["hue"], p["ahue"] = h, ha
    return Pal(p)


class Ctx:
    """Everything a template needs for one picture."""

    def __init__(self, rng, page, photos):
        self.rng = rng
        self.p = page
        self.theme = page.theme
        self.pal = palette(rng, page.theme)
        self.sans = rng.choice(SANS)
        self.serif = rng.choice(SERIF)
        self.mono = rng.choice(MONO)
        self.ui = rng.choice([self.sans] * 4 + [self.serif])  # some pages use serif UI text
        self.fs = rng.choice([11, 12, 12, 13, 13, 14, 14, 14, 15, 15, 16, 16, 17, 18, 19, 20])
        self.photos = photos
        self.used_photos = []
        self._uid = 0

    # text
    def t(self, text, tag="div", cls="", style="", attrs=""):
        return self.p.t(text, tag, cls, style, attrs)

    def unit(self, inner, tag="div", cls="", style="", attrs="", text=None):
        return self.p.unit(inner, tag, cls, style, attrs, text)

    def css(self, s):
        self.p.css.append(s)

    def uid(self, prefix="u"):
        self._uid += 1
        return f"{prefix}{self._uid}"

    def chance(self, x):
        return self.rng.random() < x

    def pick(self, xs):
        return xs[self.rng.randrange(len(xs))]

    # photos
    def photo(self, style="", cls=""):
        """An <img> of a photo (a `data-photo` region), or None when there are no photos."""
        if not self.photos:
            return None
        path = self.pick(self.photos)
        self.used_photos.append(os.path.basename(path))
        c = f' class="{cls}"' if cls else ""
        return f'<img data-photo="1"{c} src="file://{esc(path)}" style="object-fit:cover;display:block;{style}">'

    # drawn things (no text)
    def icon(self, size=16, color=None, shape=None):
        pal = self.pal
        color = color or hsl(self.rng.random(), self.rng.uniform(35, 70), 48 if self.theme == "light" else 62)
        shape = shape or self.pick(["sq", "circ", "round", "folder", "doc", "gear", "star", "bars"])
        s = size
        if shape == "sq":
            return f'<span class="ic" style="width:{s}px;height:{s}px;background:{color};border-radius:2px"></span>'
        if shape == "circ":
            return f'<span class="ic" style="width:{s}px;height:{s}px;background:{color};border-radius:50%"></span>'
        if shape == "round":
            return (f'<span class="ic" style="width:{s}px;height:{s}px;border:2px solid {color};'
                    f'border-radius:{s // 3}px"></span>')
        if shape == "folder":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><path d="M1 3h5l2 2h7v9H1z" '
                    f'fill="{color}"/></svg>')
        if shape == "doc":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><path d="M3 1h7l3 3v11H3z" '
                    f'fill="none" stroke="{color}" stroke-width="1.5"/><path d="M5 7h6M5 10h6M5 13h4" '
                    f'stroke="{color}"/></svg>')
        if shape == "gear":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><circle cx="8" cy="8" r="5" '
                    f'fill="none" stroke="{color}" stroke-width="3" stroke-dasharray="2.5 1.4"/>'
                    f'<circle cx="8" cy="8" r="2" fill="{color}"/></svg>')
        if shape == "star":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><path d="M8 1l2.2 4.6 5 .6-3.7 '
                    f'3.4 1 5L8 12.2 3.5 14.6l1-5L.8 6.2l5-.6z" fill="{color}"/></svg>')
        if shape == "bars":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><path d="M2 4h12M2 8h12M2 12h12" '
                    f'stroke="{color}" stroke-width="2"/></svg>')
        if shape == "x":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><path d="M4 4l8 8M12 4l-8 8" '
                    f'stroke="{color}" stroke-width="1.6"/></svg>')
        if shape == "search":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><circle cx="7" cy="7" r="4.5" '
                    f'fill="none" stroke="{color}" stroke-width="1.6"/><path d="M10.5 10.5l4 4" stroke="{color}" '
                    f'stroke-width="1.8"/></svg>')
        if shape == "left":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><path d="M14 8H3M7 3.5L2.5 8 7 12.5" '
                    f'fill="none" stroke="{color}" stroke-width="1.6"/></svg>')
        if shape == "right":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><path d="M2 8h11M9 3.5L13.5 8 9 12.5" '
                    f'fill="none" stroke="{color}" stroke-width="1.6"/></svg>')
        if shape == "reload":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><path d="M13 8a5 5 0 1 1-1.5-3.6" '
                    f'fill="none" stroke="{color}" stroke-width="1.6"/><path d="M12.5 1.5v3.5H9" fill="none" '
                    f'stroke="{color}" stroke-width="1.6"/></svg>')
        if shape == "lock":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><rect x="3" y="7" width="10" '
                    f'height="7" rx="1" fill="{color}"/><path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" '
                    f'stroke="{color}" stroke-width="1.6"/></svg>')
        if shape == "caret":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><path d="M4 6l4 4 4-4" '
                    f'fill="none" stroke="{color}" stroke-width="1.8"/></svg>')
        if shape == "dots":
            return (f'<svg class="ic" width="{s}" height="{s}" viewBox="0 0 16 16"><circle cx="3" cy="8" r="1.5" '
                    f'fill="{color}"/><circle cx="8" cy="8" r="1.5" fill="{color}"/><circle cx="13" cy="8" r="1.5" '
                    f'fill="{color}"/></svg>')
        raise ValueError(shape)

    def toggle(self, on):
        pal = self.pal
        bg = pal.accent if on else pal.border
        pos = "right:2px" if on else "left:2px"
        return (f'<span style="display:inline-block;position:relative;width:36px;height:20px;border-radius:10px;'
                f'background:{bg};vertical-align:middle"><span style="position:absolute;top:2px;{pos};width:16px;'
                f'height:16px;border-radius:50%;background:#fff"></span></span>')

    def checkbox(self, on, radio=False):
        pal = self.pal
        r = "50%" if radio else "3px"
        inner = ""
        if on and radio:
            inner = (f'<span style="position:absolute;left:4px;top:4px;width:8px;height:8px;border-radius:50%;'
                     f'background:{pal.accent}"></span>')
        elif on:
            inner = ('<span style="position:absolute;left:5px;top:1px;width:5px;height:10px;border:solid #fff;'
                     'border-width:0 2px 2px 0;transform:rotate(45deg)"></span>')
        bg = pal.accent if (on and not radio) else pal.field
        return (f'<span style="display:inline-block;position:relative;width:16px;height:16px;border-radius:{r};'
                f'border:1.5px solid {pal.accent if on else pal.muted};background:{bg};vertical-align:middle;'
                f'flex:none">{inner}</span>')

    def avatar(self, size=32):
        c = hsl(self.rng.random(), 45, 55)
        return (f'<span style="display:inline-block;flex:none;width:{size}px;height:{size}px;border-radius:50%;'
                f'background:radial-gradient(circle at 50% 38%,rgba(255,255,255,.75) 0 22%,transparent 23%),'
                f'radial-gradient(ellipse at 50% 100%,rgba(255,255,255,.75) 0 45%,transparent 46%),{c}"></span>')


BASE_CSS = """
.ic{display:inline-block;flex:none;vertical-align:middle}
.scr{position:absolute;left:0;top:0;display:flex;flex-direction:column;overflow:hidden}
.cnt{position:relative;flex:1;overflow:hidden;min-height:0}
"""


def window_buttons(ctx, style):
    pal = ctx.pal
    if style == "mac":
        return ('<span style="display:flex;gap:8px;flex:none">'
                + "".join(f'<span style="width:12px;height:12px;border-radius:50%;background:{c}"></span>'
                          for c in ("#ff5f57", "#febc2e", "#28c840")) + "</span>")
    col = pal.fg
    mn = f'<svg width="12" height="12"><path d="M1 9h10" stroke="{col}" stroke-width="1.3"/></svg>'
    mx = f'<svg width="12" height="12"><rect x="1.5" y="1.5" width="9" height="9" fill="none" stroke="{col}" stroke-width="1.3"/></svg>'
    cl = f'<svg width="12" height="12"><path d="M1.5 1.5l9 9M10.5 1.5l-9 9" stroke="{col}" stroke-width="1.3"/></svg>'
    return f'<span style="display:flex;gap:18px;flex:none;align-items:center">{mn}{mx}{cl}</span>'


def title_bar(ctx, title, style=None):
    """A window's title bar with its title as a reading unit."""
    pal = ctx.pal
    style = style or ctx.pick(["mac", "gnome", "win"])
    h = ctx.pick([28, 30, 32, 36])
    fs = max(11, min(15, ctx.fs))
    bg = pal.panel2 if ctx.chance(0.6) else pal.panel
    t = ctx.t(title, tag="span", style=f"font-weight:{'bold' if style == 'gnome' else 'normal'};white-space:nowrap")
    if style == "mac":
        inner = (f'<span style="position:absolute;left:12px;top:{(h - 12) // 2}px">{window_buttons(ctx, "mac")}</span>'
                 f'<span style="flex:1;text-align:center">{t}</span>')
    elif style == "gnome":
        inner = (f'<span style="flex:1;text-align:center">{t}</span>'
                 f'<span style="position:absolute;right:12px;top:{(h - 12) // 2}px">{window_buttons(ctx, "win")}</span>')
    else:
        inner = (f'<span style="margin:0 8px 0 10px">{ctx.icon(14)}</span><span style="flex:1">{t}</span>'
                 f'<span style="margin-right:12px">{window_buttons(ctx, "win")}</span>')
    return (f'<div style="position:relative;flex:none;height:{h + 1}px;display:flex;align-items:center;background:{bg};'
            f'color:{pal.fg};font:{fs}px \'{ctx.sans}\';border-bottom:1px solid {pal.border}">{inner}</div>'), h + 1


def browser_chrome(ctx, tab_title, url):
    pal = ctx.pal
    rng = ctx.rng
    fs = max(11, min(14, ctx.fs))
    font = f"font:{fs}px '{ctx.sans}'"
    tabs = []
    n = rng.randint(1, 4)
    active = rng.randrange(n)
    for i in range(n):
        title = tab_title if i == active else ctx.pick([W.title(rng), W.company(rng), W.subject(rng),
                                                         f"{W.cap(W.pick(rng, W.NOUNS))} - {W.company(rng)}"])
        bg = pal.bg if i == active else "transparent"
        tabs.append(
            f'<div style="display:flex;align-items:center;gap:7px;padding:0 10px;width:210px;height:100%;'
            f'background:{bg};border-radius:8px 8px 0 0;overflow:hidden">{ctx.icon(14, shape=ctx.pick(["circ", "sq", "star"]))}'
            f'<span style="flex:1;overflow:hidden;white-space:nowrap">{ctx.t(title, tag="span")}</span>'
            f'{ctx.icon(12, pal.muted, "x")}</div>')
    tabstrip = (f'<div style="display:flex;align-items:flex-end;height:36px;padding:6px 8px 0 8px;background:{pal.panel2};'
                f'gap:2px">{"".join(tabs)}</div>')
    bar = (f'<div style="display:flex;align-items:center;gap:14px;height:40px;padding:0 12px;background:{pal.bg};'
           f'border-bottom:1px solid {pal.border}">{ctx.icon(16, pal.muted, "left")}{ctx.icon(16, pal.muted, "right")}'
           f'{ctx.icon(16, pal.muted, "reload")}<div style="flex:1;display:flex;align-items:center;gap:8px;height:28px;'
           f'border-radius:14px;background:{pal.panel};padding:0 12px">{ctx.icon(12, pal.muted, "lock")}'
           f'{ctx.t(url, tag="span", style="white-space:nowrap")}</div>{ctx.icon(16, pal.muted, "star")}'
           f'{ctx.icon(16, pal.muted, "dots")}</div>')
    marks = ""
    if ctx.chance(0.35):
        items = "".join(f'<span style="display:flex;align-items:center;gap:5px">{ctx.icon(12, shape="circ")}'
                        f'{ctx.t(W.cap(w), tag="span")}</span>'
                        for w in rng.sample(W.NOUNS + W.TOPICS, rng.randint(3, 7)))
        marks = (f'<div style="display:flex;gap:18px;align-items:center;height:28px;padding:0 14px;background:{pal.bg};'
                 f'border-bottom:1px solid {pal.border}">{items}</div>')
    return (f'<div style="flex:none;color:{pal.fg};{font}">{tabstrip}{bar}{marks}</div>'), 36 + 40 + (28 if marks else 0)


def top_panel(ctx):
    """A GNOME-like top bar: Activities, clock, drawn status icons."""
    rng = ctx.rng
    clock = f"{W.pick(rng, W.DY)} {rng.randint(1, 28)} {W.pick(rng, W.MON)} {rng.randrange(24):02d}:{rng.randrange(60):02d}"
    return (f'<div style="flex:none;height:28px;background:#111;color:#eee;display:flex;align-items:center;'
            f'padding:0 12px;font:bold 13px \'{ctx.sans}\'">{ctx.t("Activities", tag="span")}<span style="flex:1;'
            f'text-align:center">{ctx.t(clock, tag="span")}</span><span style="display:flex;gap:10px">'
            f'{ctx.icon(14, "#ddd", "bars")}{ctx.icon(14, "#ddd", "circ")}{ctx.icon(14, "#ddd", "sq")}</span></div>')


def taskbar(ctx):
    rng = ctx.rng
    h, m = rng.randrange(1, 13), rng.randrange(60)
    clock = f"{h}:{m:02d} {ctx.pick(['AM', 'PM'])}"
    day = f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/{rng.choice([2025, 2026, 2027])}"
    apps = "".join(ctx.icon(24, shape=ctx.pick(["sq", "circ", "folder", "round"])) for _ in range(rng.randint(3, 8)))
    search = ""
    if ctx.chance(0.5):
        search = (f'<div style="display:flex;align-items:center;gap:8px;width:230px;height:32px;background:#2d2d33;'
                  f'border-radius:16px;padding:0 12px;color:#bbb">{ctx.icon(14, "#bbb", "search")}'
                  f'{ctx.t("Type here to search", tag="span")}</div>')
    return (f'<div style="flex:none;height:46px;background:#1f1f24;color:#f2f2f2;display:flex;align-items:center;'
            f'gap:14px;padding:0 12px;font:12px \'{ctx.sans}\'"><svg width="22" height="22"><rect x="1" y="1" '
            f'width="9" height="9" fill="#4cc2ff"/><rect x="12" y="1" width="9" height="9" fill="#4cc2ff"/>'
            f'<rect x="1" y="12" width="9" height="9" fill="#4cc2ff"/><rect x="12" y="12" width="9" height="9" '
            f'fill="#4cc2ff"/></svg>{search}<span style="display:flex;gap:14px;flex:1">{apps}</span>'
            f'<div style="text-align:right;line-height:1.35">{ctx.t(clock)}{ctx.t(day)}</div></div>')


def frame(ctx, content, chrome, tab_title=None, url=None, win_title=None):
    """Lay out a screen: chrome (browser/window/desktop/none) around `content(ctx, w, h)`,
    which returns the HTML of the content area and registers its reading units."""
    p = ctx.p
    pal = ctx.pal
    W_, H_ = p.width, p.height
    ctx.css(BASE_CSS)
    rng = ctx.rng
    if chrome == "browser":
        top, h_top = browser_chrome(ctx, tab_title or W.title(rng), url or W.url(rng))
        inner = content(ctx, W_, H_ - h_top)
        return (f'<div class="scr" style="width:{W_}px;height:{H_}px;background:{pal.bg}">{top}'
                f'<div class="cnt">{inner}</div></div>')
    if chrome == "window":
        tb, h_top = title_bar(ctx, win_title or W.cap(W.pick(rng, W.NOUNS)))
        inner = content(ctx, W_, H_ - h_top)
        return (f'<div class="scr" style="width:{W_}px;height:{H_}px;background:{pal.bg}">{tb}'
                f'<div class="cnt">{inner}</div></div>')
    if chrome == "desktop":
        style = ctx.pick(["gnome", "win"])
        wall_h = rng.random()
        wall = f"linear-gradient({rng.randrange(360)}deg,{hsl(wall_h, 50, 30)},{hsl(wall_h + 0.15, 45, 55)})"
        photo = ctx.photo("position:absolute;left:0;top:0;width:100%;height:100%") if ctx.chance(0.3) else None
        top = top_panel(ctx) if style == "gnome" else ""
        h_top = 28 if top else 0
        h_bot = 46 if style == "win" else 0
        avail_h = H_ - h_top - h_bot
        ww = int(W_ * rng.uniform(0.62, 0.9))
        wh = int(avail_h * rng.uniform(0.68, 0.92))
        wx = rng.randint(10, max(10, W_ - ww - 10))
        wy = rng.randint(8, max(8, avail_h - wh - 8))
        tb, tbh = title_bar(ctx, win_title or W.cap(W.pick(rng, W.NOUNS)),
                            style="win" if style == "win" else ctx.pick(["gnome", "mac"]))
        inner = content(ctx, ww, wh - tbh)
        win = (f'<div style="position:absolute;left:{wx}px;top:{wy}px;width:{ww}px;height:{wh}px;display:flex;'
               f'flex-direction:column;background:{pal.bg};box-shadow:0 6px 24px rgba(0,0,0,.5);'
               f'border-radius:{ctx.pick([0, 6, 10])}px;overflow:hidden">{tb}<div class="cnt">{inner}</div></div>')
        bot = taskbar(ctx) if style == "win" else ""
        return (f'<div class="scr" style="width:{W_}px;height:{H_}px;background:{wall}">{top}'
                f'<div style="position:relative;flex:1">{photo or ""}{win}</div>{bot}</div>')
    inner = content(ctx, W_, H_)
    return f'<div class="scr" style="width:{W_}px;height:{H_}px;background:{pal.bg}"><div class="cnt">{inner}</div></div>'
