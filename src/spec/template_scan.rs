//! Reading template source before minijinja does: where the `{{ }}` and `{% %}` blocks are,
//! rewriting references to step ids minijinja cannot parse (`steps.unit-tests` would be a
//! subtraction) into names it can, finding `| raw`, and the shell skeleton of a `run:` template
//! (its literal text with a marker per value) for checking where values stand.
//!
//! Step ids are lowercase letters, digits, `-` and `_`. `steps.<id>` and `steps["<id>"]` become
//! `steps.<mangled>`, where [`mangle`] turns each `-` into `_H_` and puts `D_` before a leading
//! digit: upper-case letters never occur in an id, so [`unmangle`] undoes it exactly. The
//! rewrite keeps every newline, so line numbers in minijinja's messages stay right.

use std::ops::Range;

use super::shell;

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text copied to the output as is (including the body of `{% raw %}` blocks).
    Text(Range<usize>),
    /// The inside of `{{ ... }}`; the range of the whole block is `block`.
    Expr {
        inner: Range<usize>,
        block: Range<usize>,
    },
    /// The inside of `{% ... %}`, and the whole block.
    Stmt {
        inner: Range<usize>,
        block: Range<usize>,
    },
    /// A whole `{# ... #}`.
    Comment(Range<usize>),
}

/// Split a template into pieces. Unterminated blocks run to the end (minijinja reports them).
pub(crate) fn pieces(t: &str) -> Vec<Piece> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i + 1 < b.len() {
        let kind = match (b[i], b[i + 1]) {
            (b'{', b'{') => b'}',
            (b'{', b'%') => b'%',
            (b'{', b'#') => b'#',
            _ => {
                i += 1;
                continue;
            }
        };
        if text_start < i {
            out.push(Piece::Text(text_start..i));
        }
        let inner_start = i + 2;
        let close = if kind == b'#' {
            find(t, inner_start, "#}")
        } else {
            block_end(t, inner_start, kind)
        };
        let inner = inner_start..close.unwrap_or(t.len());
        let end = close.map_or(t.len(), |c| c + 2);
        match kind {
            b'}' => out.push(Piece::Expr {
                inner,
                block: i..end,
            }),
            b'%' => {
                let words = t[inner.clone()].trim_matches(|c: char| c == '-' || c == '+');
                if words.trim() == "raw" {
                    // `{% raw %}...{% endraw %}`: the body is text.
                    out.push(Piece::Stmt {
                        inner,
                        block: i..end,
                    });
                    let body_end = endraw(t, end).unwrap_or(t.len());
                    if end < body_end {
                        out.push(Piece::Text(end..body_end));
                    }
                    if body_end < t.len() {
                        let close = find(t, body_end + 2, "%}");
                        let after = close.map_or(t.len(), |c| c + 2);
                        out.push(Piece::Stmt {
                            inner: body_end + 2..close.unwrap_or(t.len()),
                            block: body_end..after,
                        });
                        i = after;
                    } else {
                        i = t.len();
                    }
                    text_start = i;
                    continue;
                }
                out.push(Piece::Stmt {
                    inner,
                    block: i..end,
                });
            }
            _ => out.push(Piece::Comment(i..end)),
        }
        i = end;
        text_start = end;
    }
    if text_start < b.len() {
        out.push(Piece::Text(text_start..b.len()));
    }
    out
}

fn find(t: &str, from: usize, what: &str) -> Option<usize> {
    t.get(from..)?.find(what).map(|p| p + from)
}

/// Where `{% endraw %}` starts, from `from`.
fn endraw(t: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(open) = find(t, at, "{%") {
        let rest = t[open + 2..].trim_start_matches(['-', '+']).trim_start();
        if rest.starts_with("endraw") {
            return Some(open);
        }
        at = open + 2;
    }
    None
}

