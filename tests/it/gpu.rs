//! GPU compute. CPU only: every `shaders/*.wgsl` parses and validates with
//! naga and matches its registry entry. With an adapter (lavapipe in CI, from
//! `.ci/setup`): every kernel's GPU result equals its CPU twin, bit for bit,
//! at sizes that do and do not divide the 8x8 workgroups.
//!
//! Without an adapter the GPU tests fail, unless `ALPR_ALLOW_NO_GPU=1`, where
//! each says SKIPPED on stderr.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use alpr::Error;
use alpr::gpu::kernels::sobel::SobelMode;
use alpr::gpu::kernels::{luma_downscale, morph, sobel, threshold};
use alpr::gpu::registry::{Binding, SHADERS};
use alpr::gpu::{Gpu, GpuMode, Planes};
use rand::{Rng, SeedableRng};

const SHADER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
const KERNEL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/gpu/kernels");

/// (width, height, frames): 1x1, odd sizes that split workgroups, exact fits.
const SIZES: [(u32, u32, u32); 6] = [
    (1, 1, 1),
    (2, 3, 2),
    (17, 9, 3),
    (8, 8, 1),
    (64, 48, 2),
    (333, 211, 2),
];

// ---- CPU only -------------------------------------------------------------

fn parse(name: &str, source: &str) -> naga::Module {
    naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("shaders/{name}.wgsl:\n{}", e.emit_to_string(source)))
}

#[test]
fn every_shader_parses_and_validates_with_naga() {
    for entry in std::fs::read_dir(SHADER_DIR).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let name = path.file_stem().unwrap().to_str().unwrap();
        let module = parse(name, &source);
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::default(),
            naga::valid::Capabilities::default(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("shaders/{name}.wgsl:\n{}", e.emit_to_string(&source)));
    }
}

#[test]
fn every_shader_file_is_registered_under_its_kernel_module_name() {
    let files: BTreeSet<String> = std::fs::read_dir(SHADER_DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .inspect(|p| {
            assert_eq!(
                p.extension().and_then(|e| e.to_str()),
                Some("wgsl"),
                "{p:?}: shaders/ holds only .wgsl files"
            )
        })
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    let registered: BTreeSet<String> = SHADERS.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(files, registered, "shaders/ and registry::SHADERS differ");
    for shader in &SHADERS {
        let module = Path::new(KERNEL_DIR).join(format!("{}.rs", shader.name));
        assert!(
            module.exists(),
            "{}: no kernel module {module:?}",
            shader.name
        );
        let on_disk =
            std::fs::read_to_string(Path::new(SHADER_DIR).join(format!("{}.wgsl", shader.name)))
                .unwrap();
        assert_eq!(
            shader.source, on_disk,
            "{}: embedded source is stale",
            shader.name
        );
        assert_eq!(shader.kernel.name(), shader.name);
    }
}

#[test]
fn shaders_declare_what_the_registry_binds() {
    for shader in &SHADERS {
        let module = parse(shader.name, shader.source);
        // Entry points: every registered one exists, each a compute 8x8x1.
        for entry in shader.entry_points {
            let ep = module
                .entry_points
                .iter()
                .find(|ep| ep.name == *entry)
                .unwrap_or_else(|| panic!("{}: no entry point {entry}", shader.name));
            assert_eq!(
                ep.stage,
                naga::ShaderStage::Compute,
                "{}::{entry}",
                shader.name
            );
            assert_eq!(ep.workgroup_size, [8, 8, 1], "{}::{entry}", shader.name);
        }
        assert_eq!(module.entry_points.len(), shader.entry_points.len());
        // Bindings: group 0, numbered 0.., of the registered kind.
        let mut seen = Vec::new();
        for (_, var) in module.global_variables.iter() {
            let Some(binding) = &var.binding else {
                continue;
            };
            assert_eq!(binding.group, 0, "{}", shader.name);
            let kind = match var.space {
                naga::AddressSpace::Uniform => Binding::Params,
                naga::AddressSpace::Storage { access } if access == naga::StorageAccess::LOAD => {
                    Binding::Read
                }
                naga::AddressSpace::Storage { .. } => Binding::ReadWrite,
                other => panic!("{}: unexpected address space {other:?}", shader.name),
            };
            seen.push((binding.binding, kind));
            if kind == Binding::Params {
                // The "keep in sync" check: WGSL Params is as large as Rust's.
                let naga::TypeInner::Struct { span, .. } = module.types[var.ty].inner else {
                    panic!("{}: params is not a struct", shader.name)
                };
                assert_eq!(
                    span as usize, shader.params_size,
                    "{}: WGSL Params and Rust Params differ in size",
                    shader.name
                );
            }
        }
        seen.sort_by_key(|(b, _)| *b);
        let expected: Vec<(u32, Binding)> = shader
            .bindings
            .iter()
            .enumerate()
            .map(|(i, b)| (i as u32, *b))
            .collect();
        assert_eq!(seen, expected, "{}: bindings", shader.name);
    }
}

#[test]
fn gpu_mode_is_a_cli_value() {
    use clap::ValueEnum;
    assert_eq!(GpuMode::from_str("auto", true), Ok(GpuMode::Auto));
    assert_eq!(GpuMode::from_str("on", true), Ok(GpuMode::On));
    assert_eq!(GpuMode::from_str("off", true), Ok(GpuMode::Off));
    assert_eq!(GpuMode::default(), GpuMode::Auto);
}

#[test]
fn gpu_off_opens_nothing() {
    assert!(Gpu::new(GpuMode::Off).unwrap().is_none());
}

#[test]
fn gpu_auto_never_picks_a_cpu_rasteriser() {
    // Lavapipe alone (CI): one line on stderr and None. A hardware GPU: Some.
    if let Some(gpu) = Gpu::new(GpuMode::Auto).unwrap() {
        assert!(!gpu.is_cpu_adapter(), "{gpu:?}");
    }
}

// ---- with an adapter -------------------------------------------------------

/// The GPU shared by the tests, opened as `--gpu on` would (lavapipe counts).
pub fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    let gpu = GPU.get_or_init(|| open_gpu(None)).as_ref();
    if gpu.is_none() {
        eprintln!("SKIPPED: no GPU adapter (install mesa-vulkan-drivers)");
    }
    gpu
}

