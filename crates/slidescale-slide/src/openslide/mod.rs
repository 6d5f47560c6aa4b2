//! The OpenSlide driver: every format the OpenSlide library in use reads
//! (3.4: SVS, TIFF, NDPI, MRXS, …; 4 adds DICOM), through a small hand-written
//! FFI ([`ffi`]) to the library [`library`] loads at run time. Pixels are
//! converted exactly like openslide-python + the Python baseline (see
//! [`crate::composite`]).

mod ffi;
mod library;

pub use library::{
    candidates, explicit_library, find, how_to_install, library, load, use_library, Candidate,
    LibrarySource, OpenSlideLibrary, ENV_VAR, INSTALL_NAME, SYSTEM_NAME, WHEEL_VERSION,
};

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use slidescale_core::RgbImage;

use crate::composite::argb_buffer_to_rgb;
use crate::{Level, Slide, SlideError, SlideProperties};
use library::c_str as c_string;

/// A slide open through OpenSlide.
pub struct OpenSlide {
    handle: Handle,
    path: PathBuf,
    properties: SlideProperties,
    associated: Vec<String>,
}

/// Owns the `openslide_t`, with the library it came from. OpenSlide
/// documents its handles as thread-safe (reads from many threads at once are
/// supported and serialised internally where needed), so sharing the pointer
/// is sound.
struct Handle(*mut ffi::OpenSlideT, &'static ffi::Api);

unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the pointer came from openslide_open and is closed once.
        unsafe { (self.1.openslide_close)(self.0) }
    }
}

impl Handle {
    /// OpenSlide's sticky error, if the handle is in the error state.
    fn error(&self) -> Option<String> {
        // SAFETY: valid handle; the string is owned by OpenSlide and copied.
        unsafe { c_string((self.1.openslide_get_error)(self.0)) }
    }

    fn property(&self, name: &str) -> Option<String> {
        let name = CString::new(name).ok()?;
        // SAFETY: valid handle and NUL-terminated name.
        unsafe { c_string((self.1.openslide_get_property_value)(self.0, name.as_ptr())) }
    }
}

/// The version of the OpenSlide library in use, e.g. "3.4.1" or "4.0.1";
/// empty when none can be loaded (then [`library`] says why).
pub fn library_version() -> String {
    library().map_or_else(|_| String::new(), |l| l.version().to_string())
}

impl OpenSlide {
    /// Open `path`. Errors name the file and carry OpenSlide's own message.
    pub fn open(path: &Path) -> Result<OpenSlide, SlideError> {
        let fail = |reason: String| SlideError::Open {
            path: path.to_path_buf(),
            reason,
        };
        if let Err(e) = std::fs::metadata(path) {
            return Err(fail(e.to_string()));
        }
        let api = &library()?.api;
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| fail("path contains a NUL byte".into()))?;
        // SAFETY: NUL-terminated path; the result is NULL or an owned handle.
        let raw = unsafe { (api.openslide_open)(c_path.as_ptr()) };
        if raw.is_null() {
            return Err(fail(
                "not a slide format OpenSlide recognises (unsupported or corrupt file)".into(),
            ));
        }
        let handle = Handle(raw, api);
        if let Some(reason) = handle.error() {
            return Err(fail(reason));
        }
        let properties = read_properties(&handle).map_err(fail)?;
        let associated = associated_names(&handle);
        Ok(OpenSlide {
            handle,
            path: path.to_path_buf(),
            properties,
            associated,
        })
    }

    /// The file this slide was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A raw OpenSlide property ("aperio.AppMag", "tiff.ImageDescription", …).
    pub fn property(&self, name: &str) -> Option<String> {
        self.handle.property(name)
    }

    /// Names of the associated images ("label", "macro", "thumbnail", …).
    pub fn associated_image_names(&self) -> &[String] {
        &self.associated
    }
}

fn read_properties(handle: &Handle) -> Result<SlideProperties, String> {
    let (h, api) = (handle.0, handle.1);
    // SAFETY: valid handle; out-pointers are local.
    let count = unsafe { (api.openslide_get_level_count)(h) };
    if count < 1 {
        return Err(handle
            .error()
            .unwrap_or_else(|| "OpenSlide reports no pyramid levels".into()));
    }
    let mut levels = Vec::with_capacity(count as usize);
    for level in 0..count {
        let (mut w, mut h64) = (-1i64, -1i64);
        // SAFETY: as above.
        let downsample = unsafe {
            (api.openslide_get_level_dimensions)(h, level, &mut w, &mut h64);
            (api.openslide_get_level_downsample)(h, level)
        };
        if w < 0 || h64 < 0 || downsample <= 0.0 {
            return Err(handle
                .error()
                .unwrap_or_else(|| format!("level {level} has no dimensions")));
        }
        levels.push(Level {
            width: w as u64,
            height: h64 as u64,
            downsample,
        });
    }
    let number = |name: &str| {
        handle
            .property(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    Ok(SlideProperties {
        levels,
        mpp_x: number("openslide.mpp-x"),
        mpp_y: number("openslide.mpp-y"),
        vendor: handle
            .property("openslide.vendor")
            .unwrap_or_else(|| "unknown".into()),
    })
}

fn associated_names(handle: &Handle) -> Vec<String> {
    let mut names = Vec::new();
    // SAFETY: a NULL-terminated array of strings owned by the handle.
    unsafe {
        let mut p = (handle.1.openslide_get_associated_image_names)(handle.0);
        while !p.is_null() && !(*p).is_null() {
            names.extend(c_string(*p));
            p = p.add(1);
        }
    }
    names
}

impl Slide for OpenSlide {
    fn properties(&self) -> &SlideProperties {
        &self.properties
    }

    fn driver(&self) -> &'static str {
        "openslide"
    }

    fn read_region(
        &self,
        x: i64,
        y: i64,
        level: usize,
        width: u32,
        height: u32,
    ) -> Result<RgbImage, SlideError> {
        let fail = |reason: String| SlideError::Read {
            path: self.path.clone(),
            x,
            y,
            level,
            reason,
        };
        if level >= self.properties.levels.len() {
            return Err(fail(format!(
                "no such level (the slide has {})",
                self.properties.levels.len()
            )));
        }
        let n = width as usize * height as usize;
        let mut argb = vec![0u32; n];
        if n > 0 {
            // SAFETY: `argb` holds width*height pixels, as OpenSlide writes.
            unsafe {
                (self.handle.1.openslide_read_region)(
                    self.handle.0,
                    argb.as_mut_ptr(),
                    x,
                    y,
                    level as i32,
                    width as i64,
                    height as i64,
                )
            };
        }
        // OpenSlide's errors are sticky: check after every read.
        if let Some(reason) = self.handle.error() {
            return Err(fail(reason));
        }
        let mut rgb = vec![0u8; n * 3];
        argb_buffer_to_rgb(&argb, &mut rgb);
        Ok(RgbImage::from_raw(width, height, rgb))
    }
}
