"""Document templates: a page of text (letter, article, invoice, receipt, form letter,
report, book page), shown full-bleed or as a page on a viewer's grey, some made to look
scanned (grey paper, blur, noise, a slight rotation)."""

import datetime

import words as W
from page import esc


def _page_css(ctx, font):
    ctx.css(f"body{{background:#fff;color:#111;font:{ctx.fs}px/1.45 '{font}',serif}} p{{margin:0 0 0.8em 0}}"
            f" h1,h2,h3{{margin:0}} .ic{{display:inline-block}}")


def _wrap(ctx, inner, paper="#ffffff", ink="#111111", scan=None, narrow=False):
    """Place the page: full-bleed, or a page on a grey/dark background. `scan` adds a
    scanned look. Returns body HTML."""
    rng = ctx.rng
    W_, H_ = ctx.p.width, ctx.p.height
    mode = "full" if (ctx.chance(0.45) and not narrow) else "page"
    dark = ctx.theme == "dark" and not scan
    pad = rng.randint(36, 90) if mode == "page" else rng.randint(28, 80)
    # a readable measure: about 70-110 characters a line, as on a real page
    measure = int(ctx.fs * rng.uniform(36, 56))
    if mode == "full":
        pw, left, top = W_, 0, 0
        inner = f'<div style="max-width:{measure}px;margin:0 auto">{inner}</div>'
    else:
        frac = rng.uniform(0.3, 0.42) if narrow else rng.uniform(0.55, 0.85)
        pw = int(min(W_ - 40, max(360 if narrow else 560, W_ * frac)))
        if not narrow:
            pw = min(pw, measure + 2 * pad)
        left = (W_ - pw) // 2 + rng.randint(-20, 20)
        top = rng.randint(14, 60)
    filt, extra, rot = "", "", 0.0
    if scan:
        paper = ctx.pick(["#f4f1ea", "#efefef", "#f7f3e8", "#e9e9e6", "#fbfaf6"])
        rot = rng.uniform(-1.2, 1.2)
        filt = (f"filter:grayscale({rng.uniform(0.6, 1):.2f}) contrast({rng.uniform(1.0, 1.35):.2f}) "
                f"blur({rng.uniform(0.25, 0.7):.2f}px) brightness({rng.uniform(0.9, 1.02):.2f});")
        seed = rng.randint(1, 999)
        extra = (f'<svg style="position:absolute;left:0;top:0;width:100%;height:100%;pointer-events:none;mix-blend-mode:multiply;'
                 f'opacity:{rng.uniform(0.25, 0.5):.2f}"><filter id="nz"><feTurbulence type="fractalNoise" baseFrequency="{rng.uniform(0.6, 1.2):.2f}" '
                 f'numOctaves="2" seed="{seed}"/><feColorMatrix type="saturate" values="0"/></filter><rect width="100%" height="100%" filter="url(#nz)"/></svg>'
                 f'<div style="position:absolute;inset:0;pointer-events:none;background:radial-gradient(ellipse at '
                 f'{rng.randint(30, 70)}% {rng.randint(30, 70)}%,transparent 55%,rgba(0,0,0,{rng.uniform(0.05, 0.2):.2f}))"></div>')
    bg = ctx.pick(["#525659", "#3c3c3c", "#808080", "#d4d4d4", "#e8e8e8"]) if mode == "page" else paper
    if scan:
        bg = ctx.pick(["#2a2a2a", "#111", "#555", "#cfcfcf"])
        mode = "page"
        if pw == W_:
            pw = int(min(W_ - 30, max(520, W_ * rng.uniform(0.6, 0.95))))
            if not narrow:
                pw = min(pw, measure + 2 * pad)
        left = (W_ - pw) // 2
        top = rng.randint(6, 30)
    shadow = "box-shadow:0 2px 10px rgba(0,0,0,.45);" if mode == "page" else ""
    if dark:
        # a viewer's dark mode: the page inverted, hues kept
        filt = "filter:invert(0.88) hue-rotate(180deg);"
        bg = ctx.pick(["#1b1b1b", "#262626", "#0f0f10"]) if mode == "page" else "#1e1e1e"
    return (f'<div style="position:absolute;inset:0;background:{bg};overflow:hidden">'
            f'<div style="position:absolute;left:{left}px;top:{top}px;width:{pw}px;min-height:{H_ * 1.3:.0f}px;background:{paper};color:{ink};'
            f'padding:{pad}px {pad}px;{shadow}transform:rotate({rot:.2f}deg);{filt}">{inner}{extra}</div></div>')


