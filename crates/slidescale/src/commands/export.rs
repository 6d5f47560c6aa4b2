//! `slidescale export`: every heatmap of a work directory in the forms
//! slide viewers open (docs/viewers.md).

use std::path::PathBuf;

use slidescale_core::{exit, WorkDir};
use slidescale_heatmap::export::{export_heatmap, Dtype, ExportOptions, Format};
use slidescale_heatmap::ColourRange;

use super::bad_input;
use super::eval_args::HeatmapArgs;
use super::stitch::parse_range;

/// Write every heatmap as pyramidal TIFF (probability map, colour overlay) and QuPath GeoJSON.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Reads WORK/heatmaps/NAME.npy with its sidecar NAME.json and writes, per \
slide, into DIR: NAME_likelihood_map.tif (the scores as a tiled pyramidal BigTIFF aligned to \
the slide: level 0 is the slide's level 0 downsampled by the heatmap's pixel size, with \
resolution tags; ASAP's likelihood-map convention; f32 with NaN where there is no tissue, or \
u8), NAME_overlay.tif (the PNG's colour map as RGBA, transparent where there is no tissue) \
and NAME_tiles.geojson (one QuPath tile per scored grid cell, level-0 coordinates, scores in \
`measurements`). Needs no store. A slide that fails is named and the others go on; the exit \
status is then 65.\n\n\
Examples:\n  \
slidescale export work/\n  \
slidescale export work/ --format geojson --out viewer/\n  \
slidescale export work/ --format tiff --dtype u8"
)]
pub struct Args {
    /// The work directory whose heatmaps are read (WORK/heatmaps/).
    pub work: PathBuf,
    /// Which files to write, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "tiff,overlay,geojson")]
    pub format: Vec<Format>,
    /// Where the files go [default: WORK/heatmaps] (created; must be new,
    /// empty or slidescale's).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Samples of NAME_likelihood_map.tif: f32 (the scores, NaN for no
    /// tissue) or u8 (0–255 over --range, 0 also for no tissue).
    #[arg(long, default_value = "f32", value_parser = parse_dtype)]
    pub dtype: Dtype,
    /// Scores mapped to the ends of the colour scale and of u8, LO:HI.
    #[arg(long, default_value = "0:1", value_name = "LO:HI", value_parser = parse_range)]
    pub range: ColourRange,
    /// Only these slides (repeat or comma-separate); default every heatmap
    /// in WORK/heatmaps/.
    #[arg(long = "slide", value_name = "NAME", value_delimiter = ',')]
    pub slides: Vec<String>,
    /// Use an --out that is not empty and not slidescale's.
    #[arg(long)]
    pub allow_nonempty_out: bool,
    /// Replace files already in --out under the names export writes
    /// (without it they are refused; WORK/heatmaps/ is always replaced).
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub heatmaps: HeatmapArgs,
}

fn parse_dtype(s: &str) -> Result<Dtype, String> {
    match s {
        "f32" => Ok(Dtype::F32),
        "u8" => Ok(Dtype::U8),
        _ => Err(format!("expected f32 or u8, not {s:?}")),
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let set = args.heatmaps.select(&args.work, &args.slides)?;
    let mut formats = args.format.clone();
    formats.sort();
    formats.dedup();
    // WORK/heatmaps/ is slidescale's and the names are its layout's: they
    // are replaced. In an --out, an existing file may be anyone's: it is
    // refused unless --replace says it may go.
    let (out, replace) = match &args.out {
        None => (WorkDir::new(&args.work).heatmaps_dir(), true),
        Some(out) => {
            WorkDir::new(out)
                .adopt(args.allow_nonempty_out)
                .map_err(bad_input)?;
            (out.clone(), args.replace)
        }
    };
    let options = ExportOptions {
        formats,
        dtype: args.dtype,
        range: args.range,
        replace,
    };
    let bar = super::eval_output::slide_bar_doing("exporting", set.heatmaps.len());
    let mut failed = 0;
    for (i, (name, npy)) in set.heatmaps.iter().enumerate() {
        bar.set_position(i as u64);
        bar.set_message(name.clone());
        match export_heatmap(npy, set.stride, &out, &options) {
            Ok(e) => bar.suspend(|| {
                println!(
                    "{name}: {}×{} px at 1/{} of level 0, {} levels{} → {}",
                    e.size.0,
                    e.size.1,
                    e.downsample,
                    e.levels,
                    e.tiles.map(|n| format!(", {n} tiles")).unwrap_or_default(),
                    e.files
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("{name}: {}", super::explain(e.to_string(), &e)));
            }
        }
    }
    bar.finish_and_clear();
    println!(
        "{} of {} slides → {}",
        set.heatmaps.len() - failed,
        set.heatmaps.len(),
        out.display()
    );
    Ok(if failed == 0 {
        exit::OK
    } else {
        exit::BAD_INPUT
    })
}
