//! The local executor reports scoring progress in windows, batch by batch:
//! what a progress bar is fed adds up to the windows it was told to expect,
//! and it hears of every batch, not only of finished groups.

use std::path::PathBuf;
use std::sync::Mutex;

use slidescale_core::timing::TaskTiming;
use slidescale_core::Stride;
use slidescale_infer::{BackendChoice, Scorer, ScorerOptions};
use slidescale_pipeline::local::{run_local, LocalRun, RunObserver};
use slidescale_pipeline::spec::{RunSpec, SpecInputs};
use slidescale_pipeline::split::{SplitObserver, SplitOptions};
use slidescale_stain::Method;
use slidescale_testutil::{fixture, temp_dir};

/// Everything the runner said, in order.
#[derive(Default)]
struct Recorder {
    expected: Mutex<Option<u64>>,
    events: Mutex<Vec<Event>>,
}

#[derive(Debug, PartialEq)]
enum Event {
    Windows(u64),
    Group(u64),
}

impl SplitObserver for Recorder {}

impl RunObserver for Recorder {
    fn scoring_started(&self, _todo: u64, windows: u64, _done_before: u64) {
        *self.expected.lock().unwrap() = Some(windows);
    }
    fn windows_scored(&self, n: u64) {
        self.events.lock().unwrap().push(Event::Windows(n));
    }
    fn group_finished(&self, timing: &TaskTiming) {
        self.events
            .lock()
            .unwrap()
            .push(Event::Group(timing.windows));
    }
}

#[test]
fn windows_scored_adds_up_batch_by_batch() {
    let work = temp_dir("run-observer");
    let batch = 8;
    let model = fixture("models/smallcnn.onnx");
    let opts = ScorerOptions {
        backend: BackendChoice::Ort,
        batch,
        ..ScorerOptions::default()
    };
    let mut scorer = Scorer::load(&model, &opts).unwrap();
    let stride = Stride::new(112).unwrap(); // 4 windows a tile
    let slides: Vec<PathBuf> = vec![fixture("slides/CMU-1-Small-Region.svs")];
    let mut split = SplitOptions::new(&work);
    split.group_size = 20;
    let spec = RunSpec::new(&SpecInputs {
        work: &work,
        model: &model,
        scorer: &opts,
        stride,
        stain: Method::None,
        stain_target: String::new(),
        stain_target_image: None,
        split: Some(&split),
    })
    .unwrap();
    let run = LocalRun {
        slides: &slides,
        spec: &spec,
        stain: None,
        resume: false,
        force: false,
    };
    let recorder = Recorder::default();
    let report = run_local(&mut scorer, &run, &recorder).unwrap();
    assert!(report.is_success(), "{report:?}");
    let expected = recorder.expected.lock().unwrap().expect("scoring started");
    let events = recorder.events.into_inner().unwrap();
    let counted: u64 = events
        .iter()
        .map(|e| match e {
            Event::Windows(n) => *n,
            Event::Group(_) => 0,
        })
        .sum();
    assert_eq!(counted, expected);
    assert_eq!(counted, report.windows);
    // Each group's windows arrive in batches before the group is reported.
    let mut since_group = 0;
    let mut groups = 0;
    for e in &events {
        match *e {
            Event::Windows(n) => {
                assert!((1..=batch as u64).contains(&n), "{n} windows in one call");
                since_group += n;
            }
            Event::Group(windows) => {
                assert_eq!(since_group, windows, "{events:?}");
                assert!(
                    windows > batch as u64,
                    "a group of one batch proves nothing"
                );
                since_group = 0;
                groups += 1;
            }
        }
    }
    assert!(groups >= 2, "{events:?}");
    std::fs::remove_dir_all(work).unwrap();
}
