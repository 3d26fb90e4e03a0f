-- Run labels and reruns (issue 13). A run's labels are kept twice: as a JSON object on the run
-- (read with it, NULL when it has none) and one row per label in run_labels, which `run list -l`
-- filters by: run_labels_by_label walks the runs of one key=value newest first. A rerun
-- (`imx run rerun`) records the run it reruns. A notification rule may be scoped to runs with
-- labels (a JSON object; NULL: any run). Append-only: never edit this file.

ALTER TABLE runs ADD COLUMN labels TEXT;
ALTER TABLE runs ADD COLUMN rerun_of TEXT;

CREATE TABLE run_labels (
    run_id TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_labels_by_label ON run_labels (key, value, run_id);

ALTER TABLE notify_rules ADD COLUMN labels TEXT;
