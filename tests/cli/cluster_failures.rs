//! Cluster mode under failure, with real processes: a throwaway PostgreSQL of the test's own
//! (so it can be killed and restarted), three `imx server --database` replicas and four agents
//! of eight slots, each agent given all three replicas (starting on a different one). What is
//! checked comes from the database itself: every run succeeded, every step was granted and
//! recorded as succeeded exactly once (the `step.leased` and `step.succeeded` events), the
//! audit chain verifies.
//!
//! - a replica is SIGKILLed with 200 runs in flight: its agents move to the others;
//! - PostgreSQL restarts mid-run: replicas and agents recover by themselves;
//! - three replicas race to claim 10,000 ready steps: each is granted once;
//! - users, tokens, workflows and runs are changed through all replicas at once: one chain.
//!
//! Skipped (with a message) without PostgreSQL binaries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::json;

use crate::agent_reconnect::free_port;
use crate::env::{Background, SLOW, TestEnv, wait_until};
use crate::http::Api;
use crate::postgres::testdb::TempPostgres;
use crate::server::remote;

const REPLICAS: usize = 3;
const AGENTS: usize = 4;
const SLOTS: u32 = 8;
/// How long a whole batch of runs may take on a loaded machine.
const LONG: Duration = Duration::from_secs(120);

/// A PostgreSQL, three replicas over it and four agents; all stopped on drop (agents first).
struct Cluster {
    /// Agents by name.
    agents: Vec<(String, Background)>,
    replicas: Vec<Option<Background>>,
    ports: Vec<u16>,
    admin: String,
    /// An agent-role token, for agents and the test's own claimers.
    agent_token: String,
    rt: tokio::runtime::Runtime,
    db: String,
    env: TestEnv,
    pg: TempPostgres,
}

impl Cluster {
    /// The database, its schema and admin, three replicas and four agents (each registered);
    /// `None` when the machine has no PostgreSQL. `lease` is the replicas' `IMX_LEASE`.
    fn start(lease: &str) -> Option<Cluster> {
        Cluster::start_with(&[("IMX_LEASE", lease)])
    }

    /// [`start`](Self::start) with these variables for every process (`IMX_LEASE` among them).
    fn start_with(vars: &[(&str, &str)]) -> Option<Cluster> {
        let mut cluster = Cluster::without_agents_with(vars)?;
        cluster.start_agents();
        Some(cluster)
    }

    /// [`start`](Self::start) without the agents.
    fn without_agents(lease: &str) -> Option<Cluster> {
        Cluster::without_agents_with(&[("IMX_LEASE", lease)])
    }

    fn without_agents_with(vars: &[(&str, &str)]) -> Option<Cluster> {
        let pg = TempPostgres::start()?;
        let db = pg.url("postgres");
        let mut env = TestEnv::new().with_var("IMX_KEYRING", "off");
        for (k, v) in vars {
            env = env.with_var(k, v);
        }
        let init = env.run(["init", "--database", &db, "--admin", "root"]);
        init.expect_code(0);
        let admin = init.stdout.trim().to_string();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut cluster = Cluster {
            agents: Vec::new(),
            replicas: Vec::new(),
            ports: (0..REPLICAS).map(|_| free_port()).collect(),
            admin,
            agent_token: String::new(),
            rt,
            db,
            env,
            pg,
        };
        for i in 0..REPLICAS {
            let replica = cluster.replica(i);
            cluster.replicas.push(Some(replica));
        }
        cluster.agent_token = cluster.cli(0, &["token", "create", "--role", "agent", "-q"]);
        Some(cluster)
    }

    /// Start the four agents, agent i on replica i % 3 and knowing the others; wait until all
    /// have registered.
    fn start_agents(&mut self) {
        self.start_agents_named("agent");
    }

