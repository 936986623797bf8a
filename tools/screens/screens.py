"""Screen templates: each `name(ctx)` returns the body HTML of one screenshot and
registers its text, in reading order, through ctx.t / ctx.unit."""

import calendar

import words as W
from common import frame, hsl
from page import esc


def _base(ctx, extra=""):
    pal = ctx.pal
    ctx.css(f"body{{background:{pal.bg};color:{pal.fg};font:{ctx.fs}px/1.4 '{ctx.ui}',sans-serif}}{extra}")


def _btn(ctx, text, primary=False, danger=False, style=""):
    pal = ctx.pal
    if primary or danger:
        bg = pal.danger if danger else pal.accent
        st = f"background:{bg};color:{pal.on_accent if not danger else '#fff'};border:1px solid {bg};font-weight:bold;"
    else:
        st = f"background:{pal.panel};color:{pal.fg};border:1px solid {pal.border};"
    r = ctx.rng.choice([3, 4, 6, 8, 18])
    return ctx.t(text, tag="span", style=f"display:inline-block;white-space:nowrap;padding:6px 16px;border-radius:{r}px;{st}{style}")


def _field(ctx, value, placeholder=False, width="100%", icon=None):
    pal = ctx.pal
    col = pal.muted if placeholder else pal.fg
    ic = icon or ""
    v = ctx.t(value, tag="span", style=f"color:{col};white-space:nowrap;overflow:hidden") if value else ""
    return (f'<div style="display:flex;align-items:center;gap:8px;width:{width};height:{int(ctx.fs * 2.3)}px;'
            f'padding:0 10px;border:1px solid {pal.border};border-radius:{ctx.pick([2, 4, 6])}px;'
            f'background:{pal.field}">{ic}{v}</div>')


def _chrome_kind(ctx, web=True):
    r = ctx.rng.random()
    if web:
        return "browser" if r < 0.6 else ("desktop" if r < 0.72 else "none")
    return "window" if r < 0.5 else ("desktop" if r < 0.75 else "none")


# ------------------------------------------------------------------------------------------
def signin(ctx):
    rng, pal = ctx.rng, ctx.pal
    brand = W.company(rng)
    layout = ctx.pick(["center", "center", "split", "brand"])

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        tag = ""
        if layout == "brand":
            tag = ctx.t(W.title(rng), style="font-size:30px;font-weight:bold;color:#fff;padding:40px;line-height:1.2")
        card = [ctx.t(brand, style=f"font-size:{fs + 6}px;font-weight:bold;color:{pal.accent};margin-bottom:14px"),
                ctx.t(ctx.pick(["Sign in", "Log in", "Welcome back", "Sign in to your account", "Log in to continue"]),
                      style=f"font-size:{fs + 8}px;font-weight:bold;margin-bottom:6px")]
        if ctx.chance(0.6):
            card.append(ctx.t(ctx.pick([f"Use your {brand} account", "Enter your details below",
                                        "Good to see you again.", f"Continue to {W.cap(W.pick(rng, W.NOUNS))}"]),
                              style=f"color:{pal.muted};margin-bottom:16px"))
        user_label = ctx.pick(["Email address", "Email", "Username", "Email or phone"])
        card.append(ctx.t(user_label, style="font-weight:bold;margin:10px 0 5px 0"))
        if ctx.chance(0.6):
            card.append(_field(ctx, W.email(rng)))
        else:
            card.append(_field(ctx, ctx.pick(["name@example.com", "you@company.com", "Enter your email"]), placeholder=True))
        card.append(f'<div style="display:flex;justify-content:space-between;margin:12px 0 5px 0">'
                    f'{ctx.t("Password", tag="span", style="font-weight:bold")}'
                    f'{ctx.t(ctx.pick(["Forgot password?", "Forgot your password?", "Reset password"]), tag="span", style=f"color:{pal.link}")}</div>')
        dots = "".join(f'<span style="display:inline-block;width:8px;height:8px;border-radius:50%;background:{pal.fg};margin-right:4px"></span>'
                       for _ in range(rng.randint(0, 12)))
        card.append(f'<div style="display:flex;align-items:center;height:{int(fs * 2.3)}px;padding:0 10px;'
                    f'border:1px solid {pal.accent};border-radius:4px;background:{pal.field}">{dots}</div>')
        if ctx.chance(0.6):
            card.append(f'<div style="display:flex;gap:8px;align-items:center;margin-top:12px">{ctx.checkbox(ctx.chance(0.5))}'
                        f'{ctx.t(ctx.pick(["Keep me signed in", "Remember me", "Stay signed in"]), tag="span")}</div>')
        card.append(f'<div style="margin-top:16px">{_btn(ctx, ctx.pick(["Sign in", "Log in", "Continue", "Next"]), primary=True, style="display:block;text-align:center;padding:9px")}</div>')
        if ctx.chance(0.5):
            card.append(ctx.t("or", style=f"text-align:center;color:{pal.muted};margin:10px 0"))
            for prov in rng.sample(["Google", "Apple", "Microsoft", "GitHub", "Facebook"], rng.randint(1, 3)):
                card.append(f'<div style="margin-top:8px">{_btn(ctx, f"Continue with {prov}", style="display:block;text-align:center")}</div>')
        ask = ctx.pick(["New here?", "No account?", "Don't have an account?"])
        card.append(f'<div style="margin-top:16px;text-align:center">{ctx.t(ask, tag="span", style=f"color:{pal.muted}")} '
                    f'{ctx.t(ctx.pick(["Create an account", "Sign up", "Register now"]), tag="span", style=f"color:{pal.link};font-weight:bold")}</div>')
        cw = min(420, w - 40)
        card_html = (f'<div style="width:{cw}px;padding:28px 32px;background:{pal.bg};border:1px solid {pal.border};'
                     f'border-radius:{ctx.pick([0, 6, 12])}px;box-shadow:0 4px 18px {pal.shadow}">{"".join(card)}</div>')
        foot = (f'<div style="position:absolute;bottom:14px;left:0;right:0;display:flex;justify-content:center;gap:22px;'
                f'font-size:{max(11, fs - 2)}px;color:{pal.muted}">'
                + "".join(ctx.t(x, tag="span") for x in rng.sample(["Privacy", "Terms", "Help", "Contact", "Cookies", "About"], 3))
                + "</div>")
        if layout == "split":
            img = ctx.photo("width:100%;height:100%")
            left = img or f'<div style="width:100%;height:100%;background:{pal.accent}"></div>'
            return (f'<div style="display:flex;width:100%;height:100%"><div style="flex:1.2;overflow:hidden">{left}</div>'
                    f'<div style="flex:1;position:relative;display:flex;align-items:center;justify-content:center;'
                    f'background:{pal.panel}">{card_html}{foot}</div></div>')
        if layout == "brand":
            return (f'<div style="display:flex;width:100%;height:100%"><div style="flex:1;background:{pal.accent};'
                    f'display:flex;align-items:center">{tag}</div><div style="flex:1.1;position:relative;display:flex;'
                    f'align-items:center;justify-content:center">{card_html}{foot}</div></div>')
        bg = pal.panel if ctx.chance(0.5) else f"linear-gradient(135deg,{pal.panel},{pal.sel})"
        return (f'<div style="position:relative;width:100%;height:100%;background:{bg};display:flex;align-items:center;'
                f'justify-content:center">{card_html}{foot}</div>')

    return frame(ctx, content, _chrome_kind(ctx), tab_title=f"Sign in - {brand}", url=W.url(rng, False) + "/login")


# ------------------------------------------------------------------------------------------
def inbox(ctx):
    rng, pal = ctx.rng, ctx.pal
    app = ctx.pick(["Mail", "Inbox", W.pick(rng, W.COMPANY_A) + " Mail", "Webmail"])

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        sw = int(min(260, max(170, w * 0.18)))
        side = [f'<div style="margin:14px 12px">{_btn(ctx, ctx.pick(["Compose", "New message", "Write"]), primary=True, style="display:block;text-align:center;padding:10px")}</div>']
        folders = [("Inbox", rng.randint(1, 240)), ("Starred", 0), ("Sent", 0), ("Drafts", rng.randint(0, 9)),
                   ("Archive", 0), ("Spam", rng.randint(0, 40)), ("Trash", 0)]
        for i, (f, n) in enumerate(folders):
            sel = f"background:{pal.sel};font-weight:bold;" if i == 0 else ""
            cnt = f'<span style="color:{pal.muted}">{n}</span>' if n else ""
            side.append(ctx.unit(f'{ctx.icon(14, pal.muted, ctx.pick(["folder", "sq", "star"]))}<span style="flex:1">{esc(f)}</span>{cnt}',
                                 style=f"display:flex;gap:10px;align-items:center;padding:5px 14px;margin:0 8px;border-radius:14px;{sel}",
                                 text=f"{f} {n}" if n else f))
        if ctx.chance(0.5):
            side.append(ctx.t("Labels", style=f"padding:14px 20px 4px 20px;color:{pal.muted};font-weight:bold"))
            for lab in rng.sample(W.NOUNS, rng.randint(2, 5)):
                side.append(ctx.unit(f'{ctx.icon(10, shape="circ")}<span>{esc(W.cap(lab))}</span>',
                                     style="display:flex;gap:10px;align-items:center;padding:4px 22px", text=W.cap(lab)))
        search = (f'<div style="padding:10px 16px;border-bottom:1px solid {pal.border}">'
                  + _field(ctx, ctx.pick(["Search mail", "Search", "Search messages"]), placeholder=True, width="60%",
                           icon=ctx.icon(14, pal.muted, "search")) + "</div>")
        rows = []
        n = h // int(fs * 2.6) + 2
        two_line = ctx.chance(0.4)
        for i in range(n):
            sender = W.name(rng) if ctx.chance(0.75) else W.company(rng)
            subj = W.subject(rng)
            snip = W.sentence(rng)
            when = ctx.pick([W.time(rng), f"{W.pick(rng, W.MON)} {rng.randint(1, 28)}", W.pick(rng, W.DY)])
            unread = ctx.chance(0.35)
            wt = "bold" if unread else "normal"
            bg = pal.sel if i == 1 and ctx.chance(0.3) else "transparent"
            if two_line:
                rows.append(
                    f'<div style="padding:8px 16px;border-bottom:1px solid {pal.border};background:{bg}">'
                    + ctx.unit(f'<span style="flex:1;font-weight:{wt}">{esc(sender)}</span><span style="color:{pal.muted}">{esc(when)}</span>',
                               style="display:flex", text=f"{sender} {when}")
                    + ctx.t(subj, style=f"font-weight:{wt};white-space:nowrap;overflow:hidden")
                    + ctx.t(snip, style=f"color:{pal.muted};white-space:nowrap;overflow:hidden") + "</div>")
            else:
                rows.append(ctx.unit(
                    f'{ctx.checkbox(False)}{ctx.icon(14, pal.muted, "star")}'
                    f'<span style="width:{int(w * 0.16)}px;flex:none;font-weight:{wt};white-space:nowrap;overflow:hidden">{esc(sender)}</span>'
                    f'<span style="flex:1;white-space:nowrap;overflow:hidden"><b style="font-weight:{wt}">{esc(subj)}</b>'
                    f'<span style="color:{pal.muted}"> - {esc(snip)}</span></span>'
                    f'<span style="flex:none;font-weight:{wt}">{esc(when)}</span>',
                    style=f"display:flex;gap:12px;align-items:center;padding:7px 16px;border-bottom:1px solid {pal.border};background:{bg}",
                    text=f"{sender} {subj} - {snip} {when}"))
        return (f'<div style="display:flex;height:100%"><div style="width:{sw}px;flex:none;background:{pal.panel};'
                f'overflow:hidden">{"".join(side)}</div><div style="flex:1;overflow:hidden;min-width:0">{search}{"".join(rows)}</div></div>')

    return frame(ctx, content, _chrome_kind(ctx), tab_title=f"Inbox ({rng.randint(1, 99)}) - {app}",
                 url=W.url(rng, False) + "/mail/inbox", win_title=app)


