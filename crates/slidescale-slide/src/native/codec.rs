//! Decoding one TIFF tile into interleaved RGB.
//!
//! JPEG tiles in TIFF usually carry only entropy-coded data; the quantisation
//! and Huffman tables live once in the `JPEGTables` tag. We splice the two into
//! a complete JPEG stream (tables without their EOI, tile without its SOI) and
//! hand that to zune-jpeg.
//!
//! Colour: a JPEG with three components and no Adobe marker is YCbCr to most
//! decoders, but Aperio writes RGB samples straight into the JPEG and marks
//! the TIFF's photometric interpretation RGB. libjpeg (as OpenSlide drives it)
//! is told the colour space from that tag, so we do the same: for RGB we ask
//! zune-jpeg for "YCbCr out", which makes it skip the conversion and return the
//! stored samples unchanged.

use std::io::Read;

use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::jpeg_check;

/// How a level's tiles are compressed, as far as the native driver supports.
#[derive(Debug, Clone)]
pub enum Codec {
    /// TIFF compression 7; `tables` from the JPEGTables tag.
    Jpeg {
        tables: Option<Vec<u8>>,
        stored: Stored,
    },
    /// TIFF compression 8 / 32946 (zlib), with predictor 1 or 2.
    Deflate { horizontal_predictor: bool },
    /// TIFF compression 1.
    Uncompressed,
}

/// What the JPEG samples are, from the TIFF photometric interpretation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Rgb,
    YCbCr,
}

/// Decode one tile of `width`×`height` pixels into RGB.
pub fn decode_tile(codec: &Codec, raw: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let size = width as usize * height as usize * 3;
    let rgb = match codec {
        Codec::Jpeg { tables, stored } => {
            decode_jpeg(tables.as_deref(), raw, *stored, width, height)?
        }
        Codec::Deflate {
            horizontal_predictor,
        } => {
            let mut out = Vec::with_capacity(size + 1);
            // Read on to the end of the stream (one byte past the tile at
            // most): zlib checks its Adler-32 only there.
            flate2::read::ZlibDecoder::new(raw)
                .take(size as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("deflate: {e}"))?;
            if *horizontal_predictor {
                undo_horizontal_predictor(&mut out, width as usize);
            }
            out
        }
        Codec::Uncompressed => raw[..raw.len().min(size)].to_vec(),
    };
    if rgb.len() != size {
        return Err(format!(
            "tile decodes to {} bytes, expected {size} ({width}x{height} RGB)",
            rgb.len()
        ));
    }
    Ok(rgb)
}

/// The tables stream without its EOI followed by the tile without its SOI.
fn splice(tables: Option<&[u8]>, tile: &[u8]) -> Option<Vec<u8>> {
    let tables = tables.filter(|t| t.len() > 4)?;
    if !(tables.ends_with(&[0xff, 0xd9]) && tile.starts_with(&[0xff, 0xd8])) {
        return None;
    }
    let mut buf = Vec::with_capacity(tables.len() + tile.len());
    buf.extend_from_slice(&tables[..tables.len() - 2]);
    buf.extend_from_slice(&tile[2..]);
    Some(buf)
}

fn decode_jpeg(
    tables: Option<&[u8]>,
    tile: &[u8],
    stored: Stored,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, String> {
    let spliced = splice(tables, tile);
    let stream = spliced.as_deref().unwrap_or(tile);
    // zune-jpeg turns corrupt entropy-coded data into pixels; check it first.
    let frame = jpeg_check::check(stream).map_err(|e| format!("JPEG: {e}"))?;
    if (frame.width, frame.height, frame.components) != (width, height, 3) {
        return Err(format!(
            "JPEG tile is {}x{} with {} components, the TIFF says {width}x{height} RGB",
            frame.width, frame.height, frame.components
        ));
    }
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(width as usize)
        .set_max_height(height as usize);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(stream), options);
    decoder.decode_headers().map_err(|e| format!("JPEG: {e}"))?;
    // RGB samples in a stream the decoder takes for YCbCr: ask for "YCbCr"
    // output, i.e. no conversion. Streams labelled RGB (component ids R,G,B)
    // are already left alone.
    if stored == Stored::Rgb && decoder.input_colorspace() == Some(ColorSpace::YCbCr) {
        decoder.set_options(options.jpeg_set_out_colorspace(ColorSpace::YCbCr));
    }
    decoder.decode().map_err(|e| format!("JPEG: {e}"))
}

/// TIFF predictor 2 for 8-bit RGB: each sample is stored as the difference to
/// the same channel of the pixel on its left.
fn undo_horizontal_predictor(data: &mut [u8], width: usize) {
    for row in data.chunks_exact_mut(width * 3) {
        for i in 3..row.len() {
            row[i] = row[i].wrapping_add(row[i - 3]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_drops_tables_eoi_and_tile_soi() {
        let tables = [0xff, 0xd8, 0xff, 0xdb, 0xff, 0xd9];
        let tile = [0xff, 0xd8, 0xff, 0xc0, 0x00];
        assert_eq!(
            splice(Some(&tables), &tile).unwrap(),
            [0xff, 0xd8, 0xff, 0xdb, 0xff, 0xc0, 0x00]
        );
        assert!(splice(None, &tile).is_none());
    }

    #[test]
    fn predictor_accumulates_per_channel() {
        let mut row = vec![10, 20, 30, 1, 2, 3, 255, 0, 1];
        undo_horizontal_predictor(&mut row, 3);
        assert_eq!(row, [10, 20, 30, 11, 22, 33, 10, 22, 34]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let codec = Codec::Jpeg {
            tables: None,
            stored: Stored::YCbCr,
        };
        assert!(decode_tile(&codec, &[0xff, 0xd8, 1, 2, 3], 16, 16).is_err());
        let codec = Codec::Deflate {
            horizontal_predictor: false,
        };
        assert!(decode_tile(&codec, &[1, 2, 3], 16, 16).is_err());
    }

    #[test]
    fn deflate_checksum_and_length_are_checked() {
        use std::io::Write;
        let pixels: Vec<u8> = (0..4 * 4 * 3).map(|i| (i * 7) as u8).collect();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&pixels).unwrap();
        let mut raw = z.finish().unwrap();
        let codec = Codec::Deflate {
            horizontal_predictor: false,
        };
        assert_eq!(decode_tile(&codec, &raw, 4, 4).unwrap(), pixels);
        assert!(
            decode_tile(&codec, &raw, 4, 3).is_err(),
            "longer than the tile"
        );
        let last = raw.len() - 1;
        raw[last] ^= 1; // the Adler-32 trailer
        assert!(
            decode_tile(&codec, &raw, 4, 4).is_err(),
            "checksum not checked"
        );
    }
}
