//! `slidescale detect`: lesion detections from every heatmap of a work
//! directory, written as the challenge's CSV, GeoJSON and ASAP XML.

use std::path::{Path, PathBuf};

use slidescale_core::{exit, WorkDir};
use slidescale_eval::detect::csv::write_csv;
use slidescale_eval::detect::files::{write_asap_xml, write_geojson, LesionFileOptions};
use slidescale_eval::detect::{clamp_to_slide, detect, DetectRule, Detection, Lesion};
use slidescale_eval::evaluate::DetectionSpec;
use slidescale_eval::heatmap::{level0_stride, HeatmapMeta};
use slidescale_eval::raster::Raster;

use super::bad_input;
use super::eval_args::{DetectArgs, HeatmapArgs};

/// Find lesions in every heatmap and write them per slide.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Reads WORK/heatmaps/NAME.npy with its sidecar NAME.json (stride, \
slide size), finds lesions with the chosen rule (--detect) and writes DIR/NAME.csv (the \
CAMELYON16 submission format: prob,X,Y in level-0 pixels, whatever the stride), \
DIR/NAME.geojson (point features QuPath imports, with classification and measurements) and \
DIR/NAME.xml (ASAP). A slide that fails is reported and the others go on; the exit status \
is then 65.\n\n\
Examples:\n  \
slidescale detect work/ --out work/lesions/\n  \
slidescale detect work/ --out lesions/ --detect local-max --threshold 0.5 --format csv"
)]
pub struct Args {
    /// The work directory whose heatmaps are read (WORK/heatmaps/).
    pub work: PathBuf,
    /// Where the detection files go (created; must be new, empty or slidescale's).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Which files to write, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "csv,geojson,xml"
    )]
    pub format: Vec<DetectionFormat>,
    /// Only these slides (repeat or comma-separate); default every heatmap
    /// in WORK/heatmaps/.
    #[arg(long = "slide", value_name = "NAME", value_delimiter = ',')]
    pub slides: Vec<String>,
    /// Use an --out that is not empty and not slidescale's.
    #[arg(long)]
    pub allow_nonempty_out: bool,
    /// Regions: also write each region's outline (polygons in the GeoJSON
    /// and XML, beside the points).
    #[arg(long)]
    pub outlines: bool,
    #[command(flatten)]
    pub heatmaps: HeatmapArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
}

/// A detection file format.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectionFormat {
    /// `prob,X,Y` per line, as CAMELYON16 submissions.
    Csv,
    /// A GeoJSON FeatureCollection of points (QuPath).
    Geojson,
    /// ASAP annotations XML.
    Xml,
}

impl DetectionFormat {
    /// The file the format writes for `slide` in `dir`.
    pub fn path(self, dir: &Path, slide: &str) -> PathBuf {
        let ext = match self {
            DetectionFormat::Csv => "csv",
            DetectionFormat::Geojson => "geojson",
            DetectionFormat::Xml => "xml",
        };
        dir.join(format!("{slide}.{ext}"))
    }
}

/// Everything `detect` was asked to do, checked.
#[derive(Debug)]
pub struct DetectOptions {
    pub work: PathBuf,
    pub out: PathBuf,
    pub formats: Vec<DetectionFormat>,
    pub allow_nonempty_out: bool,
    pub detection: DetectionSpec,
    /// Also write each region's outline (GeoJSON and XML polygons).
    pub outlines: bool,
}

impl Args {
    /// The one place `detect`'s flags become typed options.
    pub fn options(&self) -> anyhow::Result<DetectOptions> {
        let mut formats = self.format.clone();
        formats.dedup();
        if formats.is_empty() {
            return Err(bad_input(
                "--format: name at least one of csv, geojson, xml",
            ));
        }
        Ok(DetectOptions {
            work: self.work.clone(),
            out: self.out.clone(),
            formats,
            allow_nonempty_out: self.allow_nonempty_out,
            detection: self.detect.spec()?,
            outlines: self.outlines,
        })
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let options = args.options()?;
    let set = args.heatmaps.select(&options.work, &args.slides)?;
    WorkDir::new(&options.out)
        .adopt(options.allow_nonempty_out)
        .map_err(bad_input)?;
    let mut failed = 0;
    for (name, npy) in &set.heatmaps {
        let outcome = set
            .load(npy)
            .and_then(|(meta, heatmap)| detect_and_write(&options, name, &meta, &heatmap));
        match outcome {
            Ok(n) => println!("{name}: {n} detections"),
            Err(e) => {
                failed += 1;
                eprintln!("{name}: {}", super::one_line(&e));
            }
        }
    }
    println!(
        "{} of {} slides → {}",
        set.heatmaps.len() - failed,
        set.heatmaps.len(),
        options.out.display()
    );
    Ok(if failed == 0 {
        exit::OK
    } else {
        exit::BAD_INPUT
    })
}

/// Detect lesions in one heatmap and write its files; how many were found.
fn detect_and_write(
    options: &DetectOptions,
    name: &str,
    meta: &HeatmapMeta,
    heatmap: &Raster<f32>,
) -> anyhow::Result<usize> {
    let lesions = detect_lesions(meta, heatmap, &options.detection, options.outlines)?;
    for format in &options.formats {
        write_lesions(*format, &format.path(&options.out, name), meta, &lesions)?;
    }
    Ok(lesions.len())
}

/// Lesions of one heatmap in level-0 pixels (the sidecar gives the stride).
fn detect_lesions(
    meta: &HeatmapMeta,
    heatmap: &Raster<f32>,
    spec: &DetectionSpec,
    outlines: bool,
) -> anyhow::Result<Vec<Lesion>> {
    let stride = level0_stride(meta)
        .map_err(anyhow::Error::msg)
        .map_err(bad_input)?;
    let mut rule = spec.rule_at(stride);
    if let DetectRule::Regions(r) = &mut rule {
        r.outlines = outlines;
    }
    let mut lesions = detect(heatmap, stride, &rule).map_err(bad_input)?;
    clamp_to_slide(&mut lesions, meta.level0_width, meta.level0_height);
    Ok(lesions)
}

/// Write one slide's lesions in `format`, atomically.
fn write_lesions(
    format: DetectionFormat,
    path: &Path,
    meta: &HeatmapMeta,
    lesions: &[Lesion],
) -> anyhow::Result<()> {
    let stride = level0_stride(meta).map_err(anyhow::Error::msg)?;
    let files = LesionFileOptions::new(stride, meta.mpp_x);
    match format {
        DetectionFormat::Csv => {
            let points: Vec<Detection> = lesions.iter().map(|l| l.detection).collect();
            write_csv(path, &points)?
        }
        DetectionFormat::Geojson => write_geojson(path, lesions, &files)?,
        DetectionFormat::Xml => write_asap_xml(path, lesions, &files)?,
    }
    Ok(())
}
