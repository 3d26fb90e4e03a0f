-- Who an agent is and who may act for it (issue 9, 10).
--   principal: the principal that registered the agent; only it may claim, heartbeat, report
--              or deregister for it.
--   instance:  the supervisor's nonce for the process (`imx agent run --instance`, e.g.
--              systemd's $INVOCATION_ID): a new one means the previous process is gone.
--   pid_scope: where `pid` names a process (boot id and PID namespace), so a replacement on
--              the same host can say that the previous holder's pid is no longer alive.
ALTER TABLE agents ADD COLUMN principal TEXT;
ALTER TABLE agents ADD COLUMN instance TEXT;
ALTER TABLE agents ADD COLUMN pid_scope TEXT;

-- Agents registered before now are bound to no one: their processes are refused from here on
-- and must register again. Mark them stopped, so that registering again under the same name
-- succeeds at once instead of waiting for them to go offline.
UPDATE agents SET stopped_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
WHERE stopped_at IS NULL;
