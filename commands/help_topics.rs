//! The texts of `imx help workflow`, `imx help environment` and `imx help contexts` (the man
//! pages' ENVIRONMENT and FILES sections are taken from the same texts).

/// `imx help workflow`.
pub const WORKFLOW: &str = r#"Workflow files

A workflow is one YAML (or JSON) file: a DAG of steps, run by agents. `imx workflow validate -f
FILE` checks one without a store, naming each problem as file:line:col; `imx workflow apply -f
FILE` stores it (a new version when it changed; each version keeps the file as written).

Top-level keys:
  name          the workflow's name (lowercase letters, digits, - and _); required
  description   one line for people
  params        NAME: {type, required, default, enum, description}; type is string, int, float
                or bool; `imx workflow run NAME -p NAME=VALUE` sets them
  timeout       the run timeout (a duration: 500ms, 30s, 10m, 1h30m)
  fail_fast     true: start no new step once one step has failed
  concurrency   {key, limit, on_conflict}: at most `limit` (default 1) runs with the same key
                are active at once; `key` is a template over params and workflow.name, rendered
                when a run starts (e.g. "deploy-{{ params.env }}"). A run over the limit does
                what `on_conflict` says: queue (the default: it waits as `queued`, first come
                first served, its timeout counting from when it gets a slot), cancel_running
                (the oldest active run of the key is cancelled) or skip (it ends at once,
                cancelled, with the reason as its error)
  defaults      timeout, retry, agent and env given to every step (a step's own win)
  steps         the steps, in any order; required
  schedules     when the workflow runs by itself: a list of schedules (below); `workflow apply`
                creates, changes and removes them to match the file
  on            [{workflow, status, params}]: start a run of this workflow when a run of
                `workflow` ends in `status` (default succeeded); `params` maps this workflow's
                params to paths into that run (e.g. version: outputs.version)
  notify        what this workflow's runs send a message about: a list of rules (below);
                `workflow apply` makes this workflow's rules from files match the list (rules
                made by `imx notify rule add` are left alone); each channel must exist

Step keys:
  id            the step's name, unique in the workflow; required
  needs         [ids] of steps that must succeed first
  run           a shell script (sh -c), or
  http          {method, url, headers, json | body, expect_status}, or
  noop: true    a step that does nothing (joins, tests)
  timeout       how long one attempt may take
  retry         {max, backoff: fixed|exponential, initial, max_delay, jitter}
  agent         {labels: {KEY: VALUE}}: only agents with these labels run the step
  env           extra environment variables (values may use templates)
  workdir       the working directory of a `run` step
  if            an expression (below): the step runs only if it is true once its needs allow it;
                false skips it with the reason "condition false"
  when          success (default) | failure | always: which outcome of its needs it runs
                after (below)
  matrix        {NAME: [values], ...}: run the step once per combination of the values (the
                first variable varies slowest); each instance is a step of the run named
                ID[NAME=value,...] in the order written (test[region=eu,shard=1]) and reads its
                values as {{ matrix.NAME }} ($IMX_MATRIX_<NAME>); values are strings, numbers or
                bools without [ ] , =; a step that needs ID waits for every instance
  foreach       "{{ steps.ID.outputs.KEY }}": an output of an upstream step holding a JSON list;
                when that step has succeeded, the step gets one instance per item, named
                ID[0], ID[1], ... (in list order), each reading its item as {{ item }} (and
                {{ item.field }} for objects; $IMX_ITEM). The step itself then succeeds with the
                output `instances` (how many); a step that needs it waits for every instance.
                An empty list runs no instance; an output that is missing or not a JSON list,
                or longer than max_instances, fails the step saying so
  max_instances the most instances a matrix or foreach may make (default 1000, at most 10000);
                a matrix with more combinations is refused when the file is checked
  max_parallel  at most this many instances of the step ready, leased or running at once; the
                others wait (pending) and start in order as earlier ones end
  fail_fast     for a matrix or foreach step (default true): once an instance fails, its
                instances not started yet are skipped ("fail_fast: ... failed"); those already
                running finish. false: the others all run
  The outputs of a matrix or foreach step cannot be read by id (each instance has its own).
  e.g. - id: test
         needs: [build]
         matrix: {region: [eu, us], shard: [1, 2, 3]}
         max_parallel: 2
         run: ./test --region {{ matrix.region }} --shard {{ matrix.shard }}
       - id: each
         needs: [list]
         foreach: "{{ steps.list.outputs.files }}"
         run: ./process {{ item }}

