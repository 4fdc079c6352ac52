//! Tests for the HTTP/1.x layer, and a harness that feeds a connection the
//! way an engine does: appending reads, keeping unconsumed bytes, dropping
//! each request's `len`, and checking that any split of the input gives the
//! same requests as the whole.

mod body;
mod encode;
mod parse;

use super::Limits;

pub(super) use crate::fuzzing::h1::{feed, Engine, Event, Req};

/// Feeds `input` whole, then split in two at every byte boundary, then one
/// byte at a time; asserts every run gives the same requests and errors and,
/// unless it failed, leaves the same bytes unconsumed. Returns the events of the whole run.
pub(super) fn check(limits: Limits, input: &[u8]) -> Vec<Event> {
    let whole = feed(limits, &[input]);
    let expected = whole.settled();
    for k in 0..=input.len() {
        let split = feed(limits, &[&input[..k], &input[k..]]);
        assert_eq!(split.settled(), expected, "split at {k}");
        if !matches!(expected.last(), Some(Event::Error(_))) {
            assert_eq!(split.buf.len(), whole.buf.len(), "leftover, split at {k}");
        }
    }
    let mut bytewise = Engine::new(limits);
    for b in input {
        bytewise.push(std::slice::from_ref(b));
    }
    assert_eq!(bytewise.settled(), expected, "byte at a time");
    whole.events
}

/// `check`ed with default limits.
pub(super) fn check_default(input: &[u8]) -> Vec<Event> {
    check(Limits::default(), input)
}

/// The only event of `events`, which must be a request.
pub(super) fn only_request(events: Vec<Event>) -> Req {
    match <[Event; 1]>::try_from(events) {
        Ok([Event::Req(r)]) => r,
        Ok([other]) => panic!("expected a request, got {other:?}"),
        Err(events) => panic!("expected one request, got {events:?}"),
    }
}

/// The status of the only event, which must be an error.
pub(super) fn only_error(events: Vec<Event>) -> u16 {
    match <[Event; 1]>::try_from(events) {
        Ok([Event::Error(status)]) => status,
        other => panic!("expected one error, got {other:?}"),
    }
}

/// Small limits, so limit tests stay quick when split at every byte.
pub(super) fn small_limits() -> Limits {
    Limits {
        max_request_line: 32,
        max_header_block: 64,
        max_headers: 4,
        max_body: 16,
        max_trailers: 24,
    }
}
