"""Serve the report search page and JSON API, or answer queries: python serve.py [--query Q | --queries F]."""

from reportsearch.cli import exit_now, serve_main

if __name__ == "__main__":
    exit_now(serve_main())
