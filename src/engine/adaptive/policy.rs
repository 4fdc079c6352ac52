//! The adaptive engine's controller as a pure policy: its state, one
//! telemetry sample and the time in, a decision (stay, or switch new
//! connections to another engine) with its reason out. No clock, no I/O:
//! the engine feeds it on every supervisor tick and performs what it
//! decides.
//!
//! The rules, in the order they are checked (celeris §4, thresholds from
//! our own crossover sweep, see docs/engines.md):
//! 1. frozen (freezes are counted) → stay;
//! 2. io_uring is not available (refused), or not for every connection of
//!    this protocol (h2c) → stay;
//! 3. on io_uring, an error ratio above `error_revert` over at least
//!    [`MIN_REQUESTS`] requests → back to epoll, whatever the cooldown or
//!    the lock (a safety revert; celeris waits for the cooldown);
//! 4. locked after oscillating → stay until the lock ends;
//! 5. within `cooldown` of the last switch → stay;
//! 6. on epoll: requests of `large_request` bytes or more on average →
//!    stay; `high` connections per worker or more → switch at once; `up` or
//!    more for `sustain` ticks in a row → switch;
//! 7. on io_uring: fewer than `down` connections per worker for `sustain`
//!    ticks in a row → back to epoll (celeris never moves back on load; we
//!    do, because below the crossover epoll is the better engine here).
//!
//! Every performed switch (forced ones too) is [`recorded`](Policy::switched):
//! `oscillation_switches` switches within `oscillation_window` lock the
//! controller for `lock`.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::config::{AdaptiveSettings, EngineKind};

/// Fewest requests in a period for its error ratio to count.
pub const MIN_REQUESTS: u64 = 20;

/// What the controller acts on; the defaults are the engine's own
/// (`Config::adaptive_up` and `Config::adaptive_down` change `up`, `high`
/// and `down`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Connections per worker that, sustained, move new connections to
    /// io_uring.
    pub up: f64,
    /// Connections per worker that move them at once.
    pub high: f64,
    /// Connections per worker under which, sustained, new connections go
    /// back to epoll.
    pub down: f64,
    /// Average request size (bytes read per request) from which epoll is
    /// kept whatever the load.
    pub large_request: f64,
    /// io_uring error ratio above which new connections go back to epoll.
    pub error_revert: f64,
    /// Ticks in a row a load condition must hold.
    pub sustain: u32,
    /// No switch for this long after one.
    pub cooldown: Duration,
    /// This many switches ...
    pub oscillation_switches: usize,
    /// ... within this window ...
    pub oscillation_window: Duration,
    /// ... lock switching for this long.
    pub lock: Duration,
}

impl Thresholds {
    /// Default connections per worker to move to io_uring (see
    /// docs/engines.md for the sweep behind it).
    pub const DEFAULT_UP: u32 = AdaptiveSettings::DEFAULT.up;
    /// Default connections per worker to move back to epoll.
    pub const DEFAULT_DOWN: u32 = AdaptiveSettings::DEFAULT.down;

    /// The defaults with `up` and `down` connections per worker (`high` is
    /// twice `up`).
    pub fn new(up: u32, down: u32) -> Self {
        Thresholds {
            up: f64::from(up),
            high: 2.0 * f64::from(up),
            down: f64::from(down),
            large_request: 8192.0,
            error_revert: 0.05,
            sustain: 2,
            cooldown: Duration::from_secs(30),
            oscillation_switches: 3,
            oscillation_window: Duration::from_secs(300),
            lock: Duration::from_secs(300),
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::new(Self::DEFAULT_UP, Self::DEFAULT_DOWN)
    }
}

/// One tick's telemetry of the engine new connections go to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// The engine new connections go to.
    pub active: EngineKind,
    /// Its open connections per worker (mean over its workers).
    pub conns_per_worker: f64,
    /// Bytes read per request answered in the period.
    pub bytes_in_per_request: f64,
    /// Errors per request answered in the period.
    pub error_ratio: f64,
    /// Requests answered in the period.
    pub requests: u64,
}

