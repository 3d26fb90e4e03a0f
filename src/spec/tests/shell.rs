//! What `run:` templates become: values shown the way the CLI shows them, and quoted for the
//! shell at the spot where they stand, so that no value can run commands; `| raw` opts out.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::model::{StepKind, StepSpec};
use crate::spec::{StepOutputs, TemplateContext, render, render_step};

/// A context whose `up` step produced `v` = `value`.
fn with_output(value: &str) -> TemplateContext {
    let mut c = TemplateContext::default();
    c.params.insert("t".into(), json!(true));
    c.params.insert("f".into(), json!(false));
    c.params.insert("ratio".into(), json!(1.0));
    c.params.insert("n".into(), json!(1));
    c.params.insert("list".into(), json!([1, "a", true]));
    c.steps.insert(
        "up".into(),
        StepOutputs {
            outputs: BTreeMap::from([("v".to_string(), value.to_string())]),
        },
    );
    c.steps.insert(
        "unit-tests".into(),
        StepOutputs {
            outputs: BTreeMap::from([("passed".to_string(), "214".to_string())]),
        },
    );
    c
}

/// The `run:` command `template` rendered against `ctx`.
fn run_cmd(template: &str, ctx: &TemplateContext) -> crate::Result<String> {
    let step = StepSpec::new(
        "s",
        StepKind::Run {
            command: template.into(),
        },
    );
    let (kind, _, _) = render_step(&step, ctx)?;
    match kind {
        StepKind::Run { command } => Ok(command),
        other => panic!("{other:?}"),
    }
}

#[test]
fn booleans_and_numbers_render_as_the_cli_shows_them() {
    let ctx = with_output("x");
    let out = render(
        "{{ params.t }} {{ params.f }} {{ params.ratio }} {{ params.n }} {{ params.list }}",
        &ctx,
    )
    .unwrap();
    assert_eq!(out, "true false 1.0 1 [1,\"a\",true]");
    // Joined or turned into strings inside an expression too.
    let out = render(
        "{{ params.list | join(',') }} {{ params.t | string }}",
        &ctx,
    )
    .unwrap();
    assert_eq!(out, "1,a,true true");
    // Conditions still see booleans.
    let out = render(
        "{% if params.t %}yes{% endif %}{% if params.f %}no{% endif %}",
        &ctx,
    )
    .unwrap();
    assert_eq!(out, "yes");
}

#[test]
fn a_shell_guard_on_a_bool_param_takes_the_right_branch() {
    let ctx = with_output("x");
    assert_eq!(
        run_cmd("[ \"{{ params.t }}\" = \"true\" ] && echo dry", &ctx).unwrap(),
        "[ \"true\" = \"true\" ] && echo dry"
    );
}

#[test]
fn values_are_quoted_for_the_spot_where_they_stand() {
    let ctx = with_output("it's $(touch x) \"q\" `b` \\");
    // Outside quotes: one single-quoted word.
    assert_eq!(
        run_cmd("echo {{ steps.up.outputs.v }}", &ctx).unwrap(),
        r#"echo 'it'\''s $(touch x) "q" `b` \'"#
    );
    // Inside double quotes: backslashes before $ ` " \.
    assert_eq!(
        run_cmd("echo \"v={{ steps.up.outputs.v }}\"", &ctx).unwrap(),
        r#"echo "v=it's \$(touch x) \"q\" \`b\` \\""#
    );
    // Inside single quotes: each ' closes, escapes and reopens.
    assert_eq!(
        run_cmd("echo 'v={{ steps.up.outputs.v }}'", &ctx).unwrap(),
        r#"echo 'v=it'\''s $(touch x) "q" `b` \'"#
    );
    // Plain values, e.g. a number inside $(( )), stay as they are.
    assert_eq!(
        run_cmd("echo $(( {{ params.n }} + 1 ))", &ctx).unwrap(),
        "echo $(( 1 + 1 ))"
    );
}

#[test]
fn raw_opts_out_of_quoting() {
    let ctx = with_output("a b; echo c");
    assert_eq!(
        run_cmd("echo {{ steps.up.outputs.v | raw }}", &ctx).unwrap(),
        "echo a b; echo c"
    );
    // No other filter skips quoting (a spec sent to the API is not validated like a file).
    for f in ["safe", "e", "escape"] {
        let t = format!("echo {{{{ steps.up.outputs.v | {f} }}}}");
        assert!(run_cmd(&t, &ctx).is_err(), "{t}");
    }
    // String filters after raw keep it raw; joining it with other text makes it ordinary.
    assert_eq!(
        run_cmd("echo {{ steps.up.outputs.v | raw | upper }}", &ctx).unwrap(),
        "echo A B; ECHO C"
    );
    assert_eq!(
        run_cmd("echo {{ (steps.up.outputs.v | raw) ~ '!' }}", &ctx).unwrap(),
        "echo 'a b; echo c!'"
    );
}