    /// [`start_agents`](Self::start_agents), named `PREFIX-0` to `PREFIX-3`.
    fn start_agents_named(&mut self, prefix: &str) {
        let first = self.agents.len();
        for i in 0..AGENTS {
            // Agent i starts on replica i % 3 and knows the others.
            let list = (0..REPLICAS)
                .map(|k| self.url((i + k) % REPLICAS))
                .collect::<Vec<_>>()
                .join(",");
            let mut cmd = self.env.std_cmd();
            cmd.env_remove("IMX_STORE")
                .env("IMX_TOKEN", &self.agent_token)
                .args(["--server", &list]);
            let slots = SLOTS.to_string();
            let agent = self.env.spawn_with(
                cmd,
                [
                    "agent",
                    "run",
                    "--name",
                    &format!("{prefix}-{i}"),
                    "--slots",
                    &slots,
                ],
            );
            self.agents.push((format!("{prefix}-{i}"), agent));
        }
        let registered = format!(
            "SELECT count(*) FROM agents WHERE name LIKE '{prefix}-%' AND stopped_at IS NULL"
        );
        wait_until("the four agents to register", SLOW, || {
            self.try_count(&registered) == Some(AGENTS as i64)
        });
        assert_eq!(self.agents.len(), first + AGENTS);
    }

    /// `http://127.0.0.1:PORT` of replica `i`.
    fn url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    /// Start replica `i` on its port, once it prints its URL.
    fn replica(&self, i: usize) -> Background {
        let listen = format!("127.0.0.1:{}", self.ports[i]);
        let server = self
            .env
            .spawn(["server", "--listen", &listen, "--database", &self.db]);
        wait_until(&format!("replica {i} to print its URL"), SLOW, || {
            server.stdout().trim().starts_with("http://")
        });
        server
    }

    /// `imx --server URL(i) ARGS` as the admin; its stdout, trimmed, after checking exit 0.
    #[track_caller]
    fn cli(&self, i: usize, args: &[&str]) -> String {
        let out = remote(&self.env, &self.url(i), &self.admin, args);
        out.expect_code(0);
        out.stdout.trim().to_string()
    }

    /// Apply a workflow through replica 0.
    fn apply(&self, name: &str, yaml: &str) {
        let file = self.env.write(&format!("{name}.yaml"), yaml);
        self.cli(0, &["workflow", "apply", "-f", file.to_str().unwrap()]);
    }

