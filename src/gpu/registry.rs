//! The registry of compute shaders: every `shaders/*.wgsl` file, embedded at
//! build time, with its entry points and the bindings the host provides; and
//! [`Pipelines`], every entry point compiled once when the [`Gpu`] opens.
//!
//! A shader's file stem is its kernel's module name
//! (`shaders/sobel.wgsl` <-> `gpu/kernels/sobel.rs`); tests check that every
//! file is registered, that its bindings match [`Shader::bindings`] and that
//! its `Params` struct is as large as the Rust twin.
//!
//! [`Gpu`]: crate::gpu::Gpu

use std::collections::HashMap;

use crate::gpu::kernels;

/// A kernel: one shader file, one or more entry points run in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// RGBA8 -> luma, integer box downscale.
    LumaDownscale,
    /// 3x3 Sobel gradient magnitude or vertical-edge strength.
    Sobel,
    /// Adaptive threshold against the local box mean.
    Threshold,
    /// Binary morphology: row and column closing, column opening.
    Morph,
    /// OCR network: 3x3 convolution + bias (+ ReLU), floats.
    Conv2d,
    /// OCR network: 2x2 max pooling.
    Maxpool,
    /// OCR network: fully connected layer.
    Dense,
    /// OCR network: softmax per character slot.
    SoftmaxSlots,
}

impl Kernel {
    /// Every kernel, in registry order.
    pub const ALL: [Kernel; 8] = [
        Kernel::LumaDownscale,
        Kernel::Sobel,
        Kernel::Threshold,
        Kernel::Morph,
        Kernel::Conv2d,
        Kernel::Maxpool,
        Kernel::Dense,
        Kernel::SoftmaxSlots,
    ];

    /// The kernel's registry entry.
    pub fn shader(self) -> &'static Shader {
        // SHADERS is in Kernel::ALL order; a test checks it.
        &SHADERS[self as usize]
    }

    /// The kernel's name: its shader's file stem and its module's name.
    pub fn name(self) -> &'static str {
        self.shader().name
    }
}

/// What the host binds at `@group(0) @binding(i)`, `i` being the index in
/// [`Shader::bindings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// `var<uniform>`: the kernel's `Params`.
    Params,
    /// `var<storage, read>`: an input.
    Read,
    /// `var<storage, read_write>`: an output or scratch buffer.
    ReadWrite,
}

/// One registered shader.
#[derive(Debug)]
pub struct Shader {
    /// The kernel this shader implements.
    pub kernel: Kernel,
    /// File stem in `shaders/` and module name in `gpu/kernels/`.
    pub name: &'static str,
    /// The WGSL source, embedded at build time.
    pub source: &'static str,
    /// Entry points, in the order a dispatch runs them.
    pub entry_points: &'static [&'static str],
    /// Group 0's bindings, by binding number; every entry point shares them.
    pub bindings: &'static [Binding],
    /// `size_of` the Rust `Params`; the WGSL struct must be as large.
    pub params_size: usize,
}

/// Every shader in `shaders/`, in [`Kernel::ALL`] order.
pub static SHADERS: [Shader; 8] = [
    Shader {
        kernel: Kernel::LumaDownscale,
        name: "luma_downscale",
        source: include_str!("../../shaders/luma_downscale.wgsl"),
        entry_points: &["main"],
        bindings: &[Binding::Params, Binding::Read, Binding::ReadWrite],
        params_size: size_of::<kernels::luma_downscale::Params>(),
    },
    Shader {
        kernel: Kernel::Sobel,
        name: "sobel",
        source: include_str!("../../shaders/sobel.wgsl"),
        entry_points: &["main"],
        bindings: &[Binding::Params, Binding::Read, Binding::ReadWrite],
        params_size: size_of::<kernels::sobel::Params>(),
    },
    Shader {
        kernel: Kernel::Threshold,
        name: "threshold",
        source: include_str!("../../shaders/threshold.wgsl"),
        entry_points: &["box_rows", "box_cols", "main"],
        bindings: &[
            Binding::Params,
            Binding::Read,
            Binding::ReadWrite,
            Binding::ReadWrite,
        ],
        params_size: size_of::<kernels::threshold::Params>(),
    },
    Shader {
        kernel: Kernel::Morph,
        name: "morph",
        source: include_str!("../../shaders/morph.wgsl"),
        entry_points: &["close_rows", "close_cols", "open_cols"],
        bindings: &[
            Binding::Params,
            Binding::Read,
            Binding::ReadWrite,
            Binding::ReadWrite,
        ],
        params_size: size_of::<kernels::morph::Params>(),
    },
    Shader {
        kernel: Kernel::Conv2d,
        name: "conv2d",
        source: include_str!("../../shaders/conv2d.wgsl"),
        entry_points: &["main"],
        bindings: &[
            Binding::Params,
            Binding::Read,
            Binding::Read,
            Binding::ReadWrite,
        ],
        params_size: size_of::<kernels::conv2d::Params>(),
    },
    Shader {
        kernel: Kernel::Maxpool,
        name: "maxpool",
        source: include_str!("../../shaders/maxpool.wgsl"),
        entry_points: &["main"],
        bindings: &[Binding::Params, Binding::Read, Binding::ReadWrite],
        params_size: size_of::<kernels::maxpool::Params>(),
    },
    Shader {
        kernel: Kernel::Dense,
        name: "dense",
        source: include_str!("../../shaders/dense.wgsl"),
        entry_points: &["main"],
        bindings: &[
            Binding::Params,
            Binding::Read,
            Binding::Read,
            Binding::ReadWrite,
        ],
        params_size: size_of::<kernels::dense::Params>(),
    },
    Shader {
        kernel: Kernel::SoftmaxSlots,
        name: "softmax_slots",
        source: include_str!("../../shaders/softmax_slots.wgsl"),
        entry_points: &["main"],
        bindings: &[Binding::Params, Binding::Read, Binding::ReadWrite],
        params_size: size_of::<kernels::softmax_slots::Params>(),
    },
];