# ------------------------------------------------------------------------------------------
def news(ctx):
    rng, pal = ctx.rng, ctx.pal
    site = f"The {W.pick(rng, W.CITIES)} {ctx.pick(['Herald', 'Times', 'Post', 'Gazette', 'Chronicle', 'Courier', 'Daily'])}"
    headline = W.title(rng)
    with_photo = ctx.chance(0.7)
    serif = ctx.chance(0.5)

    def content(ctx, w, h):
        fs = ctx.fs
        body_font = ctx.serif if serif else ctx.sans
        _base(ctx)
        site_t = ctx.t(site, style=f"font:bold {fs + 14}px {chr(39)}{ctx.serif}{chr(39)};flex:1")
        sub = _btn(ctx, ctx.pick(["Subscribe", "Sign in", "Log in"]), primary=True) if ctx.chance(0.6) else ""
        nav = "".join(ctx.t(x, tag="span") for x in rng.sample(W.TOPICS, min(len(W.TOPICS), rng.randint(4, 8))))
        header = (f'<div style="padding:12px 28px;border-bottom:{ctx.pick([1, 3])}px solid {pal.fg};display:flex;align-items:center">'
                  f'{site_t}{sub}</div>'
                  f'<div style="display:flex;gap:22px;padding:8px 28px;border-bottom:1px solid {pal.border};font-weight:bold;'
                  f'font-size:{max(11, fs - 1)}px">{nav}</div>')
        main = [ctx.t(W.pick(rng, W.TOPICS), style=f"color:{pal.accent};font-weight:bold;margin-bottom:6px"),
                ctx.t(headline, tag="h1", style=f"font:bold {fs + rng.randint(10, 20)}px/1.15 '{ctx.serif if serif else ctx.ui}';margin:0 0 10px 0"),
                ctx.t(W.paragraph(rng, 1, 2), style=f"font-size:{fs + 2}px;color:{pal.muted};margin-bottom:10px"),
                ctx.t(f"By {W.name(rng)} · {W.date(rng)}", style=f"font-size:{max(11, fs - 1)}px;margin-bottom:14px")]
        if with_photo:
            img = ctx.photo(f"width:100%;height:{int(min(h * 0.55, w * 0.32))}px")
            if img:
                main.append(img)
                main.append(ctx.t(W.sentence(rng) + f" Photo: {W.name(rng)}",
                                  style=f"font-size:{max(11, fs - 2)}px;color:{pal.muted};margin:6px 0 14px 0"))
        for _ in range(rng.randint(4, 8)):
            main.append(ctx.t(W.paragraph(rng, 2, 4), tag="p", style=f"font:{fs + 1}px/1.55 '{body_font}';margin:0 0 12px 0"))
        side = ""
        if w > 1050 and ctx.chance(0.7):
            items = [ctx.t(ctx.pick(["Most read", "Popular", "Trending now", "Latest"]),
                           style=f"font-weight:bold;font-size:{fs + 3}px;border-bottom:2px solid {pal.accent};padding-bottom:4px;margin-bottom:10px")]
            for i in range(rng.randint(4, 7)):
                items.append(ctx.unit(f'<span style="font-size:{fs + 8}px;color:{pal.accent};font-weight:bold;width:24px;flex:none">{i + 1}</span>'
                                      f'<span>{esc(W.title(rng))}</span>', style=f"display:flex;gap:10px;padding:8px 0;border-bottom:1px solid {pal.border}",
                                      text=None))
            side = f'<div style="width:{int(w * 0.26)}px;flex:none">{"".join(items)}</div>'
        return (f'<div style="height:100%;overflow:hidden">{header}<div style="display:flex;gap:36px;padding:20px 28px;'
                f'max-width:1200px;margin:0 auto"><div style="flex:1;min-width:0">{"".join(main)}</div>{side}</div></div>')

    return frame(ctx, content, _chrome_kind(ctx), tab_title=f"{headline} - {site}",
                 url=W.url(rng, False) + "/" + W.pick(rng, W.TOPICS).lower() + "/" + "-".join(headline.lower().split()[:4]))


# ------------------------------------------------------------------------------------------
DIALOGS = ["save", "delete", "error", "update", "permission", "quit", "replace", "discard"]


def _dialog_text(ctx):
    rng = ctx.rng
    kind = ctx.pick(DIALOGS)
    app = ctx.pick(["Writer", "Calc", "Notes", "Photos", "Music", "Maps", "Editor", "Mail", "Studio",
                    W.pick(rng, W.COMPANY_A) + " " + ctx.pick(["Office", "Player", "Draw", "Sync"])])
    fn = W.filename(rng)
    if kind == "save":
        title = ctx.pick(["Save changes?", "Save Document?", app, "Unsaved changes"])
        msg = [f'Save changes to "{fn}" before closing?',
               ctx.pick(["Your changes will be lost if you don't save them.",
                         "If you don't save, your changes will be lost.", ""])]
        btns = ctx.pick([["Don't Save", "Cancel", "Save"], ["Save", "Don't Save", "Cancel"],
                         ["Close without Saving", "Cancel", "Save"]])
        prim = "Save"
    elif kind == "delete":
        title = ctx.pick(["Delete file?", "Delete permanently?", "Move to Trash?", "Confirm delete"])
        msg = [f'Are you sure you want to permanently delete "{fn}"?',
               ctx.pick(["This action cannot be undone.", "You can't undo this action.", ""])]
        btns = ["Cancel", "Delete"]
        prim = "Delete"
    elif kind == "error":
        host = W.url(rng, False)
        title = ctx.pick(["Connection failed", "Error", "Something went wrong", "Network error"])
        msg = [f"Could not connect to {host}.",
               ctx.pick(["Check your network connection and try again.", "The server did not respond in time.",
                         f"Error code {rng.randint(100, 599)}: the request timed out."])]
        btns = ctx.pick([["Details", "OK"], ["Cancel", "Retry"], ["OK"]])
        prim = btns[-1]
    elif kind == "update":
        v = f"{rng.randint(1, 12)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}"
        title = ctx.pick(["Software Update", "Update available", f"{app} Update"])
        msg = [f"A new version of {app} is available.", f"Version {v} includes {W.pick(rng, W.ADJS)} {W.pick(rng, W.NOUNS)} fixes and improvements."]
        btns = ctx.pick([["Remind Me Later", "Install Now"], ["Skip This Version", "Later", "Update"], ["Not Now", "Restart"]])
        prim = btns[-1]
    elif kind == "permission":
        thing = ctx.pick(["camera", "microphone", "location", "contacts", "photos", "files"])
        title = f'"{app}" would like to access your {thing}.'
        msg = [ctx.pick([f"This lets {app} use your {thing} for {W.plural(W.pick(rng, W.NOUNS))}.", "You can change this later in Settings."]), ""]
        btns = ctx.pick([["Don't Allow", "Allow"], ["Block", "Allow"], ["Deny", "Allow Once", "Always Allow"]])
        prim = "Allow" if "Allow" in btns else btns[-1]
    elif kind == "quit":
        title = f"Quit {app}?"
        msg = [ctx.pick([f"You have {rng.randint(2, 9)} unsent messages.", f"{rng.randint(2, 6)} downloads are still in progress.",
                         "Any running tasks will be stopped."]), ""]
        btns = ["Cancel", "Quit"]
        prim = "Quit"
    elif kind == "replace":
        title = ctx.pick(["Replace file?", "File already exists"])
        msg = [f'A file named "{fn}" already exists in "{W.cap(W.pick(rng, W.NOUNS))}".',
               "Do you want to replace it with the one you are moving?"]
        btns = ctx.pick([["Keep Both", "Stop", "Replace"], ["Cancel", "Replace"], ["Skip", "Replace"]])
        prim = "Replace"
    else:
        title = ctx.pick(["Discard draft?", "Leave page?", "Discard changes?"])
        msg = [ctx.pick(["Changes you made may not be saved.", "Your draft will be deleted.", "You have unsaved edits in this form."]), ""]
        btns = ctx.pick([["Cancel", "Discard"], ["Stay", "Leave"], ["Keep Editing", "Discard"]])
        prim = btns[-1]
    check = ctx.pick(["Don't ask me again", "Do not show this message again", "Remember my choice"]) if ctx.chance(0.25) else None
    return kind, app, title, [m for m in msg if m], btns, prim, check


def dialog(ctx):
    rng, pal = ctx.rng, ctx.pal
    kind, app, title, msg, btns, prim, check = _dialog_text(ctx)
    ctx.p.meta["dialog"] = kind
    style = ctx.pick(["mac", "win", "gnome", "web"])

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        # a textless application behind, dimmed
        bars = "".join(f'<div style="height:{rng.randint(8, 14)}px;width:{rng.randint(30, 95)}%;background:{pal.panel2};'
                       f'margin:{rng.randint(10, 20)}px 0;border-radius:3px"></div>' for _ in range(rng.randint(6, 20)))
        behind = (f'<div style="position:absolute;inset:0;display:flex"><div style="width:{rng.randint(0, 260)}px;'
                  f'background:{pal.panel}"></div><div style="flex:1;padding:30px">{bars}</div></div>'
                  f'<div style="position:absolute;inset:0;background:{pal.dim}"></div>')
        dw = min(w - 40, rng.randint(360, 560))
        icon = ""
        if ctx.chance(0.5):
            icon = ctx.icon(rng.choice([32, 40, 48]), pal.danger if kind in ("delete", "error") else pal.accent,
                            ctx.pick(["circ", "round", "doc", "star"]))
        t_html = ctx.t(title, style=f"font-weight:bold;font-size:{fs + ctx.pick([1, 2, 3, 4])}px;margin-bottom:8px")
        m_html = "".join(ctx.t(m, style=f"margin-bottom:6px;color:{pal.fg}") for m in msg)
        c_html = ""
        if check:
            c_html = (f'<div style="display:flex;gap:8px;align-items:center;margin-top:10px">{ctx.checkbox(False)}'
                      f'{ctx.t(check, tag="span")}</div>')
        b_html = []
        for b in btns:
            b_html.append(_btn(ctx, b, primary=(b == prim and kind != "delete"), danger=(b == prim and kind == "delete")))
        if style == "mac":
            body = (f'<div style="text-align:center">{icon and f"<div style={chr(34)}margin-bottom:10px{chr(34)}>{icon}</div>"}{t_html}{m_html}</div>'
                    f'{c_html}<div style="display:flex;gap:10px;justify-content:flex-end;margin-top:18px">{"".join(b_html)}</div>')
            box = f'padding:22px;border-radius:12px'
        elif style == "win":
            tb = (f'<div style="display:flex;align-items:center;height:32px;padding:0 10px;margin:-18px -18px 14px -18px;'
                  f'background:{pal.panel};border-bottom:1px solid {pal.border}"><span style="flex:1"></span>'
                  f'{ctx.icon(12, pal.fg, "x")}</div>')
            body = (f'{tb}<div style="display:flex;gap:16px">{icon}<div>{t_html}{m_html}{c_html}</div></div>'
                    f'<div style="display:flex;gap:8px;justify-content:flex-end;margin:18px -18px -18px -18px;padding:12px 18px;'
                    f'background:{pal.panel}">{"".join(b_html)}</div>')
            box = "padding:18px;border-radius:4px"
        elif style == "gnome":
            bt = "".join(f'<div style="flex:1;text-align:center;padding:10px 0;border-left:1px solid {pal.border}">{b}</div>' for b in b_html)
            body = (f'<div style="text-align:center;padding:22px 22px 16px 22px">{t_html}{m_html}{c_html}</div>'
                    f'<div style="display:flex;border-top:1px solid {pal.border}">{bt}</div>')
            box = "padding:0;border-radius:12px;overflow:hidden"
        else:
            body = (f'<div style="display:flex;align-items:flex-start"><div style="flex:1">{t_html}</div>{ctx.icon(14, pal.muted, "x")}</div>'
                    f'{m_html}{c_html}<div style="display:flex;gap:10px;justify-content:flex-end;margin-top:20px">{"".join(b_html)}</div>')
            box = "padding:24px;border-radius:8px"
        x = (w - dw) // 2 + rng.randint(-30, 30)
        y = int(h * rng.uniform(0.18, 0.34))
        return (f'<div style="position:relative;width:100%;height:100%">{behind}<div style="position:absolute;left:{x}px;top:{y}px;'
                f'width:{dw}px;background:{pal.bg};box-shadow:0 10px 40px rgba(0,0,0,.5);{box}">{body}</div></div>')

    return frame(ctx, content, _chrome_kind(ctx, web=(style == "web")), win_title=app, tab_title=app)