pub(crate) fn open_gpu(batch_bytes: Option<u64>) -> Option<Gpu> {
    match Gpu::new(GpuMode::On) {
        Ok(Some(gpu)) => Some(match batch_bytes {
            Some(bytes) => gpu.with_batch_bytes(bytes),
            None => gpu,
        }),
        Ok(None) => panic!("GpuMode::On returned no GPU and no error"),
        Err(e) if std::env::var("ALPR_ALLOW_NO_GPU").as_deref() == Ok("1") => {
            eprintln!("ALPR_ALLOW_NO_GPU=1: {e}");
            None
        }
        Err(e) => panic!(
            "{e}\nThe GPU agreement tests need an adapter: run .ci/setup (installs \
             mesa-vulkan-drivers), or set ALPR_ALLOW_NO_GPU=1 to skip them."
        ),
    }
}

/// Asserts two kernel results are identical, naming the first differing pixel.
#[track_caller]
fn assert_same(got: &Planes, want: &Planes, what: &str) {
    assert_eq!(
        (got.width(), got.height(), got.count()),
        (want.width(), want.height(), want.count()),
        "{what}: shape"
    );
    if let Some(i) = got.data().iter().zip(want.data()).position(|(g, w)| g != w) {
        let plane = got.plane_len().max(1);
        let (frame, at) = (i / plane, i % plane);
        let width = got.width() as usize;
        panic!(
            "{what}: frame {frame} pixel ({}, {}): GPU {} != CPU {}",
            at % width,
            at / width,
            got.data()[i],
            want.data()[i]
        );
    }
}

fn rng(seed: u64) -> rand_pcg::Pcg64 {
    rand_pcg::Pcg64::seed_from_u64(seed)
}

/// Random packed RGBA pixels, every bit pattern possible.
fn rgba(width: u32, height: u32, frames: u32, seed: u64) -> Planes {
    let mut rng = rng(seed);
    let n = (width * height * frames) as usize;
    Planes::new(
        width,
        height,
        frames,
        (0..n).map(|_| rng.random()).collect(),
    )
    .unwrap()
}

