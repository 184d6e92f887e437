"""Database access: the embedded server, the guarded pool and the migrations."""
