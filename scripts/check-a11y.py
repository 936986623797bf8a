#!/usr/bin/python3
"""What a screen reader receives from seesay, read from the real AT-SPI bus (pyatspi).

Run by scripts/check-a11y.sh, which starts the app under Xvfb with a private D-Bus session and
the accessibility bus. Checks: the window (frame) is named after the picture; no focusable node
is nameless; the caption is a focusable node of role caption (not label: Orca 43 ignores a
label's name changes) whose name is the caption; the candidates are a table with a header row;
moving to the next picture makes the caption announce itself
(object:announcement) with the new caption, and the focused caption's name changes to it (what
Orca 43 presents; it ignores announcements).
Usage: check-a11y.py LOG  (the app's log, where SEESAY_PRINT_CAPTIONS=1 prints "caption: ...")
"""
import subprocess
import sys
import time

import pyatspi
from gi.repository import GLib

LOG = sys.argv[1]
failures = []
events = []


def fail(message):
    failures.append(message)
    print("FAIL:", message, file=sys.stderr)


def captions():
    with open(LOG, encoding="utf-8", errors="replace") as f:
        return [l[len("caption: "):].rstrip("\n") for l in f if l.startswith("caption: ")]


def seesay_frame():
    desktop = pyatspi.Registry.getDesktop(0)
    for app in desktop:
        if app is None:
            continue
        for child in app:
            if child is not None and (child.name or "").startswith("seesay"):
                return child
    return None


def walk(node, depth=0):
    yield node
    for child in node:
        if child is not None:
            yield from walk(child, depth + 1)


def states(node):
    return node.getState()


def on_event(event):
    events.append((event.type, event.source, str(event.any_data), event.detail1))


def wait(predicate, seconds, what):
    """Runs the GLib loop (so events arrive) until predicate() or the time is up."""
    ctx = GLib.MainContext.default()
    end = time.time() + seconds
    while time.time() < end:
        while ctx.pending():
            ctx.iteration(False)
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    fail(f"timed out after {seconds} s waiting for {what}")
    return None


def check_tree(frame, caption):
    nodes = list(walk(frame))
    print(f"{len(nodes)} nodes on the bus", file=sys.stderr)
    nameless = []
    for n in nodes:
        s = states(n)
        if s.contains(pyatspi.STATE_FOCUSABLE) and s.contains(pyatspi.STATE_SHOWING):
            if not (n.name or "").strip():
                nameless.append(f"{n.getRoleName()} (in {n.parent.getRoleName() if n.parent else '-'}"
                                f" {n.parent.name if n.parent else ''!r})")
    if nameless:
        fail(f"focusable nodes without a name: {nameless}")
    labels = [n for n in nodes if n.getRole() == pyatspi.ROLE_CAPTION and n.name == caption]
    if not labels:
        fail(f"no caption node named with the caption {caption!r}")
    elif not states(labels[0]).contains(pyatspi.STATE_FOCUSABLE):
        fail("the caption node is not focusable")
    tables = [n for n in nodes if n.getRole() == pyatspi.ROLE_TABLE]
    if not tables:
        fail("no table (the candidates)")
    else:
        table = tables[0]
        rows = [n for n in walk(table) if n.getRole() == pyatspi.ROLE_TABLE_ROW]
        headers = [n.name for n in walk(table) if n.getRole() == pyatspi.ROLE_COLUMN_HEADER]
        cells = [n for n in walk(table) if n.getRole() == pyatspi.ROLE_TABLE_CELL]
        print(f"candidates table {table.name!r}: {len(rows)} rows, headers {headers}, "
              f"{len(cells)} cells", file=sys.stderr)
        if table.name != "Candidates" or len(rows) < 2 or "Probability" not in headers or not cells:
            fail("the candidates table lacks a name, a header row or cells")
    return labels[0] if labels else None


def main():
    for kind in ("object:announcement", "object:property-change:accessible-name",
                 "object:text-changed", "object:state-changed:focused", "window"):
        pyatspi.Registry.registerEventListener(on_event, kind)
    frame = wait(lambda: (f := seesay_frame()) and f.name.startswith("seesay: ") and f,
                 60, "the seesay window, named after its picture")
    if not frame:
        return
    print(f"window: {frame.name!r} ({frame.getRoleName()})", file=sys.stderr)
    first = wait(lambda: captions(), 120, "the first caption")
    if not first:
        return
    # A frame drawn after the caption arrived.
    wait(lambda: any(n.getRole() == pyatspi.ROLE_TABLE for n in walk(frame)), 20,
         "the candidates table")
    caption_node = check_tree(frame, first[0])

    events.clear()
    subprocess.run(["xdotool", "search", "--name", "^seesay", "windowfocus", "--sync"],
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["xdotool", "key", "Right"], check=True)
    second = wait(lambda: len(captions()) > 1 and captions(), 120, "the second picture's caption")
    if not second:
        return
    new = second[-1]
    announced = wait(
        lambda: [e for e in events if e[0].startswith("object:announcement") and new in e[2]],
        10, f"an announcement of the new caption {new!r}")
    if announced:
        print(f"announced: {announced[0][2]!r}", file=sys.stderr)
    # What Orca 43 presents (it has no announcement handler): a name change of the focused item.
    renamed = wait(
        lambda: [e for e in events if e[0].startswith("object:property-change:accessible-name")
                 and new in e[2] and e[1].getState().contains(pyatspi.STATE_FOCUSED)],
        10, "the focused caption to take the new caption as its name")
    if renamed:
        print(f"focused caption renamed: {renamed[0][2]!r}", file=sys.stderr)
    else:
        seen = sorted({e[0] for e in events})
        print(f"events seen after Right: {seen}", file=sys.stderr)
    if not frame.name.endswith("picture2.png"):
        fail(f"the window name did not follow the picture: {frame.name!r}")
    if caption_node is not None and new != first[0]:
        names = [n.name for n in walk(frame)
                 if n.getRole() == pyatspi.ROLE_CAPTION and n.name == new]
        if not names:
            fail("the new caption is not on the bus")


main()
if failures:
    print(f"a11y check FAILED ({len(failures)} problems)", file=sys.stderr)
    sys.exit(1)
print("a11y check passed: named window, named focusable nodes, caption node, candidates table, "
      "new caption announced and the focused caption renamed")
