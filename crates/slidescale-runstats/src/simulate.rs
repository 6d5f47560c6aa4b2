//! A discrete-event model of the hierarchical plan on a cluster, to predict
//! wall time, speedup and efficiency of a run before asking for the cores.
//!
//! Modelled: `run` submits the split arrays and the master job one call
//! after the other (`submit_overhead_s` each); each slide's split is a task;
//! the master (one core) starts after every split task has ended, runs
//! `plan` (`plan_s`) and then submits, slide after slide, that slide's
//! process arrays (as many as the array limit makes) and its stitch job, one
//! call after the other. A task is eligible once its job is submitted and
//! its dependencies have ended; the scheduler gives eligible tasks cores in
//! submission order as long as cores are free (a smaller job may start while
//! a larger one waits, like SLURM's backfill); a task then starts
//! `dispatch_latency_s` later (the scheduler's cycle, launching the job; this
//! also delays the reuse of freed cores) and takes its given duration plus
//! `task_overhead_s` (process start, model load). A `batch` is the same
//! plan — its first level (the program per input, or the parts command) as
//! the split, its parts as the process tasks, its gather as the stitch —
//! and without parts it has no master. Not modelled: node boundaries, failures, other users' jobs,
//! file-system contention.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use serde::Serialize;

/// The cluster and the scheduler's costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterModel {
    pub cores: u32,
    /// Cores of a split or process task (`--threads`); master and stitch use one.
    pub cores_per_task: u32,
    /// Tasks per array job.
    pub max_array_size: u32,
    /// Seconds one submission (`sbatch`, `qsub`) takes.
    pub submit_overhead_s: f64,
    /// Seconds from "eligible, and cores free" to "running", on every start.
    pub dispatch_latency_s: f64,
    /// Seconds `slidescale plan` takes in the master job.
    pub plan_s: f64,
    /// Seconds every task spends outside its measured work (starting the
    /// job script and the process, loading the model), added to each.
    pub task_overhead_s: f64,
    /// `--max-running K`: at most K tasks of the run running at once,
    /// whatever cores are free.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_running: Option<u32>,
}

/// The work of one slide, in seconds on `cores_per_task` cores.
#[derive(Debug, Clone, PartialEq)]
pub struct SlideWork {
    pub name: String,
    /// `None`: the slide is already split.
    pub split_s: Option<f64>,
    pub groups: Vec<f64>,
    /// `None`: stitching is not modelled.
    pub stitch_s: Option<f64>,
}

/// Predicted times of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagePrediction {
    pub stage: &'static str,
    pub tasks: usize,
    /// Σ task durations, each task on its own cores.
    pub task_s: f64,
    /// Σ task durations × cores of each task.
    pub core_s: f64,
    pub first_start_s: f64,
    pub last_end_s: f64,
}

/// What the model predicts (the fields of `slidescale simulate --json`).
/// Totals leave the master job out: it is the plan's cost, not its work.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub model: ClusterModel,
    pub stages: Vec<StagePrediction>,
    /// From the first submission to the end of the last task.
    pub wall_s: f64,
    /// Σ task durations, each task on its own cores.
    pub task_s: f64,
    /// Σ task durations × cores of each task: the serial single-core time.
    pub core_s: f64,
    /// `core_s / wall_s`: the paper's speedup (serial single-core time over
    /// wall time, Tables I–III).
    pub speedup: f64,
    /// `task_s / wall_s`: the speedup over one task of `cores_per_task`
    /// cores, i.e. `speedup / cores_per_task`.
    pub task_speedup: f64,
    /// `core_s / (wall_s × cores)` = `speedup / cores`.
    pub efficiency: f64,
    /// Tasks that run at once on the cluster (cores / cores per task).
    pub slots: u32,
    pub submissions: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Split,
    Master,
    Process(usize),
    Stitch(usize),
}

struct Task {
    kind: Kind,
    cores: u32,
    seconds: f64,
    /// Scheduling priority: submission order.
    seq: u64,
}

/// Event time, totally ordered.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Time(f64);
impl Eq for Time {}
impl Ord for Time {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}
impl PartialOrd for Time {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// Ends sort before readies at the same instant: freed cores are reused.
    End(usize),
    Ready(usize),
}

/// The simulator's state.
struct Sim<'a> {
    model: &'a ClusterModel,
    slides: &'a [SlideWork],
    tasks: Vec<Task>,
    events: BinaryHeap<Reverse<(Time, Event)>>,
    /// Ready split/process tasks (`cores_per_task` cores each) and ready
    /// master/stitch jobs (one core), each in priority order: within one
    /// queue every task needs the same cores, so only its head can start.
    ready_big: VecDeque<usize>,
    ready_small: VecDeque<usize>,
    free: u32,
    /// Tasks started and not yet ended (for `max_running`).
    running: u32,
    split_left: usize,
    /// Per slide: process tasks not yet ended, and its stitch task once submitted.
    groups_left: Vec<usize>,
    stitch_of: Vec<Option<usize>>,
    stitch_submitted: Vec<f64>,
    starts: Vec<f64>,
    ends: Vec<f64>,
    submissions: usize,
}

