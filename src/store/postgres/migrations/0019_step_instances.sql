-- Fan-out (issue 13), as SQLite 0025: an instance of a `matrix:` or `foreach:` step keeps what
-- its templates see (`{"matrix": {...}}` or `{"item": ...}`, JSON text) with its row. NULL for
-- every other step. Append-only: never edit this file.

ALTER TABLE steps ADD COLUMN vars TEXT;
