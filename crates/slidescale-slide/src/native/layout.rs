//! What a TIFF file holds, as the native driver needs it: one [`Ifd`] summary
//! per directory, then the vendor and pyramid levels chosen by the same rules
//! as OpenSlide's `aperio` and `generic-tiff` formats (levels as in 3.4.1
//! and 4; a generic TIFF's µm per pixel from its resolution tags as 4 gives
//! it, where 3.4.1 gives none).
//!
//! Anything another OpenSlide format would claim (Hamamatsu NDPI, Trestle,
//! Leica/Philips XML descriptions, Ventana XMP) or that the native codecs
//! cannot decode is reported as "not native", so `ReaderKind::Auto` hands the
//! file to OpenSlide.

use std::fs::File;
use std::io::BufReader;

use tiff::decoder::{Decoder, Limits};
use tiff::tags::{IfdPointer, Tag};

use super::codec::{Codec, Stored};

/// The tags of one image file directory that matter here.
#[derive(Debug, Clone, Default)]
pub struct Ifd {
    pub width: u32,
    pub height: u32,
    /// `(tile_width, tile_height)` when the directory is tiled.
    pub tile: Option<(u32, u32)>,
    pub compression: u16,
    pub photometric: u16,
    pub samples_per_pixel: u16,
    pub bits_per_sample: Vec<u16>,
    pub planar: u16,
    pub predictor: u16,
    pub subfile_type: u32,
    pub description: Option<String>,
    pub software: Option<String>,
    pub xmp: Option<Vec<u8>>,
    /// `XResolution`, `YResolution` (pixels per unit, as libtiff's float)
    /// and `ResolutionUnit` (default 2, inch, as TIFF specifies).
    pub resolution: Option<(f32, f32, u16)>,
    pub has_ndpi_tag: bool,
    pub jpeg_tables: Option<Vec<u8>>,
    pub offsets: Vec<u64>,
    pub byte_counts: Vec<u64>,
}

/// A pyramid level the native driver can read.
#[derive(Debug, Clone)]
pub struct TiledLevel {
    pub width: u32,
    pub height: u32,
    pub tile_width: u32,
    pub tile_height: u32,
    pub tiles_across: u32,
    pub offsets: Vec<u64>,
    pub byte_counts: Vec<u64>,
    pub codec: Codec,
}

/// The file as OpenSlide's TIFF formats would see it.
#[derive(Debug)]
pub struct Layout {
    pub vendor: &'static str,
    pub levels: Vec<TiledLevel>,
    /// µm per pixel across and down (Aperio's `MPP = …`, or a generic
    /// TIFF's resolution tags).
    pub mpp_x: Option<f64>,
    pub mpp_y: Option<f64>,
}

/// Hamamatsu NDPI's private tag: OpenSlide's `hamamatsu` format claims files with it.
const NDPI_FORMAT_FLAG: u16 = 65420;
const XMP: u16 = 700;
const COMPRESSION_NONE: u16 = 1;
const COMPRESSION_JPEG: u16 = 7;
const COMPRESSION_DEFLATE: u16 = 8;
const COMPRESSION_ADOBE_DEFLATE: u16 = 32946;
const PHOTOMETRIC_RGB: u16 = 2;
const PHOTOMETRIC_YCBCR: u16 = 6;
const FILETYPE_REDUCEDIMAGE: u32 = 1;

/// Why the directories of a file could not be read.
#[derive(Debug)]
pub enum IfdError {
    /// Not a TIFF this driver can parse (another driver may know it).
    NotNative(String),
    /// A TIFF whose directories run past the end of the file.
    Truncated(String),
}

/// Read every directory of the TIFF at `file`.
pub fn read_ifds(file: &File) -> Result<Vec<Ifd>, IfdError> {
    // `what` failed: truncated if it ran into the end of the file, else
    // `not_native: error`.
    let unreadable = |e: tiff::TiffError, what: &str, not_native: &str| match e {
        tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            IfdError::Truncated(format!(
                "{what} runs past the end of the file ({len} bytes): the file is truncated"
            ))
        }
        e => IfdError::NotNative(format!("{not_native}: {e}")),
    };
    let reader = BufReader::new(
        file.try_clone()
            .map_err(|e| IfdError::NotNative(e.to_string()))?,
    );
    // The decoder reads the header and the first directory.
    let mut decoder = Decoder::new(reader)
        .map_err(|e| {
            unreadable(
                e,
                "the TIFF header or first directory",
                "not a TIFF the native reader can parse",
            )
        })?
        .with_limits(Limits::unlimited());
    let mut next = decoder.ifd_pointer();
    let mut seen = Vec::new();
    let mut ifds = Vec::new();
    while let Some(ptr) = next {
        if seen.contains(&ptr.0) {
            return Err(IfdError::NotNative("TIFF directories form a cycle".into()));
        }
        seen.push(ptr.0);
        let (ifd, following) = read_ifd(&mut decoder, ptr).map_err(|e| {
            let what = format!("TIFF directory {}", ifds.len());
            unreadable(e, &what, &what)
        })?;
        ifds.push(ifd);
        next = following;
    }
    Ok(ifds)
}