Schedule keys (each entry of `schedules:`; see also `imx schedule --help`):
  name              the schedule's name, unique among all schedules; required
  cron              a 5-field crontab expression or @hourly, @daily, @weekly, @monthly, @yearly
  every             or a fixed interval (at least 1s), counted from `start`
  timezone          the IANA zone `cron` is read in (default UTC)
  dst               {gap: shift|skip, fold: first|last|both}: a local time the clock skips fires
                    when it jumps (shift, default) or not (skip); one it repeats fires at its
                    first, last or both occurrences (default first; both for an hour-wildcard
                    expression, as Vixie cron)
  jitter            delay each run by up to this (the same on every replica)
  start, end        RFC 3339 times: no tick before / after
  params            {NAME: VALUE} for each run
  limit             stop after this many runs
  overlap           skip (default) | buffer_one | buffer_all | cancel_other | allow_all: what a
                    tick does while the previous run is still going
  catchup_window    ticks missed while no scheduler ran fire late if at most this old (default
                    1h); older ones are recorded as missed
  max_catchup       at most this many ticks fire at once after downtime (the latest)
  pause_on_failure  true: pause the schedule when one of its runs fails or times out
Each tick makes at most one run, however many servers or agents fire schedules.

Notify keys (each entry of `notify:`; the options of `imx notify rule add`):
  on                failed | timed_out | cancelled | succeeded | recovered (a success after a run
                    that did not succeed) | missed_schedule | duration_over | stuck; required
  channel           the channel to send to (`imx notify channel add`); required
  for               duration_over: how long a run may go on; stuck: how long without progress
                    (a duration; required for these two, refused for the others)
  after             only when this many runs in a row ended this way (default 1)
  cooldown          after a message, none from this rule for this long (what happens meanwhile is
                    recorded as suppressed)
  group             batch what happens within this window into one message
  e.g. notify: [{on: failed, channel: ops, cooldown: 1h}, {on: duration_over, for: 30m,
  channel: ops}]

Conditions (`when:` and `if:` of a step):
  when: success  the default: the step runs once every need succeeded; a need that failed, or
                 was skipped (by a false `if:` too), skips it ("needs "build", which failed")
  when: always   the step runs once every need has ended, whatever the outcome (cleanup)
  when: failure  the step runs once every need has ended, only if a step upstream of it (its
                 needs, theirs, and so on) failed; else it is skipped, saying so (notify)
  The run's outcome is its steps': it fails if any step failed, whatever ran after (a failed
  build with a cleanup that succeeded is a failed run), and succeeds if every step succeeded
  or was skipped with nothing failed. fail_fast stops every step but `always` and `failure`
  ones. A cancelled or timed-out run starts nothing more, `always` steps included (a cancel
  means stop now; unlike GitHub Actions' always(), which runs after a cancel).
  `if:` is one expression of minijinja's language (as inside {{ }}; the braces may be written
  around it), evaluated when the step's needs allow it to run (for a step without needs, when
  the run starts), by the control plane, never by an agent. It reads:
    params.NAME              the run's params
    steps.ID.status          of a step upstream of it: pending, ready, leased, running,
                             succeeded, failed, skipped or cancelled
    steps.ID.outputs.KEY     outputs of a step upstream of it that succeeded
    run.id, workflow.name, workflow.version
  Operators: == != < <= > >=, and, or, not, in, + - * / // % and ~ (joins strings); literals
  "text", 'text', 1, 2.5, true, false, none, [lists]; tests: is defined, is not defined, is
  none, is true, is false, is number, is string, is in [..], is eq(..); filters: | length,
  | lower, | upper, | int, | float, | trim, | default(..), | first, | last, ... A value that is
  missing (an output the step did not write) is undefined: false, and `is defined` tests it.
  Truth is Jinja's: false, 0, "", none, [] and undefined are false. An `if:` that cannot be
  evaluated (e.g. "a" + 1) fails the step, saying why. `imx workflow validate` reports bad
  syntax where it is, and any variable the step cannot read (a step not upstream of it).
  e.g.
    - id: ship
      needs: [test]
      if: params.env == "prod" and steps.build.outputs.artifact is defined
      run: ./ship
    - id: page-oncall
      needs: [ship]
      when: failure
      run: ./page "{{ run.id }} failed"
    - id: cleanup
      needs: [ship]
      when: always
      if: steps.build.status == "succeeded"
      run: rm -rf build/

