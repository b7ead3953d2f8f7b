//! [`Gpu`]: one adapter, its device and queue, the pipelines of every
//! registered shader and the buffer pool; and [`GpuMode`], the user's say in
//! whether to use it.
//!
//! ```text
//! GpuMode::Off  -> None (CPU kernels)
//! GpuMode::Auto -> adapter? --no--> one line on stderr, None
//!                           --CPU rasteriser (lavapipe)--> one line on stderr, None
//!                           --hardware--> device, pipelines -> Some(Gpu)
//! GpuMode::On   -> adapter? --no--> Err(GpuUnavailable)
//!                           --any, lavapipe included--> Some(Gpu)
//! ```

use std::fmt;

use crate::gpu::buffers::BufferPool;
use crate::gpu::registry::{Kernel, Pipelines};
use crate::{Error, Result};

/// Whether to run the kernels on a GPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum GpuMode {
    /// A hardware GPU when there is one, else the CPU kernels.
    #[default]
    Auto,
    /// Require a GPU adapter, a CPU rasteriser (lavapipe) included.
    On,
    /// Never touch the GPU.
    Off,
}

/// The line printed when `Auto` finds no adapter at all.
const NO_ADAPTER: &str = "alpr: no GPU adapter found; using the CPU kernels (install a \
                          Vulkan driver, e.g. Debian's mesa-vulkan-drivers, for GPU compute)";

/// Bytes of input or output one submission aims to stay under; a larger
/// batch of frames is split. Bounds the pooled buffers, not correctness.
pub const DEFAULT_BATCH_BYTES: u64 = 64 << 20;

/// An open GPU: device, queue, pipelines and buffer pool, shared by every
/// kernel. `Sync`: threads may dispatch on one `Gpu` at once.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    adapter_info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    pipelines: Pipelines,
    buffers: BufferPool,
    batch_bytes: u64,
}

