//! What non-admins are not shown of the server's file system (issue 9): the store's path, the
//! folder beside it, the backup folder and the audit key and checkpoint log, wherever audit
//! records, reports and verification results would name them. Known paths inside text become
//! `(hidden)`; a string of an audit record's details that is an absolute path keeps only its
//! file name (as `backup list` shows a backup's file to non-admins), so a record still says which
//! backup or archive it was about.
//!
//! A redacted record no longer matches its hash: only the unredacted trail verifies (`audit
//! verify` runs on the server, over the records as stored).

use std::path::Path;

use serde_json::Value;

use super::{HIDDEN, LocalControlPlane};
use crate::auth::{Permission, Principal};
use crate::model::AuditRecord;

/// Scrubs paths from what a non-admin is shown.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Known paths, longest first, each also as escaped in JSON text.
    paths: Vec<String>,
}

impl LocalControlPlane {
    /// The redactor for `who`: none for admins, who see everything.
    pub(crate) fn redactor(&self, who: &Principal) -> Option<Redactor> {
        if who.can(Permission::Administer) {
            return None;
        }
        let audit = self.audit_paths();
        let known = [
            self.path().map(Path::to_path_buf),
            self.path().and_then(Path::parent).map(Path::to_path_buf),
            self.backup_dir(None).ok(),
            Some(audit.key.clone()),
            Some(audit.checkpoints.clone()),
            audit.checkpoints.parent().map(Path::to_path_buf),
        ];
        Some(Redactor::new(
            known.into_iter().flatten().map(|p| p.display().to_string()),
        ))
    }
}

impl Redactor {
    fn new(known: impl Iterator<Item = String>) -> Self {
        let mut paths: Vec<String> = known.filter(|p| p.len() > 1).collect();
        // JSON text holds paths escaped; scrub that spelling too.
        let escaped: Vec<String> = paths
            .iter()
            .filter_map(|p| serde_json::to_string(p).ok())
            .map(|q| q.trim_matches('"').to_string())
            .collect();
        paths.extend(escaped);
        paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
        paths.dedup();
        Redactor { paths }
    }

    /// `s` with every known path replaced by `(hidden)`.
    pub fn text(&self, s: &mut String) {
        for p in &self.paths {
            if s.contains(p.as_str()) {
                *s = s.replace(p.as_str(), HIDDEN);
            }
        }
    }

    /// Every string in `v`: an absolute path keeps its file name; known paths in other text are
    /// hidden.
    pub fn value(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if Path::new(s.as_str()).is_absolute() {
                    *s = Path::new(s.as_str())
                        .file_name()
                        .map_or_else(|| HIDDEN.to_string(), |n| n.to_string_lossy().into_owned());
                } else {
                    self.text(s);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|x| self.value(x)),
            Value::Object(map) => map.values_mut().for_each(|x| self.value(x)),
            _ => {}
        }
    }

    /// An audit record as a non-admin sees it: its target and details without the server's
    /// paths.
    pub fn record(&self, r: &mut AuditRecord) {
        let mut target = Value::String(std::mem::take(&mut r.target));
        self.value(&mut target);
        r.target = match target {
            Value::String(s) => s,
            _ => String::new(),
        };
        self.value(&mut r.details);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_are_hidden_and_absolute_paths_keep_their_file_name() {
        let r = Redactor::new(["/srv/imx/imx.db".to_string(), "/srv/imx".to_string()].into_iter());
        let mut v = serde_json::json!({
            "path": "/mnt/backups/imx-backup-01J.imxb",
            "message": "cannot open /srv/imx/imx.db: busy",
            "n": 3,
            "list": ["/srv/imx/archive/a.jsonl", "plain"],
        });
        r.value(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "path": "imx-backup-01J.imxb",
                "message": "cannot open (hidden): busy",
                "n": 3,
                "list": ["a.jsonl", "plain"],
            })
        );
        let mut s = "store /srv/imx/imx.db".to_string();
        r.text(&mut s);
        assert_eq!(s, "store (hidden)");
    }
}
