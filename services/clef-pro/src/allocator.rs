//! The memory allocator's limits for a long-running service, set before any thread
//! starts. Only glibc needs them; elsewhere this does nothing.
//!
//! glibc gives busy threads arenas of their own (up to 8 per core) and keeps in each
//! arena what was freed there; and once a large buffer is freed it raises the size from
//! which it maps buffers on their own, so later large request bodies stay in an arena
//! too. Under `bench ingest` 12 threads held 11 arenas of 7-18 MB (peak RSS 123-132 MB).
//! With 2 arenas per core and large buffers always mapped on their own (returned when
//! freed), the same run peaks at 75-86 MB, at the same request rates.

/// Arenas per core (glibc's default is 8).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS_PER_CORE: usize = 2;

/// Buffers from this size on are mapped on their own and unmapped when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAP_FROM: usize = 256 << 10;

/// Sets the limits; call it first thing in `main`, before any thread exists (glibc's
/// `mallopt` is not safe to call concurrently with allocation on other threads). A
/// limit the operator set in glibc's own variable (`MALLOC_ARENA_MAX`,
/// `MALLOC_MMAP_THRESHOLD_`) is left as glibc read it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let unset = |name: &str| std::env::var_os(name).is_none();
    let limits = [
        (
            libc::M_ARENA_MAX,
            "MALLOC_ARENA_MAX",
            ARENAS_PER_CORE * cores,
        ),
        (libc::M_MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", MAP_FROM),
    ];
    for (param, variable, value) in limits {
        if unset(variable) {
            let value = i32::try_from(value).unwrap_or(i32::MAX);
            // SAFETY: `mallopt` takes two integers and touches only the allocator's
            // own settings; no thread but this one exists yet. A value glibc refuses
            // returns 0 and leaves its default in place, which is harmless.
            unsafe {
                libc::mallopt(param, value);
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit() {}
