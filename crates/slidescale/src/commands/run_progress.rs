//! The reporter of a local run: split bars, then one bar of groups with
//! windows/s and ETA, on stderr when it is a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use slidescale_core::timing::TaskTiming;
use slidescale_pipeline::local::RunObserver;
use slidescale_pipeline::split::{SlideReport, SplitObserver};
use slidescale_pipeline::stitch::{StitchError, Stitched};

use super::split::Progress as SplitProgress;

pub struct RunProgress {
    split: SplitProgress,
    groups: Mutex<Option<ProgressBar>>,
    windows: Mutex<(u64, std::time::Instant)>,
    visible: bool,
}

impl RunProgress {
    pub fn new() -> RunProgress {
        RunProgress {
            split: SplitProgress::new(),
            groups: Mutex::new(None),
            windows: Mutex::new((0, std::time::Instant::now())),
            visible: std::io::stderr().is_terminal(),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.groups.lock().unwrap().take() {
            bar.finish_and_clear();
        }
    }

    fn println(&self, line: String) {
        match self.groups.lock().unwrap().as_ref() {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl SplitObserver for RunProgress {
    fn slide_started(&self, name: &str, tiles: u64) {
        self.split.slide_started(name, tiles)
    }
    fn tiles_written(&self, name: &str, n: u64) {
        self.split.tiles_written(name, n)
    }
    fn slide_finished(&self, report: &SlideReport) {
        self.split.slide_finished(report)
    }
}

impl RunObserver for RunProgress {
    fn scoring_started(&self, todo: u64, windows: u64, done_before: u64) {
        let target = if self.visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(todo), target);
        bar.set_style(
            ProgressStyle::with_template(
                "scoring [{bar:30}] {pos}/{len} groups  {msg}  elapsed {elapsed}  ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        if done_before > 0 {
            bar.println(format!("{done_before} groups already done"));
        }
        bar.set_message(format!("{windows} windows to score"));
        *self.windows.lock().unwrap() = (0, std::time::Instant::now());
        *self.groups.lock().unwrap() = Some(bar);
    }

    fn group_finished(&self, timing: &TaskTiming) {
        let mut w = self.windows.lock().unwrap();
        w.0 += timing.windows;
        let rate = w.0 as f64 / w.1.elapsed().as_secs_f64().max(1e-9);
        if timing.status == "failed" {
            self.println(format!(
                "error: {} group {}: {}",
                timing.slide,
                timing.group.unwrap_or(0),
                timing.error.as_deref().unwrap_or("")
            ));
        }
        if let Some(bar) = self.groups.lock().unwrap().as_ref() {
            bar.set_message(format!("{rate:.1} windows/s"));
            bar.inc(1);
        }
    }

    fn slide_stitched(&self, result: &Result<Stitched, StitchError>, name: &str) {
        match result {
            Ok(s) => self.println(format!("stitched {name} → {}", s.png.display())),
            Err(e) => self.println(format!("error: stitch {name}: {e}")),
        }
    }
}
