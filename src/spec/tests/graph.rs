//! The step graph: duplicate ids, unknown needs, self needs, cycles.

use super::problems;

#[test]
fn duplicate_step_id_points_at_the_second_and_names_the_first() {
    let (msg, _) =
        problems("name: x\nsteps:\n  - id: a\n    noop: true\n  - id: a\n    noop: true\n");
    assert_eq!(
        msg,
        "wf.yaml:5:9: duplicate step id \"a\" (first defined on line 3)"
    );
}

#[test]
fn unknown_needs_suggests_the_nearest_id() {
    let src = "name: x\nsteps:\n  - id: build\n    run: make\n  - id: test\n    needs: [buld]\n    run: make test\n";
    let (msg, hint) = problems(src);
    assert_eq!(
        msg,
        "wf.yaml:6:13: step \"test\" needs unknown step \"buld\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"build\"?"));
}

#[test]
fn a_step_needing_itself() {
    let (msg, _) = problems("name: x\nsteps:\n  - id: a\n    needs: [a]\n    noop: true\n");
    assert_eq!(msg, "wf.yaml:4:13: step \"a\" needs itself");
}

#[test]
fn a_step_needing_the_same_step_twice() {
    let src = "name: x\nsteps:\n  - id: a\n    noop: true\n  - id: b\n    needs: [a, a]\n    noop: true\n";
    let (msg, _) = problems(src);
    assert_eq!(msg, "wf.yaml:6:16: step \"b\" needs \"a\" more than once");
}

#[test]
fn a_cycle_is_named_in_run_order() {
    let src = "name: x\nsteps:\n  - id: a\n    needs: [c]\n    noop: true\n  - id: b\n    needs: [a]\n    noop: true\n  - id: c\n    needs: [b]\n    noop: true\n";
    let (msg, hint) = problems(src);
    assert_eq!(msg, "wf.yaml:4:13: cycle: a → b → c → a");
    assert!(hint.is_some());
}

#[test]
fn two_cycles_are_both_reported_once() {
    let src = "name: x\nsteps:\n  - {id: a, needs: [b], noop: true}\n  - {id: b, needs: [a], noop: true}\n  - {id: c, needs: [d], noop: true}\n  - {id: d, needs: [c], noop: true}\n";
    let (msg, _) = problems(src);
    assert_eq!(
        msg,
        "wf.yaml:3:21: cycle: a → b → a (each step here needs the one before it; remove one of these needs)\n\
         wf.yaml:5:21: cycle: c → d → c (each step here needs the one before it; remove one of these needs)"
    );
}

#[test]
fn a_diamond_is_not_a_cycle() {
    let src = "name: x\nsteps:\n  - {id: a, noop: true}\n  - {id: b, needs: [a], noop: true}\n  - {id: c, needs: [a], noop: true}\n  - {id: d, needs: [b, c], noop: true}\n";
    let spec = crate::spec::parse_str(src, "wf.yaml").unwrap();
    assert_eq!(spec.steps.len(), 4);
}
