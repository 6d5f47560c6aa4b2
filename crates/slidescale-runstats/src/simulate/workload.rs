//! Where the simulated task durations come from: a work directory's timing
//! lines, or a distribution.

use std::collections::BTreeMap;
use std::str::FromStr;

use slidescale_core::timing::TaskTiming;

use super::SlideWork;

/// Per-slide work measured in a run. `stages` names the stages of the
/// first level, the second level and the final job (`split`, `process`,
/// `stitch` for `run`; `input`, `part`, `gather` for a batch), which are
/// replayed as the plan's split, process and stitch tasks. Second-level
/// durations are rescaled to `cores_per_task` cores when given, assuming a
/// task's time is inversely proportional to its cores (`seconds × threads /
/// cores_per_task`); the others are used as measured. Only tasks that did
/// their work ("ok") count; the returned notes say what was left out.
pub fn from_timings(
    lines: &[TaskTiming],
    cores_per_task: Option<u32>,
    stages: [&str; 3],
) -> (Vec<SlideWork>, Vec<String>) {
    let mut slides: BTreeMap<&str, SlideWork> = BTreeMap::new();
    let mut left_out = 0;
    let mut rescaled = false;
    for t in lines {
        if t.status != "ok" {
            left_out += 1;
            continue;
        }
        let w = slides.entry(&t.slide).or_insert_with(|| SlideWork {
            name: t.slide.clone(),
            split_s: None,
            groups: Vec::new(),
            stitch_s: None,
        });
        match stages.iter().position(|s| *s == t.stage) {
            Some(0) => w.split_s = Some(t.seconds),
            Some(2) => w.stitch_s = Some(t.seconds),
            Some(_) => {
                let threads = t.threads.max(1);
                let s = match cores_per_task {
                    Some(c) if c != threads => {
                        rescaled = true;
                        t.seconds * f64::from(threads) / f64::from(c)
                    }
                    _ => t.seconds,
                };
                w.groups.push(s);
            }
            None => left_out += 1,
        }
    }
    let mut notes = Vec::new();
    if left_out > 0 {
        notes.push(format!(
            "{left_out} timing line(s) not replayed (skipped, failed or unknown stage)"
        ));
    }
    if rescaled {
        notes.push(format!(
            "{} durations rescaled to the modelled cores per task (linear scaling assumed)",
            stages[1]
        ));
    }
    (slides.into_values().collect(), notes)
}

/// A distribution of task durations in seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    Constant(f64),
    /// Mean and standard deviation (truncated at 1% of the mean).
    Normal {
        mean: f64,
        sd: f64,
    },
    /// Mean and coefficient of variation.
    LogNormal {
        mean: f64,
        cv: f64,
    },
    Uniform {
        lo: f64,
        hi: f64,
    },
}

impl Distribution {
    pub fn mean(&self) -> f64 {
        match *self {
            Distribution::Constant(m) => m,
            Distribution::Normal { mean, .. } | Distribution::LogNormal { mean, .. } => mean,
            Distribution::Uniform { lo, hi } => (lo + hi) / 2.0,
        }
    }

    /// The same shape with its mean scaled to `mean`.
    pub fn with_mean(&self, mean: f64) -> Distribution {
        let k = mean / self.mean();
        match *self {
            Distribution::Constant(_) => Distribution::Constant(mean),
            Distribution::Normal { sd, .. } => Distribution::Normal { mean, sd: sd * k },
            Distribution::LogNormal { cv, .. } => Distribution::LogNormal { mean, cv },
            Distribution::Uniform { lo, hi } => Distribution::Uniform {
                lo: lo * k,
                hi: hi * k,
            },
        }
    }

    fn sample(&self, rng: &mut Rng) -> f64 {
        match *self {
            Distribution::Constant(m) => m,
            Distribution::Normal { mean, sd } => (mean + sd * rng.normal()).max(0.01 * mean),
            Distribution::LogNormal { mean, cv } => {
                let s2 = (1.0 + cv * cv).ln();
                (mean.ln() - s2 / 2.0 + s2.sqrt() * rng.normal()).exp()
            }
            Distribution::Uniform { lo, hi } => lo + (hi - lo) * rng.uniform(),
        }
    }
}

/// A `--task-seconds` value that is not a distribution; says what is expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("distribution {given:?}: expected constant:S, normal:MEAN,SD, lognormal:MEAN,CV or uniform:LO,HI (seconds)")]
pub struct BadDistribution {
    pub given: String,
}

impl FromStr for Distribution {
    type Err = BadDistribution;
    /// `constant:S`, `normal:MEAN,SD`, `lognormal:MEAN,CV`, `uniform:LO,HI`
    /// (seconds; a plain number is constant).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadDistribution {
            given: s.to_string(),
        };
        let (kind, args) = s.split_once(':').unwrap_or(("constant", s));
        let v: Vec<f64> = args
            .split(',')
            .map(|a| {
                a.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
            })
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        let d = match (kind, v.as_slice()) {
            ("constant", [m]) => Distribution::Constant(*m),
            ("normal", [mean, sd]) => Distribution::Normal {
                mean: *mean,
                sd: *sd,
            },
            ("lognormal", [mean, cv]) => Distribution::LogNormal {
                mean: *mean,
                cv: *cv,
            },
            ("uniform", [lo, hi]) if lo <= hi => Distribution::Uniform { lo: *lo, hi: *hi },
            _ => return Err(bad()),
        };
        if d.mean() <= 0.0 {
            return Err(bad());
        }
        Ok(d)
    }
}

/// `groups` group durations drawn from `dist` (seeded, reproducible),
/// spread over `slides` slides as evenly as possible.
pub fn from_distribution(
    groups: usize,
    slides: usize,
    dist: &Distribution,
    seed: u64,
    split_s: Option<f64>,
    stitch_s: Option<f64>,
) -> Vec<SlideWork> {
    let slides = slides.clamp(1, groups.max(1));
    let mut rng = Rng(seed);
    (0..slides)
        .map(|i| {
            let n = groups / slides + usize::from(i < groups % slides);
            SlideWork {
                name: format!("slide{:04}", i + 1),
                split_s,
                groups: (0..n).map(|_| dist.sample(&mut rng)).collect(),
                stitch_s,
            }
        })
        .collect()
}

/// SplitMix64: small, seedable, good enough to draw durations.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}
