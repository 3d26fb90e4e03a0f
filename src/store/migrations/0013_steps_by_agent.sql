-- imx store: the steps each agent holds and ran last, newest first (the dashboard's agent
-- drill-down and `imx agent show`). A step keeps the name of the agent that took its current
-- attempt, so this reads an agent's history without scanning every step. Append-only.
CREATE INDEX steps_by_agent ON steps (agent_name, started_at) WHERE agent_name IS NOT NULL;
