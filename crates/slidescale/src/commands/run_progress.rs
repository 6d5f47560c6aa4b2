//! The reporter of a local run: split bars, then one scoring bar that counts
//! windows (it moves after every batch the model runs, not per group) with
//! groups done, windows/s and ETA, on stderr when it is a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{HumanDuration, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use slidescale_core::timing::TaskTiming;
use slidescale_pipeline::local::RunObserver;
use slidescale_pipeline::split::{SlideReport, SplitObserver};
use slidescale_pipeline::stitch::{StitchError, Stitched};

use super::split::Progress as SplitProgress;

pub struct RunProgress {
    split: SplitProgress,
    /// The scoring bar: its position is windows scored.
    bar: Mutex<Option<ProgressBar>>,
    counts: Mutex<GroupCounts>,
    visible: bool,
}

/// Groups finished of those to score, for the bar's message.
#[derive(Default)]
struct GroupCounts {
    done: u64,
    todo: u64,
}

impl RunProgress {
    pub fn new() -> RunProgress {
        RunProgress {
            split: SplitProgress::new(),
            bar: Mutex::new(None),
            counts: Mutex::new(GroupCounts::default()),
            visible: std::io::stderr().is_terminal(),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap().take() {
            bar.finish_and_clear();
        }
    }

    fn println(&self, line: String) {
        match self.bar.lock().unwrap().as_ref() {
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
        let bar = ProgressBar::with_draw_target(Some(windows), target);
        bar.set_style(scoring_style());
        if done_before > 0 {
            bar.println(format!("{done_before} groups already done"));
        }
        *self.counts.lock().unwrap() = GroupCounts { done: 0, todo };
        bar.set_message(format!("0/{todo} groups"));
        // Redraw (elapsed, rate) every second even while a batch runs.
        bar.enable_steady_tick(Duration::from_secs(1));
        *self.bar.lock().unwrap() = Some(bar);
    }

    fn windows_scored(&self, n: u64) {
        if let Some(bar) = self.bar.lock().unwrap().as_ref() {
            bar.inc(n);
        }
    }

    fn group_finished(&self, timing: &TaskTiming) {
        if timing.status == "failed" {
            self.println(format!(
                "error: {} group {}: {}",
                timing.slide,
                timing.group.unwrap_or(0),
                timing.error.as_deref().unwrap_or("")
            ));
        }
        let mut counts = self.counts.lock().unwrap();
        counts.done += 1;
        if let Some(bar) = self.bar.lock().unwrap().as_ref() {
            bar.set_message(format!("{}/{} groups", counts.done, counts.todo));
        }
    }

    fn slide_stitched(&self, result: &Result<Stitched, StitchError>, name: &str) {
        match result {
            Ok(s) => self.println(format!("stitched {name} → {}", s.png.display())),
            Err(e) => self.println(format!("error: stitch {name}: {e}")),
        }
    }
}

/// Windows scored of all, groups in the message; the rate and the ETA only
/// once a window has been counted (before that indicatif would show an ETA
/// of 0 s, measured from nothing).
fn scoring_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "scoring [{bar:30}] {pos}/{len} windows  {msg}  {rate}  elapsed {elapsed}  {eta_known}",
    )
    .expect("valid template")
    .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = match s.pos() {
            0 => write!(w, "-- windows/s"),
            _ => write!(w, "{:.1} windows/s", s.per_sec()),
        };
    })
    .with_key(
        "eta_known",
        |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = match s.pos() {
                0 => write!(w, "ETA --"),
                _ => write!(w, "ETA {:#}", HumanDuration(s.eta())),
            };
        },
    )
    .progress_chars("=> ")
}
