-- Who an agent is and who may act for it (issue 9, 10).
--   principal: the principal that registered the agent; only it may claim, heartbeat, report
--              or deregister for it. Agents registered before this migration have none, and
--              must register again.
--   instance:  the supervisor's nonce for the process (`imx agent run --instance`, e.g.
--              systemd's $INVOCATION_ID): a new one means the previous process is gone.
--   pid_scope: where `pid` names a process (boot id and PID namespace), so a replacement on
--              the same host can say that the previous holder's pid is no longer alive.
ALTER TABLE agents ADD COLUMN principal TEXT;
ALTER TABLE agents ADD COLUMN instance TEXT;
ALTER TABLE agents ADD COLUMN pid_scope TEXT;
