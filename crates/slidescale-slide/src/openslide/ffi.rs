//! The handful of OpenSlide 3.4 C functions the driver calls, declared by hand
//! from `openslide.h` (no bindgen: it would need libclang, and the API surface
//! is tiny and stable since 3.4.0).

use std::os::raw::{c_char, c_double};

/// Opaque `openslide_t`.
#[repr(C)]
pub struct OpenSlideT {
    _private: [u8; 0],
}

#[link(name = "openslide")]
extern "C" {
    pub fn openslide_open(filename: *const c_char) -> *mut OpenSlideT;
    pub fn openslide_close(osr: *mut OpenSlideT);
    pub fn openslide_get_error(osr: *mut OpenSlideT) -> *const c_char;
    pub fn openslide_get_level_count(osr: *mut OpenSlideT) -> i32;
    pub fn openslide_get_level_dimensions(
        osr: *mut OpenSlideT,
        level: i32,
        w: *mut i64,
        h: *mut i64,
    );
    pub fn openslide_get_level_downsample(osr: *mut OpenSlideT, level: i32) -> c_double;
    pub fn openslide_get_property_value(osr: *mut OpenSlideT, name: *const c_char)
        -> *const c_char;
    pub fn openslide_get_associated_image_names(osr: *mut OpenSlideT) -> *const *const c_char;
    pub fn openslide_read_region(
        osr: *mut OpenSlideT,
        dest: *mut u32,
        x: i64,
        y: i64,
        level: i32,
        w: i64,
        h: i64,
    );
    pub fn openslide_get_version() -> *const c_char;
}