/// The end (`}}` or `%}`) of an expression or statement block, skipping string literals.
fn block_end(t: &str, from: usize, kind: u8) -> Option<usize> {
    let b = t.as_bytes();
    let mut i = from;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => i = string_end(b, i, q),
            c if c == kind && b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The index after the string literal that starts at `start` with quote `q`.
fn string_end(b: &[u8], start: usize, q: u8) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == q => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The name minijinja sees for step `id` (see the module doc).
pub(crate) fn mangle(id: &str) -> String {
    let mut out = String::with_capacity(id.len() + 4);
    if id.starts_with(|c: char| c.is_ascii_digit()) {
        out.push_str("D_");
    }
    out.push_str(&id.replace('-', "_H_"));
    out
}

/// The step id behind a name made by [`mangle`] (other names come back unchanged).
pub(crate) fn unmangle(name: &str) -> String {
    name.strip_prefix("D_").unwrap_or(name).replace("_H_", "-")
}

/// A dotted path read from a rewritten template, with its step id restored.
pub(crate) fn unmangle_path(path: &str) -> String {
    match path.strip_prefix("steps.") {
        Some(rest) => {
            let (id, tail) = rest.split_once('.').map_or((rest, ""), |(a, b)| (a, b));
            let mut out = format!("steps.{}", unmangle(id));
            if !tail.is_empty() {
                out.push('.');
                out.push_str(tail);
            }
            out
        }
        None => path.to_string(),
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_id_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}

/// Rewrite `steps.<id>` and `steps["<id>"]` in every block so minijinja parses them.
pub(crate) fn rewrite(t: &str) -> String {
    if !t.contains("steps") {
        return t.to_string();
    }
    let mut out = String::with_capacity(t.len() + 16);
    for piece in pieces(t) {
        match piece {
            Piece::Expr { inner, block } | Piece::Stmt { inner, block } => {
                out.push_str(&t[block.start..inner.start]);
                out.push_str(&rewrite_code(&t[inner.clone()]));
                out.push_str(&t[inner.end..block.end]);
            }
            Piece::Text(r) | Piece::Comment(r) => out.push_str(&t[r]),
        }
    }
    out
}

/// Rewrite step references in the code of one block (string literals left alone).
fn rewrite_code(code: &str) -> String {
    let b = code.as_bytes();
    let mut out = String::with_capacity(code.len() + 8);
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i = string_end(b, i, q);
                continue;
            }
            b's' if code[i..].starts_with("steps")
                && (i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b'.')) =>
            {
                let after = i + 5;
                if b.get(after).is_some_and(|&c| is_ident(c)) {
                    i = after;
                    continue;
                }
                if let Some((id, end)) = step_ref(code, after) {
                    out.push_str(&code[copied..after]);
                    out.push('.');
                    out.push_str(&mangle(id));
                    copied = end;
                    i = end;
                    continue;
                }
                i = after;
            }
            _ => i += 1,
        }
    }
    out.push_str(&code[copied..]);
    out
}

/// After `steps`: `.<id>` or `[ "<id>" ]`; the id and where the reference ends.
fn step_ref(code: &str, at: usize) -> Option<(&str, usize)> {
    let b = code.as_bytes();
    match b.get(at)? {
        b'.' => {
            let start = at + 1;
            let mut end = start;
            while end < b.len() && is_id_char(b[end]) {
                end += 1;
            }
            while end > start && b[end - 1] == b'-' {
                end -= 1;
            }
            (end > start).then(|| (&code[start..end], end))
        }
        b'[' => {
            let mut i = at + 1;
            while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            let q = *b.get(i)?;
            if q != b'"' && q != b'\'' {
                return None;
            }
            let end_quote = code[i + 1..].find(q as char)? + i + 1;
            let id = &code[i + 1..end_quote];
            if id.is_empty() || !id.bytes().all(is_id_char) {
                return None;
            }
            let mut j = end_quote + 1;
            while b.get(j).is_some_and(u8::is_ascii_whitespace) {
                j += 1;
            }
            (b.get(j) == Some(&b']')).then(|| (id, j + 1))
        }
        _ => None,
    }
}

