//! Pagination shared by every listing (history, alerts, audit): a `before` cursor
//! parsed once, and a page read one item past its limit to know whether another follows.

use crate::error::{Error, Result};

/// The `before` parameter, parsed by `parse`; empty or absent means the first page.
pub fn cursor<T>(before: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>> {
    before
        .filter(|b| !b.is_empty())
        .map(|b| parse(b).ok_or_else(|| Error::invalid("before", "must be a `next` cursor")))
        .transpose()
}

/// Cuts `items` (read with `limit + 1`) to `limit`; the cursor of the next page, made
/// from the last item kept, when there is one.
pub fn cut<T>(
    mut items: Vec<T>,
    limit: usize,
    next: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    if items.len() > limit {
        items.truncate(limit);
        let next = items.last().map(next);
        (items, next)
    } else {
        (items, None)
    }
}
