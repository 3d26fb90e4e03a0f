-- imx PostgreSQL store, schema version 7: the steps each agent holds and ran last, newest first
-- (the dashboard's agent drill-down and `imx agent show`), as SQLite's migration 0013.
CREATE INDEX steps_by_agent ON steps (agent_name, started_at) WHERE agent_name IS NOT NULL;
