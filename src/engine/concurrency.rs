//! Concurrency limits (a workflow's `concurrency: { key, limit, on_conflict }`), as pure
//! decisions over what a store loaded for one key: what a new run does ([`on_start`]), which
//! waiting runs get a slot once one frees ([`to_admit`]), and why a run is cancelled or skipped for
//! its key (the transition is `transitions::end::skip`). A key's runs are *active* once admitted (they hold a slot) until they end,
//! and *waiting* before: status `queued`, their first steps held back as `pending` so no agent
//! can claim them. Waiting runs are admitted first come, first served (creation order).

use crate::model::{OnConflict, short_id};

/// What a run started for a key does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnStart {
    /// A slot is free: it runs now.
    Admit,
    /// It waits in the key's queue.
    Wait,
    /// It runs now, and these active runs (oldest first) are cancelled to make room.
    CancelOldest(Vec<String>),
    /// It ends at once without running.
    Skip,
}

/// The decision for a new run of a key with `limit` slots, `active` runs holding slots (oldest
/// admitted first) and `waiting` runs queued before it. A run waits behind earlier ones even
/// if a slot is free (first come, first served; a slot is only free with runs waiting when a
/// newer version of the workflow raised the limit, and [`to_admit`] fills it at once).
pub fn on_start(limit: u32, on_conflict: OnConflict, active: &[String], waiting: usize) -> OnStart {
    let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
    if active.len() < limit && waiting == 0 {
        return OnStart::Admit;
    }
    match on_conflict {
        OnConflict::Queue => OnStart::Wait,
        OnConflict::Skip => OnStart::Skip,
        OnConflict::CancelRunning => {
            // Room for the new run: one slot free.
            let over = (active.len() + 1).saturating_sub(limit);
            OnStart::CancelOldest(active.iter().take(over).cloned().collect())
        }
    }
}

/// Which of the `waiting` runs (creation order, each with its version's limit) to admit when
/// `active` runs hold slots: the head of the queue while it fits under its own limit. Stops
/// at the first that does not fit, so no run overtakes an earlier one.
pub fn to_admit(active: usize, waiting: &[(String, u32)]) -> Vec<String> {
    let fits = |(taken, (_, limit)): &(usize, &(String, u32))| {
        *taken < usize::try_from((*limit).max(1)).unwrap_or(usize::MAX)
    };
    (active..)
        .zip(waiting)
        .take_while(fits)
        .map(|(_, (id, _))| id.clone())
        .collect()
}

/// Why a run was cancelled to make room for `new_run` (`on_conflict: cancel_running`).
pub fn cancelled_for(key: &str, new_run: &str) -> String {
    format!(
        "cancelled by concurrency key {key:?}: run {} took its slot (on_conflict: cancel_running)",
        short_id(new_run)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r{i}")).collect()
    }

    #[test]
    fn a_free_slot_admits_and_a_full_key_follows_on_conflict() {
        assert_eq!(on_start(1, OnConflict::Queue, &[], 0), OnStart::Admit);
        assert_eq!(on_start(2, OnConflict::Skip, &ids(1), 0), OnStart::Admit);
        assert_eq!(on_start(1, OnConflict::Queue, &ids(1), 0), OnStart::Wait);
        assert_eq!(on_start(1, OnConflict::Skip, &ids(1), 0), OnStart::Skip);
        assert_eq!(
            on_start(1, OnConflict::CancelRunning, &ids(1), 0),
            OnStart::CancelOldest(vec!["r0".into()])
        );
        assert_eq!(
            on_start(2, OnConflict::CancelRunning, &ids(3), 0),
            OnStart::CancelOldest(vec!["r0".into(), "r1".into()]),
            "a lowered limit cancels down to room for one"
        );
    }

    #[test]
    fn a_new_run_never_overtakes_waiting_ones() {
        assert_eq!(on_start(2, OnConflict::Queue, &ids(1), 1), OnStart::Wait);
        assert_eq!(
            on_start(2, OnConflict::CancelRunning, &ids(1), 1),
            OnStart::CancelOldest(Vec::new())
        );
    }

    #[test]
    fn admission_is_first_come_first_served_within_each_limit() {
        let waiting = vec![("a".to_string(), 2), ("b".into(), 2), ("c".into(), 2)];
        assert_eq!(to_admit(0, &waiting), vec!["a", "b"]);
        assert_eq!(to_admit(1, &waiting), vec!["a"]);
        assert!(to_admit(2, &waiting).is_empty());
        // The head does not fit its (lower) limit: nobody behind it goes first.
        let waiting = vec![("a".to_string(), 1), ("b".into(), 3)];
        assert!(to_admit(1, &waiting).is_empty());
    }
}
