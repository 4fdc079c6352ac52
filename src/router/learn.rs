//! `Learner`: a learning route's dispatch state — the timing policy that
//! promotes a slow route to async for a while and settles a fast one inline
//! for good — and its telemetry, in lock-free atomics shared by every
//! worker.
//!
//! The policy (`docs/runtime-semantics.md` has it for users):
//! - A *learning* route runs inline and its handler (with its middleware)
//!   is timed.
//! - One run slower than [`PROMOTE_AT_ONCE`] (2 ms), or [`SLOW_STREAK`] (8)
//!   runs in a row slower than [`SLOW`] (300 µs), *promote* it: it runs async
//!   and untimed until the promotion expires.
//! - A promotion lasts [`FIRST_PROMOTION`] (5 s), doubled for every
//!   promotion since the route was last forgiven, up to
//!   [`FIRST_PROMOTION`] × 2^[`MAX_BACKOFF`] (5 min 20 s). Then the route
//!   learns again: a route that still blocks is back to async within 8 runs
//!   (1 when slower than 2 ms), one that recovered runs inline. A re-trial
//!   that sees [`FORGIVE_STREAK`] (64) fast runs in a row forgives the
//!   back-off (the next promotion lasts 5 s again).
//! - [`SETTLE_STREAK`] (256) fast runs in a row *settle* it: inline for
//!   good, never timed again.
//!
//! Concurrency: the streaks, the back-off and the settled bit share one
//! `AtomicU64` updated by compare-and-swap, so concurrent runs on several
//! workers count exactly; the promotion deadline is a second atomic (0: not
//! promoted). Ending an expired promotion is a CAS from that deadline to 0,
//! which a newer promotion (a later deadline) can never be confused with.
//! A timed run recorded while a promotion is in force (it started before)
//! counts in the handler-time histogram only.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Serialize;

/// A run slower than this is *slow*; one at most this long is *fast*.
pub const SLOW: Duration = Duration::from_micros(300);
/// A single run slower than this promotes at once.
pub const PROMOTE_AT_ONCE: Duration = Duration::from_millis(2);
/// Slow runs in a row that promote.
pub const SLOW_STREAK: u32 = 8;
/// Fast runs in a row that settle a route inline for good.
pub const SETTLE_STREAK: u32 = 256;
/// How long a first promotion lasts.
pub const FIRST_PROMOTION: Duration = Duration::from_secs(5);
/// Promotions that double the next one's length, at most.
pub const MAX_BACKOFF: u32 = 6;
/// Fast runs in a row, while learning again after a promotion, that forgive
/// the back-off.
pub const FORGIVE_STREAK: u32 = 64;

/// Upper bounds of the handler-time buckets of timed runs; the last bucket
/// (above 100 ms) is unbounded.
pub const HANDLER_TIME_BOUNDS: [Duration; 8] = [
    Duration::from_micros(50),
    Duration::from_micros(100),
    SLOW,
    Duration::from_millis(1),
    PROMOTE_AT_ONCE,
    Duration::from_millis(5),
    Duration::from_millis(10),
    Duration::from_millis(100),
];

/// Where a learning route stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LearnState {
    /// Runs inline and is timed.
    Learning,
    /// Runs async, untimed, until its promotion expires.
    Promoted,
    /// Runs inline for good, untimed.
    Settled,
}

impl LearnState {
    /// Every state, in a fixed order (for exposition).
    pub const ALL: [LearnState; 3] = [
        LearnState::Learning,
        LearnState::Promoted,
        LearnState::Settled,
    ];

    /// Its name: `learning`, `promoted` or `settled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LearnState::Learning => "learning",
            LearnState::Promoted => "promoted",
            LearnState::Settled => "settled",
        }
    }
}