# ------------------------------------------------------------------------------------------
SETTINGS = {
    "General": [("Start at login", "toggle"), ("Check for updates automatically", "toggle"), ("Default browser", "select:Firefox|Chromium|Web"),
                ("Language", "select:English|Deutsch|Español|Français"), ("Reset all settings", "button:Reset")],
    "Appearance": [("Theme", "select:Light|Dark|Automatic"), ("Accent colour", "select:Blue|Green|Orange|Purple"),
                   ("Text size", "slider"), ("Reduce motion", "toggle"), ("Show scroll bars", "select:Always|When scrolling")],
    "Notifications": [("Do not disturb", "toggle"), ("Show previews", "select:Always|Never|When unlocked"),
                      ("Play sound for new messages", "toggle"), ("Badge app icon", "toggle"), ("Notification style", "select:Banners|Alerts|None")],
    "Privacy": [("Location services", "toggle"), ("Send usage statistics", "toggle"), ("Clear browsing data", "button:Clear"),
                ("Block third-party cookies", "toggle"), ("Camera access", "select:Ask|Allow|Block")],
    "Network": [("Wi-Fi", "toggle"), ("Network name", "value"), ("Proxy", "select:None|Manual|Automatic"),
                ("IP address", "ip"), ("Airplane mode", "toggle")],
    "Sound": [("Output device", "select:Speakers|Headphones|HDMI"), ("Volume", "slider"), ("Input device", "select:Built-in microphone|USB microphone"),
              ("Alert sound", "select:Chime|Ping|Bell"), ("Mute when locked", "toggle")],
    "Accessibility": [("Screen reader", "toggle"), ("High contrast", "toggle"), ("Large text", "toggle"),
                      ("Cursor size", "slider"), ("Sticky keys", "toggle"), ("Speech rate", "slider")],
    "Accounts": [("Name", "name"), ("Email", "email"), ("Change password", "button:Change"), ("Two-step verification", "toggle"),
                 ("Sign out of all devices", "button:Sign out")],
}


def settings(ctx):
    rng, pal = ctx.rng, ctx.pal
    cats = list(SETTINGS) + ["Display", "Keyboard", "Power", "Updates", "About", "Storage", "Bluetooth"]
    rng.shuffle(cats)
    shown = [c for c in cats if c in SETTINGS][0]
    cats.remove(shown)
    cats.insert(rng.randrange(0, 4), shown)
    cats = cats[:rng.randint(7, 13)]
    if shown not in cats:
        cats[0] = shown

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        side = [f'<div style="padding:12px">{_field(ctx, "Search settings", placeholder=True, icon=ctx.icon(13, pal.muted, "search"))}</div>']
        for c in cats:
            sel = f"background:{pal.sel};font-weight:bold;" if c == shown else ""
            side.append(ctx.unit(f'{ctx.icon(16, shape=ctx.pick(["gear", "circ", "round", "sq", "star"]))}<span>{esc(c)}</span>',
                                 style=f"display:flex;gap:10px;align-items:center;padding:7px 14px;margin:1px 8px;border-radius:6px;{sel}", text=c))
        rows = [ctx.t(shown, tag="h2", style=f"font-size:{fs + 10}px;margin:0 0 16px 0")]
        for label, ctl in SETTINGS[shown]:
            lab = ctx.t(label, style="font-weight:500")
            desc = ctx.t(W.sentence(rng), style=f"color:{pal.muted};font-size:{max(11, fs - 2)}px") if ctx.chance(0.45) else ""
            if ctl == "toggle":
                c = ctx.toggle(ctx.chance(0.5))
            elif ctl.startswith("select:"):
                c = (f'<div style="display:flex;gap:8px;align-items:center;padding:5px 10px;border:1px solid {pal.border};'
                     f'border-radius:5px;background:{pal.field}">{ctx.t(ctx.pick(ctl[7:].split("|")), tag="span")}'
                     f'{ctx.icon(12, pal.muted, "caret")}</div>')
            elif ctl == "slider":
                v = rng.randint(10, 90)
                c = (f'<div style="position:relative;width:180px;height:4px;background:{pal.border};border-radius:2px">'
                     f'<div style="width:{v}%;height:4px;background:{pal.accent}"></div><div style="position:absolute;'
                     f'left:{v}%;top:-7px;width:18px;height:18px;border-radius:50%;background:{pal.accent};margin-left:-9px"></div></div>')
            elif ctl.startswith("button:"):
                c = _btn(ctx, ctl[7:], danger=(ctl[7:] in ("Reset", "Sign out")))
            elif ctl == "ip":
                c = ctx.t(f"192.168.{rng.randint(0, 9)}.{rng.randint(2, 254)}", tag="span", style=f"color:{pal.muted}")
            elif ctl == "name":
                c = ctx.t(W.name(rng), tag="span", style=f"color:{pal.muted}")
            elif ctl == "email":
                c = ctx.t(W.email(rng), tag="span", style=f"color:{pal.muted}")
            else:
                c = ctx.t(f"{W.pick(rng, W.COMPANY_A)}-{rng.randint(1, 99)}", tag="span", style=f"color:{pal.muted}")
            rows.append(f'<div style="display:flex;align-items:center;gap:20px;padding:12px 16px;border-bottom:1px solid {pal.border};'
                        f'background:{pal.panel if ctx.chance(0.3) else "transparent"}"><div style="flex:1">{lab}{desc}</div>'
                        f'<div style="flex:none">{c}</div></div>')
        sw = int(min(280, max(180, w * 0.22)))
        return (f'<div style="display:flex;height:100%"><div style="width:{sw}px;flex:none;background:{pal.panel};'
                f'border-right:1px solid {pal.border};overflow:hidden">{"".join(side)}</div>'
                f'<div style="flex:1;padding:24px 32px;overflow:hidden;max-width:900px">{"".join(rows)}</div></div>')

    return frame(ctx, content, _chrome_kind(ctx, web=False), win_title="Settings")


# ------------------------------------------------------------------------------------------
def _table_schema(ctx):
    rng = ctx.rng
    kind = ctx.pick(["customers", "orders", "inventory", "employees", "invoices", "tickets"])
    if kind == "customers":
        cols = ["Name", "Email", "City", "Joined", "Orders"]
        gen = lambda: [W.name(rng), W.email(rng), W.pick(rng, W.CITIES), W.date(rng, 3), str(rng.randint(0, 90))]
    elif kind == "orders":
        cols = ["Order", "Customer", "Date", "Status", "Total"]
        gen = lambda: [f"#{rng.randint(10000, 99999)}", W.name(rng), W.date(rng, 4),
                       W.pick(rng, ["Paid", "Pending", "Shipped", "Refunded", "Cancelled"]), W.money(rng, 5, 900, "$")]
    elif kind == "inventory":
        cols = ["SKU", "Product", "Category", "Stock", "Price"]
        gen = lambda: [f"{W.pick(rng, W.NOUNS)[:3].upper()}-{rng.randint(100, 999)}", f"{W.cap(W.pick(rng, W.ADJS))} {W.pick(rng, W.NOUNS)}",
                       W.pick(rng, W.TOPICS), str(rng.randint(0, 500)), W.money(rng, 1, 300, "$")]
    elif kind == "employees":
        cols = ["Name", "Department", "Role", "Office", "Start date"]
        gen = lambda: [W.name(rng), W.pick(rng, ["Sales", "Finance", "Support", "Design", "Research", "Legal", "Marketing"]),
                       W.pick(rng, ["Manager", "Analyst", "Engineer", "Designer", "Assistant", "Director", "Intern"]),
                       W.pick(rng, W.CITIES), W.date(rng, 2)]
    elif kind == "invoices":
        cols = ["Invoice", "Client", "Issued", "Due", "Amount", "Status"]
        gen = lambda: [f"INV-{rng.randint(1000, 9999)}", W.company(rng), W.date(rng, 4), W.date(rng, 4),
                       W.money(rng, 50, 9000), W.pick(rng, ["Paid", "Overdue", "Draft", "Sent"])]
    else:
        cols = ["ID", "Subject", "Requester", "Priority", "Updated"]
        gen = lambda: [str(rng.randint(1000, 9999)), f"{W.cap(W.pick(rng, W.NOUNS))} {W.pick(rng, ['not working', 'request', 'question', 'error', 'is slow'])}",
                       W.name(rng), W.pick(rng, ["Low", "Normal", "High", "Urgent"]), f"{rng.randint(1, 59)} min ago"]
    return kind, cols, gen