fn read_ifd<R: std::io::Read + std::io::Seek>(
    decoder: &mut Decoder<R>,
    ptr: IfdPointer,
) -> tiff::TiffResult<(Ifd, Option<IfdPointer>)> {
    let dir = decoder.read_directory(ptr)?;
    let following = dir.next();
    let has_ndpi_tag = dir.contains(Tag::Unknown(NDPI_FORMAT_FLAG));
    let mut t = decoder.read_directory_tags(&dir);
    let uint = |v: Option<tiff::decoder::ifd::Value>| -> tiff::TiffResult<Option<u64>> {
        v.map(|v| v.into_u64()).transpose()
    };
    let text = |v: Option<tiff::decoder::ifd::Value>| v.and_then(|v| v.into_string().ok());
    let bytes = |v: Option<tiff::decoder::ifd::Value>| v.and_then(|v| v.into_u8_vec().ok());
    // libtiff hands a RATIONAL tag out as the float of num / den.
    let real = |v: Option<tiff::decoder::ifd::Value>| {
        use tiff::decoder::ifd::Value::{Double, Float, Rational};
        match v? {
            Rational(n, d) if d != 0 => Some((n as f64 / d as f64) as f32),
            Float(f) => Some(f),
            Double(f) => Some(f as f32),
            _ => None,
        }
    };
    let resolution = match (
        real(t.find_tag(Tag::XResolution)?),
        real(t.find_tag(Tag::YResolution)?),
    ) {
        (Some(x), Some(y)) => Some((
            x,
            y,
            uint(t.find_tag(Tag::ResolutionUnit)?)?.unwrap_or(2) as u16,
        )),
        _ => None,
    };
    let tile = match (
        uint(t.find_tag(Tag::TileWidth)?)?,
        uint(t.find_tag(Tag::TileLength)?)?,
    ) {
        (Some(w), Some(h)) => Some((w as u32, h as u32)),
        _ => None,
    };
    let ifd = Ifd {
        width: uint(t.find_tag(Tag::ImageWidth)?)?.unwrap_or(0) as u32,
        height: uint(t.find_tag(Tag::ImageLength)?)?.unwrap_or(0) as u32,
        tile,
        compression: uint(t.find_tag(Tag::Compression)?)?.unwrap_or(1) as u16,
        photometric: uint(t.find_tag(Tag::PhotometricInterpretation)?)?.unwrap_or(u16::MAX as u64)
            as u16,
        samples_per_pixel: uint(t.find_tag(Tag::SamplesPerPixel)?)?.unwrap_or(1) as u16,
        bits_per_sample: match t.find_tag(Tag::BitsPerSample)? {
            Some(v) => v.into_u16_vec()?,
            None => vec![1],
        },
        planar: uint(t.find_tag(Tag::PlanarConfiguration)?)?.unwrap_or(1) as u16,
        predictor: uint(t.find_tag(Tag::Predictor)?)?.unwrap_or(1) as u16,
        subfile_type: uint(t.find_tag(Tag::NewSubfileType)?)?.unwrap_or(0) as u32,
        description: text(t.find_tag(Tag::ImageDescription)?),
        software: text(t.find_tag(Tag::Software)?),
        xmp: bytes(t.find_tag(Tag::Unknown(XMP))?),
        resolution,
        has_ndpi_tag,
        jpeg_tables: bytes(t.find_tag(Tag::JPEGTables)?),
        offsets: match tile {
            Some(_) => t
                .find_tag(Tag::TileOffsets)?
                .map(|v| v.into_u64_vec())
                .transpose()?
                .unwrap_or_default(),
            None => Vec::new(),
        },
        byte_counts: match tile {
            Some(_) => t
                .find_tag(Tag::TileByteCounts)?
                .map(|v| v.into_u64_vec())
                .transpose()?
                .unwrap_or_default(),
            None => Vec::new(),
        },
    };
    Ok((ifd, following))
}