    /// Start `n` runs of `workflow` through the API, spread over the replicas `through`, a few
    /// at a time; their ids.
    fn start_runs(&self, workflow: &str, n: usize, through: &[usize]) -> Vec<String> {
        let apis: Vec<Api> = through.iter().map(|&i| Api::new(&self.url(i))).collect();
        let body = json!({ "workflow": workflow, "params": {} });
        self.rt.block_on(async {
            let mut ids = Vec::with_capacity(n);
            for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
                let replies =
                    futures_util::future::join_all(chunk.iter().map(|&k| {
                        apis[k % apis.len()].post("/api/v1/runs", Some(&self.admin), &body)
                    }))
                    .await;
                for r in replies {
                    assert_eq!(r.status, 201, "starting a run: {r:?}");
                    ids.push(r.json["id"].as_str().unwrap().to_string());
                }
            }
            ids
        })
    }

    /// The rows of `sql`, or the error (the database may be down).
    fn try_query(&self, sql: &str) -> Result<Vec<tokio_postgres::Row>, String> {
        self.rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&self.db, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let conn = tokio::spawn(conn);
            let rows = client.query(sql, &[]).await.map_err(|e| e.to_string());
            drop(client);
            let _ = conn.await;
            rows
        })
    }

    #[track_caller]
    fn query(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        self.try_query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The one BIGINT `sql` selects, if the database answers.
    fn try_count(&self, sql: &str) -> Option<i64> {
        self.try_query(sql).ok()?.first()?.try_get(0).ok()
    }

    #[track_caller]
    fn count(&self, sql: &str) -> i64 {
        self.query(sql)[0].get(0)
    }

    /// Runs by status, e.g. `queued 3, running 20, succeeded 177`.
    fn run_statuses(&self) -> String {
        match self.try_query("SELECT status, count(*) FROM runs GROUP BY status ORDER BY status") {
            Ok(rows) => rows
                .iter()
                .map(|r| format!("{} {}", r.get::<_, String>(0), r.get::<_, i64>(1)))
                .collect::<Vec<_>>()
                .join(", "),
            Err(e) => format!("(the database did not answer: {e})"),
        }
    }

    /// The end of every process's stderr, for a failure message.
    fn logs(&self) -> String {
        let tail = |s: String| {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(15)..].join("\n")
        };
        let mut out = String::new();
        for (i, r) in self.replicas.iter().enumerate() {
            if let Some(r) = r {
                let _ = writeln!(
                    out,
                    "--- replica {i} ({})\n{}",
                    self.url(i),
                    tail(r.stderr())
                );
            }
        }
        for (name, a) in &self.agents {
            let _ = writeln!(out, "--- {name}\n{}", tail(a.stderr()));
        }
        out
    }

    /// Wait until no run is queued or running.
    #[track_caller]
    fn wait_runs_ended(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let open =
                self.try_count("SELECT count(*) FROM runs WHERE status IN ('queued', 'running')");
            if open == Some(0) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "expected every run to end within {timeout:?}; runs now: {}\n{}",
                self.run_statuses(),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every run and step succeeded, and each step was recorded as succeeded exactly once.
    #[track_caller]
    fn expect_all_succeeded_once(&self, runs: usize, steps_per_run: usize) {
        let ok = self.count("SELECT count(*) FROM runs WHERE status = 'succeeded'");
        assert_eq!(
            ok,
            runs as i64,
            "expected all {runs} runs succeeded; runs: {}\n{}",
            self.run_statuses(),
            self.logs()
        );
        let steps = (runs * steps_per_run) as i64;
        let done = self.count("SELECT count(*) FROM steps WHERE status = 'succeeded'");
        assert_eq!(done, steps, "expected {steps} steps succeeded, saw {done}");
        let twice = self.query(
            "SELECT run_id, step_id, count(*) FROM events WHERE kind = 'step.succeeded' \
             GROUP BY run_id, step_id HAVING count(*) <> 1 LIMIT 5",
        );
        assert!(
            twice.is_empty(),
            "steps recorded as succeeded more than once: {:?}",
            twice
                .iter()
                .map(|r| (
                    r.get::<_, String>(0),
                    r.get::<_, String>(1),
                    r.get::<_, i64>(2)
                ))
                .collect::<Vec<_>>()
        );
        let recorded = self.count("SELECT count(*) FROM events WHERE kind = 'step.succeeded'");
        assert_eq!(
            recorded, steps,
            "expected one step.succeeded event per step"
        );
    }

    /// Every run of `ids` is in the database (none lost).
    #[track_caller]
    fn expect_runs_exist(&self, ids: &[String]) {
        let rows = self.query("SELECT id FROM runs");
        let have: std::collections::HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
        let missing: Vec<(usize, &String)> = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !have.contains(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "expected every run the API said it created to be in the database; missing \
             (creation order, id): {missing:?}"
        );
    }

    /// How many steps `agent` was granted after event id `after`.
    fn grants_to(&self, agent: &str, after: i64) -> i64 {
        self.count(&format!(
            "SELECT count(*) FROM events WHERE kind = 'step.leased' AND id > {after} \
             AND (data::jsonb)->>'agent' = '{agent}'"
        ))
    }

    /// The newest event id.
    fn last_event(&self) -> i64 {
        self.count("SELECT coalesce(max(id), 0) FROM events")
    }

    /// Whether replica `i` says it leads maintenance (`imx_maintenance_leader` on /metrics);
    /// `None` when it does not answer (stopped) or does not say.
    fn leads(&self, i: usize) -> Option<bool> {
        let url = format!("{}/metrics", self.url(i));
        let text = self.rt.block_on(async {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .ok()?;
            client.get(&url).send().await.ok()?.text().await.ok()
        })?;
        let line = text
            .lines()
            .find(|l| l.starts_with("imx_maintenance_leader "))?;
        Some(line.trim_end().ends_with(" 1"))
    }

    /// The one replica (of those in `among`) that leads maintenance, once exactly one does.
    #[track_caller]
    fn leader(&self, among: &[usize]) -> usize {
        let deadline = Instant::now() + SLOW;
        loop {
            let said: Vec<(usize, Option<bool>)> =
                among.iter().map(|&i| (i, self.leads(i))).collect();
            let leaders: Vec<usize> = said
                .iter()
                .filter(|(_, l)| *l == Some(true))
                .map(|(i, _)| *i)
                .collect();
            if leaders.len() == 1 {
                return leaders[0];
            }
            assert!(
                Instant::now() < deadline,
                "expected exactly one of replicas {among:?} to lead maintenance; they said \
                 {said:?} (Some(true): leads, None: no answer or no imx_maintenance_leader)"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A token revoked through each replica is refused by the next within a second, though
    /// that one had just accepted (and cached) it. Tokens are named `PREFIX0`...
    #[track_caller]
    fn expect_revocations_spread(&self, prefix: &str) {
        for r in 0..REPLICAS {
            let other = (r + 1) % REPLICAS;
            let name = format!("{prefix}{r}");
            let secret = self.cli(
                r,
                &["token", "create", "--role", "viewer", "--name", &name, "-q"],
            );
            let (revoker, checker) = (Api::new(&self.url(r)), Api::new(&self.url(other)));
            let (waited, status) = self.rt.block_on(async {
                for api in [&checker, &checker, &revoker] {
                    let ok = api.get("/api/v1/whoami", Some(&secret)).await;
                    assert_eq!(ok.status, 200, "the new token works: {ok:?}");
                }
                let gone = revoker
                    .send(
                        "DELETE",
                        &format!("/api/v1/tokens/{name}"),
                        Some(&self.admin),
                        crate::http::Body::None,
                    )
                    .await;
                assert_eq!(
                    gone.status, 200,
                    "revoking {name} through replica {r}: {gone:?}"
                );
                let revoked = Instant::now();
                loop {
                    let seen = checker.get("/api/v1/whoami", Some(&secret)).await;
                    if seen.status != 200 || revoked.elapsed() > SLOW {
                        return (revoked.elapsed(), seen.status);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
            assert_eq!(
                status, 401,
                "expected replica {other} to refuse a token revoked through replica {r}; \
                 it still answered {status} after {waited:?}"
            );
            assert!(
                waited <= Duration::from_secs(1),
                "expected replica {other} to refuse a token revoked through replica {r} within 1 s; \
                 it took {waited:?}"
            );
            eprintln!("revoked through replica {r}, refused by replica {other} after {waited:?}");
        }
    }

    /// Every replica and agent is still running.
    #[track_caller]
    fn expect_all_alive(&mut self) {
        let mut dead = Vec::new();
        for (i, r) in self.replicas.iter_mut().enumerate() {
            if let Some(status) = r.as_mut().and_then(Background::try_exit) {
                dead.push(format!("replica {i} exited ({status})"));
            }
        }
        for (name, a) in &mut self.agents {
            if let Some(status) = a.try_exit() {
                dead.push(format!("{name} exited ({status})"));
            }
        }
        assert!(dead.is_empty(), "{}\n{}", dead.join("; "), self.logs());
    }
}

fn agent_name(i: usize) -> String {
    format!("agent-{i}")
}

/// A workflow whose first step waits for `gate` to exist, then two noop steps after it.
fn gated(name: &str, gate: &std::path::Path) -> String {
    format!(
        "name: {name}\nsteps:\n  - id: wait\n    run: until [ -e {gate} ]; do sleep 0.2; done\n  \
         - id: b\n    needs: [wait]\n    noop: true\n  - id: c\n    needs: [wait]\n    noop: true\n",
        gate = gate.display()
    )
}

#[test]
fn a_replica_killed_with_200_runs_in_flight_loses_nothing_and_its_agents_move() {
    let Some(mut c) = Cluster::start("10s") else {
        return;
    };
    let gate = c.env.home().join("gate");
    c.apply("gated", &gated("gated", &gate));
    let ids = c.start_runs("gated", 200, &[0, 1, 2]);
    assert_eq!(ids.len(), 200);
    // Every slot busy: the agents on replica 0 (agent-0, agent-3) hold leases through it.
    wait_until("the agents to fill their slots", LONG, || {
        c.try_count("SELECT count(*) FROM steps WHERE status = 'running'")
            == Some(i64::from(SLOTS) * AGENTS as i64)
    });

    let mark = c.last_event();
    let mut victim = c.replicas[0].take().unwrap();
    victim.signal(Signal::SIGKILL);
    victim.wait_exit(SLOW);
    std::fs::write(&gate, "").unwrap();

    c.wait_runs_ended(LONG);
    c.expect_all_succeeded_once(200, 3);
    // The leases held through the dead replica were kept: nothing expired or was granted twice.
    let lost = c.count("SELECT count(*) FROM events WHERE kind = 'step.lease_expired'");
    assert_eq!(lost, 0, "expected no lease to expire\n{}", c.logs());
    for i in [0, 3] {
        let name = agent_name(i);
        let log = c.agents[i].1.stderr();
        assert!(
            log.contains(&format!("moving to {}/", c.url(1))),
            "expected {name} to say it moved to replica 1:\n{log}"
        );
        let after = c.grants_to(&name, mark);
        assert!(
            after > 0,
            "expected {name} to claim work through another replica after the kill\n{}",
            c.logs()
        );
    }
    c.expect_all_alive();
    // Whichever replica led maintenance, one of the two left leads it now.
    c.leader(&[1, 2]);
}

#[test]
fn postgres_restarted_mid_run_replicas_and_agents_recover_and_lose_nothing() {
    let Some(mut c) = Cluster::start("10s") else {
        return;
    };
    let gate = c.env.home().join("gate");
    c.apply("gated", &gated("gated", &gate));
    let ids = c.start_runs("gated", 100, &[0, 1, 2]);
    wait_until("the agents to fill their slots", LONG, || {
        c.try_count("SELECT count(*) FROM steps WHERE status = 'running'")
            == Some(i64::from(SLOTS) * AGENTS as i64)
    });

    // The database goes away as in a crash; steps finish while it is down.
    c.pg.stop_immediate();
    std::fs::write(&gate, "").unwrap();
    let down = Instant::now();
    while down.elapsed() < Duration::from_secs(3) {
        c.expect_all_alive();
        std::thread::sleep(Duration::from_millis(100));
    }
    c.pg.start_again();
    c.wait_runs_ended(LONG);
    c.expect_runs_exist(&ids);
    c.expect_all_succeeded_once(ids.len(), 3);
    c.expect_all_alive();

    // Again, as a kill -9 of the postmaster, back at once: with work in flight on every replica.
    let gate2 = c.env.home().join("gate2");
    c.apply("gated2", &gated("gated2", &gate2));
    let more = c.start_runs("gated2", 60, &[0, 1, 2]);
    wait_until("the agents to fill their slots again", LONG, || {
        c.try_count("SELECT count(*) FROM steps WHERE status = 'running'")
            == Some(i64::from(SLOTS) * AGENTS as i64)
    });
    c.pg.kill9();
    c.pg.start_again();
    std::fs::write(&gate2, "").unwrap();
    c.wait_runs_ended(LONG);
    c.expect_runs_exist(&more);
    c.expect_all_succeeded_once(ids.len() + more.len(), 3);
    c.expect_all_alive();

    // New work through every replica afterwards.
    let last = c.start_runs("gated", 30, &[0, 1, 2]);
    c.wait_runs_ended(LONG);
    c.expect_all_succeeded_once(ids.len() + more.len() + last.len(), 3);
    c.expect_all_alive();
    // The replicas hear each other again (token caches emptied across replicas), and one of
    // them leads maintenance.
    c.expect_revocations_spread("after-restart");
    c.leader(&[0, 1, 2]);
}

/// The replicas' maintenance lease in the leader test.
const MAINTENANCE_LEASE: Duration = Duration::from_secs(3);

#[test]
fn a_stalled_maintenance_leader_is_replaced_and_expired_leases_are_reaped_within_a_lease() {
    let lease = format!("{}s", MAINTENANCE_LEASE.as_secs());
    let Some(mut c) = Cluster::start_with(&[
        ("IMX_LEASE", "5s"),
        ("IMX_MAINTENANCE_LEASE", lease.as_str()),
    ]) else {
        return;
    };
    let gate = c.env.home().join("gate");
    c.apply("gated", &gated("gated", &gate));
    let ids = c.start_runs("gated", 8, &[0, 1, 2]);
    wait_until("the gated steps to run", LONG, || {
        c.try_count("SELECT count(*) FROM steps WHERE status = 'running'") == Some(8)
    });
    let leader = c.leader(&[0, 1, 2]);
    let term_before = c.count("SELECT coalesce(max(term), 0) FROM leader_lease");

    // The agents die holding their leases, and the leader stalls.
    for (_, a) in &mut c.agents {
        a.signal(Signal::SIGKILL);
        a.wait_exit(SLOW);
    }
    c.replicas[leader].as_ref().unwrap().signal(Signal::SIGSTOP);
    // No one renews the step leases now: they run out at the latest of these.
    let expires =
        c.count("SELECT max(lease_until) FROM steps WHERE status IN ('leased', 'running')");
    wait_until("another replica to reap the 8 expired leases", LONG, || {
        c.try_count("SELECT count(*) FROM events WHERE kind = 'step.lease_expired'") == Some(8)
    });
    let reaped = c.count("SELECT max(time) FROM events WHERE kind = 'step.lease_expired'");
    let late = Duration::from_millis(u64::try_from(reaped - expires).unwrap_or(0));
    let others: Vec<usize> = (0..REPLICAS).filter(|&i| i != leader).collect();
    let successor = c.leader(&others);
    let term_after = c.count("SELECT coalesce(max(term), 0) FROM leader_lease");
    eprintln!(
        "leader {leader} stopped; replica {successor} took over (term {term_before} -> \
         {term_after}) and reaped {late:?} after the leases ran out"
    );
    assert!(term_after > term_before, "expected a new maintenance term");
    // Within one maintenance lease, plus a second for the reaper's tick on a loaded machine.
    assert!(
        late <= MAINTENANCE_LEASE + Duration::from_secs(1),
        "expected the expired leases reaped within one maintenance lease \
         ({MAINTENANCE_LEASE:?}) of running out; it took {late:?}"
    );

    // The old leader wakes (and must not act on its lapsed term); new agents finish the runs.
    c.replicas[leader].as_ref().unwrap().signal(Signal::SIGCONT);
    c.agents.clear();
    c.start_agents_named("late");
    std::fs::write(&gate, "").unwrap();
    c.wait_runs_ended(LONG);
    c.expect_all_succeeded_once(ids.len(), 3);
    let attempts: Vec<(String, i64, String)> = c
        .query(
            "SELECT s.run_id, s.attempt, coalesce(string_agg(e.kind || ' ' || e.data, '; ' \
             ORDER BY e.id), '') FROM steps s LEFT JOIN events e ON e.run_id = s.run_id \
             AND e.step_id = s.step_id WHERE s.step_id = 'wait' GROUP BY s.run_id, s.attempt",
        )
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    // Each ran again after its lease was lost: normally as attempt 2. A claim the killed
    // agent left waiting (long-poll) on a replica may still be answered after the reap, to
    // nobody: that grant's lease expires too and the step runs as attempt 3.
    assert!(
        attempts.iter().all(|a| a.1 >= 2),
        "expected the 8 reaped steps to run again, as attempt 2 or later; (run, attempt, \
         events): {attempts:#?}\n{}",
        c.logs()
    );
    if attempts.iter().any(|a| a.1 > 2) {
        eprintln!("some reaped steps lost their lease again: {attempts:#?}");
    }
    c.expect_all_alive();
    c.leader(&[0, 1, 2]);
}

/// What one claimer was granted: (run, step, attempt) and the replica it claimed through.
type Granted = Vec<(String, String, u64, usize)>;

/// Register agent `name` through `api` and claim up to `max` steps at a time until a claim
/// comes back empty; everything it was granted.
async fn race(api: Api, token: String, name: String, replica: usize, max: u32) -> Granted {
    let reg = json!({
        "name": name, "labels": {}, "slots": max, "hostname": "racer", "pid": 1,
        "version": "test",
    });
    let r = api.post("/api/v1/agents", Some(&token), &reg).await;
    assert_eq!(r.status, 201, "registering {name}: {r:?}");
    let id = r.json["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/agents/{id}/claim");
    let mut got = Granted::new();
    loop {
        let r = api
            .post(&path, Some(&token), &json!({ "max": max, "wait_ms": 0 }))
            .await;
        assert_eq!(r.status, 200, "{name} claiming: {r:?}");
        let tasks = r.json.as_array().unwrap();
        if tasks.is_empty() {
            return got;
        }
        for t in tasks {
            let lease = &t["lease"];
            got.push((
                lease["run_id"].as_str().unwrap().to_string(),
                lease["step_id"].as_str().unwrap().to_string(),
                lease["attempt"].as_u64().unwrap(),
                replica,
            ));
        }
    }
}

#[test]
fn three_replicas_racing_for_10000_ready_steps_grant_each_once() {
    // Leases outlast the test: no step may become ready again and be granted a second time.
    let Some(c) = Cluster::without_agents("10m") else {
        return;
    };
    // 100 runs of 100 independent noop steps: 10,000 ready steps.
    let mut yaml = String::from("name: wide\nsteps:\n");
    for i in 0..100 {
        let _ = write!(yaml, "  - id: s{i:03}\n    noop: true\n");
    }
    c.apply("wide", &yaml);
    c.start_runs("wide", 100, &[0, 1, 2]);
    let ready = c.count("SELECT count(*) FROM steps WHERE status = 'ready'");
    assert_eq!(ready, 10_000, "expected 10,000 ready steps before the race");

    // Four claimers on each replica, eight steps a claim (an agent's slots), all at once.
    let started = Instant::now();
    let granted: Granted = c.rt.block_on(async {
        let racers: Vec<_> = (0..REPLICAS * AGENTS)
            .map(|k| {
                let replica = k % REPLICAS;
                tokio::spawn(race(
                    Api::new(&c.url(replica)),
                    c.agent_token.clone(),
                    format!("racer-{k}"),
                    replica,
                    SLOTS,
                ))
            })
            .collect();
        let mut all = Granted::new();
        for r in racers {
            all.extend(r.await.unwrap());
        }
        all
    });
    eprintln!(
        "10,000 ready steps claimed through 3 replicas by 12 claimers: {:?}",
        started.elapsed()
    );

    // What the claimers were given: every step, once, on its first attempt.
    let mut seen = std::collections::HashMap::new();
    for (run, step, attempt, replica) in &granted {
        assert_eq!(*attempt, 1, "{run}/{step} was granted as attempt {attempt}");
        if let Some(first) = seen.insert((run.clone(), step.clone()), *replica) {
            panic!("{run}/{step} was granted twice: through replica {first} and {replica}");
        }
    }
    assert_eq!(
        granted.len(),
        10_000,
        "expected 10,000 grants in all, saw {}",
        granted.len()
    );
    for r in 0..REPLICAS {
        let n = granted.iter().filter(|g| g.3 == r).count();
        assert!(
            n > 0,
            "expected replica {r} to grant some steps (grants: {})",
            granted.len()
        );
        eprintln!("replica {r}: {n} grants");
    }
    // What the store recorded: each step leased once, one step.leased event each.
    let leased = c.count("SELECT count(*) FROM steps WHERE status = 'leased' AND attempt = 1");
    assert_eq!(leased, 10_000, "expected 10,000 steps leased on attempt 1");
    let odd = c.query(
        "SELECT s.run_id, s.step_id, count(e.id) FROM steps s \
         LEFT JOIN events e ON e.kind = 'step.leased' AND e.run_id = s.run_id \
         AND e.step_id = s.step_id GROUP BY s.run_id, s.step_id HAVING count(e.id) <> 1 LIMIT 5",
    );
    assert!(
        odd.is_empty(),
        "expected one step.leased event per step; these differ: {:?}",
        odd.iter()
            .map(|r| (
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, i64>(2)
            ))
            .collect::<Vec<_>>()
    );
}

#[test]
fn concurrent_changes_through_every_replica_keep_one_audit_chain_and_revocations_reach_every_replica()
 {
    let Some(c) = Cluster::start("30s") else {
        return;
    };
    c.apply("quick", "name: quick\nsteps:\n  - id: a\n    noop: true\n");
    let before = c.count("SELECT count(*) FROM audit");
    // One client per replica, at once: users, tokens, workflows and runs.
    std::thread::scope(|s| {
        for r in 0..REPLICAS {
            let c = &c;
            s.spawn(move || {
                for k in 0..4 {
                    let user = format!("u{r}x{k}");
                    c.cli(r, &["user", "create", &user, "--role", "operator"]);
                    let tok = format!("t{r}x{k}");
                    c.cli(
                        r,
                        &["token", "create", "--user", &user, "--name", &tok, "-q"],
                    );
                    let file = c.env.write(
                        &format!("w{r}x{k}.yaml"),
                        &format!("name: w{r}x{k}\nsteps:\n  - id: a\n    noop: true\n"),
                    );
                    c.cli(r, &["workflow", "apply", "-f", file.to_str().unwrap()]);
                    c.cli(r, &["workflow", "run", "quick", "-q"]);
                    c.cli((r + 1) % REPLICAS, &["token", "revoke", &tok]);
                    c.cli(
                        (r + 2) % REPLICAS,
                        &["user", "update", &user, "--role", "viewer"],
                    );
                }
            });
        }
    });
    c.wait_runs_ended(LONG);
    let out = c.env.run(["--store", &c.db, "audit", "verify"]);
    assert_eq!(
        out.code, 0,
        "expected `audit verify` to pass after concurrent writes on every replica:\n{}{}",
        out.stdout, out.stderr
    );
    let rows = c.query("SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM audit");
    let (n, lo, hi): (i64, i64, i64) = (rows[0].get(0), rows[0].get(1), rows[0].get(2));
    assert_eq!((lo, hi), (1, n), "expected audit seq 1..={n} without gaps");
    assert!(
        n >= before + 12 * 6,
        "expected at least {} audit records, saw {n}",
        before + 12 * 6
    );

    // A token revoked through one replica is refused by another within a second, though that
    // one had just accepted (and cached) it.
    c.expect_revocations_spread("probe");
}
