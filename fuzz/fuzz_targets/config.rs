//! Configuration: an arbitrary `fmd.toml` and arbitrary `FMD_*` values. Either a clear
//! error naming the option, or a configuration that passes its own validation.
#![no_main]

use arbitrary::Arbitrary;
use fmd_runtime::Config;
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "FMD_DATABASE", "FMD_LEVEL", "FMD_DASHBOARD_PATH", "FMD_USERNAME", "FMD_PASSWORD",
    "APP_VERSION", "FMD_RETENTION_WEEKS", "FMD_STORE_SOURCE", "FMD_NORMALIZE_MESSAGES",
    "FMD_QUEUE_CAPACITY", "FMD_BATCH_SIZE", "FMD_OUTLIER_FACTOR", "FMD_INSTANCE",
    "FMD_SESSION_IDLE_MINUTES", "FMD_SESSION_LIFETIME_HOURS",
];

#[derive(Debug, Arbitrary)]
struct Input {
    file: Option<String>,
    vars: Vec<(u8, String)>,
}

fuzz_target!(|input: Input| {
    let path = std::env::temp_dir().join(format!("fmd-fuzz-{}.toml", std::process::id()));
    let file = input.file.map(|text| {
        std::fs::write(&path, text).expect("write config file");
        path.to_string_lossy().into_owned()
    });
    let vars: Vec<(&str, String)> = input
        .vars
        .into_iter()
        .map(|(i, v)| (NAMES[i as usize % NAMES.len()], v))
        .collect();
    let result = Config::from_lookup(|name| {
        if name == "FMD_CONFIG" {
            return file.clone();
        }
        vars.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    });
    match result {
        Ok(config) => assert!(config.validate().is_ok()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