/// Every entry point's compute pipeline and every kernel's bind group
/// layout, keyed by kernel id.
pub struct Pipelines {
    layouts: HashMap<Kernel, wgpu::BindGroupLayout>,
    pipelines: HashMap<(Kernel, &'static str), wgpu::ComputePipeline>,
}

impl Pipelines {
    /// Compiles every registered shader. Errors surface through the device's
    /// error scopes: call inside one (as [`Gpu::from_adapter`] does).
    ///
    /// [`Gpu::from_adapter`]: crate::gpu::Gpu::from_adapter
    pub fn build(device: &wgpu::Device) -> Pipelines {
        let mut layouts = HashMap::new();
        let mut pipelines = HashMap::new();
        for shader in &SHADERS {
            let entries: Vec<wgpu::BindGroupLayoutEntry> = shader
                .bindings
                .iter()
                .enumerate()
                .map(|(i, b)| wgpu::BindGroupLayoutEntry {
                    binding: i as u32,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: match b {
                        Binding::Params => wgpu::BindingType::Buffer {
                            ty: wgpu::BufferBindingType::Uniform,
                            has_dynamic_offset: false,
                            min_binding_size: None,
                        },
                        Binding::Read | Binding::ReadWrite => wgpu::BindingType::Buffer {
                            ty: wgpu::BufferBindingType::Storage {
                                read_only: *b == Binding::Read,
                            },
                            has_dynamic_offset: false,
                            min_binding_size: None,
                        },
                    },
                    count: None,
                })
                .collect();
            let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(&format!("alpr {} bindings", shader.name)),
                entries: &entries,
            });
            let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(&format!("alpr {} layout", shader.name)),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&format!("alpr shaders/{}.wgsl", shader.name)),
                source: wgpu::ShaderSource::Wgsl(shader.source.into()),
            });
            for &entry in shader.entry_points {
                let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&format!("alpr {}::{entry}", shader.name)),
                    layout: Some(&pipeline_layout),
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    cache: None,
                });
                pipelines.insert((shader.kernel, entry), pipeline);
            }
            layouts.insert(shader.kernel, layout);
        }
        Pipelines { layouts, pipelines }
    }

    /// The pipeline of `kernel`'s entry point `entry`.
    pub fn pipeline(&self, kernel: Kernel, entry: &'static str) -> Option<&wgpu::ComputePipeline> {
        self.pipelines.get(&(kernel, entry))
    }

    /// The bind group layout of `kernel`.
    pub fn layout(&self, kernel: Kernel) -> &wgpu::BindGroupLayout {
        // Every kernel is in SHADERS, and build() makes a layout for each.
        &self.layouts[&kernel]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shaders_are_in_kernel_order_with_unique_names() {
        for (i, kernel) in Kernel::ALL.iter().enumerate() {
            assert_eq!(SHADERS[i].kernel, *kernel);
            assert_eq!(kernel.shader().kernel, *kernel);
        }
        let mut names: Vec<_> = SHADERS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SHADERS.len());
    }

    #[test]
    fn params_sizes_are_uniform_friendly() {
        // Uniform buffers want 16-byte multiples; Pod forbids hidden padding.
        for shader in &SHADERS {
            assert_eq!(shader.params_size % 16, 0, "{}", shader.name);
            assert_eq!(shader.bindings[0], Binding::Params, "{}", shader.name);
        }
    }
}
