//! Route lookup (`RouteTable::lookup`) for static, param and catch-all paths in a 10-route and a 200-route table.

use criterion::{BenchmarkId, Criterion};
use std::hint::black_box;
use switchyard::router::Lookup;
use switchyard::{Ctx, HttpError, RouteTable, Router};

/// A handler that is never run: lookup only.
fn stub(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    ctx.text("x");
    Ok(())
}

/// The ten routes every table starts with.
const BASE: [&str; 10] = [
    "/",
    "/hello",
    "/json",
    "/users/:id",
    "/users/:id/posts",
    "/files/*path",
    "/api/items",
    "/api/cached",
    "/api/v2/items",
    "/metrics",
];

/// The ten base routes, plus `extra / 5` resources of five routes each
/// (list, item, edit, nested item, assets catch-all).
fn table(extra: usize) -> RouteTable {
    let mut r = Router::new();
    for path in BASE {
        r.get(path, stub);
    }
    for i in 0..extra / 5 {
        r.get(&format!("/r{i}/list"), stub);
        r.get(&format!("/r{i}/:id"), stub);
        r.get(&format!("/r{i}/:id/edit"), stub);
        r.get(&format!("/r{i}/:id/items/:item"), stub);
        r.get(&format!("/r{i}/assets/*path"), stub);
    }
    let t = r.table();
    assert_eq!(t.routes().count(), BASE.len() + extra / 5 * 5);
    t
}

/// The looked-up paths, by kind.
const PATHS: [(&str, &str); 4] = [
    ("static", "/api/v2/items"),
    ("param", "/users/12345"),
    ("catch-all", "/files/static/css/site.css"),
    ("not-found", "/nope/nothing/here"),
];

fn lookups(c: &mut Criterion) {
    for (label, extra) in [("10-routes", 0), ("200-routes", 190)] {
        let t = table(extra);
        let mut group = c.benchmark_group(format!("router/{label}"));
        let mut paths = PATHS.to_vec();
        if extra > 0 {
            paths.push(("last-static", "/r37/list"));
            paths.push(("two-params", "/r37/12345/items/678"));
        }
        for (kind, path) in paths {
            let expect_found = kind != "not-found";
            assert_eq!(
                matches!(t.lookup("GET", path), Lookup::Found(_)),
                expect_found,
                "{path}"
            );
            group.bench_with_input(BenchmarkId::from_parameter(kind), path, |b, path| {
                b.iter(|| match t.lookup(black_box("GET"), black_box(path)) {
                    Lookup::Found(m) => m.params.len(),
                    Lookup::MethodNotAllowed(_) | Lookup::NotFound => usize::MAX,
                })
            });
        }
        group.finish();
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    lookups(&mut c);
    c.final_summary();
}
