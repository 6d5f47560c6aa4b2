//! How many tiles go in one group: Np = ⌊M / S⌋ with S = C·C·3 bytes (C the
//! context side, 448 in the paper) and M the memory one task may spend on
//! tiles (DESIGN §4).

use slidescale_core::TileGeometry;

/// The paper's task memory, 230 MiB, which gives 400 tiles per group.
pub const DEFAULT_TASK_MEMORY: u64 = 230 * 1024 * 1024;

/// Tiles per group for a task memory of `bytes` (at least 1).
pub fn group_size_for_memory(bytes: u64, geometry: &TileGeometry) -> u32 {
    (bytes / geometry.context_bytes()).clamp(1, u32::MAX as u64) as u32
}

/// Ng = ⌈Tp / Np⌉.
pub fn n_groups(n_patches: u64, group_size: u32) -> u32 {
    n_patches.div_ceil(group_size.max(1) as u64) as u32
}

/// Parse a memory size: a number with an optional unit B, K/KB/KiB, M/MB/MiB,
/// G/GB/GiB (K, M, G and the *iB forms are powers of 1024; KB, MB, GB are
/// powers of 1000). "230MiB", "1.5G", "4000000".
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("not a memory size: {text:?} (try 230MiB)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?} (use B, KiB, MiB, GiB)"
            ))
        }
    };
    Ok((value * scale) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    const P: TileGeometry = TileGeometry::PAPER;

    #[test]
    fn paper_default_is_400() {
        assert_eq!(group_size_for_memory(DEFAULT_TASK_MEMORY, &P), 400);
        assert_eq!(
            group_size_for_memory(parse_memory("230MiB").unwrap(), &P),
            400
        );
        assert_eq!(group_size_for_memory(1, &P), 1);
    }

    #[test]
    fn groups_round_up() {
        assert_eq!(n_groups(0, 400), 0);
        assert_eq!(n_groups(400, 400), 1);
        assert_eq!(n_groups(1158, 400), 3);
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1K").unwrap(), 1024);
        assert_eq!(parse_memory("2 MB").unwrap(), 2_000_000);
        assert_eq!(parse_memory("1.5GiB").unwrap(), 1_610_612_736);
        assert!(parse_memory("lots").is_err());
        assert!(parse_memory("3 parsecs").is_err());
    }
}
