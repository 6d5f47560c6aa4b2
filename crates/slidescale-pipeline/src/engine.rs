//! The one local hierarchical engine: the paper's plan (its Fig. 8) on this
//! machine. `run --executor local` and `batch --executor local` are two uses
//! of it, as the cluster executors are two uses of one submission code.
//!
//! A use ([`Stages`]) has units (slides, inputs), numbered from 0. The
//! engine, holding the work directory's lock:
//!
//! 1. admits the run ([`Stages::admit`]);
//! 2. runs the first-level task of every unit its state says is not done
//!    (split a slide; the program or the parts command of an input);
//! 3. hands their outcomes to the master step ([`Stages::master`]: `run`
//!    writes the look-up table), as the cluster's master job looks at what
//!    the first level produced;
//! 4. runs every unit's final job whose parts are all done already, then
//!    every part not done, and each unit's final job (stitch, gather) as
//!    soon as its last part ends — "after any" outcome of the parts when
//!    the final job checks completeness itself, else only after they all
//!    succeeded.
//!
//! At most `max_running` tasks run at once; a reader thread prepares the
//! next task ([`Stages::load`]: `run` reads a group's tiles) while the
//! current ones run. An observer hears of every task as it ends.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Mutex;

use slidescale_core::workdir::WorkDirError;
use slidescale_core::WorkDir;

/// One task of the hierarchy, by unit number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Task {
    First(usize),
    /// Part `n` (1-based) of a unit.
    Part(usize, u32),
    Final(usize),
}

impl Task {
    pub fn unit(self) -> usize {
        match self {
            Task::First(u) | Task::Part(u, _) | Task::Final(u) => u,
        }
    }
}

/// What a unit still needs at the second level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    pub unit: usize,
    /// Parts not done, in order.
    pub parts: Vec<u32>,
    /// Whether its final job has to run.
    pub final_job: bool,
}

/// A use of the engine: what its tasks are and how one runs.
pub trait Stages: Sync {
    /// What [`Stages::load`] prepares for a task.
    type Loaded: Send;
    type Outcome: Send;
    type Error: Send + From<WorkDirError>;

    /// A unit's final job runs after any outcome of its parts (it checks
    /// them itself, as on a cluster); `false`: only when all succeeded.
    const FINAL_AFTER_ANY: bool;

    /// Under the lock, before any work: refuse or record the run.
    fn admit(&self) -> Result<(), Self::Error> {
        Ok(())
    }
    /// Units whose first-level task has to run, in order.
    fn first_todo(&self) -> Vec<usize>;
    /// After every first-level task has ended, with their outcomes.
    fn master(&self, _first: Vec<(Task, Self::Outcome)>) -> Result<(), Self::Error> {
        Ok(())
    }
    /// After the master: per unit ready for its second level, what is not done.
    fn second_todo(&self) -> Vec<Pending>;
    /// Prepare `task`, on the reader thread, ahead of [`Stages::run`].
    fn load(&self, task: Task) -> Self::Loaded;
    /// Run `task`. `Err` stops the engine (no task starts after it): keep
    /// it for what makes going on pointless, such as an unwritable record.
    fn run(&self, task: Task, loaded: Self::Loaded) -> Result<Self::Outcome, Self::Error>;
    fn succeeded(&self, outcome: &Self::Outcome) -> bool;
}

/// Hears of every task as it ends (from the thread that ran it).
pub type Observer<'a, O> = &'a (dyn Fn(Task, &O) + Sync);

