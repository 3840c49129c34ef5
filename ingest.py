"""Build the search index from government reports: python ingest.py [PATH ...] [--index-dir index] [--model M]."""

from reportsearch.cli import ingest_main

if __name__ == "__main__":
    raise SystemExit(ingest_main())
