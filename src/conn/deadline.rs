//! Connection deadlines: which clock a connection is on (head, idle, body,
//! write) and when it runs out. Engines check them with a coarse timer.

use std::time::Instant;

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
    /// More of a request body (renewed by every read that brings bytes).
    Body,
    /// The client to read queued response bytes (renewed by write progress).
    Write,
}

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
}

impl Deadline {
    /// The deadline of a fresh connection: its first head must arrive within
    /// the head budget.
    pub fn accepted(now: Instant, cfg: &ConnConfig) -> Self {
        Deadline {
            kind: DeadlineKind::Head,
            at: now + cfg.header_timeout,
        }
    }

    /// The deadline after an event, given what the event did.
    pub fn next(
        self,
        now: Instant,
        phase: Phase,
        output_pending: bool,
        done: Progress,
        cfg: &ConnConfig,
    ) -> Self {
        if output_pending {
            return if self.kind == DeadlineKind::Write && !done.wrote {
                self
            } else {
                Deadline {
                    kind: DeadlineKind::Write,
                    at: now + cfg.write_timeout,
                }
            };
        }
        match phase {
            Phase::Boundary => Deadline {
                kind: DeadlineKind::Idle,
                at: now + cfg.idle_timeout,
            },
            // A head begun in this event gets its own budget, not what is
            // left of the previous request's.
            Phase::PartialHead if self.kind == DeadlineKind::Head && !done.answered => self,
            Phase::PartialHead => Deadline {
                kind: DeadlineKind::Head,
                at: now + cfg.header_timeout,
            },
            Phase::PartialBody => Deadline {
                kind: DeadlineKind::Body,
                at: now + cfg.idle_timeout,
            },
        }
    }

    /// Write progress renews a write deadline.
    pub fn wrote(self, now: Instant, cfg: &ConnConfig) -> Self {
        match self.kind {
            DeadlineKind::Write => Deadline {
                kind: DeadlineKind::Write,
                at: now + cfg.write_timeout,
            },
            _ => self,
        }
    }

    /// Whether it ran out at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        now >= self.at
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn cfg() -> ConnConfig {
        ConnConfig {
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(5),
            ..ConnConfig::default()
        }
    }

    #[test]
    fn head_deadline_is_not_extended_by_more_bytes() {
        let t0 = Instant::now();
        let d = Deadline {
            kind: DeadlineKind::Idle,
            at: t0,
        };
        let head = d.next(t0, Phase::PartialHead, false, Progress::default(), &cfg());
        assert_eq!(head.kind, DeadlineKind::Head);
        let later = head.next(
            t0 + Duration::from_millis(900),
            Phase::PartialHead,
            false,
            Progress::default(),
            &cfg(),
        );
        assert_eq!(later.at, t0 + Duration::from_secs(1));
    }

    #[test]
    fn a_head_after_an_answered_request_gets_a_fresh_budget() {
        let t0 = Instant::now();
        let first = Deadline {
            kind: DeadlineKind::Head,
            at: t0 + Duration::from_millis(100),
        };
        let answered = Progress {
            answered: true,
            ..Progress::default()
        };
        let later = t0 + Duration::from_millis(90);
        let next = first.next(later, Phase::PartialHead, false, answered, &cfg());
        assert_eq!(
            next,
            Deadline {
                kind: DeadlineKind::Head,
                at: later + Duration::from_secs(1)
            }
        );
    }

    #[test]
    fn write_progress_renews_the_write_deadline() {
        let t0 = Instant::now();
        let w = Deadline {
            kind: DeadlineKind::Write,
            at: t0 + Duration::from_secs(5),
        };
        let later = t0 + Duration::from_secs(4);
        let wrote = Progress {
            wrote: true,
            ..Progress::default()
        };
        assert_eq!(
            w.next(later, Phase::Boundary, true, wrote, &cfg()).at,
            later + Duration::from_secs(5)
        );
        assert_eq!(
            w.next(later, Phase::Boundary, true, Progress::default(), &cfg()),
            w
        );
    }

    #[test]
    fn boundary_goes_idle_and_pending_output_goes_write() {
        let t0 = Instant::now();
        let d = Deadline::accepted(t0, &cfg());
        assert_eq!(
            d.next(t0, Phase::Boundary, false, Progress::default(), &cfg())
                .kind,
            DeadlineKind::Idle
        );
        let w = d.next(t0, Phase::Boundary, true, Progress::default(), &cfg());
        assert_eq!(w.kind, DeadlineKind::Write);
        assert_eq!(
            w.wrote(t0 + Duration::from_secs(1), &cfg()).at,
            t0 + Duration::from_secs(6)
        );
    }
}