/// Random values below `max`, with smooth structure so windows differ.
fn values(width: u32, height: u32, frames: u32, max: u32, seed: u64) -> Planes {
    let mut rng = rng(seed);
    let mut data = Vec::with_capacity((width * height * frames) as usize);
    for f in 0..frames {
        for y in 0..height {
            for x in 0..width {
                let ramp = (x * 7 + y * 3 + f * 11) % (max / 2 + 1);
                data.push((ramp + rng.random_range(0..max / 2 + 1)).min(max - 1));
            }
        }
    }
    Planes::new(width, height, frames, data).unwrap()
}

#[test]
fn luma_downscale_gpu_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    for (i, &(w, h, n)) in SIZES.iter().enumerate() {
        let frames = rgba(w, h, n, i as u64);
        for factor in luma_downscale::FACTORS {
            let want = luma_downscale::cpu(&frames, factor).unwrap();
            let got = luma_downscale::dispatch(gpu, &frames, factor).unwrap();
            assert_same(&got, &want, &format!("{w}x{h} x{n}, factor {factor}"));
        }
    }
}

#[test]
fn sobel_gpu_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    for (i, &(w, h, n)) in SIZES.iter().enumerate() {
        // Up to 299: some values exercise the saturation at 255.
        let luma = values(w, h, n, 300, 100 + i as u64);
        for mode in [SobelMode::Magnitude, SobelMode::Vertical] {
            let want = sobel::cpu(&luma, mode);
            let got = sobel::dispatch(gpu, &luma, mode).unwrap();
            assert_same(&got, &want, &format!("{w}x{h} x{n}, {mode:?}"));
        }
    }
}

#[test]
fn threshold_gpu_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    for (i, &(w, h, n)) in SIZES.iter().enumerate() {
        // Up to 4999: some values exercise the saturation at 4095.
        let input = values(w, h, n, 5000, 200 + i as u64);
        for (radius, offset) in [(0, 0), (1, -3), (4, 0), (7, 25), (15, -100)] {
            let want = threshold::cpu(&input, radius, offset).unwrap();
            let got = threshold::dispatch(gpu, &input, radius, offset).unwrap();
            assert_same(
                &got,
                &want,
                &format!("{w}x{h} x{n}, radius {radius}, offset {offset}"),
            );
        }
    }
}

#[test]
fn threshold_extremes_match() {
    let Some(gpu) = gpu() else { return };
    let side = 2 * threshold::MAX_RADIUS + 1;
    let input = values(side, side, 1, u32::MAX, 300);
    for offset in [
        -(threshold::MAX_VALUE as i32),
        0,
        threshold::MAX_VALUE as i32,
    ] {
        let want = threshold::cpu(&input, threshold::MAX_RADIUS, offset).unwrap();
        let got = threshold::dispatch(gpu, &input, threshold::MAX_RADIUS, offset).unwrap();
        assert_same(&got, &want, &format!("offset {offset}"));
    }
}

/// Random 0/1 masks, each pixel 1 with `percent`% chance.
fn random_mask(width: u32, height: u32, frames: u32, percent: u32, seed: u64) -> Planes {
    let mut rng = rng(seed);
    let n = (width * height * frames) as usize;
    let data = (0..n)
        .map(|_| u32::from(rng.random_range(0..100) < percent))
        .collect();
    Planes::new(width, height, frames, data).unwrap()
}

#[test]
fn morph_gpu_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    let max = morph::MAX_SPAN;
    for (i, &(w, h, n)) in SIZES.iter().enumerate() {
        // Empty, sparse, dense (long runs touching the edges) and full.
        for percent in [0, 25, 60, 90, 100] {
            let input = random_mask(w, h, n, percent, 700 + 10 * i as u64 + percent as u64);
            for (gap, close, min_run) in [
                (0, 0, 0),
                (1, 1, 1),
                (4, 2, 3),
                (8, 2, 3),
                (5, 9, 2),
                (max, max, max),
            ] {
                let want = morph::cpu(&input, gap, close, min_run).unwrap();
                let got = morph::dispatch(gpu, &input, gap, close, min_run).unwrap();
                assert_same(
                    &got,
                    &want,
                    &format!("{w}x{h} x{n}, {percent}%, gap {gap} close {close} run {min_run}"),
                );
            }
        }
    }
}

