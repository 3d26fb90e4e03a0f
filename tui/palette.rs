//! The command palette (`:`): what a typed line means ([`parse`] → [`Command`]) and Tab
//! completion of its verbs and of their arguments — run ids, agent, workflow and context names
//! ([`complete`], from the [`Candidates`] the dashboard knows) and time ranges.
//!
//! Pure functions of the text: the state machine ([`App`](super::app::App)) decides what to do.

use super::action::ViewId;

/// What a palette line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Goto(ViewId),
    /// `:run ID`: Run detail of the run with that id (any unique prefix).
    Run(String),
    /// `:agent NAME`: the Agents view on that agent.
    Agent(String),
    /// `:wf NAME`: the workflow's runs.
    Workflow(String),
    /// `:label K=V[,K=V]`: the runs with those labels; `:label` alone clears the label filter.
    Label(Option<String>),
    /// `:ctx NAME`: reconnect to another context; `:ctx` alone lists them.
    Context(Option<String>),
    /// `:since D`: Runs and Audit from the last D only; `:since` alone clears it.
    Since(Option<Since>),
    Help,
    Quit,
}

/// A time range back from now: `1h`, `30m`, `2d`, `1h30m`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Since {
    /// As typed (shown in the views' titles).
    pub text: String,
    pub ms: i64,
}

impl Since {
    /// The earliest time inside the range at `now`.
    pub fn cutoff(&self, now: i64) -> i64 {
        now.saturating_sub(self.ms)
    }
}

/// What an argument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Run,
    Agent,
    Workflow,
    /// A label selector (`pr=42`): nothing to complete.
    Label,
    Context,
    Duration,
}

/// One palette verb.
struct Verb {
    name: &'static str,
    /// Also accepted (not offered by completion).
    aliases: &'static [&'static str],
    arg: Option<Arg>,
}

const fn verb(name: &'static str, aliases: &'static [&'static str], arg: Option<Arg>) -> Verb {
    Verb { name, aliases, arg }
}

/// Every verb, in the order completion offers them.
const VERBS: &[Verb] = &[
    verb("run", &[], Some(Arg::Run)),
    verb("agent", &[], Some(Arg::Agent)),
    verb("wf", &["workflow"], Some(Arg::Workflow)),
    verb("label", &[], Some(Arg::Label)),
    verb("ctx", &["context"], Some(Arg::Context)),
    verb("since", &[], Some(Arg::Duration)),
    verb("overview", &[], None),
    verb("agents", &[], None),
    verb("runs", &[], None),
    verb("workflows", &[], None),
    verb("audit", &[], None),
    verb("schedules", &["sched", "schedule"], None),
    verb("help", &["?"], None),
    verb("quit", &["q", "q!"], None),
];

/// The line the palette shows before anything is typed.
pub const USAGE: &str = "run ID · agent NAME · wf NAME · ctx NAME · since 1h · a view";

/// Time ranges offered after `:since `.
const RANGES: [&str; 6] = ["15m", "1h", "6h", "24h", "7d", "30d"];

/// What completion can offer for each kind of argument.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Full run ids.
    pub runs: Vec<String>,
    pub agents: Vec<String>,
    pub workflows: Vec<String>,
    pub contexts: Vec<String>,
}

impl Candidates {
    /// Add `other`'s, keeping each list sorted and without repeats.
    pub fn merge(&mut self, other: Candidates) {
        for (mine, theirs) in [
            (&mut self.runs, other.runs),
            (&mut self.agents, other.agents),
            (&mut self.workflows, other.workflows),
            (&mut self.contexts, other.contexts),
        ] {
            mine.extend(theirs);
            mine.sort();
            mine.dedup();
        }
    }

    fn of(&self, arg: Arg) -> Vec<&str> {
        match arg {
            Arg::Run => self.runs.iter().map(String::as_str).collect(),
            Arg::Agent => self.agents.iter().map(String::as_str).collect(),
            Arg::Workflow => self.workflows.iter().map(String::as_str).collect(),
            Arg::Context => self.contexts.iter().map(String::as_str).collect(),
            Arg::Label => Vec::new(),
            Arg::Duration => RANGES.to_vec(),
        }
    }
}

