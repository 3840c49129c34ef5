"""Build the search index from government reports: python ingest.py [PATH ...] [--index-dir index] [--model M]."""

from reportsearch.cli import exit_now, ingest_main

if __name__ == "__main__":
    exit_now(ingest_main())
