//! The checksums a store carries (schema 2): a CRC-32 of every tile's
//! decoded bytes (`/groups/K/tile_crc32`) and of each group's coordinates
//! (attribute `coords_crc32`), so a flipped bit in a chunk, a decoder that
//! turns damaged LZ4 data into other pixels, or a damaged coordinate is an
//! error instead of a wrong score. CRC-32 (IEEE, as `zlib.crc32`) detects
//! every single-bit and every burst error up to 32 bits; `crc32fast` runs
//! it at memory speed with PCLMULQDQ (docs/store.md, "Integrity").

/// CRC-32 of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// CRC-32 of coordinates as stored: `(col, row)` pairs of little-endian i32.
pub(crate) fn coords_crc32(coords: &[(i32, i32)]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for &(c, r) in coords {
        h.update(&c.to_le_bytes());
        h.update(&r.to_le_bytes());
    }
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_zlib_crc32_and_sees_every_single_bit_flip() {
        // zlib.crc32(b"123456789") == 0xCBF43926, the CRC-32 check value.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let coords = [(3, 4), (-1, 70000)];
        let flat: Vec<u8> = [3i32, 4, -1, 70000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(coords_crc32(&coords), crc32(&flat));
        let mut bytes: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 251) as u8).collect();
        let good = crc32(&bytes);
        for bit in (0..bytes.len() * 8).step_by(97) {
            bytes[bit / 8] ^= 1 << (bit % 8);
            assert_ne!(crc32(&bytes), good, "bit {bit}");
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
    }
}