def letter(ctx, scan=None):
    rng = ctx.rng
    font = ctx.pick([ctx.serif, ctx.serif, ctx.sans])
    _page_css(ctx, font)
    sender = W.name(rng)
    to = W.name(rng)
    comp = W.company(rng) if ctx.chance(0.6) else None
    right = ctx.chance(0.5)
    al = "right" if right else "left"
    parts = [f'<div style="text-align:{al};margin-bottom:18px">']
    if comp:
        parts.append(ctx.t(comp, style=f"font-weight:bold;font-size:{ctx.fs + 4}px"))
    parts += [ctx.t(sender if not comp else W.street_address(rng)), ctx.t(W.street_address(rng) if not comp else W.city_line(rng)),
              ctx.t(W.city_line(rng) if not comp else W.email(rng)), "</div>"]
    parts.append(ctx.t(W.date(rng, rng.choice([0, 1])), style="margin-bottom:18px"))
    parts += [ctx.t(to), ctx.t(W.street_address(rng)), ctx.t(W.city_line(rng), style="margin-bottom:18px")]
    if ctx.chance(0.6):
        parts.append(ctx.t(f"Re: {W.cap(W.pick(rng, W.NOUNS))} {ctx.pick(['application', 'account', 'order', 'request', 'contract'])} "
                           f"{rng.randint(1000, 99999)}", style="font-weight:bold;margin-bottom:14px"))
    parts.append(ctx.t(f"Dear {ctx.pick(['Mr', 'Ms', 'Dr'])} {to.split()[1]}," if ctx.chance(0.6) else f"Dear {to.split()[0]},", style="margin-bottom:10px"))
    for _ in range(rng.randint(2, 5)):
        parts.append(ctx.t(W.paragraph(rng, 2, 5), tag="p", style=f"text-align:{ctx.pick(['left', 'justify'])}"))
    parts.append(ctx.t(ctx.pick(["Yours sincerely,", "Sincerely,", "Kind regards,", "Best wishes,", "Yours faithfully,"]), style="margin-top:14px"))
    parts.append(f'<div style="height:{rng.randint(20, 50)}px"></div>')
    parts.append(ctx.t(sender, style="font-weight:bold"))
    if ctx.chance(0.6):
        parts.append(ctx.t(ctx.pick(["Manager", "Director", "Customer Services", "Head of Sales", "Secretary"])))
    return _wrap(ctx, "".join(parts), scan=scan)


def article(ctx, scan=None, cols=1):
    rng = ctx.rng
    font = ctx.pick([ctx.serif, ctx.serif, ctx.sans])
    _page_css(ctx, font)
    parts = [ctx.t(W.title(rng), tag="h1", style=f"font-size:{ctx.fs + rng.randint(8, 16)}px;line-height:1.2;margin-bottom:8px;"
                                                 f"text-align:{ctx.pick(['left', 'center'])}")]
    if ctx.chance(0.7):
        parts.append(ctx.t(f"{W.name(rng)}" + ctx.pick(["", f", {W.company(rng)}", f" · {W.date(rng, 0)}"]),
                           style=f"font-style:italic;margin-bottom:14px;text-align:{ctx.pick(['left', 'center'])}"))
    if ctx.chance(0.4):
        parts.append(ctx.t("Abstract. " + W.paragraph(rng, 2, 3), style=f"font-size:{max(11, ctx.fs - 1)}px;margin:0 5% 16px 5%"))
    body = []
    for i in range(rng.randint(4, 9)):
        if i > 0 and ctx.chance(0.3):
            body.append(ctx.t(W.heading(rng), tag="h3", style=f"font-size:{ctx.fs + 2}px;margin:6px 0 6px 0"))
        body.append(ctx.t(W.paragraph(rng, 3, 6), tag="p", style=f"text-align:{ctx.pick(['left', 'justify'])};"
                                                                 f"{'text-indent:1.5em;' if ctx.chance(0.3) else ''}"))
    if cols == 1:
        parts += body
    elif ctx.chance(0.5):
        # CSS columns: paragraphs flow down the left column, then the right
        parts.append(f'<div style="column-count:2;column-gap:{rng.randint(24, 48)}px;{"column-rule:1px solid #bbb;" if ctx.chance(0.3) else ""}'
                     f'">{"".join(body)}</div>')
    else:
        half = (len(body) + 1) // 2
        parts.append(f'<div style="display:flex;gap:{rng.randint(24, 48)}px"><div style="flex:1">{"".join(body[:half])}</div>'
                     f'<div style="flex:1">{"".join(body[half:])}</div></div>')
    return _wrap(ctx, "".join(parts), scan=scan)