/// Run what is not done of `stages` in `work`, at most `max_running` tasks
/// at once. Returns the second level's outcomes (parts and final jobs), in
/// the order they ended.
pub fn run_hierarchy<S: Stages>(
    work: &WorkDir,
    stages: &S,
    max_running: usize,
    observe: Observer<S::Outcome>,
) -> Result<Vec<(Task, S::Outcome)>, S::Error> {
    let _lock = work.lock()?;
    stages.admit()?;
    let first = stages.first_todo().into_iter().map(Task::First).collect();
    let first = run_tasks(stages, first, max_running, &|_, _| None, observe)?;
    stages.master(first)?;
    let pending = stages.second_todo();
    // Units with nothing left but their final job (a run killed between a
    // unit's last part and its final job) come first.
    let finals = pending
        .iter()
        .filter(|p| p.parts.is_empty() && p.final_job)
        .map(|p| Task::Final(p.unit))
        .collect();
    let mut done = run_tasks(stages, finals, max_running, &|_, _| None, observe)?;
    let parts: Vec<Task> = pending
        .iter()
        .flat_map(|p| p.parts.iter().map(|&n| Task::Part(p.unit, n)))
        .collect();
    // Per unit: parts still running or queued, all succeeded so far, final wanted.
    let left: Mutex<BTreeMap<usize, (usize, bool, bool)>> = Mutex::new(
        pending
            .iter()
            .filter(|p| !p.parts.is_empty())
            .map(|p| (p.unit, (p.parts.len(), true, p.final_job)))
            .collect(),
    );
    let follow = |task: Task, outcome: &S::Outcome| -> Option<Task> {
        let Task::Part(unit, _) = task else {
            return None;
        };
        let mut left = left.lock().expect("not poisoned");
        let entry = left.get_mut(&unit)?;
        entry.0 -= 1;
        entry.1 &= stages.succeeded(outcome);
        let (n, ok, final_job) = *entry;
        (n == 0 && final_job && (ok || S::FINAL_AFTER_ANY)).then_some(Task::Final(unit))
    };
    done.extend(run_tasks(stages, parts, max_running, &follow, observe)?);
    Ok(done)
}

/// What follows a task on the thread that ran it (a unit's final job after
/// its last part), if anything.
type Follow<'a, O> = &'a (dyn Fn(Task, &O) -> Option<Task> + Sync);

