//! The texts of `imx help workflow`, `imx help environment` and `imx help contexts` (the man
//! pages' ENVIRONMENT and FILES sections are taken from the same texts).

/// `imx help workflow`, and `imx-workflow(5)` (the man page is made from this text). Every key
/// the parser accepts is named here, under the heading of its section (`imx::spec::
/// documented_keys()`; tests/cli/help_topics.rs checks it), as are the template variables,
/// filters, tests and functions.
pub const WORKFLOW: &str = r#"Workflow files

A workflow is one YAML (or JSON) file: a DAG of steps, run by agents. `imx workflow validate -f
FILE` checks one without a store, naming each problem as file:line:col; `imx workflow apply -f
FILE` stores it (a new version when it changed; each version keeps the file as written). Keys
not listed here are an error (with a "did you mean"). Durations are written 500ms, 30s, 10m,
1h30m, 2d.

Top-level keys:
  name          the workflow's name (lowercase letters, digits, - and _); required
  description   one line for people
  params        NAME: {type, required, default, enum, description} (Param keys, below);
                `imx workflow run NAME -p NAME=VALUE` sets them
  timeout       the run timeout (a duration: 500ms, 30s, 10m, 1h30m)
  fail_fast     true: start no new step once one step has failed
  concurrency   {key, limit, on_conflict}: at most `limit` runs with the same key are active at
                once (Concurrency keys, below)
  defaults      timeout, retry, agent and env given to every step (Defaults keys, below; a
                step's own win)
  steps         the steps, in any order; required
  schedules     when the workflow runs by itself: a list of schedules (below); `workflow apply`
                creates, changes and removes them to match the file
  on            [{workflow, status, params}]: start a run of this workflow when a run of
                `workflow` ends in `status` (On keys, below)
  notify        what this workflow's runs send a message about: a list of rules (below);
                `workflow apply` makes this workflow's rules from files match the list (rules
                made by `imx notify rule add` are left alone); each channel must exist

Step keys:
  id            the step's name, unique in the workflow; required
  needs         [ids] of steps that must succeed first
  run           a shell script (sh -c), or
  http          {method, url, headers, json | body, expect_status} (HTTP keys, below), or
  noop: true    a step that does nothing (joins, tests), or
  approval      {approvers, timeout, message}: a step that waits for a person (Approval keys)
  timeout       how long one attempt may take
  retry         {max, backoff: fixed|exponential, initial, max_delay, jitter} (Retry keys)
  agent         {labels: {KEY: VALUE}}: only agents with these labels run the step
  env           extra environment variables (values may use templates)
  workdir       the working directory of a `run` step (a template)
  if            an expression (below): the step runs only if it is true once its needs allow it;
                false skips it with the reason "condition false"
  when          success (default) | failure | always: which outcome of its needs it runs
                after (below)
  artifacts     [paths or globs] relative to a `run` step's working directory (`*` does not
                cross /; a folder takes every file under it): once the step succeeds the agent
                uploads these files (each checksummed, SHA-256) and keeps them with the run; a
                pattern that matches nothing, a file outside the working directory, or more
                than the limit (IMX_ARTIFACT_MAX_STEP per step, IMX_ARTIFACT_MAX_RUN per run)
                fails the step, naming the file. A failed step uploads nothing.
                `imx run artifacts RUN` lists them, `imx artifact get RUN PATH` downloads one
  inputs        [ids] of steps this `run` step comes after (through needs) that have
                `artifacts:`: their files are put in its working directory, at the same
                paths, before it starts

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
  `imx run retry RUN --from ID` of a matrix step reruns every instance; of a foreach step, or
  of a step upstream of one, removes its instances and expands it anew (from its source's new
  output if the source reruns too); of one instance (--from 'each[2]'), it and what follows.
  e.g. - id: test
         needs: [build]
         matrix: {region: [eu, us], shard: [1, 2, 3]}
         max_parallel: 2
         run: ./test --region {{ matrix.region }} --shard {{ matrix.shard }}
       - id: each
         needs: [list]
         foreach: "{{ steps.list.outputs.files }}"
         run: ./process {{ item }}

