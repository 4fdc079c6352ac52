//! The per-method pattern tree: one node per path segment, children tried in
//! the order static, param, catch-all, with backtracking; lookups allocate
//! nothing.
//!
//! A node's edges are whole segments, not byte prefixes: static children sit
//! in a vector sorted by their text (binary search), and a node has at most one
//! param child and one catch-all leaf, because parameter *names* live on the
//! route, so `/u/:id` and `/u/:uid/posts` share the param node. The search is
//! depth-first; each node is visited at most once per lookup, since a node's
//! depth fixes the path segment it is compared against.

use std::collections::HashMap;

use super::pattern::Segment;
use super::Params;

/// A route's index in its table.
pub(crate) type RouteId = u32;

/// One node: the routes ending here and the edges to deeper segments.
#[derive(Clone, Debug, Default)]
pub(crate) struct Node {
    /// Static children keyed by segment text, sorted for binary search.
    statics: Vec<(Box<str>, Node)>,
    /// The `:param` child, shared by every param name at this depth.
    param: Option<Box<Node>>,
    /// The route whose `*catch-all` starts at this depth.
    catch_all: Option<RouteId>,
    /// The route whose pattern ends exactly here.
    route: Option<RouteId>,
    /// On a root only: every fully static pattern, hashed, looked up with the
    /// whole path before any segment is walked (a static route wins over
    /// params and catch-alls anyway, so an exact hit is the answer).
    exact: HashMap<Box<str>, RouteId, foldhash::fast::RandomState>,
}

impl Node {
    /// Adds `route` for `pattern` to this root: to the exact-path index when
    /// every segment is static, and to the tree.
    pub(crate) fn insert_root(&mut self, pattern: &str, segments: &[Segment], route: RouteId) {
        if segments.iter().all(|s| matches!(s, Segment::Static(_))) {
            self.exact.insert(pattern.into(), route);
        }
        self.insert(segments, route);
    }

    /// Adds `route` under `segments`, replacing whatever route had the same
    /// shape.
    pub(crate) fn insert(&mut self, segments: &[Segment], route: RouteId) {
        let Some((first, rest)) = segments.split_first() else {
            self.route = Some(route);
            return;
        };
        match first {
            Segment::Static(text) => {
                let i = match self.statics.binary_search_by(|(k, _)| (**k).cmp(&**text)) {
                    Ok(i) => i,
                    Err(i) => {
                        self.statics.insert(i, (text.clone(), Node::default()));
                        i
                    }
                };
                self.statics[i].1.insert(rest, route);
            }
            Segment::Param(_) => self
                .param
                .get_or_insert_with(Box::default)
                .insert(rest, route),
            Segment::CatchAll(_) => self.catch_all = Some(route),
        }
    }

    /// Finds the route matching `path`, filling `params` with spans of `path`.
    ///
    /// Every `/` is significant: an empty segment (`//`) matches only an
    /// empty static segment, which patterns allow only as a trailing slash,
    /// so `//hello` does not match `/hello`. A catch-all value keeps any
    /// inner `//`. A path not starting with `/` matches nothing.
    pub(crate) fn find(&self, path: &str, params: &mut Params) -> Option<RouteId> {
        params.clear();
        if let Some(&route) = self.exact.get(path) {
            return Some(route);
        }
        let bytes = path.as_bytes();
        if bytes.first() != Some(&b'/') {
            return None;
        }
        self.walk(bytes, Some(1), params)
    }

    /// Matches the segment at `pos` (none left when `pos` is `None`) against
    /// this node's children.
    fn walk(&self, path: &[u8], pos: Option<usize>, params: &mut Params) -> Option<RouteId> {
        let Some(seg) = pos.map(|p| segment(path, p)) else {
            return self.route;
        };
        let text = &path[seg.start..seg.end];
        if let Ok(i) = self
            .statics
            .binary_search_by(|(k, _)| k.as_bytes().cmp(text))
        {
            if let Some(found) = self.statics[i].1.walk(path, seg.next, params) {
                return Some(found);
            }
        }
        if let Some(child) = &self.param {
            if seg.start < seg.end && params.push(seg.start, seg.end) {
                if let Some(found) = child.walk(path, seg.next, params) {
                    return Some(found);
                }
                params.pop();
            }
        }
        let route = self.catch_all?;
        params.push(seg.start, path.len()).then_some(route)
    }
}

/// One segment of the path: `path[start..end]`, and where the next one starts
/// (`None` after the last).
struct Seg {
    /// First byte of the segment.
    start: usize,
    /// One past its last byte.
    end: usize,
    /// Start of the next segment.
    next: Option<usize>,
}

/// The segment at `pos`, `pos` being just past a `/`; every segment counts,
/// including an empty one (`//`, or a trailing slash).
fn segment(path: &[u8], pos: usize) -> Seg {
    let len = path.len();
    let end = memchr::memchr(b'/', &path[pos..]).map_or(len, |i| pos + i);
    Seg {
        start: pos,
        end,
        next: (end < len).then_some(end + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::pattern::Pattern;

    fn tree(patterns: &[&str]) -> Node {
        let mut root = Node::default();
        for (i, p) in patterns.iter().enumerate() {
            root.insert(Pattern::parse(p).segments(), i as RouteId);
        }
        root
    }

    fn find<'p>(root: &Node, path: &'p str) -> Option<(RouteId, Vec<&'p str>)> {
        let mut params = Params::new();
        let id = root.find(path, &mut params)?;
        Some((
            id,
            (0..params.len())
                .map(|i| params.value(path, i).unwrap())
                .collect(),
        ))
    }

    #[test]
    fn deep_backtracking_pops_params_of_failed_branches() {
        let root = tree(&["/a/:x/:y/end", "/a/:x/b/other"]);
        assert_eq!(find(&root, "/a/1/b/end"), Some((0, vec!["1", "b"])));
        assert_eq!(find(&root, "/a/1/b/other"), Some((1, vec!["1"])));
    }

    #[test]
    fn path_without_leading_slash_matches_nothing() {
        let root = tree(&["/*all"]);
        assert_eq!(find(&root, "*"), None);
        assert_eq!(find(&root, ""), None);
    }

    #[test]
    fn empty_segments_are_significant() {
        let root = tree(&["/", "/hello", "/files/*p", "/u/:id", "/t/"]);
        assert_eq!(find(&root, "//hello"), None);
        assert_eq!(find(&root, "/hello/"), None);
        assert_eq!(find(&root, "///"), None);
        assert_eq!(find(&root, "/u//"), None);
        assert_eq!(find(&root, "/t/"), Some((4, vec![])));
        assert_eq!(find(&root, "/t"), None);
        assert_eq!(find(&root, "/files//a//b/"), Some((2, vec!["/a//b/"])));
        let root = tree(&["/*all"]);
        assert_eq!(find(&root, "//"), Some((0, vec!["/"])));
    }
}
