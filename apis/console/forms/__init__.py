"""The console's forms: they validate input and turn it into service arguments or patch operations."""