def invoice(ctx, scan=None):
    rng = ctx.rng
    _page_css(ctx, ctx.sans if ctx.chance(0.7) else ctx.serif)
    comp = W.company(rng)
    cur = ctx.pick(["$", "\u20ac", "\u00a3"])
    parts = [f'<div style="display:flex;justify-content:space-between;margin-bottom:24px"><div>',
             ctx.t(comp, style=f"font-size:{ctx.fs + 8}px;font-weight:bold"), ctx.t(W.street_address(rng)), ctx.t(W.city_line(rng)),
             ctx.t(W.email(rng)), '</div><div style="text-align:right">',
             ctx.t(ctx.pick(["INVOICE", "Invoice", "TAX INVOICE"]), style=f"font-size:{ctx.fs + 12}px;font-weight:bold"),
             ctx.t(f"Invoice no. {rng.randint(1000, 99999)}")]
    issued = datetime.date(rng.choice([2024, 2025, 2026, 2027]), rng.randint(1, 12), rng.randint(1, 28))
    due = issued + datetime.timedelta(days=rng.choice([14, 30, 30, 60]))
    parts += [ctx.t(f"Date: {issued:%d/%m/%Y}"), ctx.t(f"Due: {due:%d/%m/%Y}"), "</div></div>"]
    parts += [ctx.t("Bill to", style="font-weight:bold"), ctx.t(W.name(rng)), ctx.t(W.street_address(rng)), ctx.t(W.city_line(rng), style="margin-bottom:20px")]
    head = ["Description", "Qty", "Unit price", "Amount"]
    rows = [ctx.unit("".join(f'<th style="text-align:{"left" if i == 0 else "right"};padding:6px 8px;border-bottom:2px solid #333;white-space:nowrap">{h}</th>'
                             for i, h in enumerate(head)), tag="tr", text=" ".join(head))]
    total = 0.0
    for _ in range(rng.randint(2, 8)):
        d = f"{W.cap(W.pick(rng, W.ADJS))} {W.pick(rng, W.NOUNS)}" + ctx.pick(["", " service", " (hours)", " license", " repair"])
        q = rng.randint(1, 12)
        u = round(rng.uniform(5, 400), 2)
        total += q * u
        vals = [d, str(q), f"{cur}{u:,.2f}", f"{cur}{q * u:,.2f}"]
        rows.append(ctx.unit("".join(f'<td style="text-align:{"left" if i == 0 else "right"};padding:5px 8px;border-bottom:1px solid #ccc;white-space:nowrap">{esc(v)}</td>'
                                     for i, v in enumerate(vals)), tag="tr", text=" ".join(vals)))
    parts.append(f'<table style="border-collapse:collapse;width:100%;margin-bottom:14px">{"".join(rows)}</table>')
    tax = total * ctx.pick([0.05, 0.1, 0.2, 0.19, 0.08])
    for lbl, v, b in [("Subtotal", total, False), ("Tax", tax, False), ("Total", total + tax, True)]:
        parts.append(ctx.unit(f'<span style="width:140px">{lbl}</span><span style="width:120px;text-align:right">{cur}{v:,.2f}</span>',
                              style=f"display:flex;justify-content:flex-end;{'font-weight:bold;' if b else ''}padding:2px 8px",
                              text=f"{lbl} {cur}{v:,.2f}"))
    parts.append(ctx.t(ctx.pick(["Thank you for your business!", f"Payment is due within {rng.choice([14, 30, 60])} days.",
                                 "Please include the invoice number with your payment."]), style="margin-top:30px"))
    return _wrap(ctx, "".join(parts), scan=scan)


