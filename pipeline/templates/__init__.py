"""Jinja2 templates of the HTML report (a package so that the templates ship in wheels)."""
