//! CPU utilisation of the whole machine between two samples of /proc/stat.

use std::fs;

/// Remembers the previous sample of the aggregate `cpu` line.
#[derive(Debug, Default)]
pub struct CpuSampler {
    /// (idle, total) jiffies at the previous sample.
    last: Option<(u64, u64)>,
}

impl CpuSampler {
    /// A sampler with no previous sample.
    pub fn new() -> Self {
        let mut s = CpuSampler { last: None };
        s.sample();
        s
    }

    /// Utilisation in [0, 1] since the previous call, or `None` when /proc/stat
    /// cannot be read (non-Linux, sandbox).
    pub fn sample(&mut self) -> Option<f64> {
        let stat = fs::read_to_string("/proc/stat").ok()?;
        let (idle, total) = parse_cpu_line(stat.lines().next()?)?;
        let prev = self.last.replace((idle, total));
        let (pidle, ptotal) = prev.unwrap_or((idle, total));
        let dt = total.saturating_sub(ptotal);
        if dt == 0 {
            return Some(0.0);
        }
        let di = idle.saturating_sub(pidle);
        Some((1.0 - di as f64 / dt as f64).clamp(0.0, 1.0))
    }
}

/// (idle + iowait, sum of the first eight fields) of the aggregate line.
fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_ascii_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = fields
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    if v.len() < 5 {
        return None;
    }
    Some((v[3] + v[4], v.iter().sum()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_aggregate_line() {
        let (idle, total) = parse_cpu_line("cpu  10 0 10 70 10 0 0 0 0 0").unwrap();
        assert_eq!((idle, total), (80, 100));
        assert!(parse_cpu_line("cpu0 1 2 3 4 5").is_none());
    }
}
