"""Project-wide pytest configuration: the replaycheck plugin is loaded by its entry point."""
