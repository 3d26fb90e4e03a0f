//! The feed pages this process read last (events and log marks), shared by its followers: a
//! server's event streams all wake on the same change and ask for the same page after the
//! same cursor, so one read serves them all until the store changes again.
//!
//! A page read when the change feed stood at version `v` is served again only while the feed
//! still stands at `v`: anything committed since bumps it (at once here; from other replicas
//! when their change hint arrives, which is also when those followers are woken to read).

use std::sync::{Mutex, PoisonError};

use crate::Result;

/// Pages kept (one per cursor the followers are at).
const KEEP: usize = 8;

struct Page<T> {
    version: u64,
    after: i64,
    limit: u32,
    items: Vec<T>,
}

/// The last pages of one feed.
pub struct FeedCache<T> {
    pages: Mutex<Vec<Page<T>>>,
}

impl<T> Default for FeedCache<T> {
    fn default() -> Self {
        FeedCache {
            pages: Mutex::new(Vec::new()),
        }
    }
}

impl<T: Clone> FeedCache<T> {
    /// The page after `after` (at most `limit` items), read with `read` unless one read at
    /// feed version `version` (taken before reading) is kept. Readers queue here, so followers
    /// waking together read once.
    pub fn page(
        &self,
        version: u64,
        after: i64,
        limit: u32,
        read: impl FnOnce() -> Result<Vec<T>>,
    ) -> Result<Vec<T>> {
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        pages.retain(|p| p.version == version);
        if let Some(p) = pages.iter().find(|p| p.after == after && p.limit == limit) {
            return Ok(p.items.clone());
        }
        let items = read()?;
        if pages.len() >= KEEP {
            pages.remove(0);
        }
        pages.push(Page {
            version,
            after,
            limit,
            items: items.clone(),
        });
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_page_is_read_once_per_version_and_cursor() {
        let cache = FeedCache::default();
        let mut reads = 0;
        let mut read = |v: Vec<i32>| {
            reads += 1;
            move || Ok(v)
        };
        assert_eq!(cache.page(1, 0, 10, read(vec![1, 2])).unwrap(), [1, 2]);
        assert_eq!(cache.page(1, 0, 10, read(vec![9])).unwrap(), [1, 2], "kept");
        assert_eq!(
            cache.page(1, 2, 10, read(vec![3])).unwrap(),
            [3],
            "another cursor"
        );
        assert_eq!(
            cache.page(1, 0, 5, read(vec![1])).unwrap(),
            [1],
            "another limit"
        );
        assert_eq!(
            cache.page(2, 0, 10, read(vec![1, 2, 3])).unwrap(),
            [1, 2, 3],
            "the feed moved: read again"
        );
        assert_eq!(reads, 5);
    }
}