def receipt(ctx, scan=None):
    rng = ctx.rng
    ctx.css(f"body{{font:{max(12, ctx.fs)}px/1.35 '{ctx.mono}',monospace;color:#111}}")
    shop = W.company(rng).upper() if ctx.chance(0.6) else f"{W.pick(rng, W.COMPANY_A).upper()} MARKET"
    parts = ['<div style="text-align:center;margin-bottom:10px">', ctx.t(shop, style="font-weight:bold;font-size:1.2em"),
             ctx.t(W.street_address(rng)), ctx.t(W.city_line(rng)), ctx.t(f"Tel. {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"),
             "</div>", ctx.t(f"{W.date(rng, 2)}  {rng.randrange(24):02d}:{rng.randrange(60):02d}"),
             ctx.t(f"Receipt {rng.randint(1000, 99999)}  Till {rng.randint(1, 9)}", style="margin-bottom:8px")]
    total = 0.0
    for _ in range(rng.randint(3, 14)):
        item = f"{W.pick(rng, W.NOUNS).upper()}" + ctx.pick(["", " " + W.pick(rng, W.ADJS).upper(), f" x{rng.randint(2, 5)}"])
        p = round(rng.uniform(0.5, 30), 2)
        total += p
        parts.append(ctx.unit(f'<span>{esc(item)}</span><span>{p:.2f}</span>', style="display:flex;justify-content:space-between", text=f"{item} {p:.2f}"))
    tax = total * 0.08
    parts.append('<div style="border-top:1px dashed #333;margin:6px 0"></div>')
    for lbl, v in [("SUBTOTAL", total), ("TAX", tax), ("TOTAL", total + tax)]:
        parts.append(ctx.unit(f'<span>{lbl}</span><span>{v:.2f}</span>', style=f"display:flex;justify-content:space-between;{'font-weight:bold' if lbl == 'TOTAL' else ''}",
                              text=f"{lbl} {v:.2f}"))
    parts.append(ctx.t(f"{ctx.pick(['VISA', 'MASTERCARD', 'DEBIT'])} ****{rng.randint(1000, 9999)}", style="margin-top:8px"))
    parts.append(ctx.t(ctx.pick(["THANK YOU FOR SHOPPING", "THANK YOU!", "PLEASE COME AGAIN"]), style="text-align:center;margin-top:12px"))
    return _wrap(ctx, "".join(parts), narrow=True, scan=scan)


def formletter(ctx, scan=None):
    rng = ctx.rng
    _page_css(ctx, ctx.pick([ctx.sans, ctx.serif]))
    comp = W.company(rng)
    person = W.name(rng)
    acct = f"{rng.randint(10000000, 99999999)}"
    due = W.money(rng, 20, 900)
    parts = [f'<div style="display:flex;justify-content:space-between;border-bottom:3px solid #444;padding-bottom:10px;margin-bottom:16px">',
             ctx.t(comp, style=f"font-size:{ctx.fs + 8}px;font-weight:bold"),
             f'<div style="text-align:right">{ctx.t(W.street_address(rng))}{ctx.t(W.city_line(rng))}</div></div>']
    parts += [ctx.t(person), ctx.t(W.street_address(rng)), ctx.t(W.city_line(rng), style="margin-bottom:16px")]
    for lbl, v in [("Account number", acct), ("Reference", f"{W.pick(rng, W.NOUNS)[:3].upper()}-{rng.randint(100, 999)}"), ("Date", W.date(rng, 0))]:
        parts.append(ctx.unit(f'<span style="width:170px;display:inline-block;font-weight:bold">{lbl}:</span><span>{esc(v)}</span>', text=f"{lbl}: {v}"))
    parts.append(ctx.t(f"Dear {person},", style="margin:16px 0 10px 0"))
    parts.append(ctx.t(f"This is a reminder that your {ctx.pick(['payment', 'renewal', 'contribution', 'subscription fee'])} of {due} for account "
                       f"{acct} is due on {W.date(rng, 0)}. " + W.paragraph(rng, 1, 3), tag="p"))
    parts.append(ctx.t(W.paragraph(rng, 2, 4), tag="p"))
    parts.append(ctx.t(f"Yours sincerely, {comp}", style="margin:12px 0 24px 0"))
    parts.append('<div style="border-top:2px dashed #555;margin:10px 0 14px 0"></div>')
    parts.append(ctx.t("Please return this part with your payment.", style="font-style:italic;margin-bottom:8px"))
    parts.append('<div style="border:1px solid #444;padding:12px">')
    for lbl, v in [("Name", person), ("Account number", acct), ("Amount due", due), ("Amount paid", "")]:
        parts.append(ctx.unit(f'<span style="width:170px;display:inline-block">{lbl}:</span><span>{esc(v)}</span>',
                              style="border-bottom:1px dotted #777;padding:4px 0", text=f"{lbl}: {v}".strip()))
    parts.append("</div>")
    return _wrap(ctx, "".join(parts), scan=scan)


