//! Quoting template values for the shell: a `run:` template is rendered with every value
//! replaced by a marker ([`marker`]); [`quote_markers`] then reads the rendered script the way
//! `/bin/sh` would — quotes, `$( )`, `$(( ))`, comments, here-documents — and replaces each marker
//! with its value quoted for the spot where it stands, so that a value is always data, never
//! code. Spots where no quoting is reliable (inside backquotes or `${...}`, right after a
//! backslash, a value that would end a here-document) are refused with a reason.
//!
//! | spot | the value becomes |
//! |---|---|
//! | outside quotes, `$( )` | one single-quoted word: `'it'\''s'` |
//! | inside `"..."` | `$`, `` ` ``, `"` and `\` escaped with a backslash |
//! | inside `'...'` | each `'` as `'\''` |
//! | a here-document (`<<EOF`) | `$`, `` ` `` and `\` escaped; as is with `<<'EOF'` |
//! | `$(( ))` | an integer as is; anything else is refused |
//! | a comment | newlines as spaces |

/// Opens a marker: the value follows, hex-encoded, then [`CLOSE`]. Private-use characters that
/// a workflow file has no reason to contain (templates containing them are refused).
pub(crate) const OPEN: char = '\u{E000}';
/// Closes a marker.
pub(crate) const CLOSE: char = '\u{E001}';

/// The marker standing for `value` in a rendered script.
pub(crate) fn marker(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2 + 8);
    out.push(OPEN);
    for b in value.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out.push(CLOSE);
    out
}

/// Whether `s` contains the characters markers are made of.
pub(crate) fn has_marker_chars(s: &str) -> bool {
    s.contains([OPEN, CLOSE])
}

/// Where a value stands in a script, as far as quoting goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Spot {
    /// Outside quotes (at the top, or inside `$( )`).
    Bare,
    /// Inside `"..."`.
    Double,
    /// Inside `'...'`.
    Single,
    /// Inside `$(( ))`.
    Arith,
    /// In a `#` comment.
    Comment,
    /// The body of a here-document; `expand` when its delimiter was not quoted; `strip_tabs`
    /// for `<<-`. (A secret placed here is checked against the delimiter when it is filled in,
    /// see [`super::secret_refs`].)
    Heredoc {
        expand: bool,
        delimiter: String,
        strip_tabs: bool,
    },
}

/// One nesting level of the script being read.
#[derive(Debug, Clone)]
enum Frame {
    /// The script itself.
    Top,
    /// `$( ... )`, with the depth of plain parentheses inside it and of `case ... esac` (whose
    /// patterns end with a `)` that closes nothing).
    Paren {
        depth: u32,
        cases: u32,
    },
    /// `$(( ... ))`, with the depth of parentheses inside it.
    Arith(u32),
    /// `${ ... }`.
    Brace,
    /// `` `...` ``.
    Backtick,
    Double,
    Single,
    Comment,
    Heredoc(Heredoc),
}

#[derive(Debug, Clone)]
struct Heredoc {
    delimiter: String,
    expand: bool,
    strip_tabs: bool,
}

/// Reads a rendered script and replaces markers; see the module doc.
struct Reader {
    chars: Vec<char>,
    i: usize,
    out: String,
    stack: Vec<Frame>,
    /// Here-documents whose operator was read on the current line; their bodies start after it.
    pending: Vec<Heredoc>,
    /// Whether the next character starts a word (so `#` starts a comment).
    word_start: bool,
    /// Where the current line of a here-document body starts in `out`, and whether a value
    /// was put on it.
    line_start: usize,
    line_has_value: bool,
}

/// Replace every marker in `script` with its value quoted for its spot. `Err` says why a value
/// cannot be placed safely.
pub(crate) fn quote_markers(script: &str) -> Result<String, String> {
    let mut r = Reader {
        chars: script.chars().collect(),
        i: 0,
        out: String::with_capacity(script.len()),
        stack: vec![Frame::Top],
        pending: Vec::new(),
        word_start: true,
        line_start: 0,
        line_has_value: false,
    };
    r.read(|spot, value, refused| match refused {
        Some(why) => Err(why),
        None => place(spot, value).map(|q| super::secret_refs::retag(spot, q)),
    })?;
    Ok(r.out)
}