#[test]
fn the_localisation_chain_matches() {
    let Some(gpu) = gpu() else { return };
    let frames = rgba(333, 211, 3, 400);
    let luma = luma_downscale::dispatch(gpu, &frames, 2).unwrap();
    let edges = sobel::dispatch(gpu, &luma, SobelMode::Vertical).unwrap();
    let mask = threshold::dispatch(gpu, &edges, 5, 10).unwrap();
    let cpu_luma = luma_downscale::cpu(&frames, 2).unwrap();
    let cpu_edges = sobel::cpu(&cpu_luma, SobelMode::Vertical);
    let cpu_mask = threshold::cpu(&cpu_edges, 5, 10).unwrap();
    let blobs = morph::dispatch(gpu, &mask, 4, 2, 3).unwrap();
    let cpu_blobs = morph::cpu(&cpu_mask, 4, 2, 3).unwrap();
    assert_eq!((mask.width(), mask.height(), mask.count()), (167, 106, 3));
    assert_same(&luma, &cpu_luma, "luma");
    assert_same(&edges, &cpu_edges, "edges");
    assert_same(&mask, &cpu_mask, "mask");
    assert_same(&blobs, &cpu_blobs, "blobs");
    // Random pixels give a mask that is neither empty nor full.
    let ones = mask.data().iter().filter(|&&v| v == 1).count();
    assert!(
        ones > 0 && ones < mask.data().len(),
        "{ones} of {}",
        mask.data().len()
    );
}

#[test]
fn batches_split_across_submissions_and_buffers_are_reused() {
    // A GPU of its own, whose batches hold two 17x9 frames (612 bytes each).
    if gpu().is_none() {
        return;
    }
    let gpu = open_gpu(Some(2 * 17 * 9 * 4)).expect("the shared GPU opened");
    assert_eq!(gpu.frames_per_submit(17 * 9 * 4).unwrap(), 2);
    let frames = rgba(17, 9, 7, 500);
    let luma = luma_downscale::dispatch(&gpu, &frames, 1).unwrap();
    assert_eq!(luma, luma_downscale::cpu(&frames, 1).unwrap());
    let edges = sobel::dispatch(&gpu, &luma, SobelMode::Magnitude).unwrap();
    assert_eq!(edges, sobel::cpu(&luma, SobelMode::Magnitude));
    let mask = threshold::dispatch(&gpu, &edges, 2, 0).unwrap();
    assert_eq!(mask, threshold::cpu(&edges, 2, 0).unwrap());
    let blobs = morph::dispatch(&gpu, &mask, 4, 2, 3).unwrap();
    assert_eq!(blobs, morph::cpu(&mask, 4, 2, 3).unwrap());
    // Four submissions per kernel reused one set of buffers: per kernel, at
    // most params, input, output(s) and readback stay idle.
    let idle = gpu.buffers().idle();
    assert!((1..=12).contains(&idle), "{idle} idle buffers");
}

#[test]
fn empty_inputs_give_empty_outputs() {
    let Some(gpu) = gpu() else { return };
    for (w, h, n) in [(0, 5, 2), (5, 0, 1), (4, 4, 0)] {
        let frames = Planes::new(w, h, n, vec![]).unwrap();
        let want = luma_downscale::cpu(&frames, 2).unwrap();
        assert_eq!(luma_downscale::dispatch(gpu, &frames, 2).unwrap(), want);
        assert_eq!(
            sobel::dispatch(gpu, &frames, SobelMode::Vertical).unwrap(),
            sobel::cpu(&frames, SobelMode::Vertical)
        );
        assert_eq!(
            threshold::dispatch(gpu, &frames, 3, 1).unwrap(),
            threshold::cpu(&frames, 3, 1).unwrap()
        );
        assert_eq!(
            morph::dispatch(gpu, &frames, 4, 2, 3).unwrap(),
            morph::cpu(&frames, 4, 2, 3).unwrap()
        );
    }
}

#[test]
fn bad_parameters_are_bad_input_on_the_gpu_too() {
    let Some(gpu) = gpu() else { return };
    let frames = rgba(4, 4, 1, 600);
    assert!(matches!(
        luma_downscale::dispatch(gpu, &frames, 3),
        Err(Error::BadInput(_))
    ));
    assert!(matches!(
        threshold::dispatch(gpu, &frames, threshold::MAX_RADIUS + 1, 0),
        Err(Error::BadInput(_))
    ));
    assert!(matches!(
        morph::dispatch(gpu, &frames, 4, 2, morph::MAX_SPAN + 1),
        Err(Error::BadInput(_))
    ));
}