#[test]
fn other_fields_are_not_shell_quoted() {
    let ctx = with_output("a b\"c");
    let mut step = StepSpec::new("s", StepKind::Noop);
    step.env
        .insert("V".into(), "{{ steps.up.outputs.v }} {{ params.t }}".into());
    let (_, env, _) = render_step(&step, &ctx).unwrap();
    assert_eq!(env["V"], "a b\"c true");
}

#[test]
fn spots_that_cannot_be_quoted_are_refused() {
    let ctx = with_output("x");
    for (template, why) in [
        ("echo `echo {{ steps.up.outputs.v }}`", "backquotes"),
        ("echo ${X:-{{ steps.up.outputs.v }}}", "${...}"),
        ("echo \\{{ steps.up.outputs.v }}", "backslash"),
        ("echo $(( {{ steps.up.outputs.v }} ))", "integer"),
    ] {
        let err = run_cmd(template, &ctx).unwrap_err().to_string();
        assert!(err.contains(why), "{template}: {err}");
    }
    // A value that would end a here-document early.
    let err = run_cmd(
        "cat <<EOF\n{{ steps.up.outputs.v }}\nEOF\n",
        &with_output("ok\nEOF\ntouch pwned"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("here-document"), "{err}");
}

#[test]
fn hyphenated_step_ids_can_be_referenced() {
    let ctx = with_output("x");
    assert_eq!(
        render("{{ steps.unit-tests.outputs.passed }} passed", &ctx).unwrap(),
        "214 passed"
    );
    assert_eq!(
        render("{{ steps['unit-tests'].outputs.passed }}", &ctx).unwrap(),
        "214"
    );
}

/// Values an attacker might put in an upstream output.
const NASTY: &[&str] = &[
    "$(touch pwned)",
    "`touch pwned`",
    "; touch pwned",
    "' ; touch pwned ; '",
    "\" ; touch pwned ; \"",
    "\\",
    "\\\"; touch pwned; \\\"",
    "a\nb\n",
    "EOF",
    "",
    "${HOME}",
    "*",
    "# not a comment",
    "é ü \t tab",
];

/// Templates that print the value between `[` and `]` in different shell contexts.
const SPOTS: &[&str] = &[
    "printf '[%s]' {{ v }}",
    "printf '[%s]' \"{{ v }}\"",
    "printf '[%s]' 'x{{ v }}y' | sed 's/^\\[x/[/; s/y]$/]/'",
    "printf '[%s]' \"$(printf '%s' {{ v }})\"",
    "printf '[%s]' \"$(printf '%s' \"{{ v }}\")\"",
    "x={{ v }}; printf '[%s]' \"$x\"",
    "printf '[%s]' \"$(case x in x) printf '%s' {{ v }};; (y) echo;; esac)\"",
    "cat <<EOF | sed '1s/^/[/; $s/$/]/' | tr -d '\\n'\n{{ v }}\nEOF\n",
    "cat <<'EOF' | sed '1s/^/[/; $s/$/]/' | tr -d '\\n'\n{{ v }}\nEOF\n",
    "# {{ v }}\nprintf '[%s]' {{ v }}",
];

/// Run every spot with every nasty value through `/bin/sh`: each prints exactly the value (as
/// its spot shows it) and none creates a file.
#[test]
fn no_value_runs_commands_in_any_spot() {
    let dir = tempfile::tempdir().unwrap();
    for spot in SPOTS {
        for value in NASTY {
            let template = spot.replace("{{ v }}", "{{ steps.up.outputs.v }}");
            let ctx = with_output(value);
            let command = match run_cmd(&template, &ctx) {
                Ok(c) => c,
                // Here-documents refuse values that would end them.
                Err(e) if value.contains("EOF") && spot.contains("<<") => {
                    assert!(e.to_string().contains("here-document"), "{e}");
                    continue;
                }
                Err(e) => panic!("{template:?} with {value:?}: {e}"),
            };
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(&command)
                .current_dir(dir.path())
                .env("HOME", "/home/nobody")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{command:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !dir.path().join("pwned").exists(),
                "{command:?} ran a command from {value:?}"
            );
            let expected = expected_output(spot, value);
            assert_eq!(stdout, expected, "{command:?}");
        }
    }
    assert!(!Path::new("pwned").exists());
}

/// What a spot prints for a value: `[value]`, except where the shell itself changes it
/// (command substitution drops trailing newlines; here-documents print line by line).
fn expected_output(spot: &str, value: &str) -> String {
    if spot.contains("$(") {
        return format!("[{}]", value.trim_end_matches('\n'));
    }
    if spot.contains("<<") {
        return format!("[{}]", value.replace('\n', ""));
    }
    format!("[{value}]")
}
