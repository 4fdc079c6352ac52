//! Unmatched requests: 404, 405 with the allowed methods, HEAD served by GET.

use super::support::{info, ok, parts, trace, Tag};
use crate::handler::{run_before, Ctx, Flow, Handler, Response};
use crate::router::{Lookup, RouteTable, Router};

/// The 405 `Allow` value for `method path`, or `None` when it is not a 405.
fn allow(t: &RouteTable, method: &str, path: &str) -> Option<String> {
    match t.lookup(method, path) {
        Lookup::MethodNotAllowed(list) => {
            let mut out = Vec::new();
            list.write_to(&mut out);
            assert_eq!(list.len(), list.iter().count());
            Some(String::from_utf8(out).unwrap())
        }
        Lookup::Found(_) | Lookup::NotFound => None,
    }
}

#[test]
fn unknown_path_is_not_found() {
    let mut r = Router::new();
    r.get("/a", ok);
    let t = r.table();
    assert!(matches!(t.lookup("GET", "/b"), Lookup::NotFound));
    assert!(matches!(t.lookup("POST", "/b"), Lookup::NotFound));
    assert!(matches!(
        Router::new().table().lookup("GET", "/"),
        Lookup::NotFound
    ));
}

#[test]
fn other_methods_matching_give_method_not_allowed_in_allow_order() {
    let mut r = Router::new();
    r.handle("PROPFIND", "/res/:id", Handler::plain(ok));
    r.options("/res/:id", ok);
    r.delete("/res/:id", ok);
    r.post("/res/:id", ok);
    r.get("/res/:id", ok);
    r.patch("/other", ok);
    let t = r.table();
    let expected = "GET, HEAD, POST, DELETE, OPTIONS, PROPFIND";
    assert_eq!(allow(&t, "PUT", "/res/1").as_deref(), Some(expected));
    assert_eq!(allow(&t, "PATCH", "/res/1").as_deref(), Some(expected));
    let Lookup::MethodNotAllowed(list) = t.lookup("PUT", "/res/1") else {
        panic!()
    };
    assert!(list.contains("PROPFIND") && list.contains("HEAD") && !list.contains("PATCH"));
    assert_eq!(allow(&t, "PUT", "/other").as_deref(), Some("PATCH"));
}

#[test]
fn head_is_listed_whenever_get_is() {
    let mut r = Router::new();
    r.get("/x", ok);
    let t = r.table();
    assert_eq!(allow(&t, "POST", "/x").as_deref(), Some("GET, HEAD"));
}

#[test]
fn head_falls_back_to_the_get_route() {
    let mut r = Router::new();
    r.get("/page/:n", ok);
    r.get("/both", ok);
    r.head("/both", ok);
    let t = r.table();
    let Lookup::Found(m) = t.lookup("HEAD", "/page/3") else {
        panic!("no HEAD fallback")
    };
    assert_eq!(m.route.method(), "GET");
    assert_eq!(m.params.value("/page/3", 0), Some("3"));
    let Lookup::Found(m) = t.lookup("HEAD", "/both") else {
        panic!()
    };
    assert_eq!(m.route.method(), "HEAD");
}

#[test]
fn head_only_route_does_not_answer_get() {
    let mut r = Router::new();
    r.head("/h", ok);
    let t = r.table();
    assert_eq!(allow(&t, "GET", "/h").as_deref(), Some("HEAD"));
}

#[test]
fn options_is_not_automatic() {
    let mut r = Router::new();
    r.get("/x", ok);
    let t = r.table();
    assert_eq!(allow(&t, "OPTIONS", "/x").as_deref(), Some("GET, HEAD"));
}

#[test]
fn global_middleware_runs_around_fallbacks() {
    let tr = trace();
    let mut r = Router::new();
    r.get("/x", ok);
    r.use_middleware(Tag("global", tr.clone()));
    let t = r.table();
    assert!(matches!(t.lookup("GET", "/missing"), Lookup::NotFound));
    let mut resp = Response::new();
    let mut ctx = Ctx::new(parts("GET", "/missing"), info(), &mut resp);
    let before = run_before(&mut ctx, t.global_middleware());
    assert!(before.run_handler);
    assert_eq!(*tr.lock().unwrap(), ["global"]);
}

#[test]
fn pre_hooks_run_in_order_and_may_rewrite_the_route() {
    let mut r = Router::new();
    r.get("/new/:id", ok);
    r.pre(|ctx| {
        let rewritten = ctx.path().replacen("/old/", "/new/", 1);
        ctx.set_path(rewritten);
        Ok(Flow::Continue)
    });
    r.pre(|ctx| {
        ctx.set_method("GET");
        Ok(Flow::Continue)
    });
    let t = r.table();
    let mut resp = Response::new();
    let mut ctx = Ctx::new(parts("POST", "/old/7"), info(), &mut resp);
    for hook in t.pre() {
        assert_eq!(hook(&mut ctx), Ok(Flow::Continue));
    }
    let Lookup::Found(m) = t.lookup(ctx.method(), ctx.path()) else {
        panic!("not rewritten")
    };
    assert_eq!(m.route.pattern(), "/new/:id");
    assert_eq!(m.params.value(ctx.path(), 0), Some("7"));
}
