// scratch (not committed)
use slidescale_cluster::*;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let kind: SchedulerKind = a[1].parse().unwrap();
    let work = std::path::PathBuf::from(&a[2]);
    let slides = a[3..].iter().map(std::path::PathBuf::from).collect();
    let req = ClusterRequest {
        scheduler: kind,
        scheduler_options: Default::default(),
        work: work.clone(),
        slides,
        split_args: vec!["--group-size".into(), "2".into()],
        process_args: vec!["--model".into(), "m o.onnx".into()],
        stitch_args: vec![],
        resources: Resources {
            cores: 1,
            memory_mb: 500,
            time: None,
            queue: None,
        },
        stride: 224,
        max_array_size: std::env::var("MAXA").ok().map(|s| s.parse().unwrap()),
        submit_args: vec![],
        slidescale_bin: Some("/tmp/h4dev/fake.sh".into()),
        dry_run: std::env::var("DRY").is_ok(),
    };
    let sub = submit(&req).unwrap();
    println!("{:?}", sub.notes);
    for j in &sub.jobs {
        println!("{} {:?} {}", j.job, j.stage, j.key);
    }
    let st = wait_idle(
        &slidescale_core::WorkDir::new(&work),
        std::time::Duration::from_secs(120),
        std::time::Duration::from_millis(300),
    )
    .unwrap();
    println!("{}", st.unwrap());
}
