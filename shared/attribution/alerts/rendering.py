"""An Alert as Slack Block Kit, plain text and HTML: pure functions, no I/O.

Slack's limits are enforced here, so a channel never sends what Slack would refuse: at most
50 blocks, a header of at most 150 characters, section text of at most 3,000, at most 10
fields per section and 2,000 characters per field. Long lists are cut with "+N more"; when
there are more sections than blocks, the ones that did not pass are kept first.
"""

from __future__ import annotations

import html as _html
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from attribution.ports import Alert, AlertSection

MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3000
MAX_FIELD_CHARS = 2000
MAX_FIELDS_PER_SECTION = 10
MAX_FIELD_BLOCKS = 2
MAX_LINE_CHARS = 500
MAX_FALLBACK_CHARS = 3000
MAX_LINK_CHARS = 2000
DEFAULT_MAX_LINES = 200

Block = dict[str, Any]

STATUS_EMOJI = {
    "PASS": ":white_check_mark:",
    "PARTIAL": ":warning:",
    "FAIL": ":x:",
    "UNKNOWN": ":grey_question:",
    "INFO": ":information_source:",
}
SEVERITY_EMOJI = {
    "info": ":information_source:",
    "warning": ":warning:",
    "error": ":rotating_light:",
}
_STATUS_PRIORITY = {"FAIL": 0, "PARTIAL": 1, "UNKNOWN": 2, "INFO": 3, "PASS": 4}


def more(count: int, noun: str = "") -> str:
    """The marker that stands for what was cut: ``+3 more`` or ``+3 more sections``."""
    return f"+{count} more{' ' + noun if noun else ''}"