/// The verb `word` names: itself, an alias, or the one verb it is a prefix of.
fn find_verb(word: &str) -> Result<&'static Verb, String> {
    let w = word.to_ascii_lowercase();
    if let Some(v) = VERBS
        .iter()
        .find(|v| v.name == w || v.aliases.contains(&w.as_str()))
    {
        return Ok(v);
    }
    let hits: Vec<&Verb> = VERBS.iter().filter(|v| v.name.starts_with(&w)).collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => {
            let names: Vec<&str> = VERBS.iter().map(|v| v.name).collect();
            Err(match imx::suggest::nearest(&w, &names) {
                Some(n) => format!("Unknown command {word:?}: did you mean {n:?}?"),
                None => format!("Unknown command {word:?}: try {USAGE}."),
            })
        }
        many => {
            let names: Vec<&str> = many.iter().map(|v| v.name).collect();
            Err(format!(
                "{word:?} could be {}: type more of it.",
                names.join(", ")
            ))
        }
    }
}

/// What a palette line means; an error says what is wrong (and what was likely meant).
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    let mut words = line.split_whitespace();
    let Some(word) = words.next() else {
        return Ok(None);
    };
    let v = find_verb(word)?;
    let arg = words.next().map(str::to_string);
    if let Some(extra) = words.next() {
        return Err(format!(
            ":{} takes one argument; {extra:?} is one too many.",
            v.name
        ));
    }
    Ok(Some(match (v.name, arg) {
        ("run", Some(id)) => Command::Run(id),
        ("run" | "runs", None) => Command::Goto(ViewId::Runs),
        ("agent", Some(name)) => Command::Agent(name),
        ("agent" | "agents", None) => Command::Goto(ViewId::Agents),
        ("wf", Some(name)) => Command::Workflow(name),
        ("wf" | "workflows", None) => Command::Goto(ViewId::Workflows),
        ("label", selector) => Command::Label(selector),
        ("ctx", name) => Command::Context(name),
        ("since", None) => Command::Since(None),
        ("since", Some(d)) => Command::Since(Some(Since {
            ms: duration_ms(&d)?,
            text: d,
        })),
        ("overview", None) => Command::Goto(ViewId::Overview),
        ("audit", None) => Command::Goto(ViewId::Audit),
        ("schedules", None) => Command::Goto(ViewId::Schedules),
        ("help", None) => Command::Help,
        ("quit", None) => Command::Quit,
        (name, Some(a)) => return Err(format!(":{name} takes no argument (got {a:?}).")),
        (name, None) => return Err(format!("Unknown command {name:?}.")),
    }))
}

/// `90s`, `30m`, `1h`, `2d`, `1w`, or several (`1h30m`), in milliseconds.
pub fn duration_ms(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a time range: write e.g. 30m, 1h, 2d or 1h30m.");
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            'w' => 7 * 86_400_000,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if !digits.is_empty() || total <= 0 {
        return Err(bad());
    }
    Ok(total)
}

/// The result of pressing Tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The line after completing.
    pub text: String,
    /// Everything that matched what was typed (empty: nothing did).
    pub options: Vec<String>,
    /// Stepping through the options of this line: hand it to the next Tab.
    pub stem: Option<String>,
}

/// The word being completed and what could complete it: `(before, word, options)`.
fn matching<'a>(line: &'a str, c: &'a Candidates) -> (String, &'a str, Vec<&'a str>) {
    let line = line.trim_start();
    match line.split_once(' ') {
        None => {
            let w = line.to_ascii_lowercase();
            let opts = VERBS
                .iter()
                .map(|v| v.name)
                .filter(|n| n.starts_with(&w))
                .collect();
            (String::new(), line, opts)
        }
        Some((verb, rest)) => {
            let word = rest.trim_start();
            let before = format!("{verb} ");
            let arg = find_verb(verb).ok().and_then(|v| v.arg);
            let Some(arg) = arg.filter(|_| !word.contains(' ')) else {
                return (before, word, Vec::new());
            };
            let lower = word.to_lowercase();
            let opts = c
                .of(arg)
                .into_iter()
                .filter(|o| o.to_lowercase().starts_with(&lower))
                .collect();
            (before, word, opts)
        }
    }
}

/// What would complete the line now (shown under the palette as you type).
pub fn options(line: &str, c: &Candidates) -> Vec<String> {
    let (_, _, opts) = matching(line, c);
    opts.into_iter().map(String::from).collect()
}

/// Whether the word being typed is a run id (a prefix) that no known run matches: completion
/// should ask the control plane.
pub fn unknown_run_prefix(line: &str, c: &Candidates) -> Option<String> {
    let (before, word, opts) = matching(line, c);
    let verb = before.trim();
    let is_run = !verb.is_empty() && find_verb(verb).is_ok_and(|v| v.arg == Some(Arg::Run));
    (is_run && !word.is_empty() && opts.is_empty()).then(|| word.to_string())
}

