"""Static checks of the dashboard's page scripts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).resolve().parents[1] / "dashboard" / "views").glob("*.py"))


@pytest.mark.parametrize("page", [p for p in PAGES if p.name != "__init__.py"], ids=lambda p: p.name)
def test_no_bare_string_is_drawn_on_the_page(page: Path) -> None:
    """Streamlit's magic writes every bare top-level expression of a page script onto the page, so
    a string after a constant (an attribute docstring) shows up as text above the page's title."""
    body = ast.parse(page.read_text(encoding="utf-8")).body
    stray = [
        node.lineno
        for index, node in enumerate(body)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and index > 0  # the module docstring is not drawn
    ]
    assert not stray, f"{page.name}: bare strings at lines {stray} would be drawn on the page"
