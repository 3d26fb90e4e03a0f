//! Reading a child's output line by line: lossy UTF-8, and lines longer than a cap are cut
//! (the rest of the line is skipped, not buffered).

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The longest line kept, in bytes; the rest of a longer line is replaced by a note.
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// Read the next line (without its `\n` or `\r\n`); `None` at end of input.
pub(crate) async fn next_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> std::io::Result<Option<String>> {
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
        let room = max.saturating_sub(line.len());
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
    let mut text = String::from_utf8_lossy(&line).into_owned();
    if skipped > 0 {
        text.push_str(&format!(" … [{skipped} more bytes cut]"));
    }
    Ok(Some(text))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    async fn all(input: &[u8], max: usize) -> Vec<String> {
        let mut r = tokio::io::BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        while let Some(l) = next_line(&mut r, max).await.unwrap() {
            out.push(l);
        }
        out
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