/// Tab (`forward`) or shift-Tab: complete the word being typed to the longest prefix its
/// options share; when that adds nothing, step through the options. `stem` is the line the
/// previous Tab stepped from ([`Completion::stem`]), so the next Tab steps on among the same
/// options. A completed verb that takes an argument gets its space.
pub fn complete(line: &str, c: &Candidates, forward: bool, stem: Option<&str>) -> Completion {
    let (_, typed, _) = matching(line, c);
    let base = stem
        .filter(|s| {
            let (_, _, opts) = matching(s, c);
            opts.len() > 1 && opts.contains(&typed)
        })
        .unwrap_or(line);
    let (before, word, opts) = matching(base, c);
    let options: Vec<String> = opts.iter().map(|s| (*s).to_string()).collect();
    let finish = |w: &str| {
        let takes_arg = before.is_empty() && find_verb(w).is_ok_and(|v| v.arg.is_some());
        format!("{before}{w}{}", if takes_arg { " " } else { "" })
    };
    let (text, stem) = match opts.as_slice() {
        [] => (line.to_string(), None),
        [one] => (finish(one), None),
        many => {
            let common = common_prefix(many);
            if common.chars().count() > word.chars().count() {
                (format!("{before}{common}"), None)
            } else {
                let at = many.iter().position(|o| *o == typed);
                let n = many.len();
                let i = match (at, forward) {
                    (Some(i), true) => (i + 1) % n,
                    (Some(i), false) => (i + n - 1) % n,
                    (None, true) => 0,
                    (None, false) => n - 1,
                };
                (format!("{before}{}", many[i]), Some(base.to_string()))
            }
        }
    };
    Completion {
        text,
        options,
        stem,
    }
}