/// The spot of each marker in `script`, in order (`Err` for a marker no quoting fits), without
/// decoding values: for checking templates before any value exists.
pub(crate) fn spots(script: &str) -> Vec<Result<Spot, String>> {
    let mut found = Vec::new();
    let mut r = Reader {
        chars: script.chars().collect(),
        i: 0,
        out: String::new(),
        stack: vec![Frame::Top],
        pending: Vec::new(),
        word_start: true,
        line_start: 0,
        line_has_value: false,
    };
    let _ = r.read(|spot, _, refused| {
        found.push(match refused {
            Some(why) => Err(why),
            None => Ok(spot.clone()),
        });
        Ok(String::new())
    });
    found
}

/// Quote `value` for `spot`.
fn place(spot: &Spot, value: &str) -> Result<String, String> {
    Ok(match spot {
        Spot::Bare => format!("'{}'", value.replace('\'', r"'\''")),
        Spot::Single => value.replace('\'', r"'\''"),
        Spot::Double => escape(value, &['$', '`', '"', '\\']),
        Spot::Heredoc { expand: true, .. } => escape(value, &['$', '`', '\\']),
        Spot::Heredoc { expand: false, .. } => value.to_string(),
        Spot::Comment => value.replace(['\n', '\r'], " "),
        Spot::Arith => {
            let digits = value.strip_prefix('-').unwrap_or(value);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "{value:?} stands inside $(( )), where only an integer can be placed"
                ));
            }
            value.to_string()
        }
    })
}

fn escape(value: &str, special: &[char]) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn decode(hex: &str) -> Result<String, String> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| "a filter changed a value's marker; use | raw for this value".to_string())
}

const REFUSED_BACKTICK: &str =
    "a value inside backquotes `...` cannot be quoted reliably; use $(...) instead";
const REFUSED_BRACE: &str = "a value inside ${...} cannot be quoted reliably; assign it to a variable first (X={{ ... }}) and use ${X:-...}";
const REFUSED_BACKSLASH: &str =
    "a value right after a backslash cannot be quoted; remove the backslash";

impl Reader {
    fn top(&self) -> &Frame {
        self.stack.last().unwrap_or(&Frame::Top)
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn copy(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(&c) = self.chars.get(self.i) {
                self.out.push(c);
                self.i += 1;
            }
        }
    }

    /// A backslash and the character it escapes — unless that is a marker, which is then read
    /// as one (and refused: see [`Reader::refusal`]).
    fn backslash(&mut self) {
        self.copy(1);
        if self.peek(0) != Some(OPEN) {
            self.copy(1);
        }
    }

