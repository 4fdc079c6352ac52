//! `FrameGuard`: the client's byte stream checked frame by frame, before the
//! `h2` crate reads it, for the fixed-size and SETTINGS rules whose errors
//! RFC 9113 names and the crate reports as PROTOCOL_ERROR (it maps every
//! frame it cannot load to that code): the connection is then ended with
//! the RFC's code instead. A wrong PRIORITY length is a stream error by the
//! RFC; the guard ends the connection for it too, as §5.4 allows. Stateless
//! beyond frame boundaries; sans-IO.
//!
//! ```text
//!  Preface(24 bytes) ──▶ Header(9 bytes) ──▶ Payload(len) ──▶ Header ...
//!                            │ a length the frame's type forbids,
//!                            │ or a SETTINGS value out of range
//!                            ▼
//!                         Tripped(reason): nothing more is let through
//! ```

use h2::Reason;

/// The client connection preface's length.
const PREFACE_LEN: usize = 24;

/// Largest flow-control window (RFC 9113 §6.9.1).
const MAX_WINDOW: u32 = (1 << 31) - 1;

/// Frame types the guard looks into.
mod kind {
    pub const PRIORITY: u8 = 0x2;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
    pub const WINDOW_UPDATE: u8 = 0x8;
}

/// SETTINGS_INITIAL_WINDOW_SIZE.
const INITIAL_WINDOW_SIZE: u16 = 0x4;

/// Where the guard is in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Preface bytes still to pass (h2 checks them).
    Preface(usize),
    /// A frame header, `have` of its 9 bytes seen.
    Header { bytes: [u8; 9], have: usize },
    /// A frame's payload, `left` bytes to pass; a SETTINGS payload is read
    /// entry by entry.
    Payload {
        left: usize,
        settings: Option<Entry>,
    },
    /// A rule broke: the connection ends with this code.
    Tripped(Reason),
}

/// A SETTINGS entry being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    /// Its 6 bytes.
    bytes: [u8; 6],
    /// How many came.
    have: usize,
}

/// Checks a client's frames on their way to h2.
#[derive(Clone, Debug)]
pub struct FrameGuard {
    /// Where it is.
    stage: Stage,
}

impl Default for FrameGuard {
    fn default() -> Self {
        FrameGuard {
            stage: Stage::Preface(PREFACE_LEN),
        }
    }
}

impl FrameGuard {
    /// A guard for a connection whose next bytes are the client preface.
    pub fn new() -> Self {
        FrameGuard::default()
    }

    /// The code the connection must end with, once a rule broke.
    pub fn tripped(&self) -> Option<Reason> {
        match self.stage {
            Stage::Tripped(r) => Some(r),
            _ => None,
        }
    }

    /// Looks at the next `bytes` of the stream; how many of them may go on
    /// to h2 (all of them unless a rule broke in them: then those before
    /// the breaking frame's end, and [`FrameGuard::tripped`] says why).
    pub fn pass(&mut self, bytes: &[u8]) -> usize {
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            match &mut self.stage {
                Stage::Tripped(_) => return at,
                Stage::Preface(left) => {
                    let n = (*left).min(rest.len());
                    *left -= n;
                    at += n;
                    if *left == 0 {
                        self.stage = header();
                    }
                }
                Stage::Header { bytes: head, have } => {
                    let n = (9 - *have).min(rest.len());
                    head[*have..*have + n].copy_from_slice(&rest[..n]);
                    *have += n;
                    at += n;
                    if *have == 9 {
                        let head = *head;
                        self.stage = match check_header(&head) {
                            Err(reason) => return self.trip(at, reason),
                            Ok(stage) => stage,
                        };
                    }
                }
                Stage::Payload { left, settings } => {
                    let n = (*left).min(rest.len());
                    if let Some(entry) = settings {
                        if let Err(reason) = scan_settings(entry, &rest[..n]) {
                            return self.trip(at + n, reason);
                        }
                    }
                    *left -= n;
                    at += n;
                    if *left == 0 {
                        self.stage = header();
                    }
                }
            }
        }
        at
    }

    /// Trips with `reason`; `at` bytes may go on (h2 never reads the rest
    /// of the breaking frame, so it never acts on it).
    fn trip(&mut self, at: usize, reason: Reason) -> usize {
        self.stage = Stage::Tripped(reason);
        at.saturating_sub(1)
    }
}

/// The stage that reads the next frame header.
fn header() -> Stage {
    Stage::Header {
        bytes: [0; 9],
        have: 0,
    }
}

/// The stage after a frame header, or the error its length is.
fn check_header(head: &[u8; 9]) -> Result<Stage, Reason> {
    let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
    let (kind, flags) = (head[3], head[4]);
    let size_ok = match kind {
        kind::PING => len == 8,
        kind::RST_STREAM | kind::WINDOW_UPDATE => len == 4,
        kind::PRIORITY => len == 5,
        kind::GOAWAY => len >= 8,
        kind::SETTINGS if flags & 0x1 != 0 => len == 0,
        kind::SETTINGS => len % 6 == 0,
        _ => true,
    };
    if !size_ok {
        return Err(Reason::FRAME_SIZE_ERROR);
    }
    if len == 0 {
        return Ok(header());
    }
    let settings = (kind == kind::SETTINGS).then_some(Entry {
        bytes: [0; 6],
        have: 0,
    });
    Ok(Stage::Payload {
        left: len,
        settings,
    })
}

