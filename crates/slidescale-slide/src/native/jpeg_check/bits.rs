//! The bit level of the JPEG check: Huffman tables and a reader of
//! entropy-coded data that knows exactly how many real bits it has.
//!
//! The reader unstuffs `FF 00` and stops at the first marker. Past the marker
//! it feeds zero bits, as libjpeg does, but counts them (`pad`): if decoding
//! ever eats into them, the data ended before the codes did.

use super::{extraneous, find_marker, PREMATURE_EOF};

/// Codes up to this long are decoded with one table lookup.
const FAST_BITS: u32 = 11;

/// `fast_ac`'s mark for the end-of-block code.
const FAST_END_OF_BLOCK: u16 = 0xff;

/// A decoding table for one DHT (libjpeg's `jpeg_make_d_derived_tbl`).
pub struct Huffman {
    /// Indexed by the next `FAST_BITS` bits: `length << 8 | symbol`, 0 when
    /// the code is longer.
    fast: Vec<u16>,
    /// For AC tables, indexed the same way: a code and its value bits that
    /// both fit in `FAST_BITS`, as `(code + value length) << 8 | (run + 1)`,
    /// or `code length << 8 | FAST_END_OF_BLOCK`; 0 otherwise (ZRL, longer
    /// codes).
    fast_ac: Vec<u16>,
    /// The largest code of each length (`-1`: none), index 1..=16.
    max_code: [i32; 17],
    /// Symbol index minus code, per length.
    value_offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    /// Build from the 16 code-length counts and the symbols.
    pub fn new(counts: &[u8; 16], values: &[u8]) -> Result<Huffman, String> {
        let mut fast = vec![0u16; 1 << FAST_BITS];
        let mut max_code = [-1i32; 17];
        let mut value_offset = [0i32; 17];
        let (mut code, mut k) = (0u32, 0usize);
        for len in 1..=16u32 {
            value_offset[len as usize] = k as i32 - code as i32;
            for _ in 0..counts[len as usize - 1] {
                if code >= 1 << len {
                    return Err("Bogus Huffman table definition".into());
                }
                if len <= FAST_BITS {
                    let shift = FAST_BITS - len;
                    let first = (code << shift) as usize;
                    fast[first..first + (1 << shift)]
                        .fill((len as u16) << 8 | u16::from(values[k]));
                }
                code += 1;
                k += 1;
            }
            // libjpeg: the all-ones code of a length is reserved.
            if counts[len as usize - 1] > 0 {
                if code >= 1 << len {
                    return Err("Bogus Huffman table definition".into());
                }
                max_code[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        let fast_ac = fast
            .iter()
            .map(|&entry| {
                let (len, rs) = (entry >> 8, entry & 0xff);
                let (run, size) = (rs >> 4, rs & 15);
                let total = len + size;
                if entry == 0 || total > FAST_BITS as u16 {
                    0
                } else if size != 0 {
                    total << 8 | (run + 1)
                } else if run == 0 {
                    total << 8 | FAST_END_OF_BLOCK
                } else {
                    0 // ZRL (and the undefined runs without a value)
                }
            })
            .collect();
        Ok(Huffman {
            fast,
            fast_ac,
            max_code,
            value_offset,
            values: values.to_vec(),
        })
    }
}

/// Whether any byte of `word` is 0xFF.
#[inline]
fn has_ff_byte(word: u64) -> bool {
    let x = !word; // 0xFF bytes become zero bytes
    x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0
}

/// Entropy-coded data from a position up to the next marker.
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// Bits not yet consumed, most significant first.
    acc: u64,
    bits: u32,
    /// How many of the lowest `bits` are zero padding past the marker.
    pad: u32,
    /// `pos` is at the marker (or the end of the data).
    at_marker: bool,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> BitReader<'a> {
        BitReader {
            data,
            pos,
            acc: 0,
            bits: 0,
            pad: 0,
            at_marker: false,
        }
    }

    /// Load bytes until more than 56 bits are held.
    #[inline]
    fn refill(&mut self) {
        if self.bits > 56 {
            return;
        }
        // Fast path: the next 8 bytes hold no 0xFF (no stuffing, no marker),
        // so as many whole bytes as fit go in at once.
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(chunk.try_into().expect("8 bytes"));
            if !has_ff_byte(word) {
                let take = (64 - self.bits) / 8;
                self.acc |= word >> self.bits;
                self.bits += 8 * take;
                self.acc &= u64::MAX << (64 - self.bits);
                self.pos += take as usize;
                return;
            }
        }
        while self.bits <= 56 {
            let byte = self.next_byte();
            self.acc |= u64::from(byte) << (56 - self.bits);
            self.bits += 8;
        }
    }