def report(ctx, scan=None):
    rng = ctx.rng
    _page_css(ctx, ctx.pick([ctx.serif, ctx.sans]))
    comp = W.company(rng)
    year = rng.choice([2024, 2025, 2026])
    parts = [ctx.unit(f'<span>{esc(comp)}</span><span>{ctx.pick(["Annual Report", "Quarterly Review", "Project Report", "Audit Summary"])} {year}</span>',
                      style="display:flex;justify-content:space-between;font-size:0.85em;color:#555;border-bottom:1px solid #999;margin-bottom:18px")]
    sec = rng.randint(1, 6)
    for s in range(rng.randint(2, 3)):
        parts.append(ctx.t(f"{sec + s}. {W.heading(rng)}", tag="h2", style=f"font-size:{ctx.fs + 6}px;margin:6px 0 8px 0"))
        for sub in range(rng.randint(1, 2)):
            if ctx.chance(0.5):
                parts.append(ctx.t(f"{sec + s}.{sub + 1} {W.heading(rng)}", tag="h3", style=f"font-size:{ctx.fs + 2}px;margin:4px 0 6px 0"))
            parts.append(ctx.t(W.paragraph(rng, 3, 5), tag="p", style="text-align:justify"))
        if ctx.chance(0.35):
            parts.append(ctx.t(f"Table {sec + s}. {W.cap(W.pick(rng, W.NOUNS))} by quarter", style="font-weight:bold;margin:6px 0 4px 0;font-size:0.9em"))
            cols = ["Item", "Q1", "Q2", "Q3", "Q4"]
            rows = [ctx.unit("".join(f'<th style="padding:3px 10px;border-bottom:1px solid #333;text-align:{"left" if i == 0 else "right"}">{c}</th>'
                                     for i, c in enumerate(cols)), tag="tr", text=" ".join(cols))]
            for _ in range(rng.randint(2, 4)):
                vals = [W.cap(W.pick(rng, W.NOUNS))] + [str(rng.randint(10, 999)) for _ in range(4)]
                rows.append(ctx.unit("".join(f'<td style="padding:3px 10px;text-align:{"left" if i == 0 else "right"}">{esc(v)}</td>' for i, v in enumerate(vals)),
                                     tag="tr", text=" ".join(vals)))
            parts.append(f'<table style="border-collapse:collapse;margin:0 auto 12px 0">{"".join(rows)}</table>')
    n = rng.randint(2, 40)
    parts.append(ctx.t(f"Page {n} of {n + rng.randint(0, 30)}", style="text-align:center;font-size:0.85em;color:#555;margin-top:16px"))
    return _wrap(ctx, "".join(parts), scan=scan)


def book(ctx, scan=None):
    rng = ctx.rng
    _page_css(ctx, ctx.serif)
    chap = W.heading(rng)
    page = rng.randint(3, 380)
    parts = [ctx.unit(f'<span>{page}</span><span style="font-style:italic">{esc(chap)}</span><span></span>',
                      style="display:flex;justify-content:space-between;font-size:0.85em;margin-bottom:20px", text=f"{page} {chap}")]
    if ctx.chance(0.4):
        parts.append(ctx.t(f"Chapter {rng.randint(1, 24)}", style="text-align:center;font-size:1.3em;margin:20px 0 4px 0"))
        parts.append(ctx.t(chap, style="text-align:center;font-size:1.6em;margin-bottom:20px"))
    for _ in range(rng.randint(4, 9)):
        parts.append(ctx.t(W.paragraph(rng, 3, 7), tag="p", style="text-align:justify;text-indent:1.5em;margin:0"))
    return _wrap(ctx, f'<div style="line-height:1.55">{"".join(parts)}</div>', scan=scan)


def scan(ctx):
    which = ctx.pick(["letter", "article", "invoice", "formletter", "report", "receipt", "book"])
    ctx.p.meta["scanned"] = which
    ctx.p.template = "scan_" + which
    fn = {"letter": letter, "article": article, "invoice": invoice, "formletter": formletter, "report": report,
          "receipt": receipt, "book": book}[which]
    return fn(ctx, scan=True)


def article2(ctx):
    return article(ctx, cols=2)


def _sized(fn):
    """Most pages are shown at a zoom that fits the window, so the text grows with the
    window; a quarter keep the small base size (a zoomed-out viewer)."""
    def run(ctx):
        rng = ctx.rng
        if rng.random() < 0.75:
            ctx.fs = max(11, min(20, round(ctx.p.width * rng.uniform(0.5, 0.8) / rng.uniform(38, 56))))
        return fn(ctx)
    return run


DOCUMENTS = {name: _sized(fn) for name, fn in [
    ("letter", letter), ("article", article), ("article2", article2), ("invoice", invoice), ("receipt", receipt),
    ("formletter", formletter), ("report", report), ("book", book), ("scan", scan)]}
