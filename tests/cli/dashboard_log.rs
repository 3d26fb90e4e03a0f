//! `imx dashboard` on a failed run's log, in a real terminal (tmux): it opens on the failed
//! step, the step's ANSI colours reach the screen, and `/` search highlights the matches and
//! `n` moves to the next one. Styles are read from `capture-pane -e` (the escape sequences tmux
//! keeps for each cell).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::dashboard::{Tmux, have_tmux};
use crate::env::TestEnv;

/// A step that prints coloured lines and fails.
const COLOURS: &str = r#"name: colours
steps:
  - id: paint
    run: |
      printf '\033[31mred-alert\033[0m starts\n'
      echo 'needle one'
      printf 'two \033[32mgreen\033[0m needle\n'
      echo 'needle three'
      exit 3
"#;

/// What a cell looks like: its foreground (as the SGR parameters that set it) and attributes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Look {
    fg: Option<String>,
    bold: bool,
    reverse: bool,
}

impl Look {
    /// Apply one SGR sequence's parameters (`1;7`, `38;5;1`, `0`, …).
    fn apply(&mut self, params: &str) {
        let ps: Vec<&str> = params.split(';').collect();
        let mut i = 0;
        while i < ps.len() {
            match ps[i] {
                "" | "0" => *self = Look::default(),
                "1" => self.bold = true,
                "22" => self.bold = false,
                "7" => self.reverse = true,
                "27" => self.reverse = false,
                "39" => self.fg = None,
                "38" if ps.get(i + 1) == Some(&"5") => {
                    self.fg = Some(format!("38;5;{}", ps.get(i + 2).unwrap_or(&"")));
                    i += 2;
                }
                "38" if ps.get(i + 1) == Some(&"2") => {
                    self.fg = Some(ps[i..(i + 5).min(ps.len())].join(";"));
                    i += 4;
                }
                "48" if ps.get(i + 1) == Some(&"5") => i += 2,
                "48" if ps.get(i + 1) == Some(&"2") => i += 4,
                p if p.len() == 2 && (p.starts_with('3') || p.starts_with('9')) => {
                    self.fg = Some(p.to_string());
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// Whether the foreground is the 8-colour palette's `n` (`3n`, `38;5;n`).
    fn fg_is(&self, n: u8) -> bool {
        self.fg.as_deref() == Some(&format!("3{n}")) || self.fg == Some(format!("38;5;{n}"))
    }
}

/// The look of the first cell of `word` on the first screen line that shows it (in `-e`
/// capture output); `None` if no line shows it.
fn look_of(screen: &str, word: &str) -> Option<Look> {
    looks_of(screen, word).and_then(|l| l.into_iter().next())
}

/// The looks of the cells of `text` on the first screen line that shows it.
fn looks_of(screen: &str, word: &str) -> Option<Vec<Look>> {
    screen.lines().find_map(|line| {
        let mut look = Look::default();
        let mut text = String::new();
        let mut looks = Vec::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\x1b' && chars.peek() == Some(&'[') {
                chars.next();
                let mut params = String::new();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        if c == 'm' {
                            look.apply(&params);
                        }
                        break;
                    }
                    params.push(c);
                }
                continue;
            }
            text.push(c);
            looks.push(look.clone());
        }
        let at = text.find(word)?;
        let col = text[..at].chars().count();
        looks
            .get(col..col + word.chars().count())
            .map(<[Look]>::to_vec)
    })
}

/// Wait until the styled screen satisfies `cond`; fail with it (escapes shown) if not in time.
fn wait_styled(tmux: &Tmux, what: &str, cond: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = tmux.cmd(&["capture-pane", "-e", "-p", "-t", "dash"]);
        let s = String::from_utf8_lossy(&out.stdout).into_owned();
        if cond(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; screen:\n{}",
            s.replace('\x1b', "␛")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_failed_runs_coloured_log_opens_and_search_moves_between_matches() {
    if !have_tmux() {
        eprintln!("skipped: tmux missing");
        return;
    }
    let env = TestEnv::new();
    env.apply("colours.yaml", COLOURS);
    let agent = env.agent("worker", 1);
    env.run(["workflow", "run", "colours", "--wait"])
        .expect_code(10);
    drop(agent);
    let runs = env.json(["run", "list"]);
    let id = runs[0]["id"].as_str().unwrap().to_string();

    let bin = assert_cmd::cargo::cargo_bin!("imx");
    // Colour on: no NO_COLOR.
    let shell = format!(
        "env -i PATH=/usr/bin:/bin HOME={h} TERM=xterm-256color LANG=C.UTF-8 \
         IMX_STORE={s} {b} dashboard --view runs",
        h = env.home().display(),
        s = env.store().display(),
        b = bin.display(),
    );
    let tmux = Tmux::start("log", &shell);
    tmux.wait_for("the failed run", |s| s.contains(&id[..12]));

    // The run opens on its failed step's log, coloured as the step printed it.
    tmux.keys(&[":", &format!("run {}", &id[..12]), "Enter"]);
    let s = wait_styled(&tmux, "the coloured log", |s| {
        look_of(s, "red-alert").is_some_and(|l| l.fg_is(1))
            && look_of(s, "green").is_some_and(|l| l.fg_is(2))
            && s.contains("needle three")
    });
    assert!(s.contains("Log · paint"), "the failed step's log");
    assert!(
        look_of(&s, "starts").is_some_and(|l| l.fg.is_none()),
        "the colour ends where the step reset it:\n{}",
        s.replace('\x1b', "␛")
    );

    // `/needle`: every match reversed; the current one (the last, where the log ends) bold too.
    tmux.keys(&["/", "needle", "Enter"]);
    let s = wait_styled(&tmux, "the highlighted matches", |s| {
        s.contains("/needle 3/3 matching lines")
            && look_of(s, "needle one").is_some_and(|l| l.reverse && !l.bold)
            && look_of(s, "needle three").is_some_and(|l| l.reverse && l.bold)
    });
    assert!(
        looks_of(&s, "needle one").is_some_and(|l| !l[6].reverse && !l[7].reverse),
        "only the word is highlighted:\n{}",
        s.replace('\x1b', "␛")
    );

    // `n` wraps around to the first match.
    tmux.keys(&["n"]);
    wait_styled(&tmux, "the next match", |s| {
        s.contains("/needle 1/3 matching lines")
            && look_of(s, "needle one").is_some_and(|l| l.reverse && l.bold)
            && look_of(s, "needle three").is_some_and(|l| l.reverse && !l.bold)
    });
    tmux.keys(&["q"]);
}