/// A learning route's telemetry at one moment, as the metrics actor reports
/// it (in [`Snapshot::learning_routes`](crate::Snapshot::learning_routes)).
///
/// # Examples
///
/// ```
/// use switchyard::router::{LearnState, Lookup};
/// use switchyard::Router;
///
/// let mut router = Router::new();
/// router.get("/report", |ctx| { ctx.text("done"); Ok(()) }).learn();
/// let table = router.table();
/// let stats = table.learning_routes();
/// assert_eq!(stats[0].route, "/report");
/// assert_eq!(stats[0].state, LearnState::Learning);
/// assert_eq!(stats[0].promotions, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LearnStats {
    /// The route's method.
    pub method: String,
    /// The route's pattern (never a request's path).
    pub route: String,
    /// Where it stands now.
    pub state: LearnState,
    /// Requests whose handler ran inline.
    pub requests_inline: u64,
    /// Requests whose handler ran async.
    pub requests_async: u64,
    /// Times it was promoted.
    pub promotions: u64,
    /// Timed runs per handler-time bucket (bounds in
    /// `handler_time_bounds_secs`, then one unbounded bucket).
    pub handler_time_buckets: Vec<u64>,
    /// Upper bound in seconds of every bucket but the last.
    pub handler_time_bounds_secs: Vec<f64>,
    /// Sum of the timed runs, in seconds.
    pub handler_time_sum_secs: f64,
}

/// What a learning route does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Run inline, untimed (settled).
    Inline,
    /// Run inline and time it (learning).
    Timed,
    /// Run async (promoted).
    Async,
}

/// Bit 0 of the state word: settled.
const SETTLED: u64 = 1;
/// Shift and width of the slow streak.
const SLOW_SHIFT: u32 = 8;
/// Shift of the fast streak (16 bits).
const FAST_SHIFT: u32 = 16;
/// Shift of the back-off level (8 bits).
const BACKOFF_SHIFT: u32 = 32;

/// The state word, unpacked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Word {
    /// Inline for good.
    settled: bool,
    /// Slow runs in a row.
    slow: u32,
    /// Fast runs in a row.
    fast: u32,
    /// Promotions since the last forgiveness, at most `MAX_BACKOFF`.
    backoff: u32,
}

impl Word {
    fn unpack(w: u64) -> Word {
        Word {
            settled: w & SETTLED != 0,
            slow: ((w >> SLOW_SHIFT) & 0xff) as u32,
            fast: ((w >> FAST_SHIFT) & 0xffff) as u32,
            backoff: ((w >> BACKOFF_SHIFT) & 0xff) as u32,
        }
    }

    fn pack(self) -> u64 {
        u64::from(self.settled)
            | u64::from(self.slow) << SLOW_SHIFT
            | u64::from(self.fast) << FAST_SHIFT
            | u64::from(self.backoff) << BACKOFF_SHIFT
    }
}

/// What one timed run changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Streaks moved; nothing else.
    Counted,
    /// Promote, for this long.
    Promote(Duration),
    /// Settled now.
    Settle,
}

/// The pure policy: the state word after a run of `took`, and what it
/// changes.
fn step(w: Word, took: Duration) -> (Word, Step) {
    let mut next = w;
    if w.settled {
        return (next, Step::Counted);
    }
    if took > SLOW {
        next.fast = 0;
        next.slow = w.slow + 1;
        if took > PROMOTE_AT_ONCE || next.slow >= SLOW_STREAK {
            next.slow = 0;
            next.backoff = (w.backoff + 1).min(MAX_BACKOFF + 1);
            let doublings = next.backoff - 1;
            return (next, Step::Promote(FIRST_PROMOTION * (1 << doublings)));
        }
        return (next, Step::Counted);
    }
    next.slow = 0;
    next.fast = w.fast + 1;
    if next.fast >= FORGIVE_STREAK {
        next.backoff = 0;
    }
    if next.fast >= SETTLE_STREAK {
        next.settled = true;
        next.fast = 0;
        return (next, Step::Settle);
    }
    (next, Step::Counted)
}

/// Nanoseconds since the process's first use of this clock (never 0 once
/// returned, so 0 can mean "no deadline").
fn now_nanos() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// `d` in nanoseconds, saturating.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The counters of a learning route, apart from its state so that counting
/// a request does not disturb the line every decision reads.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Counts {
    /// Requests run inline.
    inline: AtomicU64,
    /// Requests run async.
    async_: AtomicU64,
    /// Promotions.
    promotions: AtomicU64,
    /// Timed runs per bucket of `HANDLER_TIME_BOUNDS` (+1 unbounded).
    buckets: [AtomicU64; HANDLER_TIME_BOUNDS.len() + 1],
    /// Sum of timed runs, in nanoseconds.
    timed_ns: AtomicU64,
}

