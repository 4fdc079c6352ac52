//! One full sans-IO request→response turn through `H1Session` (bytes in, `process` in `Mode::Inline`, bytes out): parse, route, middleware, handler, encode, for `/hello`, `/users/:id` and `/json`, single and pipelined ×16.

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{Criterion, Throughput};
use switchyard::conn::{Env, Outcome};
use switchyard::proto::h1::DateCache;
use switchyard::Response;

#[path = "support/mod.rs"]
mod support;

use support::{conformance_routes, inline_info, pipelined, Turns, UsersBody, HELLO, JSON, USER};

fn turns(c: &mut Criterion) {
    let table = conformance_routes(UsersBody::Format).table();
    let date = DateCache::new(SystemTime::now());
    let mut resp = Response::new();
    let mut conn = Turns::new();
    let mut group = c.benchmark_group("session/process");
    for (name, req) in [("hello", HELLO), ("users_id", USER), ("json", JSON)] {
        for depth in [1usize, 16] {
            let input = pipelined(req, depth);
            group.throughput(Throughput::Elements(depth as u64));
            let id = if depth == 1 {
                name.to_owned()
            } else {
                format!("{name}_x{depth}")
            };
            group.bench_function(id, |b| {
                b.iter(|| {
                    let mut env = Env {
                        table: &table,
                        date: &date,
                        resp: &mut resp,
                        info: inline_info(),
                    };
                    let p = conn.turn(black_box(&input), &mut env, None);
                    debug_assert_eq!(p.outcome, Outcome::Open);
                    debug_assert_eq!(p.consumed, input.len());
                    p.requests
                })
            });
        }
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    turns(&mut c);
    c.final_summary();
}
