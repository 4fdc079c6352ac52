//! Matching: precedence, params, catch-alls, trailing slashes, path cleaning.

use super::support::{matched, ok, pattern_of};
use crate::router::{Lookup, Router, MAX_PARAMS};

/// Builds a GET table from `patterns`, registered in the given order.
fn table(patterns: &[&str]) -> crate::router::RouteTable {
    let mut r = Router::new();
    for p in patterns {
        r.get(p, ok);
    }
    r.table()
}

#[test]
fn precedence_static_beats_param_beats_catch_all_regardless_of_order() {
    let orders: [&[&str]; 2] = [
        &["/users/new", "/users/:id", "/users/*rest"],
        &["/users/*rest", "/users/:id", "/users/new"],
    ];
    for order in orders {
        let t = table(order);
        assert_eq!(pattern_of(&t, "/users/new").as_deref(), Some("/users/new"));
        assert_eq!(pattern_of(&t, "/users/42").as_deref(), Some("/users/:id"));
        assert_eq!(
            pattern_of(&t, "/users/42/x").as_deref(),
            Some("/users/*rest")
        );
    }
}

#[test]
fn precedence_backtracks_from_static_to_param() {
    for order in [["/a/:x/c", "/a/b/d"], ["/a/b/d", "/a/:x/c"]] {
        let t = table(&order);
        assert_eq!(
            matched(&t, "GET", "/a/b/c"),
            Some(("/a/:x/c".into(), vec!["b".into()]))
        );
        assert_eq!(pattern_of(&t, "/a/b/d").as_deref(), Some("/a/b/d"));
        assert_eq!(pattern_of(&t, "/a/z/d"), None);
    }
}

#[test]
fn precedence_backtracks_from_param_to_catch_all() {
    let t = table(&["/f/:name/edit", "/f/*path"]);
    assert_eq!(
        matched(&t, "GET", "/f/a/edit"),
        Some(("/f/:name/edit".into(), vec!["a".into()]))
    );
    assert_eq!(
        matched(&t, "GET", "/f/a/view"),
        Some(("/f/*path".into(), vec!["a/view".into()]))
    );
}

#[test]
fn two_params_are_captured_in_order() {
    let t = table(&["/users/:uid/posts/:pid"]);
    let (pattern, values) = matched(&t, "GET", "/users/7/posts/99").unwrap();
    assert_eq!(pattern, "/users/:uid/posts/:pid");
    assert_eq!(values, ["7", "99"]);
    let Lookup::Found(m) = t.lookup("GET", "/users/7/posts/99") else {
        panic!()
    };
    assert_eq!(&*m.route.param_names()[1], "pid");
}

#[test]
fn param_names_live_on_the_route() {
    let t = table(&["/u/:id", "/u/:uid/posts"]);
    let Lookup::Found(m) = t.lookup("GET", "/u/5") else {
        panic!()
    };
    assert_eq!(&*m.route.param_names()[0], "id");
    let Lookup::Found(m) = t.lookup("GET", "/u/5/posts") else {
        panic!()
    };
    assert_eq!(&*m.route.param_names()[0], "uid");
}

#[test]
fn empty_segment_never_matches_a_param() {
    let t = table(&["/users/:id"]);
    assert_eq!(pattern_of(&t, "/users/"), None);
    assert_eq!(pattern_of(&t, "/users"), None);
}

#[test]
fn catch_all_values_have_no_leading_slash() {
    let t = table(&["/files/*path"]);
    let value = |p: &str| matched(&t, "GET", p).map(|(_, v)| v[0].clone());
    assert_eq!(value("/files/css/a.css").as_deref(), Some("css/a.css"));
    assert_eq!(value("/files/a").as_deref(), Some("a"));
    assert_eq!(value("/files/").as_deref(), Some(""));
    assert_eq!(value("/files"), None);
}

#[test]
fn root_param_and_catch_all_work() {
    let t = table(&["/:id"]);
    assert_eq!(
        matched(&t, "GET", "/42"),
        Some(("/:id".into(), vec!["42".into()]))
    );
    assert_eq!(pattern_of(&t, "/"), None);
    let t = table(&["/*all"]);
    assert_eq!(
        matched(&t, "GET", "/"),
        Some(("/*all".into(), vec!["".into()]))
    );
    assert_eq!(
        matched(&t, "GET", "/a/b"),
        Some(("/*all".into(), vec!["a/b".into()]))
    );
}