    #[inline]
    fn next_byte(&mut self) -> u8 {
        if !self.at_marker {
            match self.data.get(self.pos) {
                Some(&0xff) if self.data.get(self.pos + 1) == Some(&0) => {
                    self.pos += 2;
                    return 0xff;
                }
                Some(&0xff) | None => self.at_marker = true,
                Some(&b) => {
                    self.pos += 1;
                    return b;
                }
            }
        }
        self.pad += 8;
        0
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.bits -= n;
    }

    /// Decode one symbol; needs 16 bits held.
    #[inline]
    fn symbol(&mut self, table: &Huffman) -> Result<u8, &'static str> {
        let entry = table.fast[(self.acc >> (64 - FAST_BITS)) as usize];
        if entry != 0 {
            self.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        let next16 = (self.acc >> 48) as i32;
        for len in FAST_BITS + 1..=16 {
            let code = next16 >> (16 - len);
            if code <= table.max_code[len as usize] {
                self.consume(len);
                let index = (code + table.value_offset[len as usize]) as usize;
                return table.values.get(index).copied().ok_or("bad Huffman code");
            }
        }
        Err("bad Huffman code")
    }

    /// The next `size` bits as a signed coefficient (JPEG's EXTEND).
    #[inline]
    fn value(&mut self, size: u32) -> i32 {
        if size == 0 {
            return 0;
        }
        let v = (self.acc >> (64 - size)) as i32;
        self.consume(size);
        if v < 1 << (size - 1) {
            v - (1 << size) + 1
        } else {
            v
        }
    }

