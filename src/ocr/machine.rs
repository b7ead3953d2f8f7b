//! The machine a training run ran on, in one line for its log: the CPU,
//! the x86 features its arithmetic may depend on, and the L1 data cache
//! `gemm` sizes its blocks by. It only reports; nothing a run computes
//! depends on it.
//!
//! Until the forty-eighth session the one command repeated to the bit on
//! one machine and not across machines: `gemm` cut each long sum into
//! depth blocks sized from the L1 cache, 512 terms on a 32 KiB 8-way L1
//! and 1,024 on a 48 KiB 12-way one, and added each block's sum on its own
//! (runs 82-85, `models/ocr-v2/RUNS.md`). The native engine now cuts the
//! depth itself, as the 32 KiB cache does (`backprop::matmul`), so the L1
//! no longer matters to its weights. What still does: `gemm` runs its FMA
//! kernels (8 lanes, AVX2) wherever the CPU has FMA and a scalar one
//! elsewhere (its AVX-512 kernels are not compiled in), and the candle
//! engine's products are still blocked by the cache. Switching glibc's FMA
//! and AVX2 maths off changed neither 300 plates nor 400 steps' weights
//! (RUNS.md, "Run 83"). So a run names those, and a run that differs says
//! where it ran.

/// One line: `AMD EPYC; avx2 fma, no avx512f; gemm's L1d 32 KiB 8-way`.
pub fn describe() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| model_name(&text).map(str::to_string))
        .unwrap_or_else(|| "unknown CPU".to_string());
    let l1 = gemm_common::cache::CACHE_INFO[0];
    format!(
        "{cpu}; {}; gemm's L1d {} KiB {}-way",
        features(),
        l1.cache_bytes / 1024,
        l1.associativity
    )
}

/// The first `model name` of a `/proc/cpuinfo` text.
fn model_name(cpuinfo: &str) -> Option<&str> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim())
    })
}

/// The x86 features named in the module's notes, those the CPU has first:
/// `avx2 fma, no avx512f`.
fn features() -> String {
    #[cfg(target_arch = "x86_64")]
    let found = [
        ("avx2", std::arch::is_x86_feature_detected!("avx2")),
        ("fma", std::arch::is_x86_feature_detected!("fma")),
        ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
    ];
    #[cfg(not(target_arch = "x86_64"))]
    let found: [(&str, bool); 0] = [];
    list(&found)
}

/// `found`'s names, those present first; the architecture's name where
/// there are none (no x86 features to name).
fn list(found: &[(&str, bool)]) -> String {
    let names = |has: bool| -> Vec<&str> {
        found
            .iter()
            .filter(|(_, h)| *h == has)
            .map(|(name, _)| *name)
            .collect()
    };
    let (with, without) = (names(true), names(false));
    match (with.is_empty(), without.is_empty()) {
        (true, true) => std::env::consts::ARCH.to_string(),
        (false, true) => with.join(" "),
        (true, false) => format!("no {}", without.join(" ")),
        (false, false) => format!("{}, no {}", with.join(" "), without.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_name_is_the_first_cpus() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9B14\n\
                    flags\t\t: fpu avx2\n\nprocessor\t: 1\nmodel name\t: Other\n";
        assert_eq!(model_name(text), Some("AMD EPYC 9B14"));
        assert_eq!(model_name("processor\t: 0\n"), None);
    }

    #[test]
    fn features_say_what_the_cpu_has_and_lacks() {
        assert_eq!(
            list(&[("avx2", true), ("fma", true), ("avx512f", false)]),
            "avx2 fma, no avx512f"
        );
        assert_eq!(list(&[("avx2", false), ("fma", false)]), "no avx2 fma");
        assert_eq!(list(&[("avx2", true)]), "avx2");
    }

    #[test]
    fn the_line_names_the_cache_gemm_blocks_by() {
        let line = describe();
        assert!(line.contains("gemm's L1d "), "{line}");
        assert!(!line.contains("gemm's L1d 0 KiB"), "{line}");
        #[cfg(target_arch = "x86_64")]
        assert!(line.contains("avx512f"), "{line}");
    }
}