/// Run `tasks` in order on `k` workers fed by one reader thread; each
/// worker runs what `follow` names after a task before taking the next.
fn run_tasks<S: Stages>(
    stages: &S,
    tasks: Vec<Task>,
    k: usize,
    follow: Follow<S::Outcome>,
    observe: Observer<S::Outcome>,
) -> Result<Vec<(Task, S::Outcome)>, S::Error> {
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let k = k.clamp(1, tasks.len());
    let stop = AtomicBool::new(false);
    let error: Mutex<Option<S::Error>> = Mutex::new(None);
    let outcomes = Mutex::new(Vec::new());
    // One task read ahead of the workers (and one being read).
    let (tx, rx) = sync_channel::<(Task, S::Loaded)>(1);
    let rx = Mutex::new(rx);
    let worker = || loop {
        let next = rx.lock().expect("not poisoned").recv();
        let Ok((task, loaded)) = next else { break };
        let mut current = Some((task, Some(loaded)));
        while let Some((task, loaded)) = current.take() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let loaded = loaded.unwrap_or_else(|| stages.load(task));
            match stages.run(task, loaded) {
                Ok(o) => {
                    observe(task, &o);
                    current = follow(task, &o).map(|t| (t, None));
                    outcomes.lock().expect("not poisoned").push((task, o));
                }
                Err(e) => {
                    stop.store(true, Ordering::SeqCst);
                    error.lock().expect("not poisoned").get_or_insert(e);
                }
            }
        }
    };
    std::thread::scope(|s| {
        let stop = &stop;
        s.spawn(move || {
            for task in tasks {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if tx.send((task, stages.load(task))).is_err() {
                    break;
                }
            }
        });
        for _ in 1..k {
            s.spawn(worker);
        }
        // The first worker is this thread (`run`'s model session lives here).
        worker();
    });
    match error.into_inner().expect("not poisoned") {
        Some(e) => Err(e),
        None => Ok(outcomes.into_inner().expect("not poisoned")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// Two units of three parts; part 2 of unit 1 fails; tasks sleep a
    /// little so that several overlap when allowed.
    struct Toy {
        /// Part 1 of unit 0 returns `Err` (stops the engine).
        fail_hard: bool,
        running: AtomicUsize,
        peak: AtomicUsize,
        log: Mutex<Vec<Task>>,
    }

    impl Stages for Toy {
        type Loaded = ();
        type Outcome = bool;
        type Error = Stop;
        const FINAL_AFTER_ANY: bool = false;

        fn first_todo(&self) -> Vec<usize> {
            vec![0, 1]
        }
        fn second_todo(&self) -> Vec<Pending> {
            (0..2)
                .map(|unit| Pending {
                    unit,
                    parts: vec![1, 2, 3],
                    final_job: true,
                })
                .collect()
        }
        fn load(&self, _: Task) {}
        fn run(&self, task: Task, _: ()) -> Result<bool, Stop> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            self.log.lock().unwrap().push(task);
            self.running.fetch_sub(1, Ordering::SeqCst);
            if self.fail_hard && task == Task::Part(0, 1) {
                return Err(Stop);
            }
            Ok(task != Task::Part(1, 2))
        }
        fn succeeded(&self, ok: &bool) -> bool {
            *ok
        }
    }

    impl Toy {
        fn new(fail_hard: bool) -> Toy {
            Toy {
                fail_hard,
                running: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                log: Mutex::new(Vec::new()),
            }
        }
    }

    #[derive(Debug, PartialEq)]
    struct Stop;

    impl From<WorkDirError> for Stop {
        fn from(_: WorkDirError) -> Stop {
            Stop
        }
    }

    #[test]
    fn levels_in_order_at_most_k_at_once_and_finals_after_their_parts() {
        let dir = slidescale_testutil::temp_dir("engine");
        let toy = Toy::new(false);
        let heard = AtomicUsize::new(0);
        let observe = |_: Task, _: &bool| {
            heard.fetch_add(1, Ordering::SeqCst);
        };
        let second = run_hierarchy(&WorkDir::new(&dir), &toy, 2, &observe).unwrap();
        let log = toy.log.lock().unwrap().clone();
        assert!(toy.peak.load(Ordering::SeqCst) <= 2, "{log:?}");
        assert!(toy.peak.load(Ordering::SeqCst) == 2, "two ran at once");
        // Both first-level tasks before any part; unit 0's final after its
        // three parts; unit 1's final not at all (a part failed).
        let pos = |t: Task| log.iter().position(|x| *x == t);
        let last_first = pos(Task::First(0)).max(pos(Task::First(1))).unwrap();
        assert!(log
            .iter()
            .skip(last_first + 1)
            .all(|t| !matches!(t, Task::First(_))));
        assert_eq!(
            log[..2]
                .iter()
                .filter(|t| matches!(t, Task::First(_)))
                .count(),
            2
        );
        let fin = pos(Task::Final(0)).expect("unit 0 stitched");
        assert!(
            (1..=3).all(|n| pos(Task::Part(0, n)).unwrap() < fin),
            "{log:?}"
        );
        assert_eq!(pos(Task::Final(1)), None, "{log:?}");
        assert_eq!(second.len(), 7);
        assert_eq!(heard.load(Ordering::SeqCst), 9);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn an_error_stops_the_engine() {
        let dir = slidescale_testutil::temp_dir("engine-stop");
        let toy = Toy::new(true);
        let r = run_hierarchy(&WorkDir::new(&dir), &toy, 1, &|_, _| {});
        assert_eq!(r.err(), Some(Stop));
        // One worker: nothing starts after the failing task.
        let log = toy.log.lock().unwrap().clone();
        assert_eq!(log.last(), Some(&Task::Part(0, 1)), "{log:?}");
        std::fs::remove_dir_all(dir).ok();
    }
}
