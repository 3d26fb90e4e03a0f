//! Fan-out keys (issue 13): `matrix:` read in the order written and expanded into instance
//! ids, `foreach:` over an upstream output, and every mistake named at its line and column.

use super::problems;
use crate::engine::SpecIndex;
use crate::model::{FanOut, ForeachSource};
use crate::spec::parse_str;

const GOOD: &str = r#"name: fan
steps:
  - id: list
    run: echo
  - id: test
    needs: [list]
    matrix: { shard: [1, 2], region: [eu, us] }
    max_parallel: 2
    fail_fast: false
    run: echo {{ matrix.region }} {{ matrix.shard }}
  - id: each
    needs: [list]
    foreach: "{{ steps.list.outputs.items }}"
    max_instances: 50
    run: echo {{ item }} {{ item.name }}
  - id: report
    needs: [test, each]
    run: echo done
"#;

#[test]
fn a_matrix_keeps_its_variables_in_order_and_expands_to_instance_ids() {
    let spec = parse_str(GOOD, "wf.yaml").unwrap();
    let test = spec.steps.iter().find(|s| s.id == "test").unwrap();
    let fan: &FanOut = test.fan_out.as_ref().unwrap();
    let names: Vec<&str> = fan.matrix.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["shard", "region"]);
    assert_eq!((fan.max_parallel, fan.fail_fast), (Some(2), false));
    let each = spec.steps.iter().find(|s| s.id == "each").unwrap();
    let fan = each.fan_out.as_ref().unwrap();
    assert_eq!(
        fan.foreach,
        Some(ForeachSource {
            step: "list".into(),
            output: "items".into()
        })
    );
    assert_eq!((fan.max_instances, fan.fail_fast), (50, true));
    let ix = SpecIndex::new(spec);
    let ids: Vec<&str> = ix.run_steps().map(|(s, _)| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "list",
            "test[shard=1,region=eu]",
            "test[shard=1,region=us]",
            "test[shard=2,region=eu]",
            "test[shard=2,region=us]",
            "each",
            "report"
        ]
    );
    let report = ix.step("report").unwrap();
    assert_eq!(report.needs.len(), 5, "{:?}", report.needs);
    assert!(report.needs.contains(&"each".to_string()));
    // The spec as written is what is stored (and what the API shows).
    crate::spec::check_spec(&ix.spec).unwrap();
}

#[test]
fn matrix_mistakes_are_named_where_they_are() {
    let (msg, _) = problems(
        "name: x\nsteps:\n  - id: a\n    matrix: {r: [], s: [1, 1], T-1: [x], u: [[1]], v: [\"a,b\"]}\n    run: echo {{ matrix.r }}\n",
    );
    for line in [
        "wf.yaml:4:17: step \"a\" matrix r: the list is empty (the step would never run)",
        "wf.yaml:4:28: step \"a\" matrix s: 1 is listed twice",
        "wf.yaml:4:32: step \"a\" matrix: \"T-1\" cannot name a variable",
        "wf.yaml:4:46: step \"a\" matrix u: expected a string, number or bool, got a list",
        "wf.yaml:4:56: step \"a\" matrix v: \"a,b\" cannot be a value",
        "wf.yaml:5:10: step \"a\" run: unknown matrix variable \"r\"",
    ] {
        assert!(msg.contains(line), "{line}\nnot in:\n{msg}");
    }
}

#[test]
fn an_unknown_matrix_variable_suggests_the_near_one() {
    let (msg, hint) = problems(
        "name: x\nsteps:\n  - id: a\n    matrix: {region: [eu]}\n    run: echo {{ matrix.regio }}\n",
    );
    assert_eq!(
        msg,
        "wf.yaml:5:10: step \"a\" run: unknown matrix variable \"regio\""
    );
    assert_eq!(hint.as_deref(), Some("did you mean \"region\"?"));
}

#[test]
fn too_many_combinations_name_the_cap() {
    let (msg, hint) = problems(
        "name: x\nsteps:\n  - id: a\n    matrix: {a: [1, 2, 3], b: [1, 2, 3]}\n    max_instances: 8\n    noop: true\n",
    );
    assert_eq!(
        msg,
        "wf.yaml:4:5: step \"a\" matrix: 9 combinations, over the cap of 8 instances"
    );
    assert!(hint.unwrap().contains("max_instances"));
}

#[test]
fn foreach_mistakes_are_named_where_they_are() {
    // Not a step's output.
    let (msg, hint) = problems(
        "name: x\nsteps:\n  - id: l\n    run: echo\n  - id: a\n    needs: [l]\n    foreach: \"{{ params.x }}\"\n    run: echo {{ item }}\n",
    );
    assert_eq!(
        msg,
        "wf.yaml:7:14: step \"a\" foreach: \"{{ params.x }}\" is not an upstream step's output"
    );
    assert!(hint.unwrap().contains("steps.ID.outputs.KEY"));
    // A step that is not upstream.
    let (msg, _) = problems(
        "name: x\nsteps:\n  - id: l\n    run: echo\n  - id: a\n    foreach: \"{{ steps.l.outputs.items }}\"\n    run: echo\n",
    );
    assert_eq!(
        msg,
        "wf.yaml:6:14: step \"a\" foreach: template uses outputs of step \"l\", which is not upstream of it"
    );
    // Over a step that fans out itself; with matrix too; and item where there is no foreach.
    let (msg, _) = problems(
        "name: x\nsteps:\n  - id: l\n    matrix: {n: [1]}\n    run: echo\n  - id: a\n    needs: [l]\n    foreach: \"{{ steps.l.outputs.items }}\"\n    matrix: {n: [1]}\n    run: echo\n  - id: b\n    needs: [l]\n    foreach: \"{{ steps.l.outputs.items }}\"\n    run: echo {{ item }}\n  - id: c\n    max_parallel: 2\n    run: echo {{ item }}\n",
    );
    for line in [
        "wf.yaml:8:5: step \"a\": has both `matrix` and `foreach`",
        "wf.yaml:13:14: step \"b\" foreach: step \"l\" fans out (matrix or foreach)",
        "wf.yaml:16:5: step \"c\": `max_parallel` applies only to a step with `matrix:` or `foreach:`",
        "wf.yaml:17:10: step \"c\" run: `item` is defined only in a step with `foreach:`",
    ] {
        assert!(msg.contains(line), "{line}\nnot in:\n{msg}");
    }
}
