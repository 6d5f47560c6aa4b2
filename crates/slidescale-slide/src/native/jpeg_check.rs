//! Checking a JPEG tile the way libjpeg does before zune-jpeg turns it into
//! pixels.
//!
//! OpenSlide fails a read on any libjpeg warning. zune-jpeg, even in strict
//! mode, decodes a tile whose entropy-coded data was zeroed, flipped or cut
//! short into garbage pixels without a word: it stops once it has enough
//! MCUs and never looks at what is left. So this walks the Huffman codes of
//! every block (no dequantisation, no IDCT: a fraction of a decode) and
//! checks, with libjpeg's wording where libjpeg has a message:
//!
//! * the markers: SOI first, tables, one 8-bit Huffman frame, scans, EOI;
//! * every Huffman code is in its table ("bad Huffman code"), coefficient
//!   sizes fit 8-bit samples, no coefficient lands past the 64th, and DC
//!   values stay inside what an 8-bit block can hold;
//! * every restart interval and scan ends exactly where its data ends:
//!   neither "premature end of data segment" (the codes need more bits than
//!   there are) nor "N extraneous bytes before marker" (bits left over);
//! * restart markers come in sequence, RST0 to RST7 and round again;
//! * the stream ends with EOI ("premature end of JPEG file").
//!
//! Progressive frames are only parsed up to their first scan and left to
//! zune-jpeg's strict mode (TIFF tiles are sequential in practice).

mod bits;

use self::bits::{BitReader, Huffman};

/// What a tile's frame header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub width: u32,
    pub height: u32,
    pub components: u8,
}

const SOF0: u8 = 0xc0;
const SOF1: u8 = 0xc1;
const SOF2: u8 = 0xc2;
const DHT: u8 = 0xc4;
const RST0: u8 = 0xd0;
const RST7: u8 = 0xd7;
const SOI: u8 = 0xd8;
const EOI: u8 = 0xd9;
const SOS: u8 = 0xda;
const DQT: u8 = 0xdb;
const DRI: u8 = 0xdd;
/// Markers without a length field besides SOI/EOI/RSTn.
const TEM: u8 = 0x01;

const PREMATURE_EOF: &str = "Premature end of JPEG file";

/// Check the whole JPEG `data` and return its frame header.
pub fn check(data: &[u8]) -> Result<FrameHeader, String> {
    if !data.starts_with(&[0xff, SOI]) {
        let b = |i: usize| data.get(i).copied().unwrap_or(0);
        return Err(format!(
            "Not a JPEG file: starts with 0x{:02x} 0x{:02x}",
            b(0),
            b(1)
        ));
    }
    let mut tables = Tables::default();
    let mut frame: Option<Frame> = None;
    let mut restart_interval = 0u32;
    let mut scans = 0;
    let mut pos = 2;
    loop {
        let (marker, after) = next_marker(data, pos)?;
        pos = after;
        match marker {
            EOI if scans > 0 => return Ok(frame.expect("a scan needs a frame").header()),
            EOI => return Err("JPEG datastream contains no image".into()),
            SOI | RST0..=RST7 | TEM => {
                return Err(format!("Unsupported marker type 0x{marker:02x} here"))
            }
            _ => {}
        }
        let segment = segment(data, pos)?;
        pos += 2 + segment.len();
        match marker {
            DHT => tables.read_dht(segment)?,
            DQT => tables.read_dqt(segment)?,
            DRI => restart_interval = u32::from(be16(segment, 0)?),
            SOF0 | SOF1 | SOF2 if frame.is_some() => return Err("two frame headers".into()),
            SOF0 | SOF1 | SOF2 => frame = Some(Frame::read(segment, marker == SOF2)?),
            0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => {
                return Err(format!("Unsupported JPEG process: SOF type 0x{marker:02x}"))
            }
            SOS => {
                let frame = frame
                    .as_ref()
                    .ok_or("Invalid JPEG file structure: SOS before SOF")?;
                if frame.progressive {
                    return Ok(frame.header());
                }
                let scan = Scan::read(segment, frame, &tables)?;
                pos = scan.walk(data, pos, restart_interval)?;
                scans += 1;
            }
            _ => {} // APPn, COM, DAC, DNL: nothing to check
        }
    }
}