/// Why the controller decided what it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Switching is frozen.
    Frozen,
    /// io_uring cannot serve here (refused).
    Unavailable,
    /// Locked after too many switches in the window.
    Locked,
    /// Too soon after the last switch.
    Cooldown,
    /// On epoll, load under the up threshold.
    Light,
    /// On epoll, load at or over the up threshold, not yet for long enough
    /// (ticks so far).
    Rising(u32),
    /// On epoll, load at or over the high threshold.
    Heavy,
    /// On epoll, load at or over the up threshold for long enough.
    Sustained,
    /// On epoll, requests too large for io_uring to pay.
    LargeRequests,
    /// On io_uring, load at or over the down threshold.
    Busy,
    /// On io_uring, load under the down threshold, not yet for long enough
    /// (ticks so far).
    Falling(u32),
    /// On io_uring, load under the down threshold for long enough.
    Drained,
    /// On io_uring, too many errors.
    Errors,
    /// An operator (or a test) asked.
    Forced,
}

impl Reason {
    /// The reason in words, for metrics and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Frozen => "switching is frozen",
            Reason::Unavailable => "io_uring is not available",
            Reason::Locked => "locked after oscillating",
            Reason::Cooldown => "cooling down after a switch",
            Reason::Light => "load under the up threshold",
            Reason::Rising(_) => "load over the up threshold, not yet sustained",
            Reason::Heavy => "load over the high threshold",
            Reason::Sustained => "load over the up threshold, sustained",
            Reason::LargeRequests => "requests too large for io_uring",
            Reason::Busy => "load over the down threshold",
            Reason::Falling(_) => "load under the down threshold, not yet sustained",
            Reason::Drained => "load under the down threshold, sustained",
            Reason::Errors => "io_uring error ratio over the limit",
            Reason::Forced => "forced",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the controller decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Where new connections should go: `None` to stay.
    pub switch_to: Option<EngineKind>,
    /// Why.
    pub reason: Reason,
}

impl Decision {
    /// Stay where new connections go now.
    const fn stay(reason: Reason) -> Self {
        Decision {
            switch_to: None,
            reason,
        }
    }

    /// Move new connections to `to`.
    const fn switch(to: EngineKind, reason: Reason) -> Self {
        Decision {
            switch_to: Some(to),
            reason,
        }
    }
}

/// The controller's state between ticks.
#[derive(Debug)]
pub struct Policy {
    /// What it acts on.
    th: Thresholds,
    /// Why the controller never switches on its own (io_uring refused), if
    /// it does not.
    blocked: Option<Reason>,
    /// Counted freezes.
    freezes: u32,
    /// Ticks in a row over the up threshold (on epoll).
    up_ticks: u32,
    /// Ticks in a row under the down threshold (on io_uring).
    down_ticks: u32,
    /// The last switch.
    last_switch: Option<Instant>,
    /// The last switches, at most `oscillation_switches` of them.
    history: VecDeque<Instant>,
    /// Locked until then.
    locked_until: Option<Instant>,
}

impl Policy {
    /// A controller with `th`; `blocked` says why it must never switch on
    /// its own, if it must not.
    pub fn new(th: Thresholds, blocked: Option<Reason>) -> Self {
        Policy {
            th,
            blocked,
            freezes: 0,
            up_ticks: 0,
            down_ticks: 0,
            last_switch: None,
            history: VecDeque::new(),
            locked_until: None,
        }
    }

    /// Its thresholds.
    pub fn thresholds(&self) -> &Thresholds {
        &self.th
    }

    /// One more freeze: no switch is decided until every freeze is undone.
    pub fn freeze(&mut self) {
        self.freezes += 1;
    }

    /// Undoes one freeze (extra ones are ignored).
    pub fn unfreeze(&mut self) {
        self.freezes = self.freezes.saturating_sub(1);
    }

    /// Whether switching is frozen.
    pub fn is_frozen(&self) -> bool {
        self.freezes > 0
    }

    /// Whether it is locked after oscillating, at `now`.
    pub fn is_locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// The decision for `s` at `now`.
    pub fn decide(&mut self, s: &Sample, now: Instant) -> Decision {
        if self.freezes > 0 {
            return Decision::stay(Reason::Frozen);
        }
        if let Some(why) = self.blocked {
            return Decision::stay(why);
        }
        let on_uring = s.active == EngineKind::IoUring;
        if on_uring && s.requests >= MIN_REQUESTS && s.error_ratio > self.th.error_revert {
            return Decision::switch(EngineKind::Epoll, Reason::Errors);
        }
        if let Some(until) = self.locked_until {
            if now < until {
                return Decision::stay(Reason::Locked);
            }
            self.locked_until = None;
        }
        if self
            .last_switch
            .is_some_and(|t| now.saturating_duration_since(t) < self.th.cooldown)
        {
            return Decision::stay(Reason::Cooldown);
        }
        if on_uring {
            self.up_ticks = 0;
            self.on_uring(s)
        } else {
            self.down_ticks = 0;
            self.on_epoll(s)
        }
    }