/// Decide the vendor and levels, or say why this is not a native file.
pub fn layout(ifds: &[Ifd]) -> Result<Layout, String> {
    let first = ifds.first().ok_or("TIFF has no directories")?;
    let description = first.description.as_deref().unwrap_or("");
    if first.has_ndpi_tag {
        return Err("Hamamatsu NDPI (OpenSlide's hamamatsu format)".into());
    }
    if first
        .software
        .as_deref()
        .is_some_and(|s| s.starts_with("MedScan"))
    {
        return Err("Trestle TIFF (OpenSlide's trestle format)".into());
    }
    if description.starts_with("Aperio") {
        return aperio(ifds, description);
    }
    if description.trim_start().starts_with('<') {
        return Err("XML image description (Leica, Philips or OME): left to OpenSlide".into());
    }
    if first.xmp.as_deref().is_some_and(|x| contains(x, b"iScan")) {
        return Err("Ventana BIF (OpenSlide's ventana format)".into());
    }
    generic_tiff(ifds)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Aperio: every tiled directory is a level, in file order; the strip
/// directories are the thumbnail, label and macro images.
fn aperio(ifds: &[Ifd], description: &str) -> Result<Layout, String> {
    let levels = ifds
        .iter()
        .enumerate()
        .filter(|(_, ifd)| ifd.tile.is_some())
        .map(|(i, ifd)| tiled_level(ifd).map_err(|e| format!("directory {i}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if levels.is_empty() {
        return Err("Aperio file without tiled directories".into());
    }
    let mpp = aperio_mpp(description);
    Ok(Layout {
        vendor: "aperio",
        levels,
        mpp_x: mpp,
        mpp_y: mpp,
    })
}

/// `MPP = 0.4990` among the `|`-separated `key = value` fields of an Aperio
/// description (the first field is a free-text header).
pub fn aperio_mpp(description: &str) -> Option<f64> {
    description.split('|').skip(1).find_map(|field| {
        let (key, value) = field.split_once('=')?;
        (key.trim() == "MPP").then(|| value.trim().parse::<f64>().ok())?
    })
}

/// Generic TIFF: directory 0 plus every later tiled directory marked
/// reduced-resolution, largest first.
fn generic_tiff(ifds: &[Ifd]) -> Result<Layout, String> {
    if ifds[0].tile.is_none() {
        return Err("TIFF is not tiled".into());
    }
    let mut levels = Vec::new();
    for (i, ifd) in ifds.iter().enumerate() {
        let is_level =
            ifd.tile.is_some() && (i == 0 || ifd.subfile_type & FILETYPE_REDUCEDIMAGE != 0);
        if is_level {
            levels.push(tiled_level(ifd).map_err(|e| format!("directory {i}: {e}"))?);
        }
    }
    levels.sort_by_key(|l| std::cmp::Reverse(l.width));
    let (mpp_x, mpp_y) = resolution_mpp(ifds[0].resolution);
    Ok(Layout {
        vendor: "generic-tiff",
        levels,
        mpp_x,
        mpp_y,
    })
}

/// µm per pixel from directory 0's resolution tags, as OpenSlide 4 sets a
/// generic TIFF's `openslide.mpp-x/y`: 10000 / resolution per centimetre,
/// 25400 / resolution per inch, nothing for unit "none" (or a resolution
/// that is not positive).
pub fn resolution_mpp(resolution: Option<(f32, f32, u16)>) -> (Option<f64>, Option<f64>) {
    let Some((x, y, unit)) = resolution else {
        return (None, None);
    };
    let per_unit = match unit {
        2 => 25400.0,
        3 => 10000.0,
        _ => return (None, None),
    };
    let mpp = |r: f32| (r > 0.0 && r.is_finite()).then(|| per_unit / r as f64);
    (mpp(x), mpp(y))
}

fn tiled_level(ifd: &Ifd) -> Result<TiledLevel, String> {
    let (tile_width, tile_height) = ifd.tile.ok_or("not tiled")?;
    if ifd.samples_per_pixel != 3 || ifd.bits_per_sample.iter().any(|&b| b != 8) || ifd.planar != 1
    {
        return Err(format!(
            "{} samples of {:?} bits, planar configuration {}: only 8-bit interleaved RGB is native",
            ifd.samples_per_pixel, ifd.bits_per_sample, ifd.planar
        ));
    }
    if ifd.width == 0 || ifd.height == 0 || tile_width == 0 || tile_height == 0 {
        return Err("zero image or tile size".into());
    }
    let codec = codec(ifd)?;
    let tiles_across = ifd.width.div_ceil(tile_width);
    let tiles_down = ifd.height.div_ceil(tile_height);
    let n = tiles_across as usize * tiles_down as usize;
    if ifd.offsets.len() < n || ifd.byte_counts.len() < n {
        return Err(format!(
            "{} tile offsets for {n} tiles",
            ifd.offsets.len().min(ifd.byte_counts.len())
        ));
    }
    Ok(TiledLevel {
        width: ifd.width,
        height: ifd.height,
        tile_width,
        tile_height,
        tiles_across,
        offsets: ifd.offsets.clone(),
        byte_counts: ifd.byte_counts.clone(),
        codec,
    })
}

fn codec(ifd: &Ifd) -> Result<Codec, String> {
    match (ifd.compression, ifd.photometric) {
        (COMPRESSION_JPEG, PHOTOMETRIC_RGB | PHOTOMETRIC_YCBCR) => Ok(Codec::Jpeg {
            tables: ifd.jpeg_tables.clone(),
            stored: if ifd.photometric == PHOTOMETRIC_RGB {
                Stored::Rgb
            } else {
                Stored::YCbCr
            },
        }),
        (COMPRESSION_DEFLATE | COMPRESSION_ADOBE_DEFLATE, PHOTOMETRIC_RGB)
            if ifd.predictor <= 2 =>
        {
            Ok(Codec::Deflate {
                horizontal_predictor: ifd.predictor == 2,
            })
        }
        (COMPRESSION_NONE, PHOTOMETRIC_RGB) => Ok(Codec::Uncompressed),
        (compression, photometric) => Err(format!(
            "compression {compression} with photometric interpretation {photometric} \
             (native: JPEG RGB/YCbCr, deflate or uncompressed RGB)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aperio_mpp_from_description() {
        let d = "Aperio Image Library v11.2.1 \r\n46000x32914 [42673,5576 2220x2967] (240x240) JPEG/RGB Q=30|AppMag = 20|MPP = 0.4990|Time = 09:59:15";
        assert_eq!(aperio_mpp(d), Some(0.499));
        assert_eq!(aperio_mpp("Aperio Image Library|AppMag = 20"), None);
    }

    #[test]
    fn generic_mpp_from_resolution_tags() {
        assert_eq!(
            resolution_mpp(Some((40000.0, 20000.0, 3))),
            (Some(0.25), Some(0.5))
        );
        assert_eq!(
            resolution_mpp(Some((72.0, 72.0, 2))),
            (Some(25400.0 / 72.0), Some(25400.0 / 72.0))
        );
        assert_eq!(resolution_mpp(Some((10.0, 10.0, 1))), (None, None));
        assert_eq!(resolution_mpp(Some((0.0, 1.0, 3))), (None, Some(10000.0)));
        assert_eq!(resolution_mpp(None), (None, None));
    }

    #[test]
    fn generic_levels_sorted_and_non_reduced_skipped() {
        let tiled = |w, subfile| Ifd {
            width: w,
            height: w,
            tile: Some((16, 16)),
            photometric: PHOTOMETRIC_RGB,
            samples_per_pixel: 3,
            bits_per_sample: vec![8, 8, 8],
            planar: 1,
            predictor: 1,
            subfile_type: subfile,
            offsets: vec![0; 64],
            byte_counts: vec![0; 64],
            compression: COMPRESSION_NONE,
            ..Ifd::default()
        };
        let ifds = [tiled(64, 0), tiled(16, 1), tiled(32, 1), tiled(50, 0)];
        let l = layout(&ifds).unwrap();
        assert_eq!(l.vendor, "generic-tiff");
        let widths: Vec<u32> = l.levels.iter().map(|l| l.width).collect();
        assert_eq!(widths, [64, 32, 16]);
    }

    #[test]
    fn lzw_and_jpeg2000_are_not_native() {
        let ifd = Ifd {
            tile: Some((16, 16)),
            width: 16,
            height: 16,
            samples_per_pixel: 3,
            bits_per_sample: vec![8, 8, 8],
            planar: 1,
            photometric: PHOTOMETRIC_RGB,
            offsets: vec![0],
            byte_counts: vec![0],
            ..Ifd::default()
        };
        for compression in [5, 33003, 33005] {
            let ifds = [Ifd {
                compression,
                ..ifd.clone()
            }];
            assert!(layout(&ifds).is_err(), "compression {compression}");
        }
    }
}
