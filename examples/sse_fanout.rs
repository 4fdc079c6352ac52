//! Server-sent events, one producer and many subscribers: a thread publishes
//! a tick every second on a broadcast channel, and every client of
//! `GET /events` gets each tick as an event (a client too slow to keep up
//! is told how many it missed, as a comment, and goes on).
//!
//! ```sh
//! cargo run --release --example sse_fanout
//! curl -N http://127.0.0.1:8080/events
//! ```

use std::time::Duration;

use switchyard::handler::sse::Event;
use switchyard::{Config, HttpError, Request, Response, Server};
use tokio::sync::broadcast::{self, error::RecvError};

fn main() -> std::io::Result<()> {
    let (ticks, _) = broadcast::channel::<u64>(64);
    let producer = ticks.clone();
    std::thread::spawn(move || {
        for i in 0.. {
            // No subscriber yet is fine: the tick is dropped.
            let _ = producer.send(i);
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    Server::new(Config::default())
        .get_future("/events", move |_req: Request| {
            let mut subscription = ticks.subscribe();
            async move {
                let mut resp = Response::new();
                let events = resp.sse();
                actix_rt::spawn(async move {
                    loop {
                        let sent = match subscription.recv().await {
                            Ok(i) => {
                                let event = Event::data(format!("tick {i}")).id(i.to_string());
                                events.send_async(&event).await
                            }
                            Err(RecvError::Lagged(missed)) => {
                                events.comment(&format!("missed {missed} ticks"))
                            }
                            Err(RecvError::Closed) => break,
                        };
                        if sent.is_err() {
                            break; // the client went away
                        }
                    }
                });
                Ok::<_, HttpError>(resp)
            }
        })
        .run()
}