/// Reads SETTINGS entries from `bytes` (a piece of the payload): an initial
/// window over the maximum is a FLOW_CONTROL_ERROR (RFC 9113 §6.5.2).
fn scan_settings(entry: &mut Entry, bytes: &[u8]) -> Result<(), Reason> {
    for &b in bytes {
        entry.bytes[entry.have] = b;
        entry.have += 1;
        if entry.have < 6 {
            continue;
        }
        entry.have = 0;
        let id = u16::from_be_bytes([entry.bytes[0], entry.bytes[1]]);
        let value = u32::from_be_bytes([
            entry.bytes[2],
            entry.bytes[3],
            entry.bytes[4],
            entry.bytes[5],
        ]);
        if id == INITIAL_WINDOW_SIZE && value > MAX_WINDOW {
            return Err(Reason::FLOW_CONTROL_ERROR);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client preface.
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    /// A frame on stream `id`.
    fn frame(kind: u8, flags: u8, id: u32, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut b = vec![len[1], len[2], len[3], kind, flags];
        b.extend_from_slice(&id.to_be_bytes());
        b.extend_from_slice(payload);
        b
    }

    /// The preface and `frames`.
    fn stream(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut b = PREFACE.to_vec();
        for f in frames {
            b.extend_from_slice(f);
        }
        b
    }

    /// SETTINGS entries as a payload.
    fn entries(list: &[(u16, u32)]) -> Vec<u8> {
        let mut p = Vec::new();
        for (id, value) in list {
            p.extend_from_slice(&id.to_be_bytes());
            p.extend_from_slice(&value.to_be_bytes());
        }
        p
    }

    /// Feeds `bytes` in pieces of `step` (stopping at the first piece not
    /// wholly passed); what passed and the verdict.
    fn feed(bytes: &[u8], step: usize) -> (usize, Option<Reason>) {
        let mut g = FrameGuard::new();
        let mut passed = 0;
        for piece in bytes.chunks(step) {
            let n = g.pass(piece);
            assert!(n <= piece.len());
            passed += n;
            if n < piece.len() {
                break;
            }
        }
        (passed, g.tripped())
    }

    /// Splits that cut frame headers, SETTINGS entries and payloads.
    const STEPS: [usize; 6] = [1, 2, 5, 7, 13, 4096];

    /// The stream ends in one frame that breaks a rule: `reason` for every
    /// split, and h2 never gets that frame whole (nor anything after it).
    fn trips(bytes: &[u8], bad_frame_len: usize, reason: Reason) {
        let bad_starts = bytes.len() - bad_frame_len;
        let mut tail = bytes.to_vec();
        // Bytes after the breaking frame never pass either.
        tail.extend(frame(kind::PING, 0, 0, b"12345678"));
        for step in STEPS {
            let (passed, why) = feed(&tail, step);
            assert_eq!(why, Some(reason), "step {step}");
            assert!(
                passed >= bad_starts,
                "step {step}: a good frame before it was held back"
            );
            assert!(
                passed < bytes.len(),
                "step {step}: the breaking frame reached h2 whole"
            );
        }
    }

    /// [`trips`] for the preface and `bad`.
    fn trips_alone(bad: &[u8], reason: Reason) {
        let mut b = PREFACE.to_vec();
        b.extend_from_slice(bad);
        trips(&b, bad.len(), reason);
    }

    /// Every split of `bytes` passes whole with no verdict.
    fn passes(bytes: &[u8]) {
        for step in STEPS {
            assert_eq!(feed(bytes, step), (bytes.len(), None), "step {step}");
        }
    }

    #[test]
    fn well_formed_frames_pass_whole_in_any_split() {
        passes(&stream(&[
            frame(kind::SETTINGS, 0, 0, &entries(&[(4, 1), (3, 100)])),
            frame(kind::SETTINGS, 1, 0, &[]),
            frame(kind::PING, 0, 0, b"12345678"),
            frame(kind::PING, 1, 0, b"12345678"),
            frame(kind::WINDOW_UPDATE, 0, 0, &[0, 0, 1, 0]),
            frame(kind::RST_STREAM, 0, 1, &[0, 0, 0, 8]),
            frame(kind::PRIORITY, 0, 3, &[0, 0, 0, 1, 15]),
            frame(kind::GOAWAY, 0, 0, &[0, 0, 0, 0, 0, 0, 0, 0]),
            frame(kind::GOAWAY, 0, 0, b"\0\0\0\0\0\0\0\0debug data"),
        ]));
    }

    #[test]
    fn data_headers_and_unknown_types_pass_at_any_length() {
        // DATA, HEADERS, PUSH_PROMISE, CONTINUATION and unknown types are
        // h2's to judge, whatever their length.
        for kind in [0x0, 0x1, 0x5, 0x9, 0xa, 0xff] {
            for len in [0, 1, 6, 9, 100] {
                passes(&stream(&[frame(kind, 0, 1, &vec![0x33; len])]));
            }
        }
    }

    #[test]
    fn the_preface_is_h2s_to_check() {
        // Whatever the first 24 bytes are, they pass: h2 refuses a wrong
        // preface itself. Frame rules start after them.
        let mut b = vec![b'x'; PREFACE.len()];
        b.extend(frame(kind::PING, 0, 0, b"12345678"));
        passes(&b);
    }

    #[test]
    fn a_ping_of_other_than_8_octets_is_a_frame_size_error() {
        for len in [0, 6, 9] {
            let bad = frame(kind::PING, 0, 0, &vec![0; len]);
            trips_alone(&bad, Reason::FRAME_SIZE_ERROR);
        }
        let ack = frame(kind::PING, 1, 0, b"1234567");
        trips_alone(&ack, Reason::FRAME_SIZE_ERROR);
    }

    #[test]
    fn a_settings_ack_with_a_payload_is_a_frame_size_error() {
        let bad = frame(kind::SETTINGS, 1, 0, &entries(&[(3, 10)]));
        trips_alone(&bad, Reason::FRAME_SIZE_ERROR);
    }

    #[test]
    fn a_settings_length_not_a_multiple_of_6_is_a_frame_size_error() {
        for len in [1, 5, 7, 13] {
            let bad = frame(kind::SETTINGS, 0, 0, &vec![0; len]);
            trips_alone(&bad, Reason::FRAME_SIZE_ERROR);
        }
    }

    #[test]
    fn a_rst_stream_of_other_than_4_octets_is_a_frame_size_error() {
        for len in [0, 3, 5] {
            let bad = frame(kind::RST_STREAM, 0, 1, &vec![0; len]);
            trips_alone(&bad, Reason::FRAME_SIZE_ERROR);
        }
    }

    #[test]
    fn a_window_update_of_other_than_4_octets_is_a_frame_size_error() {
        for (id, len) in [(0, 0), (0, 5), (1, 3)] {
            let bad = frame(kind::WINDOW_UPDATE, 0, id, &vec![0; len]);
            trips_alone(&bad, Reason::FRAME_SIZE_ERROR);
        }
    }

    #[test]
    fn a_priority_of_other_than_5_octets_is_a_frame_size_error() {
        // A stream error by the RFC; the guard ends the connection, which
        // RFC 9113 §5.4 allows for any stream error.
        for len in [0, 4, 6] {
            let bad = frame(kind::PRIORITY, 0, 1, &vec![0; len]);
            trips_alone(&bad, Reason::FRAME_SIZE_ERROR);
        }
    }

    #[test]
    fn a_goaway_shorter_than_8_octets_is_a_frame_size_error() {
        for len in [0, 4, 7] {
            let bad = frame(kind::GOAWAY, 0, 0, &vec![0; len]);
            trips_alone(&bad, Reason::FRAME_SIZE_ERROR);
        }
    }

    #[test]
    fn an_initial_window_over_the_maximum_is_a_flow_control_error() {
        for value in [MAX_WINDOW + 1, u32::MAX] {
            // Alone, and after a good entry in the same frame.
            for list in [vec![(4, value)], vec![(3, 9), (4, value), (1, 0)]] {
                let bad = frame(kind::SETTINGS, 0, 0, &entries(&list));
                trips_alone(&bad, Reason::FLOW_CONTROL_ERROR);
            }
        }
    }

    #[test]
    fn the_largest_initial_window_and_other_settings_pass() {
        // Only SETTINGS_INITIAL_WINDOW_SIZE is bounded here; other values
        // (ENABLE_PUSH 2, MAX_FRAME_SIZE 1) are h2's to refuse.
        passes(&stream(&[frame(
            kind::SETTINGS,
            0,
            0,
            &entries(&[(4, MAX_WINDOW), (2, 2), (5, 1), (0xff, u32::MAX)]),
        )]));
    }

    #[test]
    fn a_good_frame_before_the_breaking_one_in_the_same_read_passes() {
        let good = frame(kind::PING, 0, 0, b"12345678");
        let bad = frame(kind::WINDOW_UPDATE, 0, 0, &[0, 0, 1]);
        let b = stream(&[good.clone(), bad.clone()]);
        let mut g = FrameGuard::new();
        let n = g.pass(&b);
        assert_eq!(g.tripped(), Some(Reason::FRAME_SIZE_ERROR));
        assert!(n >= PREFACE.len() + good.len() && n < b.len());
    }

    #[test]
    fn once_tripped_nothing_more_passes_and_the_reason_stays() {
        let mut g = FrameGuard::new();
        g.pass(&stream(&[frame(kind::PING, 0, 0, b"short")]));
        assert_eq!(g.tripped(), Some(Reason::FRAME_SIZE_ERROR));
        assert_eq!(g.pass(&frame(kind::PING, 0, 0, b"12345678")), 0);
        assert_eq!(g.pass(b"x"), 0);
        assert_eq!(g.tripped(), Some(Reason::FRAME_SIZE_ERROR));
    }
}
