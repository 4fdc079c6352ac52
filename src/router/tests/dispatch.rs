//! Dispatch precedence: route explicit > group explicit > server default; a
//! future handler is always async.

use super::support::{ok, trace, Tag};
use crate::handler::{HttpError, Request, Response};
use crate::router::Dispatch::{self, Async, Inline, Learn};
use crate::router::{LearnState, Lookup, RouteTable, Router};

/// The dispatch `GET path` resolves to.
fn dispatch_of(t: &RouteTable, path: &str) -> Dispatch {
    match t.lookup("GET", path) {
        Lookup::Found(m) => m.route.dispatch(),
        _ => panic!("GET {path} did not match"),
    }
}

/// A future handler.
async fn fut(_: Request) -> Result<Response, HttpError> {
    Ok(Response::new())
}

#[test]
fn precedence_table_route_over_group_over_default() {
    // (server default, group setting, route setting, expected)
    let rows: [(Dispatch, Option<Dispatch>, Option<Dispatch>, Dispatch); 18] = [
        (Inline, None, None, Inline),
        (Inline, None, Some(Inline), Inline),
        (Inline, None, Some(Async), Async),
        (Inline, Some(Inline), None, Inline),
        (Inline, Some(Inline), Some(Inline), Inline),
        (Inline, Some(Inline), Some(Async), Async),
        (Inline, Some(Async), None, Async),
        (Inline, Some(Async), Some(Inline), Inline),
        (Inline, Some(Async), Some(Async), Async),
        (Async, None, None, Async),
        (Async, None, Some(Inline), Inline),
        (Async, None, Some(Async), Async),
        (Async, Some(Inline), None, Inline),
        (Async, Some(Inline), Some(Inline), Inline),
        (Async, Some(Inline), Some(Async), Async),
        (Async, Some(Async), None, Async),
        (Async, Some(Async), Some(Inline), Inline),
        (Async, Some(Async), Some(Async), Async),
    ];
    for (i, (default, group, route, expected)) in rows.into_iter().enumerate() {
        let mut r = Router::new();
        r.set_default_dispatch(default);
        let mut g = r.group("/g");
        if let Some(d) = group {
            g.dispatch(d);
        }
        let rr = g.get("/x", ok);
        if let Some(d) = route {
            rr.dispatch(d);
        }
        assert_eq!(dispatch_of(&r.table(), "/g/x"), expected, "row {i}");
    }
}

#[test]
fn paired_methods_match_dispatch_values() {
    let mut r = Router::new();
    r.set_default_dispatch(Async);
    r.get("/s", ok).sync();
    r.group("/g").asynchronous().sync().get("/x", ok);
    let mut g = r.group("/h");
    g.sync().asynchronous();
    g.get("/y", ok);
    r.get("/a", ok).sync().asynchronous();
    let t = r.table();
    assert_eq!(dispatch_of(&t, "/s"), Inline);
    assert_eq!(dispatch_of(&t, "/g/x"), Inline);
    assert_eq!(dispatch_of(&t, "/h/y"), Async);
    assert_eq!(dispatch_of(&t, "/a"), Async);
}

#[test]
fn server_default_applies_at_table_build() {
    let mut r = Router::new();
    r.get("/x", ok);
    assert_eq!(dispatch_of(&r.table(), "/x"), Inline);
    r.set_default_dispatch(Async);
    assert_eq!(dispatch_of(&r.table(), "/x"), Async);
}

#[test]
fn group_setting_is_captured_when_the_route_registers() {
    let mut r = Router::new();
    let mut g = r.group("/g");
    g.get("/before", ok);
    g.asynchronous();
    g.get("/after", ok);
    g.sync();
    let t = r.table();
    assert_eq!(dispatch_of(&t, "/g/before"), Inline);
    assert_eq!(dispatch_of(&t, "/g/after"), Async);
}

#[test]
fn sub_group_inherits_parent_setting_at_creation() {
    let mut r = Router::new();
    r.set_default_dispatch(Inline);
    let mut api = r.group("/api");
    api.group("/early").get("/x", ok);
    api.asynchronous();
    api.group("/v1").get("/x", ok);
    {
        let mut v2 = api.group("/v2");
        v2.sync();
        v2.get("/x", ok);
    }
    api.get("/own", ok);
    api.sync();
    api.get("/later", ok);
    let t = r.table();
    assert_eq!(dispatch_of(&t, "/api/early/x"), Inline);
    assert_eq!(dispatch_of(&t, "/api/v1/x"), Async);
    assert_eq!(dispatch_of(&t, "/api/v2/x"), Inline);
    // The sub-group's change did not reach the parent; the parent's later
    // change did not reach routes already registered under the sub-group.
    assert_eq!(dispatch_of(&t, "/api/own"), Async);
    assert_eq!(dispatch_of(&t, "/api/later"), Inline);
}

#[test]
fn sub_group_inherits_unset_parent_so_server_default_applies() {
    let mut r = Router::new();
    r.group("/a").group("/b").get("/x", ok);
    r.set_default_dispatch(Async);
    assert_eq!(dispatch_of(&r.table(), "/a/b/x"), Async);
}

