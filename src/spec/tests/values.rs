//! Durations, retry policies and http fields with bad values.

use super::problems;

fn step_with(extra: &str) -> String {
    format!("name: x\nsteps:\n  - id: a\n    run: echo\n{extra}")
}

#[test]
fn a_duration_in_words_is_refused() {
    let (msg, hint) = problems(&step_with("    timeout: 10 minutes\n"));
    assert_eq!(
        msg,
        "wf.yaml:5:14: step \"a\" timeout: bad duration \"10 minutes\""
    );
    assert!(hint.is_some_and(|h| h.contains("1h30m")));
}

#[test]
fn a_negative_duration_is_refused() {
    let (msg, _) = problems(&step_with("    timeout: -1s\n"));
    assert_eq!(
        msg,
        "wf.yaml:5:14: step \"a\" timeout: bad duration \"-1s\""
    );
}

#[test]
fn a_bare_number_is_not_a_duration() {
    let (msg, _) = problems(&step_with("    timeout: 30\n"));
    assert_eq!(
        msg,
        "wf.yaml:5:14: step \"a\" timeout: expected a duration, got an int"
    );
}

#[test]
fn a_zero_duration_is_refused() {
    let (msg, _) = problems("name: x\ntimeout: 0s\nsteps: [{id: a, noop: true}]\n");
    assert_eq!(
        msg,
        "wf.yaml:2:10: timeout: the duration must be more than zero"
    );
}

#[test]
fn retry_max_must_be_a_small_whole_number() {
    let (msg, _) = problems(&step_with("    retry: {max: -1}\n"));
    assert_eq!(
        msg,
        "wf.yaml:5:18: step \"a\" retry max: -1 is out of range (0 to 100)"
    );
    let (msg, _) = problems(&step_with("    retry: {max: two}\n"));
    assert_eq!(
        msg,
        "wf.yaml:5:18: step \"a\" retry max: expected a whole number, got a string"
    );
}

#[test]
fn retry_backoff_must_be_known() {
    let (msg, hint) = problems(&step_with("    retry: {backoff: exponentail}\n"));
    assert_eq!(
        msg,
        "wf.yaml:5:22: step \"a\" retry backoff: unknown backoff \"exponentail\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"exponential\"?"));
}

#[test]
fn retry_jitter_must_be_a_fraction() {
    let (msg, _) = problems(&step_with("    retry: {jitter: 1.5}\n"));
    assert_eq!(
        msg,
        "wf.yaml:5:21: step \"a\" retry jitter: expected a fraction from 0.0 to 1.0, got 1.5"
    );
}

#[test]
fn retry_max_delay_must_not_be_shorter_than_initial() {
    let (msg, _) = problems(&step_with("    retry: {initial: 10s, max_delay: 1s}\n"));
    assert_eq!(
        msg,
        "wf.yaml:5:27: step \"a\" retry: max_delay is shorter than initial"
    );
}

#[test]
fn retry_initial_must_be_a_duration() {
    let (msg, _) = problems(&step_with("    retry: {initial: fast}\n"));
    assert_eq!(
        msg,
        "wf.yaml:5:22: step \"a\" retry initial: bad duration \"fast\""
    );
}

fn http_step(http: &str) -> String {
    format!("name: x\nsteps:\n  - id: a\n    http: {http}\n")
}

#[test]
fn http_method_must_be_known() {
    let (msg, hint) = problems(&http_step("{method: PSOT, url: http://h}"));
    assert_eq!(
        msg,
        "wf.yaml:4:20: step \"a\" http: unknown HTTP method \"PSOT\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"POST\"?"));
}

#[test]
fn http_expect_status_must_be_status_codes() {
    let (msg, _) = problems(&http_step("{url: http://h, expect_status: 99}"));
    assert_eq!(
        msg,
        "wf.yaml:4:42: step \"a\" http expect_status: expected an HTTP status code (100-599), got 99"
    );
    let (msg, _) = problems(&http_step("{url: http://h, expect_status: [200, ok]}"));
    assert_eq!(
        msg,
        "wf.yaml:4:48: step \"a\" http expect_status: expected an HTTP status code (100-599), got ok"
    );
    let (msg, _) = problems(&http_step("{url: http://h, expect_status: ok}"));
    assert!(msg.contains("expected a status code or a non-empty list of them, got a string"));
}

#[test]
fn http_needs_a_url() {
    let (msg, _) = problems(&http_step("{method: GET}"));
    assert_eq!(
        msg,
        "wf.yaml:4:11: step \"a\" http: missing required key `url`"
    );
}

#[test]
fn http_json_and_body_are_exclusive() {
    let (msg, _) = problems(&http_step("{url: http://h, json: {a: 1}, body: raw}"));
    assert_eq!(
        msg,
        "wf.yaml:4:41: step \"a\" http: set either `json` or `body`, not both"
    );
}

#[test]
fn noop_must_be_true_or_empty() {
    let (msg, _) = problems("name: x\nsteps:\n  - id: a\n    noop: false\n");
    assert_eq!(
        msg,
        "wf.yaml:4:11: step \"a\" noop: expected `true` or `{}`, got a bool"
    );
}

#[test]
fn env_names_must_be_variable_names() {
    let (msg, _) = problems(&step_with("    env: {1BAD: x}\n"));
    assert!(
        msg.starts_with("wf.yaml:5:11: step \"a\" env: bad key \"1BAD\""),
        "{msg}"
    );
}
