//! The step graph: duplicate ids, unknown or self `needs`, cycles (named step by step), and each
//! step's transitive ancestors (the steps whose outputs its templates may use).

use std::collections::{BTreeMap, BTreeSet};

use super::diag::Diagnostics;
use super::step::StepDraft;
use super::suggest::did_you_mean;

/// Check the `needs` graph and return, for each step index, the ids of its transitive ancestors.
pub(crate) fn check_graph(steps: &[StepDraft], diags: &mut Diagnostics) -> Vec<BTreeSet<String>> {
    // First occurrence of each id wins; later ones are duplicates.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in steps.iter().enumerate() {
        let Some(id) = &s.id else { continue };
        if let Some(&first) = index.get(id.as_str()) {
            diags.error(
                s.id_pos,
                format!(
                    "duplicate step id {id:?} (first defined on line {})",
                    steps[first].id_pos.line
                ),
            );
        } else {
            index.insert(id, i);
        }
    }

    // Edges: step i needs step j.
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, s) in steps.iter().enumerate() {
        for (need, pos) in &s.needs {
            match index.get(need.as_str()) {
                Some(&j) if j == i || s.id.as_deref() == Some(need.as_str()) => {
                    diags.error(*pos, format!("{} needs itself", s.label()));
                }
                Some(&j) => edges[i].push(j),
                None => {
                    let hint = did_you_mean(need, index.keys().copied());
                    diags.error_hint(
                        *pos,
                        format!("{} needs unknown step {need:?}", s.label()),
                        hint,
                    );
                }
            }
        }
    }

    report_cycles(steps, &edges, diags);
    (0..steps.len())
        .map(|i| ancestors(i, steps, &edges))
        .collect()
}

fn ancestors(start: usize, steps: &[StepDraft], edges: &[Vec<usize>]) -> BTreeSet<String> {
    let mut seen = vec![false; steps.len()];
    let mut stack = edges[start].clone();
    let mut out = BTreeSet::new();
    while let Some(j) = stack.pop() {
        if std::mem::replace(&mut seen[j], true) {
            continue;
        }
        if let Some(id) = &steps[j].id {
            out.insert(id.clone());
        }
        stack.extend(edges[j].iter().copied());
    }
    out
}

/// Report each cycle of [`find_cycles`] once, in run order (`a → b` means b needs a),
/// starting from the step that comes first in the file.
fn report_cycles(steps: &[StepDraft], edges: &[Vec<usize>], diags: &mut Diagnostics) {
    let mut reported: BTreeSet<Vec<usize>> = BTreeSet::new();
    for cycle in find_cycles(edges) {
        report_cycle(steps, &cycle, &mut reported, diags);
    }
}

/// The cycles a depth-first search of `edges` (`edges[i]`: the steps step i needs) meets, one per
/// back edge, each in needs order (`to → ... → node`, where node needs to); the same cycle may
/// come more than once.
pub(crate) fn find_cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let mut mark = vec![Mark::New; edges.len()];
    let mut cycles = Vec::new();
    for root in 0..edges.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next edge to follow).
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::OnStack;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::OnStack;
                        stack.push((to, 0));
                    }
                    Mark::OnStack => {
                        let start = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        cycles.push(stack[start..].iter().map(|(n, _)| *n).collect());
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    cycles
}

fn report_cycle(
    steps: &[StepDraft],
    needs_order: &[usize],
    reported: &mut BTreeSet<Vec<usize>>,
    diags: &mut Diagnostics,
) {
    // Run order is the reverse of needs order.
    let mut run: Vec<usize> = needs_order.iter().rev().copied().collect();
    let Some(first) = (0..run.len()).min_by_key(|&k| steps[run[k]].pos) else {
        return;
    };
    run.rotate_left(first);
    let mut key = run.clone();
    key.sort_unstable();
    if !reported.insert(key) {
        return;
    }
    let name = |i: usize| steps[i].id.clone().unwrap_or_else(|| steps[i].label());
    let mut names: Vec<String> = run.iter().map(|&i| name(i)).collect();
    names.push(name(run[0]));
    // Point at the first step's `needs` entry for its predecessor in the cycle.
    let head = &steps[run[0]];
    let pred = name(run[run.len() - 1]);
    let pos = head
        .needs
        .iter()
        .find(|(id, _)| *id == pred)
        .map_or(head.id_pos, |(_, p)| *p);
    diags.error_hint(
        pos,
        format!("cycle: {}", names.join(" → ")),
        Some("each step here needs the one before it; remove one of these needs".into()),
    );
}
