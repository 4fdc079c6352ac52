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

    /// The deadline after a batch of input was processed (`progressed`: bytes
    /// were read or written in this turn).
    pub fn next(self, now: Instant, phase: Phase, output_pending: bool, cfg: &ConnConfig) -> Self {
        if output_pending {
            return if self.kind == DeadlineKind::Write {
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
            Phase::PartialHead if self.kind == DeadlineKind::Head => self,
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
        let head = d.next(t0, Phase::PartialHead, false, &cfg());
        assert_eq!(head.kind, DeadlineKind::Head);
        let later = head.next(
            t0 + Duration::from_millis(900),
            Phase::PartialHead,
            false,
            &cfg(),
        );
        assert_eq!(later.at, t0 + Duration::from_secs(1));
    }

    #[test]
    fn boundary_goes_idle_and_pending_output_goes_write() {
        let t0 = Instant::now();
        let d = Deadline::accepted(t0, &cfg());
        assert_eq!(
            d.next(t0, Phase::Boundary, false, &cfg()).kind,
            DeadlineKind::Idle
        );
        let w = d.next(t0, Phase::Boundary, true, &cfg());
        assert_eq!(w.kind, DeadlineKind::Write);
        assert_eq!(
            w.wrote(t0 + Duration::from_secs(1), &cfg()).at,
            t0 + Duration::from_secs(6)
        );
    }
}
