-- imx store: the lease each agent was granted, and the log bytes of each step's attempt.
-- Append-only.
--
-- An agent is offline once it has not been heard from for its own lease length: the control
-- plane that registered it records the lease it grants (and heartbeats refresh it), so whoever
-- reads the agent list derives the same state, whatever their own settings. Agents registered
-- before this migration get the old default lease, 30 s.
ALTER TABLE agents ADD COLUMN lease_ms INTEGER NOT NULL DEFAULT 30000;

-- Bytes of output stored for the step's current attempt (reset at each claim), so the control
-- plane can cap a step's log without summing its lines.
ALTER TABLE steps ADD COLUMN log_bytes INTEGER NOT NULL DEFAULT 0;