#[test]
fn route_level_middleware_keeps_the_dispatch_flag() {
    let tr = trace();
    let mut r = Router::new();
    r.get("/a", ok).asynchronous().with(Tag("mw", tr.clone()));
    r.set_default_dispatch(Async);
    r.get("/s", ok).sync().with(Tag("mw", tr.clone()));
    r.group("/g")
        .asynchronous()
        .get("/x", ok)
        .with(Tag("mw", tr.clone()));
    let t = r.table();
    assert_eq!(dispatch_of(&t, "/a"), Async);
    assert_eq!(dispatch_of(&t, "/s"), Inline);
    assert_eq!(dispatch_of(&t, "/g/x"), Async);
    let Lookup::Found(m) = t.lookup("GET", "/s") else {
        panic!()
    };
    assert_eq!(m.route.middleware().len(), 1);
}

#[test]
fn future_handler_is_always_async() {
    let mut r = Router::new();
    r.get_future("/f", fut).sync();
    r.post_future("/p", fut).dispatch(Inline);
    r.group("/g").sync().get_future("/x", fut);
    let t = r.table();
    assert_eq!(dispatch_of(&t, "/f"), Async);
    assert_eq!(dispatch_of(&t, "/g/x"), Async);
    let Lookup::Found(m) = t.lookup("POST", "/p") else {
        panic!()
    };
    assert_eq!(m.route.dispatch(), Async);
    assert!(m.route.handler().is_future());
    assert_eq!(t.async_route_count(), 3);
}

#[test]
fn async_route_count_counts_resolved_async_routes() {
    let mut r = Router::new();
    assert!(!r.table().has_async_routes());
    assert_eq!(r.table().async_route_count(), 0);
    r.get("/a", ok).asynchronous();
    r.get("/b", ok);
    r.get("/c", ok).sync();
    let t = r.table();
    assert_eq!(t.async_route_count(), 1);
    assert!(t.has_async_routes());
    r.set_default_dispatch(Async);
    assert_eq!(r.table().async_route_count(), 2);
    // A duplicate that replaces an async route with a sync one is not counted.
    r.get("/a", ok).sync();
    assert_eq!(r.table().async_route_count(), 1);
}

#[test]
fn route_async_ignores_the_query_string() {
    let mut r = Router::new();
    r.get("/db", ok).asynchronous();
    r.get("/fast", ok);
    let t = r.table();
    assert!(t.route_async("GET", "/db"));
    assert!(t.route_async("GET", "/db?id=1"));
    assert!(t.route_async("GET", "/db?"));
    assert!(t.route_async("HEAD", "/db?id=1"));
    assert!(!t.route_async("GET", "/fast?x=/db"));
    assert!(!t.route_async("POST", "/db?id=1"));
    assert!(!t.route_async("GET", "/missing?id=1"));
}

#[test]
fn learn_follows_the_same_precedence_as_the_other_settings() {
    let mut r = Router::new();
    r.get("/route", ok).learn();
    r.get("/unset", ok);
    {
        let mut g = r.group("/g");
        g.learn();
        g.get("/learns", ok);
        g.get("/sync", ok).sync();
        g.group("/sub").get("/inherits", ok);
    }
    r.get_future("/fut", fut).learn();
    let t = r.table();
    assert_eq!(dispatch_of(&t, "/route"), Learn);
    assert_eq!(dispatch_of(&t, "/unset"), Inline);
    assert_eq!(dispatch_of(&t, "/g/learns"), Learn);
    assert_eq!(dispatch_of(&t, "/g/sync"), Inline);
    assert_eq!(dispatch_of(&t, "/g/sub/inherits"), Learn);
    assert_eq!(
        dispatch_of(&t, "/fut"),
        Async,
        "a future handler always runs async"
    );
    assert_eq!(t.learning_route_count(), 3);
    assert_eq!(
        t.async_route_count(),
        1,
        "learning routes are not counted async"
    );
    r.set_default_dispatch(Learn);
    assert_eq!(dispatch_of(&r.table(), "/unset"), Learn);
}

#[test]
fn a_learning_route_makes_the_table_check_async_routes() {
    let mut r = Router::new();
    r.get("/a", ok);
    assert!(!r.table().has_async_routes());
    r.get("/b", ok).learn();
    let t = r.table();
    assert!(t.has_async_routes(), "a learning route may run async");
    assert!(!t.route_async("GET", "/b?x=1"), "it starts inline");
    let Lookup::Found(m) = t.lookup("GET", "/b") else {
        panic!()
    };
    assert_eq!(m.route.dispatch_now(), Inline);
}

#[test]
fn what_a_route_learnt_survives_a_new_table_but_not_a_new_setting() {
    let mut r = Router::new();
    r.get("/b", ok).learn();
    let first = r.table();
    let Lookup::Found(m) = first.lookup("GET", "/b") else {
        panic!()
    };
    let learner = m.route.learner().expect("a learning route has a learner");
    for _ in 0..256 {
        learner.record(std::time::Duration::from_micros(1));
    }
    assert_eq!(first.learning_routes()[0].state, LearnState::Settled);
    r.get("/other", ok);
    assert_eq!(
        r.table().learning_routes()[0].state,
        LearnState::Settled,
        "a registration elsewhere builds a table that keeps it"
    );
    r.get("/b", ok).learn();
    assert_eq!(
        r.table().learning_routes()[0].state,
        LearnState::Learning,
        "registering the route again starts afresh"
    );
}