def table(ctx):
    rng, pal = ctx.rng, ctx.pal
    kind, cols, gen = _table_schema(ctx)
    title = W.cap(kind)

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        pad = int(fs * ctx.pick([0.45, 0.6, 0.8]))
        stripes = ctx.chance(0.5)
        # registered in reading order: side menu, title bar, table, pagination
        side = ""
        if ctx.chance(0.5) and w > 1000:
            items = "".join(ctx.unit(f'{ctx.icon(15, shape=ctx.pick(["sq", "circ", "bars", "star"]))}<span>{esc(x)}</span>',
                                     style="display:flex;gap:10px;align-items:center;padding:8px 18px", text=x)
                            for x in ["Dashboard", "Customers", "Orders", "Products", "Reports", "Settings"])
            side = f'<div style="width:200px;flex:none;background:{pal.panel2}">{items}</div>'
        top = (f'<div style="display:flex;align-items:center;gap:14px;margin-bottom:14px">'
               f'{ctx.t(title, tag="h2", style=f"margin:0;font-size:{fs + 8}px;flex:1")}'
               f'{_field(ctx, "Search", placeholder=True, width="220px", icon=ctx.icon(13, pal.muted, "search"))}'
               f'{_btn(ctx, ctx.pick(["Export", "Filter", "Import"]))}{_btn(ctx, ctx.pick(["Add new", "New", "Create"]), primary=True)}</div>')
        head = "".join(f'<th style="text-align:left;padding:{pad}px 12px;white-space:nowrap;border-bottom:2px solid {pal.border}">{esc(c)}</th>' for c in cols)
        rows = [ctx.unit(head, tag="tr", style=f"background:{pal.panel}", text=" ".join(cols))]
        nrows = max(3, min(30, (h - 160) // int(fs * 1.4 + 2 * pad + 1)))
        total = rng.randint(nrows + 1, 2000)
        for i in range(nrows):
            vals = gen()
            bg = pal.panel if (stripes and i % 2) else "transparent"
            cells = "".join(f'<td style="padding:{pad}px 12px;white-space:nowrap;border-bottom:1px solid {pal.border}">{esc(v)}</td>' for v in vals)
            rows.append(ctx.unit(cells, tag="tr", style=f"background:{bg}", text=" ".join(vals)))
        foot = (f'<div style="display:flex;align-items:center;margin-top:12px;color:{pal.muted}">'
                f'{ctx.t(f"Showing 1 to {nrows} of {total:,} entries", tag="span", style="flex:1")}'
                f'<span style="display:flex;gap:6px">{_btn(ctx, "Previous")}{_btn(ctx, "1", primary=True)}{_btn(ctx, "2")}{_btn(ctx, "3")}{_btn(ctx, "Next")}</span></div>')
        return (f'<div style="display:flex;height:100%">{side}<div style="flex:1;padding:20px 24px;overflow:hidden">'
                f'{top}<table style="border-collapse:collapse;width:100%">{"".join(rows)}</table>{foot}</div></div>')

    return frame(ctx, content, _chrome_kind(ctx), tab_title=f"{title} - {W.company(rng)}", url=W.url(rng, False) + "/admin/" + kind,
                 win_title=title)


# ------------------------------------------------------------------------------------------
def notfound(ctx):
    rng, pal = ctx.rng, ctx.pal
    site = W.company(rng)

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        header = ""
        if ctx.chance(0.6):
            site_t = ctx.t(site, style=f"font-weight:bold;font-size:{fs + 4}px;flex:1;color:{pal.accent}")
            nav = "".join(ctx.t(x, tag="span") for x in rng.sample(["Home", "Products", "Pricing", "Blog", "About", "Contact", "Help", "Shop"], rng.randint(3, 6)))
            header = (f'<div style="display:flex;align-items:center;gap:24px;padding:14px 28px;border-bottom:1px solid {pal.border}">'
                      f'{site_t}{nav}</div>')
        big = ctx.pick(["404", "404", "Error 404", "Oops!"])
        parts = [ctx.t(big, style=f"font-size:{rng.randint(64, 140)}px;font-weight:bold;line-height:1;color:{pal.accent}"),
                 ctx.t(ctx.pick(["Page not found", "We can't find that page", "This page doesn't exist", "Nothing to see here"]),
                       style=f"font-size:{fs + 10}px;font-weight:bold;margin:14px 0 8px 0"),
                 ctx.t(ctx.pick(["The page you are looking for might have been removed, had its name changed, or is temporarily unavailable.",
                                 "Sorry, the link you followed may be broken, or the page may have been moved.",
                                 f"We looked everywhere, but the {W.pick(rng, W.NOUNS)} you asked for is not here."]),
                       style=f"color:{pal.muted};max-width:520px;margin:0 auto 20px auto")]
        parts.append(f'<div style="display:flex;gap:12px;justify-content:center">{_btn(ctx, ctx.pick(["Go home", "Back to home", "Take me home"]), primary=True)}'
                     f'{_btn(ctx, ctx.pick(["Contact support", "Report a problem", "Go back"])) if ctx.chance(0.5) else ""}</div>')
        return (f'<div style="height:100%">{header}<div style="text-align:center;padding-top:{int(h * rng.uniform(0.08, 0.22))}px">'
                f'{"".join(parts)}</div></div>')

    return frame(ctx, content, _chrome_kind(ctx), tab_title=f"404 Not Found - {site}", url=W.url(rng, False) + "/" + W.pick(rng, W.NOUNS) + "/" + W.pick(rng, W.NOUNS))


# ------------------------------------------------------------------------------------------
KEYWORDS = {
    "python": ["def", "return", "if", "else", "for", "in", "import", "from", "class", "with", "as", "not", "None", "True"],
    "rust": ["fn", "let", "mut", "pub", "struct", "impl", "match", "return", "use", "if", "else", "for", "in", "Some", "None"],
    "js": ["const", "let", "function", "return", "if", "else", "for", "of", "import", "from", "export", "await", "async", "new"],
}


def _code_lines(ctx, lang, n):
    rng = ctx.rng
    ids = lambda: W.pick(rng, W.NOUNS) + ("_" + W.pick(rng, W.NOUNS) if ctx.chance(0.4) else "")
    out = []
    indent = 0
    while len(out) < n:
        r = rng.random()
        ind = "    " * indent
        if lang == "python":
            if indent == 0 or r < 0.1:
                out.append([("kw", "def" if ctx.chance(0.7) else "class"), ("t", " "), ("fn", ids()),
                            ("t", f"({ids()}, {ids()}):" if ctx.chance(0.7) else "():")])
                indent = 1
            elif r < 0.25:
                out.append([("t", ind), ("cm", "# " + W.sentence(rng)[:-1].lower())])
            elif r < 0.45:
                out.append([("t", ind + ids() + " = "), ("str", f'"{W.pick(rng, W.NOUNS)} {W.pick(rng, W.NOUNS)}"')])
            elif r < 0.6:
                out.append([("t", ind), ("kw", "for"), ("t", f" {W.pick(rng, W.NOUNS)} "), ("kw", "in"), ("t", f" {ids()}:")])
                indent = min(indent + 1, 3)
            elif r < 0.7:
                out.append([("t", ind), ("kw", "return"), ("t", f" {ids()}")])
                indent = 0
                out.append([])
            else:
                out.append([("t", ind + ids() + " = " + ids() + "."), ("fn", W.pick(rng, W.VERBS)), ("t", "("), ("num", str(rng.randint(0, 512))), ("t", ")")])
        elif lang == "rust":
            if indent == 0 or r < 0.08:
                if indent:
                    out.append([("t", "}")])
                    out.append([])
                out.append([("kw", "pub fn" if ctx.chance(0.5) else "fn"), ("t", " "), ("fn", ids()),
                            ("t", f"({W.pick(rng, W.NOUNS)}: &{W.cap(W.pick(rng, W.NOUNS))}) -> usize {{")])
                indent = 1
            elif r < 0.25:
                out.append([("t", ind), ("cm", "// " + W.sentence(rng)[:-1].lower())])
            elif r < 0.5:
                out.append([("t", ind), ("kw", "let"), ("t", f" {ids()} = "), ("str", f'"{W.pick(rng, W.NOUNS)}"'), ("t", ";")])
            elif r < 0.65:
                out.append([("t", ind), ("kw", "let mut"), ("t", f" {ids()} = "), ("num", str(rng.randint(0, 99))), ("t", ";")])
            else:
                out.append([("t", ind + ids() + "."), ("fn", W.pick(rng, W.VERBS)), ("t", f"(&{ids()});")])
        else:
            if indent == 0 or r < 0.08:
                if indent:
                    out.append([("t", "}")])
                    out.append([])
                out.append([("kw", "export function" if ctx.chance(0.5) else "function"), ("t", " "), ("fn", W.pick(rng, W.VERBS) + W.cap(W.pick(rng, W.NOUNS))),
                            ("t", f"({W.pick(rng, W.NOUNS)}) {{")])
                indent = 1
            elif r < 0.25:
                out.append([("t", ind), ("cm", "// " + W.sentence(rng)[:-1].lower())])
            elif r < 0.5:
                out.append([("t", ind), ("kw", "const"), ("t", f" {W.pick(rng, W.NOUNS)} = "), ("str", f"'{W.pick(rng, W.NOUNS)}'"), ("t", ";")])
            elif r < 0.65:
                out.append([("t", ind), ("kw", "await"), ("t", f" {W.pick(rng, W.NOUNS)}."), ("fn", W.pick(rng, W.VERBS)), ("t", "("), ("num", str(rng.randint(0, 99))), ("t", ");")])
            else:
                out.append([("t", ind), ("kw", "if"), ("t", f" ({W.pick(rng, W.NOUNS)}.length > "), ("num", str(rng.randint(0, 9))), ("t", f") {W.pick(rng, W.VERBS)}();")])
    return out[:n]


def editor(ctx):
    rng, pal = ctx.rng, ctx.pal
    lang = ctx.pick(["python", "rust", "js"])
    ext = {"python": "py", "rust": "rs", "js": "js"}[lang]
    files = [f"{W.pick(rng, W.NOUNS)}.{ext}" for _ in range(rng.randint(3, 9))]
    files = list(dict.fromkeys(files))
    cur = files[0]
    dark = ctx.theme == "dark"
    if dark:
        syn = dict(kw=ctx.pick(["#c586c0", "#569cd6", "#ff79c6", "#cc7832"]), fn=ctx.pick(["#dcdcaa", "#50fa7b", "#ffc66d"]),
                   str=ctx.pick(["#ce9178", "#f1fa8c", "#6a8759", "#98c379"]), num="#b5cea8", cm=ctx.pick(["#6a9955", "#7f848e", "#808080"]),
                   t=pal.fg)
    else:
        syn = dict(kw=ctx.pick(["#0000ff", "#a626a4", "#d73a49", "#000080"]), fn=ctx.pick(["#795e26", "#4078f2", "#6f42c1"]),
                   str=ctx.pick(["#a31515", "#50a14f", "#032f62", "#067d17"]), num="#098658", cm=ctx.pick(["#008000", "#a0a1a7", "#6a737d"]),
                   t=pal.fg)

    def content(ctx, w, h):
        fs = max(11, min(17, ctx.fs))
        ctx.css(f"body{{background:{pal.bg};color:{pal.fg};font:{fs}px '{ctx.sans}',sans-serif}}")
        code_font = f"{fs}px/1.5 '{ctx.mono}',monospace"
        side = [ctx.t(ctx.pick(["EXPLORER", "Project", "Files", "FOLDERS"]), style=f"padding:8px 14px;font-size:{max(11, fs - 2)}px;color:{pal.muted};font-weight:bold")]
        side.append(ctx.unit(f'{ctx.icon(12, pal.muted, "caret")}<b>{esc(W.pick(rng, W.NOUNS))}-{W.pick(rng, W.NOUNS)}</b>',
                             style="display:flex;gap:4px;align-items:center;padding:3px 10px"))
        for f in files:
            sel = f"background:{pal.sel};" if f == cur else ""
            side.append(ctx.unit(f'{ctx.icon(12, shape="doc")}<span>{esc(f)}</span>', style=f"display:flex;gap:6px;align-items:center;padding:3px 26px;{sel}", text=f))
        tabs = "".join(ctx.unit(f'{ctx.icon(11, shape="doc")}<span>{esc(f)}</span>{ctx.icon(10, pal.muted, "x")}',
                                style=f"display:flex;gap:7px;align-items:center;padding:0 14px;height:34px;"
                                      f"background:{pal.bg if f == cur else pal.panel};border-right:1px solid {pal.border}", text=f)
                       for f in files[:rng.randint(1, min(4, len(files)))])
        n = int((h - 34 - 24) / (fs * 1.5)) + 1
        lines = _code_lines(ctx, lang, n)
        start = rng.choice([1, 1, rng.randint(10, 300)])
        code = []
        for i, toks in enumerate(lines):
            num = start + i
            inner = "".join(f'<span style="color:{syn[k]}">{esc(v)}</span>' for k, v in toks)
            code.append(ctx.unit(f'<span style="display:inline-block;width:4.5em;text-align:right;padding-right:1.5em;color:{pal.muted};'
                                 f'flex:none">{num}</span><span style="white-space:pre">{inner}</span>',
                                 style=f"display:flex;white-space:pre;font:{code_font}"))
        status = (f'<div style="position:absolute;left:0;right:0;bottom:0;height:24px;display:flex;gap:18px;align-items:center;'
                  f'padding:0 12px;background:{pal.accent};color:{pal.on_accent};font-size:{max(11, fs - 2)}px">'
                  + ctx.t(f"main", tag="span") + ctx.t(f"Ln {rng.randint(1, n)}, Col {rng.randint(1, 60)}", tag="span", style="margin-left:auto")
                  + ctx.t("Spaces: 4", tag="span") + ctx.t("UTF-8", tag="span")
                  + ctx.t({"python": "Python", "rust": "Rust", "js": "JavaScript"}[lang], tag="span") + "</div>")
        act = ""
        if ctx.chance(0.6):
            act = (f'<div style="width:48px;flex:none;background:{pal.panel2};display:flex;flex-direction:column;align-items:center;'
                   f'gap:22px;padding-top:14px">' + "".join(ctx.icon(22, pal.muted, s) for s in ["doc", "search", "gear", "bars"]) + "</div>")
        sw = int(min(260, max(160, w * 0.17)))
        return (f'<div style="position:relative;display:flex;height:100%">{act}<div style="width:{sw}px;flex:none;background:{pal.panel};'
                f'overflow:hidden">{"".join(side)}</div><div style="flex:1;min-width:0;overflow:hidden">'
                f'<div style="display:flex;background:{pal.panel}">{tabs}</div><div style="padding-top:6px">{"".join(code)}</div></div>{status}</div>')

    return frame(ctx, content, ctx.pick(["window", "window", "desktop", "none"]), win_title=f"{cur} - {W.pick(rng, W.NOUNS)} - {ctx.pick(['Code', 'Editor', 'IDE'])}")


# ------------------------------------------------------------------------------------------
def _shell_session(ctx, prompt_fn, n):
    rng = ctx.rng
    out = []  # (prompt or None, text, colour key)
    while len(out) < n:
        c = rng.randrange(12)
        pr = prompt_fn()
        if c == 0:
            out.append((pr, "ls"))
            names = [W.filename(rng) for _ in range(rng.randint(3, 8))] + [W.pick(rng, W.NOUNS) for _ in range(rng.randint(1, 3))]
            line = []
            for nm in names:
                line.append(nm)
                if len(line) == 4:
                    out.append((None, "  ".join(line)))
                    line = []
            if line:
                out.append((None, "  ".join(line)))
        elif c == 1:
            out.append((pr, "ls -l"))
            out.append((None, f"total {rng.randint(8, 400)}"))
            for _ in range(rng.randint(3, 7)):
                d = ctx.chance(0.3)
                out.append((None, f"{'d' if d else '-'}rw{'x' if d else '-'}r--r-- 1 {ctx.user} {ctx.user} {rng.randint(90, 99999):>6} "
                                  f"{W.pick(rng, W.MON)} {rng.randint(1, 28):>2} {rng.randrange(24):02d}:{rng.randrange(60):02d} "
                                  f"{W.pick(rng, W.NOUNS) if d else W.filename(rng)}"))
        elif c == 2:
            out.append((pr, "git status"))
            out.append((None, f"On branch {ctx.pick(['main', 'master', 'dev', 'fix-' + W.pick(rng, W.NOUNS)])}"))
            if ctx.chance(0.5):
                out.append((None, "nothing to commit, working tree clean"))
            else:
                out.append((None, "Changes not staged for commit:"))
                for _ in range(rng.randint(1, 3)):
                    out.append((None, f"        modified:   src/{W.pick(rng, W.NOUNS)}.rs"))
        elif c == 3:
            out.append((pr, "git log --oneline -3"))
            for _ in range(3):
                out.append((None, f"{rng.getrandbits(28):07x} {W.cap(W.pick(rng, W.VERBS))} {W.pick(rng, W.NOUNS)} {W.pick(rng, W.NOUNS)}"))
        elif c == 4:
            host = W.url(rng, False)
            out.append((pr, f"ping -c 3 {host}"))
            ip = f"{rng.randint(10, 200)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            out.append((None, f"PING {host} ({ip}) 56(84) bytes of data."))
            for i in range(3):
                out.append((None, f"64 bytes from {ip}: icmp_seq={i + 1} ttl=57 time={rng.uniform(5, 90):.1f} ms"))
        elif c == 5:
            out.append((pr, "df -h"))
            out.append((None, "Filesystem      Size  Used Avail Use% Mounted on"))
            for dev, mnt in [("/dev/sda1", "/"), ("/dev/sda2", "/home"), ("tmpfs", "/run")][:rng.randint(1, 3)]:
                s = rng.randint(20, 900)
                u = rng.randint(1, s)
                out.append((None, f"{dev:<15} {s:>4}G {u:>4}G {s - u:>4}G {100 * u // s:>3}% {mnt}"))
        elif c == 6:
            sc = W.pick(rng, W.NOUNS) + ".py"
            out.append((pr, f"python3 {sc}"))
            out.append((None, "Traceback (most recent call last):"))
            out.append((None, f'  File "{sc}", line {rng.randint(2, 200)}, in <module>'))
            out.append((None, f"    {W.pick(rng, W.NOUNS)}({W.pick(rng, W.NOUNS)})"))
            out.append((None, ctx.pick([f"KeyError: '{W.pick(rng, W.NOUNS)}'", f"NameError: name '{W.pick(rng, W.NOUNS)}' is not defined",
                                        "ZeroDivisionError: division by zero", f"FileNotFoundError: No such file or directory: '{W.filename(rng)}'"])))
        elif c == 7:
            out.append((pr, "cargo build --release"))
            for _ in range(rng.randint(1, 3)):
                out.append((None, f"   Compiling {W.pick(rng, W.NOUNS)} v0.{rng.randint(1, 30)}.{rng.randint(0, 9)}"))
            out.append((None, f"    Finished release profile [optimized] target(s) in {rng.uniform(1, 90):.2f}s"))
        elif c == 8:
            out.append((pr, f"cat {W.pick(rng, W.NOUNS)}.txt"))
            for _ in range(rng.randint(1, 3)):
                out.append((None, W.sentence(rng)))
        elif c == 9:
            pkg = W.pick(rng, W.NOUNS) + ctx.pick(["", "-utils", "-dev", "d"])
            out.append((pr, f"sudo apt install {pkg}"))
            out.append((None, "Reading package lists... Done"))
            out.append((None, "Building dependency tree... Done"))
            out.append((None, f"0 upgraded, {rng.randint(1, 9)} newly installed, 0 to remove and {rng.randint(0, 40)} not upgraded."))
        elif c == 10:
            out.append((pr, ctx.pick(["pwd", "whoami", "date", "uname -r"])))
            out.append((None, ctx.pick([f"/home/{ctx.user}/{W.pick(rng, W.NOUNS)}", ctx.user, f"{W.pick(rng, W.DY)} {W.pick(rng, W.MON)} {rng.randint(1, 28)} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d} UTC 2026",
                                        f"6.{rng.randint(1, 12)}.0-{rng.randint(1, 40)}-amd64"])))
        else:
            out.append((pr, "ps aux | head -4"))
            out.append((None, "USER         PID %CPU %MEM COMMAND"))
            for _ in range(3):
                out.append((None, f"{ctx.pick(['root', ctx.user]):<12} {rng.randint(1, 30000):>4} {rng.uniform(0, 30):>4.1f} {rng.uniform(0, 9):>4.1f} "
                                  f"{ctx.pick(['/usr/bin/', '/sbin/', ''])}{W.pick(rng, W.NOUNS)}"))
    return out[:n]


def terminal(ctx):
    rng, pal = ctx.rng, ctx.pal
    ctx.user = W.pick(rng, W.FIRST).lower()
    host = ctx.pick(["laptop", "desktop", "server", "pi", W.pick(rng, W.NOUNS)])
    dirs = ["~", f"~/{W.pick(rng, W.NOUNS)}", f"~/projects/{W.pick(rng, W.NOUNS)}", "/tmp", f"/var/{W.pick(rng, W.NOUNS)}"]
    style = ctx.pick(["bash", "bash", "short", "root"])
    dark = ctx.theme == "dark"
    schemes_dark = [("#1e1e1e", "#d4d4d4"), ("#300a24", "#ffffff"), ("#000000", "#c0c0c0"), ("#282a36", "#f8f8f2"),
                    ("#002b36", "#93a1a1"), ("#0c0c0c", "#cccccc"), ("#1d1f21", "#c5c8c6")]
    schemes_light = [("#ffffff", "#222222"), ("#fdf6e3", "#586e75"), ("#f5f5f5", "#333333")]
    bg, fg = ctx.pick(schemes_dark if dark else schemes_light)
    prompt_col = ctx.pick(["#8ae234", "#50fa7b", "#729fcf", "#fce94f", "#87d75f"] if dark else ["#006400", "#005f87", "#8b008b"])
    cur_dir = [ctx.pick(dirs)]

    def prompt():
        if ctx.chance(0.15):
            cur_dir[0] = ctx.pick(dirs)
        d = cur_dir[0]
        if style == "short":
            return f"{d} $"
        if style == "root":
            return f"root@{host}:{d}#"
        return f"{ctx.user}@{host}:{d}$"

    def content(ctx, w, h):
        fs = max(11, min(18, ctx.fs))
        lh = ctx.pick([1.2, 1.3, 1.4])
        ctx.css(f"body{{background:{bg};color:{fg};font:{fs}px/{lh} '{ctx.mono}',monospace}}")
        n = int((h - 16) / (fs * lh))
        sess = _shell_session(ctx, prompt, max(1, n - 1))
        lines = []
        for pr, txt in sess:
            if pr:
                lines.append(ctx.unit(f'<span style="color:{prompt_col};font-weight:bold">{esc(pr)}</span> {esc(txt)}', style="white-space:pre",
                                      text=f"{pr} {txt}"))
            else:
                col = fg
                if txt.startswith(("Traceback", "KeyError", "NameError", "ZeroDivision", "FileNotFound")):
                    col = "#ff6b6b" if dark else "#b00000"
                lines.append(ctx.t(txt, style=f"white-space:pre;color:{col}"))
        last = prompt()
        lines.append(ctx.unit(f'<span style="color:{prompt_col};font-weight:bold">{esc(last)}</span> <span style="display:inline-block;'
                              f'width:{fs * 0.6:.0f}px;height:{fs}px;background:{fg};vertical-align:-2px"></span>', style="white-space:pre", text=last))
        return f'<div style="height:100%;padding:8px 10px;background:{bg};overflow:hidden">{"".join(lines)}</div>'

    title = f"{ctx.user}@{host}: {cur_dir[0]}"
    return frame(ctx, content, ctx.pick(["window", "window", "desktop", "none"]), win_title=title)


# ------------------------------------------------------------------------------------------
def files(ctx):
    rng, pal = ctx.rng, ctx.pal
    folder = ctx.pick(["Documents", "Downloads", "Pictures", "Music", "Projects", "Desktop"])
    grid = ctx.chance(0.4)

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        places = ["Home", "Recent", "Starred", "Desktop", "Documents", "Downloads", "Music", "Pictures", "Videos", "Trash"]
        side = []
        for p in places:
            sel = f"background:{pal.sel};font-weight:bold;" if p == folder else ""
            side.append(ctx.unit(f'{ctx.icon(15, pal.muted, ctx.pick(["folder", "star", "sq"]))}<span>{esc(p)}</span>',
                                 style=f"display:flex;gap:10px;align-items:center;padding:6px 14px;margin:1px 6px;border-radius:6px;{sel}", text=p))
        path = ["Home", folder] + ([W.cap(W.pick(rng, W.NOUNS))] if ctx.chance(0.5) else [])
        crumbs = "".join(f'{ctx.t(p, tag="span", style=f"padding:3px 8px;border-radius:4px;background:{pal.panel}")}'
                         f'{ctx.icon(12, pal.muted, "right") if i < len(path) - 1 else ""}' for i, p in enumerate(path))
        bar = (f'<div style="display:flex;gap:10px;align-items:center;padding:8px 12px;border-bottom:1px solid {pal.border}">'
               f'{ctx.icon(16, pal.muted, "left")}{ctx.icon(16, pal.muted, "right")}<div style="display:flex;gap:4px;align-items:center;flex:1">{crumbs}</div>'
               f'{ctx.icon(16, pal.muted, "search")}{ctx.icon(16, pal.muted, "bars")}</div>')
        items = []
        n = rng.randint(6, 40)
        for _ in range(n):
            if ctx.chance(0.25):
                items.append((W.cap(W.pick(rng, W.NOUNS)) + ctx.pick(["", "s", " " + str(rng.choice([2024, 2025, 2026]))]), True))
            else:
                items.append((W.filename(rng, "jpg" if folder == "Pictures" and ctx.chance(0.7) else None), False))
        if grid:
            cells = []
            for nm, d in items:
                thumb = None
                if not d and nm.endswith((".jpg", ".png")) and ctx.chance(0.7):
                    thumb = ctx.photo("width:96px;height:72px;margin:0 auto;border-radius:3px")
                icon = thumb or ctx.icon(56, pal.accent if d else None, "folder" if d else "doc")
                cells.append(f'<div style="width:120px;text-align:center;padding:8px 4px">{icon}'
                             f'{ctx.t(nm, style=f"font-size:{max(11, fs - 1)}px;margin-top:4px;overflow-wrap:anywhere")}</div>')
            main = f'<div style="display:flex;flex-wrap:wrap;gap:6px;padding:12px;align-content:flex-start">{"".join(cells)}</div>'
        else:
            head = ctx.unit("".join(f'<th style="text-align:left;padding:6px 12px;font-weight:normal;color:{pal.muted};'
                                    f'border-bottom:1px solid {pal.border}">{c}</th>' for c in ["Name", "Size", "Modified"]),
                            tag="tr", text="Name Size Modified")
            rows = [head]
            for i, (nm, d) in enumerate(items):
                sz = f"{rng.randint(0, 80)} items" if d else W.size(rng)
                when = ctx.pick([W.date(rng, 4), W.time(rng), "Yesterday", "Today"])
                bg = pal.sel if ctx.chance(0.08) else ("transparent" if i % 2 else pal.panel if ctx.chance(0.5) else "transparent")
                rows.append(ctx.unit(f'<td style="padding:5px 12px;white-space:nowrap">{ctx.icon(16, pal.accent if d else None, "folder" if d else "doc")} '
                                     f'{esc(nm)}</td><td style="padding:5px 12px;white-space:nowrap">{esc(sz)}</td>'
                                     f'<td style="padding:5px 12px;white-space:nowrap">{esc(when)}</td>', tag="tr",
                                     style=f"background:{bg}", text=f"{nm} {sz} {when}"))
            main = f'<table style="border-collapse:collapse;width:100%">{"".join(rows)}</table>'
        status = ctx.t(f"{n} items, {rng.randint(1, 200)} GB free", style=f"position:absolute;bottom:0;left:0;right:0;padding:4px 12px;"
                                                                          f"background:{pal.panel};border-top:1px solid {pal.border};color:{pal.muted};font-size:{max(11, fs - 2)}px")
        return (f'<div style="display:flex;height:100%"><div style="width:{int(min(230, max(150, w * 0.16)))}px;flex:none;background:{pal.panel};'
                f'padding-top:8px;overflow:hidden">{"".join(side)}</div><div style="flex:1;position:relative;min-width:0;overflow:hidden">'
                f'{bar}<div style="overflow:hidden;height:calc(100% - 80px)">{main}</div>{status}</div></div>')

    return frame(ctx, content, ctx.pick(["window", "window", "desktop", "none"]), win_title=folder)


# ------------------------------------------------------------------------------------------
def chat(ctx):
    rng, pal = ctx.rng, ctx.pal
    me = W.name(rng)
    other = W.name(rng)
    app = ctx.pick(["Chat", "Messages", "Messenger", W.pick(rng, W.COMPANY_A) + " Chat"])

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        side = [f'<div style="padding:10px">{_field(ctx, "Search", placeholder=True, icon=ctx.icon(13, pal.muted, "search"))}</div>']
        contacts = [other] + [W.name(rng) if ctx.chance(0.8) else f"{W.cap(W.pick(rng, W.NOUNS))} team" for _ in range(rng.randint(4, 12))]
        for i, c in enumerate(contacts):
            sel = f"background:{pal.sel};" if i == 0 else ""
            last = W.sentence(rng)
            side.append(f'<div style="display:flex;gap:10px;padding:8px 12px;{sel}">{ctx.avatar(36)}<div style="flex:1;min-width:0">'
                        + ctx.unit(f'<span style="flex:1;font-weight:bold">{esc(c)}</span><span style="color:{pal.muted};font-size:{max(11, fs - 2)}px">{esc(W.time(rng))}</span>',
                                   style="display:flex")
                        + ctx.t(last, style=f"color:{pal.muted};white-space:nowrap;overflow:hidden")
                        + "</div></div>")
        head = (f'<div style="flex:none;display:flex;gap:12px;align-items:center;padding:10px 16px;border-bottom:1px solid {pal.border}">'
                f'{ctx.avatar(38)}<div style="flex:1">{ctx.t(other, style="font-weight:bold")}'
                f'{ctx.t(ctx.pick(["online", "last seen today at " + W.time(rng), "typing...", "Active now"]), style=f"color:{pal.muted};font-size:{max(11, fs - 2)}px")}'
                f'</div>{ctx.icon(18, pal.muted, "search")}{ctx.icon(18, pal.muted, "dots")}</div>')
        msgs = [ctx.t(ctx.pick(["Today", "Yesterday", W.date(rng, 0)]), style=f"align-self:center;padding:3px 12px;border-radius:10px;background:{pal.panel};"
                                                                             f"color:{pal.muted};font-size:{max(11, fs - 2)}px")]
        mine_bg = pal.accent
        for _ in range(rng.randint(5, 14)):
            mine = ctx.chance(0.5)
            txt = W.sentence(rng) if ctx.chance(0.7) else W.paragraph(rng, 2, 3)
            if ctx.chance(0.3):
                txt = ctx.pick(["Sounds good!", "Thanks!", "See you then.", "OK", "On my way", "Ha, nice one", "Sure, why not?"])
            st = (f"align-self:flex-end;background:{mine_bg};color:{pal.on_accent};" if mine else
                  f"align-self:flex-start;background:{pal.panel2};")
            photo = ctx.photo("width:240px;height:170px;border-radius:8px;margin-bottom:4px") if ctx.chance(0.08) else ""
            msgs.append(f'<div style="{st}max-width:62%;padding:8px 12px;border-radius:14px">{photo or ""}{ctx.t(txt)}'
                        f'{ctx.t(W.time(rng), style="font-size:11px;opacity:.75;text-align:right")}</div>')
        inp = (f'<div style="flex:none;display:flex;gap:10px;align-items:center;padding:10px 14px;'
               f'border-top:1px solid {pal.border};background:{pal.bg}">{_field(ctx, ctx.pick(["Type a message", "Message", "Write a reply..."]), placeholder=True)}'
               f'{_btn(ctx, "Send", primary=True)}</div>')
        sw = int(min(320, max(200, w * 0.28)))
        return (f'<div style="display:flex;height:100%"><div style="width:{sw}px;flex:none;border-right:1px solid {pal.border};background:{pal.panel};overflow:hidden">'
                f'{"".join(side)}</div><div style="flex:1;min-width:0;display:flex;flex-direction:column">{head}<div style="flex:1;min-height:0;display:flex;'
                f'flex-direction:column;justify-content:flex-end;gap:8px;padding:12px 18px;overflow:hidden">'
                f'{"".join(msgs)}</div>{inp}</div></div>')

    return frame(ctx, content, _chrome_kind(ctx), tab_title=f"{other} - {app}", url=W.url(rng, False) + "/chat", win_title=app)


# ------------------------------------------------------------------------------------------
def calendar_(ctx):
    rng, pal = ctx.rng, ctx.pal
    year = rng.choice([2025, 2026, 2027])
    month = rng.randint(1, 12)

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        mname = f"{W.MONTHS[month - 1]} {year}"
        top = (f'<div style="display:flex;align-items:center;gap:12px;padding:12px 18px;border-bottom:1px solid {pal.border}">'
               f'{_btn(ctx, "Today")}{ctx.icon(16, pal.muted, "left")}{ctx.icon(16, pal.muted, "right")}'
               f'{ctx.t(mname, style=f"font-size:{fs + 8}px;font-weight:bold;flex:1")}'
               f'<span style="display:flex;gap:4px">{_btn(ctx, "Day")}{_btn(ctx, "Week")}{_btn(ctx, "Month", primary=True)}</span></div>')
        first = ctx.pick([0, 6])  # Monday or Sunday first
        cal = calendar.Calendar(firstweekday=first)
        weeks = cal.monthdayscalendar(year, month)
        days = [W.DY[(first + i) % 7] for i in range(7)]
        head = ctx.unit("".join(f'<div style="flex:1;padding:6px 8px;color:{pal.muted};font-weight:bold">{d}</div>' for d in days),
                        style=f"display:flex;border-bottom:1px solid {pal.border}", text=" ".join(days))
        avail = h - 60 - 34
        rows = []
        today = rng.randint(1, 28)
        for wk in weeks:
            cells = []
            for d in wk:
                if d == 0:
                    cells.append(f'<div style="flex:1;border-right:1px solid {pal.border};background:{pal.panel}"></div>')
                    continue
                evs = []
                for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
                    ev = ctx.pick([f"{W.cap(W.pick(rng, W.NOUNS))} meeting", f"{W.pick(rng, W.FIRST)}'s birthday", "Dentist", "Team lunch",
                                   f"{W.cap(W.pick(rng, W.NOUNS))} review", "Gym", f"Call {W.pick(rng, W.FIRST)}", "Flight to " + W.pick(rng, W.CITIES)])
                    if ctx.chance(0.5):
                        ev = f"{rng.randint(8, 18)}:{ctx.pick(['00', '30'])} {ev}"
                    col = hsl(rng.random(), 55, 45 if ctx.theme == "light" else 35)
                    evs.append(f'<div style="background:{col};color:#fff;border-radius:3px;padding:1px 4px;margin-top:2px;'
                               f'white-space:nowrap;overflow:hidden;font-size:{max(11, fs - 2)}px">{esc(ev)}</div>')
                num_st = (f"display:inline-block;background:{pal.accent};color:{pal.on_accent};border-radius:50%;width:1.8em;text-align:center"
                          if d == today else "")
                cells.append(ctx.unit(f'<span style="{num_st}">{d}</span>{"".join(evs)}',
                                      style=f"flex:1;min-width:0;overflow:hidden;padding:4px 6px;border-right:1px solid {pal.border}"))
            rows.append(f'<div style="display:flex;height:{avail // len(weeks)}px;border-bottom:1px solid {pal.border}">{"".join(cells)}</div>')
        return f'<div style="height:100%;overflow:hidden">{top}{head}{"".join(rows)}</div>'

    return frame(ctx, content, _chrome_kind(ctx), tab_title=f"Calendar - {W.MONTHS[month - 1]} {year}", url=W.url(rng, False) + "/calendar",
                 win_title="Calendar")


# ------------------------------------------------------------------------------------------
def spreadsheet(ctx):
    rng, pal = ctx.rng, ctx.pal
    fname = W.filename(rng, ctx.pick(["ods", "xlsx", "csv"]))

    def content(ctx, w, h):
        fs = max(11, min(15, ctx.fs))
        ctx.css(f"body{{background:{pal.bg};color:{pal.fg};font:{fs}px '{ctx.sans}',sans-serif}}")
        menu = ctx.unit("".join(f'<span>{m}</span>' for m in ["File", "Edit", "View", "Insert", "Format", "Data", "Tools", "Help"]),
                        style="display:flex;gap:18px;padding:6px 12px", text="File Edit View Insert Format Data Tools Help")
        tools = (f'<div style="display:flex;gap:12px;padding:4px 12px;border-bottom:1px solid {pal.border};align-items:center">'
                 + "".join(ctx.icon(16, pal.muted, s) for s in rng.sample(["doc", "folder", "star", "bars", "sq", "circ", "round", "gear"], 6))
                 + ctx.t(ctx.pick(["Arial", "Calibri", "Liberation Sans", "Carlito"]), tag="span", style=f"margin-left:14px;padding:2px 8px;border:1px solid {pal.border}")
                 + ctx.t(str(rng.choice([10, 11, 12])), tag="span", style=f"padding:2px 8px;border:1px solid {pal.border}") + "</div>")
        ncols = max(4, min(12, (w - 50) // rng.choice([90, 100, 110, 120])))
        cw = (w - 50) // ncols
        letters = [chr(65 + i) for i in range(ncols)]
        kind, cols, gen = _table_schema(ctx)
        cols = cols[:ncols]
        sel = f"{ctx.pick(letters[:len(cols)])}{rng.randint(2, 12)}"
        formula = ctx.pick([f"=SUM({letters[min(len(cols) - 1, 3)]}2:{letters[min(len(cols) - 1, 3)]}{rng.randint(10, 30)})",
                            W.name(rng), str(rng.randint(1, 999)), f"=AVERAGE(B2:B{rng.randint(5, 40)})"])
        fbar = (f'<div style="display:flex;gap:10px;align-items:center;padding:4px 8px;border-bottom:1px solid {pal.border}">'
                f'{ctx.t(sel, tag="span", style=f"width:70px;padding:2px 6px;border:1px solid {pal.border}")}'
                f'<span style="font-style:italic;color:{pal.muted}">{ctx.t("fx", tag="span")}</span>'
                f'{ctx.t(formula, tag="span")}</div>')
        grid_bg = pal.panel
        st_cell = f"width:{cw}px;flex:none;padding:2px 5px;border-right:1px solid {pal.border};white-space:nowrap;overflow:hidden"
        head = ctx.unit(f'<span style="width:50px;flex:none;border-right:1px solid {pal.border}"></span>'
                        + "".join(f'<span style="{st_cell};text-align:center">{c}</span>' for c in letters),
                        style=f"display:flex;background:{grid_bg};border-bottom:1px solid {pal.border}", text=" ".join(letters))
        rows = [head]
        nrows = int((h - 130) / (fs * 1.45 + 5))
        filled = rng.randint(6, 40)
        for r in range(1, nrows + 1):
            if r == 1:
                vals = cols
            elif r <= filled and not ctx.chance(0.06):
                vals = gen()[:len(cols)]
            else:
                vals = []
            def fit(v):
                maxc = int((cw - 10) / (fs * 0.62))
                return v if len(v) <= maxc else v[:max(1, maxc)].rstrip()
            vals = [fit(v) for v in vals]
            cells = "".join(f'<span style="{st_cell};{"font-weight:bold;" if r == 1 else ""}">{esc(v)}</span>' for v in vals)
            cells += "".join(f'<span style="{st_cell}"></span>' for _ in range(ncols - len(vals)))
            rows.append(ctx.unit(f'<span style="width:50px;flex:none;text-align:center;background:{grid_bg};border-right:1px solid {pal.border};'
                                 f'color:{pal.muted}">{r}</span>{cells}',
                                 style=f"display:flex;border-bottom:1px solid {pal.border};line-height:1.45;padding:2px 0",
                                 text=" ".join([str(r)] + vals)))
        tabs = "".join(ctx.t(f"Sheet{i + 1}" if ctx.chance(0.7) else W.cap(W.pick(rng, W.NOUNS)), tag="span",
                             style=f"padding:3px 14px;{'background:' + pal.bg + ';font-weight:bold' if i == 0 else ''}")
                       for i in range(rng.randint(1, 4)))
        bottom = (f'<div style="position:absolute;left:0;right:0;bottom:0;display:flex;gap:2px;padding:2px 8px;background:{pal.panel};'
                  f'border-top:1px solid {pal.border}">{tabs}</div>')
        return (f'<div style="position:relative;height:100%;overflow:hidden">{menu}{tools}{fbar}<div style="overflow:hidden;height:calc(100% - 120px)">'
                f'{"".join(rows)}</div>{bottom}</div>')

    return frame(ctx, content, ctx.pick(["window", "window", "desktop", "browser"]), win_title=f"{fname} - {ctx.pick(['Calc', 'Sheets', 'Spreadsheet'])}",
                 tab_title=fname, url=W.url(rng, False) + "/spreadsheets/" + W.pick(rng, W.NOUNS))


# ------------------------------------------------------------------------------------------
def search(ctx):
    rng, pal = ctx.rng, ctx.pal
    engine = ctx.pick(["Findr", "Seekly", "Lookup", "Querio", "Searchly", "Bingo"])
    query = " ".join(rng.sample(W.NOUNS + W.ADJS, rng.randint(2, 4)))

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        top = (f'<div style="display:flex;gap:26px;align-items:center;padding:16px 24px 8px 24px">'
               f'{ctx.t(engine, style=f"font-size:{fs + 12}px;font-weight:bold;color:{pal.accent}")}'
               f'<div style="width:{min(620, int(w * 0.5))}px">{_field(ctx, query, icon=ctx.icon(15, pal.muted, "search"))}</div></div>')
        tabs = "".join(ctx.t(x, tag="span", style=(f"border-bottom:3px solid {pal.accent};color:{pal.accent};padding-bottom:6px" if i == 0 else "padding-bottom:6px"))
                       for i, x in enumerate(["All", "Images", "News", "Videos", "Maps", "Shopping", "More"][:rng.randint(4, 7)]))
        tabs = f'<div style="display:flex;gap:24px;padding:6px {24 + fs * 6}px 0 {24 + fs * 6}px;border-bottom:1px solid {pal.border}">{tabs}</div>'
        res = [ctx.t(f"About {rng.randint(1000, 99000000):,} results ({rng.uniform(0.1, 0.9):.2f} seconds)",
                     style=f"color:{pal.muted};font-size:{max(11, fs - 2)}px;margin:10px 0 14px 0")]
        for _ in range(rng.randint(4, 9)):
            site = W.url(rng, False)
            crumb = site + " › " + " › ".join(W.pick(rng, W.NOUNS) for _ in range(rng.randint(1, 2)))
            res.append(f'<div style="margin-bottom:20px"><div style="display:flex;gap:8px;align-items:center">{ctx.icon(18, shape="circ")}'
                       f'{ctx.t(crumb, tag="span", style=f"font-size:{max(11, fs - 2)}px;color:{pal.muted}")}</div>'
                       f'{ctx.t(W.title(rng) + ctx.pick(["", " - " + W.company(rng), " | " + W.pick(rng, W.TOPICS)]), style=f"font-size:{fs + 5}px;color:{pal.link};margin:3px 0")}'
                       f'{ctx.t(W.date(rng, 4) + " — " + W.paragraph(rng, 2, 2), style="max-width:640px")}</div>')
        panel = ""
        if w > 1150 and ctx.chance(0.6):
            img = ctx.photo("width:100%;height:180px;border-radius:8px")
            panel = (f'<div style="width:{int(w * 0.27)}px;flex:none;border:1px solid {pal.border};border-radius:8px;padding:14px;align-self:flex-start">'
                     f'{img or ""}{ctx.t(W.cap(query), style=f"font-size:{fs + 8}px;margin-top:10px")}'
                     f'{ctx.t(W.pick(rng, W.TOPICS), style=f"color:{pal.muted}")}{ctx.t(W.paragraph(rng, 2, 3), style="margin-top:8px")}</div>')
        return (f'<div style="height:100%;overflow:hidden">{top}{tabs}<div style="display:flex;gap:60px;padding:0 24px 0 {24 + fs * 6}px">'
                f'<div style="flex:1;max-width:680px">{"".join(res)}</div>{panel}</div></div>')

    return frame(ctx, content, ctx.pick(["browser", "browser", "browser", "desktop", "none"]), tab_title=f"{query} - {engine} Search",
                 url=f"www.{engine.lower()}.com/search?q={'+'.join(query.split())}")


# ------------------------------------------------------------------------------------------
def form(ctx):
    rng, pal = ctx.rng, ctx.pal
    kind = ctx.pick(["contact", "register", "shipping", "appointment", "survey"])
    titles = {"contact": "Contact us", "register": "Create your account", "shipping": "Shipping address",
              "appointment": "Book an appointment", "survey": "Tell us what you think"}

    def content(ctx, w, h):
        _base(ctx)
        fs = ctx.fs
        two = w > 1000 and ctx.chance(0.5)
        person = W.name(rng)
        fields = {
            "contact": [("Full name", person), ("Email", W.email(rng, person)), ("Phone", f"+1 {rng.randint(200, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"),
                        ("Subject", W.subject(rng))],
            "register": [("First name", person.split()[0]), ("Last name", person.split()[1]), ("Email", W.email(rng, person)),
                         ("Username", person.split()[0].lower() + str(rng.randint(1, 99)))],
            "shipping": [("Full name", person), ("Street address", W.street_address(rng)), ("City", W.pick(rng, W.CITIES)),
                         ("Postal code", str(rng.randint(10000, 99999))), ("Phone", f"{rng.randint(100, 999)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}")],
            "appointment": [("Name", person), ("Date", W.date(rng, 2)), ("Time", W.time(rng)), ("Email", W.email(rng, person))],
            "survey": [("Name (optional)", ""), ("Email", W.email(rng, person)), ("Which product do you use?", W.cap(W.pick(rng, W.NOUNS)))],
        }[kind]
        parts = [ctx.t(titles[kind], tag="h1", style=f"font-size:{fs + 12}px;margin:0 0 6px 0"),
                 ctx.t(W.sentence(rng), style=f"color:{pal.muted};margin-bottom:18px")]
        cells = []
        for label, val in fields:
            req = ctx.chance(0.4)
            lab = ctx.t(label + (" *" if req else ""), style="font-weight:bold;margin-bottom:5px")
            if val and ctx.chance(0.75):
                f = _field(ctx, val)
            else:
                f = _field(ctx, ctx.pick(["Required", f"Enter your {label.lower()}", "", ""]), placeholder=True)
            err = ""
            if not val and req and ctx.chance(0.5):
                err = ctx.t("This field is required.", style=f"color:{pal.danger};font-size:{max(11, fs - 2)}px;margin-top:3px")
            cells.append(f'<div style="margin-bottom:14px">{lab}{f}{err}</div>')
        if two:
            half = (len(cells) + 1) // 2
            parts.append(f'<div style="display:flex;gap:24px"><div style="flex:1">{"".join(cells[:half])}</div><div style="flex:1">{"".join(cells[half:])}</div></div>')
        else:
            parts.extend(cells)
        if ctx.chance(0.6):
            q = ctx.pick(["How did you hear about us?", "Preferred contact method", "How satisfied are you?"])
            opts = {"How did you hear about us?": ["Friend", "Search engine", "Advertisement", "Other"],
                    "Preferred contact method": ["Email", "Phone", "Text message"],
                    "How satisfied are you?": ["Very satisfied", "Satisfied", "Neutral", "Unsatisfied"]}[q]
            on = rng.randrange(len(opts))
            parts.append(ctx.t(q, style="font-weight:bold;margin:6px 0 6px 0"))
            parts.append('<div style="display:flex;gap:18px;flex-wrap:wrap;margin-bottom:14px">' + "".join(
                f'<span style="display:flex;gap:6px;align-items:center">{ctx.checkbox(i == on, radio=True)}{ctx.t(o, tag="span")}</span>'
                for i, o in enumerate(opts)) + "</div>")
        if ctx.chance(0.5):
            parts.append(ctx.t(ctx.pick(["Message", "Comments", "Notes"]), style="font-weight:bold;margin-bottom:5px"))
            parts.append(f'<div style="height:{fs * 5}px;border:1px solid {pal.border};border-radius:4px;padding:8px 10px;background:{pal.field}">'
                         f'{ctx.t(W.paragraph(rng, 1, 2)) if ctx.chance(0.6) else ""}</div>')
        parts.append(f'<div style="display:flex;gap:8px;align-items:center;margin:14px 0">{ctx.checkbox(ctx.chance(0.5))}'
                     f'{ctx.t(ctx.pick(["I agree to the Terms of Service", "Send me news and offers", "Remember my details"]), tag="span")}</div>')
        parts.append(f'<div style="display:flex;gap:10px">{_btn(ctx, ctx.pick(["Submit", "Send", "Continue", "Book now", "Create account"]), primary=True)}'
                     f'{_btn(ctx, "Cancel") if ctx.chance(0.5) else ""}</div>')
        fw = min(w - 40, 900 if two else rng.randint(420, 620))
        return (f'<div style="height:100%;overflow:hidden;background:{pal.panel if ctx.chance(0.5) else pal.bg};padding:24px">'
                f'<div style="width:{fw}px;margin:0 auto;background:{pal.bg};padding:24px 28px;border:1px solid {pal.border};border-radius:8px">'
                f'{"".join(parts)}</div></div>')

    return frame(ctx, content, _chrome_kind(ctx), tab_title=titles[kind], url=W.url(rng, False) + "/" + kind)


# ------------------------------------------------------------------------------------------
MENUS = {
    "File": [("New", "Ctrl+N"), ("Open...", "Ctrl+O"), ("Open Recent", ""), None, ("Save", "Ctrl+S"), ("Save As...", "Ctrl+Shift+S"),
             ("Export as PDF", ""), None, ("Print...", "Ctrl+P"), None, ("Close", "Ctrl+W"), ("Quit", "Ctrl+Q")],
    "Edit": [("Undo", "Ctrl+Z"), ("Redo", "Ctrl+Y"), None, ("Cut", "Ctrl+X"), ("Copy", "Ctrl+C"), ("Paste", "Ctrl+V"),
             ("Select All", "Ctrl+A"), None, ("Find...", "Ctrl+F"), ("Replace...", "Ctrl+H"), None, ("Preferences", "")],
    "View": [("Zoom In", "Ctrl++"), ("Zoom Out", "Ctrl+-"), ("Actual Size", "Ctrl+0"), None, ("Show Toolbar", ""), ("Show Sidebar", "F9"),
             ("Full Screen", "F11")],
    "Insert": [("Image...", ""), ("Table...", "Ctrl+F12"), ("Link", "Ctrl+K"), ("Page Break", "Ctrl+Enter"), None, ("Comment", "Ctrl+Alt+C"),
               ("Special Character...", "")],
    "Format": [("Bold", "Ctrl+B"), ("Italic", "Ctrl+I"), ("Underline", "Ctrl+U"), None, ("Align Left", ""), ("Center", "Ctrl+E"),
               ("Paragraph...", ""), ("Clear Formatting", "Ctrl+M")],
    "Help": [("User Guide", "F1"), ("Keyboard Shortcuts", ""), ("Check for Updates", ""), None, ("About", "")],
}


def menus(ctx):
    rng, pal = ctx.rng, ctx.pal
    app = ctx.pick(["Writer", "TextPad", "Notes", "Draw", "Pages", "Editor"])
    docname = W.filename(rng, ctx.pick(["odt", "docx", "txt", "md"]))

    def content(ctx, w, h):
        _base(ctx)
        fs = max(11, min(16, ctx.fs))
        names = list(MENUS)
        names = names[:2] + (["View", "Insert", "Format"] if ctx.chance(0.7) else ["View"]) + ["Tools", "Window", "Help"]
        names = list(dict.fromkeys(names))
        open_menu = ctx.pick([n for n in names if n in MENUS])
        xs = []
        bar_items = []
        for n in names:
            st = f"padding:4px 10px;border-radius:4px;{'background:' + pal.sel + ';' if n == open_menu else ''}"
            bar_items.append(f'<span style="{st}">{esc(n)}</span>')
        bar = ctx.unit("".join(bar_items), style=f"display:flex;gap:4px;padding:3px 8px;background:{pal.panel};font-size:{fs}px", text=" ".join(names))
        # reading order: menu bar, the open menu, the toolbar under it, then the document
        idx = names.index(open_menu)
        left = 8 + sum(len(n) * fs * 0.62 + 24 for n in names[:idx])
        items = []
        for it in MENUS[open_menu]:
            if it is None:
                items.append(f'<div style="height:1px;background:{pal.border};margin:4px 0"></div>')
                continue
            lbl, sc = it
            hov = f"background:{pal.accent};color:{pal.on_accent};" if ctx.chance(0.12) else ""
            inner = f'<span style="flex:1">{esc(lbl)}</span>' + (f'<span style="opacity:.7">{esc(sc)}</span>' if sc else "")
            items.append(ctx.unit(inner, style=f"display:flex;gap:34px;padding:4px 20px;{hov}", text=f"{lbl} {sc}".strip()))
        dd = (f'<div style="position:absolute;left:{left:.0f}px;top:{fs + 16}px;min-width:230px;background:{pal.bg};border:1px solid {pal.border};'
              f'box-shadow:0 6px 18px {pal.shadow};padding:4px 0;border-radius:4px;z-index:5;font-size:{fs}px">{"".join(items)}</div>')
        tb = (f'<div style="display:flex;gap:6px;align-items:center;padding:5px 10px;border-bottom:1px solid {pal.border};background:{pal.panel}">'
              + "".join(f'<span style="display:flex;flex-direction:column;align-items:center;gap:2px;padding:2px 8px">{ctx.icon(20, shape=ctx.pick(["doc", "folder", "star", "sq", "gear"]))}'
                        f'{ctx.t(lbl, tag="span", style=f"font-size:{max(11, fs - 3)}px")}</span>'
                        for lbl in rng.sample(["New", "Open", "Save", "Print", "Undo", "Redo", "Bold", "Table", "Image", "Share", "Find"], rng.randint(4, 8)))
              + "</div>") if ctx.chance(0.6) else ""
        doc = [ctx.t(W.title(rng), style=f"font-size:{fs + 10}px;font-weight:bold;margin-bottom:12px")]
        doc += [ctx.t(W.paragraph(rng, 2, 4), tag="p", style="margin:0 0 12px 0") for _ in range(rng.randint(2, 6))]
        page = (f'<div style="background:{pal.panel2};height:100%;padding:24px;overflow:hidden"><div style="max-width:760px;margin:0 auto;'
                f'background:{pal.bg};padding:40px 50px;min-height:100%;font-family:\'{ctx.serif}\'">{"".join(doc)}</div></div>')
        return f'<div style="position:relative;height:100%;overflow:hidden">{bar}{dd}{tb}{page}</div>'

    return frame(ctx, content, ctx.pick(["window", "window", "desktop"]), win_title=f"{docname} - {app}")


SCREENS = {
    "signin": signin, "inbox": inbox, "news": news, "dialog": dialog, "settings": settings, "table": table,
    "notfound": notfound, "editor": editor, "terminal": terminal, "files": files, "chat": chat,
    "calendar": calendar_, "spreadsheet": spreadsheet, "search": search, "form": form, "menus": menus,
}

# probability of a dark theme per template
DARK = {"editor": 0.55, "terminal": 0.88, "chat": 0.35, "settings": 0.4, "files": 0.35, "spreadsheet": 0.15,
        "news": 0.15, "search": 0.25, "signin": 0.25, "notfound": 0.3}