/// Where `| raw` is used: the byte offset of each `raw` in the template.
pub(crate) fn raw_uses(t: &str) -> Vec<usize> {
    filter_uses(t, "raw")
}

/// Where filter `name` is applied with `|`: the byte offset of each use.
pub(crate) fn filter_uses(t: &str, name: &str) -> Vec<usize> {
    let mut found = Vec::new();
    for piece in pieces(t) {
        let inner = match piece {
            Piece::Expr { inner, .. } | Piece::Stmt { inner, .. } => inner,
            _ => continue,
        };
        let b = t.as_bytes();
        let mut i = inner.start;
        while i < inner.end {
            match b[i] {
                q @ (b'"' | b'\'') => i = string_end(b, i, q),
                b'|' => {
                    let mut j = i + 1;
                    while j < inner.end && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if t[j..inner.end].starts_with(name)
                        && !b.get(j + name.len()).is_some_and(|&c| is_ident(c))
                    {
                        found.push(j);
                    }
                    i = j;
                }
                _ => i += 1,
            }
        }
    }
    found
}

/// The shell skeleton of a `run:` template: its text with a marker for each `{{ }}` (blocks
/// using `| raw` and statements leave nothing), and the offset in the template of each marker's
/// block.
pub(crate) fn skeleton(t: &str) -> (String, Vec<usize>) {
    let raws = raw_uses(t);
    let mut out = String::with_capacity(t.len());
    let mut offsets = Vec::new();
    for piece in pieces(t) {
        match piece {
            Piece::Text(r) => out.push_str(&t[r]),
            Piece::Expr { inner, block } => {
                if !raws.iter().any(|r| inner.contains(r)) {
                    out.push_str(&shell::marker(""));
                    offsets.push(block.start);
                }
            }
            Piece::Stmt { .. } | Piece::Comment(_) => {}
        }
    }
    (out, offsets)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn step_references_are_rewritten_in_blocks_only() {
        assert_eq!(
            rewrite("echo steps.a-b {{ steps.unit-tests.outputs.x }} {% if steps['9-x'] %}"),
            "echo steps.a-b {{ steps.unit_H_tests.outputs.x }} {% if steps.D_9_H_x %}"
        );
        assert_eq!(
            rewrite("{{ 'steps.a-b' ~ steps.build.outputs.x ~ mysteps.a-b }}"),
            "{{ 'steps.a-b' ~ steps.build.outputs.x ~ mysteps.a-b }}"
        );
        assert_eq!(
            rewrite("{# {{ steps.a-b }} #}\n{{ steps.a-b }}"),
            "{# {{ steps.a-b }} #}\n{{ steps.a_H_b }}"
        );
        assert_eq!(
            rewrite("{% raw %}{{ steps.a-b }}{% endraw %}"),
            "{% raw %}{{ steps.a-b }}{% endraw %}"
        );
        assert_eq!(
            unmangle_path("steps.D_9_H_x.outputs.k"),
            "steps.9-x.outputs.k"
        );
        assert_eq!(unmangle_path("params.a_b"), "params.a_b");
    }

    #[test]
    fn raw_uses_are_found_outside_strings() {
        let t = "{{ a | raw }} {{ '| raw' }} {{ b|raw|x }} {{ c | rawer }}";
        let found = raw_uses(t);
        assert_eq!(found.len(), 2);
        assert_eq!(&t[found[0]..found[0] + 3], "raw");
        assert_eq!(&t[found[1]..found[1] + 3], "raw");
    }

    #[test]
    fn the_skeleton_has_a_marker_per_value() {
        let (s, offsets) = skeleton("a {{ x }} {% if y %}\"{{ y | raw }}\"{% endif %}{# c #}");
        let m = shell::marker("");
        assert_eq!(s, format!("a {m} \"\""));
        assert_eq!(offsets, vec![2]);
    }
}