    /// The load rules while new connections go to epoll.
    fn on_epoll(&mut self, s: &Sample) -> Decision {
        let cpw = s.conns_per_worker;
        if s.bytes_in_per_request >= self.th.large_request {
            self.up_ticks = 0;
            return Decision::stay(Reason::LargeRequests);
        }
        if cpw >= self.th.high {
            return Decision::switch(EngineKind::IoUring, Reason::Heavy);
        }
        if cpw >= self.th.up {
            self.up_ticks += 1;
            if self.up_ticks >= self.th.sustain {
                return Decision::switch(EngineKind::IoUring, Reason::Sustained);
            }
            return Decision::stay(Reason::Rising(self.up_ticks));
        }
        self.up_ticks = 0;
        Decision::stay(Reason::Light)
    }

    /// The load rules while new connections go to io_uring.
    fn on_uring(&mut self, s: &Sample) -> Decision {
        if s.conns_per_worker < self.th.down {
            self.down_ticks += 1;
            if self.down_ticks >= self.th.sustain {
                return Decision::switch(EngineKind::Epoll, Reason::Drained);
            }
            return Decision::stay(Reason::Falling(self.down_ticks));
        }
        self.down_ticks = 0;
        Decision::stay(Reason::Busy)
    }

    /// A switch was performed at `now` (decided or forced): the cooldown
    /// starts, the tick counts restart, and too many switches in the window
    /// lock the controller.
    pub fn switched(&mut self, now: Instant) {
        self.last_switch = Some(now);
        self.up_ticks = 0;
        self.down_ticks = 0;
        self.history.push_back(now);
        while self.history.len() > self.th.oscillation_switches {
            self.history.pop_front();
        }
        let oldest = self.history.front().copied();
        if self.history.len() >= self.th.oscillation_switches
            && oldest.is_some_and(|t| now.saturating_duration_since(t) < self.th.oscillation_window)
        {
            self.locked_until = Some(now + self.th.lock);
            tracing::warn!(
                switches = self.history.len(),
                lock_secs = self.th.lock.as_secs(),
                "adaptive engine: too many switches; switching is locked"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake clock: the start, and `t(n)` n seconds after it.
    struct Clock(Instant);

    impl Clock {
        fn t(&self, secs: u64) -> Instant {
            self.0 + Duration::from_secs(secs)
        }
    }

    fn clock() -> Clock {
        Clock(Instant::now())
    }

    fn on(active: EngineKind, cpw: f64) -> Sample {
        Sample {
            active,
            conns_per_worker: cpw,
            bytes_in_per_request: 100.0,
            error_ratio: 0.0,
            requests: 1000,
        }
    }

    fn epoll(cpw: f64) -> Sample {
        on(EngineKind::Epoll, cpw)
    }

    fn uring(cpw: f64) -> Sample {
        on(EngineKind::IoUring, cpw)
    }

    fn policy() -> Policy {
        Policy::new(Thresholds::default(), None)
    }

    const TO_URING: Option<EngineKind> = Some(EngineKind::IoUring);
    const TO_EPOLL: Option<EngineKind> = Some(EngineKind::Epoll);

    #[test]
    fn one_tick_over_up_is_not_enough_two_in_a_row_switch() {
        let (c, mut p) = (clock(), policy());
        assert_eq!(p.decide(&epoll(30.0), c.t(1)).reason, Reason::Rising(1));
        let d = p.decide(&epoll(30.0), c.t(2));
        assert_eq!((d.switch_to, d.reason), (TO_URING, Reason::Sustained));
    }

    #[test]
    fn a_light_tick_in_between_restarts_the_count() {
        let (c, mut p) = (clock(), policy());
        p.decide(&epoll(30.0), c.t(1));
        assert_eq!(p.decide(&epoll(10.0), c.t(2)).reason, Reason::Light);
        assert_eq!(p.decide(&epoll(30.0), c.t(3)).switch_to, None);
    }

    #[test]
    fn one_tick_over_high_switches_at_once() {
        let (c, mut p) = (clock(), policy());
        let d = p.decide(&epoll(50.0), c.t(1));
        assert_eq!((d.switch_to, d.reason), (TO_URING, Reason::Heavy));
    }

    #[test]
    fn between_down_and_up_nothing_moves_either_way() {
        let (c, mut p) = (clock(), policy());
        for i in 1..10 {
            assert_eq!(p.decide(&epoll(18.0), c.t(i)).switch_to, None);
            assert_eq!(p.decide(&uring(18.0), c.t(i)).switch_to, None);
        }
    }

    #[test]
    fn large_requests_keep_epoll_under_any_load() {
        let (c, mut p) = (clock(), policy());
        let mut s = epoll(100.0);
        s.bytes_in_per_request = 10.0 * 1024.0;
        for i in 1..5 {
            assert_eq!(p.decide(&s, c.t(i)).reason, Reason::LargeRequests);
        }
    }

    #[test]
    fn an_io_uring_error_storm_reverts_even_in_cooldown_and_lock() {
        let (c, mut p) = (clock(), policy());
        p.switched(c.t(0));
        let mut s = uring(100.0);
        s.error_ratio = 0.06;
        let d = p.decide(&s, c.t(1));
        assert_eq!((d.switch_to, d.reason), (TO_EPOLL, Reason::Errors));
    }

    #[test]
    fn errors_at_the_limit_or_over_too_few_requests_do_not_revert() {
        let (c, mut p) = (clock(), policy());
        let mut s = uring(100.0);
        s.error_ratio = 0.05;
        assert_eq!(p.decide(&s, c.t(1)).switch_to, None);
        s.error_ratio = 0.5;
        s.requests = MIN_REQUESTS - 1;
        assert_eq!(p.decide(&s, c.t(2)).switch_to, None);
    }

    #[test]
    fn sustained_low_load_on_io_uring_goes_back_to_epoll() {
        let (c, mut p) = (clock(), policy());
        assert_eq!(p.decide(&uring(4.0), c.t(1)).reason, Reason::Falling(1));
        let d = p.decide(&uring(4.0), c.t(2));
        assert_eq!((d.switch_to, d.reason), (TO_EPOLL, Reason::Drained));
    }

    #[test]
    fn no_switch_within_the_cooldown() {
        let (c, mut p) = (clock(), policy());
        p.switched(c.t(0));
        assert_eq!(p.decide(&epoll(100.0), c.t(29)).reason, Reason::Cooldown);
        assert_eq!(p.decide(&epoll(100.0), c.t(30)).switch_to, TO_URING);
    }

    #[test]
    fn three_switches_in_five_minutes_lock_for_five_minutes() {
        let (c, mut p) = (clock(), policy());
        p.switched(c.t(0));
        p.switched(c.t(40));
        assert!(!p.is_locked(c.t(41)));
        p.switched(c.t(80));
        assert!(p.is_locked(c.t(81)));
        assert_eq!(p.decide(&epoll(100.0), c.t(379)).reason, Reason::Locked);
        assert_eq!(p.decide(&epoll(100.0), c.t(380)).switch_to, TO_URING);
        assert!(!p.is_locked(c.t(380)));
    }

    #[test]
    fn three_switches_spread_over_more_than_the_window_do_not_lock() {
        let (c, mut p) = (clock(), policy());
        p.switched(c.t(0));
        p.switched(c.t(200));
        p.switched(c.t(301));
        assert!(!p.is_locked(c.t(302)));
    }

    #[test]
    fn freezes_are_counted() {
        let (c, mut p) = (clock(), policy());
        p.freeze();
        p.freeze();
        p.unfreeze();
        assert_eq!(p.decide(&epoll(100.0), c.t(1)).reason, Reason::Frozen);
        p.unfreeze();
        p.unfreeze(); // one too many: ignored
        assert!(!p.is_frozen());
        assert_eq!(p.decide(&epoll(100.0), c.t(2)).switch_to, TO_URING);
        p.freeze();
        assert!(p.is_frozen(), "an extra unfreeze must not bank a thaw");
    }

    #[test]
    fn without_io_uring_nothing_moves() {
        let (c, mut p) = (
            clock(),
            Policy::new(Thresholds::default(), Some(Reason::Unavailable)),
        );
        assert_eq!(p.decide(&epoll(100.0), c.t(1)).reason, Reason::Unavailable);
    }

    #[test]
    fn configured_thresholds_apply() {
        let (c, mut p) = (clock(), Policy::new(Thresholds::new(2, 1), None));
        assert_eq!(p.thresholds().high, 4.0);
        assert_eq!(p.decide(&epoll(2.0), c.t(1)).reason, Reason::Rising(1));
        assert_eq!(p.decide(&epoll(2.0), c.t(2)).switch_to, TO_URING);
    }
}