A step writes outputs as KEY=VALUE lines to the file named by $IMX_OUTPUT; steps downstream read
them as {{ steps.ID.outputs.KEY }} (see `imx help templates`).

Example:

  name: deploy
  description: Build, test and ship
  params:
    env: {type: string, default: staging, enum: [staging, prod]}
  timeout: 10m
  concurrency: {key: "deploy-{{ params.env }}", limit: 1, on_conflict: queue}
  defaults:
    retry: {max: 2, backoff: exponential, initial: 500ms}
  steps:
    - id: build
      run: make build && echo "artifact=app.tar.gz" >> "$IMX_OUTPUT"
    - id: test
      needs: [build]
      run: make test
    - id: ship
      needs: [test]
      agent: {labels: {os: linux}}
      run: ./ship "{{ steps.build.outputs.artifact }}" --to {{ params.env }}

More in examples/workflows/ of the source tree; the commands are in `imx workflow --help`.
"#;

/// The environment variables imx reads, for `imx help environment` and the man pages.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "IMX_STORE",
        "The local store (a SQLite file), as --store; default ~/.local/share/imx/imx.db.",
    ),
    (
        "IMX_SERVER",
        "A remote control plane (an imx server URL), as --server.",
    ),
    (
        "IMX_DATABASE_URL",
        "A PostgreSQL database (postgres://...): what imx server --database serves and imx init \
         --database creates (cluster mode). Other commands open one with --store postgres://...",
    ),
    (
        "IMX_NO_LISTEN",
        "1: do not LISTEN for other replicas' changes on a PostgreSQL database (PgBouncer in \
         transaction pooling mode), as imx server --no-listen; waiting polls every 250 ms.",
    ),
    (
        "IMX_CONTEXT",
        "The context to use instead of the current one, as --context.",
    ),
    (
        "IMX_TOKEN",
        "The API token for a server; wins over the one `imx login` kept.",
    ),
    (
        "IMX_KEYRING",
        "off (or 0, false, no): do not use the OS keyring; tokens and backup keys go to the \
         0600 fallback file.",
    ),
    (
        "IMX_LEASE",
        "The lease agents of this control plane are granted (e.g. 30s; read by imx server and \
         by local agents).",
    ),
    (
        "IMX_MAX_OUTPUT",
        "The limit on one step's outputs (e.g. 1MiB).",
    ),
    (
        "IMX_MAX_LOG",
        "The cap on the log of one step attempt (e.g. 64MiB).",
    ),
    (
        "IMX_MAX_TOKEN_TTL",
        "The longest a token made through a local store may live (default 90d; imx server \
         --max-token-ttl wins for a server).",
    ),
    (
        "IMX_AUDIT_KEY",
        "The audit checkpoint signing key itself (64 hex digits, a secret), instead of the key \
         file ~/.config/imx/audit-key. On PostgreSQL every replica and admin host needs the same \
         key; the database keeps the checkpoint log and only the key's public half.",
    ),
    (
        "IMX_STORE_KEY",
        "The store key (64 hex digits, a secret) that seals secrets kept in the store, such as \
         notification channels' signing secrets and SMTP passwords; as imx server \
         --store-key-file. Every replica of a PostgreSQL store needs the same key; a local store \
         otherwise keeps its key in the OS keyring (or a 0600 file under ~/.config/imx/store-keys).",
    ),
    (
        "IMX_MAINTENANCE_LEASE",
        "The maintenance lease of imx server replicas on PostgreSQL (default 10s): one replica at \
         a time reaps expired leases and times out runs; another takes over within the lease \
         when it dies or stalls.",
    ),
    (
        "IMX_RETAIN",
        "As imx server --retain (e.g. 30d): the server deletes finished runs that ended longer \
         ago, with their steps, events and log lines (on PostgreSQL, the maintenance leader).",
    ),
    (
        "IMX_AGENT_INSTANCE",
        "imx agent run --instance: a nonce per start of an agent (e.g. systemd's \
         $INVOCATION_ID).",
    ),
    (
        "IMX_CONTAINMENT",
        "imx agent run: subreaper forces the fallback containment of steps; cgroup refuses to \
         start without cgroups.",
    ),
    (
        "IMX_COMPLETE",
        "Set by the shell completion scripts (`imx completions SHELL`): bash, zsh, fish, ... \
         makes imx print completion candidates instead of running a command.",
    ),
    ("NO_COLOR", "Set and not empty: no colour (as --no-color)."),
    (
        "COLUMNS",
        "The width tables are fitted to (by default the terminal's; none when stdout is not a \
         terminal).",
    ),
];

