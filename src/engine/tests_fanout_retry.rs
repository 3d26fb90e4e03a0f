//! `retry --from` over fan-out (issue 13), with no database: a `foreach:` step retried from
//! expands anew (its old instances removed, never doubled), from its source's new output when
//! the source is retried too; one `foreach:` instance retried from reruns alone with what
//! follows; a step upstream of a matrix resets every instance. Runs on the mini store of
//! [`super::tests_fanout`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests_fanout::{INSTANCES, Sim, foreach, matrix, noop};
use super::transitions::retry::retry;
use crate::engine::Rejection;
use crate::model::{RunStatus, StepStatus::*};

fn each_run(gate: Option<&str>) -> Sim {
    let mut each = foreach("each", "list", None);
    each.condition = gate.map(str::to_string);
    Sim::new(
        vec![noop("list", &[]), each, noop("after", &["each"])],
        "prod",
    )
}

/// From the `foreach:` step itself: its instances go and come again from the source's
/// stored output, all of them new rows; a gated one passes its gate again first.
#[test]
fn retry_from_a_foreach_step_expands_it_anew() {
    for gate in [None, Some("params.env == 'prod'")] {
        let mut sim = each_run(gate);
        sim.finish("list", true, &[("items", "[1, 2, 3]")]);
        sim.drain(&["each[1]"]);
        assert_eq!(sim.run.status, RunStatus::Failed);
        let cs = sim.decide(|st| retry(st, Some("each"))).unwrap();
        let removed: Vec<&str> = cs.removes.iter().map(|r| r.step_id.as_str()).collect();
        assert_eq!(removed, ["each[0]", "each[1]", "each[2]"], "gate {gate:?}");
        assert_eq!(cs.inserts.len(), 3);
        assert_eq!(sim.status("each"), Succeeded);
        assert_eq!(sim.ids(Ready), ["each[0]", "each[1]", "each[2]"]);
        assert!(
            sim.rows
                .iter()
                .all(|r| r.attempt == 0 || r.step_id == "list")
        );
        assert_eq!(sim.row("after").pending_needs, 3);
        sim.check_counts();
        assert_eq!(sim.drain(&[]), ["each[0]", "each[1]", "each[2]", "after"]);
        assert_eq!(sim.run.status, RunStatus::Succeeded, "gate {gate:?}");
        sim.check_counts();
    }
}

/// From the source upstream: the `foreach:` step waits for it again with no instances, then
/// expands over its new output — fewer items, then more.
#[test]
fn retry_from_upstream_of_a_foreach_expands_it_over_the_new_output() {
    let mut sim = each_run(None);
    sim.finish("list", true, &[("items", "[1, 2, 3]")]);
    sim.drain(&[]);
    assert_eq!(sim.run.status, RunStatus::Succeeded);
    for (items, second) in [("[7, 8]", 8), ("[9, 10, 11, 12]", 10)] {
        sim.decide(|st| retry(st, Some("list"))).unwrap();
        assert_eq!(sim.all_ids(), ["list", "each", "after"]);
        assert_eq!(
            (sim.status("list"), sim.status("each"), sim.status("after")),
            (Ready, Pending, Pending)
        );
        sim.check_counts();
        sim.finish("list", true, &[("items", items)]);
        let n = serde_json::from_str::<Vec<u32>>(items).unwrap().len();
        let want: Vec<String> = (0..n).map(|i| format!("each[{i}]")).collect();
        assert_eq!(sim.ids(Ready), want, "{items}");
        assert_eq!(
            sim.vars["each[1]"],
            format!(r#"{{"item":{second}}}"#),
            "{items}"
        );
        sim.drain(&[]);
        assert_eq!(sim.run.status, RunStatus::Succeeded);
        sim.check_counts();
    }
}

/// From one `foreach:` instance: it reruns with what follows the step; its siblings and the
/// step itself stand. Refused while a sibling that would not rerun was skipped (`fail_fast`):
/// what follows could never run.
#[test]
fn retry_from_a_foreach_instance_reruns_it_and_what_follows() {
    let mut sim = each_run(None);
    sim.finish("list", true, &[("items", "[1, 2, 3]")]);
    sim.drain(&["each[1]"]);
    assert_eq!(sim.status("each[2]"), Skipped, "fail_fast");
    let err = sim.decide(|st| retry(st, Some("each[1]"))).unwrap_err();
    let Rejection::Blocked(why) = err else {
        panic!("{err:?}")
    };
    assert!(
        why.contains(r#"step "after" needs "each[2]", which was skipped"#),
        "{why}"
    );

    let mut each = foreach("each", "list", None);
    each.fan_out.as_mut().unwrap().fail_fast = false;
    let mut sim = Sim::new(
        vec![noop("list", &[]), each, noop("after", &["each"])],
        "prod",
    );
    sim.finish("list", true, &[("items", "[1, 2, 3]")]);
    sim.drain(&["each[1]"]);
    let cs = sim.decide(|st| retry(st, Some("each[1]"))).unwrap();
    assert!(cs.removes.is_empty() && cs.inserts.is_empty());
    assert_eq!(sim.ids(Ready), ["each[1]"]);
    assert_eq!(sim.drain(&[]), ["each[1]", "after"]);
    assert_eq!(sim.run.status, RunStatus::Succeeded);
    sim.check_counts();
    let err = sim.decide(|st| retry(st, Some("each[7]"))).unwrap_err();
    assert!(matches!(err, Rejection::NoSuchStep { .. }), "{err:?}");
}

/// From a step upstream of a matrix: every instance runs again (`max_parallel` holding), then
/// what needs them.
#[test]
fn retry_from_upstream_of_a_matrix_resets_every_instance() {
    let mut sim = Sim::new(
        vec![
            noop("build", &[]),
            matrix("test", &["build"], Some(2)),
            noop("report", &["test"]),
        ],
        "prod",
    );
    sim.drain(&[]);
    assert_eq!(sim.run.status, RunStatus::Succeeded);
    sim.decide(|st| retry(st, Some("build"))).unwrap();
    for id in INSTANCES {
        assert_eq!(sim.status(id), Pending, "{id}");
    }
    sim.finish("build", true, &[]);
    assert_eq!(sim.ids(Ready), INSTANCES[..2]);
    let order = sim.drain(&[]);
    assert_eq!(order.len(), 7);
    assert_eq!(order[6], "report");
    assert_eq!(sim.run.status, RunStatus::Succeeded);
    sim.check_counts();
}
