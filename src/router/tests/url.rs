//! Named routes and URL reversal.

use super::support::ok;
use crate::router::Router;

/// A router with the routes these tests name.
fn router() -> Router {
    let mut r = Router::new();
    r.get("/users/:id", ok).name("user");
    r.get("/users/:uid/posts/:pid", ok).name("post");
    r.get("/files/*p", ok).name("file");
    r.group("/api").get("/v/*rest", ok).name("api");
    r.get("/about", ok).name("about");
    r
}

#[test]
fn url_substitutes_params_in_order() {
    let r = router();
    for t in [r.url("user", &["42"]), r.table().url("user", &["42"])] {
        assert_eq!(t.unwrap(), "/users/42");
    }
    assert_eq!(
        r.table().url("post", &["7", "9"]).unwrap(),
        "/users/7/posts/9"
    );
    assert_eq!(r.url("about", &[]).unwrap(), "/about");
}

#[test]
fn url_catch_all_takes_the_next_value() {
    let t = router().table();
    assert_eq!(t.url("file", &["css/a.css"]).unwrap(), "/files/css/a.css");
    assert_eq!(t.url("file", &["/css/a.css"]).unwrap(), "/files/css/a.css");
    assert_eq!(t.url("file", &[""]).unwrap(), "/files");
    assert_eq!(t.url("api", &["x/y"]).unwrap(), "/api/v/x/y");
}

#[test]
fn url_with_wrong_value_count_is_an_error() {
    let t = router().table();
    let few = t.url("post", &["7"]).unwrap_err();
    assert!(few.is_not_enough_params() && !few.is_too_many_params());
    let many = t.url("user", &["1", "2"]).unwrap_err();
    assert!(many.is_too_many_params());
    assert!(many.to_string().contains("expected 1, got 2"));
    assert!(t.url("about", &["x"]).unwrap_err().is_too_many_params());
}

#[test]
fn url_of_unknown_name_is_an_error() {
    let r = router();
    assert!(r.url("nope", &[]).unwrap_err().is_unknown_name());
    assert!(r.table().url("nope", &[]).unwrap_err().is_unknown_name());
}

#[test]
#[should_panic(expected = "route name `user` is already used by GET /users/:id")]
fn duplicate_name_panics() {
    router().get("/other/:id", ok).name("user");
}

#[test]
fn try_name_reports_a_duplicate_name() {
    let mut r = router();
    let err = r.get("/other", ok).try_name("about").unwrap_err();
    assert!(err.is_duplicate_name());
    assert!(r.get("/other2", ok).try_name("other").is_ok());
    assert_eq!(r.table().url("other", &[]).unwrap(), "/other2");
    assert_eq!(r.table().url("about", &[]).unwrap(), "/about");
}

#[test]
fn renaming_a_route_frees_its_old_name() {
    let mut r = Router::new();
    r.get("/x", ok).name("a").name("b");
    assert!(r.url("a", &[]).unwrap_err().is_unknown_name());
    assert_eq!(r.url("b", &[]).unwrap(), "/x");
    assert_eq!(r.table().routes().next().unwrap().name(), Some("b"));
}

#[test]
fn removing_a_route_keeps_the_others_names_and_shapes() {
    let mut r = router();
    assert!(r.remove("GET", "/users/:x"));
    assert!(r.url("user", &["1"]).is_err(), "its name is gone");
    // Routes registered after it moved down; their names and shapes follow.
    assert_eq!(
        r.url("post", &["1", "2"]).as_deref(),
        Ok("/users/1/posts/2")
    );
    assert_eq!(r.table().url("about", &[]).as_deref(), Ok("/about"));
    r.get("/about", ok).name("about2");
    assert_eq!(
        r.url("about2", &[]).as_deref(),
        Ok("/about"),
        "a duplicate still replaces in place"
    );
    assert!(r.remove("GET", "/files/*q"));
    assert_eq!(r.url("api", &["x"]).as_deref(), Ok("/api/v/x"));
}
