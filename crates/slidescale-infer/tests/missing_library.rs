//! With no ONNX Runtime anywhere, loading fails with an error that says
//! exactly what to do. (Its own test binary: it changes the environment.)

use slidescale_infer::{BackendChoice, InferError, Scorer, ScorerOptions};
use slidescale_testutil::{fixture, temp_dir};

#[test]
fn missing_library_error_says_what_to_do() {
    let empty = temp_dir("no-ort");
    std::env::set_var("SLIDESCALE_HOME", &empty);
    std::env::remove_var("ORT_DYLIB_PATH");
    for backend in [BackendChoice::Ort, BackendChoice::Auto] {
        if backend == BackendChoice::Auto && cfg!(feature = "tract") {
            continue; // auto falls back to tract; tested with the tract feature
        }
        let opts = ScorerOptions {
            backend,
            ..ScorerOptions::default()
        };
        let err = match Scorer::load(&fixture("models/smallcnn.onnx"), &opts) {
            Ok(_) => panic!("loaded without a library"),
            Err(e) => e,
        };
        assert!(matches!(err, InferError::OrtNotFound(_)), "{err:?}");
        let msg = err.to_string();
        let expected_place = empty.join("lib/libonnxruntime.so");
        assert!(msg.contains(expected_place.to_str().unwrap()), "{msg}");
        assert!(msg.contains("run scripts/setup.sh"), "{msg}");
        assert!(msg.contains("pip install onnxruntime==1.31.1"), "{msg}");
        assert!(
            msg.contains(
                "ORT_DYLIB_PATH=<site-packages>/onnxruntime/capi/libonnxruntime.so.1.31.1"
            ),
            "{msg}"
        );
    }
    // an explicit path that does not exist is named as such
    std::env::set_var("ORT_DYLIB_PATH", empty.join("gone.so"));
    let ort_only = ScorerOptions {
        backend: BackendChoice::Ort,
        ..ScorerOptions::default()
    };
    let err = Scorer::load(&fixture("models/smallcnn.onnx"), &ort_only)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("gone.so") && err.contains("ORT_DYLIB_PATH"),
        "{err}"
    );
    // a file that is not a library is a load error naming it
    let fake = empty.join("libonnxruntime.so");
    std::fs::write(&fake, b"not a library").unwrap();
    let opts = ScorerOptions {
        backend: BackendChoice::Ort,
        ort_lib: Some(fake.clone()),
        ..ScorerOptions::default()
    };
    let err = Scorer::load(&fixture("models/smallcnn.onnx"), &opts)
        .err()
        .unwrap();
    assert!(matches!(err, InferError::OrtLoad { .. }), "{err:?}");
    assert!(err.to_string().contains(fake.to_str().unwrap()), "{err}");

    // with the tract feature, `auto` falls back to tract (and logs it)
    #[cfg(feature = "tract")]
    {
        std::env::remove_var("ORT_DYLIB_PATH");
        let s = Scorer::load(&fixture("models/smallcnn.onnx"), &ScorerOptions::default()).unwrap();
        assert_eq!(s.backend_name(), "tract");
    }
}