/// The marker at `pos` (after any 0xFF fill bytes) and the position after it.
/// Bytes before it are an error, as libjpeg warns about them.
fn next_marker(data: &[u8], pos: usize) -> Result<(u8, usize), String> {
    let (at, code) = find_marker(data, pos).ok_or(PREMATURE_EOF)?;
    let skipped = data[pos..at].iter().filter(|&&b| b != 0xff).count();
    if skipped > 0 {
        return Err(extraneous(skipped, code));
    }
    Ok((code, at + 2))
}

/// The first marker at or after `pos`: (position of its last 0xFF, code).
pub(crate) fn find_marker(data: &[u8], mut pos: usize) -> Option<(usize, u8)> {
    while pos + 1 < data.len() {
        if data[pos] == 0xff && data[pos + 1] != 0 && data[pos + 1] != 0xff {
            return Some((pos, data[pos + 1]));
        }
        pos += 1;
    }
    None
}

pub(crate) fn extraneous(bytes: usize, marker: u8) -> String {
    format!("Corrupt JPEG data: {bytes} extraneous bytes before marker 0x{marker:02x}")
}

/// The payload of the marker segment whose length field is at `pos`.
fn segment(data: &[u8], pos: usize) -> Result<&[u8], String> {
    let len = usize::from(be16(data, pos).map_err(|_| PREMATURE_EOF)?);
    if len < 2 {
        return Err("Bogus marker length".into());
    }
    data.get(pos + 2..pos + len)
        .ok_or_else(|| PREMATURE_EOF.into())
}

fn be16(data: &[u8], pos: usize) -> Result<u16, String> {
    match data.get(pos..pos + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err("Bogus marker length".into()),
    }
}

/// The Huffman and quantisation tables defined so far.
#[derive(Default)]
struct Tables {
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    /// The DC entry of each quantisation table.
    dc_quant: [Option<u32>; 4],
}

impl Tables {
    fn read_dht(&mut self, mut seg: &[u8]) -> Result<(), String> {
        while let Some(&class_id) = seg.first() {
            let counts: [u8; 16] = seg
                .get(1..17)
                .and_then(|c| c.try_into().ok())
                .ok_or("Bogus DHT length")?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let values = seg.get(17..17 + total).ok_or("Bogus DHT length")?;
            let id = usize::from(class_id & 15);
            let table = Huffman::new(&counts, values)?;
            match (class_id >> 4, id) {
                (0, 0..=3) => self.dc[id] = Some(table),
                (1, 0..=3) => self.ac[id] = Some(table),
                _ => return Err(format!("Bogus DHT index {class_id}")),
            }
            seg = &seg[17 + total..];
        }
        Ok(())
    }

    fn read_dqt(&mut self, mut seg: &[u8]) -> Result<(), String> {
        while let Some(&precision_id) = seg.first() {
            let id = usize::from(precision_id & 15);
            let (len, dc) = match precision_id >> 4 {
                0 => (1 + 64, u32::from(*seg.get(1).ok_or("Bogus DQT length")?)),
                1 => (1 + 128, u32::from(be16(seg, 1)?)),
                _ => return Err(format!("Bogus DQT index {precision_id}")),
            };
            if id > 3 || seg.len() < len {
                return Err(format!("Bogus DQT index {precision_id} or length"));
            }
            self.dc_quant[id] = Some(dc.max(1));
            seg = &seg[len..];
        }
        Ok(())
    }
}

struct Component {
    id: u8,
    h: u32,
    v: u32,
    quant: usize,
}

struct Frame {
    width: u32,
    height: u32,
    components: Vec<Component>,
    progressive: bool,
}

impl Frame {
    fn read(seg: &[u8], progressive: bool) -> Result<Frame, String> {
        let bogus = || "Bogus SOF marker length".to_string();
        let precision = *seg.first().ok_or_else(bogus)?;
        if precision != 8 {
            return Err(format!("Unsupported JPEG data precision {precision}"));
        }
        let height = u32::from(be16(seg, 1)?);
        let width = u32::from(be16(seg, 3)?);
        let n = usize::from(*seg.get(5).ok_or_else(bogus)?);
        if width == 0 || height == 0 || n == 0 || n > 4 {
            return Err(format!("Bogus frame: {width}x{height}, {n} components"));
        }
        let spec = seg.get(6..6 + 3 * n).ok_or_else(bogus)?;
        let components = spec
            .chunks_exact(3)
            .map(|c| {
                let (h, v) = (u32::from(c[1] >> 4), u32::from(c[1] & 15));
                if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                    return Err(format!(
                        "Bogus sampling factors or table of component {}",
                        c[0]
                    ));
                }
                Ok(Component {
                    id: c[0],
                    h,
                    v,
                    quant: usize::from(c[2]),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Frame {
            width,
            height,
            components,
            progressive,
        })
    }

    fn header(&self) -> FrameHeader {
        FrameHeader {
            width: self.width,
            height: self.height,
            components: self.components.len() as u8,
        }
    }

    fn max_sampling(&self) -> (u32, u32) {
        let h = self.components.iter().map(|c| c.h).max().unwrap_or(1);
        let v = self.components.iter().map(|c| c.v).max().unwrap_or(1);
        (h, v)
    }
}

/// One component of a scan, with what decoding its blocks needs.
struct ScanComponent<'t> {
    dc: &'t Huffman,
    ac: &'t Huffman,
    blocks_per_mcu: u32,
    /// |DC| may not exceed this (2048 + one quantisation step, dequantised;
    /// an 8-bit block's DC is within ±1024).
    dc_limit: i32,
}

struct Scan<'t> {
    components: Vec<ScanComponent<'t>>,
    mcus: u64,
}

