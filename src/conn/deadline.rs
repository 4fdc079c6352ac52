//! Connection deadlines: which clock a connection is on (head, idle, body,
//! write, stream, linger) and when it runs out. Drivers check them with a
//! coarse timer (a loop) or a sleep (a task).

use std::time::{Duration, Instant};

use super::ConnConfig;
use crate::proto::h1::Phase;

/// What a connection is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadlineKind {
    /// The rest of a request head: an absolute budget from its first byte
    /// (never extended by more bytes: the slowloris defence).
    Head,
    /// The next request on a keep-alive connection.
    Idle,
    /// More of a request body: an inactivity clock renewed by every read
    /// that brings bytes, within a total budget from the body's start (a
    /// trickle of bytes cannot hold a connection forever).
    Body,
    /// The client to read queued response bytes (renewed by write progress).
    Write,
    /// The handler to produce the next piece of a live body (the server's own
    /// pace: no client is waited for).
    Stream,
    /// The peer to close after the write side was shut.
    Linger,
}

/// How long a live body may go without a piece before the connection is
/// given up (a handler that forgot its sender).
const STREAM_PATIENCE: Duration = Duration::from_secs(24 * 60 * 60);

/// What an event did, as far as deadlines care.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Response bytes went out (a write deadline is renewed).
    pub wrote: bool,
    /// At least one request was answered (a partial head that follows is a
    /// new head).
    pub answered: bool,
}

/// The deadline a connection is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// Which clock.
    pub kind: DeadlineKind,
    /// When it runs out.
    pub at: Instant,
    /// For [`DeadlineKind::Body`]: the total budget's end, which renewals
    /// never pass.
    pub limit: Instant,
}

impl Deadline {
    /// The deadline of a fresh connection: its first head must arrive within
    /// the head budget.
    pub fn accepted(now: Instant, cfg: &ConnConfig) -> Self {
        Deadline::of(DeadlineKind::Head, now + cfg.header_timeout)
    }

    /// A deadline with no separate limit.
    pub fn of(kind: DeadlineKind, at: Instant) -> Self {
        Deadline {
            kind,
            at,
            limit: at,
        }
    }

    /// The deadline after an event, given what the event did: queued output
    /// waits for the client (write), a live body for the handler (stream);
    /// otherwise the request phase decides (idle, head, body).
    pub fn next(
        self,
        now: Instant,
        phase: Phase,
        output_pending: bool,
        streaming: bool,
        done: Progress,
        cfg: &ConnConfig,
    ) -> Self {
        if output_pending {
            return if self.kind == DeadlineKind::Write && !done.wrote {
                self
            } else {
                Deadline::of(DeadlineKind::Write, now + cfg.write_timeout)
            };
        }
        if streaming {
            return Deadline::of(DeadlineKind::Stream, now + STREAM_PATIENCE);
        }
        match phase {
            Phase::Boundary => Deadline::of(DeadlineKind::Idle, now + cfg.idle_timeout),
            // A head begun in this event gets its own budget, not what is
            // left of the previous request's.
            Phase::PartialHead if self.kind == DeadlineKind::Head && !done.answered => self,
            Phase::PartialHead => Deadline::of(DeadlineKind::Head, now + cfg.header_timeout),
            Phase::PartialBody => {
                let limit = if self.kind == DeadlineKind::Body && !done.answered {
                    self.limit
                } else {
                    now + cfg.body_timeout
                };
                Deadline {
                    kind: DeadlineKind::Body,
                    at: (now + cfg.idle_timeout).min(limit),
                    limit,
                }
            }
        }
    }

    /// Whether it ran out at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        now >= self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ConnConfig {
        ConnConfig {
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(5),
            ..ConnConfig::default()
        }
    }

    const NONE: Progress = Progress {
        wrote: false,
        answered: false,
    };

    #[test]
    fn head_deadline_is_not_extended_by_more_bytes() {
        let t0 = Instant::now();
        let d = Deadline::of(DeadlineKind::Idle, t0);
        let head = d.next(t0, Phase::PartialHead, false, false, NONE, &cfg());
        assert_eq!(head.kind, DeadlineKind::Head);
        let later = head.next(
            t0 + Duration::from_millis(900),
            Phase::PartialHead,
            false,
            false,
            NONE,
            &cfg(),
        );
        assert_eq!(later.at, t0 + Duration::from_secs(1));
    }

    #[test]
    fn a_head_after_an_answered_request_gets_a_fresh_budget() {
        let t0 = Instant::now();
        let first = Deadline::of(DeadlineKind::Head, t0 + Duration::from_millis(100));
        let answered = Progress {
            answered: true,
            ..NONE
        };
        let later = t0 + Duration::from_millis(90);
        let next = first.next(later, Phase::PartialHead, false, false, answered, &cfg());
        assert_eq!(
            next,
            Deadline::of(DeadlineKind::Head, later + Duration::from_secs(1))
        );
    }

    #[test]
    fn write_progress_renews_the_write_deadline() {
        let t0 = Instant::now();
        let w = Deadline::of(DeadlineKind::Write, t0 + Duration::from_secs(5));
        let later = t0 + Duration::from_secs(4);
        let wrote = Progress {
            wrote: true,
            ..NONE
        };
        assert_eq!(
            w.next(later, Phase::Boundary, true, false, wrote, &cfg())
                .at,
            later + Duration::from_secs(5)
        );
        assert_eq!(w.next(later, Phase::Boundary, true, false, NONE, &cfg()), w);
    }

    #[test]
    fn a_trickling_body_is_cut_at_its_total_budget() {
        let t0 = Instant::now();
        let mut d = Deadline::of(DeadlineKind::Head, t0);
        let mut now = t0;
        // One read every 10 s renews the inactivity clock (30 s) each time,
        // but never past 60 s from the body's start.
        for _ in 0..10 {
            d = d.next(now, Phase::PartialBody, false, false, NONE, &cfg());
            now += Duration::from_secs(10);
        }
        assert_eq!(d.kind, DeadlineKind::Body);
        assert_eq!(d.at, t0 + Duration::from_secs(60));
        assert_eq!(d.limit, t0 + Duration::from_secs(60));
    }

    #[test]
    fn boundary_goes_idle_pending_output_goes_write_and_a_live_body_waits() {
        let t0 = Instant::now();
        let d = Deadline::accepted(t0, &cfg());
        assert_eq!(
            d.next(t0, Phase::Boundary, false, false, NONE, &cfg()).kind,
            DeadlineKind::Idle
        );
        let w = d.next(t0, Phase::Boundary, true, true, NONE, &cfg());
        assert_eq!(w.kind, DeadlineKind::Write);
        let s = d.next(t0, Phase::Boundary, false, true, NONE, &cfg());
        assert_eq!(s.kind, DeadlineKind::Stream);
    }
}