    /// Walk one 8×8 block, updating the DC prediction `dc`.
    pub fn block(
        &mut self,
        dc: &Huffman,
        ac: &Huffman,
        pred: &mut i32,
    ) -> Result<(), &'static str> {
        self.refill();
        let size = u32::from(self.symbol(dc)?);
        if size > 11 {
            return Err("DC coefficient size over 11 bits");
        }
        *pred += self.value(size);
        let mut k = 1;
        while k < 64 {
            if self.bits < 32 {
                self.refill();
            }
            let fast = ac.fast_ac[(self.acc >> (64 - FAST_BITS)) as usize];
            if fast != 0 {
                self.consume(u32::from(fast >> 8));
                if fast & 0xff == FAST_END_OF_BLOCK {
                    break;
                }
                k += u32::from(fast & 0xff);
                if k > 64 {
                    return Err("AC coefficient index past 63");
                }
                continue;
            }
            let rs = self.symbol(ac)?;
            let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
            if size == 0 {
                if run != 15 {
                    break; // end of block
                }
                k += 16;
                continue;
            }
            k += run;
            if k > 63 {
                return Err("AC coefficient index past 63");
            }
            if size > 10 {
                return Err("AC coefficient size over 10 bits");
            }
            self.consume(size);
            k += 1;
        }
        Ok(())
    }

    /// Whether the codes so far fit in the data before the marker.
    pub fn check_not_overread(&self) -> Result<(), String> {
        if self.bits < self.pad {
            return Err("Corrupt JPEG data: premature end of data segment".into());
        }
        Ok(())
    }

    /// At the end of a restart interval or scan: the marker that follows and
    /// its position. Fewer than 8 bits may be left (byte padding); anything
    /// more is data the codes did not use.
    pub fn end_of_segment(&self) -> Result<(usize, u8), String> {
        self.check_not_overread()?;
        let unused_bits = self.bits - self.pad;
        let (at, code) = find_marker(self.data, self.pos).ok_or(PREMATURE_EOF)?;
        let unused = unused_bits as usize / 8 + (at - self.pos);
        if unused > 0 {
            return Err(extraneous(unused, code));
        }
        Ok((at, code))
    }

    /// Expect restart marker `rst` here; a fresh reader after it.
    pub fn restart(self, rst: u8) -> Result<BitReader<'a>, String> {
        let (at, code) = self.end_of_segment()?;
        if code != rst {
            return Err(format!(
                "Corrupt JPEG data: found marker 0x{code:02x} instead of RST{}",
                rst & 7
            ));
        }
        Ok(BitReader::new(self.data, at + 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes 0 (symbol 5), 10 (6), 110 (7).
    fn table() -> Huffman {
        let mut counts = [0u8; 16];
        counts[0] = 1;
        counts[1] = 1;
        counts[2] = 1;
        Huffman::new(&counts, &[5, 6, 7]).unwrap()
    }

    #[test]
    fn decodes_codes_and_pads_past_the_marker() {
        // 0 10 110 then 1-padding, then EOI
        let data = [0b0101_1011, 0xff, 0xd9];
        let mut r = BitReader::new(&data, 0);
        r.refill();
        let t = table();
        assert_eq!(r.symbol(&t), Ok(5));
        assert_eq!(r.symbol(&t), Ok(6));
        assert_eq!(r.symbol(&t), Ok(7));
        assert_eq!(r.end_of_segment().unwrap(), (1, 0xd9));
        // two more bits are real (the 1-padding), the third is not
        r.consume(2);
        assert!(r.check_not_overread().is_ok());
        r.consume(1);
        assert!(r.check_not_overread().is_err());
    }

    #[test]
    fn unused_bytes_are_extraneous_and_stuffing_is_undone() {
        let data = [0x00, 0xff, 0x00, 0x12, 0xff, 0xd9];
        let mut r = BitReader::new(&data, 0);
        r.refill();
        assert_eq!(r.acc >> 40, 0x00ff12);
        r.consume(8);
        assert_eq!(r.end_of_segment().unwrap_err(), extraneous(2, 0xd9));
    }

    #[test]
    fn ff_bytes_are_found_in_any_position() {
        assert!(!has_ff_byte(0x0102_0304_05fe_7f80));
        for i in 0..8 {
            assert!(has_ff_byte(0xff << (8 * i)), "byte {i}");
            assert!(
                has_ff_byte(0x1234_5678_9abc_def0 | 0xff << (8 * i)),
                "byte {i}"
            );
        }
    }

    #[test]
    fn fast_refill_equals_byte_by_byte() {
        let data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        let mut fast = BitReader::new(&data, 0);
        let mut slow = BitReader::new(&data, 0);
        for step in [3u32, 13, 7, 16, 1, 9, 11, 5] {
            fast.refill();
            while slow.bits <= 56 {
                let byte = slow.next_byte();
                slow.acc |= u64::from(byte) << (56 - slow.bits);
                slow.bits += 8;
            }
            assert_eq!(
                (fast.acc, fast.bits, fast.pos),
                (slow.acc, slow.bits, slow.pos)
            );
            fast.consume(step);
            slow.consume(step);
        }
    }

    #[test]
    fn overfull_table_is_bogus() {
        let mut counts = [0u8; 16];
        counts[0] = 2; // codes 0 and 1: no room left, the all-ones code is used
        assert!(Huffman::new(&counts, &[1, 2]).is_err());
    }
}
