//! Groups: prefixes, middleware order, inheritance captured at creation.

use super::support::{ok, run, trace, Tag};
use crate::router::Router;

#[test]
fn group_prefix_is_prepended_and_sub_groups_concatenate() {
    let mut r = Router::new();
    let mut api = r.group("/api");
    api.get("/users", ok);
    let mut v1 = api.group("/v1");
    v1.get("/items/:id", ok);
    assert_eq!(v1.prefix(), "/api/v1");
    let t = r.table();
    let patterns: Vec<_> = t.routes().map(|r| r.pattern()).collect();
    assert_eq!(patterns, ["/api/users", "/api/v1/items/:id"]);
}

#[test]
fn middleware_runs_global_then_group_then_route() {
    let tr = trace();
    let mut r = Router::new();
    let mut g = r.group("/g");
    g.use_middleware(Tag("group", tr.clone()));
    g.get("/x", ok).with(Tag("route", tr.clone()));
    // Global middleware registered after the route still applies, first.
    r.use_middleware(Tag("global", tr.clone()));
    let t = r.table();
    assert_eq!(run(&t, "GET", "/g/x", &tr), ["global", "group", "route"]);
}

#[test]
fn sub_group_copies_parent_middleware_then_adds_its_own() {
    let tr = trace();
    let mut r = Router::new();
    let mut api = r.group("/api");
    api.use_middleware(Tag("api", tr.clone()));
    let mut v1 = api.group("/v1");
    v1.use_middleware(Tag("v1", tr.clone()));
    v1.get("/x", ok);
    api.get("/y", ok);
    let t = r.table();
    assert_eq!(run(&t, "GET", "/api/v1/x", &tr), ["api", "v1"]);
    // The sub-group's middleware did not leak back into the parent.
    assert_eq!(run(&t, "GET", "/api/y", &tr), ["api"]);
}

#[test]
fn later_group_changes_do_not_reach_earlier_routes_or_sub_groups() {
    let tr = trace();
    let mut r = Router::new();
    let mut api = r.group("/api");
    api.use_middleware(Tag("first", tr.clone()));
    api.get("/early", ok);
    api.group("/v1").get("/x", ok);
    api.use_middleware(Tag("second", tr.clone()));
    api.get("/late", ok);
    let t = r.table();
    assert_eq!(run(&t, "GET", "/api/early", &tr), ["first"]);
    assert_eq!(run(&t, "GET", "/api/v1/x", &tr), ["first"]);
    assert_eq!(run(&t, "GET", "/api/late", &tr), ["first", "second"]);
}

#[test]
fn root_routes_get_only_global_middleware() {
    let tr = trace();
    let mut r = Router::new();
    r.use_middleware(Tag("global", tr.clone()));
    r.group("/g")
        .use_middleware(Tag("group", tr.clone()))
        .get("/x", ok);
    r.get("/plain", ok);
    let t = r.table();
    assert_eq!(run(&t, "GET", "/plain", &tr), ["global"]);
    assert_eq!(run(&t, "GET", "/g/x", &tr), ["global", "group"]);
}