fn common_prefix(words: &[&str]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in &words[1..] {
        len = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    first[..len].to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cands() -> Candidates {
        Candidates {
            runs: vec![
                "01JG0001ABCDEFGHJKMNPQRS".into(),
                "01JG0002ABCDEFGHJKMNPQRS".into(),
                "01JH0003ABCDEFGHJKMNPQRS".into(),
            ],
            agents: vec!["build-1".into(), "build-2".into(), "gpu".into()],
            workflows: vec!["deploy".into(), "nightly-report".into()],
            contexts: vec!["local".into(), "prod".into(), "staging".into()],
        }
    }

    #[test]
    fn parses_each_verb_and_its_argument() {
        let p = |s: &str| parse(s).unwrap().unwrap();
        assert_eq!(p("run 01JG"), Command::Run("01JG".into()));
        assert_eq!(p("  agent gpu "), Command::Agent("gpu".into()));
        assert_eq!(p("wf deploy"), Command::Workflow("deploy".into()));
        assert_eq!(p("workflow deploy"), Command::Workflow("deploy".into()));
        assert_eq!(p("ctx prod"), Command::Context(Some("prod".into())));
        assert_eq!(p("context"), Command::Context(None));
        assert_eq!(
            p("since 1h30m"),
            Command::Since(Some(Since {
                text: "1h30m".into(),
                ms: 5_400_000
            }))
        );
        assert_eq!(p("since"), Command::Since(None));
        assert_eq!(p("runs"), Command::Goto(ViewId::Runs));
        assert_eq!(p("run"), Command::Goto(ViewId::Runs));
        assert_eq!(p("au"), Command::Goto(ViewId::Audit));
        assert_eq!(p("Overview"), Command::Goto(ViewId::Overview));
        assert_eq!(p("q"), Command::Quit);
        assert_eq!(p("?"), Command::Help);
        assert_eq!(parse("   ").unwrap(), None);
    }

    #[test]
    fn errors_say_what_was_meant() {
        let e = |s: &str| parse(s).unwrap_err();
        assert_eq!(
            e("agnet gpu"),
            "Unknown command \"agnet\": did you mean \"agent\"?"
        );
        assert_eq!(
            e("sicne 1h"),
            "Unknown command \"sicne\": did you mean \"since\"?"
        );
        assert!(e("zzz").contains("try run ID"), "{}", e("zzz"));
        assert_eq!(e("ag"), "\"ag\" could be agent, agents: type more of it.");
        assert!(e("since 1y").contains("not a time range"));
        assert!(e("since h").contains("not a time range"));
        assert!(e("since 0m").contains("not a time range"));
        assert!(e("audit x").contains("takes no argument"));
        assert!(e("run a b").contains("one too many"));
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("90s"), Ok(90_000));
        assert_eq!(duration_ms("30m"), Ok(1_800_000));
        assert_eq!(duration_ms("2d"), Ok(172_800_000));
        assert_eq!(duration_ms("1w"), Ok(604_800_000));
        assert!(duration_ms("").is_err());
        assert!(duration_ms("5").is_err());
        assert!(duration_ms("99999999999999999d").is_err());
    }

    #[test]
    fn tab_completes_verbs_with_their_space() {
        let c = cands();
        assert_eq!(complete("au", &c, true, None).text, "audit");
        assert_eq!(complete("si", &c, true, None).text, "since ");
        assert_eq!(complete("c", &c, true, None).text, "ctx ");
        // "ag" is agent or agents: nothing more in common, so Tab steps through them.
        let first = complete("ag", &c, true, None);
        assert_eq!(first.options, ["agent", "agents"]);
        assert_eq!(first.text, "agent");
        assert_eq!(complete("agent", &c, true, None).text, "agents");
        assert_eq!(complete("agent", &c, false, None).text, "agents");
        assert_eq!(complete("r", &c, true, None).text, "run");
        assert_eq!(complete("zz", &c, true, None).text, "zz");
        assert!(complete("zz", &c, true, None).options.is_empty());
    }

    #[test]
    fn tab_completes_arguments_from_the_candidates() {
        let c = cands();
        assert_eq!(
            complete("run 01jh", &c, true, None).text,
            "run 01JH0003ABCDEFGHJKMNPQRS"
        );
        // Nothing longer in common: Tab steps through the options.
        let t = complete("run 01J", &c, true, None);
        assert_eq!(t.text, "run 01JG0001ABCDEFGHJKMNPQRS");
        assert_eq!(t.options.len(), 3);
        // Two runs share "01JG000": complete that far, then step through them.
        let t = complete("run 01JG", &c, true, None);
        assert_eq!(t.text, "run 01JG000");
        assert_eq!(t.stem, None);
        let t = complete(&t.text, &c, true, None);
        assert_eq!(t.text, "run 01JG0001ABCDEFGHJKMNPQRS");
        assert_eq!(t.stem.as_deref(), Some("run 01JG000"));
        let t = complete(&t.text, &c, true, t.stem.as_deref());
        assert_eq!(t.text, "run 01JG0002ABCDEFGHJKMNPQRS");
        let t = complete(&t.text, &c, true, t.stem.as_deref());
        assert_eq!(t.text, "run 01JG0001ABCDEFGHJKMNPQRS", "round again");
        let t = complete(&t.text, &c, false, t.stem.as_deref());
        assert_eq!(t.text, "run 01JG0002ABCDEFGHJKMNPQRS");
        // Without the stem, a complete id is just itself.
        assert_eq!(complete(&t.text, &c, true, None).text, t.text);
        assert_eq!(complete("agent b", &c, true, None).text, "agent build-");
        assert_eq!(complete("wf n", &c, true, None).text, "wf nightly-report");
        assert_eq!(
            complete("workflow d", &c, true, None).text,
            "workflow deploy"
        );
        assert_eq!(complete("ctx st", &c, true, None).text, "ctx staging");
        assert_eq!(complete("since 6", &c, true, None).text, "since 6h");
        assert_eq!(options("ctx ", &c), ["local", "prod", "staging"]);
        assert!(options("audit ", &c).is_empty(), "a verb without arguments");
    }

    #[test]
    fn an_unknown_run_prefix_is_for_the_control_plane() {
        let c = cands();
        assert_eq!(unknown_run_prefix("run 01K", &c), Some("01K".into()));
        assert_eq!(unknown_run_prefix("run 01J", &c), None);
        assert_eq!(unknown_run_prefix("run ", &c), None);
        assert_eq!(unknown_run_prefix("agent zz", &c), None);
    }

    #[test]
    fn merge_keeps_lists_sorted_and_unique() {
        let mut c = Candidates {
            agents: vec!["b".into()],
            ..Default::default()
        };
        c.merge(Candidates {
            agents: vec!["a".into(), "b".into()],
            ..Default::default()
        });
        assert_eq!(c.agents, ["a", "b"]);
    }
}
