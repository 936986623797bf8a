"""A page under construction: HTML plus its reading units, in reading order.

Every piece of visible text goes through `Page.t(...)`, which wraps it in an element
marked `data-t="N"`; N is the reading order. After rendering, `labels()` keeps only the
words that Chromium says are visible and groups them into visual lines (render.py).
Text that is not registered is reported as "stray" and fails the build, so the labels
cannot silently miss text.

Rules for templates (so that the DOM text is the visible text): no `text-transform`, no
CSS generated content, no list markers, no <input> values or placeholders (draw fields as
divs), no word split across elements.
"""

import html


def esc(s):
    return html.escape(s, quote=True)


class Page:
    def __init__(self, width, height, kind, template, theme="light"):
        self.width, self.height = width, height
        self.kind, self.template, self.theme = kind, template, theme
        self.units = []  # intended text of each unit, by reading order
        self.css = []
        self.body = []
        self.head_extra = ""
        self.body_attrs = ""
        self.meta = {}

    def t(self, text, tag="div", cls="", style="", attrs=""):
        """One reading unit: an element holding `text` (escaped)."""
        n = len(self.units)
        self.units.append(text)
        a = f' data-t="{n}"'
        if cls:
            a += f' class="{cls}"'
        if style:
            a += f' style="{style}"'
        if attrs:
            a += " " + attrs
        return f"<{tag}{a}>{esc(text)}</{tag}>"

    def unit(self, inner_html, tag="div", cls="", style="", attrs="", text=None):
        """A reading unit whose content is already HTML (a table row, a line of code with
        coloured spans). `text` is the intended plain text, for checking only."""
        n = len(self.units)
        self.units.append(text if text is not None else "")
        a = f' data-t="{n}"'
        if cls:
            a += f' class="{cls}"'
        if style:
            a += f' style="{style}"'
        if attrs:
            a += " " + attrs
        return f"<{tag}{a}>{inner_html}</{tag}>"

    def html(self):
        css = "\n".join(self.css)
        body = "\n".join(self.body)
        return (
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<style>\n*{{box-sizing:border-box}}\nhtml,body{{margin:0;padding:0;"
            f"width:{self.width}px;height:{self.height}px;overflow:hidden}}\n{css}\n</style>"
            f"{self.head_extra}</head>\n<body{self.body_attrs}>\n{body}\n</body></html>\n"
        )


def labels(page, info, file):
    """The labels row for a rendered page."""
    text, words, boxes = [], [], []
    for n in range(len(page.units)):
        for ws, box, _complete in info["units"].get(str(n), []):
            text.append(" ".join(ws))
            words.extend(ws)
            boxes.append(box)
    row = {
        "file": file,
        "kind": page.kind,
        "template": page.template,
        "width": page.width,
        "height": page.height,
        "text": text,
        "words": words,
        "theme": page.theme,
        "boxes": boxes,
        "photos": info.get("photos", []),
        "photos_visible": info.get("photos_visible", []),
    }
    row.update(page.meta)
    return row
