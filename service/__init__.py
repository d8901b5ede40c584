"""The backend behind `replaycheck serve`: ingest, the session store, the API and the viewer."""
