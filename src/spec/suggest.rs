//! "Did you mean ...?" suggestions for misspelt keys, step ids and parameter names.

/// The candidate closest to `input`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(input, c), c))
        // Jaro-Winkler misses a dropped letter in a short key (`rn` for `run`); one edit is close.
        .filter(|(score, c)| *score >= 0.8 || strsim::levenshtein(input, c) <= 1)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `did you mean "x"?` for the closest candidate, if any.
pub(crate) fn did_you_mean<'a, I>(input: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(input, candidates).map(|c| format!("did you mean \"{c}\"?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("buld", ["build", "test"]), Some("build"));
        assert_eq!(closest("timout", ["timeout", "retry"]), Some("timeout"));
        assert_eq!(closest("zzz", ["build", "test"]), None);
        assert_eq!(closest("rn", ["id", "needs", "run"]), Some("run"));
        assert_eq!(closest("x", ["id", "run"]), None);
    }
}
