//! CPU time and memory of a process, from /proc (Linux).

/// Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on every Linux ABI).
const TICKS_PER_SECOND: f64 = 100.0;

/// User plus system CPU seconds used so far by `pid`.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    cpu_seconds_of(&format!("/proc/{pid}/stat"))
}

fn cpu_seconds_of(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// A field of /proc/PID/status in kB (`VmRSS`, `VmHWM`).
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// This process's CPU time at one moment.
pub struct ProcSample(Option<f64>);

impl ProcSample {
    pub fn own() -> ProcSample {
        ProcSample(cpu_seconds_of("/proc/self/stat"))
    }

    /// Cores used on average since `earlier`, over `elapsed` seconds.
    pub fn cpu_since(&self, earlier: &ProcSample, elapsed: f64) -> Option<f64> {
        Some((self.0? - earlier.0?) / elapsed)
    }
}