def clip(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"


def mrkdwn_escape(text: str) -> str:
    """Slack's three control characters, so input cannot mention @channel or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip_escaped(text: str, limit: int) -> str:
    """Escape, then clip without leaving half an entity (``&am``) at the end."""
    escaped = mrkdwn_escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def fit_lines(head: str, lines: Sequence[str], limit: int) -> str:
    """``head`` (already mrkdwn) then one escaped line each, within ``limit`` characters;
    the lines that do not fit are replaced by a final "+N more" line."""
    reserve = len("\n_" + more(len(lines)) + "_") if lines else 0
    text = clip(head, max(limit - reserve, 1))
    for index, line in enumerate(lines):
        candidate = text + ("\n" if text else "") + _clip_escaped(line, MAX_LINE_CHARS)
        left = len(lines) - index - 1
        tail = len("\n_" + more(left) + "_") if left else 0
        if len(candidate) + tail > limit:
            return text + "\n_" + more(len(lines) - index) + "_"
        text = candidate
    return text


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text or " "}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _field_blocks(fields: Sequence[tuple[str, str]]) -> list[Block]:
    capacity = MAX_FIELDS_PER_SECTION * MAX_FIELD_BLOCKS
    items = [
        _mrkdwn(f"*{_clip_escaped(key, 200)}*\n{_clip_escaped(value, MAX_FIELD_CHARS - 220)}")
        for key, value in fields[: capacity if len(fields) <= capacity else capacity - 1]
    ]
    if len(fields) > capacity:
        items.append(_mrkdwn(f"_{more(len(fields) - len(items), 'fields')}_"))
    return [
        {"type": "section", "fields": items[start : start + MAX_FIELDS_PER_SECTION]}
        for start in range(0, len(items), MAX_FIELDS_PER_SECTION)
    ]


def _section_block(section: AlertSection) -> Block:
    emoji = STATUS_EMOJI.get(section.status.upper(), ":grey_question:")
    head = f"{emoji} *{_clip_escaped(section.title, 200)}*: {_clip_escaped(section.status, 20)}"
    return _section(fit_lines(head, list(section.lines), MAX_SECTION_CHARS))


def _pick_sections(sections: Sequence[AlertSection], room: int) -> list[int]:
    """The indexes of at most ``room`` sections, the least healthy first, in their order."""
    ranked = sorted(
        range(len(sections)),
        key=lambda i: (_STATUS_PRIORITY.get(sections[i].status.upper(), 2), i),
    )
    return sorted(ranked[:room])


def _status_counts(sections: Iterable[AlertSection]) -> str:
    counts = Counter(section.status.upper() for section in sections)
    return ", ".join(
        f"{count} {_clip_escaped(status, 20)}" for status, count in sorted(counts.items())
    )


def fallback_text(alert: Alert) -> str:
    """The notification text Slack shows where blocks cannot be (push, previews)."""
    return _clip_escaped(
        f"[{alert.severity.upper()}] {alert.title}: {alert.text}", MAX_FALLBACK_CHARS
    )


def is_web_link(link: str) -> bool:
    return link.startswith(("https://", "http://"))


def _link_block(link: str) -> Block:
    """The report's link: a Slack link for a URL (one Slack can open), else the path as code."""
    if is_web_link(link) and len(link) <= MAX_LINK_CHARS and not set(link) & set("<>| "):
        return _section(f":bar_chart: <{link}|Open the report>")
    return _section(f":bar_chart: Report: `{_clip_escaped(link, MAX_SECTION_CHARS - 40)}`")


def slack_blocks(alert: Alert) -> list[Block]:
    """The alert as Block Kit blocks within Slack's limits."""
    blocks: list[Block] = [{"type": "header", "text": _plain(alert.title, MAX_HEADER_CHARS)}]
    emoji = SEVERITY_EMOJI.get(alert.severity.lower(), ":grey_question:")
    head = f"{emoji} *{_clip_escaped(alert.severity.upper(), 20)}*"
    if alert.text:
        head += " " + _clip_escaped(alert.text, MAX_SECTION_CHARS - 60)
    blocks.append(_section(clip(head, MAX_SECTION_CHARS)))
    if alert.link:
        blocks.append(_link_block(alert.link))
    blocks.extend(_field_blocks(list(alert.fields.items())))
    if alert.lines:
        blocks.append(_section(fit_lines("", list(alert.lines), MAX_SECTION_CHARS)))

    room = MAX_BLOCKS - len(blocks)
    sections = list(alert.sections)
    if len(sections) <= room:
        blocks.extend(_section_block(s) for s in sections)
        return blocks
    kept = _pick_sections(sections, room - 1)
    kept_set = set(kept)
    left_out = [s for i, s in enumerate(sections) if i not in kept_set]
    blocks.extend(_section_block(sections[i]) for i in kept)
    blocks.append(_section(f"_{more(len(left_out), 'sections')}: {_status_counts(left_out)}_"))
    return blocks


def _cut(lines: Sequence[str], max_lines: int) -> tuple[list[str], int]:
    if len(lines) <= max_lines:
        return list(lines), 0
    return list(lines[:max_lines]), len(lines) - max_lines


def plain_text(alert: Alert, *, max_lines: int = DEFAULT_MAX_LINES) -> str:
    """The alert as plain text (the email body); each list holds at most ``max_lines``."""
    out = [f"[{alert.severity.upper()}] {alert.title}"]
    if alert.text:
        out += ["", alert.text]
    if alert.link:
        out += ["", f"Report: {alert.link}"]
    if alert.fields:
        out.append("")
        out += [f"{key}: {value}" for key, value in alert.fields.items()]
    if alert.lines:
        shown, cut = _cut(alert.lines, max_lines)
        out.append("")
        out += [f"  {line}" for line in shown]
        if cut:
            out.append(f"  {more(cut)}")
    for section in alert.sections:
        shown, cut = _cut(section.lines, max_lines)
        out += ["", f"{section.title} [{section.status.upper()}]"]
        out += [f"  - {line}" for line in shown]
        if cut:
            out.append(f"  {more(cut)}")
    return "\n".join(out) + "\n"


_STATUS_COLOUR = {
    "PASS": "#1a7f37",
    "PARTIAL": "#9a6700",
    "FAIL": "#cf222e",
    "UNKNOWN": "#57606a",
    "INFO": "#0969da",
}


def _ul(lines: Sequence[str], max_lines: int) -> list[str]:
    if not lines:
        return []
    shown, cut = _cut(lines, max_lines)
    items = [f"<li>{_html.escape(line)}</li>" for line in shown]
    if cut:
        items.append(f"<li><em>{_html.escape(more(cut))}</em></li>")
    return ["<ul>", *items, "</ul>"]


def html(alert: Alert, *, max_lines: int = DEFAULT_MAX_LINES) -> str:
    """The alert as a small HTML document; every piece of the alert is escaped."""
    esc = _html.escape
    out = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{esc(alert.title)}</title></head>",
        '<body style="font-family: sans-serif">',
        f"<h2>[{esc(alert.severity.upper())}] {esc(alert.title)}</h2>",
    ]
    if alert.text:
        out.append(f"<p>{esc(alert.text)}</p>")
    if alert.link:
        shown = (
            f'<a href="{esc(alert.link)}">Open the report</a>'
            if is_web_link(alert.link)
            else f"Report: <code>{esc(alert.link)}</code>"
        )
        out.append(f"<p>{shown}</p>")
    out += [
        f'<p><img src="cid:{esc(image.content_id)}" alt="{esc(image.description)}" '
        'style="max-width: 100%"></p>'
        for image in alert.images
    ]
    if alert.fields:
        out.append('<table cellpadding="4" style="border-collapse: collapse">')
        out += [
            f'<tr><th align="left">{esc(key)}</th><td>{esc(value)}</td></tr>'
            for key, value in alert.fields.items()
        ]
        out.append("</table>")
    out += _ul(alert.lines, max_lines)
    for section in alert.sections:
        status = section.status.upper()
        colour = _STATUS_COLOUR.get(status, "#57606a")
        out.append(
            f'<h3>{esc(section.title)} <span style="color: {colour}">[{esc(status)}]</span></h3>'
        )
        out += _ul(section.lines, max_lines)
    out.append("</body></html>")
    return "\n".join(out) + "\n"
