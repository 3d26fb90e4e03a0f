//! Reading a child's output line by line into the step's [`LogSink`]: lossy UTF-8, and lines
//! longer than a cap are cut (the rest of the line is skipped, not buffered). A secret that
//! straddles the cut is masked before the line is cut (see [`next_line`]).

use std::borrow::Cow;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};

use crate::agent::logs::LogSink;
use crate::agent::mask::Masker;
use crate::model::LogStream;

/// The longest line kept, in bytes; the rest of a longer line is replaced by a note.
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// Bytes read from a pipe at once: the whole lines among them are handled as one block.
const READ_AT_ONCE: usize = 64 * 1024;

/// Copy lines from a pipe into the sink until it closes, reading more slowly while the sink is
/// full (back-pressure: the step waits on its writes rather than lines being dropped). This is
/// the path every line of a `run` step's output takes (`benches/masking.rs` measures it).
///
/// The whole lines of what one read brought are split, decoded and checked for secrets as one
/// block ([`send_block`]); a line that a read leaves unfinished is read on by [`next_line`].
pub async fn pump(pipe: impl AsyncRead + Unpin, stream: LogStream, logs: LogSink) {
    let mut reader = BufReader::with_capacity(READ_AT_ONCE, pipe);
    let masker = logs.masker();
    let mut suspects = Vec::new();
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) => break,
            Ok(buf) => buf,
            Err(e) => {
                cannot_read(&logs, stream, &e);
                break;
            }
        };
        if let Some(last) = memchr::memrchr(b'\n', buf) {
            send_block(
                &buf[..=last],
                stream,
                &logs,
                masker.as_deref(),
                &mut suspects,
            )
            .await;
            reader.consume(last + 1);
            continue;
        }
        match next_line(&mut reader, MAX_LINE, masker.as_deref()).await {
            Ok(Some(line)) => logs.send(stream, line).await,
            Ok(None) => break,
            Err(e) => {
                cannot_read(&logs, stream, &e);
                break;
            }
        }
    }
}

fn cannot_read(logs: &LogSink, stream: LogStream, e: &std::io::Error) {
    logs.push(
        LogStream::System,
        format!("imx: cannot read {}: {e}", stream.as_str()),
    );
}

/// Send the lines of `block` (whole lines, the last ending in `\n`): one UTF-8 check and one
/// pass of the masker's filter over the block ([`Masker::suspects`]); only the lines it points
/// at are masked, by the sink.
async fn send_block(
    block: &[u8],
    stream: LogStream,
    logs: &LogSink,
    masker: Option<&Masker>,
    suspects: &mut Vec<usize>,
) {
    suspects.clear();
    if let Some(m) = masker {
        m.suspects(block, suspects);
    }
    let text = std::str::from_utf8(block).ok();
    let mut suspects = suspects.iter().copied().peekable();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', block) {
        let from = start;
        start = end + 1;
        // Suspect if a position falls in this line (its `\n` included).
        let mut suspect = false;
        while let Some(p) = suspects.next_if(|&p| p <= end) {
            suspect |= p >= from;
        }
        let raw = &block[from..end];
        let decoded = match text {
            Some(t) => Cow::Borrowed(&t[from..end]),
            None => String::from_utf8_lossy(raw),
        };
        let body = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = if body.len() > MAX_LINE {
            // Masked whole before it is cut, so no beginning of a value is kept at the cut.
            let whole = match masker {
                Some(m) if suspect => m.mask(&decoded),
                _ => decoded,
            };
            cut(&whole, raw.len(), MAX_LINE)
        } else {
            decoded.strip_suffix('\r').unwrap_or(&decoded).to_owned()
        };
        if suspect {
            logs.send(stream, line).await;
        } else {
            logs.send_clean(stream, line).await;
        }
    }
}

/// The first `max` bytes of `text` (at most: cut at a character), and a note of how many of the
/// line's `total` bytes were cut.
fn cut(text: &str, total: usize, max: usize) -> String {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 32);
    out.push_str(&text[..end]);
    out.push_str(&format!(" … [{} more bytes cut]", total - max));
    out
}

