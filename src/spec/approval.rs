//! `approval:` steps: who may approve (`approvers: { users, roles }`, at least one of them),
//! how long the step waits (`timeout`), and what it asks (`message`, a template).

use crate::auth::Role;
use crate::model::{ApprovalSpec, Approvers};

use super::diag::Diagnostics;
use super::fields::{self, Fields};
use super::node::{Node, Value};
use super::step::TemplateRef;
use super::suggest::did_you_mean;

pub(crate) const APPROVAL_KEYS: &[&str] = &["approvers", "timeout", "message"];
pub(crate) const APPROVER_KEYS: &[&str] = &["users", "roles"];

/// Read an `approval:` mapping; its `message` is appended to `templates`.
pub(crate) fn parse_approval(
    node: &Node,
    what: &str,
    templates: &mut Vec<TemplateRef>,
    diags: &mut Diagnostics,
) -> Option<ApprovalSpec> {
    let f = Fields::read(node, what, APPROVAL_KEYS, diags)?;
    let approvers = match f.get("approvers") {
        Some(n) => parse_approvers(n, &format!("{what} approvers"), diags),
        None => {
            diags.error_hint(
                f.pos,
                format!("{what}: says nobody may approve it"),
                Some("give it `approvers: { users: [alice], roles: [operator] }`".into()),
            );
            None
        }
    };
    let timeout_ms = f
        .get("timeout")
        .and_then(|n| fields::duration_ms(n, &format!("{what} timeout"), diags));
    let message = f.get("message").and_then(|n| {
        let text = fields::string(n, &format!("{what} message"), diags)?;
        templates.push(TemplateRef::new(&text, n.pos, "approval message"));
        Some(text)
    });
    Some(ApprovalSpec {
        approvers: approvers?,
        timeout_ms,
        message,
    })
}

/// `approvers:` — `users` (user names) and `roles` (role names); at least one entry.
fn parse_approvers(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<Approvers> {
    let f = Fields::read(node, what, APPROVER_KEYS, diags)?;
    let mut out = Approvers::default();
    // Names that were written but are wrong are reported as such, not as "nobody".
    let mut written = 0;
    if let Some(n) = f.get("users") {
        for (name, pos) in string_list(n, &format!("{what} users"), diags) {
            written += 1;
            if name.trim().is_empty() {
                diags.error(pos, format!("{what} users: a user name is empty"));
            } else {
                out.users.push(name);
            }
        }
    }
    if let Some(n) = f.get("roles") {
        for (name, pos) in string_list(n, &format!("{what} roles"), diags) {
            written += 1;
            match name.parse::<Role>() {
                Ok(role) => out.roles.push(role),
                Err(_) => {
                    let names = Role::ALL.map(Role::as_str);
                    let hint = did_you_mean(&name, names.iter().copied())
                        .or_else(|| Some(format!("roles are: {}", names.join(", "))));
                    diags.error_hint(pos, format!("{what} roles: unknown role {name:?}"), hint);
                }
            }
        }
    }
    if out.users.is_empty() && out.roles.is_empty() {
        if written > 0 {
            return None;
        }
        diags.error_hint(
            f.pos,
            format!("{what}: names nobody who may approve"),
            Some("list `users: [...]`, `roles: [...]` or both".into()),
        );
        return None;
    }
    Some(out)
}

fn string_list(
    node: &Node,
    what: &str,
    diags: &mut Diagnostics,
) -> Vec<(String, super::diag::Pos)> {
    let Value::Seq(items) = &node.value else {
        diags.error(
            node.pos,
            format!("{what}: expected a list, got {}", node.kind()),
        );
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| fields::string(item, what, diags).map(|s| (s, item.pos)))
        .collect()
}

/// An approval step runs nowhere: the keys that say how an agent runs a step are refused on it
/// (`defaults:` do not apply to it).
pub(crate) fn refuse_agent_keys(f: &Fields<'_>, what: &str, diags: &mut Diagnostics) {
    for key in ["timeout", "retry", "agent", "env", "workdir"] {
        if let Some(pos) = f.key_pos(key) {
            let hint = (key == "timeout").then(|| "write `approval: { timeout: 2h, ... }`".into());
            diags.error_hint(
                pos,
                format!("{what}: `{key}` does not apply to an approval step (no agent runs it)"),
                hint,
            );
        }
    }
}