/// One learning route's state and telemetry; shared by the route table
/// snapshots that hold the route, so a registration elsewhere keeps what
/// it learnt.
#[derive(Debug, Default)]
pub(crate) struct Learner {
    /// The packed [`Word`].
    word: AtomicU64,
    /// When the current promotion ends (`now_nanos` scale); 0 when not
    /// promoted. Written with `Release` after the word's promotion CAS.
    deadline: AtomicU64,
    /// Telemetry.
    counts: Counts,
}

impl Learner {
    /// What to do with a request now. A settled route costs one atomic load;
    /// a promoted one also reads the clock (to end an expired promotion).
    #[inline]
    pub(crate) fn verdict(&self) -> Verdict {
        self.verdict_at(now_nanos)
    }

    /// [`verdict`](Self::verdict) with the clock given.
    pub(crate) fn verdict_at(&self, now: impl FnOnce() -> u64) -> Verdict {
        let deadline = self.deadline.load(Acquire);
        if deadline != 0 {
            if now() < deadline {
                return Verdict::Async;
            }
            self.expire(deadline);
            return Verdict::Timed;
        }
        if self.word.load(Relaxed) & SETTLED != 0 {
            Verdict::Inline
        } else {
            Verdict::Timed
        }
    }

    /// Ends the promotion that was due at `deadline` (if no one else did, nor
    /// promoted again since) and starts the slow streak afresh.
    #[cold]
    fn expire(&self, deadline: u64) {
        if self
            .deadline
            .compare_exchange(deadline, 0, AcqRel, Relaxed)
            .is_ok()
        {
            let _ = self.word.fetch_update(AcqRel, Relaxed, |w| {
                let mut w = Word::unpack(w);
                w.slow = 0;
                w.fast = 0;
                Some(w.pack())
            });
        }
    }

    /// Records a timed run that took `took`.
    #[inline]
    pub(crate) fn record(&self, took: Duration) {
        self.record_at(took, now_nanos);
    }

    /// [`record`](Self::record) with the clock given.
    pub(crate) fn record_at(&self, took: Duration, now: impl FnOnce() -> u64) {
        let bucket = HANDLER_TIME_BOUNDS
            .iter()
            .position(|b| took <= *b)
            .unwrap_or(HANDLER_TIME_BOUNDS.len());
        self.counts.buckets[bucket].fetch_add(1, Relaxed);
        self.counts.timed_ns.fetch_add(nanos(took), Relaxed);
        if self.deadline.load(Acquire) != 0 {
            return;
        }
        let mut outcome = Step::Counted;
        let _ = self.word.fetch_update(AcqRel, Relaxed, |w| {
            let (next, s) = step(Word::unpack(w), took);
            outcome = s;
            Some(next.pack())
        });
        if let Step::Promote(length) = outcome {
            self.counts.promotions.fetch_add(1, Relaxed);
            let until = now().saturating_add(nanos(length)).max(1);
            self.deadline.store(until, Release);
        }
    }

    /// Counts one request whose handler ran async (`true`) or inline.
    #[inline]
    pub(crate) fn count(&self, ran_async: bool) {
        let c = if ran_async {
            &self.counts.async_
        } else {
            &self.counts.inline
        };
        c.fetch_add(1, Relaxed);
    }

    /// Where it stands, without ending an expired promotion.
    pub(crate) fn state_at(&self, now: u64) -> LearnState {
        let deadline = self.deadline.load(Acquire);
        if deadline != 0 && now < deadline {
            LearnState::Promoted
        } else if self.word.load(Relaxed) & SETTLED != 0 {
            LearnState::Settled
        } else {
            LearnState::Learning
        }
    }

