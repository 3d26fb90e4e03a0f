-- Trigger labels (issue 13; as SQLite 0026): the labels of each run a trigger starts (`imx
-- trigger create -l key=value`), a JSON object; NULL when it has none. Append-only: never
-- edit this file.

ALTER TABLE triggers ADD COLUMN labels TEXT;
