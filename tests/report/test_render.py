"""report/render.py: a report is composed of named sections; a later section replaces or joins
them by name, never by searching the page's text."""

from __future__ import annotations

import json

from lstmkit.report.render import add_section, write_report


def test_sections_are_written_in_order_and_one_replaces_or_joins_by_name(tmp_path):
    write_report(tmp_path, "a run", [("metrics", "<p>M</p>"), ("settings", "<p>S</p>")])
    page = (tmp_path / "report.html").read_text()
    assert page.index("<p>M</p>") < page.index("<p>S</p>") and "<title>a run</title>" in page
    add_section(tmp_path, "explain", "<p>E1</p>")  # joins before the settings
    add_section(tmp_path, "explain", "<p>E2</p>")  # replaces itself, where it is
    names = [name for name, _ in json.loads((tmp_path / "report.json").read_text())["sections"]]
    assert names == ["metrics", "explain", "settings"]
    page = (tmp_path / "report.html").read_text()
    assert "E1" not in page
    assert page.index("<p>M</p>") < page.index("<p>E2</p>") < page.index("<p>S</p>")


def test_a_page_written_before_report_json_keeps_its_body(tmp_path):
    (tmp_path / "report.html").write_text(
        "<html><head><title>old &amp; run</title></head><body><h1>old</h1><p>kept</p></body></html>"
    )
    add_section(tmp_path, "explain", "<p>new</p>")
    page = (tmp_path / "report.html").read_text()
    assert "<title>old &amp; run</title>" in page and page.index("kept") < page.index("new")
