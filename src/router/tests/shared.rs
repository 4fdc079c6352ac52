//! Snapshot publication: readers see whole tables, old or new.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use super::support::ok;
use crate::router::{Lookup, Router, SharedTable};

#[test]
fn reader_sees_whole_snapshots_while_another_thread_publishes() {
    const GENERATIONS: usize = 200;
    let mut r = Router::new();
    r.get("/gen/0", ok);
    let shared = Arc::new(SharedTable::new(r.table()));
    let done = Arc::new(AtomicBool::new(false));

    let reader = {
        let (shared, done) = (shared.clone(), done.clone());
        thread::spawn(move || {
            let mut highest = 0;
            loop {
                let finished = done.load(Ordering::Acquire);
                let table = shared.load();
                // Table n holds /gen/0 ..= /gen/n: a whole snapshot has every
                // route up to its own count, and counts never go back.
                let count = table.routes().count();
                assert!(count >= highest, "saw an older table after a newer one");
                for i in 0..count {
                    let path = format!("/gen/{i}");
                    assert!(
                        matches!(table.lookup("GET", &path), Lookup::Found(_)),
                        "torn"
                    );
                }
                highest = highest.max(count);
                if finished {
                    return highest;
                }
            }
        })
    };

    for generation in 1..GENERATIONS {
        r.get(&format!("/gen/{generation}"), ok);
        shared.publish(r.table());
    }
    done.store(true, Ordering::Release);
    let seen = reader.join().expect("reader thread panicked");
    assert_eq!(seen, GENERATIONS, "reader never saw the last table");
    assert!(matches!(
        shared.load().lookup("GET", "/gen/199"),
        Lookup::Found(_)
    ));
}

#[test]
fn load_full_outlives_a_publish() {
    let mut r = Router::new();
    r.get("/old", ok);
    let shared = SharedTable::new(r.table());
    let held = shared.load_full();
    shared.publish(Router::new().table());
    assert_eq!(held.routes().count(), 1);
    assert_eq!(shared.load().routes().count(), 0);
}

#[test]
fn tables_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<crate::router::RouteTable>();
    assert_send_sync::<SharedTable>();
}