    /// Why a value cannot stand here at all, whatever it is.
    fn refusal(&self) -> Option<&'static str> {
        if self.i > 0 && self.chars.get(self.i - 1) == Some(&'\\') && self.escaped_backslash() {
            return Some(REFUSED_BACKSLASH);
        }
        for f in &self.stack {
            match f {
                Frame::Backtick => return Some(REFUSED_BACKTICK),
                Frame::Brace => return Some(REFUSED_BRACE),
                _ => {}
            }
        }
        None
    }

    /// Whether the backslash just before `i` escapes what follows (it is not itself escaped,
    /// and backslashes mean something here).
    fn escaped_backslash(&self) -> bool {
        let quoting = !matches!(
            self.top(),
            Frame::Single | Frame::Comment | Frame::Heredoc(Heredoc { expand: false, .. })
        );
        let run = self.chars[..self.i]
            .iter()
            .rev()
            .take_while(|&&c| c == '\\')
            .count();
        quoting && run % 2 == 1
    }

    fn spot(&self) -> Spot {
        match self.top() {
            Frame::Top | Frame::Paren { .. } | Frame::Backtick | Frame::Brace => Spot::Bare,
            Frame::Arith(_) => Spot::Arith,
            Frame::Double => Spot::Double,
            Frame::Single => Spot::Single,
            Frame::Comment => Spot::Comment,
            Frame::Heredoc(h) => Spot::Heredoc {
                expand: h.expand,
                delimiter: h.delimiter.clone(),
                strip_tabs: h.strip_tabs,
            },
        }
    }

    /// Read the whole script; `put(spot, value, refused)` says what replaces each marker.
    fn read(
        &mut self,
        mut put: impl FnMut(&Spot, &str, Option<String>) -> Result<String, String>,
    ) -> Result<(), String> {
        while let Some(c) = self.peek(0) {
            if c == OPEN {
                self.marker(&mut put)?;
                continue;
            }
            match self.top().clone() {
                Frame::Single => {
                    if c == '\'' {
                        self.stack.pop();
                    }
                    self.copy(1);
                }
                Frame::Comment => {
                    if c == '\n' {
                        self.stack.pop();
                        // The newline ends a command line too (here-documents start after it).
                        continue;
                    }
                    self.copy(1);
                }
                Frame::Double => self.in_double(c),
                Frame::Heredoc(h) => self.in_heredoc(c, &h)?,
                Frame::Arith(depth) => self.in_arith(c, depth),
                Frame::Brace => {
                    if c == '}' {
                        self.stack.pop();
                        self.copy(1);
                    } else if c == '\\' {
                        self.backslash();
                    } else if !self.expansion(c) {
                        self.copy(1);
                    }
                }
                Frame::Top | Frame::Paren { .. } | Frame::Backtick => self.in_command(c),
            }
        }
        Ok(())
    }

    fn marker(
        &mut self,
        put: &mut impl FnMut(&Spot, &str, Option<String>) -> Result<String, String>,
    ) -> Result<(), String> {
        let start = self.i + 1;
        let mut end = start;
        while end < self.chars.len() && self.chars[end] != CLOSE {
            end += 1;
        }
        let hex: String = self.chars[start..end].iter().collect();
        let refused = self.refusal().map(str::to_string);
        let spot = self.spot();
        let value = decode(&hex)?;
        let placed = put(&spot, &value, refused)?;
        self.i = (end + 1).min(self.chars.len());
        if let Frame::Heredoc(h) = self.top().clone() {
            // A value with newlines ends lines of the body: none of them may be the delimiter.
            for (n, piece) in placed.split('\n').enumerate() {
                if n > 0 {
                    self.end_heredoc_line(&h, true)?;
                    self.out.push('\n');
                    self.line_start = self.out.len();
                }
                self.out.push_str(piece);
            }
            self.line_has_value = true;
        } else {
            self.out.push_str(&placed);
        }
        self.word_start = false;
        Ok(())
    }

    /// `$(`, `$((` or `${` (and a backquote where they nest): open a frame. Whether it did.
    fn expansion(&mut self, c: char) -> bool {
        if c == '`' {
            if matches!(self.top(), Frame::Backtick) {
                self.stack.pop();
            } else {
                self.stack.push(Frame::Backtick);
            }
            self.copy(1);
            return true;
        }
        if c != '$' {
            return false;
        }
        match (self.peek(1), self.peek(2)) {
            (Some('('), Some('(')) => {
                self.stack.push(Frame::Arith(0));
                self.copy(3);
            }
            (Some('('), _) => {
                self.stack.push(Frame::Paren { depth: 0, cases: 0 });
                self.copy(2);
            }
            (Some('{'), _) => {
                self.stack.push(Frame::Brace);
                self.copy(2);
            }
            _ => return false,
        }
        self.word_start = true;
        true
    }

    fn in_command(&mut self, c: char) {
        if self.expansion(c) {
            return;
        }
        let word_start = self.word_start;
        self.word_start = matches!(
            c,
            ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>'
        );
        if word_start && matches!(self.top(), Frame::Paren { .. }) {
            let change: i32 = if self.keyword("case") {
                1
            } else if self.keyword("esac") {
                -1
            } else {
                0
            };
            if let Some(Frame::Paren { cases, .. }) = self.stack.last_mut() {
                *cases = cases.saturating_add_signed(change);
            }
        }
        match c {
            '\\' => self.backslash(),
            '\'' => {
                self.stack.push(Frame::Single);
                self.copy(1);
            }
            '"' => {
                self.stack.push(Frame::Double);
                self.copy(1);
            }
            '#' if word_start => {
                self.stack.push(Frame::Comment);
                self.copy(1);
            }
            '(' => {
                if let Some(Frame::Paren { depth, .. }) = self.stack.last_mut() {
                    *depth += 1;
                }
                self.copy(1);
            }
            ')' => {
                match self.stack.last_mut() {
                    // A `case` pattern's `)`.
                    Some(Frame::Paren { depth: 0, cases }) if *cases > 0 => {}
                    Some(Frame::Paren { depth: 0, .. }) => {
                        self.stack.pop();
                    }
                    Some(Frame::Paren { depth, .. }) => *depth -= 1,
                    _ => {}
                }
                self.copy(1);
            }
            '<' if self.peek(1) == Some('<') => {
                if self.peek(2) == Some('<') {
                    self.copy(3); // a here-string, not a here-document
                } else {
                    self.copy(2);
                    self.heredoc_operator();
                }
            }
            '\n' => {
                self.copy(1);
                if !self.pending.is_empty() {
                    // The bodies follow one after the other: the first read goes on top.
                    for h in std::mem::take(&mut self.pending).into_iter().rev() {
                        self.stack.push(Frame::Heredoc(h));
                    }
                    self.line_start = self.out.len();
                    self.line_has_value = false;
                }
            }
            _ => self.copy(1),
        }
    }

    /// Whether the word at `i` is `word` (followed by a blank, `;`, `)`, a newline or the end).
    fn keyword(&self, word: &str) -> bool {
        let n = word.chars().count();
        word.chars()
            .enumerate()
            .all(|(k, w)| self.peek(k) == Some(w))
            && matches!(
                self.peek(n),
                None | Some(' ' | '\t' | '\n' | ';' | ')' | '&' | '|')
            )
    }

    /// After `<<`: an optional `-`, blanks, then the delimiter word (quoted if any part of it is).
    fn heredoc_operator(&mut self) {
        let strip_tabs = self.peek(0) == Some('-');
        if strip_tabs {
            self.copy(1);
        }
        while matches!(self.peek(0), Some(' ' | '\t')) {
            self.copy(1);
        }
        let mut delimiter = String::new();
        let mut quoted = false;
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' | OPEN => break,
                '\'' | '"' => {
                    quoted = true;
                    self.copy(1);
                    while let Some(q) = self.peek(0) {
                        self.copy(1);
                        if q == c {
                            break;
                        }
                        delimiter.push(q);
                    }
                }
                '\\' => {
                    quoted = true;
                    self.copy(1);
                    if let Some(n) = self.peek(0) {
                        delimiter.push(n);
                        self.copy(1);
                    }
                }
                _ => {
                    delimiter.push(c);
                    self.copy(1);
                }
            }
        }
        if !delimiter.is_empty() {
            self.pending.push(Heredoc {
                delimiter,
                expand: !quoted,
                strip_tabs,
            });
        }
        self.word_start = false;
    }

    fn in_double(&mut self, c: char) {
        if self.expansion(c) {
            return;
        }
        match c {
            '"' => {
                self.stack.pop();
                self.copy(1);
            }
            '\\' => self.backslash(),
            _ => self.copy(1),
        }
    }

    fn in_arith(&mut self, c: char, depth: u32) {
        if self.expansion(c) {
            return;
        }
        match c {
            '(' => {
                self.stack.pop();
                self.stack.push(Frame::Arith(depth + 1));
                self.copy(1);
            }
            ')' if depth == 0 && self.peek(1) == Some(')') => {
                self.stack.pop();
                self.copy(2);
            }
            ')' => {
                self.stack.pop();
                self.stack.push(Frame::Arith(depth.saturating_sub(1)));
                self.copy(1);
            }
            _ => self.copy(1),
        }
    }

    fn in_heredoc(&mut self, c: char, h: &Heredoc) -> Result<(), String> {
        if c == '\n' {
            if self.end_heredoc_line(h, self.line_has_value)? {
                // The delimiter line: the body ended; the newline belongs to the script again.
                self.stack.pop();
                self.line_has_value = false;
                self.word_start = true;
                self.in_command_newline();
                return Ok(());
            }
            self.copy(1);
            self.line_start = self.out.len();
            self.line_has_value = false;
            return Ok(());
        }
        if h.expand {
            if self.expansion(c) {
                return Ok(());
            }
            if c == '\\' && self.peek(1) != Some('\n') {
                self.backslash();
                return Ok(());
            }
        }
        self.copy(1);
        Ok(())
    }

    /// The newline after a here-document's delimiter line (more bodies may follow).
    fn in_command_newline(&mut self) {
        self.copy(1);
        self.line_start = self.out.len();
    }

    /// A line of a here-document body is complete in `out`: whether it is the delimiter line.
    /// A line that a value helped make must not be (the value would end the body early).
    fn end_heredoc_line(&self, h: &Heredoc, has_value: bool) -> Result<bool, String> {
        let line = &self.out[self.line_start.min(self.out.len())..];
        let line = if h.strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        if line != h.delimiter {
            return Ok(false);
        }
        if has_value {
            return Err(format!(
                "a value would end the here-document early (a line reading {:?})",
                h.delimiter
            ));
        }
        Ok(true)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(script: &str, value: &str) -> Result<String, String> {
        quote_markers(&script.replace('@', &marker(value)))
    }

    #[test]
    fn markers_round_trip() {
        assert_eq!(q("echo @", "a'b").unwrap(), r"echo 'a'\''b'");
        assert_eq!(q("echo @", "").unwrap(), "echo ''");
        assert_eq!(q("x", "").unwrap(), "x");
    }

    #[test]
    fn the_spot_is_read_through_nesting() {
        assert_eq!(
            q(r#"echo "$(echo @)""#, "$x").unwrap(),
            r#"echo "$(echo '$x')""#
        );
        assert_eq!(
            q(r#"echo "$(echo "@")""#, "$x").unwrap(),
            r#"echo "$(echo "\$x")""#
        );
        assert_eq!(q("echo \"it's @\"", "a").unwrap(), "echo \"it's a\"");
        assert_eq!(q("echo 'say \"@'", "a").unwrap(), "echo 'say \"a'");
        assert_eq!(q("echo \\\"@", "a").unwrap(), "echo \\\"'a'");
        assert_eq!(q("echo a#b @", "a").unwrap(), "echo a#b 'a'");
        assert_eq!(
            q("echo # @\necho @", "a\nb").unwrap(),
            "echo # a b\necho 'a\nb'"
        );
    }

    #[test]
    fn case_patterns_inside_command_substitution_close_nothing() {
        assert_eq!(
            q(
                "echo \"$(case x in a) echo @;; (b) echo @;; esac) @\"",
                "$x"
            )
            .unwrap(),
            "echo \"$(case x in a) echo '$x';; (b) echo '$x';; esac) \\$x\""
        );
    }

    #[test]
    fn here_documents() {
        assert_eq!(
            q("cat <<EOF\n$HOME @\nEOF\necho @", "$x").unwrap(),
            "cat <<EOF\n$HOME \\$x\nEOF\necho '$x'"
        );
        assert_eq!(
            q("cat <<'EOF'\n@\nEOF\n", "$x").unwrap(),
            "cat <<'EOF'\n$x\nEOF\n"
        );
        assert_eq!(
            q("cat <<-\"E\" <<F\n\t@\n\tE\n@\nF\n@", "v").unwrap(),
            "cat <<-\"E\" <<F\n\tv\n\tE\nv\nF\n'v'"
        );
        assert!(q("cat <<EOF\n@\nEOF\n", "EOF").is_err());
        assert!(q("cat <<EOF\nx@\nEOF\n", "\nEOF").is_err());
        assert_eq!(q("cat <<<@", "a b").unwrap(), "cat <<<'a b'");
    }

    #[test]
    fn spots_are_listed_without_values() {
        let m = marker("");
        let found = spots(&format!("a {m} \"{m}\" `{m}` $(( {m} ))"));
        assert_eq!(found.len(), 4);
        assert_eq!(found[0], Ok(Spot::Bare));
        assert_eq!(found[1], Ok(Spot::Double));
        assert!(found[2].is_err());
        assert_eq!(found[3], Ok(Spot::Arith));
    }
}
