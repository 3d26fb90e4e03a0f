//! Persistence: the SQLite store.
