"""Browser tests of the console: Debian's Chromium driven by Playwright against a live server."""
