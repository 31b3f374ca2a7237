"""The pure renderings of an Alert: Slack's limits, "+N more", escaping, plain text, HTML."""

from __future__ import annotations

from typing import Any

import pytest

from attribution.alerts.rendering import (
    MAX_BLOCKS,
    MAX_FIELD_CHARS,
    MAX_HEADER_CHARS,
    MAX_SECTION_CHARS,
    fallback_text,
    fit_lines,
    html,
    plain_text,
    slack_blocks,
)
from attribution.ports import Alert, AlertSection

SMALL = Alert(
    title="Model card incomplete",
    severity="warning",
    text="catboost_v9.cbm was published without: expected_mae",
    fields={"card_id": "abc123"},
    lines=("first", "second"),
    sections=(AlertSection("registry", "PARTIAL", ("1 card incomplete",)),),
)


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]


def assert_within_limits(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert blocks[0]["type"] == "header"
    assert 0 < len(blocks[0]["text"]["text"]) <= MAX_HEADER_CHARS
    for block in blocks[1:]:
        assert block["type"] == "section"
        if "text" in block:
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_CHARS
        fields = block.get("fields", [])
        assert len(fields) <= 10
        assert all(0 < len(f["text"]) <= MAX_FIELD_CHARS for f in fields)
        assert "text" in block or fields


def test_small_alert_layout() -> None:
    blocks = slack_blocks(SMALL)
    assert_within_limits(blocks)
    assert [b["type"] for b in blocks] == ["header", "section", "section", "section", "section"]
    assert blocks[0]["text"]["text"] == "Model card incomplete"
    assert blocks[1]["text"]["text"] == (
        ":warning: *WARNING* catboost_v9.cbm was published without: expected_mae"
    )
    assert blocks[2]["fields"] == [{"type": "mrkdwn", "text": "*card_id*\nabc123"}]
    assert blocks[3]["text"]["text"] == "first\nsecond"
    assert blocks[4]["text"]["text"] == ":warning: *registry*: PARTIAL\n1 card incomplete"


@pytest.mark.parametrize(
    ("status", "emoji"),
    [
        ("PASS", ":white_check_mark:"),
        ("FAIL", ":x:"),
        ("PARTIAL", ":warning:"),
        ("UNKNOWN", ":grey_question:"),
        ("INFO", ":information_source:"),
        ("odd", ":grey_question:"),
    ],
)
def test_each_status_has_an_emoji(status: str, emoji: str) -> None:
    alert = Alert("t", "info", "x", sections=(AlertSection("check", status),))
    assert section_texts(slack_blocks(alert))[-1].startswith(f"{emoji} *check*")


def test_long_section_is_cut_with_plus_n_more() -> None:
    lines = [f"line {i:05d}" for i in range(10_000)]
    alert = Alert("t", "error", "x", sections=(AlertSection("big", "FAIL", lines),))
    text = section_texts(slack_blocks(alert))[-1]
    assert len(text) <= MAX_SECTION_CHARS
    shown = [line for line in text.splitlines() if line.startswith("line ")]
    assert shown == lines[: len(shown)]
    assert text.endswith(f"_+{len(lines) - len(shown)} more_")
    assert len(text) > MAX_SECTION_CHARS - 50  # the room was used, not wasted


def test_fit_lines_keeps_everything_that_fits() -> None:
    assert fit_lines("head", ["a", "b"], 100) == "head\na\nb"
    assert fit_lines("", [], 100) == ""
    cut = fit_lines("h", ["x" * 40] * 5, 100)
    assert len(cut) <= 100 and cut.endswith("more_")


@pytest.mark.parametrize("limit", [60, 99, 100, 101, 137, 500])
def test_fit_lines_never_exceeds_the_limit(limit: int) -> None:
    for count in (1, 2, 9, 10, 11, 99, 100, 101, 1000):
        text = fit_lines("head", [f"l{i}" * 3 for i in range(count)], limit)
        assert len(text) <= limit
        shown = len(text.splitlines()) - 1 - text.endswith("more_")
        if shown < count:
            assert text.endswith(f"_+{count - shown} more_")


def test_a_single_very_long_line_is_clipped() -> None:
    alert = Alert("t", "info", "x", lines=["y" * 50_000])
    text = section_texts(slack_blocks(alert))[-1]
    assert len(text) <= MAX_SECTION_CHARS and text.endswith("…")


def test_header_title_and_text_are_clipped() -> None:
    alert = Alert("T" * 1000, "error", "z" * 10_000, fields={"k" * 500: "v" * 5000})
    blocks = slack_blocks(alert)
    assert_within_limits(blocks)
    assert blocks[0]["text"]["text"].endswith("…")
    assert blocks[1]["text"]["text"].endswith("…")


def test_fields_are_split_ten_per_block_and_capped() -> None:
    alert = Alert("t", "info", "x", fields={f"f{i}": str(i) for i in range(15)})
    blocks = slack_blocks(alert)
    assert [len(b["fields"]) for b in blocks if "fields" in b] == [10, 5]

    many = Alert("t", "info", "x", fields={f"f{i}": str(i) for i in range(100)})
    field_blocks = [b for b in slack_blocks(many) if "fields" in b]
    assert [len(b["fields"]) for b in field_blocks] == [10, 10]
    assert field_blocks[-1]["fields"][-1]["text"] == "_+81 more fields_"


def test_too_many_sections_keep_the_unhealthy_ones_in_order() -> None:
    sections = [AlertSection(f"c{i}", "PASS") for i in range(100)]
    sections[70] = AlertSection("c70", "FAIL", ("bad",))
    sections[90] = AlertSection("c90", "PARTIAL")
    blocks = slack_blocks(Alert("t", "error", "x", sections=sections))
    assert len(blocks) == MAX_BLOCKS
    assert_within_limits(blocks)
    texts = section_texts(blocks)
    titles = [t.split("*")[1] for t in texts[1:-1]]
    assert "c70" in titles and "c90" in titles
    assert titles == sorted(titles, key=lambda name: int(name[1:]))  # original order
    assert texts[-1] == f"_+{100 - len(titles)} more sections: {100 - len(titles)} PASS_"


def test_exactly_enough_room_needs_no_overflow_block() -> None:
    room = MAX_BLOCKS - 2  # header and text
    blocks = slack_blocks(Alert("t", "info", "x", sections=[AlertSection("c", "PASS")] * room))
    assert len(blocks) == MAX_BLOCKS
    assert "more sections" not in section_texts(blocks)[-1]


def test_mrkdwn_control_characters_are_escaped() -> None:
    alert = Alert(
        "<!channel> ping",
        "error",
        "<!here> <https://evil.example|click> & more",
        fields={"<@U123>": "a & b"},
        lines=["<!everyone>"],
        sections=(AlertSection("<s>", "FAIL", ("x < y > z & w",)),),
    )
    blocks = slack_blocks(alert)
    rendered = [*section_texts(blocks), *(f["text"] for b in blocks for f in b.get("fields", []))]
    joined = "\n".join(rendered)
    assert "<" not in joined and ">" not in joined
    assert "&lt;!here&gt; &lt;https://evil.example|click&gt; &amp; more" in joined
    assert "*&lt;@U123&gt;*\na &amp; b" in joined
    assert "x &lt; y &gt; z &amp; w" in joined
    assert "<" not in fallback_text(alert)
    # the header is plain_text, which Slack does not parse for mentions
    assert blocks[0]["text"]["type"] == "plain_text"


def test_clipping_never_leaves_half_an_entity() -> None:
    alert = Alert("t", "info", "&" * 5000)
    text = section_texts(slack_blocks(alert))[0]
    assert len(text) <= MAX_SECTION_CHARS
    assert text.endswith("&amp;…")


def test_plain_text() -> None:
    assert plain_text(SMALL) == (
        "[WARNING] Model card incomplete\n"
        "\n"
        "catboost_v9.cbm was published without: expected_mae\n"
        "\n"
        "card_id: abc123\n"
        "\n"
        "  first\n"
        "  second\n"
        "\n"
        "registry [PARTIAL]\n"
        "  - 1 card incomplete\n"
    )


def test_plain_text_and_html_cut_long_lists() -> None:
    alert = Alert(
        "t", "info", "x", sections=(AlertSection("s", "FAIL", [str(i) for i in range(500)]),)
    )
    text = plain_text(alert, max_lines=10)
    assert "  - 9\n" in text and "  - 10\n" not in text and "  +490 more\n" in text
    page = html(alert, max_lines=10)
    assert "<li>9</li>" in page and "<li>10</li>" not in page
    assert "<li><em>+490 more</em></li>" in page


def test_html_escapes_everything() -> None:
    alert = Alert(
        "<script>t</script>",
        "error\"'",
        "a < b & c",
        fields={"<k>": "<v onmouseover='x'>"},
        lines=["<b>bold</b>"],
        sections=(AlertSection("<h1>", "<FAIL>", ('"q"',)),),
    )
    page = html(alert)
    assert "<script>" not in page and "<b>" not in page and "<h1>" not in page
    assert "&lt;script&gt;t&lt;/script&gt;" in page
    assert "a &lt; b &amp; c" in page
    assert '<th align="left">&lt;k&gt;</th><td>&lt;v onmouseover=&#x27;x&#x27;&gt;</td>' in page
    assert "<li>&lt;b&gt;bold&lt;/b&gt;</li>" in page
    assert "<li>&quot;q&quot;</li>" in page
    assert "[&lt;FAIL&gt;]" in page
    assert "ERROR&quot;&#x27;" in page


# --- the report's link and the day's chart ----------------------------------------------------


def test_a_console_link_is_a_slack_link_and_a_file_path_is_shown_as_code() -> None:
    url = "https://console.cloud.google.com/storage/browser/_details/m/reports/v9/2026-03-03.html"
    web = slack_blocks(Alert("t", "error", "x", link=url))
    assert web[2] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": f":bar_chart: <{url}|Open the report>"},
    }
    path = "/srv/state/buckets/models/reports/v9/<2026>.html"
    local = slack_blocks(Alert("t", "error", "x", link=path))
    assert local[2]["text"]["text"] == (
        ":bar_chart: Report: `/srv/state/buckets/models/reports/v9/&lt;2026&gt;.html`"
    )  # escaped: a path cannot forge a Slack link


def test_the_html_shows_each_image_by_its_content_id_and_the_text_names_the_link() -> None:
    from attribution.ports import AlertImage

    alert = Alert(
        "t", "error", "x", link="/tmp/r.html",
        images=[AlertImage("day-chart", b"\x89PNG", 'coverage "and" <hit rates>')],
    )  # fmt: skip
    assert '<img src="cid:day-chart" alt="coverage &quot;and&quot; &lt;hit rates&gt;"' in html(
        alert
    )
    assert "Report: <code>/tmp/r.html</code>" in html(alert)
    assert "\nReport: /tmp/r.html\n" in plain_text(alert)