/// Read the next line (without its `\n` or `\r\n`); `None` at end of input.
///
/// A line longer than `max` bytes is cut to `max`. With a `masker`, the bytes just past the cut
/// (as many as its longest pattern) are read too and the line is masked before it is cut, so
/// that no beginning of a secret written across the cut is kept (the sink masks every line
/// again, whole, which a cut line no longer is).
pub(crate) async fn next_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
    masker: Option<&Masker>,
) -> std::io::Result<Option<String>> {
    let lookahead = masker.map_or(0, Masker::longest);
    // One more byte: a line of `max` bytes and its `\r` is not cut.
    let keep_max = max.saturating_add(lookahead).saturating_add(1);
    let mut line = Vec::new();
    let mut skipped: usize = 0;
    let mut saw_any = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            if !saw_any {
                return Ok(None);
            }
            break;
        }
        saw_any = true;
        let (chunk, consumed, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = keep_max.saturating_sub(line.len());
        let keep = chunk.len().min(room);
        line.extend_from_slice(&chunk[..keep]);
        skipped += chunk.len() - keep;
        reader.consume(consumed);
        if done {
            break;
        }
    }
    if skipped == 0 && line.last() == Some(&b'\r') {
        line.pop();
    }
    if skipped == 0 && line.len() <= max {
        return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
    }
    // Cut: mask what was read (up to `lookahead` bytes past the cut), then cut the result.
    let total = line.len() + skipped;
    let whole = String::from_utf8_lossy(&line);
    let masked = match masker {
        Some(m) => m.mask(&whole).into_owned(),
        None => whole.into_owned(),
    };
    Ok(Some(cut(&masked, total, max)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::sync::Arc;

    async fn all(input: &[u8], max: usize) -> Vec<String> {
        let mut r = tokio::io::BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        while let Some(l) = next_line(&mut r, max, None).await.unwrap() {
            out.push(l);
        }
        out
    }

    /// A line longer than the cut with a secret straddling it: masked before it is cut, so
    /// no beginning of the value is kept (before, the cut kept its first bytes in clear).
    #[tokio::test]
    async fn a_secret_across_the_line_cut_is_masked() {
        use crate::auth::Secret;
        use base64::Engine as _;
        const S: &str = "Zq8-SECRET-value-wW3";
        let masker = std::sync::Arc::new(Masker::new(&[Secret::new(S)]).unwrap());
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("k:{S}"));
        // A line read whole with others (a block), and one longer than a read.
        for (shown, tail) in [S.to_string(), b64]
            .into_iter()
            .flat_map(|s| [(s.clone(), MAX_LINE / 2), (s, 3 * MAX_LINE)])
        {
            for before in 1..shown.len() {
                let sink = LogSink::masked(None, Some(masker.clone()));
                let mut input = "a".repeat(MAX_LINE - before);
                input.push_str(&shown);
                input.push_str(&"b".repeat(tail));
                input.push_str("\nnext\n");
                pump(input.as_bytes(), LogStream::Stdout, sink.clone()).await;
                let lines: Vec<String> = sink.take().into_iter().map(|l| l.line).collect();
                assert_eq!(lines.len(), 2, "{before} {tail}");
                let (kept, note) = lines[0].split_once(" … [").unwrap();
                assert!(note.ends_with(" more bytes cut]"), "{note}");
                assert!(kept.len() <= MAX_LINE, "{before}: {}", kept.len());
                // The a's, the mask (perhaps cut), perhaps b's: nothing of the value.
                let masked = kept.trim_start_matches('a').trim_end_matches('b');
                assert!(
                    !masked.is_empty() && masked.chars().all(|c| c == '*'),
                    "{before}: {masked:?} kept at the cut"
                );
                assert_eq!(lines[1], "next");
            }
        }
    }

    /// Lines sent through the pump, with `masker`.
    async fn pumped(input: &[u8], masker: Option<Arc<Masker>>) -> Vec<String> {
        let sink = LogSink::masked(None, masker);
        // Nothing takes batches here: writers must not wait for room.
        sink.release();
        pump(input, LogStream::Stdout, sink.clone()).await;
        sink.take().into_iter().map(|l| l.line).collect()
    }

    /// The pump reads blocks of whole lines: they come out as line by line would make them —
    /// `\r\n`, empty lines, bad UTF-8, lines cut in a block and in a line longer than a read.
    #[tokio::test]
    async fn blocks_read_as_line_by_line_would() {
        let long = |n: usize| "é".repeat(n / 2) + "x";
        let mut input = Vec::new();
        for i in 0..3000 {
            match i % 7 {
                0 => input.extend_from_slice(b"crlf\r\n"),
                1 => input.extend_from_slice(b"\n"),
                2 => input.extend_from_slice(b"bad \xff\xfe utf-8\n"),
                3 if i % 500 == 3 => {
                    input.extend_from_slice(format!("{}\n", long(MAX_LINE + 1)).as_bytes())
                }
                4 if i % 900 == 4 => {
                    input.extend_from_slice(format!("{}\r\n", long(5 * MAX_LINE)).as_bytes())
                }
                5 => input.extend_from_slice(format!("{}\r\n", "y".repeat(MAX_LINE)).as_bytes()),
                _ => input.extend_from_slice(format!("line {i} of some text\n").as_bytes()),
            }
        }
        input.extend_from_slice(b"last, no newline");
        let mut r = tokio::io::BufReader::with_capacity(100, input.as_slice());
        let mut expected = Vec::new();
        while let Some(l) = next_line(&mut r, MAX_LINE, None).await.unwrap() {
            expected.push(l);
        }
        let got = pumped(&input, None).await;
        assert_eq!(got.len(), expected.len());
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            let end = |s: &str| s.chars().rev().take(60).collect::<String>();
            assert!(g == e, "line {i}: …{} is not …{}", end(g), end(e));
        }
    }

    /// A value in a block, in each of its forms and at every place in its line, is masked in
    /// that line alone; a line with `%` and no value is kept as it was.
    #[tokio::test]
    async fn a_secret_anywhere_in_a_block_is_masked() {
        use crate::auth::Secret;
        use base64::Engine as _;
        const S: &str = "Zq8-SECRET-value-wW3";
        let masker = Arc::new(Masker::new(&[Secret::new(S)]).unwrap());
        let forms = [
            S.to_string(),
            base64::engine::general_purpose::STANDARD.encode(format!("u:{S}")),
            S.replace('-', "%2D"),
        ];
        for shown in &forms {
            for before in 0..24 {
                let mut input = String::new();
                for i in 0..400 {
                    let done = if i % 10 == 0 { "100% done" } else { "done" };
                    input.push_str(&format!("2026-12-01 INFO line {i}: {done}\n"));
                }
                input.push_str(&format!("{}{shown} tail\n", "k".repeat(before)));
                input.push_str("after\n");
                let lines = pumped(input.as_bytes(), Some(masker.clone())).await;
                assert_eq!(lines.len(), 402);
                assert_eq!(lines[7], "2026-12-01 INFO line 7: done");
                assert_eq!(lines[10], "2026-12-01 INFO line 10: 100% done");
                let masked = &lines[400];
                assert!(masked.starts_with(&"k".repeat(before)), "{masked}");
                assert!(
                    masked.ends_with("*** tail") && !masked.contains("SECRET"),
                    "{masked}"
                );
                assert_eq!(lines[401], "after");
            }
        }
    }

    #[tokio::test]
    async fn splits_caps_and_decodes_lossily() {
        assert_eq!(all(b"a\r\nbc\n\nlast", 100).await, ["a", "bc", "", "last"]);
        assert_eq!(
            all(b"0123456789\nok\n", 4).await,
            ["0123 … [6 more bytes cut]", "ok"]
        );
        assert_eq!(all(b"\xffx\n", 100).await, ["\u{fffd}x"]);
        assert!(all(b"", 100).await.is_empty());
    }
}
