//! Trigger names: the rule every name follows, and the names of the `after` triggers a
//! workflow file declares under `on:` (`<workflow>-after-<upstream>`, then `-2`, `-3`… when the
//! file names the same upstream workflow again).

use crate::{Error, Result};

/// Check a trigger name: the workflow-name rule, `[a-z0-9][a-z0-9_-]*`, at most 100 bytes.
pub fn check(name: &str) -> Result<()> {
    if name.len() <= 100 && crate::spec::is_name(name) {
        return Ok(());
    }
    Err(Error::invalid_with_hint(
        format!("{name:?} is not a valid trigger name"),
        "use lowercase letters, digits, `-` and `_`, starting with a letter or digit (at most 100)",
    ))
}

/// The names of the triggers `workflow`'s file declares, one per `on:` entry, given the
/// upstream workflow of each entry in file order.
pub fn declared<'a>(workflow: &str, upstreams: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    upstreams
        .into_iter()
        .map(|up| {
            let n = seen.iter().filter(|s| **s == up).count();
            seen.push(up);
            match n {
                0 => format!("{workflow}-after-{up}"),
                n => format!("{workflow}-after-{up}-{}", n + 1),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_names_are_numbered_when_an_upstream_repeats() {
        assert_eq!(
            declared("deploy", ["build", "test", "build"]),
            [
                "deploy-after-build",
                "deploy-after-test",
                "deploy-after-build-2"
            ]
        );
    }

    #[test]
    fn names_follow_the_workflow_name_rule() {
        assert!(check("nightly-build").is_ok());
        for bad in ["", "Nightly", "-x", "a b", "a/b", &"x".repeat(101)] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }
}
