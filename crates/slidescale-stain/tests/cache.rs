//! The fitted target is cached as JSON and reused only for the same method
//! and target pixels.

use slidescale_stain::{default_target, fit, fit_cached, FittedTarget, Method};
use slidescale_testutil::{shared, temp_dir};

#[test]
fn cache_is_written_reused_and_replaced_when_stale() {
    let dir = temp_dir("stain-cache");
    let cache = dir.join("stain.json");
    let fresh = fit_cached(Method::Macenko, None, &cache).unwrap();
    assert_eq!(fresh, fit(Method::Macenko, &default_target()).unwrap());
    let text = std::fs::read_to_string(&cache).unwrap();
    assert_eq!(FittedTarget::from_json(&text).unwrap(), fresh);

    // reused: a marker in the cached parameters survives
    let mut marked = fresh.clone();
    if let slidescale_stain::Params::Stains(p) = &mut marked.params {
        p.max_conc[0] = 42.0;
    }
    std::fs::write(&cache, marked.to_json()).unwrap();
    assert_eq!(fit_cached(Method::Macenko, None, &cache).unwrap(), marked);

    // another method or another target image: refitted and replaced
    let r = fit_cached(Method::Reinhard, None, &cache).unwrap();
    assert_eq!(r.method, Method::Reinhard);
    let other = shared("data/patches/stain_target_he.png");
    let o = fit_cached(Method::Macenko, Some(&other), &cache).unwrap();
    assert_ne!(o.target, fresh.target);
    assert_ne!(o, marked);

    // a corrupt cache is replaced, not an error
    std::fs::write(&cache, b"{not json").unwrap();
    assert_eq!(fit_cached(Method::Macenko, None, &cache).unwrap(), fresh);
    // no temp file left behind
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("stain.json")]);
}

#[test]
fn missing_target_file_is_named() {
    let dir = temp_dir("stain-cache-missing");
    let e = fit_cached(
        Method::Reinhard,
        Some(&dir.join("nope.png")),
        &dir.join("c.json"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("nope.png"), "{e}");
    std::fs::write(dir.join("bad.png"), b"GIF89a").unwrap();
    let e = fit_cached(
        Method::Reinhard,
        Some(&dir.join("bad.png")),
        &dir.join("c.json"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("bad.png") && e.contains("PNG"), "{e}");
}