/// Run the model.
pub fn simulate(slides: &[SlideWork], model: &ClusterModel) -> Prediction {
    let model = ClusterModel {
        cores_per_task: model.cores_per_task.clamp(1, model.cores.max(1)),
        max_array_size: model.max_array_size.max(1),
        cores: model.cores.max(1),
        ..model.clone()
    };
    let mut sim = Sim {
        model: &model,
        slides,
        tasks: Vec::new(),
        events: BinaryHeap::new(),
        ready_big: VecDeque::new(),
        ready_small: VecDeque::new(),
        free: model.cores,
        running: 0,
        split_left: 0,
        groups_left: slides.iter().map(|s| s.groups.len()).collect(),
        stitch_of: vec![None; slides.len()],
        stitch_submitted: vec![0.0; slides.len()],
        starts: Vec::new(),
        ends: Vec::new(),
        submissions: 0,
    };
    sim.submit_stage_one();
    sim.run();
    sim.prediction()
}

impl Sim<'_> {
    fn add(&mut self, kind: Kind, cores: u32, seconds: f64) -> usize {
        let seq = self.tasks.len() as u64;
        let seconds = seconds + self.model.task_overhead_s;
        self.tasks.push(Task {
            kind,
            cores,
            seconds,
            seq,
        });
        self.starts.push(f64::NAN);
        self.ends.push(f64::NAN);
        self.tasks.len() - 1
    }

    fn ready_at(&mut self, t: f64, task: usize) {
        self.events.push(Reverse((Time(t), Event::Ready(task))));
    }

    /// `run`: split arrays, then the master (which waits for them).
    fn submit_stage_one(&mut self) {
        let m = self.model;
        let splits: Vec<f64> = self.slides.iter().filter_map(|s| s.split_s).collect();
        let mut t = 0.0;
        for chunk in splits.chunks(m.max_array_size as usize) {
            t += m.submit_overhead_s;
            self.submissions += 1;
            for &s in chunk {
                let id = self.add(Kind::Split, m.cores_per_task, s);
                self.split_left += 1;
                self.ready_at(t, id);
            }
        }
        // Without second-level work (a batch without parts) there is no master.
        if self.slides.iter().all(|s| s.groups.is_empty()) {
            return;
        }
        t += m.submit_overhead_s;
        self.submissions += 1;
        let master_submissions = self.master_submissions();
        let master_s = m.plan_s + master_submissions as f64 * m.submit_overhead_s;
        let master = self.add(Kind::Master, 1, master_s);
        if self.split_left == 0 {
            self.ready_at(t, master);
        }
    }

    fn master_submissions(&self) -> usize {
        let per = self.model.max_array_size as usize;
        self.slides
            .iter()
            .map(|s| s.groups.len().div_ceil(per) + usize::from(s.stitch_s.is_some()))
            .sum()
    }

    /// The master started at `t0`: its submissions, one after the other.
    fn master_submits(&mut self, t0: f64) {
        let m = self.model;
        let mut t = t0 + m.task_overhead_s + m.plan_s;
        for (i, slide) in self.slides.iter().enumerate() {
            for chunk in slide.groups.chunks(m.max_array_size as usize) {
                t += m.submit_overhead_s;
                self.submissions += 1;
                for &s in chunk {
                    let id = self.add(Kind::Process(i), m.cores_per_task, s);
                    self.ready_at(t, id);
                }
            }
            if let Some(s) = slide.stitch_s {
                t += m.submit_overhead_s;
                self.submissions += 1;
                let id = self.add(Kind::Stitch(i), 1, s);
                self.stitch_of[i] = Some(id);
                if self.groups_left[i] == 0 {
                    self.ready_at(t, id);
                } else {
                    // Readied when its last group ends.
                    self.stitch_submitted[i] = t;
                }
            }
        }
    }

    fn run(&mut self) {
        while let Some(Reverse((Time(t), ev))) = self.events.pop() {
            match ev {
                Event::Ready(id) => match self.tasks[id].kind {
                    Kind::Split | Kind::Process(_) => {
                        insert_by_seq(&mut self.ready_big, &self.tasks, id)
                    }
                    Kind::Master | Kind::Stitch(_) => {
                        insert_by_seq(&mut self.ready_small, &self.tasks, id)
                    }
                },
                Event::End(id) => self.ended(t, id),
            }
            // Start only when every event of this instant is in.
            let next_same = self
                .events
                .peek()
                .is_some_and(|Reverse((Time(n), _))| *n <= t);
            if !next_same {
                self.dispatch(t);
            }
        }
    }

    fn ended(&mut self, t: f64, id: usize) {
        self.free += self.tasks[id].cores;
        self.running -= 1;
        self.ends[id] = t;
        match self.tasks[id].kind {
            Kind::Split => {
                self.split_left -= 1;
                let master = self.tasks.iter().position(|k| k.kind == Kind::Master);
                if let (0, Some(master)) = (self.split_left, master) {
                    self.ready_at(t, master);
                }
            }
            Kind::Process(i) => {
                self.groups_left[i] -= 1;
                if self.groups_left[i] == 0 {
                    if let Some(st) = self.stitch_of[i] {
                        let submitted = self.stitch_submitted[i];
                        self.ready_at(t.max(submitted), st);
                    }
                }
            }
            Kind::Master | Kind::Stitch(_) => {}
        }
    }

    /// Start ready tasks in priority order while cores are free.
    fn dispatch(&mut self, t: f64) {
        loop {
            if self.model.max_running.is_some_and(|k| self.running >= k) {
                return;
            }
            let big = self
                .ready_big
                .front()
                .copied()
                .filter(|&i| self.tasks[i].cores <= self.free);
            let small = self
                .ready_small
                .front()
                .copied()
                .filter(|&i| self.tasks[i].cores <= self.free);
            let id = match (big, small) {
                (Some(b), Some(s)) => {
                    if self.tasks[b].seq < self.tasks[s].seq {
                        b
                    } else {
                        s
                    }
                }
                (Some(b), None) => b,
                (None, Some(s)) => s,
                (None, None) => return,
            };
            if self.ready_big.front() == Some(&id) {
                self.ready_big.pop_front();
            } else {
                self.ready_small.pop_front();
            }
            // The cores are the task's from now; it runs after the latency.
            self.free -= self.tasks[id].cores;
            self.running += 1;
            let start = t + self.model.dispatch_latency_s;
            self.starts[id] = start;
            let end = start + self.tasks[id].seconds;
            self.events.push(Reverse((Time(end), Event::End(id))));
            if self.tasks[id].kind == Kind::Master {
                self.master_submits(start);
            }
        }
    }

    fn prediction(&self) -> Prediction {
        let stage = |name: &'static str, f: &dyn Fn(Kind) -> bool| {
            let ids: Vec<usize> = (0..self.tasks.len())
                .filter(|&i| f(self.tasks[i].kind))
                .collect();
            StagePrediction {
                stage: name,
                tasks: ids.len(),
                task_s: ids.iter().map(|&i| self.tasks[i].seconds).sum(),
                core_s: ids
                    .iter()
                    .map(|&i| self.tasks[i].seconds * f64::from(self.tasks[i].cores))
                    .sum(),
                first_start_s: ids
                    .iter()
                    .map(|&i| self.starts[i])
                    .fold(f64::INFINITY, f64::min),
                last_end_s: ids.iter().map(|&i| self.ends[i]).fold(0.0, f64::max),
            }
        };
        let stages: Vec<StagePrediction> = vec![
            stage("split", &|k| k == Kind::Split),
            stage("master", &|k| k == Kind::Master),
            stage("process", &|k| matches!(k, Kind::Process(_))),
            stage("stitch", &|k| matches!(k, Kind::Stitch(_))),
        ]
        .into_iter()
        .filter(|s| s.tasks > 0)
        .collect();
        let wall_s = self.ends.iter().copied().fold(0.0, f64::max);
        let task_s: f64 = stages
            .iter()
            .filter(|s| s.stage != "master")
            .map(|s| s.task_s)
            .sum();
        let core_s: f64 = stages
            .iter()
            .filter(|s| s.stage != "master")
            .map(|s| s.core_s)
            .sum();
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        Prediction {
            model: self.model.clone(),
            stages,
            wall_s,
            task_s,
            core_s,
            speedup: ratio(core_s, wall_s),
            task_speedup: ratio(task_s, wall_s),
            efficiency: ratio(core_s, wall_s * f64::from(self.model.cores)),
            slots: self.model.cores / self.model.cores_per_task,
            submissions: self.submissions,
        }
    }
}

/// Keep a ready queue in priority (submission) order; tasks mostly arrive in
/// order, so this is a push at the back.
fn insert_by_seq(q: &mut VecDeque<usize>, tasks: &[Task], id: usize) {
    let seq = tasks[id].seq;
    let pos = q
        .iter()
        .rposition(|&i| tasks[i].seq < seq)
        .map_or(0, |p| p + 1);
    q.insert(pos, id);
}

mod workload;

pub use workload::{from_distribution, from_timings, BadDistribution, Distribution};

#[cfg(test)]
mod tests;
