//! [`CompiledSchedules`]: schedules compiled from the JSON a store keeps them as, by name, so
//! a scheduler pass reads and compiles a schedule's spec when its text changed, not every time
//! the schedule is due (10,000 schedules every minute are 10,000 parses a minute otherwise).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::{Schedule, ScheduleError, ScheduleSpec};

/// A stored spec, compiled.
#[derive(Debug)]
pub struct Compiled {
    /// The schedule; an error when the spec does not compile (only one written by another
    /// version could not).
    pub schedule: std::result::Result<Schedule, (ScheduleSpec, ScheduleError)>,
}

impl Compiled {
    /// The spec stored as `json`, compiled. A spec that does not compile is read again to
    /// keep with its error (rare), rather than copied before each compile.
    fn read(json: &str) -> std::result::Result<Compiled, serde_json::Error> {
        let schedule = match Schedule::compile(serde_json::from_str(json)?) {
            Ok(s) => Ok(s),
            Err(e) => Err((serde_json::from_str(json)?, e)),
        };
        Ok(Compiled { schedule })
    }

    pub fn spec(&self) -> &ScheduleSpec {
        match &self.schedule {
            Ok(s) => s.spec(),
            Err((spec, _)) => spec,
        }
    }
}

/// A schedule's compiled spec, the text it was read from, and when it was last wanted.
struct Entry {
    json: Box<str>,
    compiled: Arc<Compiled>,
    used: i64,
}

/// Compiled schedules by name (one per store: see `engine::SpecCache`). An entry holds the
/// exact text it was compiled from, so a changed spec (whatever its timestamps say) is read
/// again.
#[derive(Default)]
pub struct CompiledSchedules {
    map: Mutex<HashMap<String, Entry, foldhash::fast::RandomState>>,
}

impl CompiledSchedules {
    /// Schedule `name`'s spec stored as `json`, compiled, at `now`: read and compiled only
    /// when its text differs from the last one seen. `Err` when the text is not a spec.
    pub fn get(
        &self,
        name: &str,
        json: &str,
        now: i64,
    ) -> std::result::Result<Arc<Compiled>, serde_json::Error> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = map.get_mut(name)
            && *e.json == *json
        {
            e.used = now;
            return Ok(e.compiled.clone());
        }
        let compiled = Arc::new(Compiled::read(json)?);
        map.insert(
            name.to_string(),
            Entry {
                json: json.into(),
                compiled: compiled.clone(),
                used: now,
            },
        );
        Ok(compiled)
    }

    /// Forget the schedules not wanted since `before` (deleted ones, or ones due seldom: read
    /// again when next due).
    pub fn forget_unused(&self, before: i64) {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, e| e.used >= before);
    }

    /// How many schedules are held.
    pub fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn json(every_ms: u64) -> String {
        let mut s = ScheduleSpec::new("s", "w");
        s.every_ms = Some(every_ms);
        serde_json::to_string(&s).unwrap()
    }

    /// The same text is compiled once; a changed text (the same schedule edited) is compiled
    /// again; a spec that does not compile is held with its error; bad JSON is an error.
    #[test]
    fn a_spec_is_compiled_once_per_text() {
        let c = CompiledSchedules::default();
        let a = c.get("s", &json(60_000), 1).unwrap();
        let b = c.get("s", &json(60_000), 2).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let changed = c.get("s", &json(120_000), 3).unwrap();
        assert!(!Arc::ptr_eq(&a, &changed));
        assert_eq!(changed.spec().every_ms, Some(120_000));
        let bad = c.get("t", &json(10), 3).unwrap();
        assert!(bad.schedule.is_err());
        assert_eq!(bad.spec().every_ms, Some(10));
        assert!(c.get("u", "{", 3).is_err());
        assert_eq!(c.len(), 2);
    }

    /// Schedules not wanted since a time are forgotten, the others kept.
    #[test]
    fn unused_schedules_are_forgotten() {
        let c = CompiledSchedules::default();
        c.get("old", &json(60_000), 1).unwrap();
        c.get("new", &json(60_000), 5).unwrap();
        c.forget_unused(3);
        assert_eq!(c.len(), 1);
        let again = c.get("new", &json(60_000), 6).unwrap();
        assert!(again.schedule.is_ok());
    }
}
