//! One reader of `/proc/<pid>/status`, for the benchmark harnesses and the integration tests.

/// A size line of `/proc/<pid>/status` (`VmRSS:` for the current resident set, `VmHWM:` for its peak),
/// in MiB; NaN when the process or the line is gone.
pub fn status_mib(pid: &str, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