/// The variables every `run` step gets from its agent (beside IMX_PARAM_* and IMX_OUT_*).
pub const STEP_ENVIRONMENT: &[(&str, &str)] = &[
    ("IMX_RUN_ID", "the run's id"),
    ("IMX_STEP_ID", "the step's id"),
    ("IMX_ATTEMPT", "the attempt, from 1"),
    (
        "IMX_IDEMPOTENCY_KEY",
        "the same for every attempt of the step in the run",
    ),
    ("IMX_WORKFLOW", "the workflow's name"),
    (
        "IMX_OUTPUT",
        "a file: KEY=VALUE lines written there are the step's outputs",
    ),
    ("IMX_PARAM_<NAME>", "each param of the run"),
    ("IMX_OUT_<STEP>_<KEY>", "each output of the steps upstream"),
    (
        "IMX_MATRIX_<NAME>",
        "an instance of a `matrix:` step: each of its matrix values",
    ),
    (
        "IMX_ITEM",
        "an instance of a `foreach:` step: its item (strings as they are, other values as JSON)",
    ),
];

/// `imx help environment`.
pub fn environment_text() -> String {
    let mut s = String::from("Environment variables\n\nimx reads:\n\n");
    for (name, what) in ENVIRONMENT {
        s.push_str(&entry(name, what));
    }
    s.push_str(
        "\nEvery `run` step gets (the agent's own IMX_* variables are never passed on):\n\n",
    );
    for (name, what) in STEP_ENVIRONMENT {
        s.push_str(&entry(name, what));
    }
    s
}

/// `  NAME  text`, the text wrapped at 96 columns under itself.
fn entry(name: &str, what: &str) -> String {
    const INDENT: usize = 23;
    let mut out = format!("  {name:<20}");
    if name.len() > 20 {
        out.push('\n');
        out.push_str(&" ".repeat(INDENT - 1));
    }
    let mut col = INDENT - 1;
    for word in what.split_whitespace() {
        if col + 1 + word.len() > 96 && col > INDENT - 1 {
            out.push('\n');
            out.push_str(&" ".repeat(INDENT - 1));
            col = INDENT - 1;
        }
        out.push(' ');
        out.push_str(word);
        col += 1 + word.len();
    }
    out.push('\n');
    out
}

/// The files imx keeps, for `imx help contexts` and the man pages.
pub const FILES: &[(&str, &str)] = &[
    (
        "~/.local/share/imx/imx.db",
        "The default local store ($XDG_DATA_HOME/imx/imx.db; IMX_STORE or --store name another).",
    ),
    (
        "~/.config/imx/config.toml",
        "Contexts and the current one ($XDG_CONFIG_HOME/imx/config.toml).",
    ),
    (
        "~/.config/imx/logins.toml",
        "Which users this client is logged in as on each server, and the active one (no secrets).",
    ),
    (
        "~/.config/imx/credentials.toml",
        "Tokens, mode 0600, only where no OS keyring is available.",
    ),
];

/// `imx help contexts`.
pub fn contexts_text() -> String {
    let mut s = String::from(
        r#"Contexts and logins

A context names where commands act: a local store (a SQLite file) or a remote `imx server`.
One context is current; --context NAME (or IMX_CONTEXT) picks another for one command, and
--store or --server (IMX_STORE, IMX_SERVER) bypass contexts altogether. With no context and no
flag, commands use the default local store.

  imx context add prod --server https://imx.example.com:8443
  imx context add laptop --store ~/imx.db
  imx context use prod          # make it current
  imx context list              # the current one is marked

A login is a token for a server, got with `imx login` (user and password) and kept between
commands: in the OS keyring, or where none is available, in a 0600 file (with a warning). One
client may be logged in as several users on one server; `imx auth switch USER` picks the
active one, `imx auth status` (or `imx whoami`) says who you act as, and `imx logout` revokes
and forgets the token. IMX_TOKEN, when set, is used instead of any kept token.

Files:

"#,
    );
    for (path, what) in FILES {
        s.push_str(&format!("  {path}\n      {what}\n"));
    }
    s
}
