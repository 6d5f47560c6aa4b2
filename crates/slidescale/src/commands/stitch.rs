//! `slidescale stitch`: a slide's group results into one heatmap.

use std::path::PathBuf;

use slidescale_core::{exit, Stride};
use slidescale_heatmap::ColourRange;
use slidescale_pipeline::process::locate_store;
use slidescale_pipeline::spec::RunSpec;
use slidescale_pipeline::stitch::{stitch_slide, StitchError};

use super::bad_input;

/// Stitch a slide's group results into WORK/heatmaps/NAME.npy, its sidecar NAME.json and NAME.png.
#[derive(clap::Args)]
#[command(
    after_help = "The .npy is float32 [grid_rows·T/S, grid_cols·T/S] (T the tile side), NaN \
for background cells; NAME.json beside it describes it (stride, shape, the slide's \
level-0 size and MPP, the model and settings from WORK/run.json, the .npy's CRC-32); the PNG is the heatmap (viridis) over the slide's thumbnail. \
Refuses, naming the groups, when any group result is missing or invalid (exit 65)."
)]
pub struct Args {
    /// The slide's store, WORK/NAME.h5.
    pub store: PathBuf,
    /// Stride of the results [default: the one in WORK/run.json].
    #[arg(long, value_name = "S")]
    pub stride: Option<Stride>,
    /// Scores mapped to the ends of the colour scale, LO:HI.
    #[arg(long, default_value = "0:1", value_name = "LO:HI", value_parser = parse_range)]
    pub range: ColourRange,
}

/// `LO:HI` as a colour range (also `export --range`).
pub fn parse_range(s: &str) -> Result<ColourRange, String> {
    let (lo, hi) = s.split_once(':').ok_or("expected LO:HI, e.g. 0:1")?;
    let lo: f32 = lo
        .trim()
        .parse()
        .map_err(|_| format!("bad number {lo:?}"))?;
    let hi: f32 = hi
        .trim()
        .parse()
        .map_err(|_| format!("bad number {hi:?}"))?;
    if hi <= lo {
        return Err("HI must be larger than LO".into());
    }
    Ok(ColourRange { lo, hi })
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let (work, _) = locate_store(&args.store).map_err(bad_input)?;
    let stride = match args.stride {
        Some(s) => s,
        None => {
            let spec = RunSpec::load(&work).map_err(bad_input)?;
            let s = spec.ok_or_else(|| {
                bad_input(format!(
                    "{} has no run.json; give --stride",
                    work.root().display()
                ))
            })?;
            s.stride()
        }
    };
    stitch_and_report(&args.store, stride, args.range)
}

/// Stitch `store`'s results at `stride` and print what was written; the
/// exit status. Also a cluster run's stitch tasks.
pub fn stitch_and_report(
    store: &std::path::Path,
    stride: Stride,
    range: ColourRange,
) -> anyhow::Result<i32> {
    match stitch_slide(store, stride, Some(range)) {
        Ok(s) => {
            println!(
                "{}: {}×{} heatmap of {} tiles (scores {:.4}…{:.4}, mean {:.4}) → {}, {} and {}",
                s.name,
                s.heatmap.width,
                s.heatmap.height,
                s.heatmap.tiles,
                s.heatmap.min,
                s.heatmap.max,
                s.heatmap.mean,
                s.heatmap.path.display(),
                s.meta.display(),
                s.png.display()
            );
            Ok(exit::OK)
        }
        Err(e @ (StitchError::Incomplete { .. } | StitchError::Store(_))) => Err(bad_input(e)),
        Err(e) => Err(e.into()),
    }
}
