//! The servers a remote plane may talk to: one URL, or several replicas of one cluster
//! (`--server URL1,URL2`, or a context whose server is such a list). One is active; a request
//! that cannot reach it moves the plane to the next one. Replicas share one store, so an agent
//! that moves keeps its leases: its next heartbeat or report goes to the replica it moved to.

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Url;

use crate::{Error, Result};

/// The URLs, in the order given, and which one is in use.
#[derive(Debug)]
pub(crate) struct Servers {
    urls: Vec<Url>,
    active: AtomicUsize,
}

impl Servers {
    /// Parse a comma-separated list of server URLs; each must be http(s), and plain HTTP only
    /// to loopback unless `insecure`.
    pub fn parse(list: &str, insecure: bool) -> Result<Servers> {
        let urls = list
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| parse_one(u, insecure))
            .collect::<Result<Vec<_>>>()?;
        if urls.is_empty() {
            return Err(Error::invalid_with_hint(
                format!("{list:?} names no server"),
                "use a URL such as https://imx.example:7443 (several: separated by commas)",
            ));
        }
        Ok(Servers {
            urls,
            active: AtomicUsize::new(0),
        })
    }

    /// How many URLs there are.
    pub fn len(&self) -> usize {
        self.urls.len()
    }

    /// The one in use.
    pub fn current(&self) -> &Url {
        &self.urls[self.active.load(Ordering::Relaxed) % self.urls.len()]
    }

    /// `url` could not be reached: move on to the next server, unless another request already
    /// moved away from it (so concurrent failures move one step, not one each). Returns the
    /// server now in use.
    pub fn failed(&self, url: &Url) -> &Url {
        let n = self.urls.len();
        let now = self.active.load(Ordering::Relaxed) % n;
        if self.urls[now] == *url {
            let _ = self.active.compare_exchange(
                now,
                (now + 1) % n,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        self.current()
    }

    /// `url` (made from server `from`) made for server `to` instead: the same path and query
    /// below the server's base.
    pub fn rebase(url: &Url, from: &Url, to: &Url) -> Option<Url> {
        let rest = url
            .as_str()
            .strip_prefix(from.as_str().trim_end_matches('/'))?;
        Url::parse(&format!("{}{rest}", to.as_str().trim_end_matches('/'))).ok()
    }
}

fn parse_one(url: &str, insecure: bool) -> Result<Url> {
    if !url.contains("://") {
        return Err(Error::invalid_with_hint(
            format!(
                "the server URL {url:?} has no scheme: imx needs to know whether to use \
                 HTTPS (https://) or plain HTTP (http://)"
            ),
            format!(
                "write https://{url} (or http://{url} for a server on this machine without TLS)"
            ),
        ));
    }
    let base = Url::parse(url).map_err(|e| {
        Error::invalid_with_hint(
            format!("{url:?} is not a server URL: {e}"),
            "use a URL such as https://imx.example:7443",
        )
    })?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "{url:?}: the server URL must start with https:// (or http:// for loopback)"
        )));
    }
    if !insecure && super::plain_http_beyond_loopback(&base) {
        return Err(Error::invalid_with_hint(
            format!(
                "refusing to send credentials over plain HTTP to {}: http:// is only for \
                 loopback addresses (127.0.0.0/8, ::1, localhost)",
                base.host_str().unwrap_or_default()
            ),
            "use https://, or pass --insecure (or set `insecure = true` in the context) \
             if the network between here and the server is trusted",
        ));
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_list_is_parsed_in_order_and_every_url_is_checked() {
        let s = Servers::parse("http://127.0.0.1:1, http://localhost:2/", false).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.current().as_str(), "http://127.0.0.1:1/");
        assert!(Servers::parse("http://127.0.0.1:1,http://192.0.2.1:7443", false).is_err());
        assert!(Servers::parse("http://127.0.0.1:1,127.0.0.1:2", false).is_err());
        assert!(Servers::parse(" , ", false).is_err());
    }

    #[test]
    fn a_failure_moves_on_once_and_wraps_around() {
        let s = Servers::parse("http://127.0.0.1:1,http://127.0.0.1:2", false).unwrap();
        let first = s.current().clone();
        let next = s.failed(&first).clone();
        assert_eq!(next.as_str(), "http://127.0.0.1:2/");
        // A second request that failed on the first server does not move the plane again.
        assert_eq!(s.failed(&first), &next);
        assert_eq!(s.failed(&next), &first);
    }

    #[test]
    fn a_request_url_moves_to_another_server_with_its_path_and_query() {
        let a = Url::parse("http://127.0.0.1:1/imx/").unwrap();
        let b = Url::parse("https://10.0.0.2:7443").unwrap();
        let req = Url::parse("http://127.0.0.1:1/imx/api/v1/runs?limit=5").unwrap();
        let moved = Servers::rebase(&req, &a, &b).unwrap();
        assert_eq!(moved.as_str(), "https://10.0.0.2:7443/api/v1/runs?limit=5");
    }
}
