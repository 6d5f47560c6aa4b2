//! The handful of OpenSlide C functions the driver calls, declared by hand
//! from `openslide.h` (no bindgen: it would need libclang, and the API surface
//! is tiny and stable from 3.4.0 to 4.x), as a table of function pointers
//! resolved from the library loaded at run time ([`super::library`]).

use std::os::raw::{c_char, c_double};

/// Opaque `openslide_t`.
#[repr(C)]
pub struct OpenSlideT {
    _private: [u8; 0],
}

/// Declares [`Api`] (one field per function) and [`Api::resolve`], which looks
/// every field up by its own name, so a name is written once.
macro_rules! api {
    ($( $name:ident : fn($($arg:ty),*) $(-> $ret:ty)?; )*) => {
        /// The OpenSlide functions, resolved from one loaded library.
        #[derive(Clone, Copy)]
        pub struct Api {
            $( pub $name: unsafe extern "C" fn($($arg),*) $(-> $ret)?, )*
        }

        impl Api {
            /// Resolve every function from `lib`; the error names the
            /// first missing symbol.
            ///
            /// # Safety
            /// `lib` is an OpenSlide library, so each symbol has the
            /// signature `openslide.h` gives it.
            pub unsafe fn resolve(lib: &libloading::Library) -> Result<Api, String> {
                Ok(Api {
                    $( $name: *lib
                        .get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(
                            concat!(stringify!($name), "\0").as_bytes(),
                        )
                        .map_err(|e| format!("lacks symbol {}: {e}", stringify!($name)))?, )*
                })
            }
        }
    };
}

api! {
    openslide_open: fn(*const c_char) -> *mut OpenSlideT;
    openslide_close: fn(*mut OpenSlideT);
    openslide_get_error: fn(*mut OpenSlideT) -> *const c_char;
    openslide_get_level_count: fn(*mut OpenSlideT) -> i32;
    openslide_get_level_dimensions: fn(*mut OpenSlideT, i32, *mut i64, *mut i64);
    openslide_get_level_downsample: fn(*mut OpenSlideT, i32) -> c_double;
    openslide_get_property_value: fn(*mut OpenSlideT, *const c_char) -> *const c_char;
    openslide_get_associated_image_names: fn(*mut OpenSlideT) -> *const *const c_char;
    openslide_read_region: fn(*mut OpenSlideT, *mut u32, i64, i64, i32, i64, i64);
    openslide_get_version: fn() -> *const c_char;
}
