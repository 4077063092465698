"""Browser tests of the developer portal: Debian's Chromium driven by Playwright against live servers."""