impl Gpu {
    /// Opens the GPU as `mode` asks. `Ok(None)` means "use the CPU kernels";
    /// in `Auto` mode the reason is printed on stderr in one line.
    pub fn new(mode: GpuMode) -> Result<Option<Gpu>> {
        if mode == GpuMode::Off {
            return Ok(None);
        }
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        }));
        let adapter = match (adapter, mode) {
            (Ok(adapter), _) => adapter,
            (Err(_), GpuMode::Auto) => {
                eprintln!("{NO_ADAPTER}");
                return Ok(None);
            }
            (Err(e), _) => {
                return Err(Error::GpuUnavailable(format!(
                    "no GPU adapter found ({e}); install a Vulkan driver (Debian: \
                     mesa-vulkan-drivers) or run with the GPU off"
                )));
            }
        };
        let info = adapter.get_info();
        if mode == GpuMode::Auto && info.device_type == wgpu::DeviceType::Cpu {
            eprintln!(
                "alpr: the only GPU adapter is {} ({}), a CPU rasteriser slower than \
                 our CPU kernels; using the CPU kernels (--gpu on forces it)",
                info.name, info.backend
            );
            return Ok(None);
        }
        match Self::from_adapter(&adapter) {
            Ok(gpu) => Ok(Some(gpu)),
            Err(e) if mode == GpuMode::Auto => {
                eprintln!(
                    "alpr: GPU {} unusable ({e}); using the CPU kernels",
                    info.name
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Opens a device on `adapter` and builds every pipeline (inside error
    /// scopes, so a bad shader or driver is an error, not a panic).
    pub fn from_adapter(adapter: &wgpu::Adapter) -> Result<Gpu> {
        let adapter_info = adapter.get_info();
        let downlevel = adapter.get_downlevel_capabilities();
        if !downlevel
            .flags
            .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
        {
            return Err(Error::GpuUnavailable(format!(
                "adapter {} ({}) has no compute shaders",
                adapter_info.name, adapter_info.backend
            )));
        }
        let required_limits = wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits());
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("alpr device"),
            required_limits,
            ..Default::default()
        }))
        .map_err(|e| {
            Error::GpuUnavailable(format!(
                "adapter {} ({}) refused a device: {e}",
                adapter_info.name, adapter_info.backend
            ))
        })?;
        let limits = device.limits();
        let pipelines = scoped(&device, "building the pipelines", || {
            Ok(Pipelines::build(&device))
        })?;
        let buffers = BufferPool::new(limits.max_buffer_size);
        Ok(Gpu {
            device,
            queue,
            adapter_info,
            limits,
            pipelines,
            buffers,
            batch_bytes: DEFAULT_BATCH_BYTES,
        })
    }

    /// Sets the bytes one submission aims to stay under (default
    /// [`DEFAULT_BATCH_BYTES`]); tests use a small value to force splitting.
    pub fn with_batch_bytes(mut self, bytes: u64) -> Self {
        self.batch_bytes = bytes.max(4);
        self
    }

    /// The device, for host code that takes `(&Device, &Queue, ...)`.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue work is submitted on.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Name, backend and type of the adapter in use.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.adapter_info
    }

    /// The device's limits (what was granted, not what the adapter offers).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// True when the adapter is a CPU rasteriser (e.g. lavapipe).
    pub fn is_cpu_adapter(&self) -> bool {
        self.adapter_info.device_type == wgpu::DeviceType::Cpu
    }

    /// The pipeline of `kernel`'s entry point `entry`; registered entry
    /// points always have one.
    pub fn pipeline(&self, kernel: Kernel, entry: &'static str) -> Result<&wgpu::ComputePipeline> {
        self.pipelines.pipeline(kernel, entry).ok_or_else(|| {
            Error::GpuFailed(format!(
                "{} has no entry point {entry} (our bug)",
                kernel.name()
            ))
        })
    }

    /// The bind group layout shared by `kernel`'s entry points.
    pub fn bind_group_layout(&self, kernel: Kernel) -> &wgpu::BindGroupLayout {
        self.pipelines.layout(kernel)
    }

    /// The buffer pool.
    pub fn buffers(&self) -> &BufferPool {
        &self.buffers
    }

    /// How many frames one submission takes when the largest buffer needs
    /// `bytes_per_frame` per frame: as many as fit the batch target (at least
    /// one), the device's binding limit and the workgroup-count limit.
    pub fn frames_per_submit(&self, bytes_per_frame: u64) -> Result<u32> {
        let binding_limit = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        if bytes_per_frame > binding_limit {
            return Err(Error::bad_input(format!(
                "a frame needs {bytes_per_frame} bytes of GPU buffer, over this \
                 device's limit of {binding_limit}; use the CPU kernels"
            )));
        }
        let per_frame = bytes_per_frame.max(1);
        let fit = (self.batch_bytes.min(binding_limit) / per_frame).max(1);
        let z_limit = u64::from(self.limits.max_compute_workgroups_per_dimension);
        Ok(fit.min(z_limit).min(u64::from(u32::MAX)) as u32)
    }
}

impl fmt::Debug for Gpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gpu")
            .field("adapter", &self.adapter_info.name)
            .field("backend", &self.adapter_info.backend)
            .field("device_type", &self.adapter_info.device_type)
            .field("batch_bytes", &self.batch_bytes)
            .finish_non_exhaustive()
    }
}

/// Runs `f` inside out-of-memory, internal and validation error scopes on
/// this thread; the first error captured becomes [`Error::GpuFailed`] naming
/// `what`. Scopes are per thread, so concurrent dispatches do not mix.
pub(crate) fn scoped<T>(
    device: &wgpu::Device,
    what: &str,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let out = f();
    // Popped innermost first, as wgpu requires.
    let errors = [
        pollster::block_on(validation.pop()),
        pollster::block_on(internal.pop()),
        pollster::block_on(oom.pop()),
    ];
    match errors.into_iter().flatten().next() {
        Some(e) => Err(Error::GpuFailed(format!("{what}: {e}"))),
        None => out,
    }
}
