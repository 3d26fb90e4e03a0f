-- imx store: each workflow version keeps the file it was applied from, exactly as written, so
-- `imx workflow show NAME -o yaml` prints it back and `imx workflow diff` compares sources.
-- Versions applied before this migration have none (NULL).

ALTER TABLE workflows ADD COLUMN source TEXT;