#[test]
fn trailing_slash_is_significant() {
    let t = table(&["/users", "/posts/"]);
    assert_eq!(pattern_of(&t, "/users").as_deref(), Some("/users"));
    assert_eq!(pattern_of(&t, "/users/"), None);
    assert_eq!(pattern_of(&t, "/posts/").as_deref(), Some("/posts/"));
    assert_eq!(pattern_of(&t, "/posts"), None);
    let both = table(&["/users", "/users/"]);
    assert_eq!(pattern_of(&both, "/users/").as_deref(), Some("/users/"));
    assert_eq!(pattern_of(&both, "/users").as_deref(), Some("/users"));
}

#[test]
fn empty_segments_are_significant_and_never_collapsed() {
    let t = table(&["/", "/api/data", "/users/:id"]);
    assert_eq!(pattern_of(&t, "//"), None);
    assert_eq!(pattern_of(&t, "///api///data"), None);
    assert_eq!(pattern_of(&t, "/api//data"), None);
    assert_eq!(pattern_of(&t, "//users/42"), None);
    assert_eq!(pattern_of(&t, "/users//42"), None);
    assert_eq!(pattern_of(&t, "/api/data").as_deref(), Some("/api/data"));
}

#[test]
fn a_trailing_slash_is_significant() {
    let t = table(&["/api/data"]);
    assert_eq!(pattern_of(&t, "/api/data/"), None);
}

#[test]
fn duplicate_registration_replaces_the_earlier_route() {
    let mut r = Router::new();
    r.get("/users/:id", ok).name("old");
    r.get("/users/:uid", ok).asynchronous();
    let t = r.table();
    assert_eq!(t.routes().count(), 1);
    let Lookup::Found(m) = t.lookup("GET", "/users/1") else {
        panic!()
    };
    assert_eq!(m.route.pattern(), "/users/:uid");
    assert_eq!(m.route.dispatch(), crate::router::Dispatch::Async);
    assert!(t.url("old", &["1"]).unwrap_err().is_unknown_name());
}

#[test]
fn custom_methods_are_case_sensitive() {
    let mut r = Router::new();
    r.handle("PROPFIND", "/dav", crate::handler::Handler::plain(ok));
    let t = r.table();
    assert_eq!(
        matched(&t, "PROPFIND", "/dav").map(|m| m.0).as_deref(),
        Some("/dav")
    );
    assert!(matches!(
        t.lookup("propfind", "/dav"),
        Lookup::MethodNotAllowed(_)
    ));
}

#[test]
fn routes_lists_every_route_in_registration_order() {
    let mut r = Router::new();
    r.post("/b", ok);
    r.get("/a", ok);
    let t = r.table();
    let listed: Vec<_> = t.routes().map(|r| (r.method(), r.pattern())).collect();
    assert_eq!(listed, [("POST", "/b"), ("GET", "/a")]);
}

#[test]
#[should_panic(expected = "must start with `/`")]
fn pattern_without_leading_slash_panics() {
    Router::new().get("users", ok);
}

#[test]
#[should_panic(expected = "empty parameter name")]
fn empty_param_name_panics() {
    Router::new().get("/users/:", ok);
}

#[test]
#[should_panic(expected = "must be the last segment")]
fn catch_all_not_last_panics() {
    Router::new().get("/files/*path/x", ok);
}

#[test]
#[should_panic(expected = "at most 8")]
fn too_many_params_panics() {
    assert_eq!(MAX_PARAMS, 8);
    Router::new().get("/:a/:b/:c/:d/:e/:f/:g/:h/:i", ok);
}

#[test]
fn max_params_are_accepted_and_captured() {
    let t = table(&["/:a/:b/:c/:d/:e/:f/:g/*h"]);
    let (_, values) = matched(&t, "GET", "/1/2/3/4/5/6/7/8/9").unwrap();
    assert_eq!(values, ["1", "2", "3", "4", "5", "6", "7", "8/9"]);
}