Approval keys (a step's `approval:`):
  approvers     {users: [NAMES], roles: [ROLES]}: who may approve or reject it (at least one
                name; admins always may); required
  timeout       past this long waiting, the step fails ("approval timed out"); without it, it
                waits as long as the run may last
  message       what the approver is asked (a template over params and upstream outputs)
No agent runs an approval step: timeout, retry, agent, env and workdir are refused on it. Once
its needs have succeeded the step is `waiting` (its run stays `running`; `imx run list
--status waiting` lists such runs, `on: approval` rules send a message) until `imx run approve
RUN STEP [--comment TEXT]` (it succeeds; its outputs `decision`, `by` and `comment` are there for
the steps downstream) or `imx run reject RUN STEP [--comment TEXT]` (it fails with the rejection
and comment as its error, and the steps downstream are skipped). `run show` and the audit trail
(run.approve, run.reject) say who decided, when, and why. e.g.
  - id: approve
    needs: [build]
    approval: {approvers: {roles: [admin], users: [alice]}, timeout: 2h,
               message: "Ship {{ params.version }}?"}

Approvers keys (`approvers:` of an approval step; at least one name in all):
  users         [NAMES]: these users may approve or reject
  roles         [ROLES]: holders of these roles (viewer, operator, admin) may

Defaults keys (`defaults:`; each applies to the steps that do not set their own):
  timeout       every step's attempt timeout
  retry         every step's retry policy (Retry keys)
  agent         every step's agent selector (Agent keys)
  env           variables every step gets; a step's own `env` keys win
    e.g. defaults: {timeout: 10m, retry: {max: 2}, env: {RUST_LOG: info}}

Param keys (each entry of `params:`; `NAME: {}` is an optional string):
  type          string (the default), int, float or bool; `-p` values are checked and typed
  required      true: every run must set it
  default       the value when a run does not set it (of the param's type)
  enum          [values]: the only values allowed
  description   one line for people (`imx workflow show`)
    e.g. params: {version: {type: string, required: true}, shards: {type: int, default: 4}}

HTTP keys (`http:` of a step; url, header values, body and json strings are templates):
  method        GET (the default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS
  url           the URL; required
  headers       {NAME: VALUE} request headers
  json          a JSON body, written as YAML (sent with Content-Type: application/json)
  body          or a text body (not both)
  expect_status a status code or a list of them that counts as success (default: any 2xx)
The step's outputs are `status` and `body` (its first 64 KiB).
    e.g. http: {method: POST, url: "https://chat.example/hook", json: {text: "{{ params.v }}"}}

Retry keys (`retry:` of a step or of `defaults`):
  max           retries after the first attempt (0 to 100; default 0: none)
  backoff       exponential (the default: each delay twice the last) or fixed
  initial       the first delay (default 1s)
  max_delay     the longest delay (default 5m)
  jitter        a fraction from 0.0 to 1.0 each delay is varied by (default 0.2)
    e.g. retry: {max: 3, backoff: exponential, initial: 2s, max_delay: 1m}

Agent keys (`agent:` of a step or of `defaults`):
  labels        {KEY: VALUE}: only agents registered with all these labels run the step
    e.g. agent: {labels: {os: linux, gpu: "true"}}

Concurrency keys (`concurrency:`):
  key           a template over params and workflow.name, rendered when a run starts (e.g.
                "deploy-{{ params.env }}"); runs with the same key share the limit
  limit         how many runs of the key may be active at once (default 1)
  on_conflict   what a run over the limit does: queue (the default: it waits as `queued`,
                first come first served, its timeout counting from when it gets a slot),
                cancel_running (the oldest active run of the key is cancelled) or skip (it ends
                at once, cancelled, with the reason as its error)
    e.g. concurrency: {key: "deploy-{{ params.env }}", limit: 1, on_conflict: queue}

On keys (each entry of `on:`; one mapping is accepted for one entry):
  workflow      the upstream workflow (not this one); required
  status        the end states that start a run: succeeded (the default), failed,
                cancelled, timed_out, or a list of them
  params        {PARAM: PATH}: this workflow's params, each from a path into the upstream
                run's { run, steps, outputs } (e.g. version: outputs.version)
    e.g. on: [{workflow: build, status: succeeded, params: {version: outputs.version}}]

Schedule keys (each entry of `schedules:`; see also `imx schedule --help`):
  name              the schedule's name, unique among all schedules; required
  cron              a 5-field crontab expression or @hourly, @daily, @weekly, @monthly, @yearly
  every             or a fixed interval (at least 1s), counted from `start`
  timezone          the IANA zone `cron` is read in (default UTC)
  dst               {gap, fold}: what a local time the clock skips or repeats does (DST keys)
  jitter            delay each run by up to this (the same on every replica)
  start, end        RFC 3339 times: no tick before / after
  params            {NAME: VALUE} for each run
  labels            {KEY: VALUE} labels of each run, to find them by (`run list -l KEY=VALUE`);
                    the rules of `workflow run -l`
  limit             stop after this many runs
  overlap           skip (default) | buffer_one | buffer_all | cancel_other | allow_all: what a
                    tick does while the previous run is still going
  catchup_window    ticks missed while no scheduler ran fire late if at most this old (default
                    1h); older ones are recorded as missed
  max_catchup       at most this many ticks fire at once after downtime (the latest)
  pause_on_failure  true: pause the schedule when one of its runs fails or times out
Each tick makes at most one run, however many servers or agents fire schedules.
    e.g. schedules: [{name: nightly, cron: "0 3 * * *", timezone: Europe/Paris}]

DST keys (`dst:` of a schedule):
  gap           shift (the default: a local time the clock skips fires when it jumps) or skip
  fold          first, last or both: which occurrences of a local time the clock repeats fire
                (default first; both for an hour-wildcard expression, as Vixie cron)

Notify keys (each entry of `notify:`; the options of `imx notify rule add`):
  on                failed | timed_out | cancelled | succeeded | recovered (a success after a run
                    that did not succeed) | missed_schedule | duration_over | stuck | approval (an
                    approval step started waiting); required
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
    matrix.NAME              in a matrix step: the instance's value of NAME
  Operators: == != < <= > >=, and, or, not, in, + - * / // % and ~ (joins strings); literals
  "text", 'text', 1, 2.5, true, false, none, [lists]; tests: is defined, is not defined, is
  none, is true, is false, is number, is string, is in [..], is eq(..); filters: | length,
  | lower, | upper, | int, | float, | trim, | default(..), | first, | last, ... A value that is
  missing (an output the step did not write) is undefined: false, and `is defined` tests it.
  Truth is Jinja's: false, 0, "", none, [] and undefined are false. An `if:` that cannot be
  evaluated (e.g. "a" + 1) fails the step, saying why. `imx workflow validate` reports bad
  syntax where it is, and any variable the step cannot read (a step not upstream of it).
  Fan-out: each instance of a matrix step passes its gate on its own (`if: matrix.region ==
  "eu"` runs the eu instances only); with max_parallel an instance passes it when it gets a
  slot, and one it skips hands the slot on. A foreach step's `if:` is decided once, before it
  expands (it cannot read `item`): false skips the step with no instances. steps.ID.status of
  a matrix or foreach step is that of all its instances together: failed if one failed, else
  cancelled if one was, else skipped if one was, else succeeded; its outputs cannot be read.
  A failed instance counts as a failure upstream for `when: failure`. A step that needs a
  matrix step some of whose instances its `if:` skipped is skipped too (as after any skipped
  need); to run after the others, give it `when: always` and
  `if: steps.test.status in ["succeeded", "skipped"]`.
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

Outputs: a step writes KEY=VALUE lines to the file named by $IMX_OUTPUT; steps downstream read
them as {{ steps.ID.outputs.KEY }}, and get them as IMX_OUT_<STEP>_<KEY> variables.

Templates: a step's `run`, `env` values, `workdir` and `http` url, header values, body and json
strings may use {{ ... }} (minijinja; strict: an unknown variable is an error, found by
`workflow validate`). In `run:` every value is quoted for the shell where it stands (`imx help
templates`); elsewhere it is written as it is: strings as they are, other values as JSON.

Template variables:
  params.NAME           the run's params, typed (an int param is a number)
  steps.ID.outputs.KEY  an output of a step upstream of this one (its needs, theirs, ...);
                        ids with - work as written (steps.unit-tests.outputs.x)
  run.id                the run's id
  workflow.name         the workflow's name
  workflow.version      the version of the workflow the run runs
  secrets.NAME          a secret (`imx help secrets`): the workflow's own, else the global one;
                        filled in only when an agent claims the step, masked in its logs
    e.g. run: ./deploy --version {{ params.version }} --run {{ run.id }}
         env: {TOKEN: "{{ secrets.DEPLOY_TOKEN }}"}

Expressions (inside {{ ... }} and {% ... %}):
  literals      "text", 'text', 42, 1.5, true, false, none, [1, 2], {"k": "v"}
  a.b, a["b"]   a field; a[0], a[-1], a[1:3] an item or slice of a list or string
  operators     + - * / // % ** (numbers), ~ (joins as text), == != < <= > >=, and, or, not,
                in, not in, x if COND else y
  filters       x | f, x | f(arg): a filter (below)
  tests         x is t, x is not t, x is t(arg): a test (below)
  calls         f(arg): a function (below)
  statements    {% if %} {% elif %} {% else %} {% endif %}, {% for x in xs %} {% endfor %}
                (loop.index, loop.first, loop.last), {% set x = ... %}, {# a comment #}; {%-
                and -%} trim the white space beside them
    e.g. {{ params.env | upper }}, {{ "prod" if params.env == "production" else "test" }},
         {% for r in ["eu", "us"] %}./ship {{ r }}; {% endfor %}

Filters:
  abs              the absolute value: {{ -3 | abs }} is 3
  attr(name)       a field by name: {{ x | attr("k") }}
  batch(n)         a list in lists of n: {{ [1,2,3] | batch(2) }} is [[1,2],[3]]
  bool             as true or false
  capitalize       the first letter upper case, the rest lower
  chain(more)      lists (or maps) one after another
  count            the same as length
  d                the same as default
  default(v)       v when the value is undefined (an `if:` reading a missing output);
                   default(v, true) also when it is false, 0, "", [] or none
  dictsort         a map's [key, value] pairs, sorted by key
  first            the first item (or character)
  float            as a float: {{ "1.5" | float }}
  format(args)     printf-style: {{ "%s-%03d" | format(params.env, 7) }}
  groupby(attr)    a list of maps grouped by a field
  indent(n)        every line but the first indented by n spaces
  int              as an integer: {{ "42" | int }}
  items            a map's [key, value] pairs
  join(sep)        a list's items joined, written as the CLI shows them: {{ [1, "a"] | join(",") }}
  last             the last item (or character)
  length           the number of items (or characters)
  lines            a string's lines, as a list
  list             as a list (a string's characters, a map's keys)
  lower            lower case
  map(f)           a filter applied to each item: {{ xs | map("upper") }}; map(attribute="k")
  max              the largest item
  min              the smallest item
  pprint           pretty-printed (for debugging)
  raw              the value unquoted in `run:` (warned about; see `imx help templates`)
  reject(t)        the items a test is false for: {{ xs | reject("none") }}
  rejectattr(a, t) the maps whose field a test is false for
  replace(a, b)    every a replaced with b: {{ params.v | replace(".", "-") }}
  reverse          reversed
  round(n)         rounded to n decimals (default 0)
  select(t)        the items a test is true for: {{ [1,2,3,4] | select("even") }}
  selectattr(a, t) the maps whose field a test is true for
  slice(n)         a list in n lists
  sort             sorted (sort(reverse=true), sort(attribute="k"))
  split(sep)       a string split (on white space without sep): {{ "a,b" | split(",") }}
  string           as a string (as the CLI shows it: true, 1.0, [1,"a"])
  sum              the sum of the items
  title            Each Word Capitalised
  trim             without white space at both ends (trim(chars) strips those)
  unique           without repeated items
  upper            upper case
  zip(other)       lists paired item by item
`safe`, `escape` and `e` do not exist (`| raw` is the one way to skip quoting).

Tests (x is NAME; also eq, ne, lt, le, gt, ge as ==, !=, <, <=, >, >=):
  boolean          true or false
  defined          the value exists (undefined is its opposite)
  divisibleby(n)   a multiple of n
  endingwith(s)    a string ending with s
  eq               equal to the argument (equalto, ==): {{ x is eq(3) }}
  equalto          the same as eq
  escaped          marked safe (the same as safe)
  even             an even number
  false            the value false
  filter           a string naming a filter
  float            a float
  ge               at least the argument (>=)
  greaterthan      more than the argument (gt, >)
  gt               the same as greaterthan
  in(seq)          in a list, map or string: {{ params.env is in(["staging", "prod"]) }}
  int              an integer (integer)
  integer          the same as int
  iterable         a list, map or string
  le               at most the argument (<=)
  lessthan         less than the argument (lt, <)
  lower            a string all in lower case
  lt               the same as lessthan
  mapping          a map
  ne               not equal to the argument (!=)
  none             none (null)
  number           a number
  odd              an odd number
  safe             marked safe (only `| raw` values are)
  sameas(v)        the same object as v (true, false, none)
  sequence         a list
  startingwith(s)  a string starting with s: {{ params.version is startingwith("v") }}
  string           a string
  test             a string naming a test
  true             the value true
  undefined        the value does not exist
  upper            a string all in upper case

Functions:
  range(n)         0 to n-1 (range(a, b), range(a, b, step)): {% for i in range(3) %}
  dict(k=v)        a map: {{ dict(a=1, b=2) }}
  debug()          everything the template sees (for debugging)
  namespace()      an object whose fields {% set ns.x = ... %} can change inside loops

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

Artifacts pass files from one step to the next (and to people):

  steps:
    - id: build
      run: make dist                     # writes dist/app.tar.gz and dist/app.sha256
      artifacts: [dist/*.tar.gz, dist/app.sha256]
    - id: ship
      needs: [build]
      inputs: [build]                    # dist/app.tar.gz is here before ship starts
      run: ./ship dist/app.tar.gz

More in examples/workflows/ of the source tree; the commands are in `imx workflow --help`.
"#;

/// `imx help secrets`.
pub const SECRETS: &str = r#"Secrets

A secret is a named value (a token, a password, a key) that steps use without it being written
into a workflow file, a run record or a log.

Setting and managing (admin):
  printf %s "$TOKEN" | imx secret set DEPLOY_TOKEN          from stdin (no echo on a terminal)
  imx secret set DB_PASSWORD --workflow etl --from-file ./pw   from a file, for one workflow
  pass show deploy/new | imx secret rotate DEPLOY_TOKEN       a new value, version + 1
  imx secret list                                             names, scopes, versions, who/when
  imx secret delete DEPLOY_TOKEN
  imx secret rekey                                            seal everything under a new key

The value is never an argument (it would be in the shell's history and the process list): it is
read from stdin (all of it) or --from-file, one trailing newline dropped; it must be UTF-8 text
(base64-encode binary values), not empty, at most 64 KiB. A name is a letter or _, then letters,
digits and _. A secret is global, or scoped to one workflow with --workflow; a workflow's own
secret wins over a global one of the same name. Rotating takes effect for steps claimed from
then on; steps already running keep the value they were given.

Who may do what: admins set, rotate, delete and rekey; anyone who may read the store (viewers
too) lists the names, scopes and versions, never values; operators, who apply and run
workflows, use secrets by name: a global secret in any workflow, a scoped one in its workflow
only. imx shows no one a value, but a step can send a secret it is given anywhere it likes
(masking guards against accidents only): whoever may apply a workflow can reach the secrets it
may name. The audit trail records each change (secret.set, secret.rotate, secret.delete,
store.rekey) with the name and scope only.

Using a secret in a workflow:
  env:  {TOKEN: "{{ secrets.DEPLOY_TOKEN }}"}                then "$TOKEN" in the script
  http: {url: "https://api.example/v1", headers: {Authorization: "Bearer {{ secrets.API }}"}}
  run:  curl -u "deploy:{{ secrets.DEPLOY_TOKEN }}" https://example.com
{{ secrets.NAME }} works wherever templates do: `env` values, `http` url, headers, body and
json strings, `run:` and `workdir`. In `run:` the value is quoted for the shell where it stands,
like any value (`imx help templates`). Prefer `env:`: a value written into `run:` is part of the
shell's command line, which other users of the agent's machine may see (ps).

Secrets are resolved only when an agent claims the step: until then the step holds a
placeholder, and the control plane fills in the values in the claim's answer to that agent
alone. A value is never kept in run records, step outputs, events, the audit trail, API
responses or error messages. `workflow validate` checks only the form of the reference (a
secret may be set after the workflow is applied); a step whose secret is not set when it is
claimed fails at once, with a message naming the secret.

How they are kept: each value is sealed with AES-256-GCM under the store key (a fresh random
nonce each time, and the secret's scope and name as associated data, so a sealed value copied
to another row does not open). The store keeps a check value of the key, never the key:
  local store       the key is made on first use and kept in the OS keyring (service
                    imx-store-key, one entry per store), or where none is available in a 0600
                    file ~/.config/imx/store-keys/STORE-ID.key (with a warning)
  imx server        --store-key-file FILE or IMX_STORE_KEY: 64 hex digits (openssl rand -hex 32);
                    every replica of a cluster needs the same key; a replica given none never
                    makes one up, and what needs the key fails saying how to give it
A copy of the database, a backup or `imx store copy` holds the values sealed: whatever opens
them needs the same store key. `imx secret rekey` seals every value the store keeps (workflow
secrets, webhook triggers' and notification channels' secrets) under a new key in one
transaction; on a local store the new key replaces the old one where it is kept; with
IMX_STORE_KEY or a server, give it with --new-key-file and restart every replica with it.

Masking: the agent replaces every occurrence of a step's secrets in its log lines, outputs and
error with ***, before they leave the agent:
  - the value as it is, and its URL-encoded forms (%XX, and + for spaces);
  - its base64 forms (standard and URL-safe alphabets, with or without padding), wherever the
    value stands in the encoded stream: `printf %s "$S" | base64`, `echo "$S" | base64`,
    `printf 'user:%s' "$S" | base64` (the characters that mix its first or last bits with the
    bytes around it are masked too);
  - in a line written in several pieces (the agent masks whole lines), and in a line longer
    than the agent's 16 KiB cut (masked before it is cut);
  - a multi-line value (a PEM key) whole, and each of its lines.
Masking is a guard against accidents, not against a step that means to leak a secret it was
given. Not masked: values (and lines of a multi-line value) shorter than 4 characters (`imx
secret set` warns), a value split by anything between its pieces (a base64 line wrap every 76
characters, `echo ${S:0:4} ${S:4}`, one character per line), and any other transformation
(hex, reversed, compressed, encrypted, another encoding).
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
        "IMX_ARTIFACTS",
        "Where step artifacts are kept, as imx server --artifacts: s3://bucket/prefix (endpoint,          region and credentials from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,          AWS_SECRET_ACCESS_KEY; AWS_ALLOW_HTTP=true for plain http) or a folder; default the          folder STORE.artifacts beside a SQLite store.",
    ),
    (
        "IMX_ARTIFACT_MAX_STEP",
        "The most bytes of artifacts one step may upload, all its files together (e.g. 5GiB,          the default); more fails the step, naming the file.",
    ),
    (
        "IMX_ARTIFACT_MAX_RUN",
        "The most bytes of artifacts one run may keep (e.g. 20GiB, the default).",
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
