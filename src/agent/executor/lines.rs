//! Reading a child's output line by line into the step's [`LogSink`]: lossy UTF-8, and lines
//! longer than a cap are cut (the rest of the line is skipped, not buffered). A secret that
//! straddles the cut is masked before the line is cut (see [`next_line`]).

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};

use crate::agent::logs::LogSink;
use crate::agent::mask::Masker;
use crate::model::LogStream;

/// The longest line kept, in bytes; the rest of a longer line is replaced by a note.
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// Copy lines from a pipe into the sink until it closes, reading more slowly while the sink is
/// full (back-pressure: the step waits on its writes rather than lines being dropped). This is
/// the path every line of a `run` step's output takes (`benches/masking.rs` measures it).
pub async fn pump(pipe: impl AsyncRead + Unpin, stream: LogStream, logs: LogSink) {
    let mut reader = BufReader::new(pipe);
    let masker = logs.masker();
    loop {
        match next_line(&mut reader, MAX_LINE, masker.as_deref()).await {
            Ok(Some(line)) => logs.send(stream, line).await,
            Ok(None) => break,
            Err(e) => {
                logs.push(
                    LogStream::System,
                    format!("imx: cannot read {}: {e}", stream.as_str()),
                );
                break;
            }
        }
    }
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
    let keep_max = max.saturating_add(lookahead);
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
    let mut end = max.min(masked.len());
    while !masked.is_char_boundary(end) {
        end -= 1;
    }
    let mut text = masked[..end].to_string();
    text.push_str(&format!(" … [{} more bytes cut]", total - max));
    Ok(Some(text))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

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
        for shown in [S.to_string(), b64] {
            for before in 1..shown.len() {
                let sink = LogSink::masked(None, Some(masker.clone()));
                let mut input = "a".repeat(MAX_LINE - before);
                input.push_str(&shown);
                input.push_str(&"b".repeat(3 * MAX_LINE));
                input.push_str("\nnext\n");
                pump(input.as_bytes(), LogStream::Stdout, sink.clone()).await;
                let lines: Vec<String> = sink.take().into_iter().map(|l| l.line).collect();
                assert_eq!(lines.len(), 2, "{before}");
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