    /// The telemetry of the route `method pattern`.
    pub(crate) fn stats(&self, method: &str, pattern: &str) -> LearnStats {
        let c = &self.counts;
        LearnStats {
            method: method.to_owned(),
            route: pattern.to_owned(),
            state: self.state_at(now_nanos()),
            requests_inline: c.inline.load(Relaxed),
            requests_async: c.async_.load(Relaxed),
            promotions: c.promotions.load(Relaxed),
            handler_time_buckets: c.buckets.iter().map(|b| b.load(Relaxed)).collect(),
            handler_time_bounds_secs: HANDLER_TIME_BOUNDS
                .iter()
                .map(Duration::as_secs_f64)
                .collect(),
            handler_time_sum_secs: c.timed_ns.load(Relaxed) as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const FAST: Duration = Duration::from_micros(40);
    const SLOWISH: Duration = Duration::from_micros(400);
    const VERY_SLOW: Duration = Duration::from_millis(3);

    /// A learner and a fake clock, in nanoseconds.
    struct Fixture {
        l: Learner,
        now: u64,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                l: Learner::default(),
                now: 1,
            }
        }

        fn run(&mut self, took: Duration) {
            let now = self.now;
            self.l.record_at(took, || now);
        }

        fn verdict(&self) -> Verdict {
            let now = self.now;
            self.l.verdict_at(|| now)
        }

        fn promotions(&self) -> u64 {
            self.l.counts.promotions.load(Relaxed)
        }
    }

    #[test]
    fn a_new_route_learns_inline_and_is_timed() {
        let f = Fixture::new();
        assert_eq!(f.verdict(), Verdict::Timed);
        assert_eq!(f.l.state_at(f.now), LearnState::Learning);
    }

    #[test]
    fn one_run_over_2ms_promotes_at_once() {
        let mut f = Fixture::new();
        f.run(VERY_SLOW);
        assert_eq!(f.verdict(), Verdict::Async);
        assert_eq!(f.l.state_at(f.now), LearnState::Promoted);
        assert_eq!(f.promotions(), 1);
    }

    #[test]
    fn exactly_2ms_is_slow_but_does_not_promote_alone() {
        let mut f = Fixture::new();
        f.run(PROMOTE_AT_ONCE);
        assert_eq!(f.verdict(), Verdict::Timed);
    }

    #[test]
    fn eight_slow_runs_in_a_row_promote() {
        let mut f = Fixture::new();
        for _ in 0..7 {
            f.run(SLOWISH);
            assert_eq!(f.verdict(), Verdict::Timed);
        }
        f.run(SLOWISH);
        assert_eq!(f.verdict(), Verdict::Async);
        assert_eq!(f.promotions(), 1);
    }

    #[test]
    fn seven_slow_runs_then_a_fast_one_do_not_promote() {
        let mut f = Fixture::new();
        for _ in 0..7 {
            f.run(SLOWISH);
        }
        f.run(FAST);
        for _ in 0..7 {
            f.run(SLOWISH);
        }
        assert_eq!(f.verdict(), Verdict::Timed);
        assert_eq!(f.promotions(), 0);
    }

    #[test]
    fn exactly_300us_counts_as_fast() {
        let mut f = Fixture::new();
        for _ in 0..20 {
            f.run(SLOW);
        }
        assert_eq!(f.verdict(), Verdict::Timed);
    }

    #[test]
    fn two_hundred_fifty_six_fast_runs_settle_inline_for_good() {
        let mut f = Fixture::new();
        for _ in 0..255 {
            f.run(FAST);
        }
        assert_eq!(f.verdict(), Verdict::Timed);
        f.run(FAST);
        assert_eq!(f.verdict(), Verdict::Inline);
        assert_eq!(f.l.state_at(f.now), LearnState::Settled);
    }

    #[test]
    fn a_slow_run_restarts_the_settle_streak() {
        let mut f = Fixture::new();
        for _ in 0..255 {
            f.run(FAST);
        }
        f.run(SLOWISH);
        for _ in 0..255 {
            f.run(FAST);
        }
        assert_eq!(f.verdict(), Verdict::Timed);
        f.run(FAST);
        assert_eq!(f.verdict(), Verdict::Inline);
    }

    #[test]
    fn a_settled_route_is_never_timed_nor_promoted_again() {
        let mut f = Fixture::new();
        for _ in 0..256 {
            f.run(FAST);
        }
        // Even if a run that started before settling is recorded late.
        f.run(VERY_SLOW);
        assert_eq!(f.verdict(), Verdict::Inline);
        assert_eq!(f.promotions(), 0);
        f.now += 3_600_000 * MS;
        assert_eq!(f.verdict(), Verdict::Inline);
    }

