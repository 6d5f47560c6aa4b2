//! The analysis resolution of one slide: which pyramid level its analysis
//! pixels come from and whether they are resampled ([`resolve`]), and the one
//! way they are read ([`read_analysis_region`]). DESIGN §3: read the level
//! closest to the target and not coarser; read it as it is when its µm/px is
//! within 2 % of the target, else area-resample it.

use slidescale_core::geometry::LEVEL_TOLERANCE;
use slidescale_core::{Analysis, Resolution, RgbImage};

use crate::reduce::read_reduced_region;
use crate::{Slide, SlideError, SlideProperties};

/// Where `request`'s analysis pixels come from on a slide with `props`; the
/// error says why the request cannot be met on this slide.
pub fn resolve(props: &SlideProperties, request: Resolution) -> Result<Analysis, String> {
    let (level, resample, mpp) = match request {
        Resolution::Level(n) => {
            let level = props.levels.get(n as usize).ok_or_else(|| {
                format!(
                    "level {n} requested; the slide has {} level(s)",
                    props.levels.len()
                )
            })?;
            (n as usize, 1.0, props.mpp_x.map(|m| m * level.downsample))
        }
        Resolution::Mpp(target) => {
            let mpp0 = props.mpp_x.ok_or_else(|| {
                format!(
                    "{target} µm/px requested, but the slide does not record its µm/px; \
                     give --level instead"
                )
            })?;
            let want = target / mpp0; // level-0 pixels per analysis pixel
            if want < 1.0 - LEVEL_TOLERANCE {
                return Err(format!(
                    "{target} µm/px requested, finer than the slide's level 0 ({mpp0} µm/px); \
                     slidescale does not upsample"
                ));
            }
            match closest_within(props, want) {
                Some(level) => (level, 1.0, Some(mpp0 * props.levels[level].downsample)),
                None => {
                    let level = props.best_level_for_downsample(want);
                    let resample = snap(want / props.levels[level].downsample);
                    (level, resample, Some(target))
                }
            }
        }
    };
    let level_downsample = props.levels[level].downsample;
    let downsample = level_downsample * resample;
    // (1 − 1e-6): a factor a hair under a whole ratio must not add a column
    let size = |n: u64| (n as f64 / downsample * (1.0 - 1e-6)).ceil().max(1.0) as u64;
    let (width, height) = if resample == 1.0 {
        (props.levels[level].width, props.levels[level].height)
    } else {
        (size(props.width()), size(props.height()))
    };
    Ok(Analysis {
        level: level as u32,
        level_downsample,
        resample,
        mpp,
        width,
        height,
    })
}

/// A resampling factor within 0.01 % of a whole number is that number:
/// µm/px come from files rounded (TIFF resolution rationals, 4–6 digit
/// text), and 0.499 / 0.2495 read back as 1.99999999 would blur the exact
/// 2×2 average into fractional weights.
fn snap(f: f64) -> f64 {
    let whole = f.round();
    if whole >= 1.0 && (f - whole).abs() <= 1e-4 * whole {
        whole
    } else {
        f
    }
}

/// The level whose downsample is within the tolerance of `want`, closest first.
fn closest_within(props: &SlideProperties, want: f64) -> Option<usize> {
    props
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| (i, (l.downsample / want - 1.0).abs()))
        .filter(|&(_, off)| off <= LEVEL_TOLERANCE)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// A `w`×`h` region of analysis pixels whose top-left is analysis pixel
/// (`x`, `y`) (may be negative; outside the slide is white). Level 0 as
/// stored is one plain `read_region`, the paper's path.
pub fn read_analysis_region(
    slide: &dyn Slide,
    analysis: &Analysis,
    (x, y): (i64, i64),
    (w, h): (u32, u32),
) -> Result<RgbImage, SlideError> {
    let level = analysis.level as usize;
    let ds = analysis.level_downsample;
    if analysis.resample == 1.0 {
        let to_level0 = |v: i64| {
            if ds == 1.0 {
                v
            } else {
                (v as f64 * ds).round() as i64
            }
        };
        return slide.read_region(to_level0(x), to_level0(y), level, w, h);
    }
    read_reduced_region(slide, (level, ds), analysis.downsample(), (x, y), (w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;

    fn props(levels: &[(u64, f64)], mpp: Option<f64>) -> SlideProperties {
        SlideProperties {
            levels: levels
                .iter()
                .map(|&(w, d)| Level {
                    width: w,
                    height: w,
                    downsample: d,
                })
                .collect(),
            mpp_x: mpp,
            mpp_y: mpp,
            vendor: "test".into(),
        }
    }

    #[test]
    fn level_zero_is_the_stored_image() {
        let p = props(&[(1000, 1.0)], Some(0.25));
        let a = resolve(&p, Resolution::default()).unwrap();
        assert_eq!(a, Analysis::level0(1000, 1000, Some(0.25)));
        assert!(a.is_level0());
    }

    #[test]
    fn a_level_within_two_percent_is_read_as_it_is() {
        let p = props(&[(4000, 1.0), (1000, 4.0003), (250, 16.001)], Some(0.243));
        let a = resolve(&p, Resolution::Mpp(0.97)).unwrap(); // want 3.99
        assert_eq!((a.level, a.resample, a.width), (1, 1.0, 1000));
        assert!((a.mpp.unwrap() - 0.243 * 4.0003).abs() < 1e-12);
    }

    #[test]
    fn otherwise_the_closest_finer_level_is_resampled() {
        let p = props(&[(4000, 1.0), (1000, 4.0)], Some(0.25));
        let a = resolve(&p, Resolution::Mpp(0.5)).unwrap(); // want 2
        assert_eq!((a.level, a.resample, a.width), (0, 2.0, 2000));
        let b = resolve(&p, Resolution::Mpp(2.0)).unwrap(); // want 8: level 1, ×2
        assert_eq!(
            (b.level, b.resample, b.downsample(), b.width),
            (1, 2.0, 8.0, 500)
        );
    }

    #[test]
    fn rounded_mpp_gives_whole_factors_and_no_extra_column() {
        let p = props(&[(2220, 1.0)], Some(0.2495000003));
        let a = resolve(&p, Resolution::Mpp(0.499)).unwrap();
        assert_eq!((a.resample, a.width), (2.0, 1110));
        let q = props(&[(2220, 1.0)], Some(0.49900000205));
        let b = resolve(&q, Resolution::Mpp(0.7485)).unwrap();
        assert!((b.resample - 1.5).abs() < 1e-8 && b.resample != 1.5);
        assert_eq!(b.width, 1480);
    }

    #[test]
    fn requests_a_slide_cannot_meet_say_why() {
        let p = props(&[(4000, 1.0)], None);
        assert!(resolve(&p, Resolution::Mpp(0.5))
            .unwrap_err()
            .contains("--level"));
        assert!(resolve(&p, Resolution::Level(2))
            .unwrap_err()
            .contains("1 level"));
        let q = props(&[(4000, 1.0)], Some(0.5));
        assert!(resolve(&q, Resolution::Mpp(0.25))
            .unwrap_err()
            .contains("upsample"));
    }
}
