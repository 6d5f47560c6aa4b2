//! `slidescale --version`: the program's version and the OpenSlide library
//! this process would read slides with (its version, file and where it was
//! found), so a user can tell which formats (DICOM needs OpenSlide 4) work.

/// The text printed, one fact per line.
pub fn render() -> String {
    let openslide = match slidescale_slide::openslide::library() {
        Ok(lib) => format!(
            "OpenSlide {} ({}: {})",
            lib.version(),
            lib.source(),
            lib.path().display()
        ),
        Err(e) => format!("OpenSlide: none usable: {e}"),
    };
    format!("slidescale {}\n{openslide}\n", env!("CARGO_PKG_VERSION"))
}