    #[test]
    fn a_promotion_expires_after_5s_and_the_route_learns_again() {
        let mut f = Fixture::new();
        f.run(VERY_SLOW);
        f.now += 5000 * MS - 1;
        assert_eq!(f.verdict(), Verdict::Async);
        f.now += 1;
        assert_eq!(f.verdict(), Verdict::Timed);
        assert_eq!(f.l.state_at(f.now), LearnState::Learning);
        assert_eq!(f.verdict(), Verdict::Timed);
    }

    #[test]
    fn after_expiry_a_still_slow_route_is_async_again_within_eight_runs() {
        let mut f = Fixture::new();
        for _ in 0..7 {
            f.run(SLOWISH);
        }
        f.run(VERY_SLOW);
        f.now += 5000 * MS;
        assert_eq!(f.verdict(), Verdict::Timed);
        for _ in 0..7 {
            f.run(SLOWISH);
        }
        assert_eq!(f.verdict(), Verdict::Timed, "the streak starts afresh");
        f.run(SLOWISH);
        assert_eq!(f.verdict(), Verdict::Async);
    }

    #[test]
    fn runs_recorded_during_a_promotion_move_no_streak() {
        let mut f = Fixture::new();
        f.run(VERY_SLOW);
        for _ in 0..300 {
            f.run(FAST); // started before the promotion, finished after it
        }
        f.run(VERY_SLOW);
        assert_eq!(f.promotions(), 1);
        f.now += 5000 * MS;
        assert_eq!(
            f.verdict(),
            Verdict::Timed,
            "neither settled nor promoted longer"
        );
        let s = f.l.stats("GET", "/");
        assert_eq!(s.handler_time_buckets.iter().sum::<u64>(), 302);
    }

    #[test]
    fn each_repromotion_doubles_its_length_up_to_the_cap() {
        let mut f = Fixture::new();
        let mut expected = 5000 * MS;
        for i in 0..9 {
            f.run(VERY_SLOW);
            f.now += expected - 1;
            assert_eq!(f.verdict(), Verdict::Async, "promotion {i} too short");
            f.now += 1;
            assert_eq!(f.verdict(), Verdict::Timed, "promotion {i} too long");
            if i < MAX_BACKOFF {
                expected *= 2;
            }
        }
        assert_eq!(expected, 320_000 * MS);
    }

    #[test]
    fn sixty_four_fast_runs_after_a_promotion_forgive_the_backoff() {
        let mut f = Fixture::new();
        f.run(VERY_SLOW);
        f.now += 5000 * MS;
        assert_eq!(f.verdict(), Verdict::Timed);
        for _ in 0..64 {
            f.run(FAST);
        }
        f.run(VERY_SLOW);
        f.now += 5000 * MS;
        assert_eq!(f.verdict(), Verdict::Timed, "back to a 5 s promotion");
        assert_eq!(f.promotions(), 2);
    }

    #[test]
    fn counts_and_handler_times_show_in_the_stats() {
        let mut f = Fixture::new();
        f.run(FAST);
        f.run(VERY_SLOW);
        f.l.count(false);
        f.l.count(false);
        f.l.count(true);
        let s = f.l.stats("GET", "/r/:id");
        assert_eq!((s.method.as_str(), s.route.as_str()), ("GET", "/r/:id"));
        assert_eq!((s.requests_inline, s.requests_async), (2, 1));
        assert_eq!(s.promotions, 1);
        assert_eq!(
            s.handler_time_buckets.len(),
            s.handler_time_bounds_secs.len() + 1
        );
        assert_eq!(s.handler_time_buckets[0], 1, "40 µs ≤ 50 µs");
        assert_eq!(s.handler_time_buckets[5], 1, "3 ms ≤ 5 ms");
        assert!((s.handler_time_sum_secs - 0.003_04).abs() < 1e-9);
    }

    #[test]
    fn the_word_packs_and_unpacks() {
        let w = Word {
            settled: true,
            slow: 7,
            fast: 255,
            backoff: 7,
        };
        assert_eq!(Word::unpack(w.pack()), w);
    }
}
