//! The path rules: escapes checked, dot segments removed, empty segments
//! significant, captured values decoded after splitting (`%2F` kept).

use super::support::{info, parts};
use crate::conn::{answer, Mode};
use crate::handler::Response;
use crate::router::path::{check, decode, remove_dot_segments, PathError};
use crate::router::Router;

#[test]
fn clean_paths_pass_untouched() {
    for p in ["/", "/hello", "/files/a/b/c.txt", "/a.b/.c/d..", "/%41"] {
        assert_eq!(check(p), Ok(()), "{p}");
    }
    for p in [
        "/",
        "/hello",
        "/files/a/b/c.txt",
        "/a.b/.c/d..",
        "/...",
        "/a/%2e%2e%2e",
    ] {
        assert_eq!(remove_dot_segments(p), None, "{p}");
    }
}

#[test]
fn malformed_escapes_and_non_utf8_are_refused() {
    for p in ["/%", "/%4", "/%zz", "/a%g1", "/x/%%41"] {
        assert_eq!(check(p), Err(PathError::BadEscape), "{p}");
    }
    for p in ["/%ff", "/%c3", "/a/%80b", "/%c3%28"] {
        assert_eq!(check(p), Err(PathError::NotUtf8), "{p}");
    }
    assert_eq!(check("/%c3%a9/%2F"), Ok(()));
}

#[test]
fn dot_segments_are_removed_and_never_climb_above_the_root() {
    let cases = [
        ("/files/../../etc/passwd", "/etc/passwd"),
        ("/a/./b", "/a/b"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/..", "/"),
        ("/../..", "/"),
        ("/.", "/"),
        ("/a/%2e%2E/b", "/b"),
        ("/a/.%2e/b", "/b"),
        ("/a/%2E/b", "/a/b"),
        ("/files/a/../../../x", "/x"),
    ];
    for (raw, expected) in cases {
        assert_eq!(remove_dot_segments(raw).as_deref(), Some(expected), "{raw}");
    }
}

#[test]
fn values_are_decoded_except_encoded_slashes() {
    assert_eq!(decode("a%20b"), "a b");
    assert_eq!(decode("caf%C3%A9"), "café");
    assert_eq!(decode("a%2Fb%2fc"), "a%2Fb%2fc");
    assert_eq!(decode("100%25"), "100%");
    assert_eq!(decode("a+b"), "a+b");
    assert_eq!(decode("%zz"), "%zz");
    assert!(matches!(
        decode("plain"),
        std::borrow::Cow::Borrowed("plain")
    ));
}

/// Answers `GET path` through the router's table; status and body.
fn serve(router: &Router, path: &str) -> (u16, String) {
    let table = router.table();
    let mut resp = Response::new();
    answer(parts("GET", path), &table, info(), &mut resp, Mode::Inline);
    let body = String::from_utf8(resp.body().to_vec()).unwrap();
    (resp.status(), body)
}

fn app() -> Router {
    let mut r = Router::new();
    r.get("/users/:id", |ctx| {
        let body = format!("user:{}", ctx.param("id").unwrap_or_default());
        ctx.text(&body);
        Ok(())
    });
    r.get("/files/*path", |ctx| {
        let body = format!(
            "file:{}|{}",
            ctx.param("path").unwrap_or_default(),
            ctx.path()
        );
        ctx.text(&body);
        Ok(())
    });
    r.get("/hello", |ctx| {
        ctx.text("hello");
        Ok(())
    });
    r
}

#[test]
fn requests_follow_the_path_rules() {
    let r = app();
    assert_eq!(serve(&r, "/users/a%20b"), (200, "user:a b".into()));
    assert_eq!(serve(&r, "/users/a%2Fb"), (200, "user:a%2Fb".into()));
    assert_eq!(
        serve(&r, "/files/a%20b/c"),
        (200, "file:a b/c|/files/a%20b/c".into())
    );
    assert_eq!(
        serve(&r, "/files/x/../../etc/passwd").0,
        404,
        "climbs to /etc/passwd, which is no route"
    );
    assert_eq!(
        serve(&r, "/files/a/./b/../c"),
        (200, "file:a/c|/files/a/c".into())
    );
    assert_eq!(serve(&r, "/files/%2e%2e/x").0, 404);
    assert_eq!(serve(&r, "/x/../hello"), (200, "hello".into()));
    assert_eq!(serve(&r, "//hello").0, 404);
    assert_eq!(serve(&r, "/users/%zz").0, 400);
    assert_eq!(serve(&r, "/users/%ff").0, 400);
}