impl<'t> Scan<'t> {
    fn read(seg: &[u8], frame: &Frame, tables: &'t Tables) -> Result<Scan<'t>, String> {
        let n = usize::from(*seg.first().ok_or("Bogus SOS length")?);
        let spec = seg.get(1..1 + 2 * n).ok_or("Bogus SOS length")?;
        let progression = seg.get(1 + 2 * n..4 + 2 * n).ok_or("Bogus SOS length")?;
        if n == 0 || n > 4 || progression != [0, 63, 0] {
            return Err(format!(
                "Invalid sequential scan: {n} components, spectral/approximation {progression:?}"
            ));
        }
        let (hmax, vmax) = frame.max_sampling();
        let mut components = Vec::with_capacity(n);
        for pair in spec.chunks_exact(2) {
            let c = frame
                .components
                .iter()
                .find(|c| c.id == pair[0])
                .ok_or_else(|| format!("Invalid component ID {} in SOS", pair[0]))?;
            let (td, ta) = (usize::from(pair[1] >> 4), usize::from(pair[1] & 15));
            let undefined =
                |kind: &str, i: usize| format!("Huffman table {kind} {i} was not defined");
            let dc = tables.dc.get(td).and_then(Option::as_ref);
            let ac = tables.ac.get(ta).and_then(Option::as_ref);
            let q = tables.dc_quant[c.quant]
                .ok_or_else(|| format!("Quantization table 0x{:02x} was not defined", c.quant))?;
            components.push(ScanComponent {
                dc: dc.ok_or_else(|| undefined("DC", td))?,
                ac: ac.ok_or_else(|| undefined("AC", ta))?,
                blocks_per_mcu: if n == 1 { 1 } else { c.h * c.v },
                dc_limit: ((2048 + q) / q) as i32,
            });
        }
        if components.iter().map(|c| c.blocks_per_mcu).sum::<u32>() > 10 {
            return Err("Sampling factors too large for interleaved scan".into());
        }
        let mcus = if n == 1 {
            let c = frame
                .components
                .iter()
                .find(|c| c.id == spec[0])
                .expect("found above");
            let blocks =
                |size: u32, f: u32, max: u32| u64::from((size * f).div_ceil(max).div_ceil(8));
            blocks(frame.width, c.h, hmax) * blocks(frame.height, c.v, vmax)
        } else {
            u64::from(frame.width.div_ceil(8 * hmax)) * u64::from(frame.height.div_ceil(8 * vmax))
        };
        Ok(Scan { components, mcus })
    }

    /// Walk the entropy-coded data starting at `pos`; returns the position of
    /// the marker that ends the scan.
    fn walk(&self, data: &[u8], pos: usize, restart_interval: u32) -> Result<usize, String> {
        let mut reader = BitReader::new(data, pos);
        let mut predictions = vec![0i32; self.components.len()];
        let mut next_rst = 0u8;
        let at = |m: u64, e: String| format!("{e} (MCU {m} of {})", self.mcus);
        for m in 0..self.mcus {
            if restart_interval > 0 && m > 0 && m % u64::from(restart_interval) == 0 {
                reader = reader.restart(RST0 + next_rst).map_err(|e| at(m, e))?;
                next_rst = (next_rst + 1) & 7;
                predictions.fill(0);
            }
            for (c, pred) in self.components.iter().zip(predictions.iter_mut()) {
                for _ in 0..c.blocks_per_mcu {
                    reader
                        .block(c.dc, c.ac, pred)
                        .map_err(|e| at(m, format!("Corrupt JPEG data: {e}")))?;
                    if pred.abs() > c.dc_limit {
                        return Err(at(
                            m,
                            "Corrupt JPEG data: DC coefficient out of range".into(),
                        ));
                    }
                }
            }
            reader.check_not_overread().map_err(|e| at(m, e))?;
        }
        reader.end_of_segment().map(|(at, _)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_jpeg_and_truncated_headers() {
        assert!(check(&[0, 0, 1])
            .unwrap_err()
            .starts_with("Not a JPEG file"));
        assert_eq!(check(&[0xff, SOI]).unwrap_err(), PREMATURE_EOF);
        assert_eq!(
            check(&[0xff, SOI, 0xff, DQT, 0, 67, 0]).unwrap_err(),
            PREMATURE_EOF
        );
        assert!(check(&[0xff, SOI, 0xff, EOI])
            .unwrap_err()
            .contains("no image"));
    }

    /// Real JPEGs from Pillow (libjpeg) with restart markers: 4:2:0, 4:4:4,
    /// grey, and one progressive (left to zune-jpeg after its headers).
    fn pillow_jpegs() -> Vec<(String, Vec<u8>)> {
        const CODE: &str = r#"
import sys, numpy as np
from PIL import Image
rng = np.random.default_rng(7)
rgb = Image.fromarray((rng.random((72, 88, 3)) * 255).astype("uint8"))
rgb.save(sys.argv[1] + "/rst420.jpg", quality=90, restart_marker_blocks=5)
rgb.save(sys.argv[1] + "/rst444.jpg", quality=75, subsampling=0, restart_marker_rows=1)
rgb.convert("L").save(sys.argv[1] + "/grey.jpg", quality=80, restart_marker_blocks=7)
rgb.save(sys.argv[1] + "/progressive.jpg", quality=80, progressive=True)
"#;
        let dir = slidescale_testutil::temp_dir("jpeg-check");
        slidescale_testutil::run_python(CODE, &[dir.to_str().unwrap()]);
        let jpegs = ["rst420", "rst444", "grey", "progressive"].map(|n| {
            (
                n.to_string(),
                std::fs::read(dir.join(format!("{n}.jpg"))).unwrap(),
            )
        });
        std::fs::remove_dir_all(dir).unwrap();
        jpegs.into()
    }

    fn rst_positions(jpeg: &[u8]) -> Vec<usize> {
        (0..jpeg.len() - 1)
            .filter(|&i| jpeg[i] == 0xff && (RST0..=RST7).contains(&jpeg[i + 1]))
            .collect()
    }

    #[test]
    fn libjpeg_output_passes_and_damage_around_restarts_is_caught() {
        for (name, jpeg) in pillow_jpegs() {
            let components = if name == "grey" { 1 } else { 3 };
            let header = check(&jpeg).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                (header.width, header.height, header.components),
                (88, 72, components)
            );
            if name == "progressive" {
                continue;
            }
            let rst = rst_positions(&jpeg);
            assert!(rst.len() > 3, "{name}: {} restart markers", rst.len());
            // RST1 where RST2 belongs
            let mut wrong = jpeg.clone();
            wrong[rst[2] + 1] = RST0 + 1;
            let err = check(&wrong).unwrap_err();
            assert!(
                err.contains("found marker 0xd1 instead of RST2"),
                "{name}: {err}"
            );
            // a byte of data too many before a restart marker
            let mut longer = jpeg.clone();
            longer.insert(rst[1], 0x00);
            let err = check(&longer).unwrap_err();
            assert!(err.starts_with(&extraneous(1, RST0 + 1)), "{name}: {err}");
            // half of an interval's data gone (a single byte can go unseen:
            // the codes may resynchronise within a block, as in libjpeg)
            let mut shorter = jpeg.clone();
            let len = rst[1] - rst[0] - 2;
            shorter.drain(rst[0] + 2 + len / 4..rst[0] + 2 + 3 * len / 4);
            let err = check(&shorter).unwrap_err();
            assert!(err.starts_with("Corrupt JPEG data"), "{name}: {err}");
            // no EOI
            let err = check(&jpeg[..jpeg.len() - 2]).unwrap_err();
            assert!(
                err.starts_with("Corrupt JPEG data") || err == PREMATURE_EOF,
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn garbage_between_markers_is_extraneous() {
        let err = check(&[0xff, SOI, 1, 2, 3, 0xff, EOI]).unwrap_err();
        assert_eq!(err, extraneous(3, EOI));
    }
}
